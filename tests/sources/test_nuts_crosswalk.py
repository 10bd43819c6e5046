"""Eurostat's NUTS change tables: downloaded, converted, and applied to panels that span versions.

The workbooks are written in the test with openpyxl in the layout of the published files
(``NUTS2016-NUTS2021.xlsx``: sheet ``Changes detailed NUTS 2016-2021`` after a code-list sheet,
columns ``Code 2016, Code 2021, Country, NUTS level 1, NUTS level 2, NUTS level 3, Change, …``;
``NUTS2021-NUTS2024.xlsx``: sheet ``NUTS2021- NUTS2024`` after a ``NUTS2024`` sheet, columns
``#, Country code, Code 2021, Code 2024, NUTS level 1…3, Change, …``) and served from
127.0.0.1 at their official URL paths. The codes are real NUTS codes; the changes between them
and all values are invented."""

from __future__ import annotations

import csv
import http.server
import logging
import shutil
import urllib.parse
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from local_http import local_server, point_cache

from clusteratlas.observatory.panel import Panel
from clusteratlas.sources.crosswalk import (
    Crosswalk,
    apply_crosswalk,
    harmonise_nuts,
    load_crosswalk,
    nuts_version,
    weights_from_panel,
)
from clusteratlas.sources.fetch import (
    NUTS_CHANGE_SOURCES,
    FetchError,
    fetch_classifications,
    read_manifest,
)
from conftest import GOLDEN, SHARED_DATA

openpyxl = pytest.importorskip("openpyxl", reason="openpyxl reads the NUTS change tables")

pytestmark = pytest.mark.integration

RESPONSES = GOLDEN / "sources" / "responses"
LOGGER = "clusteratlas.sources.fetch"

HEADER_2016_2021 = [
    "Code 2016", "Code 2021", "Country", "NUTS level 1", "NUTS level 2", "NUTS level 3",
    "Change", "Change comments", "NUTS level", "Country order", "Region order", "Region order 21",
]  # fmt: skip
ROWS_2016_2021 = [
    ["AT11", "AT11", None, None, "Burgenland", None, None, None, 2, 1, 10, 10],
    ["AT11", "AT11", None, None, "Burgenland", None, None, None, 2, 1, 10, 10],  # repeated
    ["EE007", "EE00A", None, None, None, "Kirde-Eesti", "recoded", None, 3, 6, 20, 20],
    ["HR", "HR", "Hrvatska", None, None, None, None, None, 0, 12, 30, 30],
    ["HR03", "HR03", None, None, "Jadranska Hrvatska", None, None, None, 2, 12, 31, 31],
    ["HR04", "HR02", None, None, "Panonska Hrvatska", None, "split", "part", 2, 12, 32, 32],
    ["HR04", "HR06", None, None, "Sjeverna Hrvatska", None, "split ", "part", 2, 12, 32, 33],
    ["NO01", None, None, None, "Oslo og Akershus", None, "discontinued", None, 2, 30, 40, None],
    [None, "NO08", None, None, "Oslo og Viken", None, "new region", None, 2, 30, None, 41],
    [None, None, None, None, None, None, None, None, None, None, None, None],
    ["The changes in this test table are invented.", None],
]
EXPECTED_2016_2021 = """from_code,to_code,change
AT11,AT11,
EE007,EE00A,recoded
HR,HR,
HR03,HR03,
HR04,HR02,split
HR04,HR06,split
NO01,,discontinued
,NO08,new region
"""

HEADER_2021_2024 = [
    "#", "Country code", "Code 2021", "Code 2024", "NUTS level 1", "NUTS level 2",
    "NUTS level 3", "Change", "NUTS level", "Country order", "Region order 2021",
    "Region order 2024",
]  # fmt: skip
ROWS_2021_2024 = [
    [1, "AT", "AT11", "AT11", None, "Burgenland", None, None, 2, 1, 10, 10],
    [2, "EE", "EE00A", "EE00A", None, None, "Kirde-Eesti", None, 3, 6, 20, 20],
    [3, "HR", "HR", "HR", None, None, None, None, 0, 12, 30, 30],
    [4, "HR", "HR02", "HR02", None, "Panonska Hrvatska", None, None, 2, 12, 31, 31],
    [5, "HR", "HR03", "HR03", None, "Jadranska Hrvatska", None, None, 2, 12, 32, 32],
    [6, "HR", "HR06", "HR06", None, "Sjeverna Hrvatska", None, None, 2, 12, 33, 33],
    [7, "NL", "NL31", "NL35", None, "Utrecht", None, "recoded", 2, 20, 40, 40],
    [8, "NO", "NO08", "NO08", None, "Oslo og Viken", None, None, 2, 30, 41, 41],
    [9, "PT", "PT17", "PT1A", None, "Grande Lisboa", None, "split", 2, 25, 50, 50],
    [10, "PT", "PT17", "PT1B", None, "Península de Setúbal", None, "split", 2, 25, 50, 51],
    [11, "UK", "UK", None, "United Kingdom", None, None, "discontinued", 0, 40, 60, None],
]
EXPECTED_2021_2024 = """from_code,to_code,change
AT11,AT11,
EE00A,EE00A,
HR,HR,
HR02,HR02,
HR03,HR03,
HR06,HR06,
NL31,NL35,recoded
NO08,NO08,
PT17,PT1A,split
PT17,PT1B,split
UK,,discontinued
"""


def official_path(root: Path, name: str) -> Path:
    path = urllib.parse.unquote(urllib.parse.urlsplit(NUTS_CHANGE_SOURCES[name]).path)
    return root / path.lstrip("/")


def write_book(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


def book_2016_2021(header=HEADER_2016_2021, rows=ROWS_2016_2021, above=()) -> dict:
    return {
        "NUTS & SR 2021": [["Code 2021", "Country", "NUTS level 1"], ["AT", "Österreich", None]],
        "Changes detailed NUTS 2016-2021": [*above, header, *rows],
        "Changes NUTS-2": [["Code 2016", "Code 2021", "Change"], ["HR04", None, "split"]],
    }


def book_2021_2024() -> dict:
    return {
        "NUTS2024": [["#", "Country code", "NUTS Code", "NUTS label"], [1, "AT", "AT", "AT"]],
        "NUTS2021- NUTS2024": [HEADER_2021_2024, *ROWS_2021_2024],
    }


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """The recorded responses (GISCO, Census) plus both NUTS change tables."""
    root = tmp_path / "served"
    shutil.copytree(RESPONSES, root)
    write_book(official_path(root, "nuts_2016_2021.csv"), book_2016_2021())
    write_book(official_path(root, "nuts_2021_2024.csv"), book_2021_2024())
    return root


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: Path) -> Iterator[Path]:
    with local_server(partial(Handler, directory=str(served))) as (url, _):
        yield point_cache(monkeypatch, tmp_path / "cache", url)


# ---------------------------------------------------------------------- download and conversion
@pytest.mark.unit
def test_official_change_table_addresses():
    assert NUTS_CHANGE_SOURCES == {
        "nuts_2016_2021.csv": (
            "https://ec.europa.eu/eurostat/documents/345175/629341/NUTS2016-NUTS2021.xlsx"
        ),
        "nuts_2021_2024.csv": (
            "https://ec.europa.eu/eurostat/documents/345175/629341/NUTS2021-NUTS2024.xlsx"
        ),
    }


def test_change_tables_become_the_cache_layout(cache):
    files = fetch_classifications()

    path = files["nuts_2016_2021.csv"]
    assert path == cache / "classifications" / "nuts_2016_2021.csv"
    assert path.read_text(encoding="utf-8") == EXPECTED_2016_2021
    assert files["nuts_2021_2024.csv"].read_text(encoding="utf-8") == EXPECTED_2021_2024
    manifest = read_manifest(cache)
    assert manifest["classifications/nuts_2016_2021.csv"]["converted_from"] == (
        "classifications/raw/NUTS2016-NUTS2021.xlsx"
    )
    assert manifest["classifications/raw/NUTS2021-NUTS2024.xlsx"]["url"].endswith(
        "/eurostat/documents/345175/629341/NUTS2021-NUTS2024.xlsx"
    )

    cw = load_crosswalk("nuts-2016-2021")
    assert cw.mapping() == {
        "AT11": ["AT11"],
        "EE007": ["EE00A"],
        "HR": ["HR"],
        "HR03": ["HR03"],
        "HR04": ["HR02", "HR06"],
    }
    assert (cw.discontinued, cw.new) == (("NO01",), ("NO08",))


def test_header_is_found_leniently(cache, served):
    header = ["CODE\n2016", " code 2021 ", *HEADER_2016_2021[2:6], "CHANGE", "Change comments"]
    book = book_2016_2021(header=header, above=[["NUTS 2016 - NUTS 2021"], []])
    write_book(official_path(served, "nuts_2016_2021.csv"), book)

    files = fetch_classifications()

    assert files["nuts_2016_2021.csv"].read_text(encoding="utf-8") == EXPECTED_2016_2021


def test_missing_column_names_the_file_the_sheet_and_the_column(cache, served):
    header = ["Code 2016", "Code after", *HEADER_2016_2021[2:]]
    write_book(official_path(served, "nuts_2016_2021.csv"), book_2016_2021(header=header))

    with pytest.raises(
        FetchError,
        match=r"NUTS2016-NUTS2021\.xlsx, sheet 'Changes detailed NUTS 2016-2021': "
        r"no column 'Code 2021'",
    ):
        fetch_classifications()
    assert not (cache / "classifications" / "nuts_2016_2021.csv").exists()


def test_missing_sheet_names_the_file_and_the_sheet(cache, served):
    write_book(official_path(served, "nuts_2021_2024.csv"), {"NUTS2024": [["NUTS Code"]]})

    with pytest.raises(FetchError, match=r"NUTS2021-NUTS2024\.xlsx: no sheet 'NUTS2021- NUTS2024'"):
        fetch_classifications()


def test_a_change_table_the_server_lacks_is_skipped_with_a_warning(cache, served, caplog):
    official_path(served, "nuts_2021_2024.csv").unlink()

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        files = fetch_classifications()

    assert "nuts_2021_2024.csv" not in files
    assert files["nuts_2016_2021.csv"].read_text(encoding="utf-8") == EXPECTED_2016_2021
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any("nuts_2021_2024.csv skipped" in m and "HTTP 404" in m for m in messages)


def test_converted_codes_are_real_nuts_codes(cache):
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public reference data not found at {SHARED_DATA} (see DEVELOPERS.md)")
    lists = {y: codes(y) for y in ("2016", "2021", "2024")}
    files = fetch_classifications()

    for name, (old, new) in {
        "nuts_2016_2021.csv": ("2016", "2021"),
        "nuts_2021_2024.csv": ("2021", "2024"),
    }.items():
        with files[name].open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert {r["from_code"] for r in rows} - {""} <= lists[old], name
        assert {r["to_code"] for r in rows} - {""} <= lists[new], name


def codes(year: str) -> set[str]:
    frame = pd.read_csv(
        SHARED_DATA / "classifications" / f"nuts_{year}.csv", dtype=str, keep_default_na=False
    )
    return set(frame["code"])


# ---------------------------------------------------------------------- versions
@pytest.mark.unit
def test_nuts_version_of_eurostat_regional_sbs():
    assert [nuts_version(y) for y in (2008, 2019, 2020, 2021, 2023, 2024, 2030)] == [
        "2016", "2016", "2016", "2021", "2021", "2024", "2024"
    ]  # fmt: skip


@pytest.mark.unit
def test_empty_sides_are_discontinued_and_new_codes():
    first = Crosswalk.from_pairs(
        [("a", "a"), ("b", ""), ("", "n"), ("c", "m")], from_edition="1", to_edition="2"
    )
    second = Crosswalk.from_pairs(
        [("a", "a2"), ("n", "n2"), ("m", "")], from_edition="2", to_edition="3"
    )

    assert first.mapping() == {"a": ["a"], "c": ["m"]}
    assert (first.discontinued, first.new) == (("b",), ("n",))
    both = first.then(second)
    assert both.mapping() == {"a": ["a2"]}
    assert (both.discontinued, both.new) == (("b", "c"), ("n2",))
    assert (first.reverse().discontinued, first.reverse().new) == (("n",), ("b",))


# ---------------------------------------------------------------------- harmonising a panel
def two_year_panel() -> Panel:
    """2019 in NUTS 2016 and 2021 in NUTS 2021, one industry; HR and EU27_2020 are aggregates."""
    rows = [
        (2019, "AT11", "C", 10.0),
        (2019, "EE007", "C", 5.0),
        (2019, "HR03", "C", 7.0),
        (2019, "HR04", "C", 30.0),
        (2019, "NO01", "C", 8.0),
        (2019, "HR", "C", 37.0),
        (2019, "EU27_2020", "C", 100.0),
        (2021, "AT11", "C", 11.0),
        (2021, "EE00A", "C", 6.0),
        (2021, "HR02", "C", 12.0),
        (2021, "HR03", "C", 8.0),
        (2021, "HR06", "C", 20.0),
        (2021, "NO08", "C", 9.0),
        (2021, "HR", "C", 40.0),
        (2021, "EU27_2020", "C", 120.0),
    ]
    frame = pd.DataFrame(rows, columns=["year", "region", "industry", "employment"])
    return Panel.from_frame(frame, aggregates=["EU27_2020", "HR"])


def cells(p: Panel) -> dict[tuple, tuple]:
    f = p.to_frame()
    flag = f["flag"] if "flag" in f else pd.Series("", index=f.index)
    return {
        (int(y), r): (round(float(e), 9), fl)
        for y, r, e, fl in zip(f["year"], f["region"], f["employment"], flag, strict=True)
    }


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    """The converted change tables, as fetch_classifications writes them."""
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "nuts_2016_2021.csv").write_text(EXPECTED_2016_2021, encoding="utf-8")
    (folder / "nuts_2021_2024.csv").write_text(EXPECTED_2021_2024, encoding="utf-8")
    return folder


def test_harmonise_nuts_brings_2019_to_nuts_2021(tables):
    p = two_year_panel()

    out, reports = harmonise_nuts(p, "2021", path=tables)

    kept_2021 = {(y, r): (v, "") for (y, r), (v, _) in cells(p).items() if y == 2021}
    assert cells(out) == {
        (2019, "AT11"): (10.0, ""),
        (2019, "EE00A"): (5.0, ""),
        (2019, "HR03"): (7.0, ""),
        (2019, "HR02"): (15.0, "x"),
        (2019, "HR06"): (15.0, "x"),
        (2019, "NO01"): (8.0, ""),  # discontinued without a successor: kept as it is
        (2019, "HR"): (37.0, ""),
        (2019, "EU27_2020"): (100.0, ""),
        **kept_2021,
    }
    assert out.aggregates == ("EU27_2020", "HR")
    for y in p.years:
        assert out.matrix("employment", y).sum() == pytest.approx(p.matrix("employment", y).sum())
    (report,) = reports
    assert report.years == (2019,)
    assert report.dimension == "region"
    assert report.split == {"HR04": ("HR02", "HR06")}
    assert report.renamed == {"EE007": "EE00A"}
    assert report.unchanged == ("AT11", "HR03")
    assert report.discontinued == ("NO01",)
    assert report.new == ("NO08",)
    assert report.kept == ("EU27_2020", "HR")
    assert report.unknown == ()
    text = report.describe()
    assert "HR04→HR02/HR06" in text
    assert "discontinued, with no successor in the crosswalk (kept as they are): NO01" in text
    assert "new, with no predecessor in the crosswalk: NO08" in text


def test_harmonise_nuts_splits_by_weights(tables):
    p = two_year_panel()

    out, _ = harmonise_nuts(p, weights=weights_from_panel(p, 2021, dimension="region"), path=tables)

    got = cells(out)
    assert got[(2019, "HR02")] == (11.25, "x")  # 30 × 12 / 32
    assert got[(2019, "HR06")] == (18.75, "x")  # 30 × 20 / 32


def test_harmonise_nuts_to_2024_chains_both_tables(tables):
    p = two_year_panel()

    out, reports = harmonise_nuts(p, "2024", path=tables)

    assert [r.years for r in reports] == [(2019,), (2021,)]
    assert [r.crosswalk for r in reports] == ["nuts-2016-2021 + nuts-2021-2024", "nuts-2021-2024"]
    got = cells(out)
    assert got[(2019, "HR02")] == (15.0, "x")
    assert got[(2019, "EE00A")] == (5.0, "")
    assert got[(2021, "NO08")] == (9.0, "")
    assert reports[0].new == ("NO08",)
    assert out.aggregates == ("EU27_2020", "HR")


def test_every_2021_code_produced_is_a_nuts_2021_code(tables):
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public reference data not found at {SHARED_DATA} (see DEVELOPERS.md)")
    p = two_year_panel()

    out, reports = harmonise_nuts(p, "2021", path=tables)

    produced = set(out.regions) - set(out.aggregates) - set(reports[0].discontinued)
    assert produced <= codes("2021")


def test_harmonise_nuts_refuses_going_back_and_unknown_versions(tables):
    p = two_year_panel()

    with pytest.raises(ValueError, match="going back to an older NUTS version"):
        harmonise_nuts(p, "2016", path=tables)
    with pytest.raises(ValueError, match="unknown NUTS version"):
        harmonise_nuts(p, "2013", path=tables)


def test_a_panel_already_in_the_target_version_is_unchanged(tmp_path):
    p = two_year_panel().select(years=[2021])

    out, reports = harmonise_nuts(p, "NUTS 2021", cache_dir=tmp_path)  # no table needed

    assert reports == []
    assert cells(out) == cells(p)


def test_apply_crosswalk_keeps_the_codes_asked_for():
    cw = Crosswalk.from_pairs([("HR04", "HR02"), ("HR04", "HR06"), ("HR", "HR")])
    frame = pd.DataFrame(
        [(2019, "HR04", "C", 4.0), (2019, "HR", "C", 4.0)],
        columns=["year", "region", "industry", "employment"],
    )
    p = Panel.from_frame(frame, aggregates=["HR"])

    out, report = apply_crosswalk(p, cw, dimension="region", keep=["HR"])

    assert report.kept == ("HR",)
    assert report.unchanged == ()
    assert out.aggregates == ("HR",)
    assert cells(out)[(2019, "HR")] == (4.0, "")
