"""Reading Eurostat regional SBS files (bulk TSV, old and new layouts, and SDMX-CSV).

Expected values are read by hand from the sample files in ``tests/golden/sources/eurostat``
(see the README there).
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from clusteratlas.observatory import cluster_table
from clusteratlas.sources import InputError, Source
from clusteratlas.sources.eurostat import EurostatSource, read_eurostat
from conftest import GOLDEN

pytestmark = pytest.mark.integration

SAMPLES = GOLDEN / "sources" / "eurostat"
OLD = SAMPLES / "sbs_r_nuts06_r2.tsv"
NEW = SAMPLES / "sbs_r_nuts2021.tsv"
SDMX = SAMPLES / "sbs_r_nuts2021_sdmx.csv"
OLD_HEADER = "nace_r2,indic_sb,geo\\time\t2016 \t2015 \n"
SDMX_HEADER = "DATAFLOW,LAST UPDATE,freq,nace_r2,indic_sbs,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"
SDMX_PREFIX = "ESTAT:SBS_R_NUTS2021(1.0),15/03/25 23:00:00,A"
BAD_VALUE = "not a Eurostat value (a number or ':', then optional flags as in '567 p' or ': c')"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def open_error(path: Path, **options) -> InputError:
    with pytest.raises(InputError) as excinfo:
        EurostatSource().open(path, **options)
    return excinfo.value


def cell(panel, measure: str, year: int, region: str, industry: str) -> float:
    return panel.dense(measure, year)[
        panel.regions.get_loc(region), panel.industries.get_loc(industry)
    ]


def flag_set(panel) -> set[tuple[int, str, str, str]]:
    return set(panel.flags.itertuples(index=False, name=None))


# ---------------------------------------------------------------- the source contract
def test_source_follows_the_protocol():
    source = EurostatSource()

    assert isinstance(source, Source)
    assert source.name == "eurostat"


@pytest.mark.parametrize("path", [OLD, NEW, SDMX])
def test_guess_can_open_eurostat_files_true(path):
    assert EurostatSource().guess_can_open(path)


def test_guess_can_open_decides_from_content_not_name(tmp_path):
    renamed = tmp_path / "download.txt"
    shutil.copy(OLD, renamed)
    long_table = write(
        tmp_path, "sbs_r_nuts06_r2.tsv", "year\tregion\tindustry\temployment\n2020\tA\tx\t3\n"
    )

    assert EurostatSource().guess_can_open(renamed)
    assert not EurostatSource().guess_can_open(long_table)


def test_guess_can_open_project_tables_and_cbp_false(tmp_path):
    long_csv = write(tmp_path, "p.csv", "year,region,industry,employment\n2020,A,x,3\n")
    cbp = write(
        tmp_path, "cbp20co.txt", "fipstate,fipscty,naics,emp_nf,emp,qp1\n01,001,------,G,1,2\n"
    )
    empty = write(tmp_path, "empty.tsv", "")

    source = EurostatSource()

    assert not source.guess_can_open(long_csv)
    assert not source.guess_can_open(cbp)
    assert not source.guess_can_open(empty)
    assert not source.guess_can_open(tmp_path / "absent.tsv")


def test_guess_can_open_gzip_true(tmp_path):
    path = tmp_path / "sbs_r_nuts06_r2.tsv.gz"
    path.write_bytes(gzip.compress(OLD.read_bytes()))

    assert EurostatSource().guess_can_open(path)


# ---------------------------------------------------------------- old layout (geo\time)
def test_open_old_layout_reads_years_newest_first():
    panel = EurostatSource().open(OLD)

    assert panel.years == (2015, 2016)
    assert cell(panel, "employment", 2016, "DE11", "C10") == 200
    assert cell(panel, "employment", 2015, "DE11", "C10") == 190
    assert cell(panel, "employment", 2015, "DE11", "F41") == 310


def test_open_old_layout_level_2_regions_and_aggregates():
    panel = EurostatSource().open(OLD)

    assert list(panel.regions) == ["DE", "DE1", "DE11", "DE12", "EU27_2020", "EU28", "FR", "FR10"]
    assert panel.aggregates == ("DE", "DE1", "EU27_2020", "EU28", "FR")


def test_open_extra_regio_and_finer_regions_dropped_and_reported():
    source = EurostatSource()

    panel = source.open(OLD)

    assert "DEZZ" not in panel.regions
    assert "DE111" not in panel.regions
    assert source.report.extra_regio == ("DEZZ",)
    assert source.report.finer_regions == ("DE111",)


def test_open_level_0_countries_are_regions_totals_aggregates():
    panel = EurostatSource().open(OLD, level=0)

    assert list(panel.regions) == ["DE", "EU27_2020", "EU28", "FR"]
    assert panel.aggregates == ("EU27_2020", "EU28")
    assert cell(panel, "employment", 2016, "DE", "C10") == 900


def test_open_level_none_keeps_every_nuts_code_but_not_extra_regio():
    panel = EurostatSource().open(OLD, level=None)

    assert list(panel.regions) == [
        "DE", "DE1", "DE11", "DE111", "DE12", "EU27_2020", "EU28", "FR", "FR10",
    ]  # fmt: skip
    assert panel.aggregates == ("EU27_2020", "EU28")


def test_open_old_flags_survive():
    panel = EurostatSource().open(OLD)

    assert flag_set(panel) == {
        (2015, "DE11", "C10", "p"),
        (2015, "DE12", "C10", "c"),
        (2015, "DE12", "C20", "u"),
        (2015, "EU28", "C10", "s"),
        (2015, "FR10", "F41", "b"),
        (2016, "DE12", "C20", "c"),
        (2016, "EU28", "C20", "z"),
        (2016, "FR10", "C10", "e"),
        (2016, "FR10", "F41", "c,d"),
    }


def test_open_missing_with_flag_is_an_empty_flagged_cell():
    panel = EurostatSource().open(OLD)
    frame = panel.to_frame().set_index(["year", "region", "industry"])

    assert frame.loc[(2015, "DE12", "C10"), "employment"] == 0
    assert frame.loc[(2015, "DE12", "C10"), "flag"] == "c"


def test_open_missing_without_flag_is_skipped_and_counted():
    source = EurostatSource()

    panel = source.open(OLD)
    keys = set(panel.to_frame()[["year", "region", "industry"]].itertuples(index=False, name=None))

    assert source.report.skipped_missing == 2
    assert (2015, "DE12", "F41") not in keys
    assert (2015, "FR10", "C20") not in keys


def test_open_measures_establishments_and_payroll_from_other_indicators():
    source = EurostatSource()

    panel = source.open(OLD)

    assert panel.measures == ("employment", "establishments", "payroll")
    assert (source.report.establishments, source.report.payroll) == ("V11210", "V13320")
    assert cell(panel, "establishments", 2016, "DE11", "C10") == 20
    assert cell(panel, "establishments", 2016, "DE12", "C10") == 12
    assert cell(panel, "payroll", 2015, "DE11", "C10") == pytest.approx(8.1)


def test_open_indicator_alias_local_units_becomes_employment():
    panel = EurostatSource().open(OLD, indicator="local_units")

    assert panel.measures == ("employment", "payroll")
    assert cell(panel, "employment", 2015, "DE11", "C10") == 19
    assert flag_set(panel) == {(2015, "DE12", "C10", "c")}


def test_open_unread_indicator_may_be_negative():
    panel = EurostatSource().open(OLD, indicator="V13320")

    assert panel.measures == ("employment", "establishments")
    assert cell(panel, "employment", 2016, "DE11", "C10") == pytest.approx(8.5)


def test_open_unknown_indicator_lists_codes():
    error = open_error(OLD, indicator="V99999")

    assert str(error) == (
        f"{OLD}: indicator 'V99999' is not in the file (it has V11210, V12150, V13320, V16110)"
    )


# ---------------------------------------------------------------- industries
def test_open_default_nace_level_is_the_most_detailed_present():
    source = EurostatSource()

    panel = source.open(OLD)

    assert list(panel.industries) == ["C10", "C20", "F41"]
    assert source.report.dropped_industries == ("B-E", "B-S_X_K642", "C", "F")


def test_open_nace_level_1_keeps_sections_only():
    panel = EurostatSource().open(OLD, nace_level=1)

    assert list(panel.industries) == ["C", "F"]
    assert cell(panel, "employment", 2016, "DE11", "F") == 500


def test_open_industries_option_keeps_non_nace_aggregates():
    panel = EurostatSource().open(OLD, industries=["B-E", "B-S_X_K642"])

    assert list(panel.industries) == ["B-E", "B-S_X_K642"]
    assert cell(panel, "employment", 2015, "DE11", "B-S_X_K642") == 4900


def test_open_groups_not_mixed_with_divisions(tmp_path):
    path = write(
        tmp_path,
        "groups.tsv",
        OLD_HEADER
        + "C10,V16110,DE11\t200 \t190 \n"
        + "C101,V16110,DE11\t120 \t110 \n"
        + "C102,V16110,DE11\t80 \t80 \n",
    )

    assert list(EurostatSource().open(path).industries) == ["C101", "C102"]
    assert list(EurostatSource().open(path, nace_level=2).industries) == ["C10"]


def test_open_nace_level_absent_names_levels_present():
    error = open_error(OLD, nace_level=4)

    assert str(error) == f"{OLD}: no industries at NACE level 4 (levels in the file: 1, 2)"


# ---------------------------------------------------------------- new layout (TIME_PERIOD)
def test_open_new_layout_oldest_first_with_default_indicator():
    source = EurostatSource()

    panel = source.open(NEW)

    assert source.report.indicator == "EMP_LOC_NR"
    assert source.report.fixed == {"freq": "A"}
    assert panel.years == (2021, 2022)
    assert list(panel.regions) == ["DE", "DE11", "DE12", "EU27_2020", "FR10"]
    assert panel.aggregates == ("DE", "EU27_2020")
    assert cell(panel, "employment", 2021, "DE11", "C10") == 2000
    assert cell(panel, "employment", 2022, "DE11", "C10") == 2100
    assert cell(panel, "establishments", 2022, "DE12", "C10") == 95
    assert cell(panel, "payroll", 2022, "DE11", "C10") == pytest.approx(90.25)


def test_open_new_flags_survive():
    source = EurostatSource()

    panel = source.open(NEW)

    assert flag_set(panel) == {
        (2021, "DE11", "C20", "C"),
        (2021, "DE12", "C10", "C"),
        (2021, "DE12", "C20", "m"),
        (2021, "EU27_2020", "C20", "u"),
        (2021, "FR10", "C20", "f"),
        (2022, "DE11", "C10", "p"),
        (2022, "DE11", "C20", "e"),
        (2022, "DE12", "C10", "i"),
        (2022, "EU27_2020", "C10", "e"),
        (2022, "EU27_2020", "C20", "b,d"),
        (2022, "FR10", "C20", "n"),
    }
    assert source.report.skipped_missing == 1
    assert source.report.extra_regio == ("DEZZ", "FR10Z")


def test_open_new_layout_alias_wages():
    panel = EurostatSource().open(NEW, indicator="wages")

    assert panel.measures == ("employment", "establishments")
    assert cell(panel, "employment", 2021, "DE11", "C10") == pytest.approx(85.5)


def test_open_extra_dimension_with_several_values_asks_to_choose(tmp_path):
    path = write(
        tmp_path,
        "units.tsv",
        "unit,nace_r2,indic_sb,geo\\time\t2016 \n"
        "NR,C10,V16110,DE11\t200 \n"
        "PC,C10,V16110,DE11\t20 \n",
    )

    error = open_error(path)

    assert str(error) == (
        f"{path}: dimension 'unit' has several values for indicator V16110 (NR, PC); "
        "choose one with select={'unit': ...}"
    )


def test_open_select_chooses_the_value_of_an_extra_dimension(tmp_path):
    path = write(
        tmp_path,
        "units.tsv",
        "unit,nace_r2,indic_sb,geo\\time\t2016 \n"
        "NR,C10,V16110,DE11\t200 \n"
        "PC,C10,V16110,DE11\t20 \n",
    )

    panel = EurostatSource().open(path, select={"unit": "PC"})

    assert cell(panel, "employment", 2016, "DE11", "C10") == 20


# ---------------------------------------------------------------- SDMX-CSV
def test_open_sdmx_csv_values_and_measures():
    source = EurostatSource()

    panel = source.open(SDMX)

    assert source.report.layout == "sdmx-csv"
    assert panel.measures == ("employment", "establishments")
    assert list(panel.regions) == ["DE11", "DE12", "EU27_2020"]
    assert panel.aggregates == ("EU27_2020",)
    assert cell(panel, "employment", 2022, "DE11", "C20") == 2600
    assert cell(panel, "establishments", 2021, "DE11", "C10") == 200


def test_open_sdmx_csv_joins_obs_flag_and_conf_status():
    source = EurostatSource()

    panel = source.open(SDMX)

    assert flag_set(panel) == {
        (2021, "DE11", "C20", "C"),
        (2021, "DE12", "C10", "C"),
        (2021, "DE12", "C20", "m"),
        (2021, "EU27_2020", "C20", "u"),
        (2022, "DE11", "C10", "p"),
        (2022, "DE11", "C20", "D,e"),
        (2022, "DE12", "C10", "i"),
        (2022, "EU27_2020", "C10", "e"),
        (2022, "EU27_2020", "C20", "N"),
    }
    assert source.report.skipped_missing == 1


def test_open_sdmx_bad_value_names_line_and_column(tmp_path):
    path = write(
        tmp_path,
        "x.csv",
        SDMX_HEADER
        + f"{SDMX_PREFIX},C10,EMP_LOC_NR,DE11,2021,5,\n"
        + f"{SDMX_PREFIX},C10,EMP_LOC_NR,DE12,2021,5x,p\n",
    )

    error = open_error(path)

    assert str(error) == f"{path}, line 3, column 'OBS_VALUE', value '5x': not a number"


def test_open_sdmx_duplicate_key_names_both_lines(tmp_path):
    path = write(
        tmp_path,
        "x.csv",
        SDMX_HEADER
        + f"{SDMX_PREFIX},C10,EMP_LOC_NR,DE11,2021,5,\n"
        + f"{SDMX_PREFIX},C10,EMP_LOC_NR,DE12,2021,6,\n"
        + f"{SDMX_PREFIX},C10,EMP_LOC_NR,DE11,2021,7,\n",
    )

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 4, column 'freq,nace_r2,indic_sbs,geo,TIME_PERIOD', "
        "value 'A,C10,EMP_LOC_NR,DE11,2021': duplicate key (first seen at line 2)"
    )


def test_open_sdmx_wrong_number_of_cells(tmp_path):
    path = write(
        tmp_path, "x.csv", SDMX_HEADER + f"{SDMX_PREFIX},C10,EMP_LOC_NR,DE11,2021,5,,extra\n"
    )

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, value '{SDMX_PREFIX},C10,EMP_LOC_NR,DE11,2021,5,,extra': "
        "expected 9 comma-separated cells (as in the header), found 10"
    )


# ---------------------------------------------------------------- gzip
@pytest.mark.parametrize("name", ["sbs_r_nuts06_r2.tsv.gz", "sbs_r_nuts06_r2_gz"])
def test_open_gzip_gives_the_same_panel(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(OLD.read_bytes()))

    panel = EurostatSource().open(path)

    assert panel.to_frame().equals(EurostatSource().open(OLD).to_frame())


# ---------------------------------------------------------------- malformed TSV
def test_open_unparseable_value_names_line_year_and_cell(tmp_path):
    path = write(
        tmp_path, "x.tsv", OLD_HEADER + "C10,V16110,DE11\t5 \t6 \nC20,V16110,DE11\t12x3 p\t6 \n"
    )

    error = open_error(path)

    assert str(error) == f"{path}, line 3, column '2016', value '12x3 p': {BAD_VALUE}"


def test_open_wrong_number_of_cells_counts_blank_lines(tmp_path):
    path = write(tmp_path, "x.tsv", OLD_HEADER + "C10,V16110,DE11\t5 \t6 \n\nC20,V16110,DE11\t5 \n")

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 4, value 'C20,V16110,DE11': "
        "expected 3 tab-separated cells (as in the header), found 2"
    )


def test_open_too_many_cells_is_reported(tmp_path):
    path = write(tmp_path, "x.tsv", OLD_HEADER + "C10,V16110,DE11\t5 \t6 \t7 \n")

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, value 'C10,V16110,DE11': "
        "expected 3 tab-separated cells (as in the header), found 4"
    )


def test_open_year_header_not_a_year(tmp_path):
    path = write(
        tmp_path, "x.tsv", "nace_r2,indic_sb,geo\\time\t2016 \t2015Q1 \nC10,V16110,DE11\t5 \t6 \n"
    )

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 1, column '2015Q1', value '2015Q1 ': the column header is not a year"
    )


def test_open_duplicate_key_names_both_lines(tmp_path):
    path = write(
        tmp_path,
        "x.tsv",
        OLD_HEADER + "C10,V16110,DE11\t5 \t6 \nC20,V16110,DE11\t5 \t6 \nC10,V16110,DE11\t7 \t8 \n",
    )

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 4, column 'nace_r2,indic_sb,geo', value 'C10,V16110,DE11': "
        "duplicate key (first seen at line 2)"
    )


def test_open_key_with_too_few_codes(tmp_path):
    path = write(tmp_path, "x.tsv", OLD_HEADER + "C10,DE11\t5 \t6 \n")

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, column 'nace_r2,indic_sb,geo', value 'C10,DE11': "
        "expected 3 comma-separated codes (nace_r2, indic_sb, geo), found 2"
    )


def test_open_negative_employment_named_by_line_and_year(tmp_path):
    path = write(
        tmp_path, "x.tsv", OLD_HEADER + "C10,V16110,DE11\t5 \t6 \nC20,V16110,DE11\t7 \t-3 p\n"
    )

    error = open_error(path)

    assert str(error) == f"{path}, line 3, column '2015', value '-3 p': negative value"


def test_open_not_a_eurostat_file(tmp_path):
    path = write(tmp_path, "p.csv", "year,region,industry,employment\n2020,A,x,3\n")

    error = open_error(path)

    assert str(error).startswith(f"{path}: not a Eurostat file")


def test_open_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="unknown options for the eurostat source: nace"):
        EurostatSource().open(OLD, nace=2)


# ---------------------------------------------------------------- end to end
def test_cluster_table_lq_against_eu27_by_hand():
    panel, _ = read_eurostat(OLD)

    table = cluster_table(panel, reference_region="EU27_2020", years=[2016])
    lq = table.set_index(["region", "cluster"])["lq"]

    # 2016, industries C10, C20, F41. EU27_2020: 4000 + 2000 + 6000 = 12000, C10 share 1/3.
    # DE11: 200 / (200 + 250 + 300) = 4/15 -> lq 0.8
    # DE12: 100 / (100 + 0 [: c] + 200) = 1/3 -> lq 1.0
    # FR10: 150 / (150 + 50 + 0 [: cd]) = 3/4 -> lq 2.25
    assert set(table["region"]) == {"DE11", "DE12", "FR10"}
    assert lq[("DE11", "C10")] == pytest.approx(0.8, rel=1e-12)
    assert lq[("DE12", "C10")] == pytest.approx(1.0, rel=1e-12)
    assert lq[("FR10", "C10")] == pytest.approx(2.25, rel=1e-12)
    # DE11 F41: (300/750) / (6000/12000) = 0.8
    assert lq[("DE11", "F41")] == pytest.approx(0.8, rel=1e-12)


def test_open_emp_nr_is_read_as_employment_by_default(tmp_path):
    path = write(
        tmp_path,
        "x.tsv",
        "freq,nace_r2,indic_sbs,geo\\TIME_PERIOD\t2021 \nA,C10,EMP_NR,AT11\t5123 \n",
    )

    source = EurostatSource()
    panel = source.open(path)

    assert source.report.indicator == "EMP_NR"
    assert cell(panel, "employment", 2021, "AT11", "C10") == 5123
