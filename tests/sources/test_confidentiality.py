"""Suppression never reveals a withheld cell: an intruder who knows the published cells and the
region and industry totals solves a linear programme for the smallest and largest value of each
withheld cell, and the answer is always an interval, at least ±(smallest withheld value) wide."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from clusteratlas.sources.confidentiality import (
    COMPLEMENTARY,
    PRIMARY,
    complementary_suppression,
    primary_suppression,
    suppress,
)

pytestmark = pytest.mark.unit


def attack(values, rows, cols, withheld):
    """``(lower, upper)`` of every withheld cell given the published cells and both margins
    (non-negative unknowns), by linear programming: what an intruder can learn."""
    hidden = np.flatnonzero(withheld)
    n = len(hidden)
    row_ids, col_ids = np.unique(rows), np.unique(cols)
    a_eq, b_eq = [], []
    for ids, axis in ((row_ids, rows), (col_ids, cols)):
        for i in ids:
            in_line = axis == i
            total = values[in_line].sum()
            published = values[in_line & ~withheld].sum()
            a_eq.append((axis[hidden] == i).astype(float))
            b_eq.append(total - published)
    bounds = [(0, None)] * n
    lower, upper = np.empty(n), np.empty(n)
    for j in range(n):
        c = np.zeros(n)
        c[j] = 1.0
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert lo.status == 0
        assert hi.status == 0
        lower[j], upper[j] = lo.fun, -hi.fun
    return hidden, lower, upper


@st.composite
def tables(draw):
    """A regions × industries table of non-negative whole values with some empty cells, and a
    primary pattern."""
    n_rows = draw(st.integers(2, 7))
    n_cols = draw(st.integers(2, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dense = rng.integers(1, 500, size=(n_rows, n_cols)).astype(float)
    dense[rng.random((n_rows, n_cols)) < draw(st.floats(0, 0.4))] = 0
    rows, cols = np.nonzero(dense)
    values = dense[rows, cols]
    primary = rng.random(len(values)) < draw(st.floats(0.05, 0.4))
    return values, rows, cols, primary


@given(tables())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_withheld_cells_cannot_be_recovered_from_the_margins(table):
    values, rows, cols, primary = table

    withheld, unprotected = complementary_suppression(values, rows, cols, primary)

    assert np.all(withheld[primary])
    if not withheld.any():
        return
    hidden, lower, upper = attack(values, rows, cols, withheld)
    protected = ~np.isin(hidden, unprotected)
    smallest = values[withheld].min()
    tol = 1e-6 * max(1.0, values.max())
    assert np.all(lower <= values[hidden] + tol)
    assert np.all(upper >= values[hidden] - tol)
    # every protected cell moves at least by the smallest withheld value either way
    assert np.all(upper[protected] - values[hidden][protected] >= smallest - tol)
    assert np.all(values[hidden][protected] - lower[protected] >= smallest - tol)
    # an unprotected cell is exposed by the margins alone: even with every cell withheld the
    # intruder finds its value (e.g. the only non-empty cell of its region)
    if len(unprotected):
        everything = np.ones(len(values), dtype=bool)
        hidden_all, lo_all, hi_all = attack(values, rows, cols, everything)
        exposed = hi_all - lo_all <= tol
        assert set(unprotected.tolist()) <= set(hidden_all[exposed].tolist())


def test_single_withheld_cell_in_a_row_gets_complements():
    # 3 × 3 full table, one primary cell: a 2 × 2 block (4 cells) is the least that protects it
    dense = np.array([[10.0, 50, 60], [70, 5, 80], [90, 100, 110]])
    rows, cols = np.nonzero(dense)
    values = dense[rows, cols]
    primary = (rows == 1) & (cols == 1)

    withheld, unprotected = complementary_suppression(values, rows, cols, primary)

    # cheapest cycle through (1, 1): (1, 0) 70 + (0, 0) 10 + (0, 1) 50
    assert sorted(zip(rows[withheld].tolist(), cols[withheld].tolist(), strict=True)) == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    assert unprotected.tolist() == []


def test_cell_alone_in_its_region_is_reported_unprotected():
    rows = np.array([0, 1, 1])
    cols = np.array([0, 0, 1])
    values = np.array([4.0, 6.0, 9.0])
    primary = np.array([True, False, False])

    _, unprotected = complementary_suppression(values, rows, cols, primary)

    assert unprotected.tolist() == [0]


def test_primary_rules_threshold_and_dominance():
    cells = pd.DataFrame(
        {
            "employment": [100.0, 100.0, 100.0, 100.0],
            "establishments": [2, 5, 5, 5],
            "top_firm_employment": [10.0, 86.0, 85.0, 20.0],
        }
    )

    sensitive = primary_suppression(cells, min_establishments=3, dominance_share=0.85)

    assert sensitive.tolist() == [True, True, False, False]


def test_suppress_works_year_by_year_and_names_reasons():
    years = []
    for year, bump in ((2020, 0), (2021, 7)):
        for r in ("A", "B", "C"):
            for i in ("x", "y", "z"):
                years.append((year, r, i, 10 + bump + ord(r) + ord(i) % 5, 3 + (r == "A")))
    cells = pd.DataFrame(
        years, columns=["year", "region", "industry", "employment", "establishments"]
    )
    cells.loc[
        (cells.year == 2021) & (cells.region == "B") & (cells.industry == "y"), "establishments"
    ] = 1

    result = suppress(cells, min_establishments=3)

    assert result.primary == 1
    assert result.complementary == 3
    assert set(cells.year[result.withheld]) == {2021}
    assert set(result.reason[result.withheld]) == {PRIMARY, COMPLEMENTARY}
