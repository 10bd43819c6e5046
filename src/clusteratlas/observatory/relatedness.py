"""Smart-specialisation applications of relatedness and complexity: where a region could
diversify next (:func:`opportunities`), which regions look like it (:func:`peers`,
:func:`similarity_matrix`), which similar regions are clearly ahead of it (:func:`mentors`),
and how industries entered and left regions between two years (:func:`entry_exit`).

Every function takes plain arrays and labels (regions × industries in the order of
``regions`` and ``industries``), so it can be fed from any computation of RCA, relatedness
density, proximity and complexity. See ``docs/indicators/relatedness.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

__all__ = [
    "ENTRY_EXIT_COLUMNS",
    "MENTOR_COLUMNS",
    "OPPORTUNITY_COLUMNS",
    "OPPORTUNITY_QUADRANTS",
    "PEER_COLUMNS",
    "QUADRANT_READINGS",
    "REGRESSION_COLUMNS",
    "EntryExitResult",
    "entry_exit",
    "mentors",
    "opportunities",
    "peers",
    "similarity_matrix",
]

OPPORTUNITY_COLUMNS = ("industry", "density", "pci", "quadrant", "rank", "related")
PEER_COLUMNS = ("region", "similarity_rca", "similarity_shares", "rank")
MENTOR_COLUMNS = (
    "region", "mentor", "similarity", "indicator_region", "indicator_mentor", "gap", "rank",
)  # fmt: skip
ENTRY_EXIT_COLUMNS = ("region", "industry", "event", "rca_start", "rca_end", "density_start")
REGRESSION_COLUMNS = ("term", "coefficient", "std_error", "t", "p_value", "n", "r_squared")

#: The four quadrants of Balland, Boschma, Crespo & Rigby (2019), in ranking order.
OPPORTUNITY_QUADRANTS = (
    "high relatedness, high complexity",
    "high relatedness, low complexity",
    "low relatedness, high complexity",
    "low relatedness, low complexity",
)
#: How the paper reads each quadrant: relatedness lowers the risk (cost) of diversifying,
#: complexity raises its benefit (reward).
QUADRANT_READINGS = {
    "high relatedness, high complexity": "low risk, high benefit: the ideal case",
    "high relatedness, low complexity": "low risk, low benefit",
    "low relatedness, high complexity": "high risk, high benefit",
    "low relatedness, low complexity": "high risk, low benefit: the least attractive case",
}

FixedEffects = Literal["none", "region", "industry", "both"]
View = Literal["mentee", "mentor"]


# ---------------------------------------------------------------------------------------------
# validation helpers


def _labels(labels: pd.Index | object, what: str) -> pd.Index:
    index = pd.Index(labels)
    if index.has_duplicates:
        dup = index[index.duplicated()].unique()[:5]
        raise ValueError(f"{what} labels must be unique; repeated: {', '.join(map(str, dup))}")
    return index


def _array(a: object, shape: tuple[int, ...], name: str, dtype: type = np.float64) -> np.ndarray:
    arr = np.asarray(a, dtype=dtype)
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
    return arr


def _position(region: object, regions: pd.Index) -> int:
    if region not in regions:
        sample = ", ".join(map(str, regions[:5])) + (", …" if len(regions) > 5 else "")
        raise ValueError(
            f"unknown region {region!r}: not among the {len(regions)} regions ({sample})"
        )
    return int(regions.get_loc(region))


# ---------------------------------------------------------------------------------------------
# opportunities


def opportunities(
    region: object,
    *,
    regions: pd.Index,
    industries: pd.Index,
    mcp: np.ndarray,
    density: np.ndarray,
    pci: np.ndarray,
    proximity: np.ndarray,
    top: int | None = None,
    related: int = 3,
    density_threshold: float | None = None,
    pci_threshold: float | None = None,
) -> pd.DataFrame:
    r"""Industries a region is not yet specialised in, ranked as diversification options.

    Each candidate industry (``mcp`` false for the region) is placed in one of the four
    quadrants of the smart-specialisation framework of Balland et al. (2019): high or low
    relatedness density (how much of the know-how the industry needs is already in the
    region) × high or low complexity (how valuable and hard to copy the industry is).

    Parameters
    ----------
    region
        A label of ``regions``.
    regions, industries
        Row and column labels of the matrices.
    mcp
        Regions × industries, true where the region is specialised (RCA ≥ 1).
    density
        Regions × industries relatedness density in [0, 1].
    pci
        Complexity of each industry.
    proximity
        Industries × industries proximity φ (symmetric, unit diagonal).
    top
        Keep only the first ``top`` rows (default: all candidates).
    related
        How many of the region's specialisations to list in ``related``.
    density_threshold, pci_threshold
        Where "high" starts (≥). Default: the median density over the region's candidate
        industries, and the median complexity over all industries.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OPPORTUNITY_COLUMNS`, one row per candidate industry (industries with
        a NaN density or complexity, e.g. without employment in the year, are left out),
        in rank order:
        by quadrant (:data:`OPPORTUNITY_QUADRANTS` order), then density, then complexity
        (both descending), then industry label. ``quadrant`` is categorical; ``related``
        lists the region's specialisations with the highest proximity to the industry, as
        ``"C20 (0.62), C21 (0.55)"`` (those with φ > 0 only; empty if there is none).

    Raises
    ------
    ValueError
        If the region is unknown, has no specialisation, or the shapes do not match.

    Notes
    -----
    Relatedness density of region :math:`r` in industry :math:`j` (Hidalgo et al. 2007):

    .. math:: d_{rj} = \frac{\sum_k M_{rk}\,\varphi_{jk}}{\sum_k \varphi_{jk}}

    With thresholds :math:`\tau_d` (median of :math:`d_{rj}` over candidates :math:`j`) and
    :math:`\tau_c` (median of PCI over all industries), industry :math:`j` is "high
    relatedness" if :math:`d_{rj} \ge \tau_d` and "high complexity" if
    :math:`\mathrm{PCI}_j \ge \tau_c`. Balland et al. read relatedness as the (inverse)
    risk of a diversification and complexity as its benefit: high–high is the ideal case
    (low risk, high benefit), low–low the least attractive (high risk, low benefit); see
    :data:`QUADRANT_READINGS`. Options with high relatedness are ranked before those with
    low relatedness: relatedness density raises the probability that a region enters an
    industry, while complexity makes entry harder (the paper's "diversification dilemma":
    complex activities are attractive but difficult).

    The density threshold is relative to the region's own options so that every region gets
    both kinds; pass an absolute ``density_threshold`` to compare regions.

    Balland, P.-A., Boschma, R., Crespo, J. & Rigby, D. L. (2019). Smart specialization
    policy in the European Union: relatedness, knowledge complexity and regional
    diversification. *Regional Studies* 53(9), 1252–1268. doi:10.1080/00343404.2018.1437900

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> mcp = np.array([[True, False, False], [False, True, True]])
    >>> phi = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, 0.1], [0.2, 0.1, 1.0]])
    >>> density = (mcp @ phi) / phi.sum(axis=0)
    >>> opportunities(
    ...     "R1", regions=pd.Index(["R1", "R2"]), industries=pd.Index(["A", "B", "C"]),
    ...     mcp=mcp, density=density, pci=np.array([0.0, 1.0, -1.0]), proximity=phi,
    ... )[["industry", "quadrant", "related"]]
      industry                           quadrant   related
    0        B  high relatedness, high complexity  A (0.60)
    1        C    low relatedness, low complexity  A (0.20)
    """
    regions = _labels(regions, "region")
    industries = _labels(industries, "industry")
    n_r, n_i = len(regions), len(industries)
    mcp = _array(mcp, (n_r, n_i), "mcp", bool)
    density = _array(density, (n_r, n_i), "density")
    pci = _array(pci, (n_i,), "pci")
    proximity = _array(proximity, (n_i, n_i), "proximity")
    if related < 0:
        raise ValueError(f"related must be ≥ 0, not {related}")
    if top is not None and top < 0:
        raise ValueError(f"top must be ≥ 0, not {top}")
    r = _position(region, regions)
    own = np.flatnonzero(mcp[r])
    if len(own) == 0:
        raise ValueError(
            f"region {region!r} has no specialisation (no industry with RCA ≥ 1), so there is "
            "no relatedness to build on"
        )
    cand = np.flatnonzero(~mcp[r])
    if len(cand) == 0:
        return _empty(OPPORTUNITY_COLUMNS)
    # industries without employment in the year have no density or complexity: not options
    cand = cand[np.isfinite(density[r, cand]) & np.isfinite(pci[cand])]
    if len(cand) == 0:
        return _empty(OPPORTUNITY_COLUMNS)
    d, c = density[r, cand], pci[cand]
    tau_d = float(np.median(d)) if density_threshold is None else float(density_threshold)
    finite_pci = pci[np.isfinite(pci)]
    tau_c = float(np.median(finite_pci)) if pci_threshold is None else float(pci_threshold)
    high_d, high_c = d >= tau_d, c >= tau_c
    code = np.where(high_d, np.where(high_c, 0, 1), np.where(high_c, 2, 3)).astype(np.int8)
    labels = industries[cand].astype(str).to_numpy()
    # lexsort: last key is primary
    order = np.lexsort((labels, -c, -d, code))
    if top is not None:
        order = order[:top]
    rows = cand[order]
    # explanation: the region's specialisations closest to each candidate
    phi = proximity[np.ix_(rows, own)]
    own_labels = industries[own].astype(str).to_numpy()
    expl = []
    for k in range(len(rows)):
        keep = phi[k] > 0
        p, names = phi[k][keep], own_labels[keep]
        best = np.lexsort((names, -p))[:related]
        expl.append(", ".join(f"{names[b]} ({p[b]:.2f})" for b in best))
    return pd.DataFrame(
        {
            "industry": industries[rows],
            "density": d[order],
            "pci": c[order],
            "quadrant": pd.Categorical.from_codes(
                code[order], categories=list(OPPORTUNITY_QUADRANTS)
            ),
            "rank": np.arange(1, len(rows) + 1),
            "related": expl,
        }
    )


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=object) for name in columns})


# ---------------------------------------------------------------------------------------------
# similarity, peers, mentors


def similarity_matrix(profiles: np.ndarray) -> np.ndarray:
    r"""Cosine similarity between every pair of rows of ``profiles``.

    Parameters
    ----------
    profiles
        Regions × industries (RCA, employment shares, …). NaN counts as 0: an RCA of 0/0
        (a region or industry without employment) is no specialisation, as in EconGeo.

    Returns
    -------
    numpy.ndarray
        Regions × regions, float64, symmetric, in [−1, 1] (in [0, 1] for non-negative
        profiles), 1 on the diagonal. Rows and columns of all-zero (or all-NaN) profiles are
        NaN (the angle is undefined).

    Notes
    -----
    .. math:: s_{rs} = \frac{\sum_i x_{ri} x_{si}}{\lVert x_r \rVert\,\lVert x_s \rVert}

    Computed as one matrix product of the row-normalised profiles (the self-similarity of a
    non-zero row is set to exactly 1 and rounding is clipped to [−1, 1]).

    Examples
    --------
    >>> similarity_matrix(np.array([[1.0, 0.0], [1.0, 1.0]])).round(4)
    array([[1.    , 0.7071],
           [0.7071, 1.    ]])
    """
    X = _profiles(profiles, "profiles")
    if X.ndim != 2:
        raise ValueError(f"profiles must be 2-D (regions × industries), not {X.ndim}-D")
    # scale each row by its largest |value| first, so that the norm cannot overflow
    scale = np.abs(X).max(axis=1, initial=0.0)
    zero = scale == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        Y = X / np.where(zero, 1.0, scale)[:, None]
        norm = np.sqrt(np.einsum("ij,ij->i", Y, Y))
        U = Y / np.where(zero, 1.0, norm)[:, None]
    S = U @ U.T
    np.clip(S, -1.0, 1.0, out=S)
    np.fill_diagonal(S, 1.0)
    S[zero, :] = np.nan
    S[:, zero] = np.nan
    return S


def _profiles(a: object, name: str) -> np.ndarray:
    """Profiles as float64 with NaN as 0; infinite values are an error."""
    X = np.asarray(a, dtype=np.float64)
    if np.isinf(X).any():
        raise ValueError(f"{name} contain infinite values")
    return np.nan_to_num(X, nan=0.0) if np.isnan(X).any() else X


def _similarity_to(X: np.ndarray, r: int) -> np.ndarray:
    """Cosine similarity of row ``r`` to every row (one matrix-vector product)."""
    scale = np.abs(X).max(axis=1, initial=0.0)
    zero = scale == 0
    Y = X / np.where(zero, 1.0, scale)[:, None]
    norm = np.sqrt(np.einsum("ij,ij->i", Y, Y))
    U = Y / np.where(zero, 1.0, norm)[:, None]
    s = np.clip(U @ U[r], -1.0, 1.0)
    s[zero] = np.nan
    s[r] = 1.0
    return s


def peers(
    region: object,
    *,
    regions: pd.Index,
    rca: np.ndarray | None = None,
    shares: np.ndarray | None = None,
    top: int | None = 10,
) -> pd.DataFrame:
    r"""Regions whose industry profile is most like that of ``region``.

    Parameters
    ----------
    region
        A label of ``regions``.
    regions
        Row labels of ``rca`` and ``shares``.
    rca
        Regions × industries RCA (location quotients); NaN counts as 0.
    shares
        Regions × industries employment shares (each row sums to 1). At least one of
        ``rca`` and ``shares`` is required.
    top
        Number of peers to keep (``None``: all).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PEER_COLUMNS`, the region itself left out, ranked by
        ``similarity_rca`` (by ``similarity_shares`` without ``rca``), descending, then by
        region label. A similarity that is not given is NaN; regions with an all-zero
        profile have NaN similarity and come last, without a rank (``<NA>``).

    Raises
    ------
    ValueError
        If the region is unknown, neither profile is given, or the region's own profile is
        all zero.

    Notes
    -----
    Cosine similarity :math:`s_{rs}` of the two rows (see :func:`similarity_matrix`). RCA
    profiles compare what regions are specialised in whatever their size; share profiles
    weigh large industries more. Raw RCA is skewed (a rare industry can have RCA ≫ 1), so
    a few such industries can dominate; pass a transformed RCA (e.g. ``(RCA − 1)/(RCA + 1)``)
    for a more even weighting.

    Examples
    --------
    >>> peers("A", regions=pd.Index(["A", "B", "C"]),
    ...       rca=np.array([[2.0, 0.5], [1.8, 0.6], [0.2, 1.5]]))
      region  similarity_rca  similarity_shares  rank
    0      B        0.997054                NaN     1
    1      C        0.368626                NaN     2
    """
    regions = _labels(regions, "region")
    if rca is None and shares is None:
        raise ValueError("peers needs rca or shares (or both)")
    r = _position(region, regions)
    sims: dict[str, np.ndarray] = {}
    for name, profile in (("similarity_rca", rca), ("similarity_shares", shares)):
        if profile is None:
            sims[name] = np.full(len(regions), np.nan)
            continue
        X = _profiles(profile, name.removeprefix("similarity_"))
        if X.ndim != 2 or X.shape[0] != len(regions):
            raise ValueError(
                f"{name.removeprefix('similarity_')} has shape {X.shape}, expected "
                f"({len(regions)}, n_industries)"
            )
        if not X[r].any():
            raise ValueError(
                f"region {region!r} has an all-zero {name.removeprefix('similarity_')} profile"
            )
        sims[name] = _similarity_to(X, r)
    key = sims["similarity_rca"] if rca is not None else sims["similarity_shares"]
    others = np.delete(np.arange(len(regions)), r)
    k = key[others]
    defined = ~np.isnan(k)
    labels = regions[others].astype(str).to_numpy()
    order = np.lexsort((labels, -np.where(defined, k, 0.0), ~defined))
    if top is not None:
        order = order[:top]
    rows = others[order]
    rank = pd.array(np.arange(1, len(rows) + 1), dtype="Int64")
    rank[~defined[order]] = pd.NA
    return pd.DataFrame(
        {
            "region": regions[rows],
            "similarity_rca": sims["similarity_rca"][rows],
            "similarity_shares": sims["similarity_shares"][rows],
            "rank": rank,
        }
    )


def mentors(
    *,
    regions: pd.Index,
    profiles: np.ndarray,
    indicator: pd.Series,
    similarity_threshold: float = 0.5,
    min_gap: float = 0.5,
    top: int | None = 3,
    view: View = "mentee",
    region: object | None = None,
) -> pd.DataFrame:
    r"""Similar regions that are clearly stronger on an indicator: possible mentors.

    Parameters
    ----------
    regions
        Row labels of ``profiles``.
    profiles
        Regions × industries profiles compared by cosine similarity (usually RCA; NaN
        counts as 0).
    indicator
        One value per region, indexed by region label: ECI, R&D intensity, patents per
        head, … (higher is stronger). Regions missing from it, or with NaN, are left out.
    similarity_threshold
        Minimum cosine similarity for two regions to count as similar.
    min_gap
        Minimum lead of the mentor, in standard deviations of the indicator over all
        regions with a value.
    top
        Keep at most ``top`` mentors per region (``view="mentee"``) or mentees per mentor
        (``view="mentor"``); ``None`` keeps all.
    view
        ``"mentee"``: for each region, who could mentor it. ``"mentor"``: for each region,
        whom it could mentor (same pairs, grouped and ranked by mentor).
    region
        Only the rows of this region (as mentee, or as mentor with ``view="mentor"``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MENTOR_COLUMNS`, one row per (mentee, mentor) pair: ``region`` is the
        mentee, ``gap = indicator_mentor − indicator_region`` (in the indicator's units).
        Sorted by mentee (by mentor with ``view="mentor"``) in the order of ``regions``,
        then by ``rank``: similarity descending, then gap descending, then label.

    Raises
    ------
    ValueError
        Unknown ``region`` or ``view``, ``region`` with an all-zero profile or no indicator
        value, fewer than two indicator values, or a constant indicator.

    Notes
    -----
    Region :math:`m` is a mentor of region :math:`r` when

    .. math:: s_{rm} \ge \sigma_{\min} \quad\text{and}\quad
              y_m - y_r \ge g_{\min}\,\mathrm{sd}(y)

    where :math:`s_{rm}` is the cosine similarity of their profiles (see
    :func:`similarity_matrix`), :math:`y` the indicator and :math:`\mathrm{sd}(y)` its
    sample standard deviation (ddof = 1) over the regions with a value. Similarity makes
    the lesson transferable (the mentor's capabilities build on a structure like the
    mentee's); the gap makes it worth learning. Expressing the gap in standard deviations
    makes the rule independent of the indicator's unit; the default half a standard
    deviation is a "medium" difference in Cohen's (1988) convention. ECI is usually
    standardised (mean 0, sd 1), so then ``min_gap`` is in ECI units.

    The idea follows the EU's FP7 "Regions of Knowledge" programme, whose calls expected
    projects to bring more regions into the knowledge economy "especially through the
    mentoring of regions with a less developed research profile" (FP7-REGIONS-2010-1) by
    research-driven clusters of more advanced regions.

    Examples
    --------
    >>> out = mentors(
    ...     regions=pd.Index(["A", "B", "C"]),
    ...     profiles=np.array([[2.0, 0.5], [1.8, 0.6], [0.2, 1.5]]),
    ...     indicator=pd.Series({"A": -1.0, "B": 1.0, "C": 0.0}),
    ... )
    >>> out[["region", "mentor", "gap", "rank"]]
      region mentor  gap  rank
    0      A      B  2.0     1
    """
    regions = _labels(regions, "region")
    n = len(regions)
    X = _profiles(profiles, "profiles")
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"profiles has shape {X.shape}, expected ({n}, n_industries)")
    if view not in ("mentee", "mentor"):
        raise ValueError(f"view must be 'mentee' or 'mentor', not {view!r}")
    if top is not None and top < 0:
        raise ValueError(f"top must be ≥ 0, not {top}")
    name = indicator.name if indicator.name is not None else "indicator"
    y = indicator.reindex(regions).to_numpy(dtype=np.float64, na_value=np.nan)
    has = np.isfinite(y)
    if has.sum() < 2:
        raise ValueError(
            f"indicator {name!r} has a value for {int(has.sum())} of the {n} regions; "
            "mentors need at least two"
        )
    sd = float(np.std(y[has], ddof=1))
    if not sd > 0:
        raise ValueError(f"indicator {name!r} is constant, so no region is stronger than another")
    r_pos = None
    if region is not None:
        r_pos = _position(region, regions)
        if not X[r_pos].any():
            raise ValueError(
                f"region {region!r} has an all-zero profile (no specialisation), so no region "
                "is similar to it"
            )
        if not has[r_pos]:
            raise ValueError(f"region {region!r} has no value of indicator {name!r}")
    sim = similarity_matrix(X)
    with np.errstate(invalid="ignore"):
        gap = y[None, :] - y[:, None]  # gap[r, m] = y_m − y_r
        ok = (sim >= similarity_threshold) & (gap >= min_gap * sd)
    np.fill_diagonal(ok, False)
    ok &= has[:, None] & has[None, :]
    if r_pos is not None:
        keep = np.zeros(n, bool)
        keep[r_pos] = True
        ok &= keep[:, None] if view == "mentee" else keep[None, :]
    mentee, mentor = np.nonzero(ok)
    s, g = sim[mentee, mentor], gap[mentee, mentor]
    group, other = (mentee, mentor) if view == "mentee" else (mentor, mentee)
    # rank within group: similarity desc, gap desc, other label (position) asc
    order = np.lexsort((other, -g, -s, group))
    mentee, mentor, s, g = mentee[order], mentor[order], s[order], g[order]
    group = group[order]
    start = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    rank = np.arange(len(group)) - np.repeat(start, np.diff(np.r_[start, len(group)]))
    rank += 1
    if top is not None:
        sel = rank <= top
        mentee, mentor, s, g, rank = mentee[sel], mentor[sel], s[sel], g[sel], rank[sel]
    return pd.DataFrame(
        {
            "region": regions[mentee],
            "mentor": regions[mentor],
            "similarity": s,
            "indicator_region": y[mentee],
            "indicator_mentor": y[mentor],
            "gap": g,
            "rank": rank.astype(np.int64),
        }
    )


# ---------------------------------------------------------------------------------------------
# entry and exit


@dataclass(frozen=True)
class EntryExitResult:
    """Entries and exits between two years, and the relatedness-entry regression.

    ``events`` has columns :data:`ENTRY_EXIT_COLUMNS`; ``regression`` has columns
    :data:`REGRESSION_COLUMNS` (one row per term: ``intercept`` and ``density`` without fixed
    effects, ``density`` only with them) or is ``None`` when not estimated.
    """

    start: int
    end: int
    threshold: float
    fixed_effects: FixedEffects
    events: pd.DataFrame
    regression: pd.DataFrame | None
    #: pairs in the regression sample (not specialised at start, finite values)
    n: int
    #: entries among them
    n_entries: int
    #: R² of the regression (the within R² with fixed effects); NaN without regression
    r_squared: float


def entry_exit(
    years_rca: Mapping[int, np.ndarray],
    years_density: Mapping[int, np.ndarray],
    *,
    regions: pd.Index,
    industries: pd.Index,
    start: int,
    end: int,
    threshold: float = 1.0,
    fixed_effects: FixedEffects = "none",
    regress: bool = True,
) -> EntryExitResult:
    r"""Which industries each region entered or left between two years, and how much
    relatedness density predicted the entries.

    Parameters
    ----------
    years_rca
        Year → regions × industries RCA.
    years_density
        Year → regions × industries relatedness density (only ``start`` is used).
    regions, industries
        Row and column labels of the matrices.
    start, end
        The two years (``start < end``).
    threshold
        Specialisation threshold: specialised when RCA ≥ ``threshold``.
    fixed_effects
        ``"none"``, ``"region"``, ``"industry"`` or ``"both"`` (see Notes).
    regress
        Estimate the entry regression (set false to list events only).

    Returns
    -------
    EntryExitResult
        ``events``: one row per entry (RCA < threshold at start, ≥ at end) or exit (≥ at
        start, < at end), with ``event`` categorical (``entry``, ``exit``), sorted by region
        then industry in the order of the labels. Pairs with a non-finite RCA in either year
        are neither. ``regression``: the linear probability model below.

    Raises
    ------
    ValueError
        A year missing from the mappings, ``start ≥ end``, wrong shapes, no pair at risk
        of entry, no entry (or only entries), or a density without variation.

    Notes
    -----
    The sample is every region–industry pair not specialised at ``start``
    (:math:`\mathrm{RCA}_{ri,t_0} < \tau`, finite RCA at both dates and finite density).
    The outcome is entry, :math:`E_{ri} = [\mathrm{RCA}_{ri,t_1} \ge \tau]`, and the linear
    probability model is

    .. math:: E_{ri} = \alpha + \beta\, d_{ri,t_0} + \varepsilon_{ri}

    (plus :math:`\mu_r` and/or :math:`\lambda_i` with fixed effects), estimated by OLS. The
    fixed effects are absorbed by the within transformation: :math:`E` and :math:`d` are
    demeaned by region and/or industry (for both, by alternating projections until the
    means change by less than 1e-13; the sample is unbalanced) and the demeaned outcome is
    regressed on the demeaned density without intercept. This gives the same
    :math:`\hat\beta` and residuals as OLS with dummy variables (Frisch–Waugh–Lovell).

    Standard errors are heteroskedasticity-robust HC1 (White 1980, MacKinnon & White 1985):

    .. math:: \hat V = \frac{n}{n-k}\,(X'X)^{-1} X' \operatorname{diag}(\hat e^2) X
              (X'X)^{-1}

    where :math:`k` is the rank of the full dummy-variable design (the intercept and
    slope, or the slope plus one per region and/or industry level, minus one per connected
    component of the region–industry graph for two-way effects). ``t`` is
    :math:`\hat\beta / \mathrm{se}` and ``p_value`` two-sided from Student's t with
    :math:`n - k` degrees of freedom — what ``lmtest::coeftest(m, vcov = sandwich::vcovHC(m,
    type = "HC1"))`` reports for the dummy-variable ``lm`` in R. ``r_squared`` is
    :math:`1 - \sum \hat e^2 / \sum (E - \bar E)^2` on the (demeaned) data: the usual R²
    without fixed effects, the within R² with them.

    The events and sample follow EconGeo's ``entry_list`` / ``exit_list`` (Balland 2017):
    entry is 0/1 over pairs without RCA in the first period, exit 0/1 over pairs with it;
    EconGeo's binary RCA is RCA ≥ 1. EconGeo scales relatedness density to 0–100, so its
    coefficient is ours divided by 100; its examples fit ``lm(Entry ~ density)`` with
    classical standard errors.

    Boschma, R., Balland, P.-A. & Kogler, D. F. (2015). Relatedness and technological
    change in cities. *Industrial and Corporate Change* 24(1), 223–250.
    Balland, P.-A. (2017). EconGeo: computing key indicators of the spatial distribution
    of economic activities (R package). https://github.com/PABalland/EconGeo
    """
    regions = _labels(regions, "region")
    industries = _labels(industries, "industry")
    shape = (len(regions), len(industries))
    if start >= end:
        raise ValueError(f"start ({start}) must be before end ({end})")
    if fixed_effects not in ("none", "region", "industry", "both"):
        raise ValueError(
            f"fixed_effects must be 'none', 'region', 'industry' or 'both', not {fixed_effects!r}"
        )
    for year, mapping, what in (
        (start, years_rca, "RCA"),
        (end, years_rca, "RCA"),
        (start, years_density, "relatedness density"),
    ):
        if year not in mapping:
            have = ", ".join(map(str, sorted(mapping))) or "none"
            raise ValueError(f"no {what} for year {year} (years given: {have})")
    a = _array(years_rca[start], shape, f"RCA of {start}")
    b = _array(years_rca[end], shape, f"RCA of {end}")
    d = _array(years_density[start], shape, f"relatedness density of {start}")
    valid = np.isfinite(a) & np.isfinite(b)
    entry = valid & (a < threshold) & (b >= threshold)
    exit_ = valid & (a >= threshold) & (b < threshold)
    r_idx, i_idx = np.nonzero(entry | exit_)  # row-major: sorted by region, then industry
    events = pd.DataFrame(
        {
            "region": regions[r_idx],
            "industry": industries[i_idx],
            "event": pd.Categorical.from_codes(
                np.where(entry[r_idx, i_idx], 0, 1).astype(np.int8), categories=["entry", "exit"]
            ),
            "rca_start": a[r_idx, i_idx],
            "rca_end": b[r_idx, i_idx],
            "density_start": d[r_idx, i_idx],
        }
    )
    at_risk = valid & (a < threshold) & np.isfinite(d)
    rr, ii = np.nonzero(at_risk)
    yv = (b[rr, ii] >= threshold).astype(np.float64)
    xv = d[rr, ii]
    n, n_entries = len(yv), int(yv.sum())
    if not regress:
        return EntryExitResult(
            start, end, threshold, fixed_effects, events, None, n, n_entries, np.nan
        )
    span = f"between {start} and {end}"
    if n == 0:
        raise ValueError(
            f"no region–industry pair is below the threshold {threshold} in {start}, so none "
            f"could enter {span}"
        )
    if n_entries == 0:
        raise ValueError(
            f"no region entered any industry {span} (threshold {threshold}, {n} pairs at "
            "risk): the entry regression is undefined"
        )
    if n_entries == n:
        raise ValueError(
            f"every one of the {n} pairs at risk entered {span}: the entry regression is undefined"
        )
    table, r2 = _lpm(yv, xv, rr, ii, fixed_effects, start)
    return EntryExitResult(start, end, threshold, fixed_effects, events, table, n, n_entries, r2)


def _demean(
    v: np.ndarray, groups: list[np.ndarray], n_groups: list[int], tol: float = 1e-13
) -> np.ndarray:
    """Remove group means (one factor: exact; several: alternating projections)."""
    out = v.astype(np.float64, copy=True)
    counts = [np.bincount(g, minlength=k) for g, k in zip(groups, n_groups, strict=True)]
    for _ in range(100_000):
        largest = 0.0
        for g, k, cnt in zip(groups, n_groups, counts, strict=True):
            means = np.bincount(g, weights=out, minlength=k) / np.maximum(cnt, 1)
            out -= means[g]
            largest = max(largest, float(np.abs(means).max(initial=0.0)))
        if len(groups) == 1 or largest < tol * max(1.0, float(np.abs(v).max(initial=0.0))):
            return out
    raise ValueError("demeaning by region and industry fixed effects did not converge")


def _lpm(
    y: np.ndarray,
    x: np.ndarray,
    rr: np.ndarray,
    ii: np.ndarray,
    fixed_effects: FixedEffects,
    start: int,
) -> tuple[pd.DataFrame, float]:
    n = len(y)
    groups: list[np.ndarray] = []
    if fixed_effects in ("region", "both"):
        groups.append(np.unique(rr, return_inverse=True)[1])
    if fixed_effects in ("industry", "both"):
        groups.append(np.unique(ii, return_inverse=True)[1])
    n_groups = [int(g.max()) + 1 for g in groups]
    if groups:
        yt, xt = _demean(y, groups, n_groups), _demean(x, groups, n_groups)
        X = xt[:, None]
        terms = ["density"]
        absorbed = sum(n_groups)
        if len(groups) == 2:
            # bipartite graph: region levels, then industry levels, linked by each pair
            size = n_groups[0] + n_groups[1]
            graph = sparse.coo_array(
                (np.ones(n), (groups[0], n_groups[0] + groups[1])), shape=(size, size)
            )
            n_components, _ = csgraph.connected_components(graph, directed=False)
            absorbed -= n_components
        k = 1 + absorbed
    else:
        yt = y - y.mean()
        X = np.column_stack([np.ones(n), x])
        terms = ["intercept", "density"]
        k = 2
    xc = X[:, -1] if groups else x - x.mean()
    scale = max(1.0, float(np.abs(x).max()))
    if float(xc @ xc) <= (1e-12 * scale) ** 2 * n:
        where = "" if not groups else f" after removing {fixed_effects} fixed effects"
        raise ValueError(
            f"relatedness density in {start} has no variation among the {n} pairs at risk of "
            f"entry{where}: its coefficient is undefined"
        )
    if n <= k:
        raise ValueError(
            f"{n} pairs at risk of entry are too few for {k} parameters (with {fixed_effects} "
            "fixed effects)"
        )
    target = yt if groups else y
    XtX_inv = np.linalg.inv(X.T @ X)
    beta = XtX_inv @ (X.T @ target)
    e = target - X @ beta
    meat = (X * (e**2)[:, None]).T @ X
    V = n / (n - k) * (XtX_inv @ meat @ XtX_inv)
    # a perfect fit leaves rounding-level negative variances: they are zero
    se = np.sqrt(np.clip(np.diag(V), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = beta / se
    from scipy import stats  # imported here: scipy.stats takes ~0.6 s to import

    p = 2.0 * stats.t.sf(np.abs(t), df=n - k)
    tss = float(yt @ yt)
    r2 = 1.0 - float(e @ e) / tss if tss > 0 else np.nan
    table = pd.DataFrame(
        {
            "term": terms,
            "coefficient": beta,
            "std_error": se,
            "t": t,
            "p_value": p,
            "n": np.full(len(terms), n, dtype=np.int64),
            "r_squared": np.full(len(terms), r2),
        }
    )
    return table, r2
