"""Reading County Business Patterns files (issue #3): the published county, state and metro
layouts, withheld cells filled inside their size ranges, noise flags kept, and bad lines named.

Expected values are worked out by hand from the sample files in ``tests/golden/sources/cbp/``
(see the README there for the arithmetic)."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from clusteratlas.sources import InputError, Source
from clusteratlas.sources.cbp import (
    EMPLOYMENT_SIZE_CLASSES,
    CBPImputationWarning,
    CBPSource,
    naics_code,
)
from conftest import GOLDEN

pytestmark = pytest.mark.integration

SAMPLES = GOLDEN / "sources" / "cbp"
CO15 = SAMPLES / "cbp15co.txt"
CO18 = SAMPLES / "cbp18co.txt"
ST18 = SAMPLES / "cbp18st.txt"
MSA16 = SAMPLES / "cbp16msa.txt"
HEADER = '"fipstate","fipscty","naics","empflag","emp_nf","emp","ap_nf","ap","est"\n'
#: the factor that spreads 06037's withheld sectors over 300,000 − 31,253 (published 23----)
LA_SCALE = 268_747 / 268_746.5


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def cell(panel, region: str, industry: str, measure: str = "employment") -> float:
    r = panel.regions.get_loc(region)
    i = panel.industries.get_loc(industry)
    return float(panel.dense(measure, panel.years[0])[r, i])


def flag_of(panel, region: str, industry: str) -> str:
    f = panel.flags
    hit = f[(f["region"] == region) & (f["industry"] == industry)]
    return hit["flag"].iloc[0] if len(hit) else ""


def open_error(path: Path, **options) -> InputError:
    with pytest.raises(InputError) as excinfo:
        CBPSource().open(path, **{"levels": "all", **options})
    return excinfo.value


@pytest.fixture(scope="module")
def co15():
    return CBPSource().open(CO15, levels="all")


# ---------------------------------------------------------------- county file up to 2016
def test_open_pre2017_county_regions_are_five_digit_fips(co15):
    assert list(co15.regions) == ["01001", "01999", "06037"]
    assert co15.years == (2015,)


def test_open_pre2017_statewide_county_is_a_region_not_an_aggregate(co15):
    assert cell(co15, "01999", "00") == 80
    assert co15.aggregates == ()


def test_open_pre2017_industries_normalised_at_every_level(co15):
    industries = set(co15.industries)

    assert {"00", "31-33", "42", "44-45", "48-49", "311", "3111", "31111", "311111"} <= industries
    assert not any("-" in c and c not in ("31-33", "44-45", "48-49") for c in industries)
    assert not any("/" in c for c in industries)


def test_open_pre2017_published_cells_keep_values_and_noise_flags(co15):
    assert cell(co15, "01001", "00") == 2000
    assert cell(co15, "01001", "31112") == 450
    assert flag_of(co15, "01001", "00") == "G"
    assert flag_of(co15, "01001", "31112") == "H"


def test_open_pre2017_est_and_ap_become_establishments_and_payroll(co15):
    assert cell(co15, "01001", "00", "establishments") == 120
    assert cell(co15, "01001", "00", "payroll") == 80_000
    assert cell(co15, "01001", "311112", "payroll") == 0  # withheld (ap_nf D)
    assert cell(co15, "01001", "311112", "establishments") == 1


def test_open_pre2017_every_size_class_letter_gives_bounds_and_flag(co15):
    bounds = co15.bounds.set_index(["region", "industry"])
    flags = co15.flags.set_index(["region", "industry"])["flag"]
    where = {
        "A": ("01001", "311112"), "B": ("01001", "311119"), "C": ("01001", "3124"),
        "E": ("01001", "3133"), "F": ("06037", "42"), "G": ("06037", "44-45"),
        "H": ("06037", "48-49"), "I": ("06037", "51"), "J": ("06037", "52"),
        "K": ("06037", "54"), "L": ("06037", "62"), "M": ("06037", "72"),
    }  # fmt: skip

    for letter, key in where.items():
        assert tuple(bounds.loc[key, ["lower", "upper"]]) == EMPLOYMENT_SIZE_CLASSES[letter]
        assert flags[key] == ",".join(sorted({letter, "D", "e"}))
    assert len(bounds) == 17  # every withheld cell, and only those


def test_size_classes_are_the_published_ranges():
    assert EMPLOYMENT_SIZE_CLASSES == {
        "A": (0, 19), "B": (20, 99), "C": (100, 249), "E": (250, 499), "F": (500, 999),
        "G": (1000, 2499), "H": (2500, 4999), "I": (5000, 9999), "J": (10000, 24999),
        "K": (25000, 49999), "L": (50000, 99999), "M": (100000, 150000),
    }  # fmt: skip


def test_fit_scales_withheld_children_to_their_published_parent(co15):
    # 31111/ = 150, published 311111 = 50: A and B share 100 in proportion 9.5 : 59.5
    assert cell(co15, "01001", "311112") == pytest.approx(950 / 69, rel=1e-12)
    assert cell(co15, "01001", "311119") == pytest.approx(5950 / 69, rel=1e-12)


def test_fit_clips_at_upper_bound_and_redistributes_the_rest(co15):
    # 312/// = 540, published 3121// = 180 → 360 for A, B, C; C would be 249.5+ → held at 249,
    # A and B share the remaining 111 as 9.5 : 59.5
    assert cell(co15, "01001", "3124") == 249
    assert cell(co15, "01001", "3122") == pytest.approx(9.5 * 111 / 69, rel=1e-12)
    assert cell(co15, "01001", "3123") == pytest.approx(59.5 * 111 / 69, rel=1e-12)
    children = sum(cell(co15, "01001", c) for c in ("3121", "3122", "3123", "3124"))
    assert children == pytest.approx(540, rel=1e-12)


def test_fit_clips_at_lower_bound_and_redistributes_the_rest(co15):
    # 313/// = 360, published 3131// = 105 → 255 for A and E; E would be 248.7 → held at 250
    assert cell(co15, "01001", "3133") == 250
    assert cell(co15, "01001", "3132") == pytest.approx(5, rel=1e-12)


def test_fit_children_of_a_fitted_parent_add_up_to_it(co15):
    # 3124// was fitted to 249; published 31241/ = 100 leaves 149 for 31242/ and its child
    assert cell(co15, "01001", "31242") == pytest.approx(149, rel=1e-12)
    assert cell(co15, "01001", "312420") == pytest.approx(149, rel=1e-12)


def test_fit_large_size_classes_add_up_to_the_county_total(co15):
    sectors = ["23", "42", "44-45", "48-49", "51", "52", "54", "62", "72"]

    assert cell(co15, "06037", "72") == pytest.approx(125_000 * LA_SCALE, rel=1e-12)
    assert cell(co15, "06037", "42") == pytest.approx(749.5 * LA_SCALE, rel=1e-12)
    assert sum(cell(co15, "06037", s) for s in sectors) == pytest.approx(300_000, rel=1e-12)


def test_midpoint_option_gives_range_middles():
    panel = CBPSource().open(CO15, imputation="midpoint", levels="all")

    assert cell(panel, "01001", "311112") == 9.5
    assert cell(panel, "01001", "3124") == 174.5
    assert cell(panel, "01001", "3133") == 374.5
    assert cell(panel, "06037", "72") == 125_000
    assert flag_of(panel, "01001", "3124") == "C,D,e"


def test_unknown_imputation_is_refused():
    with pytest.raises(ValueError, match="imputation must be one of fit, midpoint, not 'mean'"):
        CBPSource().open(CO15, imputation="mean", levels="all")


def test_estimated_flags_join_like_panel_aggregate(co15):
    rolled = co15.select(regions=["01001"]).aggregate(
        industries={c: ("x" if c in ("311112", "311119") else c) for c in co15.industries}
    )
    bounds = rolled.bounds.set_index("industry")

    assert flag_of(rolled, "01001", "x") == "A,B,D,e"
    assert tuple(bounds.loc["x", ["lower", "upper"]]) == pytest.approx((20, 118))


def test_levels_option_keeps_only_those_levels_and_the_same_fit():
    panel = CBPSource().open(CO15, levels=[6])

    assert set(panel.industries) == {"311111", "311112", "311119", "311120", "312410", "312420"}
    assert cell(panel, "01001", "311112") == pytest.approx(950 / 69, rel=1e-12)
    assert cell(panel, "01001", "312420") == pytest.approx(149, rel=1e-12)


def test_levels_option_total_and_sectors():
    panel = CBPSource().open(CO15, levels=[0, 2])

    assert set(panel.industries) == {"00", "23", "31-33", "42", "44-45", "48-49", "51", "52",
                                     "54", "62", "72"}  # fmt: skip


def test_levels_option_unknown_level_is_refused():
    with pytest.raises(ValueError, match=r"levels must be some of 0, 2, 3, 4, 5, 6"):
        CBPSource().open(CO15, levels=[1])


def test_fit_infeasible_group_warns_and_keeps_nearest_bounds(tmp_path):
    path = write(
        tmp_path,
        "cbp16co.txt",
        '"01","001","31----","","G",100,"G",1,5',
        '"01","001","311///","","G",90,"G",1,3',
        '"01","001","312///","B","D",0,"D",0,1',
        '"01","001","313///","A","D",0,"D",0,1',
    )

    with pytest.warns(CBPImputationWarning) as caught:
        panel = CBPSource().open(path, levels="all")

    assert str(caught[0].message) == (
        f"{path}: 2 withheld cells cannot add up to their parent total within their size "
        "ranges and keep the bound nearest to it (first: region 01001, industry 312)"
    )
    assert cell(panel, "01001", "312") == 20
    assert cell(panel, "01001", "313") == 0


def test_fit_withheld_cell_without_parent_warns_and_keeps_midpoint(tmp_path):
    path = write(tmp_path, "cbp16co.txt", '"01","001","311///","C","D",0,"D",0,4')

    with pytest.warns(CBPImputationWarning, match="1 withheld cells have no parent total"):
        panel = CBPSource().open(path, levels="all")

    assert cell(panel, "01001", "311") == 174.5


# ---------------------------------------------------------------- files from 2017
def test_open_2018_county_keeps_noise_flags():
    panel = CBPSource().open(CO18, levels="all")

    assert flag_of(panel, "36061", "00") == "G"
    assert flag_of(panel, "36061", "51") == "H"
    assert flag_of(panel, "36061", "511") == "J"
    assert cell(panel, "36061", "511") == 50_000
    assert panel.years == (2018,)


def test_open_2018_withheld_cells_are_empty_with_their_flag():
    panel = CBPSource().open(CO18, levels="all")

    assert flag_of(panel, "36061", "5111") == "D"
    assert flag_of(panel, "36061", "5112") == "S"
    assert cell(panel, "36061", "5111") == 0
    assert cell(panel, "36061", "5112", "establishments") == 30
    assert panel.bounds.empty


def test_open_2018_payroll_withheld_by_its_own_flag():
    panel = CBPSource().open(CO18, levels="all")

    assert cell(panel, "36061", "512") == 12_000
    assert cell(panel, "36061", "512", "payroll") == 0
    assert cell(panel, "36061", "511", "payroll") == 4_000_000


# ---------------------------------------------------------------- state and metro files
def test_open_state_file_reads_all_establishments_rows_only():
    panel = CBPSource().open(ST18, levels="all")

    assert list(panel.regions) == ["06", "10"]
    assert cell(panel, "06", "00") == 15_000_000
    assert cell(panel, "06", "31-33") == 1_200_000
    assert flag_of(panel, "06", "311") == "J"


def test_open_metro_file_fits_withheld_cell():
    panel = CBPSource().open(MSA16, levels="all")

    assert list(panel.regions) == ["10180", "35620"]
    assert cell(panel, "10180", "312") == pytest.approx(50, rel=1e-12)
    assert flag_of(panel, "10180", "312") == "B,D,e"
    assert panel.years == (2016,)


# ---------------------------------------------------------------- codes, years, files
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("------", ("00", 0)),
        ("31----", ("31-33", 2)),
        ("44----", ("44-45", 2)),
        ("48----", ("48-49", 2)),
        ("54----", ("54", 2)),
        ("311///", ("311", 3)),
        ("3111//", ("3111", 4)),
        ("31111/", ("31111", 5)),
        ("311111", ("311111", 6)),
        (" 3111// ", ("3111", 4)),
    ],
)
def test_naics_code_normalises_every_level(raw, expected):
    assert naics_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "31", "3111/", "31/---", "311//", "abcdef", "3111///"])
def test_naics_code_rejects_other_shapes(raw):
    assert naics_code(raw) is None


@pytest.mark.parametrize(
    ("name", "year"),
    [
        ("cbp16co.txt", 2016),
        ("cbp98co.txt", 1998),
        ("CBP02ST.TXT", 2002),
        ("cbp22msa.txt", 2022),
        ("CBP2022.CB2200CBP-Data.csv", 2022),
    ],
)
def test_year_from_file_name(tmp_path, name, year):
    path = tmp_path / name
    shutil.copy(MSA16, path)

    assert CBPSource().open(path, levels="all").years == (year,)


def test_year_option_overrides_file_name():
    assert CBPSource().open(CO15, year=2012, levels="all").years == (2012,)


def test_year_unknown_asks_for_it(tmp_path):
    path = tmp_path / "counties.txt"
    shutil.copy(MSA16, path)

    error = open_error(path)

    assert str(error) == (
        f"{path}: cannot tell the data year from the file name (expected a name like "
        "cbp16co.txt); give it with year=2016"
    )


def test_open_gzip_and_zip_give_the_same_panel(tmp_path):
    gz = tmp_path / "cbp15co.txt.gz"
    gz.write_bytes(gzip.compress(CO15.read_bytes()))
    zipped = tmp_path / "cbp15co.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(CO15, "cbp15co.txt")
    plain = CBPSource().open(CO15, levels="all").to_frame()

    assert CBPSource().open(gz, levels="all").to_frame().equals(plain)
    assert CBPSource().open(zipped, levels="all").to_frame().equals(plain)


def test_source_follows_the_protocol():
    assert isinstance(CBPSource(), Source)
    assert CBPSource.name == "cbp"


@pytest.mark.parametrize("sample", [CO15, CO18, ST18, MSA16])
def test_guess_can_open_published_layouts(sample):
    assert CBPSource().guess_can_open(sample)


def test_guess_can_open_compressed(tmp_path):
    gz = tmp_path / "cbp15co.txt.gz"
    gz.write_bytes(gzip.compress(CO15.read_bytes()))
    zipped = tmp_path / "cbp15co.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(CO15, "cbp15co.txt")

    assert CBPSource().guess_can_open(gz)
    assert CBPSource().guess_can_open(zipped)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("panel.csv", "year,region,industry,employment\n2015,R1,3111,5\n"),
        ("sbs.tsv", "nace_r2,indic_sb,geo\\time\t2015 \t2014 \nC10,V16110,DE\t5 \t4 \n"),
        ("cbp16co.txt", '"fipstate","fipscty","naics","est"\n"01","001","------",5\n'),
        ("cbp16us.txt", '"naics","emp","est"\n"------",5,1\n'),
        ("cbp16co.parquet", "not parquet"),
        ("empty.txt", ""),
    ],
)
def test_guess_can_open_refuses_other_files(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    assert not CBPSource().guess_can_open(path)


def test_guess_can_open_missing_file(tmp_path):
    assert not CBPSource().guess_can_open(tmp_path / "cbp16co.txt")


# ---------------------------------------------------------------- malformed input
def test_open_too_many_fields_names_line(tmp_path):
    path = write(
        tmp_path,
        "cbp16co.txt",
        '"01","001","------","","G",10,"G",1,5',
        '"01","003","------","","G",10,"G",1,5,7',
    )

    error = open_error(path)

    assert str(error) == (
        f'{path}, line 3, value \'"01","003","------","","G",10,"G",1,5,7\': '
        "expected 9 fields (as in the header), found 10"
    )


def test_open_too_few_fields_names_line_after_blank_line(tmp_path):
    path = write(
        tmp_path,
        "cbp16co.txt",
        '"01","001","------","","G",10,"G",1,5',
        "",
        '"01","003","------","","G",10',
    )

    error = open_error(path)

    assert str(error) == (
        f'{path}, line 4, value \'"01","003","------","","G",10\': '
        "expected 9 fields (as in the header), found 6"
    )


def test_open_non_numeric_employment_names_column_and_value(tmp_path):
    path = write(
        tmp_path,
        "cbp16co.txt",
        '"01","001","------","","G",10,"G",1,5',
        '"01","003","------","","G",1O,"G",1,5',
    )

    error = open_error(path)

    assert str(error) == (f"{path}, line 3, column 'emp', value '1O': not a non-negative number")


def test_open_unknown_size_class_letter(tmp_path):
    path = write(tmp_path, "cbp16co.txt", '"01","001","------","D","D",0,"D",0,5')

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, column 'empflag', value 'D': unknown employment size class "
        "(expected one of A, B, C, E, F, G, H, I, J, K, L, M, or empty)"
    )


def test_open_unknown_noise_flag(tmp_path):
    path = write(tmp_path, "cbp16co.txt", '"01","001","------","","X",5,"G",1,5')

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, column 'emp_nf', value 'X': unknown noise flag "
        "(expected one of G, H, J, D, S, N, or empty)"
    )


def test_open_bad_naics_code(tmp_path):
    path = write(tmp_path, "cbp16co.txt", '"01","001","31-33","","G",5,"G",1,5')

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, column 'naics', value '31-33': not a CBP NAICS code "
        "(------, NN----, NNN///, NNNN//, NNNNN/ or NNNNNN)"
    )


def test_open_bad_fips_code(tmp_path):
    path = write(tmp_path, "cbp16co.txt", '"01","1001","------","","G",5,"G",1,5')

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, column 'fipscty', value '1001': not a FIPS code (3 digits)"
    )


def test_open_empty_employment_without_flag(tmp_path):
    path = write(tmp_path, "cbp16co.txt", '"01","001","------","","",,"G",1,5')

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, column 'emp', value '': employment is empty but the row has no size "
        "class (empflag) or withheld flag"
    )


def test_open_duplicate_key_names_both_lines(tmp_path):
    path = write(
        tmp_path,
        "cbp16co.txt",
        '"01","001","311///","","G",10,"G",1,5',
        '"1","001","------","","G",10,"G",1,5',
        '"01","001","311///","","G",12,"G",1,5',
    )

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 4, column 'fipstate,fipscty,naics', value '01001, 311': duplicate "
        "region and industry (NAICS 311///; first seen at line 2)"
    )


def test_open_several_problems_reported_in_line_order(tmp_path):
    path = write(
        tmp_path,
        "cbp16co.txt",
        '"01","001","------","Q","G",10,"G",1,5',
        '"01","003","------","","G",x,"G",1,5',
    )

    error = open_error(path)

    assert [loc.line for loc in error.located] == [2, 3]
    assert error.total == 2


def test_open_missing_column_lists_found_columns(tmp_path):
    path = tmp_path / "cbp16co.txt"
    path.write_text('"fipstate","fipscty","naics","est"\n"01","001","------",5\n')

    error = open_error(path)

    assert str(error) == (
        f"{path}, column 'emp': missing required column (found: fipstate, fipscty, naics, est)"
    )


def test_open_header_only_file(tmp_path):
    path = write(tmp_path, "cbp16co.txt")

    assert str(open_error(path)) == f"{path}: the file has no rows"


def test_open_missing_file(tmp_path):
    path = tmp_path / "cbp16co.txt"

    assert str(open_error(path)) == f"{path}: no such file"


def test_open_upper_case_header_gives_same_panel_as_lower_case(tmp_path):
    lower = tmp_path / "cbp15co.txt"
    text = CO15.read_text(encoding="utf-8")
    first, rest = text.split("\n", 1)
    lower.write_text(first.lower() + "\n" + rest, encoding="utf-8")

    assert (
        CBPSource()
        .open(lower, levels="all")
        .to_frame()
        .equals(CBPSource().open(CO15, levels="all").to_frame())
    )


def test_every_withheld_value_lies_inside_its_bounds(co15):
    bounds = co15.bounds
    values = np.array(
        [cell(co15, r, i) for r, i in zip(bounds["region"], bounds["industry"], strict=True)]
    )

    assert ((values >= bounds["lower"]) & (values <= bounds["upper"])).all()


def test_open_metro_duplicate_key_names_the_metro_columns(tmp_path):
    path = tmp_path / "cbp16msa.txt"
    path.write_text(
        '"MSA","NAICS","EMP"\n"10180","------",5\n"10180","------",6\n', encoding="utf-8"
    )

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 3, column 'MSA,NAICS', value '10180, 00': duplicate region and industry "
        "(NAICS ------; first seen at line 2)"
    )


def test_open_keeps_only_six_digit_industries_by_default():
    panel = CBPSource().open(CO15)

    assert {len(code) for code in panel.industries} == {6}
    assert set(panel.industries) == {
        c for c in CBPSource().open(CO15, levels="all").industries if len(c) == 6 and c.isdigit()
    }
