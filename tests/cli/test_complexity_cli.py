"""The complexity and relatedness commands, end to end on the synthetic demo panel."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app
from clusteratlas.cli.output import write_table
from clusteratlas.sources.synthetic import demo_definitions, demo_panel_frame

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cx")
    write_table(demo_panel_frame(7), folder / "panel.csv")
    write_table(demo_definitions(), folder / "definitions.csv")
    return folder / "panel.csv", folder / "definitions.csv"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_complexity_writes_every_region_industry_pair(inputs, tmp_path):
    panel, defs = inputs
    out = tmp_path / "cx.parquet"

    result = run("complexity", panel, "-d", defs, "--year", 2020, "--out", out)

    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert list(table.columns) == [
        "year",
        "region",
        "industry",
        "employment",
        "rca",
        "mcp",
        "diversity",
        "ubiquity",
        "eci",
        "pci",
        "density",
        "coi",
        "cog",
    ]
    assert len(table) == 90 * 19  # every region × cluster, zeros included
    assert (table["mcp"] == (table["rca"] >= 1)).all()
    diversity = table.groupby("region")["mcp"].sum()
    assert (table.groupby("region")["diversity"].first() == diversity).all()
    eci = table.groupby("region")["eci"].first()
    assert eci.mean() == pytest.approx(0.0, abs=1e-5)
    assert eci.corr(diversity.astype(float)) > 0  # the sign convention


def test_opportunities_are_industries_the_region_lacks(inputs, tmp_path):
    panel, defs = inputs
    out = tmp_path / "opp.csv"
    cx = tmp_path / "cx.csv"
    run("complexity", panel, "-d", defs, "--year", 2022, "--out", cx)

    result = run("opportunities", panel, "-d", defs, "--region", "DE11", "--top", 5, "--out", out)

    assert result.exit_code == 0, result.output
    opp = pd.read_csv(out)
    assert len(opp) == 5
    assert opp["rank"].tolist() == [1, 2, 3, 4, 5]
    present = pd.read_csv(cx).query("region == 'DE11' and mcp")["industry"]
    assert not set(opp["industry"]) & set(present)


def test_peers_rank_by_similarity(inputs, tmp_path):
    panel, _ = inputs
    out = tmp_path / "peers.csv"

    result = run("peers", panel, "--region", "DE11", "--top", 3, "--out", out)

    assert result.exit_code == 0, result.output
    peers = pd.read_csv(out)
    assert peers["similarity_rca"].is_monotonic_decreasing
    assert "DE11" not in set(peers["region"])


def test_mentors_with_a_user_indicator(inputs, tmp_path):
    panel, defs = inputs
    indicator = tmp_path / "rd.csv"
    regions = pd.read_csv(panel, dtype=str)["region"].unique()
    pd.DataFrame({"region": regions, "rd_intensity": range(len(regions))}).to_csv(
        indicator, index=False
    )
    out = tmp_path / "mentors.csv"

    result = run(
        "mentors",
        panel,
        "-d",
        defs,
        "--indicators",
        indicator,
        "--indicator",
        "rd_intensity",
        "--out",
        out,
    )

    assert result.exit_code == 0, result.output
    mentors = pd.read_csv(out)
    assert len(mentors) > 0
    assert (mentors["indicator_mentor"] > mentors["indicator_region"]).all()
    assert (mentors["similarity"] >= 0.5).all()


def test_entry_lists_events_and_the_regression(inputs, tmp_path):
    panel, defs = inputs
    out = tmp_path / "events.csv"

    result = run("entry", panel, "-d", defs, "--start", 2015, "--end", 2022, "--out", out)

    assert result.exit_code == 0, result.output
    events = pd.read_csv(out)
    entries = int((events["event"] == "entry").sum())
    assert f"{entries:,} entries" in result.stderr
    assert (events.loc[events["event"] == "entry", "rca_end"] >= 1).all()
    assert "density" in result.stdout


def test_unknown_region_is_a_clear_error(inputs):
    panel, _ = inputs

    result = run("peers", panel, "--region", "XX99")

    assert result.exit_code == 3
    assert result.stderr.startswith("error: --region 'XX99' is not a ranked region of the panel")


def test_mentors_unknown_indicator_column_is_a_clear_error(inputs, tmp_path):
    panel, _ = inputs
    indicator = tmp_path / "rd.csv"
    indicator.write_text("region,rd_intensity\nDE11,1.5\n")

    result = run("mentors", panel, "--indicators", indicator, "--indicator", "gdp")

    assert result.exit_code == 3
    assert result.stderr == (
        f"error: {indicator}: needs the columns region and gdp (found: region, rd_intensity)\n"
    )
