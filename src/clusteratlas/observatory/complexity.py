"""Economic complexity of regions and industries: RCA, presence, diversity and ubiquity, ECI and
PCI (eigenvector method or method of reflections), fitness and complexity, proximity,
relatedness density, complexity outlook index (COI) and gain (COG).

The conventions are those of the ``ecomplexity`` package (Harvard Growth Lab, PyPI) so that
every column agrees with it; see ``docs/indicators/complexity.md`` for the formulas and
sources. Each year is computed on dense float64 regions × industries arrays (3,200 × 1,000 is
25 MB); the eigenvector comes from a symmetric two-eigenvector solve, not a full ``eig``.

A worked example (4 regions A–D × 3 industries x, y, z)::

    E = [[2, 0, 0],      region totals 2, 2, 3, 3 (E = 10); industry totals 4, 3, 3
         [1, 1, 0],      RCA_rp = (E_rp / E_r) / (E_p / E):
         [1, 1, 1],        A: 2.5, 0, 0;  B: 1.25, 1.667, 0;  C: 0.833, 1.111, 1.111;
         [0, 1, 2]]        D: 0, 1.111, 2.222
    M = [[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 1, 1]]; diversity 1, 2, 2, 2; ubiquity 2, 3, 2.
    M̃_pp' = Σ_r M_rp M_rp' / (k_r,0 k_p,0) = [[3/4, 1/4, 0], [1/6, 1/2, 1/3], [0, 1/2, 1/2]]
    has eigenvalues 1 and (9 ± √57) / 24; for λ = (9 + √57) / 24 = 0.68958 the eigenvector is
    kp = (1, 4(λ − 3/4), 2(λ − 3/4) / (λ − 1/2)) = (1, −0.24170, −0.63746), and
    kc = M kp / k_r,0 = (1, 0.37915, −0.43958, −0.43958). kc falls with diversity, so both
    change sign; kc then has mean −0.125 and standard deviation 0.60575, and
    ECI = (kc + 0.125) / 0.60575 = (−1.44449, −0.41957, 0.93204, 0.93204),
    PCI = (kp + 0.125) / 0.60575 = (−1.44449, 0.60536, 1.25872).
    Proximity φ = [[1, 1/3, 0], [1/3, 1, 2/3], [0, 2/3, 1]] (e.g. φ_xy = min(1/2, 1/3));
    density of A in y = φ_xy / Σ_p φ_py = (1/3) / 2 = 1/6.

(The tests check these numbers and the proximity, density, COI and COG of the same example.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

from clusteratlas.observatory.clusters import StarRules, StrongRules, _by_cluster, _setup
from clusteratlas.observatory.definitions import ClusterDefinitions
from clusteratlas.observatory.panel import Panel

__all__ = [
    "COMPLEXITY_COLUMNS",
    "FITNESS_COLUMNS",
    "ComplexityError",
    "ComplexityYear",
    "complexity_table",
    "complexity_years",
]

Method = Literal["eigenvector", "reflections"]
Presence = Literal["rca", "rpop"]
Progress = Callable[[int, int], None]

COMPLEXITY_COLUMNS = (
    "year", "region", "industry", "employment", "rca", "mcp", "diversity", "ubiquity", "eci",
    "pci", "density", "coi", "cog",
)  # fmt: skip
FITNESS_COLUMNS = ("fitness", "product_complexity")

#: stopping rule of the method of reflections: largest change of the unit-length, deflated
#: region vector between two double reflections
REFLECTIONS_TOL = 1e-13
REFLECTIONS_MAX = 100_000
#: stopping rule of fitness and complexity: largest change of F and Q (each scaled to mean 1)
FITNESS_TOL = 1e-12
FITNESS_MAX = 100_000


class ComplexityError(ValueError):
    """The input is degenerate for economic complexity (the message says why and where)."""


@dataclass(frozen=True)
class ComplexityYear:
    """Complexity indicators of one year.

    Regions and industries without employment in the year are kept (so every year has the
    same shape) but take no part in the computation, as in ``ecomplexity``: their ``rca`` and
    every indicator are NaN, ``mcp`` is False and ``diversity`` / ``ubiquity`` 0.
    """

    year: int
    regions: pd.Index  # ranked regions (aggregates and reference excluded)
    industries: pd.Index  # industries or clusters
    employment: np.ndarray  # (R, I) float64
    rca: np.ndarray  # (R, I)
    mcp: np.ndarray  # (R, I) bool
    diversity: np.ndarray  # (R,)
    ubiquity: np.ndarray  # (I,)
    eci: np.ndarray  # (R,)
    pci: np.ndarray  # (I,)
    proximity: np.ndarray  # (I, I)
    density: np.ndarray  # (R, I)
    coi: np.ndarray  # (R,)
    cog: np.ndarray  # (R, I)
    fitness: np.ndarray | None = None  # (R,)
    product_complexity: np.ndarray | None = None  # (I,)
    #: population-based presence ratio (only with ``presence="rpop"``)
    rpop: np.ndarray | None = None  # (R, I)


# ---------------------------------------------------------------------- one year, dense arrays
def _names(labels: pd.Index, positions: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(x) for x in labels[positions[:limit]])
    more = len(positions) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _check_connected(M: np.ndarray, year: int, regions: pd.Index, industries: pd.Index) -> None:
    """Raise when the bipartite presence graph (regions – industries where ``M`` is 1) has more
    than one connected component, naming the largest ones.

    A few breadth-first steps with dense products decide the usual case (a well-connected
    graph is covered in two or three steps); only a graph still growing after that is handed to
    :func:`scipy.sparse.csgraph.connected_components`.
    """
    R, I = M.shape  # noqa: E741 - regions, industries
    reached = np.zeros(R)
    reached[0] = 1.0
    count = 1
    for _ in range(8):
        cols = (reached @ M) > 0
        reached = ((M @ cols) > 0).astype(np.float64)
        now = int(reached.sum())
        if now == R and cols.all():
            return
        if now == count:
            break  # stopped growing: more than one component
        count = now
    B = sparse.csr_array(M)
    graph = sparse.block_array([[None, B], [B.T, None]], format="csr")
    n, labels = connected_components(graph, directed=False)
    if n <= 1:
        return
    parts = []
    sizes = np.bincount(labels[:R], minlength=n)
    for k in np.argsort(-sizes, kind="stable")[:5]:
        r = np.flatnonzero(labels[:R] == k)
        i = np.flatnonzero(labels[R:] == k)
        parts.append(
            f"{len(r)} regions ({_names(regions, r)}) with {len(i)} industries "
            f"({_names(industries, i)})"
        )
    more = f"; and {n - 5} more groups" if n > 5 else ""
    raise ComplexityError(
        f"year {year}: the presence matrix (RCA ≥ threshold) falls apart into {n} groups that "
        "share no industry, so ECI and PCI are not defined (the second eigenvector would only "
        "tell the groups apart): " + "; ".join(parts) + more + ". Analyse the groups "
        "separately (Panel.select) or lower rca_threshold."
    )


def _sign_and_scale(
    M: np.ndarray, D: np.ndarray, U: np.ndarray, kp: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """ecomplexity's conventions from a PCI eigenvector ``kp`` (any scale and sign).

    ``kc = M kp / k_c,0``; both change sign unless ``kc`` correlates positively with diversity
    (when that correlation is zero or undefined, PCI is made to correlate negatively with
    ubiquity; failing that too, the first region with a non-zero value gets a positive ECI —
    ecomplexity returns NaN in these cases). ECI is standardised with its mean and
    population standard deviation, and PCI with the *same* mean and standard deviation.
    Returns ECI, PCI, the signed raw ``kp`` (used by COI and COG), and ECI's mean and sd.
    """
    kc = (M @ kp) / D
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sign(np.corrcoef(D, kc)[0, 1]) if np.ptp(D) > 0 else np.nan
        if not np.isfinite(s) or s == 0:
            s = -np.sign(np.corrcoef(U, kp)[0, 1]) if np.ptp(U) > 0 else np.nan
    if not np.isfinite(s) or s == 0:
        nonzero = np.flatnonzero(np.abs(kc) > 1e-12 * np.abs(kc).max())
        s = np.sign(kc[nonzero[0]]) if len(nonzero) else 1.0
    kc, kp = s * kc, s * kp
    mu, sd = float(kc.mean()), float(kc.std())
    if not sd > 0:
        raise ComplexityError("ECI is the same for every region (the presence matrix is flat)")
    return (kc - mu) / sd, (kp - mu) / sd, kp, mu, sd


def _eigen_pci(M: np.ndarray, D: np.ndarray, U: np.ndarray) -> np.ndarray:
    """The eigenvector of M̃ = U⁻¹ Mᵀ D⁻¹ M (industries) of the second-largest eigenvalue.

    M̃ is similar to the symmetric S = U^-1/2 Mᵀ D⁻¹ M U^-1/2: if S v = λ v then
    M̃ (U^-1/2 v) = λ (U^-1/2 v). When there are fewer regions than industries the same
    eigenvalue belongs to the regions' symmetric D^-1/2 M U⁻¹ Mᵀ D^-1/2 with vector w, and
    U⁻¹ Mᵀ (D^-1/2 w) is then the industries' eigenvector.
    """
    R, I = M.shape  # noqa: E741 - regions, industries
    if I <= R:
        s = 1.0 / np.sqrt(U)
        X = M / np.sqrt(D)[:, None]
        S = X.T @ X
        S *= s[:, None]
        S *= s[None, :]
        _, V = linalg.eigh(S, subset_by_index=[I - 2, I - 1])
        return V[:, 0] * s
    s = 1.0 / np.sqrt(D)
    X = M / np.sqrt(U)[None, :]
    S = X @ X.T
    S *= s[:, None]
    S *= s[None, :]
    _, V = linalg.eigh(S, subset_by_index=[R - 2, R - 1])
    return (M.T @ (V[:, 0] * s)) / U


def _reflections_pci(M: np.ndarray, D: np.ndarray, U: np.ndarray, year: int) -> np.ndarray:
    """Method of reflections, iterated until the (deflated, unit-length) region vector stops
    changing; returns the industries' vector one reflection on.

    Each double reflection k_c,N+2 = D⁻¹ M U⁻¹ Mᵀ k_c,N multiplies the component along the
    n-th eigenvector by its eigenvalue; removing the component along the first (constant)
    eigenvector, whose left eigenvector is the diversity, leaves the second to dominate. The
    start is diversity (k_c,0) plus a fixed pseudo-random vector, so that a start with no
    component along the ECI vector (as in symmetric examples) cannot end on a later one.
    """
    pi = D / D.sum()  # left eigenvector of the first (trivial) eigenvalue 1
    kc = D / np.linalg.norm(D) + np.random.default_rng(0).random(len(D)) / np.sqrt(len(D))
    kc -= pi @ kc
    kc /= np.linalg.norm(kc)
    for _ in range(REFLECTIONS_MAX):
        new = (M @ ((M.T @ kc) / U)) / D  # k_c,N+2 from k_c,N
        new -= pi @ new
        new /= np.linalg.norm(new)
        if np.abs(new - kc).max() < REFLECTIONS_TOL:
            return (M.T @ new) / U
        kc = new
    raise ComplexityError(
        f"year {year}: the method of reflections did not converge in {REFLECTIONS_MAX:,} "
        "double reflections (the second and third eigenvalues are nearly equal); use "
        "method='eigenvector'"
    )


def _fitness(M: np.ndarray, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Fitness and complexity (Tacchella et al. 2012), each scaled to mean 1 at every step."""
    F = np.ones(M.shape[0])
    Q = np.ones(M.shape[1])
    for _ in range(FITNESS_MAX):
        F_new = M @ Q
        with np.errstate(divide="ignore"):
            Q_new = 1.0 / (M.T @ (1.0 / F))
        F_new /= F_new.mean()
        Q_new /= Q_new.mean()
        change = max(np.abs(F_new - F).max(), np.abs(Q_new - Q).max())
        F, Q = F_new, Q_new
        if change < FITNESS_TOL:
            return F, Q
    raise ComplexityError(
        f"year {year}: fitness and complexity did not converge in {FITNESS_MAX:,} iterations"
    )


def _compute_year(
    E: np.ndarray,
    year: int,
    regions: pd.Index,
    industries: pd.Index,
    *,
    reference: tuple[np.ndarray, float] | None,
    rca_threshold: float,
    method: Method,
    fitness: bool,
    population: np.ndarray | None = None,
    rpop_threshold: float = 1.0,
) -> ComplexityYear:
    R, I = E.shape  # noqa: E741 - regions, industries
    Er = E.sum(axis=1)
    Ei = E.sum(axis=0)
    rows = np.flatnonzero(Er > 0)
    cols = np.flatnonzero(Ei > 0)
    if len(rows) < 2:
        raise ComplexityError(
            f"year {year}: complexity needs at least two regions with employment "
            f"(found {len(rows)}{': ' + _names(regions, rows) if len(rows) else ''})"
        )
    if len(cols) < 2:
        raise ComplexityError(
            f"year {year}: complexity needs at least two industries with employment "
            f"(found {len(cols)}{': ' + _names(industries, cols) if len(cols) else ''})"
        )
    whole = len(rows) == R and len(cols) == I
    Ea = E if whole else E[np.ix_(rows, cols)]
    Era = Ea.sum(axis=1)
    if reference is None:
        Eia = Ea.sum(axis=0)
        share = Eia[None, :] / Eia.sum()
    else:
        share = reference[0][cols][None, :] / reference[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rca_a = (Ea / Era[:, None]) / share
    rpop_a = None
    if population is None:
        Ma = rca_a >= rca_threshold
    else:
        pop = population[rows]
        bad = ~(np.isfinite(pop) & (pop > 0))
        if bad.any():
            raise ComplexityError(
                f"year {year}: population must be positive for every region with employment; "
                f"it is missing or not positive for {_names(regions, rows[bad])}"
            )
        Eia = Ea.sum(axis=0)
        rpop_a = (Ea / pop[:, None]) / (Eia[None, :] / pop.sum())
        Ma = rpop_a >= rpop_threshold
    test = "RCA" if population is None else "RPOP"
    M = Ma.astype(np.float64)
    D = M.sum(axis=1)
    U = M.sum(axis=0)
    if (D == 0).any():
        bad = rows[D == 0]
        raise ComplexityError(
            f"year {year}: {len(bad)} region(s) have no industry with {test} ≥ the threshold "
            f"(diversity 0), so their ECI is not defined: {_names(regions, bad)}. Lower the "
            "threshold or leave them out (Panel.select)."
        )
    if (U == 0).any():
        bad = cols[U == 0]
        raise ComplexityError(
            f"year {year}: {len(bad)} industr{'y is' if len(bad) == 1 else 'ies are'} present "
            f"({test} ≥ the threshold) in no region (ubiquity 0), so PCI is not defined: "
            f"{_names(industries, bad)}. Lower the threshold or leave them out."
        )
    _check_connected(M, year, regions[rows], industries[cols])

    kp = _eigen_pci(M, D, U) if method == "eigenvector" else _reflections_pci(M, D, U, year)
    eci_a, pci_a, kp_raw, _, sd = _sign_and_scale(M, D, U, kp)

    # proximity: φ_pp' = min(P(p | p'), P(p' | p)); co-occurrence counts are exact in float32
    C = Ma.astype(np.float32)
    C = (C.T @ C).astype(np.float64)
    phi = C / U[None, :]
    np.minimum(phi, phi.T, out=phi)
    sums = phi.sum(axis=1)
    # density_rp = Σ_p' M_rp' φ_p'p / Σ_p' φ_p'p and, in one product, M @ B for COG where
    # B_p'p = φ_p'p PCI_p' / Σ_p'' φ_p'p''  (with (1 − M) @ B = 1ᵀB − M B)
    AB = np.empty((len(cols), 2 * len(cols)))
    np.divide(phi, sums[None, :], out=AB[:, : len(cols)])
    np.multiply(phi, (kp_raw / sums)[:, None], out=AB[:, len(cols) :])
    prod = M @ AB
    density_a = prod[:, : len(cols)]
    absent = 1.0 - M
    coi_a = (density_a * absent) @ kp_raw
    coi_a = (coi_a - coi_a.mean()) / coi_a.std()
    cog_a = prod[:, len(cols) :]
    np.subtract(AB[:, len(cols) :].sum(axis=0)[None, :], cog_a, out=cog_a)
    cog_a *= absent
    cog_a /= sd

    fit = comp = None
    if fitness:
        fit_a, comp_a = _fitness(M, year)
        fit, comp = np.full(R, np.nan), np.full(I, np.nan)
        fit[rows], comp[cols] = fit_a, comp_a

    def full(a: np.ndarray, fill: float = np.nan) -> np.ndarray:
        if whole:
            return np.ascontiguousarray(a)
        out = np.full((R, I), fill, dtype=a.dtype)
        out[np.ix_(rows, cols)] = a
        return out

    def vec(a: np.ndarray, where: np.ndarray, n: int, fill: float = np.nan) -> np.ndarray:
        if len(where) == n:
            return a
        out = np.full(n, fill, dtype=a.dtype)
        out[where] = a
        return out

    proximity = phi
    if not whole:
        proximity = np.full((I, I), np.nan)
        proximity[np.ix_(cols, cols)] = phi
    return ComplexityYear(
        year=year,
        regions=regions,
        industries=industries,
        employment=E,
        rca=full(rca_a),
        mcp=full(Ma, False),
        diversity=vec(D.astype(np.int64), rows, R, 0),
        ubiquity=vec(U.astype(np.int64), cols, I, 0),
        eci=vec(eci_a, rows, R),
        pci=vec(pci_a, cols, I),
        proximity=proximity,
        density=full(density_a),
        coi=vec(coi_a, rows, R),
        cog=full(cog_a),
        fitness=fit,
        product_complexity=comp,
        rpop=None if rpop_a is None else full(rpop_a),
    )


# ---------------------------------------------------------------------- panel level
def _population_matrix(
    population: pd.Series | Mapping[str, float] | None,
    years: Sequence[int],
    regions: pd.Index,
    ref: str | None,
) -> dict[int, tuple[np.ndarray, float | None]] | None:
    if population is None:
        return None
    series = pd.Series(population, dtype=np.float64)
    out = {}
    for y in years:
        if isinstance(series.index, pd.MultiIndex):
            try:
                s = series.xs(y, level=0)
            except KeyError:
                raise ComplexityError(f"population has no values for year {y}") from None
        else:
            s = series
        ref_pop = float(s.get(ref, np.nan)) if ref is not None else None
        out[y] = (s.reindex(regions).to_numpy(dtype=np.float64), ref_pop)
    return out


def complexity_years(
    panel: Panel,
    definitions: ClusterDefinitions | None = None,
    *,
    years: Sequence[int] | None = None,
    rca_threshold: float = 1.0,
    method: Method = "eigenvector",
    fitness: bool = False,
    reference_region: str | None = None,
    presence: Presence = "rca",
    population: pd.Series | Mapping[str, float] | None = None,
    rpop_threshold: float = 1.0,
) -> Iterator[ComplexityYear]:
    """Complexity indicators year by year (see :func:`complexity_table` for the arguments).

    Two years are computed at a time on two threads, each with a one-thread BLAS; while the
    generator is being iterated, BLAS in the calling thread is limited to one thread too.

    Raises
    ------
    ComplexityError
        For a degenerate year: fewer than two regions or industries with employment, a region
        with no industry at RCA ≥ ``rca_threshold``, an industry present nowhere, or a presence
        matrix that falls apart into unconnected groups (each named in the message).
    """
    if method not in ("eigenvector", "reflections"):
        raise ValueError(f"method must be 'eigenvector' or 'reflections', not {method!r}")
    if presence not in ("rca", "rpop"):
        raise ValueError(f"presence must be 'rca' or 'rpop', not {presence!r}")
    if presence == "rpop" and population is None:
        raise ValueError("presence='rpop' needs population (a Series by region, or year, region)")
    s = _setup(panel, definitions, reference_region, "total", StarRules(), StrongRules())
    report = [int(y) for y in (years if years is not None else panel.years)]
    panel.require_years(*report)
    regions = s.regions
    industries = pd.Index(s.clusters.index, name="industry")
    pops = (
        _population_matrix(population, report, regions, reference_region)
        if presence == "rpop"
        else None
    )
    every = len(s.rows) == len(panel.regions)

    def one_year(y: int) -> ComplexityYear:
        X = _by_cluster(s, "employment", y)
        E = X.toarray() if every else X[s.rows].toarray()
        reference = None
        if s.ref is not None:
            ref_row = X[[s.ref]].toarray().ravel()
            reference = (ref_row, float(ref_row.sum()))
        return _compute_year(
            E,
            y,
            regions,
            industries,
            reference=reference,
            rca_threshold=rca_threshold,
            method=method,
            fitness=fitness,
            population=None if pops is None else pops[y][0],
            rpop_threshold=rpop_threshold,
        )

    # Years are independent: two are computed at once on two threads (numpy releases the GIL),
    # each with a one-thread BLAS. On two cores that beats one year at a time with a
    # two-thread BLAS, whose second thread slows these mid-sized products and eigen-solves
    # down (measured with benchmarks/complexity.py). At most two years are held in memory
    # besides the one being handed back.
    workers = max(1, min(2, len(report)))
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        pending: deque[Future[ComplexityYear]] = deque()
        for y in report:
            pending.append(pool.submit(one_year, y))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def complexity_table(
    panel: Panel,
    definitions: ClusterDefinitions | None = None,
    *,
    years: Sequence[int] | None = None,
    rca_threshold: float = 1.0,
    method: Method = "eigenvector",
    fitness: bool = False,
    reference_region: str | None = None,
    progress: Progress | None = None,
    presence: Presence = "rca",
    population: pd.Series | Mapping[str, float] | None = None,
    rpop_threshold: float = 1.0,
) -> pd.DataFrame:
    """The complexity table: one row per year and every region × industry (zeros included).

    Parameters
    ----------
    panel
        Employment by year, region and industry. Aggregate regions are left out.
    definitions
        Industries → clusters; without them each industry is its own unit. The region totals
        of the RCA are then sums over clusters (industries outside every cluster do not count),
        so that the result is that of the cluster matrix on its own.
    years
        Years to compute (default: all).
    rca_threshold
        Presence ``mcp`` is ``RCA ≥ rca_threshold``.
    method
        ``"eigenvector"`` (default) or ``"reflections"`` (iterated until it converges to the
        same vector; slower).
    fitness
        Also compute fitness and complexity (Tacchella et al. 2012): columns ``fitness`` and
        ``product_complexity``.
    reference_region
        A region whose employment is the reference economy of the RCA (left out of the
        result). By default the reference is the sum of the regions, as in ``ecomplexity``.
    progress
        Called with ``(years done, years in all)`` after each year.
    presence, population, rpop_threshold
        ``presence="rpop"``: presence is ``RPOP ≥ rpop_threshold`` with
        ``RPOP_rp = (E_rp / pop_r) / (E_p / Σ_r pop_r)`` (ecomplexity's ``presence_test="rpop"``);
        ``population`` is a Series indexed by region, or by (year, region). Adds a ``rpop``
        column.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMPLEXITY_COLUMNS` (+ :data:`FITNESS_COLUMNS`), sorted by year, region,
        industry; ``region`` and ``industry`` are categoricals. Regions and industries without
        employment in a year have NaN indicators (see :class:`ComplexityYear`).
    """
    s = _setup(panel, definitions, reference_region, "total", StarRules(), StrongRules())
    report = [int(y) for y in (years if years is not None else panel.years)]
    panel.require_years(*report)
    n_r, n_i = len(s.rows), len(s.clusters)
    out = _Columns(len(report) * n_r * n_i, n_r, n_i, fitness, presence == "rpop")
    computed = complexity_years(
        panel,
        definitions,
        years=report,
        rca_threshold=rca_threshold,
        method=method,
        fitness=fitness,
        reference_region=reference_region,
        presence=presence,
        population=population,
        rpop_threshold=rpop_threshold,
    )
    for done in range(1, len(report) + 1):
        cy = next(computed)
        start = (done - 1) * n_r * n_i
        out.fill(slice(start, start + n_r * n_i), cy)
        del cy  # one year's arrays in memory at a time
        if progress is not None:
            progress(done, len(report))
    return out.frame(s.regions, pd.Index(s.clusters.index))


class _Columns:
    """The complexity table's columns, allocated once and filled year by year."""

    CELLS = ("employment", "rca", "density", "cog")
    REGION = ("eci", "coi")
    #: stored as float32 to keep the 3,200 × 1,000 × 10-year table within 3 GB: density lies in
    #: [0, 1] and ECI, PCI and COI are z-scores (PCI on ECI's scale), so the rounding (relative
    #: 6e-8) stays far below 1e-6 in absolute terms; ComplexityYear keeps them in float64
    SINGLE = ("density", "eci", "coi")

    def __init__(self, n: int, n_r: int, n_i: int, fitness: bool, rpop: bool) -> None:
        self.n_r, self.n_i = n_r, n_i
        self.fitness = fitness
        self.rpop = rpop
        self.columns: dict[str, np.ndarray] = {
            "year": np.empty(n, np.int16),
            "r": np.empty(n, np.int16 if n_r < 2**15 else np.int32),
            "i": np.empty(n, np.int16 if n_i < 2**15 else np.int32),
            "mcp": np.empty(n, bool),
            "diversity": np.empty(n, np.int16 if n_i < 2**15 else np.int32),
            "ubiquity": np.empty(n, np.int16 if n_r < 2**15 else np.int32),
            "pci": np.empty(n, np.float32),
        }
        for name in self.CELLS + self.REGION:
            self.columns[name] = np.empty(n, np.float32 if name in self.SINGLE else np.float64)
        if fitness:
            self.columns["fitness"] = np.empty(n, np.float64)
            self.columns["product_complexity"] = np.empty(n, np.float64)
        if rpop:
            self.columns["rpop"] = np.empty(n, np.float64)

    def fill(self, sl: slice, cy: ComplexityYear) -> None:
        shape = (self.n_r, self.n_i)
        cols = self.columns

        def grid(name: str) -> np.ndarray:
            return cols[name][sl].reshape(shape)

        cols["year"][sl] = cy.year
        grid("r")[:] = np.arange(self.n_r)[:, None]
        grid("i")[:] = np.arange(self.n_i)[None, :]
        grid("mcp")[:] = cy.mcp
        for name in self.CELLS:
            grid(name)[:] = getattr(cy, name)
        for name in self.REGION:
            grid(name)[:] = getattr(cy, name)[:, None]
        grid("diversity")[:] = cy.diversity[:, None]
        grid("ubiquity")[:] = cy.ubiquity[None, :]
        grid("pci")[:] = cy.pci[None, :]
        if self.fitness:
            assert cy.fitness is not None
            assert cy.product_complexity is not None
            grid("fitness")[:] = cy.fitness[:, None]
            grid("product_complexity")[:] = cy.product_complexity[None, :]
        if self.rpop:
            assert cy.rpop is not None
            grid("rpop")[:] = cy.rpop

    def frame(self, regions: pd.Index, industries: pd.Index) -> pd.DataFrame:
        cols = self.columns
        out: dict[str, object] = {"year": cols.pop("year")}
        out["region"] = pd.Categorical.from_codes(cols.pop("r"), categories=regions.astype(str))
        out["industry"] = pd.Categorical.from_codes(
            cols.pop("i"), categories=industries.astype(str)
        )
        names = list(COMPLEXITY_COLUMNS[3:])
        if self.fitness:
            names += list(FITNESS_COLUMNS)
        if self.rpop:
            names.insert(names.index("rca") + 1, "rpop")
        for name in names:
            out[name] = cols.pop(name)
        # copy=False: keep each column's array as it is (no consolidation into 2-D blocks)
        return pd.DataFrame(out, copy=False)
