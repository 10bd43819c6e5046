"""The Panel: employment (and optionally establishments, payroll) by year, region and industry.

A Panel is validated once, when it is built, and is immutable afterwards: every method returns a
new Panel. Each measure is held as one ``scipy.sparse`` CSR matrix (regions × industries) per
year, so a county × 6-digit-industry × 20-year panel costs memory in proportion to its non-zero
cells only. Cell flags (confidential, estimated, noise, …) are kept beside the values, never lost.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:
    from clusteratlas.observatory.hierarchy import Hierarchy

__all__ = [
    "KEYS",
    "MEASURES",
    "ExtraColumnsWarning",
    "Panel",
    "PanelError",
    "Problem",
]

KEYS = ("year", "region", "industry")
MEASURES = ("employment", "establishments", "payroll")
BOUNDS = ("employment_lower", "employment_upper")
OPTIONAL = ("establishments", "payroll", "flag")
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input table.

    ``row`` is the 0-based position of the offending row in the input frame (``None`` when the
    problem is about the table as a whole, such as a missing column); readers translate it into
    a line number of their file.
    """

    row: int | None
    field: str | None
    value: object
    message: str
    #: another row the message refers to (e.g. the first of two duplicates), written as
    #: ``{related}`` in ``message`` so that readers can say it in their own units (file lines)
    related: int | None = None

    def describe(self, locate: Callable[[int], str] = lambda r: f"row {r}") -> str:
        """The message, with the related row written by ``locate``."""
        if self.related is None:
            return self.message
        return self.message.replace("{related}", locate(self.related))


class PanelError(ValueError):
    """The input does not make a valid panel. ``problems`` says where and why."""

    def __init__(self, problems: Sequence[Problem], *, total: int | None = None) -> None:
        self.problems = tuple(problems)
        self.total = len(self.problems) if total is None else total
        super().__init__(self._summary())

    def _summary(self) -> str:
        lines = []
        for p in self.problems:
            where = "table" if p.row is None else f"row {p.row}"
            field = f", field {p.field!r}" if p.field else ""
            value = "" if p.value is None else f", value {p.value!r}"
            lines.append(f"{where}{field}{value}: {p.describe()}")
        if self.total > len(self.problems):
            lines.append(f"... and {self.total - len(self.problems)} more problems")
        return "; ".join(lines)


class ExtraColumnsWarning(UserWarning):
    """The input had columns the panel contract does not use; they were ignored."""


def _freeze(m: sparse.csr_array) -> sparse.csr_array:
    for arr in (m.data, m.indices, m.indptr):
        arr.flags.writeable = False
    return m


class Panel:
    """Employment by ``year``, ``region`` and ``industry``, validated and immutable.

    Build one with :meth:`Panel.from_frame` (or a reader in :mod:`clusteratlas.sources`), not by
    calling the constructor.

    Parameters
    ----------
    years, regions, industries
        The sorted, unique labels of each dimension.
    data
        ``{measure: {year: csr_array of shape (n_regions, n_industries)}}``; ``employment`` is
        required, ``establishments`` and ``payroll`` optional.
    flags
        Flagged cells: a frame with integer positions ``year, region, industry`` (positions into
        ``regions``/``industries``) and the string ``flag``. Empty when no cell is flagged.
        Optional columns ``lower`` and ``upper`` hold bounds of estimated employment values
        (NaN where a cell has none).
    region_hierarchy, industry_hierarchy
        Optional hierarchies used by :meth:`rollup`.
    aggregates
        Regions that are totals of others (``EU27_2020``, a country beside its regions), kept
        so that they can serve as the reference economy but never summed with the regions
        or ranked among them.
    """

    __slots__ = (
        "__dict__",  # for cached_property
        "_aggregates",
        "_data",
        "_flags",
        "_industries",
        "_regions",
        "_years",
        "industry_hierarchy",
        "region_hierarchy",
    )

    def __init__(
        self,
        *,
        years: Sequence[int],
        regions: Sequence[str],
        industries: Sequence[str],
        data: Mapping[str, Mapping[int, sparse.csr_array]],
        flags: pd.DataFrame | None = None,
        region_hierarchy: Hierarchy | None = None,
        industry_hierarchy: Hierarchy | None = None,
        aggregates: Sequence[str] = (),
    ) -> None:
        if "employment" not in data:
            raise ValueError("a panel needs the 'employment' measure")
        unknown = set(data) - set(MEASURES)
        if unknown:
            raise ValueError(f"unknown measures {sorted(unknown)}; expected some of {MEASURES}")
        self._years = tuple(int(y) for y in years)
        self._regions = pd.Index(list(regions), dtype=object, name="region")
        self._industries = pd.Index(list(industries), dtype=object, name="industry")
        shape = (len(self._regions), len(self._industries))
        frozen: dict[str, dict[int, sparse.csr_array]] = {}
        for measure, by_year in data.items():
            if set(by_year) != set(self._years):
                raise ValueError(f"measure {measure!r} must have a matrix for every year")
            frozen[measure] = {}
            for y in self._years:
                m = sparse.csr_array(by_year[y], dtype=np.float64, copy=True)
                m.sum_duplicates()  # canonical: sorted indices, no duplicates
                m.eliminate_zeros()
                if m.shape != shape:
                    raise ValueError(f"{measure} {y}: shape {m.shape}, expected {shape}")
                frozen[measure][y] = _freeze(m)
        self._data = frozen
        if flags is None:
            flags = pd.DataFrame(
                {
                    "year": np.array([], dtype=np.int64),
                    "region": np.array([], dtype=np.int64),
                    "industry": np.array([], dtype=np.int64),
                    "flag": pd.Series([], dtype=object),
                }
            )
        self._flags = flags.reset_index(drop=True)
        unknown_aggregates = [a for a in aggregates if a not in self._regions]
        if unknown_aggregates:
            raise ValueError(f"aggregate regions not in the panel: {unknown_aggregates[:10]}")
        self._aggregates = tuple(sorted(set(aggregates)))
        self.region_hierarchy = region_hierarchy
        self.industry_hierarchy = industry_hierarchy

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        region_hierarchy: Hierarchy | None = None,
        industry_hierarchy: Hierarchy | None = None,
        aggregates: Sequence[str] = (),
    ) -> Panel:
        """Validate a long table and build a Panel from it.

        The table has the columns ``year, region, industry, employment`` and optionally
        ``establishments, payroll, flag`` and ``employment_lower, employment_upper`` (bounds
        of estimated values). Values may be numbers or strings (as read from a
        file); other columns are ignored with an :class:`ExtraColumnsWarning`.

        Raises
        ------
        PanelError
            When columns are missing, keys are empty or duplicated, or a measure is not a
            non-negative number. Each :class:`Problem` names the row, field and value.
        """
        problems: list[Problem] = []
        missing = [c for c in ("year", "region", "industry", "employment") if c not in frame]
        if missing:
            found = ", ".join(map(str, frame.columns)) or "none"
            raise PanelError(
                [
                    Problem(None, c, None, f"missing required column (found: {found})")
                    for c in missing
                ]
            )
        extra = [c for c in frame.columns if c not in KEYS + MEASURES + ("flag",) + BOUNDS]
        if extra:
            warnings.warn(
                f"ignoring extra columns: {', '.join(map(str, extra))}",
                ExtraColumnsWarning,
                stacklevel=2,
            )
        if len(frame) == 0:
            raise PanelError([Problem(None, None, None, "the table has no rows")])
        frame = frame.reset_index(drop=True)
        total = 0

        def report(mask: np.ndarray, field: str, values: pd.Series, message: str) -> None:
            nonlocal total
            rows = np.flatnonzero(mask)
            total += len(rows)
            for r in rows[: max(0, MAX_PROBLEMS - len(problems))]:
                problems.append(Problem(int(r), field, plain(values.iloc[r]), message))

        flag_pos, flag_labels = _codes(frame["flag"]) if "flag" in frame else (None, [])
        if flag_pos is not None:
            has_flag = flag_pos >= 0
            if "" in flag_labels:
                has_flag &= flag_pos != flag_labels.index("")
        else:
            has_flag = np.zeros(len(frame), bool)

        positions: dict[str, np.ndarray] = {}
        labels: dict[str, list[str]] = {}
        for key in ("region", "industry"):
            pos, labs = _codes(frame[key])
            empty = pos < 0
            if "" in labs:
                empty |= pos == labs.index("")
            report(empty, key, frame[key], "empty code")
            positions[key], labels[key] = pos, labs
        year_raw = frame["year"]
        year_num, _ = _numbers(year_raw)
        with np.errstate(invalid="ignore"):
            bad_year = ~np.isfinite(year_num) | (year_num % 1 != 0)
        report(bad_year, "year", year_raw, "year must be a whole number")

        values: dict[str, np.ndarray] = {}
        for measure in MEASURES:
            if measure not in frame:
                continue
            raw = frame[measure]
            arr, empty = _numbers(raw)
            report(~empty & ~np.isfinite(arr), measure, raw, "not a number")
            with np.errstate(invalid="ignore"):
                report(np.isfinite(arr) & (arr < 0), measure, raw, "negative value")
            if measure == "employment":
                report(
                    empty & ~has_flag,
                    measure,
                    raw,
                    "employment is empty; give a number, or a flag saying why it is missing",
                )
            with np.errstate(invalid="ignore"):
                values[measure] = np.where(np.isfinite(arr) & (arr >= 0), arr, 0.0)
        limits: dict[str, np.ndarray] = {}
        for column in BOUNDS:
            if column in frame:
                raw = frame[column]
                arr, empty = _numbers(raw)
                report(~empty & ~np.isfinite(arr), column, raw, "not a number")
                limits[column] = arr
        if len(limits) == 1:
            report(
                np.ones(1, bool),
                next(iter(limits)),
                pd.Series([None]),
                "give both employment_lower and employment_upper, or neither",
            )
        elif limits and "employment" in values:
            lo, hi = limits["employment_lower"], limits["employment_upper"]
            value = values["employment"]
            with np.errstate(invalid="ignore"):
                report(
                    np.isnan(lo) != np.isnan(hi),
                    "employment_lower",
                    frame["employment_lower"],
                    "a bound without the other",
                )
                report(
                    (lo > value) | (hi < value),
                    "employment",
                    frame["employment"],
                    "value outside its bounds employment_lower–employment_upper",
                )

        if problems:
            raise PanelError(problems, total=total)
        year_int = year_num.astype(np.int64)
        years, year_pos = np.unique(year_int, return_inverse=True)
        r_pos, i_pos = positions["region"], positions["industry"]
        regions, industries = labels["region"], labels["industry"]
        shape = (len(regions), len(industries))
        cell = (year_pos.astype(np.int64) * shape[0] + r_pos) * shape[1] + i_pos
        dup_mask = pd.Series(cell).duplicated(keep="first").to_numpy()
        if dup_mask.any():
            rows = np.flatnonzero(dup_mask)
            first_of = pd.Series(np.arange(len(cell))[~dup_mask], index=cell[~dup_mask])
            for r in rows[:MAX_PROBLEMS]:
                k = (int(year_int[r]), regions[r_pos[r]], industries[i_pos[r]])
                problems.append(
                    Problem(
                        int(r),
                        "year,region,industry",
                        ", ".join(map(str, k)),
                        "duplicate key (first seen at {related})",
                        related=int(first_of[cell[r]]),
                    )
                )
            raise PanelError(problems, total=len(rows))

        data: dict[str, dict[int, sparse.csr_array]] = {m: {} for m in values}
        order = np.argsort(year_pos, kind="stable")
        bounds = np.searchsorted(year_pos[order], np.arange(len(years) + 1))
        for k, y in enumerate(years):
            sel = order[bounds[k] : bounds[k + 1]]
            for measure, arr in values.items():
                m = sparse.csr_array((arr[sel], (r_pos[sel], i_pos[sel])), shape=shape)
                m.eliminate_zeros()
                data[measure][int(y)] = m
        flags = None
        has_bounds = ~np.isnan(limits["employment_lower"]) if limits else np.zeros_like(has_flag)
        annotated = has_flag | has_bounds
        if annotated.any():
            labels = np.asarray(flag_labels + [""], dtype=object)
            flag_at = (
                np.where(has_flag, flag_pos, len(flag_labels))
                if flag_pos is not None
                else np.full(len(frame), len(flag_labels))
            )
            flags = pd.DataFrame(
                {
                    "year": years[year_pos[annotated]].astype(np.int64),
                    "region": r_pos[annotated].astype(np.int64),
                    "industry": i_pos[annotated].astype(np.int64),
                    "flag": labels[flag_at[annotated]],
                }
            )
            if limits:
                flags["lower"] = limits["employment_lower"][annotated]
                flags["upper"] = limits["employment_upper"][annotated]
        return cls(
            years=[int(y) for y in years],
            regions=list(regions),
            industries=list(industries),
            data=data,
            flags=flags,
            region_hierarchy=region_hierarchy,
            industry_hierarchy=industry_hierarchy,
            aggregates=aggregates,
        )

    @classmethod
    def concat(cls, panels: Sequence[Panel]) -> Panel:
        """One panel from several with different years (say one County Business Patterns file
        per year): regions and industries are the union; a cell missing in a year is empty.

        Raises ``ValueError`` when two panels share a year or measures differ.
        """
        if not panels:
            raise ValueError("nothing to combine")
        if len(panels) == 1:
            return panels[0]
        seen: dict[int, int] = {}
        for k, p in enumerate(panels):
            for y in p.years:
                if y in seen:
                    raise ValueError(
                        f"year {y} is in more than one input (inputs {seen[y] + 1} "
                        f"and {k + 1}); give each year once"
                    )
                seen[y] = k
        measures = panels[0].measures
        for p in panels[1:]:
            if p.measures != measures:
                raise ValueError(
                    f"inputs hold different measures: {', '.join(measures)} and "
                    f"{', '.join(p.measures)}"
                )
        regions = sorted(set().union(*(p.regions for p in panels)))
        industries = sorted(set().union(*(p.industries for p in panels)))
        r_index = pd.Index(regions)
        i_index = pd.Index(industries)
        data: dict[str, dict[int, sparse.csr_array]] = {m: {} for m in measures}
        flags = []
        for p in panels:
            r_pos = r_index.get_indexer(p.regions)
            i_pos = i_index.get_indexer(p.industries)
            for m in measures:
                for y in p.years:
                    c = p.matrix(m, y).tocoo()
                    data[m][y] = sparse.csr_array(
                        (c.data, (r_pos[c.coords[0]], i_pos[c.coords[1]])),
                        shape=(len(regions), len(industries)),
                    )
            f = p.flag_positions.copy()
            f["region"] = r_pos[f["region"].to_numpy()]
            f["industry"] = i_pos[f["industry"].to_numpy()]
            flags.append(f)
        return cls(
            years=sorted(seen),
            regions=regions,
            industries=industries,
            data=data,
            flags=pd.concat(flags, ignore_index=True),
            aggregates=sorted(set().union(*(p.aggregates for p in panels))),
        )

    # ------------------------------------------------------------------ facts
    @property
    def aggregates(self) -> tuple[str, ...]:
        """Regions that are totals of others (never summed with or ranked among regions)."""
        return self._aggregates

    @property
    def bounds(self) -> pd.DataFrame:
        """Estimated cells with bounds: ``year, region, industry, lower, upper`` (codes)."""
        f = self._flags
        if "lower" not in f:
            return pd.DataFrame(columns=["year", "region", "industry", "lower", "upper"])
        f = f[f["lower"].notna()]
        return pd.DataFrame(
            {
                "year": f["year"].to_numpy(),
                "region": self._regions.to_numpy()[f["region"].to_numpy()],
                "industry": self._industries.to_numpy()[f["industry"].to_numpy()],
                "lower": f["lower"].to_numpy(),
                "upper": f["upper"].to_numpy(),
            }
        )

    @property
    def years(self) -> tuple[int, ...]:
        return self._years

    @property
    def regions(self) -> pd.Index:
        return self._regions

    @property
    def industries(self) -> pd.Index:
        return self._industries

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(m for m in MEASURES if m in self._data)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n_years, n_regions, n_industries)``."""
        return (len(self._years), len(self._regions), len(self._industries))

    @cached_property
    def flags(self) -> pd.DataFrame:
        """Flagged cells as a long frame ``year, region, industry, flag`` (codes, not positions)."""
        f = self._flags[self._flags["flag"] != ""]
        return pd.DataFrame(
            {
                "year": f["year"].to_numpy(),
                "region": self._regions.to_numpy()[f["region"].to_numpy()],
                "industry": self._industries.to_numpy()[f["industry"].to_numpy()],
                "flag": f["flag"].to_numpy(),
            }
        )

    @property
    def flag_positions(self) -> pd.DataFrame:
        """Flagged cells as ``year`` and integer positions ``region``, ``industry`` into
        :attr:`regions` / :attr:`industries`, with their ``flag`` (read-only view)."""
        return self._flags

    def has(self, measure: str) -> bool:
        return measure in self._data

    def matrix(self, measure: str, year: int) -> sparse.csr_array:
        """The read-only sparse regions × industries matrix of one measure and year."""
        self._check_measure(measure)
        return self._data[measure][self._check_year(year)]

    def dense(self, measure: str, year: int) -> np.ndarray:
        """The regions × industries matrix of one measure and year as a dense float64 array."""
        return self.matrix(measure, year).toarray()

    def _check_measure(self, measure: str) -> None:
        if measure not in self._data:
            raise KeyError(f"the panel has no {measure!r} (it has {', '.join(self.measures)})")

    def require_years(self, *years: int | None) -> None:
        """Raise ``ValueError`` naming the panel's years if any given year is not one of them."""
        for y in years:
            if y is not None and int(y) not in self._years:
                raise ValueError(f"year {y} is not in the panel (years: {_span(self._years)})")

    def _check_year(self, year: int) -> int:
        if int(year) not in self._years:
            raise KeyError(f"year {year} is not in the panel (years: {_span(self._years)})")
        return int(year)

    def __repr__(self) -> str:
        y, r, i = self.shape
        nnz = sum(m.nnz for m in self._data["employment"].values())
        return (
            f"<Panel {y} years ({_span(self._years)}) × {r} regions × {i} industries, "
            f"{nnz:,} non-zero employment cells, measures: {', '.join(self.measures)}, "
            f"{len(self._flags):,} flagged cells>"
        )

    def to_frame(self) -> pd.DataFrame:
        """The long table: one row per non-zero or flagged cell, sorted by the keys."""
        parts = []
        for y in self._years:
            cells = None
            for m in self._data.values():
                c = m[y].tocoo()
                pos = c.coords[0].astype(np.int64) * len(self._industries) + c.coords[1]
                cells = pos if cells is None else np.union1d(cells, pos)
            fl = self._flags[self._flags["year"] == y]
            if len(fl):
                pos = fl["region"].to_numpy() * len(self._industries) + fl["industry"].to_numpy()
                cells = np.union1d(cells, pos)
            assert cells is not None
            cells = np.unique(cells)
            r, i = np.divmod(cells, len(self._industries))
            part = {"year": np.full(len(cells), y, dtype=np.int64), "r": r, "i": i}
            for name, m in self._data.items():
                part[name] = np.asarray(m[y][r, i]).ravel()
            parts.append(pd.DataFrame(part))
        out = pd.concat(parts, ignore_index=True)
        out = out.merge(
            self._flags.rename(columns={"region": "r", "industry": "i"}),
            on=["year", "r", "i"],
            how="left",
        )
        out.insert(1, "region", self._regions.to_numpy()[out.pop("r").to_numpy()])
        out.insert(2, "industry", self._industries.to_numpy()[out.pop("i").to_numpy()])
        out["flag"] = out["flag"].fillna("")
        if not (self._flags["flag"] != "").any():
            out = out.drop(columns="flag")
        if "lower" in out:
            out = out.rename(columns={"lower": "employment_lower", "upper": "employment_upper"})
        return out.sort_values(list(KEYS), ignore_index=True)

    # ------------------------------------------------------------------ transformations
    def select(
        self,
        *,
        years: Iterable[int] | None = None,
        regions: Iterable[str] | None = None,
    ) -> Panel:
        """A panel restricted to some years and/or regions."""
        keep_years = (
            self._years if years is None else tuple(sorted(self._check_year(y) for y in set(years)))
        )
        if regions is None:
            rpos = np.arange(len(self._regions))
        else:
            wanted = list(dict.fromkeys(regions))
            rpos = self._regions.get_indexer(wanted)
            if (rpos < 0).any():
                unknown = [w for w, p in zip(wanted, rpos, strict=True) if p < 0]
                raise KeyError(f"regions not in the panel: {', '.join(unknown[:10])}")
            rpos = np.sort(rpos)
        data = {m: {y: by_year[y][rpos] for y in keep_years} for m, by_year in self._data.items()}
        remap = np.full(len(self._regions), -1)
        remap[rpos] = np.arange(len(rpos))
        fl = self._flags[self._flags["year"].isin(keep_years)].copy()
        fl["region"] = remap[fl["region"].to_numpy()]
        fl = fl[fl["region"] >= 0]
        regions_kept = self._regions[rpos]
        return Panel(
            years=keep_years,
            regions=regions_kept,
            industries=self._industries,
            data=data,
            flags=fl,
            region_hierarchy=self.region_hierarchy,
            industry_hierarchy=self.industry_hierarchy,
            aggregates=[a for a in self._aggregates if a in set(regions_kept)],
        )

    def aggregate(
        self,
        *,
        regions: Mapping[str, str] | pd.Series | None = None,
        industries: Mapping[str, str] | pd.Series | None = None,
    ) -> Panel:
        """Sum cells into groups of regions and/or industries.

        ``regions`` and ``industries`` map each code to its group; every code of the panel must
        be mapped (codes left out would be lost, so that is an error). Flags of the summed cells
        are kept as their sorted union, joined by commas (``"c,e"``).
        """
        r_map, r_labels = self._grouping(self._regions, regions, "region")
        i_map, i_labels = self._grouping(self._industries, industries, "industry")
        AR = sparse.csr_array(
            (np.ones(len(r_map)), (r_map, np.arange(len(r_map)))), shape=(len(r_labels), len(r_map))
        )
        AI = sparse.csr_array(
            (np.ones(len(i_map)), (np.arange(len(i_map)), i_map)), shape=(len(i_map), len(i_labels))
        )
        data = {
            m: {y: sparse.csr_array(AR @ by_year[y] @ AI) for y in self._years}
            for m, by_year in self._data.items()
        }
        fl = self._flags.copy()
        if len(fl):
            if "lower" in fl:  # bounds become gaps below/above the value, which add up
                value = np.concatenate(
                    [
                        np.asarray(self._data["employment"][y][g["region"], g["industry"]]).ravel()
                        for y, g in fl.groupby("year", sort=False)
                    ]
                )
                fl = pd.concat([g for _, g in fl.groupby("year", sort=False)], ignore_index=True)
                fl["below"] = value - fl["lower"]
                fl["above"] = fl["upper"] - value
            fl["region"] = r_map[fl["region"].to_numpy()]
            fl["industry"] = i_map[fl["industry"].to_numpy()]
            keys = ["year", "region", "industry"]
            flags = (
                fl.assign(flag=fl["flag"].str.split(","))
                .explode("flag")
                .groupby(keys, as_index=False)["flag"]
                .agg(lambda s: ",".join(sorted(set(s) - {""})))
            )
            if "below" in fl:
                gaps = fl.groupby(keys, as_index=False)[["below", "above"]].sum(min_count=1)
                flags = flags.merge(gaps, on=keys)
                value = np.concatenate(
                    [
                        np.asarray(data["employment"][y][g["region"], g["industry"]]).ravel()
                        for y, g in flags.groupby("year", sort=False)
                    ]
                )
                flags = pd.concat(
                    [g for _, g in flags.groupby("year", sort=False)], ignore_index=True
                )
                flags["lower"] = value - flags.pop("below")
                flags["upper"] = value + flags.pop("above")
            fl = flags
        groups = pd.Series(r_labels)[r_map]
        members = pd.Series(self._regions).groupby(groups.to_numpy())
        aggregates = [g for g, m in members if set(m) <= set(self._aggregates)]
        return Panel(
            years=self._years,
            regions=r_labels,
            industries=i_labels,
            data=data,
            flags=fl,
            aggregates=aggregates,
        )

    @staticmethod
    def _grouping(
        labels: pd.Index, mapping: Mapping[str, str] | pd.Series | None, what: str
    ) -> tuple[np.ndarray, list[str]]:
        if mapping is None:
            return np.arange(len(labels)), list(labels)
        series = pd.Series(mapping, dtype=object)
        target = series.reindex(labels)
        if target.isna().any():
            lost = list(labels[target.isna().to_numpy()][:10])
            raise KeyError(f"{what} codes without a group: {', '.join(map(str, lost))}")
        codes, uniques = pd.factorize(target.to_numpy(), sort=True)
        return codes.astype(np.int64), [str(u) for u in uniques]

    def rollup(
        self,
        *,
        region_level: int | None = None,
        industry_level: int | None = None,
        region_hierarchy: Hierarchy | None = None,
        industry_hierarchy: Hierarchy | None = None,
        keep: Iterable[str] = (),
    ) -> Panel:
        """Aggregate regions and/or industries to a level of their hierarchy.

        Uses the given hierarchies, else :attr:`region_hierarchy` / :attr:`industry_hierarchy`
        (see :class:`clusteratlas.observatory.hierarchy.Hierarchy`). Aggregate regions and
        the regions in ``keep`` (a reference region) stay as they are, except aggregates that
        the roll-up itself computes from the regions (a NUTS 1 row rolled up to NUTS 1): those
        are dropped, so nothing is counted twice.
        """
        regions = industries = None
        panel = self
        r_hier = region_hierarchy or self.region_hierarchy
        i_hier = industry_hierarchy or self.industry_hierarchy
        if region_level is not None:
            if r_hier is None:
                raise ValueError("this panel has no region hierarchy to roll up with")
            apart = set(self._aggregates) | {c for c in keep if c in self._regions}
            codes = [c for c in self._regions if c not in apart]
            regions = r_hier.ancestors(codes, region_level)
            computed = set(regions.values())
            redundant = apart & computed
            if redundant:
                panel = self.select(regions=[r for r in self._regions if r not in redundant])
            regions.update({a: a for a in apart - computed})
        if industry_level is not None:
            if i_hier is None:
                raise ValueError("this panel has no industry hierarchy to roll up with")
            industries = i_hier.ancestors(self._industries, industry_level)
        out = panel.aggregate(regions=regions, industries=industries)
        out.region_hierarchy = r_hier
        out.industry_hierarchy = i_hier
        return out


def plain(value: object) -> object:
    """A cell value as a plain Python value for messages (numpy scalars unwrapped, missing as
    an empty string)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return value


def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Positions into the sorted, stripped text labels of a column (-1 for missing values).

    Factorising first and normalising only the distinct values keeps this fast on tens of
    millions of rows with a few thousand distinct codes.
    """
    pos, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    text = [str(u).strip() for u in uniques]
    labels = sorted(set(text))
    index = {t: k for k, t in enumerate(labels)}
    remap = np.array([index[t] for t in text] + [-1], dtype=np.int64)
    return remap[pos], labels


def _numbers(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column as float64 (NaN where not a number) and the mask of empty cells."""
    if series.dtype.kind in "biuf":
        arr = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return arr, np.isnan(arr)
    arr = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    empty = np.zeros(len(arr), dtype=bool)
    nan_rows = np.flatnonzero(np.isnan(arr))
    if len(nan_rows):
        empty[nan_rows] = as_text(series.iloc[nan_rows]).eq("").to_numpy()
    return arr, empty


def as_text(series: pd.Series) -> pd.Series:
    """Values as stripped strings, missing values as ``""``."""
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def _span(years: Sequence[int]) -> str:
    if not years:
        return "none"
    if list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    return ", ".join(map(str, years))
