"""The CLI's ground rule: bad input gets `error: <file>, line N, ...` on stderr, exit code 3
(ExitStatus.BAD_INPUT), no traceback, and no output file written or touched. Good input is
written whole in every output format."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from clusteratlas.cli import ExitStatus, app

pytestmark = pytest.mark.integration

HEADER = "year,region,industry,employment\n"
GOOD_PANEL = (
    "year,region,industry,employment,establishments,payroll\n"
    "2015,01001,01,100,4,5000\n"
    "2015,01001,02,50,2,2000\n"
    "2015,01003,01,20,1,900\n"
    "2015,01003,02,80,5,3500\n"
    "2016,01001,01,110,4,5600\n"
    "2016,01001,02,45,2,1900\n"
    "2016,01003,01,25,1,1100\n"
    "2016,01003,02,85,5,3700\n"
)
GOOD_DEFS = (
    "industry,cluster,cluster_name,type\n01,001,Automotive,traded\n02,002,Local services,local\n"
)
SENTINEL = "sentinel,content\n1,2\n"


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_bad_input(result, expected: str) -> None:
    """Exit 3, stderr starts with `error:` and contains ``expected``, no traceback."""
    assert result.exit_code == ExitStatus.BAD_INPUT, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith("error: "), result.stderr
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


# ---------------------------------------------------------------- bad input files
# (name, panel text, definitions text, expected message with {panel} / {defs} placeholders)
BAD_INPUTS = [
    pytest.param(
        "year,region,employment\n2015,R1,5\n",
        GOOD_DEFS,
        "{panel}, column 'industry': missing required column (found: year, region, employment)",
        id="missing-column",
    ),
    pytest.param("", GOOD_DEFS, "{panel}: cannot be read as csv: ", id="empty-file"),
    pytest.param(HEADER, GOOD_DEFS, "{panel}: the table has no rows", id="header-only"),
    pytest.param(
        HEADER + "2015,R1,01,5\n2015,R1,02,12a\n",
        GOOD_DEFS,
        "{panel}, line 3, column 'employment', value '12a': not a number",
        id="non-numeric",
    ),
    pytest.param(
        HEADER + "2015,R1,01,-5\n",
        GOOD_DEFS,
        "{panel}, line 2, column 'employment', value '-5': negative value",
        id="negative",
    ),
    pytest.param(
        HEADER + "2015,R1,01,5\n2015.5,R1,02,5\n",
        GOOD_DEFS,
        "{panel}, line 3, column 'year', value '2015.5': year must be a whole number",
        id="fractional-year",
    ),
    pytest.param(
        HEADER + "abc,R1,01,5\n",
        GOOD_DEFS,
        "{panel}, line 2, column 'year', value 'abc': year must be a whole number",
        id="text-year",
    ),
    pytest.param(
        HEADER + "2015,,01,5\n",
        GOOD_DEFS,
        "{panel}, line 2, column 'region', value '': empty code",
        id="empty-region",
    ),
    pytest.param(
        HEADER + "2015,R1,01,5\n2015,R1,01,6\n",
        GOOD_DEFS,
        "{panel}, line 3, column 'year,region,industry', value '2015, R1, 01': "
        "duplicate key (first seen at line 2)",
        id="duplicate-key",
    ),
    pytest.param(
        HEADER + "2015,R1,01,\n",
        GOOD_DEFS,
        "{panel}, line 2, column 'employment', value '': employment is empty; give a number, "
        "or a flag saying why it is missing",
        id="empty-employment-no-flag",
    ),
    pytest.param(
        GOOD_PANEL,
        "industry,cluster,cluster_name,type\n01,A,Alpha,\n02,B,Beta,\n01,B,Beta,\n",
        "{defs}, line 4, column 'industry', value '01': industry mapped twice: to cluster 'A' "
        "at line 2 and to 'B' here",
        id="defs-industry-twice",
    ),
    pytest.param(
        GOOD_PANEL,
        "industry,cluster,cluster_name,type\n01,A,Alpha,export\n",
        "{defs}, line 2, column 'type', value 'export': type must be 'traded' or 'local' "
        "(or empty)",
        id="defs-unknown-type",
    ),
    pytest.param(
        GOOD_PANEL,
        "industry,cluster,cluster_name,type\n01,A,Alpha,\n02,A,Other,\n",
        "{defs}, line 3, column 'cluster_name', value 'Other': cluster 'A' has cluster_name "
        "'Alpha' at line 2",
        id="defs-two-names",
    ),
    pytest.param(
        GOOD_PANEL,
        "industry,cluster_name,type\n01,Alpha,traded\n",
        "{defs}, column 'cluster': missing required column (found: industry, cluster_name, type)",
        id="defs-missing-cluster",
    ),
]


@pytest.mark.parametrize(("panel_text", "defs_text", "expected"), BAD_INPUTS)
def test_clusters_bad_input_exits_3_without_output(tmp_path, panel_text, defs_text, expected):
    panel = write(tmp_path, "panel.csv", panel_text)
    defs = write(tmp_path, "defs.csv", defs_text)
    out = tmp_path / "out.csv"

    result = invoke("clusters", panel, "--definitions", defs, "--out", out)

    assert_bad_input(result, expected.format(panel=panel, defs=defs))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["defs.csv", "panel.csv"]


@pytest.mark.parametrize(("panel_text", "defs_text", "expected"), BAD_INPUTS)
def test_clusters_bad_input_leaves_existing_output_untouched(
    tmp_path, panel_text, defs_text, expected
):
    panel = write(tmp_path, "panel.csv", panel_text)
    defs = write(tmp_path, "defs.csv", defs_text)
    out = write(tmp_path, "out.csv", SENTINEL)
    os.utime(out, (1_000_000_000, 1_000_000_000))

    result = invoke("clusters", panel, "--definitions", defs, "--out", out)

    assert_bad_input(result, expected.format(panel=panel, defs=defs))
    assert out.read_text(encoding="utf-8") == SENTINEL
    assert out.stat().st_mtime == 1_000_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["defs.csv", "out.csv", "panel.csv"]


def test_clusters_non_numeric_prints_exactly_one_error_line(tmp_path):
    panel = write(tmp_path, "panel.csv", HEADER + "2015,R1,01,5\n2015,R1,02,12a\n")
    defs = write(tmp_path, "defs.csv", GOOD_DEFS)

    result = invoke("clusters", panel, "--definitions", defs, "--out", tmp_path / "out.csv")

    assert result.exit_code == ExitStatus.BAD_INPUT
    assert result.stderr == (
        f"error: {panel}, line 3, column 'employment', value '12a': not a number\n"
    )


def test_clusters_parquet_bad_value_reports_row(tmp_path):
    panel = tmp_path / "panel.parquet"
    pd.DataFrame(
        {
            "year": ["2015", "2015", "2015"],
            "region": ["R1", "R1", "R1"],
            "industry": ["01", "02", "03"],
            "employment": ["1", "2", "12a"],
        }
    ).to_parquet(panel)
    out = tmp_path / "out.csv"

    result = invoke("clusters", panel, "--out", out)

    assert_bad_input(result, f"{panel}, row 3, column 'employment', value '12a': not a number")
    assert not out.exists()


def test_clusters_error_message_shows_value_verbatim(tmp_path):
    panel = write(tmp_path, "panel.csv", HEADER + "2015,R1,01,:x:\n")

    result = invoke("clusters", panel, "--out", tmp_path / "out.csv")

    assert result.stderr == (
        f"error: {panel}, line 2, column 'employment', value ':x:': not a number\n"
    )


def test_clusters_missing_definitions_file_says_no_such_file(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    defs = tmp_path / "absent_defs.csv"
    out = tmp_path / "out.csv"

    result = invoke("clusters", panel, "--definitions", defs, "--out", out)

    assert_bad_input(result, f"{defs}: no such file")
    assert not out.exists()


def test_clusters_missing_panel_file_says_no_such_file(tmp_path):
    panel = tmp_path / "absent.csv"
    out = tmp_path / "out.csv"

    result = invoke("clusters", panel, "--out", out)

    assert_bad_input(result, f"{panel}: no such file")
    assert not out.exists()


# ---------------------------------------------------------------- bad options
def test_clusters_year_not_in_panel_lists_years(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    out = write(tmp_path, "out.csv", SENTINEL)

    result = invoke("clusters", panel, "--year", "2030", "--out", out)

    assert_bad_input(result, "year 2030 is not in the panel (years: 2015–2016)")
    assert out.read_text(encoding="utf-8") == SENTINEL


def test_clusters_base_year_not_in_panel_lists_years(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    out = tmp_path / "out.csv"

    result = invoke("clusters", panel, "--base-year", "1999", "--out", out)

    assert_bad_input(result, "year 1999 is not in the panel (years: 2015–2016)")
    assert not out.exists()


def test_clusters_unknown_reference_region_exits_3(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    out = tmp_path / "out.csv"

    result = invoke("clusters", panel, "--reference-region", "XX", "--out", out)

    assert_bad_input(
        result,
        "--reference-region 'XX' is not a region of the panel (regions include 01001, 01003)",
    )
    assert not out.exists()


def test_clusters_unknown_output_extension_fails_before_reading(tmp_path):
    panel = tmp_path / "absent.csv"  # never read: the output check comes first
    out = tmp_path / "result.xyz"

    result = invoke("clusters", panel, "--out", out)

    assert_bad_input(
        result,
        f"{out}: cannot tell the output format from the extension; use one of "
        ".csv, .csv.gz, .tsv, .parquet, .json, .duckdb",
    )
    assert "no such file" not in result.output
    assert not out.exists()


def test_clusters_output_folder_missing_exits_3(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    out = tmp_path / "missing_dir" / "out.csv"

    result = invoke("clusters", panel, "--out", out)

    assert_bad_input(result, f"{out}: the folder {out.parent} does not exist")
    assert not out.parent.exists()


def test_clusters_lq_base_type_without_types_exits_3(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    defs = write(
        tmp_path,
        "defs.csv",
        "industry,cluster,cluster_name,type\n01,001,Automotive,\n02,002,Services,\n",
    )
    out = tmp_path / "out.csv"

    result = invoke("clusters", panel, "--definitions", defs, "--lq-base", "type", "--out", out)

    assert_bad_input(
        result, "needs a type (traded or local) for every cluster; 2 have none, e.g. 001, 002"
    )
    assert not out.exists()


def test_shiftshare_without_base_year_is_usage_error(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    out = tmp_path / "out.csv"

    result = invoke("shiftshare", panel, "--year", "2016", "--out", out)

    assert result.exit_code == ExitStatus.USAGE
    assert "Missing option '--base-year'" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


# ---------------------------------------------------------------- warnings on good input
def test_clusters_extra_columns_warns_and_writes(tmp_path):
    panel = write(
        tmp_path,
        "panel.csv",
        "year,region,industry,employment,note\n2015,R1,01,5,x\n2015,R2,01,3,y\n",
    )
    out = tmp_path / "out.csv"

    result = invoke("clusters", panel, "--out", out)

    assert result.exit_code == 0, result.output
    assert f"warning: {panel}: ignoring extra columns: note\n" in result.stderr
    assert len(pd.read_csv(out)) == 2


# ---------------------------------------------------------------- successful outputs
def read_back(path: Path, reference: pd.DataFrame) -> pd.DataFrame:
    """Read an output file; text formats get numbers parsed and booleans mapped by the
    dtypes of ``reference``."""
    name = path.name
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith(".duckdb"):
        duckdb = pytest.importorskip("duckdb")
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute("SELECT * FROM clusters").df()
        finally:
            con.close()
    if name.endswith(".json"):
        return pd.DataFrame.from_records(json.loads(path.read_text(encoding="utf-8")))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in frame.columns:
        kind = reference[col].dtype.kind
        if kind == "b":
            frame[col] = frame[col].map({"True": True, "False": False, "": None})
        elif kind in "iuf":
            frame[col] = pd.to_numeric(frame[col])
    return frame


def _cell(value: object) -> object:
    if isinstance(value, str):
        return value or None
    if value is None or pd.isna(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    return str(value)


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as float64 (missing = NaN); everything else as str/bool objects (missing = None)."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        if frame[col].dtype.kind in "iuf":
            out[col] = pd.to_numeric(frame[col]).astype("float64")
        else:
            out[col] = pd.Series([_cell(v) for v in frame[col]], index=frame.index, dtype=object)
    return out.sort_values(["year", "region", "cluster"], ignore_index=True)


@pytest.fixture(scope="module")
def parquet_reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reference")
    panel = write(tmp, "panel.csv", GOOD_PANEL)
    defs = write(tmp, "defs.csv", GOOD_DEFS)
    out = tmp / "out.parquet"
    result = invoke("clusters", panel, "--definitions", defs, "--base-year", "2015", "--out", out)
    assert result.exit_code == 0, result.output
    return pd.read_parquet(out)


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.json", "out.duckdb"])
def test_clusters_output_formats_hold_same_rows(tmp_path, parquet_reference, name):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    defs = write(tmp_path, "defs.csv", GOOD_DEFS)
    out = tmp_path / name

    result = invoke("clusters", panel, "--definitions", defs, "--base-year", "2015", "--out", out)

    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {len(parquet_reference)} rows to {out}\n"
    frame = read_back(out, parquet_reference)
    assert list(frame.columns) == list(parquet_reference.columns)
    tolerance = {"check_exact": True}
    pd.testing.assert_frame_equal(normalise(frame), normalise(parquet_reference), **tolerance)


def test_clusters_json_output_keeps_full_precision(tmp_path, parquet_reference):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    defs = write(tmp_path, "defs.csv", GOOD_DEFS)
    out = tmp_path / "out.json"

    result = invoke("clusters", panel, "--definitions", defs, "--base-year", "2015", "--out", out)

    assert result.exit_code == 0, result.output
    frame = read_back(out, parquet_reference)
    pd.testing.assert_frame_equal(normalise(frame), normalise(parquet_reference), check_exact=True)


def test_clusters_parquet_output_keeps_codes_and_rows(parquet_reference):
    frame = parquet_reference

    keys = sorted(zip(frame["year"], frame["region"], frame["cluster"], strict=True))

    assert keys == [
        (2015, "01001", "001"),
        (2015, "01001", "002"),
        (2015, "01003", "001"),
        (2015, "01003", "002"),
        (2016, "01001", "001"),
        (2016, "01001", "002"),
        (2016, "01003", "001"),
        (2016, "01003", "002"),
    ]
    assert frame.loc[
        (frame["year"] == 2016) & (frame["region"] == "01001") & (frame["cluster"] == "001"),
        "employment",
    ].tolist() == [110]


def test_clusters_csv_output_keeps_leading_zeros(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    defs = write(tmp_path, "defs.csv", GOOD_DEFS)
    out = tmp_path / "out.csv"

    result = invoke("clusters", panel, "--definitions", defs, "--out", out)

    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("year,region,cluster,cluster_name,type,employment,")
    assert lines[1].startswith("2015,01001,001,Automotive,traded,100")


def test_clusters_output_overwrites_existing_file(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    out = write(tmp_path, "out.csv", SENTINEL)

    result = invoke("clusters", panel, "--out", out)

    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("year,region,cluster,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "panel.csv"]


def test_clusters_csv_output_has_normal_permissions(tmp_path):
    panel = write(tmp_path, "panel.csv", GOOD_PANEL)
    out = tmp_path / "out.csv"
    previous = os.umask(0o022)  # the usual umask, so the expected mode is fixed
    try:
        result = invoke("clusters", panel, "--out", out)
    finally:
        os.umask(previous)

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # not mkstemp's 0o600
