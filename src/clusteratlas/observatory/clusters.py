"""Cluster indicators for each year, region and cluster: shares, location quotients, stars,
strong-cluster flags, wages and dynamics.

Everything is computed on dense regions × clusters arrays, one year at a time (a 3,200 × 1,000
float64 year is 25 MB), and the output table is assembled only from cells where the cluster is
present. See ``docs/indicators/`` for the definitions and their sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from clusteratlas.observatory.definitions import ClusterDefinitions
from clusteratlas.observatory.panel import Panel
from clusteratlas.observatory.quantiles import SortedColumns

__all__ = [
    "CLUSTER_COLUMNS",
    "DYNAMICS_COLUMNS",
    "QUADRANTS",
    "ClusterYear",
    "StarRules",
    "StrongRules",
    "cluster_table",
    "iter_cluster_years",
]

LqBase = Literal["total", "type"]
Progress = Callable[[int, int], None]

CLUSTER_COLUMNS = (
    "year", "region", "cluster", "cluster_name", "type", "employment", "establishments",
    "payroll", "wage", "region_share", "cluster_share", "lq", "size_star",
    "specialisation_star", "focus_star", "stars", "qualifying", "significant", "strong",
    "strong10",
)  # fmt: skip
DYNAMICS_COLUMNS = ("change", "growth_cagr", "lq_change", "quadrant")
QUADRANTS = ("Star", "Mature", "Emerging", "Transforming")


@dataclass(frozen=True)
class StarRules:
    """European Cluster Observatory star thresholds."""

    size_percentile: float = 90.0
    focus_percentile: float = 90.0
    specialisation_lq: float = 2.0


@dataclass(frozen=True)
class StrongRules:
    """US Cluster Mapping Project thresholds (percentiles over regions where present)."""

    qualifying: float = 25.0
    significant: float = 50.0
    strong: float = 75.0
    strong10: float = 90.0
    size: float = 25.0
    min_lq: float = 1.0


@dataclass
class ClusterYear:
    """Results of one year for a set of cells (region, cluster), reference region excluded.

    ``keys`` are the cells as flat positions ``region * n_clusters + cluster`` in ascending
    order (so by region, then cluster); every other array has one value per cell. Use
    :meth:`dense` for a regions × clusters array.
    """

    year: int
    n_regions: int
    n_clusters: int
    keys: np.ndarray
    region: np.ndarray  # region position of each cell
    cluster: np.ndarray  # cluster position of each cell
    employment: np.ndarray
    establishments: np.ndarray | None
    payroll: np.ndarray | None
    region_share: np.ndarray
    cluster_share: np.ndarray
    lq: np.ndarray
    size_star: np.ndarray
    specialisation_star: np.ndarray
    focus_star: np.ndarray
    qualifying: np.ndarray
    significant: np.ndarray
    strong: np.ndarray
    strong10: np.ndarray
    #: employment of the reference economy by cluster, and in total (the lq base)
    reference_cluster: np.ndarray = field(repr=False)
    reference_total: float = 0.0
    #: employment of each region over all industries (mapped or not)
    region_total: np.ndarray = field(repr=False, default_factory=lambda: np.array([]))

    @property
    def stars(self) -> np.ndarray:
        return (self.size_star.astype(np.int8) + self.specialisation_star + self.focus_star).astype(
            np.int8
        )

    def dense(self, name: str, fill: float = 0.0) -> np.ndarray:
        """A regions × clusters array of one field (``fill`` where there is no cell)."""
        values = self.stars if name == "stars" else getattr(self, name)
        out = np.full(
            self.n_regions * self.n_clusters, fill, dtype=np.result_type(values.dtype, type(fill))
        )
        out[self.keys] = values
        return out.reshape(self.n_regions, self.n_clusters)


@dataclass(frozen=True)
class _Setup:
    panel: Panel
    definitions: ClusterDefinitions
    A: sparse.csr_array | None
    rows: np.ndarray  # positions of ranked regions (reference excluded)
    ref: int | None
    lq_base: LqBase
    type_groups: np.ndarray | None  # cluster → group index (type mode)
    flag_clusters: np.ndarray  # clusters that get US flags (traded, or all without types)
    stars: StarRules
    strong: StrongRules

    @property
    def regions(self) -> pd.Index:
        return self.panel.regions[self.rows]

    @property
    def clusters(self) -> pd.DataFrame:
        return self.definitions.clusters


def _setup(
    panel: Panel,
    definitions: ClusterDefinitions | None,
    reference_region: str | None,
    lq_base: LqBase,
    stars: StarRules,
    strong: StrongRules,
) -> _Setup:
    defs = definitions if definitions is not None else ClusterDefinitions.identity(panel.industries)
    A = None
    if not (defs.is_identity and list(defs.clusters.index) == list(panel.industries)):
        A, _ = defs.matrix(panel.industries)
    ref = None
    # ranked regions: not the reference region, not aggregates such as EU27_2020
    ranked = ~panel.regions.isin(panel.aggregates)
    if reference_region is not None:
        if reference_region not in panel.regions:
            raise ValueError(f"reference region {reference_region!r} is not a region of the panel")
        ref = int(panel.regions.get_loc(reference_region))
        ranked[ref] = False
    rows = np.flatnonzero(ranked)
    if len(rows) == 0:
        raise ValueError("the panel has no region besides the reference and aggregate regions")
    if lq_base not in ("total", "type"):
        raise ValueError(f"lq_base must be 'total' or 'type', not {lq_base!r}")
    types = defs.clusters["type"].to_numpy()
    type_groups = None
    if lq_base == "type":
        untyped = defs.clusters.index[types == ""]
        if len(untyped):
            raise ValueError(
                "the type base (--lq-base type) needs a type (traded or local) for every cluster; "
                f"{len(untyped)} have none, e.g. {', '.join(map(str, untyped[:5]))}"
            )
        type_groups = pd.factorize(types)[0]
    flag_clusters = (types == "traded") if defs.has_types else np.ones(len(types), bool)
    return _Setup(panel, defs, A, rows, ref, lq_base, type_groups, flag_clusters, stars, strong)


def _by_cluster(s: _Setup, measure: str, year: int) -> sparse.csr_array:
    """Regions × clusters of one measure, all regions (canonical CSR: sorted, no zeros)."""
    X = s.panel.matrix(measure, year)
    if s.A is None:
        return X
    M = sparse.csr_array(X @ s.A)
    M.eliminate_zeros()
    M.sort_indices()
    return M


def _cell_keys(
    M: sparse.csr_array, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The stored cells of ``M`` in the ranked ``rows`` (renumbered 0…): flat keys
    ``row * n_cols + col``, values, rows and columns."""
    counts = np.diff(M.indptr)
    row_of = np.repeat(np.arange(M.shape[0], dtype=np.int64), counts)
    data, cols = M.data, M.indices
    if len(rows) < M.shape[0]:
        renumber = np.full(M.shape[0], -1, dtype=np.int64)
        renumber[rows] = np.arange(len(rows))
        row_of = renumber[row_of]
        keep = row_of >= 0
        row_of, data, cols = row_of[keep], data[keep], cols[keep]
    return row_of * M.shape[1] + cols, data, row_of, cols


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (len(a) == len(b) and bool(np.array_equal(a, b)))


def _lookup(own_keys: np.ndarray, own_values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Values at ``keys`` (0 where absent); both key arrays ascending."""
    if _same(own_keys, keys):
        return np.asarray(own_values, dtype=np.float64)
    pos = np.searchsorted(own_keys, keys)
    pos_ok = np.minimum(pos, max(len(own_keys) - 1, 0))
    found = (
        (pos < len(own_keys)) & (own_keys[pos_ok] == keys)
        if len(own_keys)
        else np.zeros(len(keys), bool)
    )
    return np.where(found, own_values[pos_ok] if len(own_keys) else 0.0, 0.0)


def _present_keys(s: _Setup, year: int) -> np.ndarray:
    """Cells where the cluster has employment in ``year`` (flat keys, ascending)."""
    keys, values, _, _ = _cell_keys(_by_cluster(s, "employment", year), s.rows)
    return keys[values > 0]


@dataclass(frozen=True)
class _Employment:
    """One year's employment by cluster and the totals every indicator divides by."""

    by_cluster: sparse.csr_array  # all regions × clusters
    region_total: np.ndarray  # ranked regions, over all industries (in a cluster or not)
    reference_cluster: np.ndarray  # reference economy by cluster
    reference_total: float  # reference economy over all industries

    def ranked(self, s: _Setup) -> np.ndarray:
        """Dense ranked regions × clusters employment."""
        E = self.by_cluster
        return (E if len(s.rows) == E.shape[0] else E[s.rows]).toarray()


def _employment(s: _Setup, year: int) -> _Employment:
    X = s.panel.matrix("employment", year)
    E_all = _by_cluster(s, "employment", year)
    total_all = np.asarray(X.sum(axis=1)).ravel()
    total = total_all[s.rows]
    if s.ref is None:
        ranked = E_all if len(s.rows) == E_all.shape[0] else E_all[s.rows]
        ref_c = np.asarray(ranked.sum(axis=0)).ravel()
        ref_total = float(total.sum())
    else:
        ref_c = E_all[[s.ref]].toarray().ravel()
        ref_total = float(total_all[s.ref])
    return _Employment(E_all, total, ref_c, ref_total)


def _compute_year(s: _Setup, year: int, keys: np.ndarray | None = None) -> ClusterYear:
    """All cluster indicators of one year, for ``keys`` (default: the cells with employment)."""
    n_r, n_c = len(s.rows), len(s.clusters)
    emp = _employment(s, year)
    E_all, total = emp.by_cluster, emp.region_total
    ref_c, ref_total = emp.reference_cluster, emp.reference_total
    own_keys, own_e, own_r, own_c = _cell_keys(E_all, s.rows)
    if keys is None:
        keys = own_keys[own_e > 0]
    if _same(own_keys, keys):
        e, r, c = own_e, own_r, own_c
    else:
        e = _lookup(own_keys, own_e, keys)
        r, c = np.divmod(keys, n_c)

    def measure(name: str) -> np.ndarray | None:
        if not s.panel.has(name):
            return None
        m_keys, m_values, _, _ = _cell_keys(_by_cluster(s, name, year), s.rows)
        return _lookup(m_keys, m_values, keys)

    est, pay = measure("establishments"), measure("payroll")
    with np.errstate(divide="ignore", invalid="ignore"):
        if s.type_groups is None:
            region_share = e / total[r]
            ref_share = ref_c / ref_total
        else:
            n_groups = int(s.type_groups.max()) + 1
            own_group = (own_keys // n_c) * n_groups + s.type_groups[own_keys % n_c]
            region_type = np.bincount(own_group, weights=own_e, minlength=n_r * n_groups)
            region_share = e / region_type[r * n_groups + s.type_groups[c]]
            ref_share = (
                ref_c / np.bincount(s.type_groups, weights=ref_c, minlength=n_groups)[s.type_groups]
            )
        cluster_share = e / ref_c[c]
        lq = region_share / ref_share[c]
    ok = (e > 0) & np.isfinite(lq) & np.isfinite(cluster_share)
    every = bool(ok.all())
    st, sr = s.stars, s.strong

    # cluster_share = E / ref_c and lq = region_share / ref_share divide each cluster's values
    # by one positive number, so their percentiles come from the sorted E and region_share
    # exactly (see quantiles.SortedColumns).
    def select(a: np.ndarray) -> np.ndarray:
        return a if every else a[ok]

    slots = select(c).astype(np.int64) * n_r + select(r)
    count = np.bincount(select(c), minlength=n_c)
    by_e = SortedColumns.from_cells(select(e), slots, count, n_r)
    by_rs = SortedColumns.from_cells(select(region_share), slots, count, n_r)
    (p_e,) = by_e.percentiles([sr.size])
    (p_cs,) = by_e.percentiles([st.size_percentile], divisor=ref_c)
    (p_rs,) = by_rs.percentiles([st.focus_percentile])
    p_lq = by_rs.percentiles(
        [sr.qualifying, sr.significant, sr.strong, sr.strong10], divisor=ref_share
    )
    with np.errstate(invalid="ignore"):
        size_ok = (e > p_e[c]) & s.flag_clusters[c]
        if not every:
            size_ok &= ok
        if est is not None:
            (p_est,) = SortedColumns.from_cells(select(est), slots, count, n_r).percentiles(
                [sr.size]
            )
            size_ok &= est > p_est[c]
        big = lq >= sr.min_lq
        return ClusterYear(
            year=year,
            n_regions=n_r,
            n_clusters=n_c,
            keys=keys,
            region=r,
            cluster=c,
            employment=e,
            establishments=est,
            payroll=pay,
            region_share=region_share,
            cluster_share=cluster_share,
            lq=lq,
            size_star=(cluster_share >= p_cs[c]) if every else ok & (cluster_share >= p_cs[c]),
            specialisation_star=(lq >= st.specialisation_lq)
            if every
            else ok & (lq >= st.specialisation_lq),
            focus_star=(region_share >= p_rs[c]) if every else ok & (region_share >= p_rs[c]),
            qualifying=size_ok & (lq > p_lq[0][c]),
            significant=size_ok & (lq > p_lq[1][c]),
            strong=size_ok & (lq >= p_lq[2][c]) & big,
            strong10=size_ok & (lq >= p_lq[3][c]) & big,
            reference_cluster=ref_c,
            reference_total=ref_total,
            region_total=total,
        )


def iter_cluster_years(
    panel: Panel,
    definitions: ClusterDefinitions | None = None,
    *,
    years: Sequence[int] | None = None,
    reference_region: str | None = None,
    lq_base: LqBase = "total",
    stars: StarRules = StarRules(),  # noqa: B008 - frozen dataclass
    strong: StrongRules = StrongRules(),  # noqa: B008 - frozen dataclass
) -> Iterator[ClusterYear]:
    """Dense cluster indicators year by year (for building tables and indices)."""
    s = _setup(panel, definitions, reference_region, lq_base, stars, strong)
    for y in years if years is not None else panel.years:
        yield _compute_year(s, int(y))


def cluster_table(
    panel: Panel,
    definitions: ClusterDefinitions | None = None,
    *,
    years: Sequence[int] | None = None,
    base_year: int | None = None,
    reference_region: str | None = None,
    lq_base: LqBase = "total",
    stars: StarRules = StarRules(),  # noqa: B008 - frozen dataclass
    strong: StrongRules = StrongRules(),  # noqa: B008 - frozen dataclass
    progress: Progress | None = None,
) -> pd.DataFrame:
    """The clusters table: one row per year, region and cluster where the cluster is present.

    Parameters
    ----------
    panel
        Employment (and optionally establishments, payroll) by year, region, industry.
    definitions
        Industries → clusters. Without them each industry is its own cluster.
    years
        Years to report (default: all years of the panel).
    base_year
        Adds ``change, growth_cagr, lq_change, quadrant`` relative to this year (for later
        years; empty for the base year and earlier).
    reference_region
        A region of the panel (``EU27_2020``, ``US``) whose employment is the reference
        economy; it is left out of the ranked regions and of the result. By default the
        reference economy is the sum over all regions.
    lq_base
        ``"total"``: shares of the region's (and reference's) total employment, over all
        industries; ``"type"``: shares of employment in clusters of the same type (traded or
        local), as the US Cluster Mapping Project does.
    stars, strong
        Thresholds of the star ratings and of the strong-cluster flags.
    progress
        Called with ``(years done, years in all)`` after each year.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CLUSTER_COLUMNS` (+ :data:`DYNAMICS_COLUMNS` with ``base_year``), sorted by
        year, region, cluster. A row is present where the cluster has employment in that year
        (or, with a base year, in the base year). US flags are ``<NA>`` for local clusters.
    """
    s = _setup(panel, definitions, reference_region, lq_base, stars, strong)
    report_years = [int(y) for y in (years if years is not None else panel.years)]
    panel.require_years(*report_years, base_year)
    # First the cells of each year, so that every output column is allocated once.
    keys_by_year = {y: _present_keys(s, y) for y in report_years}
    base = None
    if base_year is not None:
        base_keys = _present_keys(s, base_year)
        keys_by_year = {y: np.union1d(k, base_keys) for y, k in keys_by_year.items()}
        every = base_keys
        for k in keys_by_year.values():
            every = np.union1d(every, k)
        base = _compute_year(s, base_year, every)  # base values for every reported cell
    n = sum(len(k) for k in keys_by_year.values())
    out = _Columns(n, base is not None, len(s.rows), len(s.clusters))
    flags = _cluster_flags(s)
    pos = 0
    for done, y in enumerate(report_years, start=1):
        keys = keys_by_year.pop(y)
        if flags is not None:
            out.set_flags(pos, keys, flags[flags["year"] == y])
        cy = _compute_year(s, y, keys)
        sl = slice(pos, pos + len(keys))
        pos += len(keys)
        out.fill(sl, cy)
        if base is not None:
            E0 = _lookup(base.keys, base.employment, keys)
            lq0 = _lookup(base.keys, base.lq, keys)
            span = y - base.year
            if span > 0:
                with np.errstate(divide="ignore", invalid="ignore"):
                    out.columns["growth_cagr"][sl] = np.where(
                        E0 > 0, (cy.employment / E0) ** (1.0 / span) - 1.0, np.nan
                    )
                    out.columns["change"][sl] = cy.employment - E0
                    out.columns["lq_change"][sl] = cy.lq - lq0
        if progress is not None:
            progress(done, len(report_years))
    return out.frame(s)


def _cluster_flags(s: _Setup) -> pd.DataFrame | None:
    """Flags of the panel's cells carried to (year, region, cluster) cells: the sorted union of
    the flags of the industries that make up each cluster (``None`` if nothing is flagged)."""
    f = s.panel.flag_positions
    if not len(f):
        return None
    n_c = len(s.clusters)
    if s.A is None:
        cluster_of = np.arange(len(s.panel.industries))
    else:
        A = s.A.tocsr()
        cluster_of = np.full(A.shape[0], -1)
        has = np.diff(A.indptr) > 0
        cluster_of[has] = A.indices[A.indptr[:-1][has]]
    row_of = np.full(len(s.panel.regions), -1)
    row_of[s.rows] = np.arange(len(s.rows))
    r = row_of[f["region"].to_numpy()]
    c = cluster_of[f["industry"].to_numpy()]
    keep = (r >= 0) & (c >= 0)
    cells = pd.DataFrame(
        {
            "year": f["year"].to_numpy()[keep],
            "key": r[keep] * n_c + c[keep],
            "flag": f["flag"].to_numpy()[keep],
        }
    )
    cells = cells.assign(flag=cells["flag"].str.split(",")).explode("flag")
    return cells.groupby(["year", "key"], as_index=False)["flag"].agg(
        lambda v: ",".join(sorted(set(v)))
    )


class _Columns:
    """The clusters table's columns, allocated once and filled year by year."""

    FLOATS = ("employment", "establishments", "payroll", "region_share", "cluster_share", "lq")
    BOOLS = (
        "size_star",
        "specialisation_star",
        "focus_star",
        "qualifying",
        "significant",
        "strong",
        "strong10",
    )

    def __init__(self, n: int, dynamics: bool, n_regions: int, n_clusters: int) -> None:
        self.dynamics = dynamics
        # pandas stores categorical codes in the smallest integer type that fits
        r_type = np.int16 if n_regions < 2**15 else np.int32
        c_type = np.int16 if n_clusters < 2**15 else np.int32
        self.columns: dict[str, np.ndarray] = {
            "year": np.empty(n, np.int32),
            "r": np.empty(n, r_type),
            "c": np.empty(n, c_type),
            "wage": np.empty(n, np.float64),
            "stars": np.empty(n, np.int8),
        }
        for name in self.FLOATS:
            self.columns[name] = np.empty(n, np.float64)
        for name in self.BOOLS:
            self.columns[name] = np.empty(n, bool)
        if dynamics:
            for name in ("change", "growth_cagr", "lq_change"):
                self.columns[name] = np.full(n, np.nan)

    def set_flags(self, start: int, keys: np.ndarray, flags: pd.DataFrame) -> None:
        """Record the flags of this year's cells (``keys`` start at row ``start``)."""
        if "flag" not in self.columns:
            self.columns["flag"] = np.full(len(self.columns["year"]), -1, dtype=np.int32)
            self.flag_labels: list[str] = []
        fkeys = flags["key"].to_numpy()
        at = np.searchsorted(keys, fkeys)
        found = (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == fkeys)
        labels = flags["flag"].to_numpy()[found]
        index = {label: k for k, label in enumerate(self.flag_labels)}
        for label in labels:
            if label not in index:
                index[label] = len(self.flag_labels)
                self.flag_labels.append(label)
        codes = np.array([index[label] for label in labels], dtype=np.int32)
        self.columns["flag"][start + at[found]] = codes

    def fill(self, sl: slice, cy: ClusterYear) -> None:
        cols = self.columns
        cols["year"][sl] = cy.year
        cols["r"][sl] = cy.region
        cols["c"][sl] = cy.cluster
        for name in self.FLOATS + self.BOOLS:
            values = getattr(cy, name)
            cols[name][sl] = values if values is not None else np.nan
        if cy.payroll is None:
            cols["wage"][sl] = np.nan
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                np.divide(cy.payroll, cy.employment, out=cols["wage"][sl])
            cols["wage"][sl][cy.employment == 0] = np.nan
        cols["stars"][sl] = cy.stars

    def frame(self, s: _Setup) -> pd.DataFrame:
        cols = self.columns
        clusters = s.clusters
        c_pos = cols.pop("c")
        out: dict[str, object] = {"year": cols.pop("year")}
        out["region"] = pd.Categorical.from_codes(cols.pop("r"), categories=s.regions.astype(str))
        out["cluster"] = pd.Categorical.from_codes(c_pos, categories=clusters.index.astype(str))
        for name in ("cluster_name", "type"):
            labels = pd.Index(clusters[name].unique())
            out[name] = pd.Categorical.from_codes(
                labels.get_indexer(clusters[name].to_numpy())[c_pos], categories=labels
            )
        for name in (
            "employment",
            "establishments",
            "payroll",
            "wage",
            "region_share",
            "cluster_share",
            "lq",
            "size_star",
            "specialisation_star",
            "focus_star",
            "stars",
        ):
            out[name] = cols.pop(name)
        no_flag = ~s.flag_clusters[c_pos]
        for name in ("qualifying", "significant", "strong", "strong10"):
            out[name] = pd.arrays.BooleanArray(cols.pop(name), no_flag.copy())
        if self.dynamics:
            for name in ("change", "growth_cagr", "lq_change"):
                out[name] = cols.pop(name)
            lq, lq_change = out["lq"], out["lq_change"]
            code = np.where(
                lq > 1,
                np.where(lq_change > 0, 0, 1),  # type: ignore[operator]
                np.where(lq_change > 0, 2, 3),
            )  # type: ignore[operator]
            code[np.isnan(lq_change) | np.isnan(lq)] = -1  # type: ignore[arg-type]
            out["quadrant"] = pd.Categorical.from_codes(code, categories=list(QUADRANTS))
        if "flag" in cols:
            out["flag"] = pd.Categorical.from_codes(cols.pop("flag"), categories=self.flag_labels)
        # copy=False: keep each column's array as it is (no consolidation into 2-D blocks)
        return pd.DataFrame(out, copy=False)
