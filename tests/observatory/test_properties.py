"""Invariants of the cluster indicators on random panels (Hypothesis)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusteratlas.observatory import (
    ClusterDefinitions,
    Panel,
    cluster_table,
    industry_indices,
    region_indices,
    shift_share,
)

pytestmark = pytest.mark.unit

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def panel_frames(draw, max_regions=7, max_industries=6, max_years=3):
    n_r = draw(st.integers(2, max_regions))
    n_i = draw(st.integers(1, max_industries))
    years = list(range(2010, 2010 + draw(st.integers(1, max_years))))
    cells = n_r * n_i * len(years)
    emp = draw(st.lists(st.integers(0, 5000) | st.just(0), min_size=cells, max_size=cells))
    est = draw(st.lists(st.integers(1, 50), min_size=cells, max_size=cells))
    rows = [
        (y, f"R{r}", f"I{i}", e, s, e * 31)
        for (y, r, i), e, s in zip(
            ((y, r, i) for y in years for r in range(n_r) for i in range(n_i)),
            emp,
            est,
            strict=True,
        )
        if e > 0
    ]
    if not rows:
        rows = [(years[0], "R0", "I0", 1, 1, 31)]
    return pd.DataFrame(
        rows, columns=["year", "region", "industry", "employment", "establishments", "payroll"]
    )


def _types(frame):
    inds = sorted(frame["industry"].unique())
    return ClusterDefinitions.from_frame(
        pd.DataFrame(
            {
                "industry": inds,
                "cluster": inds,
                "cluster_name": inds,
                "type": ["traded" if k % 2 == 0 else "local" for k in range(len(inds))],
            }
        )
    )


@SETTINGS
@given(panel_frames())
def test_lq_employment_weighted_mean_is_one(frame):
    panel = Panel.from_frame(frame)

    table = cluster_table(panel)

    totals = frame.groupby(["year", "region"])["employment"].sum()
    weights = totals.reindex(
        pd.MultiIndex.from_arrays([table["year"], table["region"].astype(str)])
    ).to_numpy()
    grand = frame.groupby("year")["employment"].sum()
    weighted = (table["lq"] * weights).groupby([table["year"], table["cluster"].astype(str)]).sum()
    expected = 1.0 * np.ones(len(weighted))
    by_year = grand.reindex(weighted.index.get_level_values(0)).to_numpy()
    np.testing.assert_allclose(weighted.to_numpy() / by_year, expected, rtol=1e-9)


@SETTINGS
@given(panel_frames())
def test_lq_type_base_weighted_mean_is_one_within_type(frame):
    panel = Panel.from_frame(frame)
    defs = _types(frame)
    kind = defs.clusters["type"]

    table = cluster_table(panel, defs, lq_base="type")

    frame = frame.assign(type=kind.reindex(frame["industry"]).to_numpy())
    region_type = frame.groupby(["year", "region", "type"])["employment"].sum()
    weights = region_type.reindex(
        pd.MultiIndex.from_arrays(
            [table["year"], table["region"].astype(str), table["type"].astype(str)]
        )
    ).to_numpy()
    weighted = (
        (table["lq"] * weights)
        .groupby([table["year"], table["cluster"].astype(str), table["type"].astype(str)])
        .sum()
    )
    type_total = frame.groupby(["year", "type"])["employment"].sum()
    denom = type_total.reindex(
        pd.MultiIndex.from_arrays(
            [weighted.index.get_level_values(0), weighted.index.get_level_values(2)]
        )
    ).to_numpy()
    np.testing.assert_allclose(weighted.to_numpy() / denom, 1.0, rtol=1e-9)


@SETTINGS
@given(panel_frames())
def test_shares_sum_to_one(frame):
    panel = Panel.from_frame(frame)

    table = cluster_table(panel)

    by_region = table.groupby(["year", "region"], observed=True)["region_share"].sum()
    by_cluster = table.groupby(["year", "cluster"], observed=True)["cluster_share"].sum()
    np.testing.assert_allclose(by_region.to_numpy(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(by_cluster.to_numpy(), 1.0, rtol=1e-12)


@SETTINGS
@given(panel_frames(max_years=3), st.sampled_from(["cluster", "region"]))
def test_shift_share_components_add_up_to_change(frame, by):
    panel = Panel.from_frame(frame)
    y0, y1 = panel.years[0], panel.years[-1]

    table = shift_share(panel, base_year=y0, year=y1, by=by)

    parts = table["national_growth"] + table["industry_mix"] + table["regional_shift"]
    np.testing.assert_allclose(parts, table["change"], rtol=1e-9, atol=1e-7)
    np.testing.assert_array_equal(table["change"], table["employment"] - table["employment_base"])


@SETTINGS
@given(panel_frames(), st.randoms(use_true_random=False))
def test_results_invariant_to_row_order(frame, random):
    order = list(range(len(frame)))
    random.shuffle(order)
    shuffled = frame.iloc[order]
    defs = _types(frame)

    a = cluster_table(Panel.from_frame(frame), defs, base_year=int(frame["year"].min()))
    b = cluster_table(Panel.from_frame(shuffled), defs, base_year=int(frame["year"].min()))

    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(
        region_indices(Panel.from_frame(frame), defs),
        region_indices(Panel.from_frame(shuffled), defs),
    )


@SETTINGS
@given(panel_frames())
def test_results_invariant_to_scaling(frame):
    # Scaling by a power of two is exact in floating point, so every comparison with a
    # percentile threshold must come out the same; any factor must leave shares unchanged.
    defs = _types(frame)
    base = cluster_table(Panel.from_frame(frame), defs)
    scaled4 = cluster_table(
        Panel.from_frame(
            frame.assign(
                employment=frame["employment"] * 4,
                establishments=frame["establishments"] * 4,
                payroll=frame["payroll"] * 4,
            )
        ),
        defs,
    )
    scaled3 = cluster_table(
        Panel.from_frame(frame.assign(employment=frame["employment"] * 3)), defs
    )

    cols = ["lq", "region_share", "cluster_share", "wage"]
    pd.testing.assert_frame_equal(base[cols], scaled4[cols])
    flags = [
        "size_star",
        "specialisation_star",
        "focus_star",
        "stars",
        "qualifying",
        "significant",
        "strong",
        "strong10",
    ]
    pd.testing.assert_frame_equal(base[flags], scaled4[flags])
    np.testing.assert_allclose(scaled3["lq"], base["lq"], rtol=1e-12)


@SETTINGS
@given(panel_frames())
def test_region_and_industry_indices_lie_in_their_ranges(frame):
    panel = Panel.from_frame(frame)

    regions = region_indices(panel)
    industries = industry_indices(panel)

    n = (
        frame.groupby(["year", "region"])["industry"]
        .nunique()
        .reindex(pd.MultiIndex.from_frame(regions[["year", "region"]]))
        .to_numpy()
    )
    assert (regions["herfindahl"] >= 1 / n - 1e-12).all()
    assert (regions["herfindahl"] <= 1 + 1e-12).all()
    assert (regions["entropy"] <= np.log(n) + 1e-12).all()
    assert (regions["entropy"] >= -1e-12).all()
    np.testing.assert_allclose(regions["hoover"], regions["krugman"] / 2)
    assert regions["krugman"].between(-1e-12, 2 + 1e-12).all()
    assert industries["hoover"].between(-1e-12, 1 + 1e-12).all()
    assert industries["gini"].between(-1e-12, 1 + 1e-12).all()
    assert (industries["eg_raw"] >= 0).all()


@SETTINGS
@given(panel_frames())
def test_stars_are_the_sum_of_the_three_stars(frame):
    table = cluster_table(Panel.from_frame(frame))

    total = (
        table["size_star"].astype(int)
        + table["specialisation_star"].astype(int)
        + table["focus_star"].astype(int)
    )
    assert (table["stars"] == total).all()
    assert (table["specialisation_star"] == (table["lq"] >= 2)).all()
