"""``fetch_classifications`` downloading and converting the Census Bureau's NAICS workbooks.

The workbooks are written in the test with openpyxl (and xlwt for the 2012 ``.xls``), in the
layout of the official files, into a copy of the recorded responses that a local server on
127.0.0.1 serves at the official URL paths. The values are invented."""

from __future__ import annotations

import hashlib
import http.server
import logging
import shutil
import sys
import urllib.parse
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from local_http import local_server, point_cache

from clusteratlas.sources.classifications import load_code_list
from clusteratlas.sources.crosswalk import load_crosswalk
from clusteratlas.sources.fetch import (
    WORKBOOK_SOURCES,
    FetchError,
    fetch_classifications,
    read_manifest,
)
from conftest import GOLDEN

openpyxl = pytest.importorskip("openpyxl", reason="openpyxl reads the NAICS workbooks")

pytestmark = pytest.mark.integration

RESPONSES = GOLDEN / "sources" / "responses"
LOGGER = "clusteratlas.sources.fetch"

CODES_2017 = [
    ["Seq. No.", "2017 NAICS US   Code", "2017 NAICS US Title", None, None, None],
    [None, None, None],
    [1, 11, "Agriculture, Forestry, Fishing and Hunting"],
    [2, 111, "Crop Production"],
    [3, 1111, "Oilseed and Grain Farming "],
    [4, 11111, "\u00a0Soybean Farming"],
    [5, 111110, "Soybean Farming"],
    [6, "31-33", "Manufacturing"],
    [7, 311111, "Dog and Cat Food\nManufacturing"],
    [8, "44-45", "Retail Trade"],
    [None, None, None],
]
EXPECTED_2017 = """code,title,level
11,"Agriculture, Forestry, Fishing and Hunting",2
111,Crop Production,3
1111,Oilseed and Grain Farming,4
11111,Soybean Farming,5
111110,Soybean Farming,6
31-33,Manufacturing,2
311111,Dog and Cat Food Manufacturing,6
44-45,Retail Trade,2
"""


def concordance(source: str, target: str) -> list[list[object]]:
    """Rows of ``<source>_to_<target>_NAICS.xlsx``: two title rows, a header, the pairs."""
    return [
        [f"{source} NAICS to {target} NAICS Concordance"],
        [None],
        [
            f"{source} NAICS Code",
            f"{source} NAICS Title\r\n(and specific piece of the {source} industry that is "
            f"contained in the {target} industry)",
            f"{target} NAICS Code",
            f"{target} NAICS Title",
            None,
        ],
        [111110, "Soybean Farming", 111110, "Soybean Farming", None],
        [
            211111,
            "Crude Petroleum and Natural Gas Extraction - crude petroleum extraction",
            211120,
            "Crude Petroleum Extraction",
        ],
        [
            211111,
            "Crude Petroleum and Natural Gas Extraction - natural gas extraction",
            211130,
            "Natural Gas Extraction ",
        ],
        [None, None, None, None],
    ]


EXPECTED_2012_2017 = """from_code,to_code,from_title,to_title
111110,111110,Soybean Farming,Soybean Farming
211111,211120,Crude Petroleum and Natural Gas Extraction - crude petroleum extraction,\
Crude Petroleum Extraction
211111,211130,Crude Petroleum and Natural Gas Extraction - natural gas extraction,\
Natural Gas Extraction
"""


def official_path(root: Path, name: str) -> Path:
    """Where the served folder holds the official file of a cache file."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(WORKBOOK_SOURCES[name]).path)
    return root / path.lstrip("/")


def write_xlsx(path: Path, rows: list[list[object]], title: str = "Sheet1") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)


class Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the served folder at their (unquoted) URL path; records the paths asked for."""

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """The recorded responses plus the 2017 code list and both concordances (no 2012 list)."""
    root = tmp_path / "served"
    shutil.copytree(RESPONSES, root)
    write_xlsx(official_path(root, "naics_2017.csv"), CODES_2017)
    write_xlsx(
        official_path(root, "naics_2012_2017.csv"),
        concordance("2012", "2017"),
        "2012 to 2017 NAICS U.S.",
    )
    write_xlsx(
        official_path(root, "naics_2017_2022.csv"),
        concordance("2017", "2022"),
        "2017 to 2022 NAICS U.S.",
    )
    return root


@pytest.fixture
def server(served: Path) -> Iterator[tuple[str, list[str]]]:
    with local_server(partial(Handler, directory=str(served))) as running:
        yield running


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server) -> Path:
    return point_cache(monkeypatch, tmp_path / "cache", server[0])


# ---------------------------------------------------------------------- addresses
@pytest.mark.unit
def test_official_workbook_addresses():
    assert WORKBOOK_SOURCES == {
        "naics_2012.csv": "https://www.census.gov/naics/2012NAICS/2-digit_2012_Codes.xls",
        "naics_2017.csv": "https://www.census.gov/naics/2017NAICS/2-6%20digit_2017_Codes.xlsx",
        "naics_2012_2017.csv": "https://www.census.gov/naics/concordances/2012_to_2017_NAICS.xlsx",
        "naics_2017_2022.csv": "https://www.census.gov/naics/concordances/2017_to_2022_NAICS.xlsx",
    }


# ---------------------------------------------------------------------- conversion
def test_code_list_workbook_becomes_the_cache_layout(cache):
    files = fetch_classifications()

    path = files["naics_2017.csv"]
    assert path == cache / "classifications" / "naics_2017.csv"
    assert path.read_text(encoding="utf-8") == EXPECTED_2017
    naics = load_code_list("naics", 2017)
    assert naics.name("31-33") == "Manufacturing"
    assert naics.hierarchy().parents["111110"] == "11111"


def test_concordance_workbooks_become_the_cache_layout(cache):
    files = fetch_classifications()

    assert files["naics_2012_2017.csv"].read_text(encoding="utf-8") == EXPECTED_2012_2017
    # the test writes the same invented pairs into both concordances
    assert files["naics_2017_2022.csv"].read_text(encoding="utf-8") == EXPECTED_2012_2017
    crosswalk = load_crosswalk("naics-2012-2022")
    assert crosswalk.targets("211111") == ["211120", "211130"]


def test_manifest_has_each_raw_and_converted_file_with_its_sha256(cache, server):
    fetch_classifications()

    manifest = read_manifest(cache)
    raw = {
        "naics_2017.csv": "classifications/raw/2-6 digit_2017_Codes.xlsx",
        "naics_2012_2017.csv": "classifications/raw/2012_to_2017_NAICS.xlsx",
        "naics_2017_2022.csv": "classifications/raw/2017_to_2022_NAICS.xlsx",
    }
    for name, raw_key in raw.items():
        official = urllib.parse.urlsplit(WORKBOOK_SOURCES[name]).path
        for key in (raw_key, f"classifications/{name}"):
            entry = manifest[key]
            data = (cache / key).read_bytes()
            assert entry["sha256"] == hashlib.sha256(data).hexdigest(), key
            assert entry["size"] == len(data)
            assert entry["url"] == server[0] + official
        assert manifest[f"classifications/{name}"]["converted_from"] == raw_key
    assert manifest["classifications/nuts_2021.csv"]["converted_from"] == (
        "classifications/raw/NUTS_AT_2021.csv"
    )


def test_offline_serves_the_cache(cache, server):
    first = fetch_classifications()
    asked = len(server[1])

    again = fetch_classifications(offline=True)

    assert again == first
    assert len(server[1]) == asked
    assert again["naics_2017.csv"].read_text(encoding="utf-8") == EXPECTED_2017


def test_offline_with_raw_files_only_converts_without_asking(cache, server):
    fetch_classifications()
    asked = len(server[1])
    (cache / "classifications" / "naics_2017.csv").unlink()

    files = fetch_classifications(offline=True)

    assert files["naics_2017.csv"].read_text(encoding="utf-8") == EXPECTED_2017
    assert len(server[1]) == asked


def test_refresh_downloads_and_converts_again(cache, server, served):
    fetch_classifications()
    rows = [*CODES_2017[:-1], [9, 111120, "Oilseed (except Soybean) Farming"]]
    write_xlsx(official_path(served, "naics_2017.csv"), rows)

    files = fetch_classifications(refresh=True)

    text = files["naics_2017.csv"].read_text(encoding="utf-8")
    assert text == EXPECTED_2017 + "111120,Oilseed (except Soybean) Farming,6\n"


# ---------------------------------------------------------------------- failures
def test_missing_column_names_the_file_and_the_column(cache, served):
    rows = concordance("2017", "2022")
    rows[2][3] = "Title"
    write_xlsx(official_path(served, "naics_2017_2022.csv"), rows)

    with pytest.raises(FetchError, match=r"2017_to_2022_NAICS\.xlsx: no column '2022 NAICS Title'"):
        fetch_classifications()
    assert not (cache / "classifications" / "naics_2017_2022.csv").exists()


def test_code_list_without_a_code_column_is_an_error(cache, served):
    rows = [["Seq. No.", "2017 NAICS US Number", "2017 NAICS US Title"], *CODES_2017[2:]]
    write_xlsx(official_path(served, "naics_2017.csv"), rows)

    with pytest.raises(FetchError, match=r"2-6 digit_2017_Codes\.xlsx: no column 'NAICS Code'"):
        fetch_classifications()


def test_a_file_that_is_not_a_workbook_is_an_error(cache, served):
    official_path(served, "naics_2017.csv").write_text("<html>moved</html>")

    with pytest.raises(FetchError, match=r"2-6 digit_2017_Codes\.xlsx: not a readable \.xlsx"):
        fetch_classifications()


def test_a_workbook_the_server_lacks_is_skipped_with_a_warning(cache, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        files = fetch_classifications()

    assert "naics_2012.csv" not in files  # the 2012 .xls is not served here
    assert "naics_2017.csv" in files
    assert "nuts_2021.csv" in files
    assert not (cache / "classifications" / "naics_2012.csv").exists()
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any("naics_2012.csv skipped" in m and "HTTP 404" in m for m in messages)
    assert any("--from DIR" in m for m in messages)


def test_without_openpyxl_the_error_says_what_to_install(cache, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)

    with pytest.raises(FetchError, match=r"needs the package openpyxl: pip install"):
        fetch_classifications()


# ---------------------------------------------------------------------- the 2012 .xls
def test_2012_xls_code_list_is_converted(cache, served):
    pytest.importorskip("xlrd", reason="xlrd reads the 2012 .xls code list")
    xlwt = pytest.importorskip("xlwt", reason="xlwt writes the test's .xls file")
    path = official_path(served, "naics_2012.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlwt.Workbook()
    sheet = book.add_sheet("tbl_2012_title_description_coun")
    rows = [
        ["Seq. No.", "2012 NAICS US Code", "2012 NAICS US Title"],
        [],
        [1, 11, "Agriculture, Forestry, Fishing and Hunting"],
        [2, 111110.0, "Soybean Farming"],
        [3, "48-49", "Transportation and Warehousing"],
    ]
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            sheet.write(i, j, value)
    book.save(str(path))

    files = fetch_classifications()

    assert files["naics_2012.csv"].read_text(encoding="utf-8") == (
        "code,title,level\n"
        '11,"Agriculture, Forestry, Fishing and Hunting",2\n'
        "111110,Soybean Farming,6\n"
        "48-49,Transportation and Warehousing,2\n"
    )
    entry = read_manifest(cache)["classifications/raw/2-digit_2012_Codes.xls"]
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_without_xlrd_the_2012_list_is_skipped_with_a_warning(cache, served, monkeypatch, caplog):
    official_path(served, "naics_2012.csv").parent.mkdir(parents=True, exist_ok=True)
    official_path(served, "naics_2012.csv").write_bytes(b"\xd0\xcf\x11\xe0 not really")
    monkeypatch.setitem(sys.modules, "xlrd", None)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        files = fetch_classifications()

    assert "naics_2012.csv" not in files
    assert "naics_2017.csv" in files
    assert any("needs the package xlrd" in r.getMessage() for r in caplog.records)
