"""Economic complexity: agreement with the ``ecomplexity`` package, a worked example, invariants
(Hypothesis) and degenerate input."""

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import sparse

from clusteratlas.observatory import ClusterDefinitions, Panel
from clusteratlas.observatory.complexity import (
    COMPLEXITY_COLUMNS,
    FITNESS_COLUMNS,
    ComplexityError,
    complexity_table,
    complexity_years,
)

pytestmark = pytest.mark.unit

COLUMNS = ["rca", "mcp", "diversity", "ubiquity", "eci", "pci", "density", "coi", "cog"]


def panel_of(arrays: dict[int, np.ndarray], **kwargs) -> Panel:
    """A panel from dense regions × industries arrays by year (regions R0…, industries I0…)."""
    first = next(iter(arrays.values()))
    return Panel(
        years=sorted(arrays),
        regions=[f"R{k:03d}" for k in range(first.shape[0])],
        industries=[f"I{k:03d}" for k in range(first.shape[1])],
        data={"employment": {y: sparse.csr_array(a) for y, a in arrays.items()}},
        **kwargs,
    )


def random_arrays(n_r, n_i, years=2, zero_share=0.6, seed=0):
    rng = np.random.default_rng(seed)
    size = rng.lognormal(6, 1, n_r)[:, None]
    share = rng.dirichlet(np.full(n_i, 0.8))[None, :]
    out = {}
    for t in range(years):
        present = rng.random((n_r, n_i)) >= zero_share
        out[2010 + t] = np.ceil(size * share * rng.lognormal(0, 1, (n_r, n_i)) * 50) * present
    return out


def run_ecomplexity(panel: Panel, **kwargs) -> pd.DataFrame:
    ecomplexity = pytest.importorskip(
        "ecomplexity",
        reason="ecomplexity is not installed (pip install ecomplexity) — the comparison with "
        "the reference implementation is skipped",
    ).ecomplexity
    frame = panel.to_frame()[["year", "region", "industry", "employment"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ecomplexity(
            frame,
            {"time": "year", "loc": "region", "prod": "industry", "val": "employment"},
            check_logsupermodularity=False,
            verbose=False,
            **kwargs,
        )
    return out.dropna(subset=["eci"])


def assert_agrees(ours: pd.DataFrame, ref: pd.DataFrame, tol: float = 1e-6) -> None:
    ours = ours.assign(region=ours["region"].astype(str), industry=ours["industry"].astype(str))
    both = ref.merge(ours, on=["year", "region", "industry"], suffixes=("_ref", ""))
    assert len(both) == len(ref) > 0
    for c in COLUMNS:
        a = both[c].to_numpy(np.float64)
        b = both[f"{c}_ref"].to_numpy(np.float64)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=c)
    # rows ecomplexity leaves out (no employment in that year) have NaN indicators
    left = ours.merge(ref[["year", "region", "industry"]], how="left", indicator=True)
    rest = left[left["_merge"] == "left_only"]
    assert (rest["eci"].isna() | rest["pci"].isna()).all()


SHAPES = {
    "square": (40, 40, 0.6),
    "tall": (150, 25, 0.6),
    "wide": (25, 90, 0.5),  # fewer regions than industries: the regions' eigenproblem
    "sparse": (120, 60, 0.9),
}


@pytest.mark.golden
@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize("method", ["eigenvector", "reflections"])
def test_agrees_with_ecomplexity(shape, method):
    n_r, n_i, zero = SHAPES[shape]
    panel = panel_of(random_arrays(n_r, n_i, zero_share=zero, seed=n_r))
    ref = run_ecomplexity(panel)
    assert_agrees(complexity_table(panel, method=method), ref)


@pytest.mark.golden
def test_agrees_with_zero_rows_and_columns():
    arrays = random_arrays(50, 30, seed=5)
    arrays[2010][7] = 0  # a region without employment in 2010
    arrays[2011][:, 3] = 0  # an industry without employment in 2011
    panel = panel_of(arrays)
    table = complexity_table(panel)
    assert_agrees(table, run_ecomplexity(panel))
    row = table[(table["year"] == 2010) & (table["region"] == "R007")]
    assert row["eci"].isna().all()
    assert row["rca"].isna().all()
    assert not row["mcp"].any()
    assert (row["diversity"] == 0).all()
    col = table[(table["year"] == 2011) & (table["industry"] == "I003")]
    assert col["pci"].isna().all()
    assert (col["ubiquity"] == 0).all()
    assert col["cog"].isna().all()
    assert col["density"].isna().all()


@pytest.mark.golden
def test_agrees_with_ecomplexity_threshold_and_clusters():
    panel = panel_of(random_arrays(80, 40, seed=9))
    assert_agrees(
        complexity_table(panel, rca_threshold=0.8), run_ecomplexity(panel, rca_mcp_threshold=0.8)
    )
    defs = ClusterDefinitions.from_frame(
        pd.DataFrame(
            {"industry": panel.industries, "cluster": [f"C{k % 12:02d}" for k in range(40)]}
        )
    )
    clustered = panel.aggregate(industries=defs.table.set_index("industry")["cluster"])
    ours = complexity_table(panel, defs)
    assert list(ours["industry"].cat.categories) == [f"C{k:02d}" for k in range(12)]
    assert_agrees(ours, run_ecomplexity(clustered))


@pytest.mark.golden
def test_agrees_with_ecomplexity_rpop():
    panel = panel_of(random_arrays(60, 30, seed=4))
    total = panel.dense("employment", 2010).sum(axis=1)
    pop = pd.Series(total * np.random.default_rng(1).uniform(8, 12, 60), index=panel.regions)
    ours = complexity_table(panel, presence="rpop", population=pop)
    frame_pop = pd.DataFrame(
        {
            "year": np.repeat(panel.years, 60),
            "region": np.tile(panel.regions, 2),
            "pop": np.tile(pop.to_numpy(), 2),
        }
    )
    ref = run_ecomplexity(panel, presence_test="rpop", pop=frame_pop)
    assert_agrees(ours, ref)
    both = ref.merge(ours.astype({"region": str, "industry": str}), on=["year", "region"])
    both = both[both["industry_x"] == both["industry_y"]]
    np.testing.assert_allclose(both["rpop_y"], both["rpop_x"], rtol=1e-9)


# ---------------------------------------------------------------------- the worked example
E_EXAMPLE = np.array([[2, 0, 0], [1, 1, 0], [1, 1, 1], [0, 1, 2]], dtype=float)


@pytest.mark.golden
@pytest.mark.parametrize("method", ["eigenvector", "reflections"])
def test_worked_example(method):
    """The example of the module docstring, in closed form."""
    (cy,) = complexity_years(panel_of({2020: E_EXAMPLE}), method=method, fitness=True)
    np.testing.assert_allclose(
        cy.rca, [[2.5, 0, 0], [1.25, 5 / 3, 0], [5 / 6, 10 / 9, 10 / 9], [0, 10 / 9, 20 / 9]]
    )
    M = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 1, 1]], dtype=bool)
    assert (cy.mcp == M).all()
    assert list(cy.diversity) == [1, 2, 2, 2]
    assert list(cy.ubiquity) == [2, 3, 2]
    lam = (9 + math.sqrt(57)) / 24
    kp = -np.array([1, 4 * (lam - 0.75), 2 * (lam - 0.75) / (lam - 0.5)])  # sign: see docstring
    kc = M @ kp / np.array([1, 2, 2, 2])
    mu, sd = kc.mean(), kc.std()
    np.testing.assert_allclose(cy.eci, (kc - mu) / sd, atol=1e-12)
    np.testing.assert_allclose(cy.pci, (kp - mu) / sd, atol=1e-12)
    np.testing.assert_allclose(cy.eci, [-1.44450, -0.41957, 0.93204, 0.93204], atol=1e-5)
    np.testing.assert_allclose(cy.pci, [-1.44450, 0.60536, 1.25871], atol=1e-5)
    phi = np.array([[1, 1 / 3, 0], [1 / 3, 1, 2 / 3], [0, 2 / 3, 1]])
    np.testing.assert_allclose(cy.proximity, phi)
    density = [[3 / 4, 1 / 6, 0], [1, 2 / 3, 2 / 5], [1 / 4, 5 / 6, 1], [1 / 4, 5 / 6, 1]]
    np.testing.assert_allclose(cy.density, density)
    coi = ((np.array(density) * ~M) @ kp) / 1.0
    np.testing.assert_allclose(cy.coi, (coi - coi.mean()) / coi.std(), atol=1e-12)
    # COG_rp = (1 − M_rp) Σ_p' (1 − M_rp') φ_p'p / Σ_p'' φ_p'p'' · kp_p' / sd(kc)
    cog = ~M * (((~M) @ (phi * (kp / phi.sum(axis=1))[:, None])) / sd)
    np.testing.assert_allclose(cy.cog, cog, atol=1e-12)
    # fitness and complexity: the fixed point F ∝ M Q, Q ∝ 1 / Mᵀ(1/F), each of mean 1
    np.testing.assert_allclose(cy.fitness, [0.25, 0.75, 1.5, 1.5])
    np.testing.assert_allclose(cy.product_complexity, [3 / 7, 6 / 7, 12 / 7])


def test_table_layout():
    panel = panel_of(random_arrays(12, 8, years=3, seed=2))
    table = complexity_table(panel, fitness=True)
    assert tuple(table.columns) == COMPLEXITY_COLUMNS + FITNESS_COLUMNS
    assert len(table) == 3 * 12 * 8
    assert isinstance(table["region"].dtype, pd.CategoricalDtype)
    assert isinstance(table["industry"].dtype, pd.CategoricalDtype)
    assert table["mcp"].dtype == bool
    keys = table[["year", "region", "industry"]].astype({"region": str, "industry": str})
    assert keys.equals(keys.sort_values(["year", "region", "industry"], ignore_index=True))
    done = []
    complexity_table(panel, years=[2011, 2012], progress=lambda d, n: done.append((d, n)))
    assert done == [(1, 2), (2, 2)]
    years = list(complexity_years(panel, years=[2012]))
    cy = years[0]
    assert cy.year == 2012
    assert cy.eci.shape == (12,)
    assert cy.cog.shape == (12, 8)
    part = table[table["year"] == 2012]
    np.testing.assert_allclose(part["cog"].to_numpy().reshape(12, 8), cy.cog)
    np.testing.assert_allclose(part["eci"].to_numpy()[::8], cy.eci, rtol=1e-6)


def test_aggregates_and_reference_region_are_not_ranked():
    arrays = random_arrays(10, 6, years=1, seed=3)
    E = arrays[2010]
    with_total = np.vstack([E, E.sum(axis=0) * 1.5])  # R010 plays the country
    panel = panel_of({2010: with_total})
    (cy,) = complexity_years(panel, reference_region="R010")
    assert "R010" not in cy.regions
    assert len(cy.regions) == 10
    ref = with_total[-1]
    np.testing.assert_allclose(cy.rca, (E / E.sum(1)[:, None]) / (ref / ref.sum()))
    agg = panel_of({2010: with_total}, aggregates=["R010"])
    (cy2,) = complexity_years(agg)
    assert "R010" not in cy2.regions
    np.testing.assert_allclose(cy2.rca, (E / E.sum(1)[:, None]) / (E.sum(0) / E.sum()))


# ---------------------------------------------------------------------- properties
@st.composite
def matrices(draw):
    n_r = draw(st.integers(3, 9))
    n_i = draw(st.integers(3, 7))
    cells = draw(
        st.lists(st.integers(0, 1000), min_size=n_r * n_i, max_size=n_r * n_i).map(
            lambda v: np.array(v, dtype=float).reshape(n_r, n_i)
        )
    )
    return cells


def computable(E: np.ndarray, **kwargs):
    try:
        return next(complexity_years(panel_of({2010: E}), **kwargs))
    except ComplexityError:
        assume(False)


@settings(max_examples=80, deadline=None)
@given(matrices(), st.integers(0, 8), st.floats(0.1, 100))
def test_eci_invariant_to_scaling_one_region(E, which, factor):
    """Against a fixed reference economy, a region's RCA (so everything) depends only on its
    own shares; without one, scaling a region moves the industry shares of the total, and ECI
    depends on the presence matrix only."""
    which %= E.shape[0]
    reference = E.sum(axis=0, keepdims=True) + 1.0
    cy = computable(np.vstack([E, reference]), reference_region=f"R{E.shape[0]:03d}")
    scaled = E.copy()
    scaled[which] *= factor
    cy2 = computable(np.vstack([scaled, reference]), reference_region=f"R{E.shape[0]:03d}")
    np.testing.assert_allclose(cy.rca, cy2.rca, rtol=1e-9)
    assume((cy.mcp == cy2.mcp).all())  # equal up to rounding at exactly RCA = threshold
    for name in ("eci", "pci", "density", "coi", "cog"):
        np.testing.assert_allclose(getattr(cy, name), getattr(cy2, name), atol=1e-7)
    plain = computable(E)
    plain2 = computable(scaled)
    if (plain.mcp == plain2.mcp).all():
        np.testing.assert_allclose(plain.eci, plain2.eci, atol=1e-7)
    # scaling the whole economy changes nothing
    plain3 = computable(E * factor)
    assume((plain.mcp == plain3.mcp).all())
    np.testing.assert_allclose(plain.eci, plain3.eci, atol=1e-7)


@settings(max_examples=80, deadline=None)
@given(matrices())
def test_proximity_and_density_bounds(E):
    cy = computable(E)
    active = cy.ubiquity > 0
    phi = cy.proximity[np.ix_(active, active)]
    np.testing.assert_array_equal(phi, phi.T)
    np.testing.assert_array_equal(np.diag(phi), 1.0)
    assert ((phi >= 0) & (phi <= 1)).all()
    d = cy.density[np.ix_(cy.diversity > 0, active)]
    assert ((d >= -1e-12) & (d <= 1 + 1e-12)).all()
    # ECI is standardised; PCI with ECI's mean and sd; ECI correlates with diversity
    eci = cy.eci[cy.diversity > 0]
    assert abs(eci.mean()) < 1e-9
    assert abs(eci.std() - 1) < 1e-9
    div = cy.diversity[cy.diversity > 0]
    if np.ptp(div) > 0:
        assert np.corrcoef(div, eci)[0, 1] >= -1e-9
    assert (cy.cog[cy.mcp] == 0).all()


# ---------------------------------------------------------------------- degenerate input
def test_region_without_specialisation():
    E = np.array([[10, 10, 10], [30, 1, 1], [1, 30, 1], [1, 1, 30]], dtype=float)
    with pytest.raises(
        ComplexityError,
        match=re.escape(
            "year 2010: 1 region(s) have no industry with RCA ≥ the threshold (diversity 0), "
            "so their ECI is not defined: R000. Lower the threshold or leave them out "
            "(Panel.select)."
        ),
    ):
        complexity_table(panel_of({2010: E}), rca_threshold=1.5)


def test_industry_present_nowhere():
    E = np.array([[10, 0, 5], [0, 10, 5], [10, 20, 15]], dtype=float)  # I002 has RCA 1
    with pytest.raises(
        ComplexityError,
        match=re.escape(
            "year 2010: 1 industry is present (RCA ≥ the threshold) in no region (ubiquity 0), "
            "so PCI is not defined: I002."
        ),
    ):
        complexity_table(panel_of({2010: E}), rca_threshold=1.01)


def test_one_region():
    E = np.array([[10, 5, 5], [0, 0, 0]], dtype=float)
    with pytest.raises(
        ComplexityError,
        match=re.escape(
            "year 2010: complexity needs at least two regions with employment (found 1: R000)"
        ),
    ):
        complexity_table(panel_of({2010: E}))


def test_disconnected_presence():
    E = np.array(
        [[10, 5, 0, 0], [5, 10, 0, 0], [0, 0, 10, 5], [0, 0, 5, 10], [0, 0, 7, 7]], dtype=float
    )
    with pytest.raises(
        ComplexityError,
        match=re.escape(
            "year 2010: the presence matrix (RCA ≥ threshold) falls apart into 2 groups that "
            "share no industry, so ECI and PCI are not defined (the second eigenvector would "
            "only tell the groups apart): 3 regions (R002, R003, R004) with 2 industries "
            "(I002, I003); 2 regions (R000, R001) with 2 industries (I000, I001)."
        ),
    ):
        complexity_table(panel_of({2010: E}))


def test_bad_arguments():
    panel = panel_of({2010: E_EXAMPLE})
    with pytest.raises(ValueError, match="method must be 'eigenvector' or 'reflections'"):
        complexity_table(panel, method="eig")
    with pytest.raises(ValueError, match="presence='rpop' needs population"):
        complexity_table(panel, presence="rpop")
    with pytest.raises(ValueError, match="year 1999 is not in the panel"):
        complexity_table(panel, years=[1999])
