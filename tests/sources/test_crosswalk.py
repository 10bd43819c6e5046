"""Crosswalks: the shared NAICS and NACE concordances, and a hand-written NUTS table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusteratlas.observatory.panel import Panel
from clusteratlas.sources.classifications import MissingCodeListError, load_code_list
from clusteratlas.sources.crosswalk import (
    Crosswalk,
    apply_crosswalk,
    harmonise,
    harmonise_naics,
    load_crosswalk,
    naics_edition,
    weights_from_panel,
)

pytestmark = pytest.mark.integration


def panel(rows, **kwargs) -> Panel:
    columns = ["year", "region", "industry", "employment", "flag"][: len(rows[0])]
    return Panel.from_frame(pd.DataFrame(rows, columns=columns), **kwargs)


def cells(p: Panel) -> dict[tuple, tuple]:
    f = p.to_frame()
    flag = f["flag"] if "flag" in f else pd.Series("", index=f.index)
    return {
        (int(y), r, i): (round(float(e), 9), fl)
        for y, r, i, e, fl in zip(
            f["year"], f["region"], f["industry"], f["employment"], flag, strict=True
        )  # fmt: skip
    }


TOY = Crosswalk.from_pairs(
    [("A", "A"), ("B", "Z"), ("C", "Z"), ("D", "D1"), ("D", "D2"), ("E", "E2")], name="toy"
)


# ---------------------------------------------------------------------- the crosswalk itself
@pytest.mark.unit
def test_pairs_are_cleaned_and_described():
    cw = Crosswalk(
        pd.DataFrame({"from_code": [" A", "A", "", "B"], "to_code": ["X", "X", "Y", ""]})
    )

    assert cw.pairs.values.tolist() == [["A", "X"]]
    with pytest.raises(ValueError, match="from_code, to_code"):
        Crosswalk(pd.DataFrame({"old": ["A"], "new": ["B"]}))


@pytest.mark.unit
def test_then_composes_and_passes_unknown_middle_codes_through():
    first = Crosswalk.from_pairs([("a", "m"), ("b", "n")], from_edition="1", to_edition="2")
    second = Crosswalk.from_pairs([("m", "x"), ("m", "y")], from_edition="2", to_edition="3")

    both = first.then(second)

    assert both.mapping() == {"a": ["x", "y"], "b": ["n"]}
    assert (both.from_edition, both.to_edition) == ("1", "3")
    assert both.reverse().mapping() == {"n": ["b"], "x": ["a"], "y": ["a"]}


def test_naics_concordances_load_with_the_documented_shape(shared_data):
    folder = shared_data / "classifications"
    a = load_crosswalk("naics-2012-2017", path=folder)
    b = load_crosswalk("naics-2017-2022", path=folder)

    assert (len(a), len(a.sources), len(a.targets_all)) == (1069, 1065, 1057)
    assert (len(b.sources), len(b.targets_all)) == (1057, 1012)
    assert b.mapping()["336111"] == ["336110"]
    assert len(b.targets("454110")) == 42
    chained = load_crosswalk("naics-2012-2022", path=folder)
    naics_2022 = set(load_code_list("naics", "2022", path=folder).codes)
    assert set(chained.targets_all) <= naics_2022
    assert set(chained.sources) == set(a.sources)


def test_nace_correspondence_drops_the_row_without_a_source(shared_data):
    cw = load_crosswalk("nace-rev2-rev2.1", path=shared_data / "classifications")

    assert len(cw) == 1570
    assert "46.89" not in cw.targets_all  # its only row has no Rev. 2 source
    assert "" not in cw.sources
    assert (cw.scheme, cw.from_edition, cw.to_edition) == ("nace", "2", "2.1")


def test_missing_nuts_table_says_what_to_do(tmp_path):
    with pytest.raises(MissingCodeListError, match="NUTS change table"):
        load_crosswalk("nuts-2021-2024", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown crosswalk"):
        load_crosswalk("sic-naics")


# ---------------------------------------------------------------------- applying
def test_merge_sums_and_one_to_one_renames():
    p = panel([(2020, "R", "B", 2), (2020, "R", "C", 3), (2020, "R", "E", 7)])

    out, report = apply_crosswalk(p, TOY)

    assert cells(out) == {(2020, "R", "Z"): (5.0, ""), (2020, "R", "E2"): (7.0, "")}
    assert report.merged == {"Z": ("B", "C")}
    assert report.renamed == {"E": "E2"}
    assert report.split == {}


def test_split_in_equal_shares_flags_the_cells():
    p = panel([(2020, "R", "D", 9, ""), (2020, "R", "A", 1, "c")])

    out, report = apply_crosswalk(p, TOY)

    assert cells(out) == {
        (2020, "R", "A"): (1.0, "c"),
        (2020, "R", "D1"): (4.5, "x"),
        (2020, "R", "D2"): (4.5, "x"),
    }
    assert report.split == {"D": ("D1", "D2")}
    assert report.unchanged == ("A",)


def test_split_by_weights_and_equal_when_weights_are_missing():
    p = panel([(2020, "R", "D", 12)])

    weighted, report = apply_crosswalk(p, TOY, weights={"D1": 3, "D2": 1})
    fallback, report2 = apply_crosswalk(p, TOY, weights={"Q": 5})

    assert cells(weighted)[(2020, "R", "D1")] == (9.0, "x")
    assert cells(weighted)[(2020, "R", "D2")] == (3.0, "x")
    assert report.weighted
    assert report.equal_shares == ()
    assert cells(fallback)[(2020, "R", "D1")] == (6.0, "x")
    assert report2.equal_shares == ("D",)


def test_flags_follow_values_and_unite_on_merge():
    p = panel([(2020, "R", "B", 2, "c"), (2020, "R", "C", 3, "e"), (2020, "R", "D", 4, "c")])

    out, _ = apply_crosswalk(p, TOY)

    flags = cells(out)
    assert flags[(2020, "R", "Z")] == (5.0, "c,e")
    assert flags[(2020, "R", "D1")] == (2.0, "c,x")


def test_unknown_codes_are_kept_and_reported():
    p = panel([(2020, "R", "Q", 5), (2020, "R", "B", 1)])

    out, report = apply_crosswalk(p, TOY)

    assert cells(out)[(2020, "R", "Q")] == (5.0, "")
    assert report.unknown == ("Q",)
    assert "not in the crosswalk: Q" in report.describe()


def test_only_the_given_years_are_recoded():
    p = panel([(2016, "R", "B", 1), (2017, "R", "B", 2), (2017, "R", "Z", 4)])

    out, report = apply_crosswalk(p, TOY, years=[2016])

    assert cells(out) == {
        (2016, "R", "Z"): (1.0, ""),
        (2017, "R", "B"): (2.0, ""),
        (2017, "R", "Z"): (4.0, ""),
    }
    assert report.years == (2016,)
    with pytest.raises(ValueError, match="year 2030 is not in the panel"):
        apply_crosswalk(p, TOY, years=[2030])


def test_totals_are_kept_and_measures_follow():
    frame = pd.DataFrame(
        {
            "year": [2020] * 4,
            "region": ["R", "R", "S", "S"],
            "industry": ["B", "D", "D", "Q"],
            "employment": [3, 10, 5, 1],
            "payroll": [30, 100, 50, 10],
        }
    )
    p = Panel.from_frame(frame)

    out, _ = apply_crosswalk(p, TOY)

    for measure in ("employment", "payroll"):
        assert out.matrix(measure, 2020).sum() == pytest.approx(p.matrix(measure, 2020).sum())
    assert out.dense("payroll", 2020)[0, list(out.industries).index("D1")] == 50


def test_bounds_are_scaled_with_their_values():
    frame = pd.DataFrame(
        {
            "year": [2020],
            "region": ["R"],
            "industry": ["D"],
            "employment": [10],
            "flag": ["e"],
            "employment_lower": [6],
            "employment_upper": [20],
        }
    )

    out, _ = apply_crosswalk(Panel.from_frame(frame), TOY)

    bounds = out.bounds.set_index("industry")
    assert bounds.loc["D1", ["lower", "upper"]].tolist() == [3.0, 10.0]


def test_regions_with_a_hand_written_nuts_table():
    """NUTS 2016 → 2021 in Ireland: IE04 kept, IE05/IE06 new from parts of IE02 (made-up split)."""
    nuts = Crosswalk.from_pairs(
        [("IE011", "IE041"), ("IE021", "IE061"), ("IE022", "IE062"), ("IE022", "IE063"),
         ("IE012", "IE042"), ("IE013", "IE042")],
        name="nuts-2016-2021 (test)", scheme="nuts", from_edition="2016", to_edition="2021",
    )  # fmt: skip
    p = panel(
        [
            (2018, "IE011", "C", 10),
            (2018, "IE012", "C", 1),
            (2018, "IE013", "C", 2),
            (2018, "IE022", "C", 8),
            (2018, "EU27_2020", "C", 100),
        ],
        aggregates=["EU27_2020"],
    )

    out, report = apply_crosswalk(p, nuts, dimension="region")

    assert cells(out) == {
        (2018, "IE041", "C"): (10.0, ""),
        (2018, "IE042", "C"): (3.0, ""),
        (2018, "IE062", "C"): (4.0, "x"),
        (2018, "IE063", "C"): (4.0, "x"),
        (2018, "EU27_2020", "C"): (100.0, ""),
    }
    assert report.dimension == "region"
    assert report.unknown == ("EU27_2020",)
    assert out.aggregates == ("EU27_2020",)


@pytest.mark.unit
def test_bad_dimension():
    with pytest.raises(ValueError, match="dimension"):
        apply_crosswalk(panel([(2020, "R", "A", 1)]), TOY, dimension="year")


def test_weights_from_panel():
    p = panel([(2022, "R", "D1", 3), (2022, "S", "D1", 1), (2022, "S", "D2", 4)])

    w = weights_from_panel(p, 2022)

    assert w.to_dict() == {"D1": 4.0, "D2": 4.0}


def test_describe_counts_everything():
    p = panel([(2020, "R", c, 1) for c in "ABCDEQ"])

    _, report = apply_crosswalk(p, TOY)

    first = report.describe().splitlines()[0]
    assert first == (
        "toy applied to the industry codes of 2020: 1 unchanged, 1 renamed, 1 merged targets, "
        "1 split codes, 1 not in the crosswalk (kept as they are)"
    )


# ---------------------------------------------------------------------- editions
@pytest.mark.unit
def test_naics_editions_by_year():
    assert [naics_edition(y) for y in (2012, 2016, 2017, 2021, 2022, 2030)] == [
        "2012", "2012", "2017", "2017", "2022", "2022"
    ]  # fmt: skip
    with pytest.raises(ValueError, match="no supported NAICS edition"):
        naics_edition(2010)


def test_harmonise_with_a_chain_of_toy_editions():
    one = Crosswalk.from_pairs([("a", "b")], from_edition="1", to_edition="2")
    two = Crosswalk.from_pairs([("b", "c1"), ("b", "c2")], from_edition="2", to_edition="3")
    p = panel([(2000, "R", "a", 4), (2001, "R", "b", 8), (2002, "R", "c1", 1)])

    out, reports = harmonise(
        p, target="3", edition_of={2000: "1", 2001: "2", 2002: "3"}, crosswalks=[one, two]
    )

    assert list(out.industries) == ["c1", "c2"]
    assert cells(out)[(2000, "R", "c2")] == (2.0, "x")
    assert cells(out)[(2001, "R", "c1")] == (4.0, "x")
    assert cells(out)[(2002, "R", "c1")] == (1.0, "")
    assert [r.years for r in reports] == [(2000,), (2001,)]
    with pytest.raises(ValueError, match="no crosswalk path from edition 3 to 1"):
        harmonise(p, target="1", edition_of=lambda y: "3", crosswalks=[one, two])


def test_harmonise_naics_brings_every_year_to_2022(shared_data):
    folder = shared_data / "classifications"
    rows = [
        (2016, "01001", "336111", 100),  # 2012 → 2017 unchanged → 2022 merged into 336110
        (2016, "01001", "211111", 40),  # split in 2017 into 211120 and 211130
        (2018, "01001", "336112", 50),  # 2017 → 2022 merged
        (2018, "01001", "454110", 42),  # split among 42 retail codes
        (2022, "01001", "336110", 170),
        (2022, "01001", "999999", 1),  # not a NAICS code: kept and reported
    ]
    p = panel(rows)

    out, reports = harmonise_naics(p, path=folder)

    naics_2022 = set(load_code_list("naics", "2022", path=folder).codes)
    assert set(out.industries) - naics_2022 == {"999999"}
    for y in p.years:
        assert out.matrix("employment", y).sum() == pytest.approx(p.matrix("employment", y).sum())
    got = cells(out)
    assert got[(2016, "01001", "336110")] == (100.0, "")
    assert got[(2016, "01001", "211120")] == (20.0, "x")
    assert got[(2018, "01001", "336110")] == (50.0, "")
    assert got[(2018, "01001", "441227")] == (1.0, "x")
    assert [r.years for r in reports] == [(2016,), (2018,)]
    assert reports[1].split["454110"][:2] == ("441227", "441330")


def test_harmonise_naics_with_target_employment_weights(shared_data):
    folder = shared_data / "classifications"
    p = panel(
        [
            (2021, "01001", "211111", 40),
            (2022, "01001", "211120", 30),
            (2022, "01001", "211130", 10),
        ]
    )
    # 211111 is a 2012 code; in 2021 (NAICS 2017 years) it is unknown to 2017→2022, so recode
    # it explicitly with the 2012→2022 chain and weights from 2022
    chain = load_crosswalk("naics-2012-2022", path=folder)

    out, report = apply_crosswalk(p, chain, years=[2021], weights=weights_from_panel(p, 2022))

    got = cells(out)
    assert got[(2021, "01001", "211120")] == (30.0, "x")
    assert got[(2021, "01001", "211130")] == (10.0, "x")
    assert report.weighted
    assert np.isclose(out.matrix("employment", 2021).sum(), 40)
