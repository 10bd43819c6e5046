"""The dominance rule's plan (issue #8): bounds of each cell's largest firm settle most cells,
the firm-level grouping decides the rest, and a bitmap tells when establishment ids are unique
per year. Every check is against an independent pandas computation of the largest firm."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusteratlas.sources.microdata import (
    VOTE_BITS,
    _columns_of,
    _establishments_unique,
    _id_summary,
    _parquet_ranges,
    aggregate,
    cells_expr,
    connect,
    dominance_bounds,
    read_microdata,
    top_firms_expr,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ibis"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ibis.*"),
]

KEYS = ["year", "region", "industry"]


def microdata(
    seed: int,
    n: int,
    *,
    text_ids: bool = False,
    firms: int = 4,
    step: int = 1,
    no_firm: float = 0.0,
    repeat: float = 0.0,
) -> pd.DataFrame:
    """Few regions, industries and ``firms``, so that firms often have several establishments in
    a cell; ``no_firm``: share of rows without a firm; ``repeat``: share of rows that repeat an
    establishment of the same year (with its firm)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "year": rng.choice([2020, 2021], n),
            "region": rng.choice(["DE111", "DE112", "DE121"], n),
            "industry": rng.choice(["10.11", "10.12", "25.11"], n),
            "employees": np.where(rng.random(n) < 0.1, 400, rng.integers(0, 40, n)),
            "establishment_id": np.arange(n) * 7 + 3,
        }
    )
    # ids that are multiples of ``step`` share their low bits (the votes then settle less)
    firm = pd.array(rng.integers(0, firms, n) * step + 11, "Int64")
    firm[rng.random(n) < no_firm] = pd.NA
    frame["firm_id"] = firm
    again = rng.random(n) < repeat
    if again.any():  # the same establishment (and firm) again in the same year and cell
        extra = frame[again].assign(employees=rng.integers(0, 40, int(again.sum())))
        frame = pd.concat([frame, extra], ignore_index=True)
    firm = frame["firm_id"]
    if text_ids:
        frame["establishment_id"] = "e" + frame["establishment_id"].astype(str)
        frame["firm_id"] = ("f" + firm.astype(str)).where(firm.notna(), None)
    return frame


def largest_firms(frame: pd.DataFrame) -> pd.DataFrame:
    """Per cell: employment, distinct establishments and the largest firm's employment, where
    an establishment without a firm is its own firm."""
    unit = (
        frame["firm_id"]
        .astype(object)
        .where(frame["firm_id"].notna(), "alone-" + frame["establishment_id"].astype(str))
    )
    firms = frame.assign(unit=unit.astype(str)).groupby([*KEYS, "unit"])["employees"].sum()
    cells = frame.groupby(KEYS).agg(
        employment=("employees", "sum"), establishments=("establishment_id", "nunique")
    )
    cells["top"] = firms.groupby(level=KEYS).max()
    return cells.reset_index()


def _write(frame: pd.DataFrame, folder: Path) -> Path:
    path = folder / "rows.parquet"
    frame.to_parquet(path, index=False)
    return path


def _bounds(path: Path, **plan) -> pd.DataFrame:
    with connect(threads=2) as con:
        table = read_microdata(con, [path], _columns_of([path], {}))
        cells = con.execute(cells_expr(table, vote_bits=VOTE_BITS, **plan))
    lower, upper = dominance_bounds(cells, firms=True)
    return cells.assign(lower=lower, upper=upper)


@pytest.mark.parametrize("text_ids", [False, True], ids=["integer-ids", "text-ids"])
def test_bounds_enclose_the_largest_firm_in_every_cell(tmp_path, text_ids):
    frame = microdata(5, 3_000, text_ids=text_ids, firms=3, no_firm=0.1, repeat=0.05)
    path = _write(frame, tmp_path)

    got = _bounds(path).merge(largest_firms(frame), on=KEYS, suffixes=("", "_expected"))

    assert len(got) == frame.groupby(KEYS).ngroups
    np.testing.assert_array_equal(got["employment"], got["employment_expected"])
    assert (got["lower"] <= got["top"]).all()
    assert (got["top"] <= got["upper"]).all()
    # the bounds are not trivial: they settle most cells at an 85% share
    limit = 0.85 * got["employment"]
    settled = (got["lower"] > limit) | (got["upper"] <= limit)
    assert settled.mean() > 0.5


def test_firm_level_pass_gives_the_largest_firm_of_the_cells_asked(tmp_path):
    frame = microdata(6, 2_000, no_firm=0.1, repeat=0.05)
    path = _write(frame, tmp_path)
    expected = largest_firms(frame)
    asked = expected.iloc[::3][KEYS]

    with connect(threads=2) as con:
        table = read_microdata(con, [path], _columns_of([path], {}))
        top = con.execute(top_firms_expr(table, asked))

    got = asked.merge(top, on=KEYS, how="left").merge(expected, on=KEYS)
    assert len(top) == len(asked)
    np.testing.assert_array_equal(got["top_firm_employment"], got["top"])


@pytest.mark.parametrize("statistics", [True, False], ids=["in-first-pass", "own-pass"])
def test_bitmap_tells_whether_establishment_ids_repeat_in_a_year(tmp_path, statistics):
    def unique(frame: pd.DataFrame) -> bool:
        path = _write(frame, tmp_path)
        columns = _columns_of([path], {})
        ranges = _parquet_ranges([path], columns) if statistics else None
        assert (ranges is not None) == statistics
        with connect(threads=2) as con:
            table = read_microdata(con, [path], columns)
            first = {"rows": table.count(), **_id_summary(table, ranges)}
            summary = con.execute(table.aggregate(**first)).iloc[0]
            return _establishments_unique(con, table, summary, ranges)

    base = pd.DataFrame(
        {
            "year": [2020, 2020, 2021, 2021],
            "region": "DE111",
            "industry": "10.11",
            "employees": 1,
            "establishment_id": [-5, 10**6, -5, 10**6],  # the same ids in another year
        }
    )
    assert unique(base)
    assert not unique(base.assign(establishment_id=[-5, -5, 10**6, 7]))
    assert not unique(base.assign(establishment_id=[0, 2**40, 1, 2]))  # too wide: not checked
    assert unique(base.assign(establishment_id=[7, 7, 7, 8], year=[2020, 2021, 2023, 2023]))
    assert not unique(base.assign(establishment_id=[7, 7, 7, 7], year=[2020, 2021, 2023, 2023]))
    if not statistics:  # (an empty id leaves a row group without statistics)
        assert not unique(base.assign(establishment_id=pd.array([-5, None, 1, 2], "Int64")))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 120),
    text_ids=st.booleans(),
    firms=st.integers(1, 8),
    step=st.sampled_from([1, 16]),
    no_firm=st.sampled_from([0.0, 0.3]),
    repeat=st.sampled_from([0.0, 0.2]),
    share=st.sampled_from([0.3, 0.5, 0.6, 0.85, 1.0]),
    min_establishments=st.sampled_from([0, 3]),
)
def test_sensitive_cells_are_exactly_those_of_the_rules(
    seed, n, text_ids, firms, step, no_firm, repeat, share, min_establishments
):
    frame = microdata(
        seed, n, text_ids=text_ids, firms=firms, step=step, no_firm=no_firm, repeat=repeat
    )
    expected = largest_firms(frame)
    sensitive = (expected["establishments"] < min_establishments) | (
        expected["top"] > share * expected["employment"]
    )
    with tempfile.TemporaryDirectory() as folder:
        result = aggregate(
            [_write(frame, Path(folder))],
            min_establishments=min_establishments,
            dominance_share=share,
        )

    got = result.panel.merge(
        expected.assign(sensitive=sensitive), on=KEYS, suffixes=("", "_expected")
    )
    assert len(got) == len(expected)
    assert result.primary == int(sensitive.sum())
    assert (got.loc[got["sensitive"], "flag"] == "confidential").all()
    shown = got[got["flag"] == ""]
    np.testing.assert_array_equal(shown["employment"], shown["employment_expected"])
    np.testing.assert_array_equal(shown["establishments"], shown["establishments_expected"])


@pytest.mark.parametrize("share", [0.4, 0.5, 0.6])
def test_firm_records_without_establishment_ids(tmp_path, share):
    """Without ``establishment_id`` each row is one establishment of its firm."""
    frame = microdata(8, 600, firms=3, step=16).drop(columns="establishment_id")
    firms = frame.groupby([*KEYS, "firm_id"])["employees"].sum()
    expected = frame.groupby(KEYS).agg(
        employment=("employees", "sum"), establishments=("employees", "size")
    )
    expected["top"] = firms.groupby(level=KEYS).max()
    sensitive = (expected["establishments"] < 3) | (
        expected["top"] > share * expected["employment"]
    )

    result = aggregate([_write(frame, tmp_path)], min_establishments=3, dominance_share=share)

    assert 0 < sensitive.sum() < len(sensitive)  # (the data discriminate)
    assert result.primary == int(sensitive.sum())
    got = result.panel.set_index(KEYS)
    assert (got.loc[sensitive[sensitive].index, "flag"] == "confidential").all()
