"""The observatory commands take official files directly; the layout is found from the content."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app
from conftest import GOLDEN

pytestmark = pytest.mark.integration

EUROSTAT = GOLDEN / "sources" / "eurostat" / "sbs_r_nuts06_r2.tsv"


def test_clusters_reads_a_eurostat_tsv_with_its_aggregate_as_reference(tmp_path):
    out = tmp_path / "clusters.csv"

    result = CliRunner().invoke(
        app,
        [
            "clusters",
            str(EUROSTAT),
            "--reference-region",
            "EU27_2020",
            "--year",
            "2016",
            "--out",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"region": str, "cluster": str}, keep_default_na=False)
    # by hand from the file, 2016, NACE divisions, NUTS 2 (DE11, DE12, FR10):
    # DE11 750 = 200 + 250 + 300; DE12 300 = 100 + 200 (C20 confidential); FR10 200 = 150 + 50;
    # EU27_2020: C10 4,000, C20 2,000, F41 6,000 of 12,000
    lq = {(r, c): v for r, c, v in table[["region", "cluster", "lq"]].itertuples(index=False)}
    assert sorted(lq) == [
        ("DE11", "C10"),
        ("DE11", "C20"),
        ("DE11", "F41"),
        ("DE12", "C10"),
        ("DE12", "F41"),
        ("FR10", "C10"),
        ("FR10", "C20"),
    ]
    assert lq[("DE11", "C10")] == pytest.approx((200 / 750) / (4000 / 12000))
    assert lq[("FR10", "C20")] == pytest.approx((50 / 200) / (2000 / 12000))
    assert lq[("DE12", "F41")] == pytest.approx((200 / 300) / (6000 / 12000))
    flags = dict(
        zip(zip(table["region"], table["cluster"], strict=True), table["flag"], strict=True)
    )
    assert flags[("FR10", "C10")] == "e"
    assert flags[("DE11", "C10")] == ""


def test_inspect_reports_eurostat_aggregates_and_flags():
    result = CliRunner().invoke(app, ["inspect", str(EUROSTAT)])

    assert result.exit_code == 0, result.output
    assert "8 regions (5 of them aggregates: DE, DE1, EU27_2020, EU28, FR)" in result.stdout
    assert "flags: " in result.stdout


CBP = GOLDEN / "sources" / "cbp" / "cbp15co.txt"


def test_clusters_reads_a_cbp_county_file_with_fitted_cells_flagged(tmp_path):
    out = tmp_path / "clusters.csv"

    result = CliRunner().invoke(app, ["clusters", str(CBP), "--out", str(out)])

    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"region": str, "cluster": str}, keep_default_na=False)
    assert {len(code) for code in table["cluster"]} == {6}  # one level: the industries add up
    assert set(table["region"]) <= {"01001", "01003", "01005"}
    estimated = table[table["flag"].str.contains("e")]
    assert len(estimated) > 0
    # the shares of each region still add up to one over its industries
    sums = table.groupby("region")["region_share"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)


def test_clusters_joins_cbp_years_across_naics_editions(tmp_path, monkeypatch, shared_data):
    monkeypatch.setenv("CLUSTERATLAS_CACHE", str(tmp_path / "cache"))
    runner = CliRunner()
    fetched = runner.invoke(
        app, ["fetch", "classifications", "--from", str(shared_data / "classifications")]
    )
    assert fetched.exit_code == 0, fetched.output
    out = tmp_path / "clusters.csv"
    later = tmp_path / "cbp17co.txt"  # the same counts published again for 2017 (NAICS 2017)
    later.write_bytes(CBP.read_bytes())

    result = runner.invoke(
        app,
        [
            "clusters",
            str(CBP),
            str(later),
            "--naics-edition",
            "2022",
            "--base-year",
            "2015",
            "--out",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 2, result.stderr  # one crosswalk report per converted edition
    table = pd.read_csv(out, dtype={"region": str, "cluster": str})
    assert sorted(set(table["year"])) == [2015, 2017]
    # the same counts in both years: totals by region are unchanged by the recoding
    totals = table.groupby(["year", "region"])["employment"].sum().unstack("year")
    assert totals[2015].to_numpy() == pytest.approx(totals[2017].to_numpy())


def test_clusters_rejects_the_same_year_twice(tmp_path):
    out = tmp_path / "clusters.csv"

    result = CliRunner().invoke(app, ["clusters", str(CBP), str(CBP), "--out", str(out)])

    assert result.exit_code == 3
    assert result.stderr == (
        "error: year 2015 is in more than one input (inputs 1 and 2); give each year once\n"
    )
    assert not out.exists()


def test_clusters_roll_up_of_eurostat_regions_never_counts_an_aggregate_twice(tmp_path):
    out = tmp_path / "clusters.csv"

    result = CliRunner().invoke(
        app,
        [
            "clusters",
            str(EUROSTAT),
            "--region-level",
            "1",
            "--year",
            "2016",
            "--reference-region",
            "EU27_2020",
            "--out",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"region": str, "cluster": str}, keep_default_na=False)
    employment = {
        (r, c): e for r, c, e in table[["region", "cluster", "employment"]].itertuples(index=False)
    }
    # DE1 = DE11 + DE12 from the file (200 + 100 for C10), not the file's own DE1 row (400)
    assert employment[("DE1", "C10")] == 300
    assert employment[("FR1", "C10")] == 150
    assert sorted(set(table["region"])) == ["DE1", "FR1"]


def test_clusters_joins_eurostat_tables_across_nuts_versions(tmp_path, monkeypatch):
    # a NUTS 2016 → 2021 change table in the cache: FR10 recoded (made up for the test)
    cache = tmp_path / "cache" / "classifications"
    cache.mkdir(parents=True)
    (cache / "nuts_2016_2021.csv").write_text(
        "from_code,to_code,change\nDE11,DE11,\nDE12,DE12,\nFR10,FR1Z,recoded\n"
    )
    monkeypatch.setenv("CLUSTERATLAS_CACHE", str(tmp_path / "cache"))
    newer = tmp_path / "sbs_r_nuts2021.tsv"
    newer.write_text(
        (GOLDEN / "sources" / "eurostat" / "sbs_r_nuts2021.tsv").read_text().replace("FR10", "FR1Z")
    )
    out = tmp_path / "clusters.csv"

    result = CliRunner().invoke(
        app,
        [
            "clusters",
            str(EUROSTAT),
            str(newer),
            "--nuts-version",
            "2021",
            "--reference-region",
            "EU27_2020",
            "--out",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    assert "nuts-2016-2021 applied to the region codes of 2015–2016" in result.stderr
    table = pd.read_csv(out, dtype={"region": str, "cluster": str}, keep_default_na=False)
    assert "FR10" not in set(table["region"])
    fr = table[(table["region"] == "FR1Z") & (table["cluster"] == "C10")]
    assert fr[["year", "employment"]].values.tolist()[:2] == [[2015, 140.0], [2016, 150.0]]
