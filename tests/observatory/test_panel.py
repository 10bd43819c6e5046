import numpy as np
import pandas as pd
import pytest

from clusteratlas.observatory import ExtraColumnsWarning, Hierarchy, Panel, PanelError

pytestmark = pytest.mark.unit


def _frame():
    return pd.DataFrame(
        {
            "year": [2020, 2020, 2020, 2020, 2021],
            "region": ["DE111", "DE112", "DE121", "DE111", "DE111"],
            "industry": ["10.11", "10.12", "10.11", "29.10", "10.11"],
            "employment": [10.0, 20.0, 30.0, 40.0, 15.0],
            "establishments": [1, 2, 3, 4, 2],
            "flag": ["", "e", "c", "", ""],
        }
    )


def test_panel_from_frame_round_trips_through_to_frame():
    frame = _frame()

    out = Panel.from_frame(frame).to_frame()

    expected = frame.sort_values(["year", "region", "industry"], ignore_index=True)
    assert (
        out[["year", "region", "industry"]].values.tolist()
        == expected[["year", "region", "industry"]].values.tolist()
    )
    assert out["employment"].tolist() == expected["employment"].tolist()
    assert out["establishments"].tolist() == expected["establishments"].astype(float).tolist()
    assert out["flag"].tolist() == expected["flag"].tolist()


def test_panel_is_immutable():
    panel = Panel.from_frame(_frame())

    m = panel.matrix("employment", 2020)

    with pytest.raises(ValueError, match="read-only"):
        m.data[0] = 99.0


def test_panel_flags_keep_confidential_cell_without_value():
    frame = _frame()
    frame.loc[2, "employment"] = np.nan  # withheld, flagged 'c'

    panel = Panel.from_frame(frame)

    flags = panel.flags.sort_values(["region"]).reset_index(drop=True)
    assert flags.values.tolist() == [[2020, "DE112", "10.12", "e"], [2020, "DE121", "10.11", "c"]]
    assert panel.dense("employment", 2020).sum() == 70.0


def test_panel_rollup_nuts_and_nace_sums_and_unions_flags():
    frame = _frame()
    panel = Panel.from_frame(
        frame,
        region_hierarchy=Hierarchy.nuts(frame["region"]),
        industry_hierarchy=Hierarchy.nace(frame["industry"]),
    )

    up = panel.rollup(region_level=1, industry_level=1)

    assert list(up.regions) == ["DE1"]
    assert list(up.industries) == ["C"]
    assert up.dense("employment", 2020).tolist() == [[100.0]]
    assert up.dense("establishments", 2021).tolist() == [[2.0]]
    assert up.flags.values.tolist() == [[2020, "DE1", "C", "c,e"]]


def test_panel_rollup_to_division_keeps_divisions_apart():
    frame = _frame()
    panel = Panel.from_frame(frame, industry_hierarchy=Hierarchy.nace(frame["industry"]))

    up = panel.rollup(industry_level=2)

    assert list(up.industries) == ["10", "29"]
    assert up.dense("employment", 2020).sum(axis=0).tolist() == [60.0, 40.0]


def test_panel_select_years_and_regions():
    panel = Panel.from_frame(_frame())

    sub = panel.select(years=[2020], regions=["DE121", "DE111"])

    assert sub.years == (2020,)
    assert list(sub.regions) == ["DE111", "DE121"]
    assert sub.flags.values.tolist() == [[2020, "DE121", "10.11", "c"]]


def test_panel_from_frame_reports_every_bad_value_with_row_and_field():
    frame = _frame().astype(object)
    frame.loc[1, "employment"] = "12a"
    frame.loc[3, "employment"] = -4
    frame.loc[4, "year"] = "2021.5"

    with pytest.raises(PanelError) as info:
        Panel.from_frame(frame)

    got = [(p.row, p.field, p.value) for p in info.value.problems]
    assert got == [(4, "year", "2021.5"), (1, "employment", "12a"), (3, "employment", -4)]


def test_panel_from_frame_rejects_duplicate_keys_naming_first_row():
    frame = pd.concat([_frame(), _frame().iloc[[2]]], ignore_index=True)

    with pytest.raises(PanelError, match=r"row 5.*duplicate key \(first seen at row 2\)"):
        Panel.from_frame(frame)


def test_panel_from_frame_warns_about_extra_columns():
    frame = _frame().assign(comment="x", source="y")

    with pytest.warns(ExtraColumnsWarning, match="ignoring extra columns: comment, source"):
        panel = Panel.from_frame(frame)

    assert panel.measures == ("employment", "establishments")


def test_hierarchy_naics_sector_ranges_and_levels():
    h = Hierarchy.naics(["311111", "445110", "541511"])

    assert h.ancestor("311111", 2) == "31-33"
    assert h.ancestor("311111", 4) == "3111"
    assert h.ancestor("445110", 2) == "44-45"
    assert h.ancestor("541511", 3) == "541"
    assert h.ancestor("541", 6) is None


def test_hierarchy_nace_compact_eurostat_codes():
    h = Hierarchy.nace(["C1011", "J62"])

    assert h.ancestor("C1011", 2) == "C10"
    assert h.ancestor("C1011", 1) == "C"
    assert h.ancestor("J62", 1) == "J"


def test_hierarchy_from_classification_file(shared_data):
    codes = pd.read_csv(
        shared_data / "classifications" / "nuts_2021.csv", dtype=str, keep_default_na=False
    )

    h = Hierarchy.from_frame(codes, name="NUTS 2021")

    assert h.ancestor("DE111", 1) == "DE1"
    assert h.ancestor("FRK26", 0) == "FR"
    with pytest.raises(ValueError, match="1 codes have no NUTS 2021 ancestor at level 2: XX"):
        h.ancestors(["DE111", "XX"], 2)


def test_panel_bounds_are_kept_and_add_up_when_aggregated():
    frame = pd.DataFrame(
        {
            "year": [2016] * 3,
            "region": ["01001", "01001", "01003"],
            "industry": ["311111", "311119", "311111"],
            "employment": [10.0, 50.0, 7.0],
            "flag": ["e", "", "e"],
            "employment_lower": [0.0, np.nan, 5.0],
            "employment_upper": [19.0, np.nan, 9.0],
        }
    )
    panel = Panel.from_frame(frame)

    up = panel.aggregate(industries={"311111": "3111", "311119": "3111"})

    assert panel.bounds.values.tolist() == [
        [2016, "01001", "311111", 0.0, 19.0],
        [2016, "01003", "311111", 5.0, 9.0],
    ]
    # 01001: 60 employees, 10 of them estimated in 0–19 → 50–69
    assert up.bounds.values.tolist() == [
        [2016, "01001", "3111", 50.0, 69.0],
        [2016, "01003", "3111", 5.0, 9.0],
    ]
    assert up.flags.values.tolist() == [[2016, "01001", "3111", "e"], [2016, "01003", "3111", "e"]]


def test_panel_rejects_value_outside_its_bounds():
    frame = pd.DataFrame(
        {
            "year": [2016],
            "region": ["a"],
            "industry": ["x"],
            "employment": [30.0],
            "employment_lower": [0.0],
            "employment_upper": [19.0],
        }
    )

    with pytest.raises(PanelError, match="value outside its bounds"):
        Panel.from_frame(frame)


def test_aggregate_regions_are_neither_summed_nor_ranked():
    from clusteratlas.observatory import cluster_table

    frame = pd.DataFrame(
        {
            "year": [2020] * 6,
            "region": ["DE", "DE1", "DE2", "DE", "DE1", "DE2"],
            "industry": ["a", "a", "a", "b", "b", "b"],
            "employment": [30.0, 10.0, 20.0, 70.0, 50.0, 20.0],
        }
    )
    panel = Panel.from_frame(frame, aggregates=["DE"])

    table = cluster_table(panel)

    assert list(table["region"].astype(str).unique()) == ["DE1", "DE2"]
    # reference = DE1 + DE2 (not doubled by DE): a = 30 of 100
    assert table["cluster_share"].tolist() == pytest.approx([10 / 30, 50 / 70, 20 / 30, 20 / 70])
    assert panel.select(regions=["DE", "DE1"]).aggregates == ("DE",)


def test_panel_concat_joins_years_with_the_union_of_codes():
    a = Panel.from_frame(_frame()[lambda d: d["year"] == 2020])
    b = Panel.from_frame(
        pd.DataFrame(
            {
                "year": [2019],
                "region": ["AT11"],
                "industry": ["10.11"],
                "employment": [5.0],
                "establishments": [1],
                "flag": ["c"],
            }
        )
    )

    both = Panel.concat([a, b])

    assert both.years == (2019, 2020)
    assert list(both.regions) == ["AT11", "DE111", "DE112", "DE121"]
    expected = pd.concat([b.to_frame(), a.to_frame()], ignore_index=True)
    pd.testing.assert_frame_equal(both.to_frame(), expected)
    with pytest.raises(ValueError, match="year 2020 is in more than one input"):
        Panel.concat([a, a])
