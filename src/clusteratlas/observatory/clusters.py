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
    """Dense regions × clusters results of one year (reference region excluded)."""

    year: int
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
    reference_cluster: np.ndarray
    reference_total: float
    #: employment of each region over all industries (mapped or not)
    region_total: np.ndarray = field(repr=False)

    @property
    def stars(self) -> np.ndarray:
        return (self.size_star.astype(np.int8) + self.specialisation_star
                + self.focus_star).astype(np.int8)


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
    rows = np.arange(len(panel.regions))
    if reference_region is not None:
        if reference_region not in panel.regions:
            raise ValueError(
                f"reference region {reference_region!r} is not a region of the panel"
            )
        ref = int(panel.regions.get_loc(reference_region))
        rows = rows[rows != ref]
        if len(rows) == 0:
            raise ValueError("the panel has no region besides the reference region")
    if lq_base not in ("total", "type"):
        raise ValueError(f"lq_base must be 'total' or 'type', not {lq_base!r}")
    types = defs.clusters["type"].to_numpy()
    type_groups = None
    if lq_base == "type":
        untyped = defs.clusters.index[types == ""]
        if len(untyped):
            raise ValueError(
                "lq_base='type' needs a type (traded or local) for every cluster; "
                f"{len(untyped)} have none, e.g. {', '.join(map(str, untyped[:5]))}"
            )
        type_groups = pd.factorize(types)[0]
    flag_clusters = (types == "traded") if defs.has_types else np.ones(len(types), bool)
    return _Setup(panel, defs, A, rows, ref, lq_base, type_groups, flag_clusters, stars, strong)


def _by_cluster(s: _Setup, measure: str, year: int) -> np.ndarray:
    X = s.panel.matrix(measure, year)
    return (X if s.A is None else X @ s.A).toarray()


def _compute_year(s: _Setup, year: int) -> ClusterYear:
    E_all = _by_cluster(s, "employment", year)
    total_all = np.asarray(s.panel.matrix("employment", year).sum(axis=1)).ravel()
    est = _by_cluster(s, "establishments", year) if s.panel.has("establishments") else None
    pay = _by_cluster(s, "payroll", year) if s.panel.has("payroll") else None
    if s.ref is None:
        ref_c = E_all.sum(axis=0)
        ref_total_all = float(total_all.sum())
    else:
        ref_c = E_all[s.ref].copy()
        ref_total_all = float(total_all[s.ref])
    if s.ref is not None:
        E = E_all[s.rows]
        total = total_all[s.rows]
        est = None if est is None else est[s.rows]
        pay = None if pay is None else pay[s.rows]
    else:
        E, total = E_all, total_all
    with np.errstate(divide="ignore", invalid="ignore"):
        if s.type_groups is None:
            region_share = E / total[:, None]
            ref_share = ref_c / ref_total_all
        else:
            G = np.zeros((len(s.type_groups), s.type_groups.max() + 1))
            G[np.arange(len(s.type_groups)), s.type_groups] = 1.0
            region_type_total = (E @ G)[:, s.type_groups]
            region_share = E / region_type_total
            ref_share = ref_c / (ref_c @ G)[s.type_groups]
        cluster_share = E / ref_c
        lq = region_share / ref_share
    present = E > 0
    ok = present & np.isfinite(lq) & np.isfinite(cluster_share)
    st, sr = s.stars, s.strong
    # cluster_share = E / ref_c and lq = region_share / ref_share divide each column by one
    # positive number, so their percentiles come from the sorted E and region_share exactly.
    by_e = SortedColumns(E, ok)
    by_rs = SortedColumns(region_share, ok)
    (p_e,) = by_e.percentiles([sr.size])
    (p_cs,) = by_e.percentiles([st.size_percentile], divisor=ref_c)
    (p_rs,) = by_rs.percentiles([st.focus_percentile])
    p_lq = by_rs.percentiles([sr.qualifying, sr.significant, sr.strong, sr.strong10],
                             divisor=ref_share)
    size_ok = ok & (E > p_e)
    if est is not None:
        (p_est,) = SortedColumns(est, ok).percentiles([sr.size])
        size_ok &= est > p_est
    size_ok &= s.flag_clusters[None, :]
    big = lq >= sr.min_lq
    return ClusterYear(
        year=year,
        employment=E,
        establishments=est,
        payroll=pay,
        region_share=region_share,
        cluster_share=cluster_share,
        lq=lq,
        size_star=ok & (cluster_share >= p_cs),
        specialisation_star=ok & (lq >= st.specialisation_lq),
        focus_star=ok & (region_share >= p_rs),
        qualifying=size_ok & (lq > p_lq[0]),
        significant=size_ok & (lq > p_lq[1]),
        strong=size_ok & (lq >= p_lq[2]) & big,
        strong10=size_ok & (lq >= p_lq[3]) & big,
        reference_cluster=ref_c,
        reference_total=ref_total_all,
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
    for y in report_years + ([base_year] if base_year is not None else []):
        if y not in panel.years:
            raise ValueError(f"year {y} is not in the panel (years: {', '.join(map(str, panel.years))})")
    base = _compute_year(s, int(base_year)) if base_year is not None else None
    cols: dict[str, list[np.ndarray]] = {}
    n_clusters = len(s.clusters)
    for done, y in enumerate(report_years, start=1):
        cy = base if base is not None and base.year == y else _compute_year(s, y)
        keep = cy.employment > 0
        if base is not None:
            keep |= base.employment > 0
        flat = np.flatnonzero(keep.ravel())
        r_pos, c_pos = np.divmod(flat, n_clusters)
        _append(cols, "year", np.full(len(flat), y, dtype=np.int32))
        _append(cols, "r", r_pos.astype(np.int32))
        _append(cols, "c", c_pos.astype(np.int32))
        E = cy.employment.ravel()[flat]
        _append(cols, "employment", E)
        for name in ("establishments", "payroll"):
            arr = getattr(cy, name)
            _append(cols, name, arr.ravel()[flat] if arr is not None else np.full(len(flat), np.nan))
        for name in ("region_share", "cluster_share", "lq", "size_star", "specialisation_star",
                     "focus_star", "qualifying", "significant", "strong", "strong10"):
            _append(cols, name, getattr(cy, name).ravel()[flat])
        if base is not None:
            E0 = base.employment.ravel()[flat]
            span = y - base.year
            later = span > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = np.where(E0 > 0, (E / E0) ** (1.0 / span) - 1.0, np.nan) if later \
                    else np.full(len(flat), np.nan)
                lq_change = cy.lq.ravel()[flat] - base.lq.ravel()[flat]
            _append(cols, "change", E - E0 if later else np.full(len(flat), np.nan))
            _append(cols, "growth_cagr", growth)
            _append(cols, "lq_change", lq_change if later else np.full(len(flat), np.nan))
        if progress is not None:
            progress(done, len(report_years))
    return _assemble(cols, s, base is not None)


def _append(cols: dict[str, list[np.ndarray]], name: str, arr: np.ndarray) -> None:
    cols.setdefault(name, []).append(arr)


def _take(cols: dict[str, list[np.ndarray]], name: str) -> np.ndarray:
    parts = cols.pop(name)
    return np.concatenate(parts) if parts else np.array([])


def _assemble(cols: dict[str, list[np.ndarray]], s: _Setup, dynamics: bool) -> pd.DataFrame:
    regions = s.regions
    clusters = s.clusters
    c_pos = _take(cols, "c")
    out: dict[str, object] = {"year": _take(cols, "year")}
    out["region"] = pd.Categorical.from_codes(_take(cols, "r"), categories=regions.astype(str))
    out["cluster"] = pd.Categorical.from_codes(c_pos, categories=clusters.index.astype(str))
    names = pd.Index(clusters["cluster_name"].unique())
    out["cluster_name"] = pd.Categorical.from_codes(
        names.get_indexer(clusters["cluster_name"].to_numpy())[c_pos], categories=names)
    types = pd.Index(clusters["type"].unique())
    out["type"] = pd.Categorical.from_codes(
        types.get_indexer(clusters["type"].to_numpy())[c_pos], categories=types)
    for name in ("employment", "establishments", "payroll"):
        out[name] = _take(cols, name)
    with np.errstate(divide="ignore", invalid="ignore"):
        wage = np.where(out["employment"] > 0, out["payroll"] / out["employment"], np.nan)  # type: ignore[operator]
    out["wage"] = wage
    for name in ("region_share", "cluster_share", "lq", "size_star", "specialisation_star",
                 "focus_star"):
        out[name] = _take(cols, name)
    out["stars"] = (out["size_star"].astype(np.int8) + out["specialisation_star"]  # type: ignore[union-attr]
                    + out["focus_star"]).astype(np.int8)
    no_flag = ~s.flag_clusters[c_pos]
    for name in ("qualifying", "significant", "strong", "strong10"):
        out[name] = pd.arrays.BooleanArray(_take(cols, name), no_flag.copy())
    if dynamics:
        for name in ("change", "growth_cagr", "lq_change"):
            out[name] = _take(cols, name)
        lq, lq_change = out["lq"], out["lq_change"]
        code = np.where(lq > 1, np.where(lq_change > 0, 0, 1), np.where(lq_change > 0, 2, 3))  # type: ignore[operator]
        code[np.isnan(lq_change) | np.isnan(lq)] = -1  # type: ignore[arg-type]
        out["quadrant"] = pd.Categorical.from_codes(code, categories=list(QUADRANTS))
    # copy=False: keep each column's array as it is (no consolidation into 2-D blocks)
    return pd.DataFrame(out, copy=False)
