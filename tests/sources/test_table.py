"""Reading long tables and definitions: bad input gets a clear error naming file, line/row,
column and value, and good input loses nothing (flags, leading zeros, extra columns warned)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clusteratlas.observatory import ExtraColumnsWarning
from clusteratlas.sources import InputError, LongTableSource, open_panel, read_definitions

pytestmark = pytest.mark.integration

HEADER = "year,region,industry,employment\n"
DEFS_HEADER = "industry,cluster,cluster_name,type\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def open_error(path: Path) -> InputError:
    with pytest.raises(InputError) as excinfo:
        LongTableSource().open(path)
    return excinfo.value


def definitions_error(path: Path) -> InputError:
    with pytest.raises(InputError) as excinfo:
        read_definitions(path)
    return excinfo.value


# ---------------------------------------------------------------- whole-table problems
def test_open_missing_column_lists_found_columns(tmp_path):
    path = write(tmp_path, "panel.csv", "year,region,employment\n2015,R1,5\n")

    error = open_error(path)

    assert str(error) == (
        f"{path}, column 'industry': missing required column (found: year, region, employment)"
    )


def test_open_two_missing_columns_reports_both(tmp_path):
    path = write(tmp_path, "panel.csv", "year,region\n2015,R1\n")

    error = open_error(path)

    assert str(error) == (
        f"{path}, column 'industry': missing required column (found: year, region)\n"
        f"{path}, column 'employment': missing required column (found: year, region)"
    )


def test_open_empty_file_names_file(tmp_path):
    path = write(tmp_path, "panel.csv", "")

    error = open_error(path)

    assert str(error).startswith(f"{path}: cannot be read as csv: ")


def test_open_header_only_says_no_rows(tmp_path):
    path = write(tmp_path, "panel.csv", HEADER)

    error = open_error(path)

    assert str(error) == f"{path}: the table has no rows"


def test_open_missing_file_says_no_such_file(tmp_path):
    path = tmp_path / "absent.csv"

    error = open_error(path)

    assert str(error) == f"{path}: no such file"


def test_open_panel_unknown_extension_names_file(tmp_path):
    path = write(tmp_path, "panel.xlsx", HEADER + "2015,R1,01,5\n")

    with pytest.raises(InputError) as excinfo:
        open_panel(path)

    assert str(excinfo.value).startswith(f"{path}: no installed source recognises this file")


# ---------------------------------------------------------------- cell problems (CSV lines)
def test_open_non_numeric_employment_names_line_column_value(tmp_path):
    path = write(tmp_path, "panel.csv", HEADER + "2015,R1,01,5\n2015,R1,02,12a\n")

    error = open_error(path)

    assert str(error) == f"{path}, line 3, column 'employment', value '12a': not a number"
    assert [(loc.line, loc.unit, loc.problem.field) for loc in error.located] == [
        (3, "line", "employment")
    ]


def test_open_first_data_row_is_line_2(tmp_path):
    path = write(tmp_path, "panel.csv", HEADER + "2015,R1,01,x\n")

    error = open_error(path)

    assert str(error) == f"{path}, line 2, column 'employment', value 'x': not a number"


def test_open_tsv_non_numeric_names_line(tmp_path):
    path = write(tmp_path, "panel.tsv", "year\tregion\tindustry\temployment\n2015\tR1\t01\tx\n")

    error = open_error(path)

    assert str(error) == f"{path}, line 2, column 'employment', value 'x': not a number"


def test_open_negative_employment_is_error(tmp_path):
    path = write(tmp_path, "panel.csv", HEADER + "2015,R1,01,-5\n")

    error = open_error(path)

    assert str(error) == f"{path}, line 2, column 'employment', value '-5': negative value"


def test_open_negative_payroll_is_error(tmp_path):
    path = write(
        tmp_path, "panel.csv", "year,region,industry,employment,payroll\n2015,R1,01,5,-1\n"
    )

    error = open_error(path)

    assert str(error) == f"{path}, line 2, column 'payroll', value '-1': negative value"


def test_open_fractional_and_text_years_are_errors(tmp_path):
    path = write(tmp_path, "panel.csv", HEADER + "2015.5,R1,01,5\nabc,R1,02,5\n")

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, column 'year', value '2015.5': year must be a whole number\n"
        f"{path}, line 3, column 'year', value 'abc': year must be a whole number"
    )


def test_open_empty_region_is_error(tmp_path):
    path = write(tmp_path, "panel.csv", HEADER + "2015,R1,01,5\n2015,,01,5\n")

    error = open_error(path)

    assert str(error) == f"{path}, line 3, column 'region', value '': empty code"


def test_open_duplicate_key_names_both_rows(tmp_path):
    path = write(tmp_path, "panel.csv", HEADER + "2015,R1,01,5\n2015,R2,01,5\n2015,R1,01,7\n")

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 4, column 'year,region,industry', value '2015, R1, 01': "
        "duplicate key (first seen at line 2)"
    )


def test_open_empty_employment_without_flag_is_error(tmp_path):
    path = write(tmp_path, "panel.csv", HEADER + "2015,R1,01,\n")

    error = open_error(path)

    assert str(error) == (
        f"{path}, line 2, column 'employment', value '': "
        "employment is empty; give a number, or a flag saying why it is missing"
    )


def test_open_empty_employment_with_flag_keeps_flag(tmp_path):
    path = write(
        tmp_path,
        "panel.csv",
        "year,region,industry,employment,flag\n2015,R1,01,,c\n2015,R1,02,5,\n",
    )

    panel = LongTableSource().open(path)

    assert panel.flags.to_dict("records") == [
        {"year": 2015, "region": "R1", "industry": "01", "flag": "c"}
    ]
    assert panel.dense("employment", 2015).tolist() == [[0.0, 5.0]]


def test_open_many_problems_reports_first_20_and_count(tmp_path):
    rows = "".join(f"2015,R1,{i:03d},bad\n" for i in range(25))
    path = write(tmp_path, "panel.csv", HEADER + rows)

    error = open_error(path)

    lines = str(error).split("\n")
    assert len(lines) == 21
    assert lines[0] == f"{path}, line 2, column 'employment', value 'bad': not a number"
    assert lines[19] == f"{path}, line 21, column 'employment', value 'bad': not a number"
    assert lines[20] == "... and 5 more problems"
    assert error.total == 25


def test_open_blank_line_keeps_true_line_number(tmp_path):
    path = write(tmp_path, "panel.csv", HEADER + "2015,R1,01,5\n\n2015,R1,02,12a\n")

    error = open_error(path)

    assert str(error) == f"{path}, line 4, column 'employment', value '12a': not a number"


# ---------------------------------------------------------------- what is kept
def test_open_extra_columns_warns_and_builds_panel(tmp_path):
    path = write(
        tmp_path, "panel.csv", "year,region,industry,employment,note,source\n2015,R1,01,5,x,y\n"
    )

    with pytest.warns(ExtraColumnsWarning) as record:
        panel = LongTableSource().open(path)

    assert [str(w.message) for w in record] == [f"{path}: ignoring extra columns: note, source"]
    assert panel.shape == (1, 1, 1)
    assert panel.dense("employment", 2015).tolist() == [[5.0]]


def test_open_codes_keep_leading_zeros(tmp_path):
    path = write(
        tmp_path, "panel.csv", HEADER + "2015,01001,01,5\n2015,01003,02,7\n2016,01001,01,6\n"
    )

    panel = LongTableSource().open(path)

    assert list(panel.regions) == ["01001", "01003"]
    assert list(panel.industries) == ["01", "02"]
    assert panel.to_frame()[["year", "region", "industry", "employment"]].to_dict("records") == [
        {"year": 2015, "region": "01001", "industry": "01", "employment": 5.0},
        {"year": 2015, "region": "01003", "industry": "02", "employment": 7.0},
        {"year": 2016, "region": "01001", "industry": "01", "employment": 6.0},
    ]


# ---------------------------------------------------------------- Parquet rows
def test_open_parquet_bad_value_reports_row(tmp_path):
    path = tmp_path / "panel.parquet"
    pd.DataFrame(
        {
            "year": ["2015", "2015", "2015"],
            "region": ["R1", "R1", "R1"],
            "industry": ["01", "02", "03"],
            "employment": ["1", "2", "12a"],
        }
    ).to_parquet(path)

    error = open_error(path)

    assert str(error) == f"{path}, row 3, column 'employment', value '12a': not a number"


def test_open_parquet_codes_keep_leading_zeros(tmp_path):
    path = tmp_path / "panel.parquet"
    pd.DataFrame(
        {
            "year": [2015, 2015],
            "region": ["01001", "01003"],
            "industry": ["01", "01"],
            "employment": [5, 3],
        }
    ).to_parquet(path)

    panel = LongTableSource().open(path)

    assert list(panel.regions) == ["01001", "01003"]
    assert list(panel.industries) == ["01"]


def test_open_parquet_negative_number_shows_plain_value(tmp_path):
    path = tmp_path / "panel.parquet"
    pd.DataFrame(
        {
            "year": [2015, 2015],
            "region": ["R1", "R2"],
            "industry": ["01", "01"],
            "employment": [5, -5],
        }
    ).to_parquet(path)

    error = open_error(path)

    assert "np.int64" not in str(error)
    assert str(error).startswith(f"{path}, row 2, column 'employment', value ")
    assert "-5" in str(error)


def test_open_parquet_duplicate_key_cites_first_row_in_file_units(tmp_path):
    path = tmp_path / "panel.parquet"
    pd.DataFrame(
        {
            "year": ["2015", "2015", "2015"],
            "region": ["R1", "R2", "R1"],
            "industry": ["01", "01", "01"],
            "employment": ["5", "5", "7"],
        }
    ).to_parquet(path)

    error = open_error(path)

    assert str(error) == (
        f"{path}, row 3, column 'year,region,industry', value '2015, R1, 01': "
        "duplicate key (first seen at row 1)"
    )


# ---------------------------------------------------------------- definitions
def test_read_definitions_industry_mapped_twice_names_both_rows(tmp_path):
    path = write(
        tmp_path, "defs.csv", DEFS_HEADER + "01,A,Alpha,traded\n02,B,Beta,local\n01,B,Beta,local\n"
    )

    error = definitions_error(path)

    assert str(error) == (
        f"{path}, line 4, column 'industry', value '01': "
        "industry mapped twice: to cluster 'A' at line 2 and to 'B' here"
    )


def test_read_definitions_unknown_type_is_error(tmp_path):
    path = write(tmp_path, "defs.csv", DEFS_HEADER + "01,A,Alpha,traded\n02,B,Beta,export\n")

    error = definitions_error(path)

    assert str(error) == (
        f"{path}, line 3, column 'type', value 'export': "
        "type must be 'traded' or 'local' (or empty)"
    )


def test_read_definitions_cluster_with_two_names_is_error(tmp_path):
    path = write(tmp_path, "defs.csv", DEFS_HEADER + "01,A,Alpha,traded\n02,A,Other,traded\n")

    error = definitions_error(path)

    assert str(error) == (
        f"{path}, line 3, column 'cluster_name', value 'Other': "
        "cluster 'A' has cluster_name 'Alpha' at line 2"
    )


def test_read_definitions_missing_cluster_column_lists_found(tmp_path):
    path = write(tmp_path, "defs.csv", "industry,cluster_name,type\n01,Alpha,traded\n")

    error = definitions_error(path)

    assert str(error) == (
        f"{path}, column 'cluster': missing required column (found: industry, cluster_name, type)"
    )


def test_read_definitions_keeps_leading_zeros(tmp_path):
    path = write(tmp_path, "defs.csv", DEFS_HEADER + "01,001,Alpha,Traded\n02,002,,\n")

    definitions = read_definitions(path)

    assert definitions.table.to_dict("records") == [
        {"industry": "01", "cluster": "001", "cluster_name": "Alpha", "type": "traded"},
        {"industry": "02", "cluster": "002", "cluster_name": "002", "type": ""},
    ]
