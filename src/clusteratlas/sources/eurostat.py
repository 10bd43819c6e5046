r"""Eurostat regional structural business statistics (SBS) as a Panel.

Reads the bulk downloads of ``sbs_r_nuts06_r2`` (2008–2020) and ``sbs_r_nuts2021`` (from 2021),
and any table of the same shape (a NACE dimension, an indicator dimension, ``geo`` and annual
time), in two layouts:

* **TSV** (bulk download). The first header cell joins the key dimensions with commas and ends
  with ``\time`` (files published before 2023, e.g. ``nace_r2,indic_sb,geo\time``, years
  newest first) or ``\TIME_PERIOD`` (newer files, e.g. ``freq,nace_r2,indic_sbs,geo\TIME_PERIOD``,
  years oldest first). The other header cells are years. A cell holds a value or ``:``
  (missing), optionally a space and flags: ``1234 ``, ``567 p``, ``: c``, ``: cd``, ``: C``.
  An ``@`` in the flags (``: @C``, the way confidentiality codes are written in TSV files
  published after the January 2025 change, according to the project's notes on the official
  layouts in ``../shared/data/README.md``) is read as a separator and not kept.
* **SDMX-CSV** (``.../sdmx/.../data/<table>?format=SDMX-CSV``): one observation per line with
  the dimensions as columns, ``TIME_PERIOD``, ``OBS_VALUE`` and the attributes ``OBS_FLAG``
  and ``CONF_STATUS``. ``DATAFLOW``, ``LAST UPDATE``, ``STRUCTURE``, ``STRUCTURE_ID``,
  ``STRUCTURE_NAME`` and ``ACTION`` are bookkeeping columns and are ignored.

Key dimensions are found by name, in any order: ``geo``, ``nace_r2`` (or another ``nace_*``)
and the indicator (``indic_sb``, ``indic_sbs`` or another ``indic_*``). Any other dimension
(``freq``, ``unit``, ``sizeclas`` …) must have a single value for each indicator that is read,
or be fixed with ``select={"unit": "NR"}``; otherwise the error lists its values.

Flags
-----
Every flag of the employment cell is kept as the panel's ``flag``: the single-letter codes of
the cell (TSV) or of ``OBS_FLAG`` and ``CONF_STATUS`` together (SDMX-CSV), each code once,
sorted (upper case first) and joined with ``,`` — ``: cd`` becomes ``c,d`` and an SDMX row with
``OBS_FLAG=e`` and ``CONF_STATUS=C`` becomes ``C,e``. That is the form :meth:`Panel.aggregate`
unions. Meanings, as Eurostat publishes them ("Flags" on the database page,
https://ec.europa.eu/eurostat/web/main/data/database, and the codes of its TSV files before the
change of 27 January 2025):

=====  ==============================================================  ==================
code   meaning                                                         in use
=====  ==============================================================  ==================
``b``  break in time series                                            before and after
``c``  confidential                                                    before (now ``C``)
``d``  definition differs (see metadata)                               before and after
``e``  estimated                                                       before and after
``f``  forecast                                                        before and after
``n``  not significant                                                 before and after
``p``  provisional                                                     before and after
``r``  revised                                                         before
``s``  Eurostat estimate                                               before (now ``i``)
``u``  low reliability                                                 before and after
``z``  not applicable                                                  before (now ``m``)
``i``  value imputed by Eurostat or other receiving agencies           after
``m``  missing value, data cannot exist                                after
``C``  confidential (confidentiality status)                           after
``N``  not for publication (confidentiality status)                    after
``P``  under non-statistical secrecy arrangements (conf. status)       after
=====  ==============================================================  ==================

SDMX ``CONF_STATUS`` may also carry the other codes of the SDMX list (``D`` secondary
confidentiality set by the sender, ``F`` free, ``S`` secondary confidentiality set by the
receiver …); they are kept as they are.

Missing values
--------------
A missing value (``:`` in TSV, an empty ``OBS_VALUE`` in SDMX-CSV) with a flag becomes a panel
cell with empty employment and that flag. Without any flag the cell is skipped (no row) and
counted in :attr:`EurostatReport.skipped_missing`.

Measures
--------
The chosen ``indicator`` becomes ``employment``. When the file also has local units they become
``establishments`` and wages and salaries become ``payroll`` (as published: million euro), each
only when it is not the chosen indicator. Codes, and the friendly aliases accepted for
``indicator``:

=================  ==============================  =====================================
alias              ``sbs_r_nuts06_r2`` (indic_sb)  ``sbs_r_nuts2021`` (indic_sbs)
=================  ==============================  =====================================
``employment``     ``V16110`` persons employed     ``EMP_LOC_NR`` persons employed in
                                                   local units
``local_units``    ``V11210`` local units          ``LOC_NR`` local units
``wages``          ``V13320`` wages and salaries   ``WAGE_LOC_MEUR`` wages and salaries
=================  ==============================  =====================================

The codes of a row are equivalent: ``indicator="V16110"`` (the default) reads ``EMP_LOC_NR``
from a newer file. ``EMP_NR`` (persons employed, the code of the enterprise-based SBS tables
such as ``sbs_ovw_act``) is read as employment too when a file has neither code. Any other
code of the file may be chosen as ``indicator`` too. Only the flags of the employment cell are
kept; establishments and payroll that are missing count as 0.

Regions
-------
NUTS-shaped codes (two letters and up to three letters or digits) have level = length − 2.
``level`` keeps the regions of that level; codes of a coarser level (countries, NUTS 1 …) and
codes that are not NUTS-shaped (``EU27_2020``, ``EU28``, ``EA19``, ``EFTA`` — anything with
``_`` or beginning with ``EU``, ``EA``, ``EEA``, ``EFTA``) are kept as aggregates (possible
reference regions, never summed with or ranked among the regions). Finer codes are dropped.
``level=None`` keeps every NUTS-shaped code as a region. Extra-regio codes (level ≥ 1 and
ending in ``Z``: ``DEZ``, ``DEZZ``, ``CZZZ``) are always dropped and listed in the report.

Industries
----------
NACE codes are kept as in the file (``C``, ``C10``, ``C101``, ``C1011``). ``nace_level`` keeps
one level (section 1, division 2, group 3, class 4, as
:meth:`clusteratlas.observatory.hierarchy.Hierarchy.nace`); by default the most detailed level
present among the chosen indicator's rows, so that levels are never mixed. Codes that are not
single NACE items (``B-E``, ``B-S_X_K642``, ``C10-C12``) are dropped unless listed in
``industries=``, which keeps exactly the listed codes (mixing levels is then the caller's
choice).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import numpy as np
import pandas as pd

from clusteratlas.observatory.hierarchy import Hierarchy
from clusteratlas.observatory.panel import MAX_PROBLEMS, Panel, PanelError, Problem
from clusteratlas.sources.base import InputError, Located

__all__ = ["INDICATOR_CODES", "EurostatReport", "EurostatSource", "read_eurostat"]

#: Friendly names and the indicator codes they stand for (old ``indic_sb``, new ``indic_sbs``).
INDICATOR_CODES: dict[str, tuple[str, ...]] = {
    "employment": ("V16110", "EMP_LOC_NR", "EMP_NR"),
    "local_units": ("V11210", "LOC_NR"),
    "wages": ("V13320", "WAGE_LOC_MEUR"),
}
#: SDMX-CSV columns that are neither dimensions nor observation values.
SDMX_BOOKKEEPING = {"dataflow", "last update", "structure", "structure_id", "structure_name"}
SDMX_BOOKKEEPING |= {"action"}
SDMX_ATTRIBUTES = {"obs_flag", "conf_status"}

_NUTS = re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$")
_AGGREGATE_PREFIXES = ("EU", "EA", "EEA", "EFTA")
_YEAR = re.compile(r"^\d{4}$")
_TSV_CELL = r"^(-?\d+(?:\.\d+)?|:)\s*([A-Za-z@]*)$"
_NUMBER = r"^-?\d+(?:\.\d+)?$"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class EurostatReport:
    """What :func:`read_eurostat` did with a file, beyond the panel itself."""

    path: str
    layout: str  # "tsv" or "sdmx-csv"
    indicator: str  # the code read as employment
    establishments: str | None  # the code read as establishments, if any
    payroll: str | None  # the code read as payroll, if any
    #: missing cells (``:``) without any flag, left out of the panel
    skipped_missing: int
    #: extra-regio codes left out (``DEZZ``)
    extra_regio: tuple[str, ...]
    #: regions of a finer level than the one chosen, left out
    finer_regions: tuple[str, ...]
    #: industry codes left out: other NACE levels and non-NACE aggregates
    dropped_industries: tuple[str, ...]
    #: values chosen for the other dimensions (``{"freq": "A"}``)
    fixed: Mapping[str, str] = field(default_factory=dict)


class EurostatSource:
    """Eurostat regional SBS tables (``sbs_r_nuts06_r2``, ``sbs_r_nuts2021``), TSV or SDMX-CSV."""

    name: ClassVar[str] = "eurostat"
    description: ClassVar[str] = (
        "Eurostat regional structural business statistics (sbs_r_nuts06_r2, sbs_r_nuts2021 and "
        "tables of the same shape), bulk TSV or SDMX-CSV, optionally gzipped"
    )
    url: ClassVar[str] = "https://ec.europa.eu/eurostat/databrowser/product/page/sbs_r_nuts2021"

    def __init__(self) -> None:
        #: the report of the last :meth:`open`
        self.report: EurostatReport | None = None

    def guess_can_open(self, path: str | Path) -> bool:
        """True when the first line is a Eurostat TSV or SDMX-CSV header (gzip or not)."""
        try:
            return _layout(_first_line(Path(path))) is not None
        except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
            return False

    def open(
        self,
        path: str | Path,
        *,
        indicator: str = "V16110",
        level: int | None = 2,
        nace_level: int | None = None,
        industries: Sequence[str] | None = None,
        select: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Panel:
        """Read a file; see :func:`read_eurostat`. The report is kept in :attr:`report`."""
        if options:
            raise TypeError(f"unknown options for the eurostat source: {', '.join(options)}")
        panel, self.report = read_eurostat(
            path,
            indicator=indicator,
            level=level,
            nace_level=nace_level,
            industries=industries,
            select=select,
        )
        return panel


def read_eurostat(
    path: str | Path,
    *,
    indicator: str = "V16110",
    level: int | None = 2,
    nace_level: int | None = None,
    industries: Sequence[str] | None = None,
    select: Mapping[str, str] | None = None,
) -> tuple[Panel, EurostatReport]:
    """Read a Eurostat regional SBS file (TSV or SDMX-CSV, gzipped or not) into a Panel.

    Parameters
    ----------
    indicator
        The indicator read as employment: a code of the file (``V16110``, ``EMP_LOC_NR``) or an
        alias (``employment``, ``local_units``, ``wages``); see the module documentation.
    level
        NUTS level of the regions (0–3); coarser codes and non-NUTS totals become aggregates.
        ``None`` keeps every NUTS-shaped code as a region.
    nace_level
        NACE level of the industries (1 section … 4 class); default: the most detailed present.
    industries
        Exactly these industry codes (overrides ``nace_level``; may name aggregates like ``B-E``).
    select
        Values of other dimensions that have several (``{"unit": "NR"}``).

    Raises
    ------
    InputError
        Naming the file, line, column and cell text of each problem.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, message=f"{path}: no such file")
    if level is not None and not 0 <= level <= 3:
        raise ValueError(f"level must be 0, 1, 2, 3 or None, not {level!r}")
    if nace_level is not None and not 1 <= nace_level <= 4:
        raise ValueError(f"nace_level must be 1, 2, 3, 4 or None, not {nace_level!r}")
    try:
        text = _read_text(path)
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(path, message=f"{path}: cannot be read: {exc}") from None
    header = text.split("\n", 1)[0].rstrip("\r")
    layout = _layout(header)
    if layout is None:
        raise InputError(
            path,
            message=(
                f"{path}: not a Eurostat file (line 1 should be a TSV header ending in "
                r"'geo\time' or 'geo\TIME_PERIOD', or an SDMX-CSV header with geo, "
                "TIME_PERIOD and OBS_VALUE)"
            ),
        )
    reader = _Tsv(path, text) if layout == "tsv" else _Sdmx(path, text)
    plan = _plan(path, reader.keys, reader.dims, indicator, level, nace_level, industries, select)
    obs = reader.observations(plan.keep)
    return _build(path, layout, obs, plan)


# ---------------------------------------------------------------------- reading files
def _read_text(path: Path) -> str:
    with path.open("rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig")


def _first_line(path: Path) -> str:
    with path.open("rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == _GZIP_MAGIC else open
    with opener(path, "rb") as f:
        line = f.readline(65536)
    return line.decode("utf-8-sig").rstrip("\r\n")


def _layout(header: str) -> str | None:
    if "\t" in header:
        first = header.split("\t", 1)[0].strip().lower()
        if "\\time" in first:  # geo\time, geo\TIME_PERIOD
            return "tsv"
        return None
    cells = {c.strip().strip('"').lower() for c in header.split(",")}
    if {"obs_value", "time_period", "geo"} <= cells:
        return "sdmx-csv"
    return None


@dataclass(frozen=True)
class _Dims:
    """Column names of the key frame: geo, industry, indicator (or None) and the others."""

    geo: str
    nace: str
    indicator: str | None
    others: tuple[str, ...]


def _find_dims(path: Path, names: Sequence[str], where: str) -> _Dims:
    lower = [n.lower() for n in names]
    if "geo" not in lower:
        raise InputError(path, message=f"{path}: {where} has no 'geo' dimension")
    nace = [n for n in names if n.lower().startswith("nace")]
    if len(nace) != 1:
        found = ", ".join(names)
        raise InputError(
            path,
            message=f"{path}: {where} needs one NACE dimension (nace_r2); found: {found}",
        )
    indic = [n for n in names if n.lower().startswith("indic")]
    if len(indic) > 1:
        raise InputError(
            path, message=f"{path}: {where} has several indicator dimensions: {', '.join(indic)}"
        )
    geo = names[lower.index("geo")]
    used = {geo, nace[0], *indic}
    return _Dims(
        geo, nace[0], indic[0] if indic else None, tuple(n for n in names if n not in used)
    )


def _raise(path: Path, located: list[Located], total: int | None = None) -> NoReturn:
    raise InputError(path, located[:MAX_PROBLEMS], total=total or len(located))


def _locate(path: Path, line: int | None, fld: str | None, value: object, message: str) -> Located:
    return Located(str(path), line, "line", Problem(None, fld, value, message), message)


class _Tsv:
    """A bulk TSV file: one line per series, one column per year."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        first, _, rest = text.partition("\n")
        header = first.rstrip("\r").split("\t")
        self.key_header = header[0].strip()
        names = self.key_header.split("\\", 1)[0].split(",")
        names = [n.strip() for n in names]
        self.dims = _find_dims(path, names, f"the header {self.key_header!r}")
        self.names = names
        bad = [
            _locate(path, 1, cell.strip(), cell, "the column header is not a year")
            for cell in header[1:]
            if not _YEAR.match(cell.strip())
        ]
        if bad:
            _raise(path, bad)
        years = [int(c) for c in header[1:]]
        dup = sorted({y for y in years if years.count(y) > 1})
        if dup:
            _raise(path, [_locate(path, 1, str(y), str(y), "year listed twice") for y in dup])
        self.years = np.array(years, dtype=np.int64)
        parts, line_no = _tsv_body(path, rest, len(header))
        key = parts[0].str.strip()
        nparts = key.str.count(",").to_numpy() + 1
        wrong = np.flatnonzero(nparts != len(names))
        if len(wrong):
            _raise(
                path,
                [
                    _locate(
                        path,
                        int(line_no[i]),
                        ",".join(names),
                        key.iloc[i],
                        f"expected {len(names)} comma-separated codes ({', '.join(names)}), "
                        f"found {nparts[i]}",
                    )
                    for i in wrong[:MAX_PROBLEMS]
                ],
                len(wrong),
            )
        dups = key.duplicated(keep="first").to_numpy()
        if dups.any():
            first = pd.Series(line_no[~dups], index=key[~dups].to_numpy())
            rows = np.flatnonzero(dups)
            _raise(
                path,
                [
                    _locate(
                        path,
                        int(line_no[i]),
                        ",".join(names),
                        key.iloc[i],
                        f"duplicate key (first seen at line {first[key.iloc[i]]})",
                    )
                    for i in rows[:MAX_PROBLEMS]
                ],
                len(rows),
            )
        self.line_no = line_no
        split = key.str.split(",", expand=True) if len(key) else None
        self.keys = pd.DataFrame(
            {n: (split[k].str.strip() if split is not None else []) for k, n in enumerate(names)}
        ).reset_index(drop=True)
        self.cells = parts.iloc[:, 1:].to_numpy(dtype=object)  # rows × years
        self._parse()

    def _parse(self) -> None:
        """Every cell as value text, missing mask and flags; an error names bad cells."""
        flat = self.cells.ravel()
        codes, uniques = pd.factorize(flat)
        parsed = pd.Series(uniques, dtype=object).str.strip().str.extract(_TSV_CELL)
        bad_unique = parsed[0].isna().to_numpy()
        if bad_unique.any():
            bad = np.flatnonzero(bad_unique[codes])
            nyears = len(self.years)
            _raise(
                self.path,
                [
                    _locate(
                        self.path,
                        int(self.line_no[i // nyears]),
                        str(self.years[i % nyears]),
                        flat[i],
                        "not a Eurostat value (a number or ':', then optional flags as in "
                        "'567 p' or ': c')",
                    )
                    for i in bad[:MAX_PROBLEMS]
                ],
                len(bad),
            )
        value = parsed[0].to_numpy(dtype=object)
        flags = _normalise_flags(parsed[1].fillna(""), pd.Series([""] * len(parsed)))
        self.value, self.flag, self.codes = value, flags, codes.reshape(self.cells.shape)

    def observations(self, keep: np.ndarray) -> pd.DataFrame:
        rows = np.flatnonzero(keep)
        nyears = len(self.years)
        codes = self.codes[rows].ravel()
        value = self.value[codes]
        row = np.repeat(rows, nyears)
        obs = pd.DataFrame(
            {
                "row": row,
                "year": np.tile(self.years, len(rows)),
                "value": np.where(value == ":", "", value),
                "missing": value == ":",
                "flag": self.flag[codes],
                "cell": self.cells[rows].ravel(),
                "column": np.tile(self.years.astype(str), len(rows)).astype(object),
                "line": self.line_no[row],
            }
        )
        return obs


def _tsv_body(path: Path, rest: str, ncols: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The cells of the lines after the header as text, and each line's number.

    Blank lines are skipped (but counted); a line with another number of cells than the header
    is an error. The cells are then split by the C parser.
    """
    body = pd.Series(rest.split("\n"), dtype=object).str.rstrip("\r")
    line_no = np.arange(2, len(body) + 2)
    keep = body.str.strip().ne("").to_numpy()
    body, line_no = body[keep], line_no[keep]
    if len(body) == 0:
        return pd.DataFrame(columns=range(ncols), dtype=object), line_no
    ncells = body.str.count("\t").to_numpy() + 1
    wrong = np.flatnonzero(ncells != ncols)
    if len(wrong):
        _raise(
            path,
            [
                _locate(
                    path,
                    int(line_no[i]),
                    None,
                    body.iloc[i].split("\t", 1)[0],
                    f"expected {ncols} tab-separated cells (as in the header), found {ncells[i]}",
                )
                for i in wrong[:MAX_PROBLEMS]
            ],
            len(wrong),
        )
    parts = pd.read_csv(
        io.StringIO("\n".join(body)),
        sep="\t",
        header=None,
        names=range(ncols),
        dtype=str,
        na_filter=False,
        quoting=csv.QUOTE_NONE,
        skip_blank_lines=False,
        engine="c",
    )
    return parts, line_no


class _Sdmx:
    """An SDMX-CSV file: one line per observation."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        records: list[list[str]] = []
        line_no: list[int] = []
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        previous = reader.line_num
        wrong: list[Located] = []
        n_wrong = 0
        for record in reader:
            start = previous + 1
            previous = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != len(header):
                n_wrong += 1
                if len(wrong) < MAX_PROBLEMS:
                    wrong.append(
                        _locate(
                            path,
                            start,
                            None,
                            ",".join(record),
                            f"expected {len(header)} comma-separated cells (as in the header), "
                            f"found {len(record)}",
                        )
                    )
                continue
            records.append(record)
            line_no.append(start)
        if wrong:
            _raise(path, wrong, n_wrong)
        names = [h.strip() for h in header]
        frame = pd.DataFrame(records, columns=names, dtype=object)
        by_lower = {n.lower(): n for n in names}
        dims = [
            n
            for n in names
            if n.lower() not in SDMX_BOOKKEEPING | SDMX_ATTRIBUTES | {"time_period", "obs_value"}
        ]
        self.dims = _find_dims(path, dims, "the SDMX-CSV header")
        self.line_no = np.asarray(line_no, dtype=np.int64)
        self.keys = frame[dims].apply(lambda s: s.str.strip()).reset_index(drop=True)
        time = frame[by_lower["time_period"]].str.strip()
        bad = np.flatnonzero(~time.str.match(r"^\d{4}$").to_numpy())
        if len(bad):
            _raise(
                path,
                [
                    _locate(path, int(self.line_no[i]), "TIME_PERIOD", time.iloc[i], "not a year")
                    for i in bad[:MAX_PROBLEMS]
                ],
                len(bad),
            )
        self.year = time.astype(np.int64).to_numpy()
        value = frame[by_lower["obs_value"]].str.strip()
        bad = np.flatnonzero((value.ne("") & ~value.str.match(_NUMBER)).to_numpy())
        if len(bad):
            _raise(
                path,
                [
                    _locate(path, int(self.line_no[i]), "OBS_VALUE", value.iloc[i], "not a number")
                    for i in bad[:MAX_PROBLEMS]
                ],
                len(bad),
            )
        self.value = value.to_numpy(dtype=object)
        empty = pd.Series([""] * len(frame), dtype=object)
        obs_flag = frame[by_lower["obs_flag"]] if "obs_flag" in by_lower else empty
        conf = frame[by_lower["conf_status"]] if "conf_status" in by_lower else empty
        self.flag = _normalise_flags(obs_flag, conf)
        self.cell = value.to_numpy(dtype=object)
        ident = self.keys.assign(_t=time.to_numpy())
        dups = ident.duplicated(keep="first").to_numpy()
        if dups.any():
            first_rows = np.flatnonzero(~dups)
            index = pd.MultiIndex.from_frame(ident.iloc[first_rows])
            where = pd.Series(self.line_no[first_rows], index=index)
            rows = np.flatnonzero(dups)
            _raise(
                path,
                [
                    _locate(
                        path,
                        int(self.line_no[i]),
                        ",".join(dims + ["TIME_PERIOD"]),
                        ",".join(ident.iloc[i]),
                        f"duplicate key (first seen at line {where[tuple(ident.iloc[i])]})",
                    )
                    for i in rows[:MAX_PROBLEMS]
                ],
                len(rows),
            )

    def observations(self, keep: np.ndarray) -> pd.DataFrame:
        rows = np.flatnonzero(keep)
        value = self.value[rows]
        return pd.DataFrame(
            {
                "row": rows,
                "year": self.year[rows],
                "value": value,
                "missing": value == "",
                "flag": self.flag[rows],
                "cell": self.cell[rows],
                "column": np.full(len(rows), "OBS_VALUE", dtype=object),
                "line": self.line_no[rows],
            }
        )


def _normalise_flags(first: pd.Series, second: pd.Series) -> np.ndarray:
    """Flag codes of each cell as ``"C,e"``: each letter once, sorted, joined with commas."""
    both = (first.fillna("").astype(str) + second.fillna("").astype(str)).to_numpy(dtype=object)
    codes, uniques = pd.factorize(both)
    norm = [",".join(sorted({ch for ch in u if ch.isalpha()})) for u in uniques]
    return np.asarray(norm + [""], dtype=object)[codes]


# ---------------------------------------------------------------------- choosing rows
@dataclass
class _Plan:
    keep: np.ndarray  # rows of the key frame to read
    role: np.ndarray  # "employment", "establishments", "payroll" per key row ("" if unused)
    geo: np.ndarray
    nace: np.ndarray
    aggregates: list[str]
    indicator: str
    establishments: str | None
    payroll: str | None
    extra_regio: tuple[str, ...]
    finer_regions: tuple[str, ...]
    dropped_industries: tuple[str, ...]
    fixed: dict[str, str]


def _resolve_indicator(path: Path, wanted: str, present: set[str]) -> str:
    for codes in INDICATOR_CODES.values():
        if wanted in codes:
            candidates = (wanted, *[c for c in codes if c != wanted])
            break
    else:
        candidates = INDICATOR_CODES.get(wanted, (wanted,))
    for code in candidates:
        if code in present:
            return code
    raise InputError(
        path,
        message=(
            f"{path}: indicator {wanted!r} is not in the file (it has "
            f"{', '.join(sorted(present)) or 'none'})"
        ),
    )


def _other_measure(alias: str, chosen: str, present: set[str]) -> str | None:
    for code in INDICATOR_CODES[alias]:
        if code in present and code != chosen:
            return code
    return None


def _plan(
    path: Path,
    keys: pd.DataFrame,
    dims: _Dims,
    indicator: str,
    level: int | None,
    nace_level: int | None,
    industries: Sequence[str] | None,
    select: Mapping[str, str] | None,
) -> _Plan:
    n = len(keys)
    if n == 0:
        raise InputError(path, message=f"{path}: the file has no data lines")
    keep = np.ones(n, dtype=bool)
    fixed: dict[str, str] = {}
    for dim, value in (select or {}).items():
        matches = [c for c in keys.columns if c.lower() == str(dim).lower()]
        if not matches or matches[0] not in dims.others:
            raise InputError(
                path,
                message=(
                    f"{path}: cannot select {dim!r}: the dimensions to choose from are "
                    f"{', '.join(dims.others) or 'none'}"
                ),
            )
        column = keys[matches[0]]
        values = sorted(column.unique())
        if value not in values:
            raise InputError(
                path,
                message=f"{path}: {matches[0]} has no value {value!r} (it has {', '.join(values)})",
            )
        keep &= (column == value).to_numpy()
        fixed[matches[0]] = value

    if dims.indicator is not None:
        indic = keys[dims.indicator].to_numpy(dtype=object)
    else:
        indic = np.full(n, indicator, dtype=object)
    present = set(indic[keep])
    chosen = _resolve_indicator(path, indicator, present)
    est = _other_measure("local_units", chosen, present)
    pay = _other_measure("wages", chosen, present)
    role = np.full(n, "", dtype=object)
    for code, name in ((chosen, "employment"), (est, "establishments"), (pay, "payroll")):
        if code is not None:
            role[keep & (indic == code)] = name
    keep &= role != ""

    # other dimensions: one value per indicator that is read, or the caller chooses
    for dim in dims.others:
        if dim in fixed:
            continue
        column = keys[dim].to_numpy(dtype=object)
        for code in (chosen, est, pay):
            rows = keep & (indic == code)
            values = sorted(set(column[rows]))
            if len(values) > 1:
                raise InputError(
                    path,
                    message=(
                        f"{path}: dimension {dim!r} has several values for indicator {code} "
                        f"({', '.join(values)}); choose one with select={{{dim!r}: ...}}"
                    ),
                )
        values = sorted(set(column[keep]))
        if len(values) == 1:
            fixed[dim] = values[0]

    # regions
    geo = keys[dims.geo].to_numpy(dtype=object)
    kinds = {g: _geo_kind(g, level) for g in pd.unique(geo[keep])}
    kind = np.array([kinds.get(g, "") for g in geo], dtype=object)
    extra = tuple(sorted(g for g, k in kinds.items() if k == "extra"))
    finer = tuple(sorted(g for g, k in kinds.items() if k == "finer"))
    keep &= (kind == "region") | (kind == "aggregate")

    # industries
    nace = keys[dims.nace].to_numpy(dtype=object)
    codes = sorted(set(nace[keep]))
    if industries is not None:
        wanted = set(industries)
        missing = sorted(wanted - set(codes))
        if missing:
            raise InputError(
                path,
                message=(
                    f"{path}: industries not in the file for indicator {chosen}: "
                    f"{', '.join(missing)} (it has {', '.join(codes)})"
                ),
            )
        kept_codes = wanted
    else:
        hierarchy = Hierarchy.nace(codes)
        levels = {c: hierarchy.level(c) for c in codes}
        if nace_level is None:
            employment_codes = set(nace[keep & (role == "employment")])
            found = [levels[c] for c in employment_codes if levels[c] is not None]
            if not found:
                raise InputError(
                    path,
                    message=(
                        f"{path}: no NACE industry codes for indicator {chosen} (codes: "
                        f"{', '.join(codes)}); name the ones to keep with industries=[...]"
                    ),
                )
            target = max(found)
        else:
            target = nace_level
        kept_codes = {c for c in codes if levels[c] == target}
        if not kept_codes:
            present_levels = sorted({v for v in levels.values() if v is not None})
            raise InputError(
                path,
                message=(
                    f"{path}: no industries at NACE level {target} (levels in the file: "
                    f"{', '.join(map(str, present_levels)) or 'none'})"
                ),
            )
    dropped = tuple(sorted(set(codes) - kept_codes))
    keep &= pd.Series(nace).isin(kept_codes).to_numpy()
    aggregates = sorted(set(geo[keep & (kind == "aggregate")]))
    return _Plan(
        keep=keep,
        role=role,
        geo=geo,
        nace=nace,
        aggregates=aggregates,
        indicator=chosen,
        establishments=est,
        payroll=pay,
        extra_regio=extra,
        finer_regions=finer,
        dropped_industries=dropped,
        fixed=fixed,
    )


def _geo_kind(code: str, level: int | None) -> str:
    """``region``, ``aggregate``, ``extra`` (extra-regio) or ``finer`` (below ``level``)."""
    if "_" in code or code.startswith(_AGGREGATE_PREFIXES) or not _NUTS.match(code):
        return "aggregate"
    code_level = len(code) - 2
    if code_level >= 1 and code.endswith("Z"):
        return "extra"
    if level is None or code_level == level:
        return "region"
    return "aggregate" if code_level < level else "finer"


# ---------------------------------------------------------------------- the panel
def _build(path: Path, layout: str, obs: pd.DataFrame, plan: _Plan) -> tuple[Panel, EurostatReport]:
    role = plan.role[obs["row"].to_numpy()]
    obs = obs.assign(
        region=plan.geo[obs["row"].to_numpy()], industry=plan.nace[obs["row"].to_numpy()]
    )
    emp = obs[role == "employment"]
    skip = (emp["missing"] & emp["flag"].eq("")).to_numpy()
    skipped = int(skip.sum())
    emp = emp[~skip].reset_index(drop=True)
    if len(emp) == 0:
        raise InputError(
            path,
            message=(
                f"{path}: no values for indicator {plan.indicator} in the regions and "
                "industries chosen"
            ),
        )
    frame = pd.DataFrame(
        {
            "year": emp["year"].to_numpy(),
            "region": emp["region"].to_numpy(),
            "industry": emp["industry"].to_numpy(),
            "employment": emp["value"].to_numpy(),
            "flag": emp["flag"].to_numpy(),
        }
    )
    keys = ["year", "region", "industry"]
    for measure in ("establishments", "payroll"):
        part = obs[role == measure]
        if len(part) == 0:
            continue
        negative = part["value"].str.startswith("-").to_numpy()
        if negative.any():
            rows = np.flatnonzero(negative)
            _raise(
                path,
                [
                    _locate(
                        path,
                        int(part["line"].iloc[i]),
                        part["column"].iloc[i],
                        part["cell"].iloc[i],
                        f"negative value for {measure}",
                    )
                    for i in rows[:MAX_PROBLEMS]
                ],
                len(rows),
            )
        values = part[keys + ["value"]].rename(columns={"value": measure})
        frame = frame.merge(values, on=keys, how="left", validate="one_to_one")
        frame[measure] = frame[measure].fillna("")
    if not frame["flag"].ne("").any():
        frame = frame.drop(columns="flag")
    try:
        panel = Panel.from_frame(
            frame,
            region_hierarchy=Hierarchy.nuts(frame["region"].unique()),
            industry_hierarchy=Hierarchy.nace(frame["industry"].unique()),
            aggregates=plan.aggregates,
        )
    except PanelError as err:
        raise InputError.from_panel_error(path, _in_file_terms(err, emp), _Lines(emp)) from None
    report = EurostatReport(
        path=str(path),
        layout=layout,
        indicator=plan.indicator,
        establishments=plan.establishments,
        payroll=plan.payroll,
        skipped_missing=skipped,
        extra_regio=plan.extra_regio,
        finer_regions=plan.finer_regions,
        dropped_industries=plan.dropped_industries,
        fixed=dict(plan.fixed),
    )
    return panel, report


class _Lines:
    """Frame rows of the employment cells → lines of the file."""

    unit = "line"

    def __init__(self, emp: pd.DataFrame) -> None:
        self.lines = emp["line"].to_numpy()

    def __call__(self, row: int) -> int:
        return int(self.lines[row])


def _in_file_terms(err: PanelError, emp: pd.DataFrame) -> PanelError:
    """Problems about a cell's value named by the cell's year column and raw text."""
    problems = []
    for p in err.problems:
        if p.row is not None and p.field in ("employment", "flag"):
            p = Problem(
                p.row,
                emp["column"].iloc[p.row],
                emp["cell"].iloc[p.row],
                p.message,
                p.related,
            )
        problems.append(p)
    return PanelError(problems, total=err.total)
