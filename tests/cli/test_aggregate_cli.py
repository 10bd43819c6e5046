"""The ``aggregate`` command: microdata in, a panel out that the other commands read, withheld
cells flagged; bad input is a clear message and exit status 3, with nothing written."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from clusteratlas.cli import ExitStatus, app
from clusteratlas.sources import open_panel

pytestmark = pytest.mark.integration

runner = CliRunner()

ROWS = [
    # year, region, industry, employees, establishment, firm
    (2020, "DE111", "10.11", 40, "a", "f1"),
    (2020, "DE112", "10.11", 30, "b", "f2"),
    (2020, "DE112", "10.11", 25, "c", "f3"),
    (2020, "DE111", "10.12", 2, "d", "f4"),
    (2020, "DE111", "10.12", 3, "e", "f5"),
    (2020, "DE111", "10.12", 4, "f", "f6"),
    (2020, "DE121", "10.11", 50, "g", "f7"),
    (2020, "DE121", "10.11", 50, "h", "f8"),
    (2020, "DE121", "10.12", 9, "i", "f9"),
    (2020, "DE121", "10.12", 8, "j", "f10"),
    (2020, "DE121", "25.11", 5, "k", "f11"),
    (2020, "DE112", "25.11", 6, "l", "f12"),
    (2020, "DE112", "25.11", 7, "m", "f13"),
    (2020, "DE211", "10.11", 20, "n", "f14"),
    (2020, "DE211", "10.11", 21, "o", "f15"),
    (2020, "DE211", "25.11", 30, "p", "f16"),
    (2020, "DE211", "25.11", 31, "q", "f17"),
]


@pytest.fixture
def microdata(tmp_path):
    frame = pd.DataFrame(
        ROWS, columns=["yr", "nuts3", "nace", "emp", "establishment_id", "firm_id"]
    )
    frame.iloc[:7].to_parquet(tmp_path / "part-1.parquet", index=False)
    frame.iloc[7:].to_parquet(tmp_path / "part-2.parquet", index=False)
    return tmp_path


def test_aggregate_writes_a_panel_that_open_panel_reads(microdata, tmp_path):
    out = tmp_path / "panel.csv"

    result = runner.invoke(
        app,
        [
            "aggregate",
            str(microdata / "*.parquet"),
            "--out",
            str(out),
            "--column-map",
            "year=yr,region=nuts3,industry=nace,employees=emp",
            "--region-level",
            "2",
            "--industry-level",
            "2",
            "--min-establishments",
            "2",
        ],
    )

    assert result.exit_code == 0, result.output
    frame = open_panel(out).to_frame()
    # DE12 × 25 has one establishment; its cheapest cycle runs through DE12 × 10 and DE21
    columns = ["region", "industry", "employment", "establishments", "flag"]
    assert list(frame[columns].itertuples(index=False, name=None)) == [
        ("DE11", "10", 104.0, 6.0, ""),
        ("DE11", "25", 13.0, 2.0, ""),
        ("DE12", "10", 0.0, 0.0, "confidential"),
        ("DE12", "25", 0.0, 0.0, "confidential"),
        ("DE21", "10", 0.0, 0.0, "confidential"),
        ("DE21", "25", 0.0, 0.0, "confidential"),
    ]
    written = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert written.loc[2].to_dict() == {
        "year": "2020",
        "region": "DE12",
        "industry": "10",
        "employment": "",
        "establishments": "",
        "flag": "confidential",
    }
    assert "withheld 1 sensitive and 3 complementary cells" in result.output


def test_aggregate_bad_input_exits_3_and_writes_nothing(tmp_path):
    source = tmp_path / "m.csv"
    source.write_text("year,region,industry\n2020,DE111,10.11\n", encoding="utf-8")
    out = tmp_path / "panel.parquet"

    result = runner.invoke(app, ["aggregate", str(source), "--out", str(out)])

    assert result.exit_code == ExitStatus.BAD_INPUT
    assert f"error: {source}: missing column 'employees'" in result.output
    assert not out.exists()


def test_aggregate_refuses_an_output_it_cannot_write_as_a_panel(microdata, tmp_path):
    result = runner.invoke(
        app, ["aggregate", str(microdata / "*.parquet"), "--out", str(tmp_path / "p.json")]
    )

    assert result.exit_code == ExitStatus.BAD_INPUT
    assert "write the panel as .parquet, .csv, .csv.gz or .tsv" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--dominance-share", "1.5"], "--dominance-share must be in (0, 1], got 1.5"),
        (["--min-establishments", "-1"], "--min-establishments must be ≥ 0, got -1"),
        (["--spark-master", "local[2]"], "--spark-master needs --engine spark"),
        (["--column-map", "sector=nace"], "--column-map: 'sector' is not a microdata column"),
    ],
)
def test_aggregate_bad_options_exit_3_before_any_work(microdata, tmp_path, options, message):
    out = tmp_path / "panel.parquet"

    result = runner.invoke(
        app, ["aggregate", str(microdata / "*.parquet"), "--out", str(out), *options]
    )

    assert result.exit_code == ExitStatus.BAD_INPUT
    assert message in result.output
    assert not out.exists()
