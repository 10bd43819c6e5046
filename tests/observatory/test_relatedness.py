"""Smart-specialisation applications: opportunities, peers, mentors, entry and exit.

Golden values are worked out by hand (see docs/indicators/relatedness.md) or with the plain
textbook formulas written out in the tests, independently of the implementation.
"""

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from clusteratlas.observatory.relatedness import (
    ENTRY_EXIT_COLUMNS,
    MENTOR_COLUMNS,
    OPPORTUNITY_COLUMNS,
    PEER_COLUMNS,
    REGRESSION_COLUMNS,
    entry_exit,
    mentors,
    opportunities,
    peers,
    similarity_matrix,
)
from conftest import RTOL

pytestmark = pytest.mark.unit

SETTINGS = settings(max_examples=60, deadline=None)

# ---------------------------------------------------------------------------------------------
# the worked example of docs/indicators/relatedness.md

INDUSTRIES = pd.Index(["A", "B", "C", "D", "E"])
REGIONS = pd.Index(["R1", "R2", "R3"])
PHI = np.array(
    [
        [1.0, 0.6, 0.2, 0.1, 0.0],
        [0.6, 1.0, 0.5, 0.3, 0.1],
        [0.2, 0.5, 1.0, 0.4, 0.2],
        [0.1, 0.3, 0.4, 1.0, 0.7],
        [0.0, 0.1, 0.2, 0.7, 1.0],
    ]
)
MCP = np.array(
    [
        [True, True, False, False, False],  # R1: A, B
        [False, False, True, True, True],  # R2: C, D, E
        [False, False, False, False, False],  # R3: nothing
    ]
)
PCI = np.array([0.5, -0.2, 1.2, -0.8, 0.9])


def density_of(mcp: np.ndarray, phi: np.ndarray) -> np.ndarray:
    # d_rj = sum_k M_rk phi_jk / sum_k phi_jk
    return (mcp.astype(float) @ phi) / phi.sum(axis=0)


def example_opportunities(**kwargs):
    return opportunities(
        kwargs.pop("region", "R1"),
        regions=REGIONS,
        industries=INDUSTRIES,
        mcp=MCP,
        density=density_of(MCP, PHI),
        pci=PCI,
        proximity=PHI,
        **kwargs,
    )


def test_opportunities_worked_example_matches_hand_computation():
    # column sums of phi: C 2.3, D 2.5, E 2.0; R1 holds A and B
    # d_C = (0.2 + 0.5) / 2.3, d_D = (0.1 + 0.3) / 2.5 = 0.16, d_E = 0.1 / 2.0 = 0.05
    # median density over C, D, E = 0.16; median PCI over all five = 0.5

    got = example_opportunities()

    assert list(got.columns) == list(OPPORTUNITY_COLUMNS)
    assert got["industry"].tolist() == ["C", "D", "E"]
    np.testing.assert_allclose(got["density"], [0.7 / 2.3, 0.16, 0.05], rtol=RTOL)
    assert got["pci"].tolist() == [1.2, -0.8, 0.9]
    assert got["quadrant"].astype(str).tolist() == [
        "high relatedness, high complexity",
        "high relatedness, low complexity",
        "low relatedness, high complexity",
    ]
    assert got["rank"].tolist() == [1, 2, 3]
    assert got["related"].tolist() == ["B (0.50), A (0.20)", "B (0.30), A (0.10)", "B (0.10)"]


def test_opportunities_explicit_thresholds_rank_within_a_quadrant_by_density():
    got = example_opportunities(density_threshold=0.2, pci_threshold=1.0)

    assert got[["industry", "quadrant"]].astype(str).values.tolist() == [
        ["C", "high relatedness, high complexity"],
        ["D", "low relatedness, low complexity"],
        ["E", "low relatedness, low complexity"],
    ]


def test_opportunities_top_and_related_limit_the_output():
    got = example_opportunities(top=2, related=1)

    assert got["industry"].tolist() == ["C", "D"]
    assert got["related"].tolist() == ["B (0.50)", "B (0.30)"]


def test_opportunities_of_a_fully_specialised_region_are_empty():
    mcp = MCP.copy()
    mcp[0] = True

    got = opportunities(
        "R1",
        regions=REGIONS,
        industries=INDUSTRIES,
        mcp=mcp,
        density=density_of(mcp, PHI),
        pci=PCI,
        proximity=PHI,
    )

    assert list(got.columns) == list(OPPORTUNITY_COLUMNS)
    assert len(got) == 0


def test_opportunities_leave_out_industries_without_density_or_complexity():
    # an industry without employment in the year has NaN RCA, density and PCI
    pci = PCI.copy()
    pci[3] = np.nan
    density = density_of(MCP, PHI)
    density[:, 4] = np.nan

    got = opportunities(
        "R1",
        regions=REGIONS,
        industries=INDUSTRIES,
        mcp=MCP,
        density=density,
        pci=pci,
        proximity=PHI,
    )

    assert got["industry"].tolist() == ["C"]


def test_opportunities_unknown_region_is_named():
    with pytest.raises(
        ValueError, match=re.escape("unknown region 'R9': not among the 3 regions (R1, R2, R3)")
    ):
        example_opportunities(region="R9")


def test_opportunities_region_without_specialisation_is_an_error():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "region 'R3' has no specialisation (no industry with RCA ≥ 1), so there is no "
            "relatedness to build on"
        ),
    ):
        example_opportunities(region="R3")


def test_opportunities_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match=re.escape("pci has shape (4,), expected (5,)")):
        opportunities(
            "R1",
            regions=REGIONS,
            industries=INDUSTRIES,
            mcp=MCP,
            density=density_of(MCP, PHI),
            pci=PCI[:4],
            proximity=PHI,
        )


# ---------------------------------------------------------------------------------------------
# similarity and peers

PROFILES = np.array(
    [
        [3.0, 4.0, 0.0],  # A
        [4.0, 3.0, 0.0],  # B
        [3.0, 4.0, 0.5],  # C
        [0.0, 0.0, 5.0],  # D
        [0.0, 0.0, 0.0],  # E: no employment
    ]
)
PEER_REGIONS = pd.Index(["A", "B", "C", "D", "E"])


def test_similarity_matrix_matches_hand_cosines():
    got = similarity_matrix(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0], [3.0, 4.0]]))

    h = 1 / math.sqrt(2)
    expected = np.array(
        [
            [1.0, h, 0.0, 0.6],
            [h, 1.0, h, 7 / (5 * math.sqrt(2))],
            [0.0, h, 1.0, 0.8],
            [0.6, 7 / (5 * math.sqrt(2)), 0.8, 1.0],
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-15)
    assert got.dtype == np.float64


def test_similarity_matrix_zero_rows_are_nan():
    got = similarity_matrix(PROFILES)

    assert np.isnan(got[4]).all()
    assert np.isnan(got[:, 4]).all()
    assert got[0, 1] == pytest.approx(24 / 25, rel=RTOL)


def test_similarity_matrix_counts_nan_as_zero_and_rejects_infinity():
    # RCA is 0/0 = NaN for a region or industry without employment
    got = similarity_matrix(np.array([[1.0, np.nan], [1.0, 1.0], [np.nan, np.nan]]))

    assert got[0, 1] == pytest.approx(1 / math.sqrt(2), rel=RTOL)
    assert np.isnan(got[2]).all()
    with pytest.raises(ValueError, match="profiles contain infinite values"):
        similarity_matrix(np.array([[1.0, np.inf]]))


def test_peers_rank_by_rca_similarity_with_shares_beside():
    shares = PROFILES / np.maximum(PROFILES.sum(axis=1, keepdims=True), 1)

    got = peers("A", regions=PEER_REGIONS, rca=PROFILES, shares=shares, top=None)

    assert list(got.columns) == list(PEER_COLUMNS)
    assert got["region"].tolist() == ["C", "B", "D", "E"]
    # A·C = 25, |A| = 5, |C| = sqrt(25.25); A·B = 24, |B| = 5
    np.testing.assert_allclose(
        got["similarity_rca"].to_numpy()[:3], [25 / (5 * math.sqrt(25.25)), 24 / 25, 0.0]
    )
    assert np.isnan(got["similarity_rca"].iloc[3])
    # shares are the same rows scaled, so their cosines are the same
    np.testing.assert_allclose(got["similarity_shares"], got["similarity_rca"], rtol=RTOL)
    assert got["rank"].tolist() == [1, 2, 3, pd.NA]


def test_peers_top_keeps_the_most_similar():
    got = peers("A", regions=PEER_REGIONS, rca=PROFILES, top=1)

    assert got["region"].tolist() == ["C"]
    assert np.isnan(got["similarity_shares"]).all()


def test_peers_with_shares_only_rank_by_shares():
    shares = np.array([[0.5, 0.5], [0.25, 0.75], [0.0, 1.0]])

    got = peers("A", regions=pd.Index(["A", "B", "C"]), shares=shares)

    assert got["region"].tolist() == ["B", "C"]
    # (0.125 + 0.375) / (sqrt(0.5) sqrt(0.625)) = 2 / sqrt(5); 0.5 / sqrt(0.5) = sqrt(0.5)
    np.testing.assert_allclose(got["similarity_shares"], [2 / math.sqrt(5), math.sqrt(0.5)])


def test_peers_degenerate_inputs_have_clear_messages():
    with pytest.raises(ValueError, match=re.escape("peers needs rca or shares (or both)")):
        peers("A", regions=PEER_REGIONS)
    with pytest.raises(ValueError, match=re.escape("unknown region 'Z'")):
        peers("Z", regions=PEER_REGIONS, rca=PROFILES)
    with pytest.raises(ValueError, match=re.escape("region 'E' has an all-zero rca profile")):
        peers("E", regions=PEER_REGIONS, rca=PROFILES)


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
        elements=st.floats(-1e3, 1e3, allow_subnormal=False),
    )
)
@SETTINGS
def test_similarity_matrix_is_symmetric_bounded_with_unit_diagonal(X):
    S = similarity_matrix(X)

    defined = np.abs(X).max(axis=1) > 0
    D = S[np.ix_(defined, defined)]
    assert np.isnan(S[~defined]).all()
    np.testing.assert_array_equal(D, D.T)
    assert ((D >= -1) & (D <= 1)).all()
    np.testing.assert_array_equal(np.diag(D), 1.0)


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 8), st.integers(1, 6)),
        elements=st.floats(0, 1e3, allow_subnormal=False),
    ),
    st.floats(1e-3, 1e3),
)
@SETTINGS
def test_similarity_of_non_negative_profiles_is_in_unit_interval_and_scale_free(X, c):
    S = similarity_matrix(X)
    scaled = similarity_matrix(X * c)

    defined = ~np.isnan(S)
    assert ((S[defined] >= 0) & (S[defined] <= 1)).all()
    np.testing.assert_allclose(scaled, S, rtol=1e-12, atol=1e-12)


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 8), st.integers(1, 6)),
        elements=st.floats(0, 100, allow_subnormal=False),
    ),
    st.data(),
)
@SETTINGS
def test_peers_agree_with_the_similarity_matrix(X, data):
    r = data.draw(st.integers(0, X.shape[0] - 1))
    assume(X[r].any())
    labels = pd.Index([f"R{k}" for k in range(X.shape[0])])

    got = peers(labels[r], regions=labels, rca=X, top=None)

    S = similarity_matrix(X)
    expected = S[r, labels.get_indexer(got["region"])]
    np.testing.assert_allclose(got["similarity_rca"], expected, rtol=1e-12, atol=1e-12)
    defined = got["similarity_rca"].dropna().to_numpy()
    assert (np.diff(defined) <= 0).all()


# ---------------------------------------------------------------------------------------------
# mentors

ECI = pd.Series({"A": 0.0, "B": 1.0, "C": 2.0, "D": -1.0}, name="eci")
MENTOR_REGIONS = pd.Index(["A", "B", "C", "D"])


def test_mentors_worked_example_matches_the_rule():
    # sd(0, 1, 2, -1) = sqrt(5/3) = 1.291; half of it is 0.645
    # cos(A, C) = 25 / (5 sqrt(25.25)) = 0.995, cos(A, B) = 0.96, cos(B, C) = 0.955,
    # D is dissimilar to everyone (cos ≤ 0.1)

    got = mentors(regions=MENTOR_REGIONS, profiles=PROFILES[:4], indicator=ECI)

    assert list(got.columns) == list(MENTOR_COLUMNS)
    assert got[["region", "mentor", "rank"]].values.tolist() == [
        ["A", "C", 1],
        ["A", "B", 2],
        ["B", "C", 1],
    ]
    c = math.sqrt(25.25)
    np.testing.assert_allclose(got["similarity"], [25 / (5 * c), 24 / 25, 24 / (5 * c)])
    assert got["gap"].tolist() == [2.0, 1.0, 1.0]
    assert got["indicator_region"].tolist() == [0.0, 0.0, 1.0]
    assert got["indicator_mentor"].tolist() == [2.0, 1.0, 2.0]


def test_mentors_mentor_view_lists_whom_a_region_could_mentor():
    got = mentors(regions=MENTOR_REGIONS, profiles=PROFILES[:4], indicator=ECI, view="mentor")

    assert got[["mentor", "region", "rank"]].values.tolist() == [
        ["B", "A", 1],
        ["C", "A", 1],
        ["C", "B", 2],
    ]


def test_mentors_for_one_region_and_top():
    mentee = mentors(
        regions=MENTOR_REGIONS, profiles=PROFILES[:4], indicator=ECI, region="A", top=1
    )
    mentor = mentors(
        regions=MENTOR_REGIONS, profiles=PROFILES[:4], indicator=ECI, region="C", view="mentor"
    )

    assert mentee[["region", "mentor"]].values.tolist() == [["A", "C"]]
    assert mentor[["mentor", "region"]].values.tolist() == [["C", "A"], ["C", "B"]]


def test_mentors_min_gap_is_in_standard_deviations():
    # gaps of 1 are 0.77 sd: kept at min_gap 0.7, dropped at 0.8 (the gap of 2 = 1.55 sd stays)
    loose = mentors(regions=MENTOR_REGIONS, profiles=PROFILES[:4], indicator=ECI, min_gap=0.7)
    strict = mentors(regions=MENTOR_REGIONS, profiles=PROFILES[:4], indicator=ECI, min_gap=0.8)

    assert len(loose) == 3
    assert strict[["region", "mentor"]].values.tolist() == [["A", "C"]]


def test_mentors_regions_without_indicator_are_left_out():
    eci = ECI.drop("C")

    got = mentors(regions=MENTOR_REGIONS, profiles=PROFILES[:4], indicator=eci)

    # sd(0, 1, -1) = 1: B leads A by 1 sd
    assert got[["region", "mentor"]].values.tolist() == [["A", "B"]]


def test_mentors_degenerate_inputs_have_clear_messages():
    kwargs = {"regions": PEER_REGIONS, "profiles": PROFILES}
    eci = pd.concat([ECI, pd.Series({"E": 0.5})]).rename("eci")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "region 'E' has an all-zero profile (no specialisation), so no region is similar to it"
        ),
    ):
        mentors(**kwargs, indicator=eci, region="E")
    with pytest.raises(ValueError, match=re.escape("unknown region 'Z'")):
        mentors(**kwargs, indicator=eci, region="Z")
    with pytest.raises(
        ValueError,
        match=re.escape("indicator 'rd' is constant, so no region is stronger than another"),
    ):
        mentors(**kwargs, indicator=pd.Series(1.0, index=PEER_REGIONS, name="rd"))
    with pytest.raises(
        ValueError,
        match=re.escape("indicator 'eci' has a value for 1 of the 5 regions; mentors need at"),
    ):
        mentors(**kwargs, indicator=ECI.iloc[:1])
    with pytest.raises(ValueError, match=re.escape("region 'D' has no value of indicator 'eci'")):
        mentors(**kwargs, indicator=ECI.drop("D"), region="D")


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 7), st.integers(1, 5)),
        elements=st.floats(0, 10, allow_subnormal=False),
    ),
    st.data(),
    st.floats(0, 1),
    st.floats(0, 2),
)
@SETTINGS
def test_mentors_every_pair_satisfies_the_rule_and_none_is_missed(X, data, threshold, gap):
    n = X.shape[0]
    y = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    assume(np.std(y, ddof=1) > 1e-6)
    labels = pd.Index([f"R{k}" for k in range(n)])

    got = mentors(
        regions=labels,
        profiles=X,
        indicator=pd.Series(y, index=labels),
        similarity_threshold=threshold,
        min_gap=gap,
        top=None,
    )

    S = similarity_matrix(X)
    sd = np.std(y, ddof=1)
    expected = {
        (labels[r], labels[m])
        for r in range(n)
        for m in range(n)
        if r != m and S[r, m] >= threshold and y[m] - y[r] >= gap * sd
    }
    assert set(zip(got["region"], got["mentor"], strict=True)) == expected


# ---------------------------------------------------------------------------------------------
# entry and exit

EE_REGIONS = pd.Index(["R1", "R2", "R3", "R4", "R5"])
EE_INDUSTRIES = pd.Index(["a", "b"])
# industry a: every region below 1 in 2010, densities 0.1 … 0.5, R3 and R5 enter
# industry b: every region specialised in 2010; R2 and R4 exit
RCA_2010 = np.array([[0.5, 2.0], [0.5, 2.0], [0.5, 2.0], [0.5, 2.0], [0.5, 2.0]])
RCA_2015 = np.array([[0.5, 2.0], [0.8, 0.9], [1.2, 2.0], [0.9, 0.4], [1.0, 2.0]])
DENSITY_2010 = np.array([[0.1, 0.9], [0.2, 0.9], [0.3, 0.9], [0.4, 0.9], [0.5, 0.9]])


def example_entry_exit(**kwargs):
    return entry_exit(
        kwargs.pop("years_rca", {2010: RCA_2010, 2015: RCA_2015}),
        kwargs.pop("years_density", {2010: DENSITY_2010}),
        regions=EE_REGIONS,
        industries=EE_INDUSTRIES,
        start=2010,
        end=2015,
        **kwargs,
    )


def test_entry_exit_events_table():
    got = example_entry_exit().events

    assert list(got.columns) == list(ENTRY_EXIT_COLUMNS)
    assert got.astype({"event": str}).values.tolist() == [
        ["R2", "b", "exit", 2.0, 0.9, 0.9],
        ["R3", "a", "entry", 0.5, 1.2, 0.3],
        ["R4", "b", "exit", 2.0, 0.4, 0.9],
        ["R5", "a", "entry", 0.5, 1.0, 0.5],
    ]


def test_entry_regression_matches_hand_computation():
    # x = 0.1 … 0.5, y = 0 0 1 0 1: x̄ = 0.3, ȳ = 0.4, Sxx = 0.1, Sxy = 0.2
    # slope 2, intercept -0.2, residuals 0 -0.2 0.6 -0.6 0.2, SSE 0.8, SST 1.2, R² = 1/3
    # HC0 var(slope) = Σ (x - x̄)² e² / Sxx² = 0.0056 / 0.01; HC1 multiplies by n/(n-k) = 5/3

    got = example_entry_exit()

    table = got.regression
    assert list(table.columns) == list(REGRESSION_COLUMNS)
    assert table["term"].tolist() == ["intercept", "density"]
    np.testing.assert_allclose(table["coefficient"], [-0.2, 2.0], rtol=RTOL, atol=1e-14)
    se_slope = math.sqrt(5 / 3 * 0.56)
    x = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    e = np.array([0.0, -0.2, 0.6, -0.6, 0.2])
    X = np.column_stack([np.ones(5), x])
    bread = np.linalg.inv(X.T @ X)
    V = 5 / 3 * bread @ (X.T @ np.diag(e**2) @ X) @ bread
    np.testing.assert_allclose(table["std_error"], [math.sqrt(V[0, 0]), se_slope], rtol=1e-9)
    t = 2.0 / se_slope
    assert table["t"].iloc[1] == pytest.approx(t, rel=1e-9)
    assert table["p_value"].iloc[1] == pytest.approx(2 * stats.t.sf(t, df=3), rel=1e-9)
    assert table["n"].tolist() == [5, 5]
    assert got.r_squared == pytest.approx(1 / 3, rel=RTOL)
    assert (got.n, got.n_entries) == (5, 2)


def test_entry_regression_with_fixed_effects_equals_dummy_variable_ols():
    rng = np.random.default_rng(7)
    n_r, n_i = 6, 8
    a = rng.uniform(0, 2, (n_r, n_i))
    b = a + rng.normal(0, 0.6, (n_r, n_i))
    d = rng.uniform(0, 1, (n_r, n_i))
    regions = pd.Index([f"R{k}" for k in range(n_r)])
    industries = pd.Index([f"I{k}" for k in range(n_i)])
    rr, ii = np.nonzero(a < 1)
    y = (b[rr, ii] >= 1).astype(float)
    x = d[rr, ii]
    n = len(y)

    for fe in ("region", "industry", "both"):
        got = entry_exit(
            {1: a, 2: b},
            {1: d},
            regions=regions,
            industries=industries,
            start=1,
            end=2,
            fixed_effects=fe,
        )

        cols = [x]
        if fe in ("region", "both"):
            cols += [(rr == g).astype(float) for g in np.unique(rr)]
        if fe in ("industry", "both"):
            levels = np.unique(ii)
            cols += [(ii == g).astype(float) for g in (levels[1:] if fe == "both" else levels)]
        Z = np.column_stack(cols)
        k = np.linalg.matrix_rank(Z)
        beta, *_ = np.linalg.lstsq(Z, y, rcond=None)
        e = y - Z @ beta
        bread = np.linalg.pinv(Z.T @ Z)
        V = n / (n - k) * bread @ (Z.T @ (Z * (e**2)[:, None])) @ bread
        row = got.regression.iloc[0]
        assert got.regression["term"].tolist() == ["density"]
        assert row["coefficient"] == pytest.approx(beta[0], rel=1e-8)
        assert row["std_error"] == pytest.approx(math.sqrt(V[0, 0]), rel=1e-7)
        assert row["p_value"] == pytest.approx(
            2 * stats.t.sf(abs(beta[0]) / math.sqrt(V[0, 0]), df=n - k), rel=1e-6
        )


@given(
    st.lists(st.floats(0, 1, allow_subnormal=False), min_size=4, max_size=30),
    st.data(),
)
@SETTINGS
def test_entry_coefficient_flips_sign_when_entries_are_mirrored(x, data):
    n = len(x)
    entered = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    xs = np.array(x)
    assume(0 < entered.sum() < n and np.ptp(xs) > 1e-3)
    labels = pd.Index([f"R{k}" for k in range(n)])

    def fit(e):
        return entry_exit(
            {0: np.full((n, 1), 0.5), 1: np.where(e, 2.0, 0.5)[:, None]},
            {0: xs[:, None]},
            regions=labels,
            industries=pd.Index(["a"]),
            start=0,
            end=1,
        ).regression.set_index("term")

    got, mirrored = fit(entered), fit(~entered)

    assert mirrored.loc["density", "coefficient"] == pytest.approx(
        -got.loc["density", "coefficient"], rel=1e-9, abs=1e-12
    )
    assert mirrored.loc["density", "std_error"] == pytest.approx(
        got.loc["density", "std_error"], rel=1e-9, abs=1e-12
    )


def test_entry_exit_without_regression_lists_events_only():
    got = example_entry_exit(years_rca={2010: RCA_2010, 2015: RCA_2010}, regress=False)

    assert got.regression is None
    assert len(got.events) == 0
    assert (got.n, got.n_entries) == (5, 0)


def test_entry_exit_degenerate_inputs_have_clear_messages():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "no region entered any industry between 2010 and 2015 (threshold 1.0, 5 pairs at "
            "risk): the entry regression is undefined"
        ),
    ):
        example_entry_exit(years_rca={2010: RCA_2010, 2015: RCA_2010})
    with pytest.raises(ValueError, match=re.escape("no RCA for year 2015 (years given: 2010)")):
        example_entry_exit(years_rca={2010: RCA_2010})
    with pytest.raises(
        ValueError, match=re.escape("no relatedness density for year 2010 (years given: 2015)")
    ):
        example_entry_exit(years_density={2015: DENSITY_2010})
    with pytest.raises(
        ValueError,
        match=re.escape(
            "relatedness density in 2010 has no variation among the 5 pairs at risk of entry: "
            "its coefficient is undefined"
        ),
    ):
        example_entry_exit(years_density={2010: np.full((5, 2), 0.4)})
    with pytest.raises(
        ValueError,
        match=re.escape(
            "relatedness density in 2010 has no variation among the 5 pairs at risk of entry "
            "after removing region fixed effects"
        ),
    ):
        # one pair at risk per region: region effects absorb everything
        example_entry_exit(fixed_effects="region")
    with pytest.raises(ValueError, match=re.escape("start (2015) must be before end (2010)")):
        entry_exit({}, {}, regions=EE_REGIONS, industries=EE_INDUSTRIES, start=2015, end=2010)
    with pytest.raises(
        ValueError,
        match=re.escape("no region–industry pair is below the threshold 1.0 in 2010"),
    ):
        example_entry_exit(years_rca={2010: np.full((5, 2), 3.0), 2015: RCA_2015})
