"""`clusteratlas demo`: the whole path on the synthetic panel."""

import re

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    return out, result


def test_demo_says_the_data_are_synthetic(demo):
    _, result = demo

    assert result.exit_code == 0, result.output
    assert "SYNTHETIC DATA" in result.stderr


def test_demo_writes_every_table_and_they_agree(demo):
    out, _ = demo

    clusters = pd.read_csv(out / "clusters.csv", dtype={"region": str, "cluster": str})
    regions = pd.read_csv(out / "regions.csv", dtype={"region": str})
    shift = pd.read_csv(out / "shiftshare.csv", dtype={"region": str})
    panel = pd.read_csv(out / "panel.csv", dtype=str, keep_default_na=False)

    assert set(clusters["year"]) == set(range(2015, 2023))
    assert clusters["quadrant"].dropna().isin(["Star", "Mature", "Emerging", "Transforming"]).all()
    # every table holds the same cluster employment
    by_region = clusters.groupby(["year", "region"])["employment"].sum()
    pd.testing.assert_series_equal(
        by_region, regions.set_index(["year", "region"])["employment"], check_names=False
    )
    last = clusters[clusters["year"] == 2022].groupby("region")["employment"].sum()
    assert shift.groupby("region")["employment"].sum().to_dict() == pytest.approx(last.to_dict())
    # strong-cluster counts are consistent between the tables
    n_strong = clusters[clusters["strong"] == True].groupby(["year", "region"]).size()  # noqa: E712
    assert (
        regions.set_index(["year", "region"])["n_strong"].reindex(n_strong.index).to_numpy()
        == n_strong.to_numpy()
    ).all()
    assert (panel["flag"] != "").sum() > 0  # the demo exercises flags


def test_demo_duckdb_file_holds_the_tables(demo):
    out, _ = demo

    with duckdb.connect(str(out / "observatory.duckdb"), read_only=True) as con:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        n = con.execute("SELECT count(*) FROM clusters").fetchone()[0]

    assert tables == {"clusters", "regions", "industries", "shiftshare", "complexity", "panel"}
    assert n == len(pd.read_csv(out / "clusters.csv"))


def test_demo_summary_has_real_charts(demo):
    out, _ = demo

    html = (out / "summary.html").read_text(encoding="utf-8")

    assert "SYNTHETIC DATA" in html
    bars = [float(v) for v in re.findall(r'<rect [^>]*data-value="([0-9.]+)"', html)]
    assert len(bars) == 15
    assert max(bars) >= 1
    assert len(re.findall(r"<circle ", html)) >= 5  # bubble chart of a region's clusters
    assert len(re.findall(r"<polyline ", html)) == 8  # trend lines of the largest clusters
    assert "<script" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_demo_runs_on_a_given_file(demo, tmp_path):
    out, _ = demo
    again = tmp_path / "again"

    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--panel",
            str(out / "panel.csv"),
            "--definitions",
            str(out / "definitions.csv"),
            "--out",
            str(again),
        ],
    )

    assert result.exit_code == 0, result.output
    assert "SYNTHETIC DATA" not in result.stderr
    pd.testing.assert_frame_equal(
        pd.read_csv(again / "clusters.csv"), pd.read_csv(out / "clusters.csv")
    )
    assert f"Data: {out / 'panel.csv'}" in (again / "summary.html").read_text(encoding="utf-8")


def test_demo_summary_ranks_regions_by_complexity(demo):
    out, _ = demo

    html = (out / "summary.html").read_text(encoding="utf-8")
    complexity = pd.read_csv(out / "complexity.csv")

    top = complexity.groupby("region")["eci"].first().sort_values(ascending=False).index[0]
    eci_table = html[html.index('<table id="eci">') :]
    first_row = eci_table[eci_table.index("<tr><td>") :]
    assert f"({top})" in first_row[: first_row.index("</tr>")]
