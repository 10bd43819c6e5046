"""County Business Patterns (US Census Bureau): county, state and metro files, as published.

The files read are the Census Bureau's comma-separated downloads ``cbpYYco.txt`` (county:
``fipstate, fipscty, naics, …``), ``cbpYYst.txt`` (state: ``fipstate, naics, [lfo,] …``) and
``cbpYYmsa.txt`` (metro/micro areas: ``msa, naics, …``), plain or in ``.gz``/``.zip``. Column
names are upper case in some years and lower case in others; both are read. The record layouts
are the Census Bureau's "County/State/Metro Area Data Dictionary" of each year
(https://www.census.gov/programs-surveys/cbp/technical-documentation/records-layouts.html).

What the reader does with them (see also ``tests/golden/sources/cbp/README.md``):

Regions
    County: the 5-digit FIPS code ``fipstate + fipscty`` (``01001``). ``fipscty`` 999 is the
    Census Bureau's *statewide* county: employers without a fixed location within the state (or of
    unknown county). Those are not in any county, so ``SS999`` is a region of its own, **not** a
    total of the state's counties (the panel's ``aggregates`` stay empty). State: the 2-digit FIPS
    code. Metro: the CBSA code as written. State files that split rows by legal form of
    organisation (``lfo``) are read at ``lfo = "-"`` (all establishments) only.
Industries
    ``------`` (all industries) → ``00`` (level 0; the code the Census Bureau's API uses),
    ``31----`` → ``31-33``, ``44----`` → ``44-45``, ``48----`` → ``48-49`` (the CBP sector row of a
    sector that spans several 2-digit codes is the whole sector, as in
    :meth:`Hierarchy.naics <clusteratlas.observatory.hierarchy.Hierarchy.naics>`), other
    ``NN----`` → ``NN`` (level 2), ``311///`` → ``311``, ``3111//`` → ``3111``, ``31111/`` →
    ``31111``, ``311111`` → ``311111`` (levels 3–6). Only the 6-digit industries are kept by
    default, so that the panel adds up (the benchmark cluster definitions are 6-digit);
    ``levels="all"`` keeps every published total **and** its parts (for inspecting a file or
    rolling up yourself: summing over industries then counts employment up to six times), and
    ``levels=[2]`` keeps sectors.
Measures
    ``emp`` → employment, ``est`` → establishments, ``ap`` (annual payroll, $1,000) → payroll.
    Payroll withheld (``ap_nf`` D or S) is empty (0 in the panel).
Flags
    ``emp_nf`` is kept as the cell's flag: G (low noise, < 2%), H (medium noise, 2 to < 5%), J (high
    noise, ≥ 5%; from 2017), D (withheld to avoid disclosing data of individual companies, value
    set to 0), S (withheld, does not meet publication standards), N (not available). D, S and N
    cells without a size range have empty employment.
Withheld cells with a size range (files up to 2016)
    ``empflag`` gives the employment size class of a withheld cell: A 0–19, B 20–99, C 100–249,
    E 250–499, F 500–999, G 1,000–2,499, H 2,500–4,999, I 5,000–9,999, J 10,000–24,999,
    K 25,000–49,999, L 50,000–99,999, M 100,000 or more (there is no D: that letter is the
    disclosure flag). The open-ended class M has its midpoint at 125,000 and its upper bound
    reported as 150,000, or as the cell's value where the fit (its children, or its parent)
    needs more: the fit gives M no upper end. These cells get a value inside their range, the flag
    ``e`` with the range letter and the cell's ``emp_nf`` (``"A,D,e"``, letters sorted as
    :meth:`Panel.aggregate` joins them), and ``employment_lower``/``employment_upper`` = the
    range. With ``imputation="midpoint"`` the value is the middle of the range. With
    ``imputation="fit"`` (the default) the values are fitted, level by level from the top, so
    that within each region the children of a parent add up to the parent (published, or itself
    fitted before): withheld children start at their midpoints and are scaled by one common
    factor per parent, each clipped to its range, the clipped ones held and the rest rescaled
    until the sum is met (:func:`fit_withheld`). Where the parent is absent or empty, the cell
    keeps its midpoint; where the ranges cannot meet the parent (published siblings already
    exceed it, say, which noise can cause), the cells keep the bound of their range nearest to
    it. Both are reported in one :class:`CBPImputationWarning`.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from clusteratlas.observatory.hierarchy import NAICS_SECTORS
from clusteratlas.observatory.panel import MAX_PROBLEMS, Panel, PanelError, Problem
from clusteratlas.sources.base import InputError, Located

__all__ = [
    "EMPLOYMENT_SIZE_CLASSES",
    "CBPImputationWarning",
    "CBPSource",
    "fit_withheld",
    "naics_code",
]

#: ``empflag`` letters: the employment size class of a withheld cell, ``(lower, upper)``
#: inclusive. Class M (100,000 or more) is open-ended in the layout: 150,000 is the upper bound
#: reported (midpoint 125,000) unless the fit needs a larger value.
EMPLOYMENT_SIZE_CLASSES: dict[str, tuple[float, float]] = {
    "A": (0, 19), "B": (20, 99), "C": (100, 249), "E": (250, 499), "F": (500, 999),
    "G": (1_000, 2_499), "H": (2_500, 4_999), "I": (5_000, 9_999), "J": (10_000, 24_999),
    "K": (25_000, 49_999), "L": (50_000, 99_999), "M": (100_000, 150_000),
}  # fmt: skip

#: ``emp_nf`` letters: published with noise (G, H, J) or not published (D, S, N).
NOISE_FLAGS = ("G", "H", "J")
WITHHELD_FLAGS = ("D", "S", "N")
OPEN_ENDED = "M"  # 100,000 or more: fitted without an upper end
TOTAL = "00"
LEVELS = (0, 2, 3, 4, 5, 6)
SUFFIXES = (".txt", ".csv", ".txt.gz", ".csv.gz", ".gz", ".zip")
IMPUTATIONS = ("fit", "midpoint")
_YEAR_IN_NAME = (
    re.compile(r"cbp(\d{2})(?:co|st|msa|us|pr|_?totals)", re.IGNORECASE),
    re.compile(r"cbp[_-]?((?:19|20)\d{2})", re.IGNORECASE),
)


class CBPImputationWarning(UserWarning):
    """Some withheld cells could not be fitted to their parent total (see the message)."""


# ---------------------------------------------------------------------------- pure helpers
def naics_code(raw: str) -> tuple[str, int] | None:
    """A CBP industry code as ``(code, level)``: ``------`` → ``("00", 0)``, ``31----`` →
    ``("31-33", 2)``, ``3111//`` → ``("3111", 4)``; ``None`` if it is not one."""
    raw = raw.strip()
    if raw == "------":
        return TOTAL, 0
    m = re.fullmatch(r"(\d{2,6})([-/]*)", raw)
    if m is None or len(raw) != 6:
        return None
    digits, fill = m.groups()
    n = len(digits)
    if n == 2:
        return (NAICS_SECTORS.get(digits, digits), 2) if fill == "----" else None
    return (digits, n) if fill == "/" * (6 - n) else None


def _parent(code: str, level: int) -> str | None:
    if level == 0:
        return None
    if level == 2:
        return TOTAL
    if level == 3:
        return NAICS_SECTORS.get(code[:2], code[:2])
    return code[:-1]


def fit_withheld(
    remainder: np.ndarray,
    group: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Values for withheld cells, inside their ranges, that add up to each group's remainder.

    ``remainder[g]`` is what the withheld cells of group ``g`` should add up to (the parent
    minus its published children); ``group``, ``lower``, ``upper`` and ``start`` (> 0, inside the
    range, normally the midpoint) are per cell. Each cell gets ``clip(s_g · start, lower,
    upper)`` with one factor ``s_g`` per group chosen so that the group adds up to its remainder:
    cells clipped at a bound are held there and the others rescaled, until none moves (the
    bound hit is always on the same side within a group, so at most one round per cell).
    All groups are fitted at once with array operations.

    Returns the values and, per group, whether the remainder was out of reach (then every
    cell of the group is at the bound of its range nearest to it).
    """
    n_groups = len(remainder)
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    start = np.clip(np.asarray(start, dtype=np.float64), lower, upper)
    x = start.copy()
    held = start <= 0  # nothing to scale (a range of 0–0): stays at 0
    active = np.ones(len(x), dtype=bool)
    while active.any():
        held_sum = np.bincount(group, weights=np.where(held, x, 0.0), minlength=n_groups)
        free_mass = np.bincount(group, weights=np.where(held, 0.0, start), minlength=n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = (remainder - held_sum) / free_mass
        move = active & ~held
        wanted = start[move] * scale[group[move]]
        lo, hi = lower[move], upper[move]
        clipped = (wanted < lo) | (wanted > hi)
        x[move] = np.clip(wanted, lo, hi)
        newly = np.flatnonzero(move)[clipped]
        held[newly] = True
        if not len(newly):
            break
        # only groups where something was clipped need another round
        again = np.zeros(n_groups, dtype=bool)
        again[group[newly]] = True
        active = again[group]
    total = np.bincount(group, weights=x, minlength=n_groups)
    tol = 1e-9 * np.maximum(1.0, np.abs(remainder))
    infeasible = np.abs(total - remainder) > tol
    return x, infeasible


# ---------------------------------------------------------------------------- files
def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith(".gz"):
        return "gz"
    if name.endswith((".txt", ".csv")):
        return "text"
    return None


def _zip_member(archive: zipfile.ZipFile) -> str:
    names = [n for n in archive.namelist() if n.lower().endswith((".txt", ".csv"))]
    if not names:
        raise ValueError("the archive holds no .txt or .csv file")
    return names[0]


def _open_text(path: Path) -> IO[str]:
    kind = _kind(path)
    if kind == "gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    if kind == "zip":
        archive = zipfile.ZipFile(path)
        raw = archive.open(_zip_member(archive))
        return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _header(path: Path) -> list[str]:
    with _open_text(path) as f:
        for record in csv.reader(f):
            if record:
                return [c.strip().lstrip("\ufeff") for c in record]
    return []


def _year_from_name(path: Path) -> int | None:
    names = [path.name]
    if _kind(path) == "zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names.append(Path(_zip_member(archive)).name)
        except (OSError, ValueError, zipfile.BadZipFile):
            pass
    for name in names:
        for pattern in _YEAR_IN_NAME:
            m = pattern.search(name)
            if m:
                y = int(m.group(1))
                if y < 100:  # CBP NAICS files start in 1998: 98, 99, 00, 01, …
                    y += 1900 if y >= 86 else 2000
                return y
    return None


class _Records:
    """Line numbers of a CBP file's records (0 = the header), found only when a message needs
    them; ``rows`` maps the rows of the frame built from it to records after the header."""

    unit = "line"

    def __init__(self, path: Path, rows: np.ndarray | None = None) -> None:
        self.path, self.rows = path, rows
        self._starts: list[int] | None = None

    def subset(self, rows: np.ndarray) -> _Records:
        out = _Records(self.path, rows if self.rows is None else self.rows[rows])
        out._starts = self._starts
        return out

    def record(self, k: int) -> int:
        if self._starts is None:
            starts: list[int] = []
            with _open_text(self.path) as f:
                reader = csv.reader(f)
                previous_end = 0
                for record in reader:
                    if record:
                        starts.append(previous_end + 1)
                    previous_end = reader.line_num
            self._starts = starts
        return self._starts[k] if k < len(self._starts) else k + 1

    def __call__(self, row: int) -> int:
        r = row if self.rows is None else int(self.rows[row])
        return self.record(r + 1)


def _read(path: Path, header: list[str], wanted: list[str]) -> pa.Table:
    """The wanted columns of the file as text; rows whose field count differs from the header's
    raise an :class:`InputError` naming their lines."""
    bad: list[tuple[int | None, int, int, str]] = []

    def invalid(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    def read(threads: bool) -> pa.Table:
        source: object = path
        if _kind(path) == "zip":
            archive = zipfile.ZipFile(path)
            source = archive.open(_zip_member(archive))
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(
                column_names=header, skip_rows=1, use_threads=threads, encoding="utf8"
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={c: pa.string() for c in wanted},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = read(True)
        if bad:  # row numbers are only known when reading in one thread
            bad.clear()
            read(False)
    except (pa.ArrowInvalid, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(path, message=f"{path}: cannot be read as a CBP file: {exc}") from None
    if bad:
        records = _Records(path)
        located = []
        for number, expected, actual, text in bad[:MAX_PROBLEMS]:
            # ``number`` counts records (blank lines skipped) from 1, the header included
            line = records.record(number - 1) if number is not None else None
            message = f"expected {expected} fields (as in the header), found {actual}"
            located.append(
                Located(str(path), line, "line", Problem(None, None, text, message), message)
            )
        raise InputError(path, located, total=len(bad))
    return table


def _encoded(table: pa.Table, column: str) -> tuple[np.ndarray, list[str]]:
    """Positions into the distinct stripped values of a text column (factorised once)."""
    arr = table.column(column).combine_chunks()
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64), []
    enc = arr.dictionary_encode()
    pos = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    text = [str(v).strip() for v in enc.dictionary.to_pylist()]
    labels = sorted(set(text))
    index = {t: k for k, t in enumerate(labels)}
    remap = np.array([index[t] for t in text], dtype=np.int64)
    return remap[pos], labels


def _number_table(labels: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each distinct text as a float (NaN if empty or bad), and the masks empty / bad."""
    s = pd.Series(labels, dtype=object)
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan).copy()
    empty = (s == "").to_numpy()
    with np.errstate(invalid="ignore"):
        bad = ~empty & (~np.isfinite(num) | (num < 0))
    num[bad] = np.nan
    return num, empty, bad


# ---------------------------------------------------------------------------- the source
class CBPSource:
    """US Census Bureau County Business Patterns county, state and metro files, as published."""

    name: ClassVar[str] = "cbp"
    description: ClassVar[str] = (
        "County Business Patterns (US Census Bureau): cbpYYco.txt, cbpYYst.txt, cbpYYmsa.txt"
    )
    url: ClassVar[str] = "https://www.census.gov/programs-surveys/cbp.html"

    def guess_can_open(self, path: str | Path) -> bool:
        """True for a .txt/.csv (or .gz/.zip) file whose header has ``naics``, ``emp`` and
        ``fipstate`` or ``msa`` (any case)."""
        path = Path(path)
        if _kind(path) is None or not path.is_file():
            return False
        try:
            columns = {c.lower() for c in _header(path)}
        except (OSError, ValueError, UnicodeDecodeError, csv.Error, zipfile.BadZipFile, EOFError):
            return False
        return {"naics", "emp"} <= columns and bool({"fipstate", "msa"} & columns)

    def open(
        self,
        path: str | Path,
        *,
        year: int | None = None,
        imputation: str = "fit",
        levels: Iterable[int] | int | str | None = 6,
    ) -> Panel:
        """Read a CBP file into a Panel (one year).

        Parameters
        ----------
        year
            The data year; by default read from the file name (``cbp16co.txt`` → 2016).
        imputation
            ``"fit"`` (default) or ``"midpoint"``: how withheld cells with a size range get a
            value (see the module documentation).
        levels
            Industry levels to keep: 0 (all industries, ``00``), 2 (sectors), 3–6 (NAICS
            digits), as a list, one number, a comma-separated string (``"2,6"``, as given on
            the command line) or ``"all"``/``None``. Default 6, so the industries add up; the
            fit always uses every level in the file.
        """
        path = Path(path)
        if imputation not in IMPUTATIONS:
            raise ValueError(
                f"imputation must be one of {', '.join(IMPUTATIONS)}, not {imputation!r}"
            )
        keep_levels = None
        if isinstance(levels, str) and levels.strip().lower() != "all":
            levels = [v for v in levels.split(",") if v.strip()]
        elif isinstance(levels, int):
            levels = [levels]
        if levels is not None and not isinstance(levels, str):
            try:
                keep_levels = sorted({int(v) for v in levels})
            except ValueError:
                raise ValueError(f"levels must be whole numbers or 'all', not {levels!r}") from None
            unknown = [v for v in keep_levels if v not in LEVELS]
            if unknown or not keep_levels:
                raise ValueError(
                    f"levels must be some of {', '.join(map(str, LEVELS))} "
                    f"(0 = all industries, 2 = sectors, 3–6 = NAICS digits), not {levels!r}"
                )
        if not path.exists():
            raise InputError(path, message=f"{path}: no such file")
        if _kind(path) is None:
            raise InputError(
                path, message=f"{path}: unknown file type (a CBP file is .txt, .csv, .gz or .zip)"
            )
        if year is None:
            year = _year_from_name(path)
            if year is None:
                raise InputError(
                    path,
                    message=(
                        f"{path}: cannot tell the data year from the file name (expected a name "
                        "like cbp16co.txt); give it with year=2016"
                    ),
                )
        try:
            header = _header(path)
        except (OSError, ValueError, UnicodeDecodeError, csv.Error, zipfile.BadZipFile) as exc:
            raise InputError(path, message=f"{path}: cannot be read as a CBP file: {exc}") from None
        spelled = {c.lower(): c for c in header}
        geo = (
            ["fipstate", "fipscty"]
            if "fipscty" in spelled
            else ["fipstate"]
            if "fipstate" in spelled
            else ["msa"]
        )
        missing = [c for c in (*geo, "naics", "emp") if c not in spelled]
        if missing:
            found = ", ".join(header) or "none"
            raise InputError(
                path,
                [
                    Located(
                        str(path),
                        None,
                        "line",
                        Problem(None, c, None, f"missing required column (found: {found})"),
                        f"missing required column (found: {found})",
                    )
                    for c in missing
                ],
            )
        optional = [c for c in ("empflag", "emp_nf", "est", "ap", "ap_nf", "lfo") if c in spelled]
        wanted = [spelled[c] for c in (*geo, "naics", "emp", *optional)]
        table = _read(path, header, wanted)
        locate = _Records(path)
        if table.num_rows == 0:
            raise InputError(path, message=f"{path}: the file has no rows")
        reader = _Reader(path, table, spelled, geo, int(year), locate)
        return reader.panel(imputation, keep_levels)


class _Reader:
    """One file being turned into a panel (keeps the per-row arrays and the problems)."""

    def __init__(
        self,
        path: Path,
        table: pa.Table,
        spelled: dict[str, str],
        geo: list[str],
        year: int,
        locate: _Records,
    ) -> None:
        self.path, self.table, self.spelled, self.geo = path, table, spelled, geo
        self.year, self.locate = year, locate
        self.problems: list[Problem] = []
        self.total_problems = 0
        self.rows = np.arange(table.num_rows)  # records kept (after the lfo filter)

    # -------------------------------------------------------------- problems
    def report(
        self, mask: np.ndarray, column: str, pos: np.ndarray, labels: list[str], message: str
    ) -> None:
        """Rows where ``mask`` is true have a bad ``column``; their text is ``labels[pos]``."""
        rows = np.flatnonzero(mask)
        self.total_problems += len(rows)
        room = max(0, MAX_PROBLEMS - len(self.problems))
        for r in rows[:room]:
            self.problems.append(Problem(int(r), self.spelled[column], labels[pos[r]], message))

    def raise_problems(self) -> None:
        if self.problems:
            self.problems.sort(key=lambda p: p.row if p.row is not None else -1)
            err = PanelError(self.problems, total=self.total_problems)
            raise InputError.from_panel_error(self.path, err, self.locate.subset(self.rows))

    def column(self, name: str) -> tuple[np.ndarray, list[str]]:
        pos, labels = _encoded(self.table, self.spelled[name])
        return pos[self.rows], labels

    # -------------------------------------------------------------- reading
    def panel(self, imputation: str, keep_levels: list[int] | None) -> Panel:
        if "lfo" in self.spelled:  # state files by legal form: keep all establishments
            pos, labels = _encoded(self.table, self.spelled["lfo"])
            all_forms = np.array([lab in ("-", "") for lab in labels] + [False])
            self.rows = np.flatnonzero(all_forms[pos])
            if not len(self.rows):
                raise InputError(self.path, message=f"{self.path}: no rows with lfo '-'")
        n = len(self.rows)

        region, region_labels = self.regions()
        industry_pos, industry_raw = self.column("naics")
        parsed = [naics_code(c) for c in industry_raw]
        bad_code = np.array([p is None for p in parsed], dtype=bool)
        self.report(
            bad_code[industry_pos],
            "naics",
            industry_pos,
            industry_raw,
            "not a CBP NAICS code (------, NN----, NNN///, NNNN//, NNNNN/ or NNNNNN)",
        )
        codes = sorted({p[0] for p in parsed if p is not None})
        code_index = {c: k for k, c in enumerate(codes)}
        level_by_code = dict(p for p in parsed if p is not None)
        level_of = np.array([level_by_code[c] for c in codes] + [-1], dtype=np.int64)
        industry_map = np.array([code_index[p[0]] if p else -1 for p in parsed], dtype=np.int64)
        industry = industry_map[industry_pos]

        emp, emp_empty, emp_pos, emp_labels = self.numbers("emp")
        letters, letter_labels = (
            self.column("empflag") if "empflag" in self.spelled else (np.zeros(n, np.int64), [""])
        )
        noise, noise_labels = (
            self.column("emp_nf") if "emp_nf" in self.spelled else (np.zeros(n, np.int64), [""])
        )
        bad_letter = np.array(
            [lab not in EMPLOYMENT_SIZE_CLASSES and lab != "" for lab in letter_labels]
        )
        self.report(
            bad_letter[letters],
            "empflag",
            letters,
            letter_labels,
            "unknown employment size class (expected one of "
            f"{', '.join(EMPLOYMENT_SIZE_CLASSES)}, or empty)",
        )
        known_noise = ("", *NOISE_FLAGS, *WITHHELD_FLAGS)
        bad_noise = np.array([lab not in known_noise for lab in noise_labels])
        self.report(
            bad_noise[noise],
            "emp_nf",
            noise,
            noise_labels,
            "unknown noise flag (expected one of G, H, J, D, S, N, or empty)",
        )
        ranged = np.array([lab in EMPLOYMENT_SIZE_CLASSES for lab in letter_labels])[letters]
        withheld = ~ranged & np.array([lab in WITHHELD_FLAGS for lab in noise_labels])[noise]
        published = ~ranged & ~withheld
        self.report(
            published & emp_empty,
            "emp",
            emp_pos,
            emp_labels,
            "employment is empty but the row has no size class (empflag) or withheld flag",
        )
        establishments = payroll = None
        if "est" in self.spelled:
            establishments = self.numbers("est")[0]
        if "ap" in self.spelled:
            payroll = self.numbers("ap")[0]
            if "ap_nf" in self.spelled:
                ap_nf, ap_labels = self.column("ap_nf")
                hidden = np.array([lab in WITHHELD_FLAGS for lab in ap_labels])[ap_nf]
                payroll[hidden] = np.nan
        self.duplicates(region, industry, region_labels, codes, industry_pos, industry_raw)
        self.raise_problems()

        # ---------------------------------------------------------- values of withheld cells
        lower = np.full(n, np.nan)
        upper = np.full(n, np.nan)
        bounds = np.array(
            [EMPLOYMENT_SIZE_CLASSES.get(lab, (np.nan, np.nan)) for lab in letter_labels]
        ).reshape(-1, 2)
        lower[ranged] = bounds[letters[ranged], 0]
        upper[ranged] = bounds[letters[ranged], 1]
        value = np.where(published, emp, np.nan)
        value[ranged] = (lower[ranged] + upper[ranged]) / 2
        self.region, self.industry = region, industry
        self.region_labels, self.codes = region_labels, codes
        if imputation == "fit" and ranged.any():
            open_ended = np.array([lab == OPEN_ENDED for lab in letter_labels] + [False])
            self.fit(
                value, lower, upper, ranged, open_ended[letters], region, industry, codes, level_of
            )
            upper[ranged] = np.maximum(upper[ranged], value[ranged])

        # ---------------------------------------------------------- flags
        combo = (letters * len(noise_labels) + noise) * 2 + ranged.astype(np.int64)
        uniq, inverse = np.unique(combo, return_inverse=True)
        texts = []
        for c in uniq:
            c, is_ranged = divmod(int(c), 2)
            li, ni = divmod(c, len(noise_labels))
            parts = {noise_labels[ni]} | ({letter_labels[li], "e"} if is_ranged else set())
            texts.append(",".join(sorted(parts - {""})))
        flag = np.asarray(texts, dtype=object)[inverse.ravel()]

        # ---------------------------------------------------------- the panel
        keep = None
        if keep_levels is not None:
            keep = np.isin(level_of[industry], keep_levels)
            if not keep.any():
                raise InputError(
                    self.path,
                    message=(
                        f"{self.path}: no industries at levels {keep_levels} (the file has "
                        f"levels {sorted(set(level_of.tolist()))})"
                    ),
                )
        columns = {
            "year": np.full(n, self.year, dtype=np.int64),
            # object Series: pandas would otherwise convert the labels to Arrow strings
            "region": pd.Series(np.asarray(region_labels, dtype=object)[region], dtype=object),
            "industry": pd.Series(np.asarray(codes, dtype=object)[industry], dtype=object),
            "employment": value,
        }
        if establishments is not None:
            columns["establishments"] = establishments
        if payroll is not None:
            columns["payroll"] = payroll
        columns["flag"] = pd.Series(flag, dtype=object)
        if ranged.any():
            columns["employment_lower"] = lower
            columns["employment_upper"] = upper
        frame = pd.DataFrame(columns)
        locate = self.locate.subset(self.rows)
        if keep is not None:
            kept = np.flatnonzero(keep)
            frame = frame.iloc[kept].reset_index(drop=True)
            locate = locate.subset(kept)
        try:
            return Panel.from_frame(frame)
        except PanelError as err:  # pragma: no cover - the checks above should catch all
            raise InputError.from_panel_error(self.path, err, locate) from None

    def regions(self) -> tuple[np.ndarray, list[str]]:
        if self.geo == ["msa"]:
            pos, labels = self.column("msa")
            bad = np.array([not (lab.isdigit() and lab.isascii()) for lab in labels])
            self.report(bad[pos], "msa", pos, labels, "not a metro/micro area code (digits)")
            return pos, labels
        parts = []
        for name, width in zip(self.geo, (2, 3), strict=False):
            pos, labels = self.column(name)
            bad = np.array(
                [not (lab.isascii() and lab.isdigit() and len(lab) <= width) for lab in labels]
            )
            self.report(bad[pos], name, pos, labels, f"not a FIPS code ({width} digits)")
            padded = [lab.zfill(width) for lab in labels]
            parts.append((pos, padded))
        if len(parts) == 1:
            pos, padded = parts[0]
            codes = sorted(set(padded))
            remap = np.array([codes.index(p) for p in padded], dtype=np.int64)
            return remap[pos], codes
        (spos, slab), (cpos, clab) = parts
        combined = spos * len(clab) + cpos
        uniq, inverse = np.unique(combined, return_inverse=True)
        labels = [slab[u // len(clab)] + clab[u % len(clab)] for u in uniq]
        # labels are sorted because the padded parts are sorted as the raw ones may not be
        order = np.argsort(np.asarray(labels, dtype=object), kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rank[inverse.ravel()], [labels[k] for k in order]

    def numbers(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """A number column (NaN where empty or bad), its empty mask, positions and texts."""
        pos, labels = self.column(name)
        num, empty, bad = _number_table(labels)
        self.report(bad[pos], name, pos, labels, "not a non-negative number")
        return num[pos], empty[pos], pos, labels

    def duplicates(
        self,
        region: np.ndarray,
        industry: np.ndarray,
        region_labels: list[str],
        codes: list[str],
        industry_pos: np.ndarray,
        industry_raw: list[str],
    ) -> None:
        ok = industry >= 0
        key = region.astype(np.int64) * (len(codes) + 1) + industry
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        same = (sorted_key[1:] == sorted_key[:-1]) & ok[order[1:]]
        if not same.any():
            return
        # the first row of each run of equal keys
        run_start = np.r_[0, np.flatnonzero(sorted_key[1:] != sorted_key[:-1]) + 1]
        run_of = np.cumsum(np.r_[True, sorted_key[1:] != sorted_key[:-1]]) - 1
        first = order[run_start[run_of]]
        dup_rows = order[1:][same]
        firsts = first[1:][same]
        self.total_problems += len(dup_rows)
        column = ",".join(self.spelled[c] for c in (*self.geo, "naics"))
        for r, f in sorted(zip(dup_rows.tolist(), firsts.tolist(), strict=True))[
            : max(0, MAX_PROBLEMS - len(self.problems))
        ]:
            shown = f"{region_labels[region[r]]}, {codes[industry[r]]}"
            raw = industry_raw[industry_pos[r]]
            self.problems.append(
                Problem(
                    r,
                    column,
                    shown,
                    f"duplicate region and industry (NAICS {raw}; first seen at {{related}})",
                    related=f,
                )
            )

    # -------------------------------------------------------------- the fit
    def fit(
        self,
        value: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        ranged: np.ndarray,
        open_ended: np.ndarray,
        region: np.ndarray,
        industry: np.ndarray,
        codes: list[str],
        level_of: np.ndarray,
    ) -> None:
        """Fit the withheld cells (in place in ``value``), all regions at once.

        First each withheld cell's working range is narrowed from below: it is at least its
        published children plus the lower ends of its withheld children, at most the same
        with the upper ends (levels 6 up to 2; a missing child counts 0, an empty one from 0
        to unbounded). Then, from the top, each parent's withheld children are fitted to the
        parent minus its published children (:func:`fit_withheld`), within those ranges, so a
        fitted parent never leaves its own children an impossible total when the file adds up.
        """
        n, n_codes = len(value), len(codes)
        index = {c: k for k, c in enumerate(codes)}
        parent_code = np.array(
            [index.get(_parent(c, int(level_of[k])) or "", -1) for k, c in enumerate(codes)] + [-1],
            dtype=np.int64,
        )
        key = region.astype(np.int64) * n_codes + industry
        order = np.argsort(key)
        sorted_key = key[order]
        pcode = parent_code[industry]
        pkey = region.astype(np.int64) * n_codes + pcode
        at = np.minimum(np.searchsorted(sorted_key, pkey), n - 1)
        parent_row = np.where((pcode >= 0) & (sorted_key[at] == pkey), order[at], -1)
        row_level = level_of[industry]

        lo, hi = lower.copy(), upper.copy()  # working ranges of the withheld cells
        hi[open_ended] = np.inf  # class M has no upper end
        known = np.isfinite(value) & ~ranged
        for level in LEVELS[:0:-1]:  # 6, 5, 4, 3, 2: children narrow their parents
            child = np.flatnonzero((row_level == level) & (parent_row >= 0))
            if not len(child):
                continue
            up = parent_row[child]
            child_lo = np.where(known[child], value[child], np.where(ranged[child], lo[child], 0))
            child_hi = np.where(
                known[child], value[child], np.where(ranged[child], hi[child], np.inf)
            )
            lo_sum = np.bincount(up, weights=child_lo, minlength=n)
            hi_sum = np.bincount(up, weights=child_hi, minlength=n)
            parents = np.unique(up)
            parents = parents[ranged[parents]]
            lo[parents] = np.minimum(np.maximum(lo[parents], lo_sum[parents]), hi[parents])
            hi[parents] = np.maximum(np.minimum(hi[parents], hi_sum[parents]), lo[parents])
        value[ranged] = np.clip(value[ranged], lo[ranged], hi[ranged])

        no_parent = 0
        infeasible_rows: list[np.ndarray] = []
        for level in LEVELS[1:]:  # 2, 3, 4, 5, 6: parents are final before their children
            at_level = row_level == level
            target = np.where(parent_row >= 0, value[np.maximum(parent_row, 0)], np.nan)
            usable = at_level & np.isfinite(target)
            fit_rows = np.flatnonzero(usable & ranged)
            no_parent += int((at_level & ranged & ~usable).sum())
            if not len(fit_rows):
                continue
            groups, group = np.unique(parent_row[fit_rows], return_inverse=True)
            group = group.ravel()
            published_rows = np.flatnonzero(usable & known)
            published_group = np.minimum(
                np.searchsorted(groups, parent_row[published_rows]), len(groups) - 1
            )
            inside = groups[published_group] == parent_row[published_rows]
            published_sum = np.bincount(
                published_group[inside],
                weights=value[published_rows][inside],
                minlength=len(groups),
            )
            fitted, infeasible = fit_withheld(
                value[groups] - published_sum,
                group,
                lo[fit_rows],
                hi[fit_rows],
                value[fit_rows],
            )
            value[fit_rows] = fitted
            if infeasible.any():
                infeasible_rows.append(fit_rows[infeasible[group]])
        no_parent += int((ranged & (row_level == 0)).sum())
        if infeasible_rows or no_parent:
            self.warn(np.concatenate(infeasible_rows) if infeasible_rows else None, no_parent)

    def warn(self, infeasible: np.ndarray | None, no_parent: int) -> None:
        parts = []
        if infeasible is not None and len(infeasible):
            first = int(infeasible.min())
            region = self.region_labels[self.region[first]]
            industry = self.codes[self.industry[first]]
            parts.append(
                f"{len(infeasible)} withheld cells cannot add up to their parent total within "
                f"their size ranges and keep the bound nearest to it (first: region {region}, "
                f"industry {industry})"
            )
        if no_parent:
            parts.append(
                f"{no_parent} withheld cells have no parent total in the file and keep the "
                "midpoint of their size range"
            )
        warnings.warn(f"{self.path}: " + "; ".join(parts), CBPImputationWarning, stacklevel=5)
