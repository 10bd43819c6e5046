"""Panels from establishment microdata: totals kept through every roll-up, values equal to an
independent pandas computation, the same frame on DuckDB and Spark, bounded memory on DuckDB,
and errors naming the file and column."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clusteratlas.observatory import Panel
from clusteratlas.sources import InputError
from clusteratlas.sources.confidentiality import CONFIDENTIAL
from clusteratlas.sources.hierarchies import roll_up
from clusteratlas.sources.microdata import (
    _columns_of,
    aggregate,
    cells_expr,
    connect,
    duckdb_memory_limit,
    parse_size,
    read_microdata,
)

pytestmark = [
    pytest.mark.integration,
    # ibis 12 and pyspark 4.0 call pandas APIs that pandas 3 deprecates (not our code)
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ibis"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ibis.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark.*"),
]

REGIONS = ["DE111", "DE112", "DE121", "DE211", "DE212", "FR101", "FR102", "FR103", "FRB01"]
INDUSTRIES = ["10.11", "10.12", "10.20", "25.11", "25.12", "25.50", "62.01", "62.02", "47.11"]
YEARS = (2019, 2020, 2021)


def establishments(n: int = 4_000, seed: int = 3) -> pd.DataFrame:
    """Establishment rows: each establishment keeps its region, industry and firm every year;
    whole-number employees and payroll (so sums are exact on any engine)."""
    rng = np.random.default_rng(seed)
    per_year = n // len(YEARS)
    region = rng.choice(REGIONS, per_year, p=np.linspace(3, 1, len(REGIONS)) / 18)
    industry = rng.choice(INDUSTRIES, per_year)
    firm = rng.integers(0, per_year // 3, per_year)
    rows = []
    for year in YEARS:
        employees = rng.integers(1, 60, per_year)
        employees[rng.random(per_year) < 0.01] = 900  # a few dominant firms
        rows.append(
            pd.DataFrame(
                {
                    "year": year,
                    "region": region,
                    "industry": industry,
                    "employees": employees,
                    "establishment_id": [f"e{i}" for i in range(per_year)],
                    "firm_id": [f"f{f}" for f in firm],
                    "payroll": employees * rng.integers(20_000, 60_000, per_year),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return establishments()


@pytest.fixture(scope="module")
def files(rows, tmp_path_factory) -> list[Path]:
    """The rows in three files: two Parquet and one CSV."""
    folder = tmp_path_factory.mktemp("microdata")
    parts = np.array_split(np.arange(len(rows)), 3)
    rows.iloc[parts[0]].to_parquet(folder / "a.parquet", index=False)
    rows.iloc[parts[1]].to_parquet(folder / "b.parquet", index=False)
    rows.iloc[parts[2]].to_csv(folder / "c.csv", index=False)
    return [folder / "a.parquet", folder / "b.parquet", folder / "c.csv"]


def expected_cells(rows: pd.DataFrame, region_len: int | None, industry_len: int | None):
    """Independent computation with pandas: NUTS level k has k + 2 characters, a NACE division
    is the first two digits."""
    frame = rows.copy()
    if region_len is not None:
        frame["region"] = frame["region"].str[:region_len]
    if industry_len is not None:
        frame["industry"] = frame["industry"].str[:industry_len]
    keys = ["year", "region", "industry"]
    firms = frame.groupby([*keys, "firm_id"]).agg(
        e=("employees", "sum"), n=("establishment_id", "nunique"), p=("payroll", "sum")
    )
    cells = firms.groupby(level=keys).agg(
        employment=("e", "sum"),
        establishments=("n", "sum"),
        payroll=("p", "sum"),
        top_firm_employment=("e", "max"),
    )
    return cells.reset_index().astype({"employment": float, "payroll": float})


def test_values_equal_an_independent_pandas_groupby(rows, files):
    result = aggregate(files, region_level=2, industry_level=2)

    expected = expected_cells(rows, 4, 2)
    got = result.panel.drop(columns="flag")
    pd.testing.assert_frame_equal(
        got, expected.drop(columns="top_firm_employment"), check_dtype=False
    )
    assert result.rows == len(rows)
    assert (result.panel["flag"] == "").all()


@pytest.mark.parametrize(
    ("region_level", "industry_level"),
    [(None, None), (3, 4), (2, None), (1, 2), (0, 1), (None, 3), (2, 2)],
)
def test_totals_preserved_through_every_rollup(rows, files, region_level, industry_level):
    panel = aggregate(files, region_level=region_level, industry_level=industry_level).panel

    totals = panel.groupby("year")[["employment", "payroll", "establishments"]].sum()
    raw = rows.groupby("year").agg(
        employment=("employees", "sum"),
        payroll=("payroll", "sum"),
        establishments=("establishment_id", "nunique"),
    )
    np.testing.assert_array_equal(totals.to_numpy(), raw.to_numpy(float))


def test_rollup_of_the_panel_equals_aggregating_at_that_level(files):
    fine = aggregate(files, region_level=3, industry_level=4).panel
    coarse = aggregate(files, region_level=2, industry_level=2).panel

    rolled = roll_up(
        Panel.from_frame(fine.drop(columns="flag")), region_level=2, industry_level=2
    ).to_frame()

    pd.testing.assert_frame_equal(
        rolled.reset_index(drop=True),
        coarse.drop(columns="flag").reset_index(drop=True),
        check_dtype=False,
    )


def test_withheld_cells_have_the_flag_and_no_values(rows, files):
    result = aggregate(
        files, region_level=2, industry_level=2, min_establishments=25, dominance_share=0.6
    )

    panel = result.panel
    withheld = panel["flag"] == CONFIDENTIAL
    expected = expected_cells(rows, 4, 2)
    sensitive = (expected["establishments"] < 25) | (
        expected["top_firm_employment"] > 0.6 * expected["employment"]
    )
    assert result.primary == int(sensitive.sum()) > 0
    assert result.complementary > 0
    assert withheld.sum() == result.primary + result.complementary
    assert np.all(withheld[sensitive.to_numpy()])
    assert panel.loc[withheld, ["employment", "establishments", "payroll"]].isna().all().all()
    assert panel.loc[~withheld, ["employment", "establishments", "payroll"]].notna().all().all()


def test_each_step_is_reported_as_it_starts(rows, files):
    steps: list[str] = []

    result = aggregate(
        files,
        region_level=2,
        industry_level=2,
        min_establishments=25,
        dominance_share=0.6,
        on_step=steps.append,
    )

    assert steps[:3] == [
        "checking the rows of 3 files",
        "collecting the region and industry codes",
        f"summing {len(rows):,} rows into cells",
    ]
    assert steps[3].startswith("grouping the firms of ")
    assert steps[3].endswith(" cells the bounds leave undecided")
    assert steps[4:] == [f"withholding confidential cells among {result.cells:,}"]


def test_without_ids_each_row_is_an_establishment(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text(
        "yr,nuts3,nace,emp\n2020,DE111,10.11,5\n2020,DE111,10.11,7\n2020,DE112,10.12,1\n",
        encoding="utf-8",
    )

    panel = aggregate(
        [path], column_map="year=yr,region=nuts3,industry=nace,employees=emp", region_level=2
    ).panel

    assert panel.to_dict("records") == [
        {
            "year": 2020,
            "region": "DE11",
            "industry": "10.11",
            "employment": 12.0,
            "establishments": 2.0,
            "flag": "",
        },
        {
            "year": 2020,
            "region": "DE11",
            "industry": "10.12",
            "employment": 1.0,
            "establishments": 1.0,
            "flag": "",
        },
    ]


def test_dominance_counts_firms_not_establishments(tmp_path):
    # firm f1 owns two establishments with 45 + 45 of the cell's 100 employees
    path = tmp_path / "firms.csv"
    path.write_text(
        "year,region,industry,employees,establishment_id,firm_id\n"
        "2020,DE111,10.11,45,a,f1\n2020,DE111,10.11,45,b,f1\n2020,DE111,10.11,10,c,f2\n",
        encoding="utf-8",
    )

    result = aggregate([path], dominance_share=0.85)

    assert result.primary == 1
    assert result.panel["flag"].tolist() == [CONFIDENTIAL]
    assert len(result.unprotected) == 1  # the only cell: the region total reveals it


# ---------------------------------------------------------------------------- errors


def test_missing_column_names_the_file_and_what_it_has(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("year,region,sector,employees\n2020,DE111,10.11,3\n", encoding="utf-8")

    with pytest.raises(InputError) as excinfo:
        aggregate([path])

    assert str(excinfo.value) == (
        f"{path}: missing column 'industry' (found: year, region, sector, employees); name "
        "other columns with --column-map, e.g. region=nuts3"
    )


def test_bad_values_name_file_column_count_and_example(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("year,region,industry,employees\n2020,DE111,10.11,3\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "year,region,industry,employees\n2020,DE111,10.11,three\n20x0,DE111,10.11,2\n"
        "2020,DE111,10.11,-4\n",
        encoding="utf-8",
    )

    with pytest.raises(InputError) as excinfo:
        aggregate([good, bad])

    assert str(excinfo.value).splitlines() == [
        "3 invalid rows, nothing written:",
        f"{bad}, column 'year': 1 row empty or not a whole number (line 3: '20x0')",
        f"{bad}, column 'employees': 1 row empty or not a number (line 2: 'three')",
        f"{bad}, column 'employees': 1 row negative value (line 4: '-4')",
    ]


def test_empty_codes_are_invalid_rows_with_their_place(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(
        "year,region,industry,employees\n2020,DE111,10.11,3\n2020,,10.11,2\n"
        "2020,DE111,  ,4\n2021,DE112,,1\n",
        encoding="utf-8",
    )
    parquet = tmp_path / "codes.parquet"
    pd.DataFrame(
        {"year": [2020, 2020], "region": ["DE111", None], "industry": ["10.11", "10.12"],
         "employees": [1, 2]}
    ).to_parquet(parquet)  # fmt: skip

    with pytest.raises(InputError) as excinfo:
        aggregate([path, parquet], region_level=2)

    assert str(excinfo.value).splitlines() == [
        "4 invalid rows, nothing written:",
        f"{path}, column 'region': 1 row empty code (line 3: empty)",
        f"{path}, column 'industry': 2 rows empty code (the first at line 4: '  ')",
        f"{parquet}, column 'region': 1 row empty code (row 2: empty)",
    ]


def test_bad_values_give_the_first_row_in_file_order(rows, tmp_path):
    """Row numbers follow the file, also when DuckDB reads it in several threads."""
    big = pd.concat([rows] * (300_000 // len(rows) + 1), ignore_index=True).head(300_000)
    big["employees"] = big["employees"].astype(float)
    big.loc[[250_001, 7, 120_000], "employees"] = [-1.0, -2.0, -3.0]
    parquet = tmp_path / "big.parquet"
    big.to_parquet(parquet, row_group_size=10_000)
    csv = tmp_path / "big.csv"
    big.to_csv(csv, index=False)

    for path, where in ((parquet, "row 8"), (csv, "line 9")):
        with pytest.raises(InputError) as excinfo:
            aggregate([path])
        assert str(excinfo.value).splitlines()[1:] == [
            f"{path}, column 'employees': 3 rows negative value (the first at {where}: '-2.0')"
        ]


def test_codes_outside_the_hierarchy_are_reported_not_dropped(rows, tmp_path):
    odd = rows.head(30).copy()
    odd.loc[3, "region"] = "Lyon"
    odd.loc[4, "region"] = "DE1"  # NUTS-1: has no NUTS-2 ancestor
    path = tmp_path / "odd.parquet"
    odd.to_parquet(path)

    with pytest.raises(InputError) as excinfo:
        aggregate([path], region_level=2)

    assert str(excinfo.value) == (
        "2 region codes are not in the NUTS hierarchy or have no ancestor at level 2 "
        f"(column 'region'): 'DE1' ({path}); 'Lyon' ({path})"
    )


def test_files_read_together_still_name_the_file_of_a_bad_row_or_code(rows, tmp_path):
    """Parquet files with the same columns are read in one go: errors still name the file."""
    parts = [rows.iloc[k::3].reset_index(drop=True) for k in range(3)]
    paths = [tmp_path / f"part-{k}.parquet" for k in range(3)]
    for part, path in zip(parts, paths, strict=True):
        part.to_parquet(path, index=False)
    # a file with a column named like DuckDB's file name column is read on its own
    odd = tmp_path / "odd.parquet"
    parts[0].head(5).assign(filename="x").to_parquet(odd, index=False)
    together = aggregate([*paths, odd], region_level=2)
    assert together.rows == len(rows) + 5

    bad = parts[2].astype({"employees": float})
    bad.loc[41, "employees"] = -1.0
    bad.to_parquet(paths[2], index=False)
    with pytest.raises(InputError) as excinfo:
        aggregate(paths)
    assert str(excinfo.value).splitlines()[1:] == [
        f"{paths[2]}, column 'employees': 1 row negative value (row 42: '-1.0')"
    ]

    parts[1].assign(region="Lyon").to_parquet(paths[1], index=False)
    parts[2].to_parquet(paths[2], index=False)
    with pytest.raises(InputError, match=rf"'Lyon' \({paths[1]}\)"):
        aggregate(paths, region_level=2)


def test_files_must_agree_on_optional_columns(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("year,region,industry,employees,payroll\n2020,DE111,10.11,3,9\n", "utf-8")
    b = tmp_path / "b.csv"
    b.write_text("year,region,industry,employees\n2020,DE111,10.11,3\n", "utf-8")

    with pytest.raises(InputError, match=r"b\.csv: has - and lacks payroll compared with"):
        aggregate([a, b])


def test_damaged_parquet_file_is_named(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not a parquet file")

    with pytest.raises(InputError, match=rf"^{path}: cannot be read: "):
        aggregate([path])


def test_pattern_without_files_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no Parquet or CSV file matches"):
        aggregate([str(tmp_path / "*.parquet")])


# ---------------------------------------------------------------------------- memory


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """1.5 million rows: far more than 150 MB once DuckDB hashes them by firm."""
    rng = np.random.default_rng(0)
    n = 1_500_000
    path = tmp_path_factory.mktemp("big") / "big.parquet"
    pd.DataFrame(
        {
            "year": rng.integers(2018, 2021, n),
            "region": rng.choice(["DE111", "DE112", "FR101"], n),
            "industry": rng.choice(["10.11", "25.12"], n),
            "employees": rng.integers(1, 9, n),
            "establishment_id": np.arange(n),
            "firm_id": np.arange(n) // 2,
        }
    ).to_parquet(path)
    return path


def _cells(path: Path, **config) -> pd.DataFrame:
    spill = config.pop("spill", True)
    columns = _columns_of([path], {})
    with connect(threads=2, **config) as con:
        if not spill:
            con.raw_sql("SET temp_directory=''")
        cells = con.execute(cells_expr(read_microdata(con, [path], columns)))
    return cells.sort_values(["year", "region", "industry"], ignore_index=True)


def test_duckdb_spills_to_disk_under_a_small_memory_limit(big, tmp_path):
    unlimited = _cells(big)

    limited = _cells(big, memory_limit="150MB", temp_directory=tmp_path / "spill")

    pd.testing.assert_frame_equal(limited, unlimited)
    assert limited["establishments"].sum() == 1_500_000


def test_same_limit_without_spilling_runs_out_of_memory(big):
    import duckdb

    with pytest.raises(duckdb.OutOfMemoryException):
        _cells(big, memory_limit="150MB", spill=False)


# ---------------------------------------------------------------------------- spark


@pytest.fixture(scope="module")
def spark():
    """One local Spark session for the module (the JVM takes seconds to start)."""
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("Java 17 not found (install openjdk-17-jre-headless): Spark tests skipped")
    pytest.importorskip("pyspark", reason="pyspark not installed: pip install '.[microdata]'")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from clusteratlas.sources.microdata import start_spark

    session = start_spark("local[2]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


@pytest.mark.spark
@pytest.mark.parametrize(
    "options",
    [
        {"region_level": 2, "industry_level": 2, "min_establishments": 25, "dominance_share": 0.6},
        {"min_establishments": 3},
    ],
    ids=["rolled-up-suppressed", "finest"],
)
@pytest.mark.parametrize("ids", ["text", "integer"])
def test_same_frame_on_duckdb_and_spark(rows, files, spark, options, ids, tmp_path):
    if ids == "integer":  # DuckDB checks integer establishment ids with a bitmap
        numbered = rows.assign(
            establishment_id=rows["establishment_id"].str[1:].astype(int),
            firm_id=rows["firm_id"].str[1:].astype(int),
        )
        files = [tmp_path / "numbered.parquet"]
        numbered.to_parquet(files[0], index=False)
    on_duckdb = aggregate(files, engine="duckdb", **options)

    on_spark = aggregate(files, engine="spark", spark_session=spark, **options)

    pd.testing.assert_frame_equal(on_spark.panel, on_duckdb.panel)
    assert (on_spark.primary, on_spark.complementary) == (
        on_duckdb.primary,
        on_duckdb.complementary,
    )


@pytest.mark.spark
def test_spark_reports_bad_values_like_duckdb(tmp_path, spark):
    bad = tmp_path / "bad.csv"
    bad.write_text("year,region,industry,employees\n2020,DE111,10.11,n/a\n", encoding="utf-8")

    with pytest.raises(InputError) as on_duckdb:
        aggregate([bad])
    with pytest.raises(InputError) as on_spark:
        aggregate([bad], engine="spark", spark_session=spark)

    assert str(on_spark.value) == str(on_duckdb.value)


@pytest.mark.parametrize(
    ("text", "size"),
    [("2GB", 2_000_000_000), ("1.5GiB", 1_610_612_736), ("800 mb", 800_000_000), ("512", 512)],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "2 GX", "-1GB", "lots"])
def test_parse_size_refuses_what_is_not_a_size(text):
    with pytest.raises(ValueError, match="give a number and a unit"):
        parse_size(text)


def test_duckdb_gets_a_share_of_the_process_budget():
    assert duckdb_memory_limit("2GB") == "1200MB"  # 60% of a small budget
    assert duckdb_memory_limit("16GB") == "15000MB"  # all but 1 GB of a large one
    with pytest.raises(ValueError, match="too small"):
        duckdb_memory_limit("10MB")
