import pandas as pd
import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app

pytestmark = pytest.mark.integration

PANEL = """year,region,industry,employment
2020,DE111,10.11,10
2020,DE112,10.12,20
2020,DE121,29.10,30
2020,FR101,10.11,40
2020,EU27_2020,10.11,1000
2020,EU27_2020,10.12,500
2020,EU27_2020,29.10,900
"""


def _run(tmp_path, *args):
    panel = tmp_path / "panel.csv"
    panel.write_text(PANEL)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["clusters", str(panel), "--out", str(out), *args])
    return result, out


def test_clusters_roll_up_nuts_and_nace_keeping_reference(tmp_path):
    result, out = _run(
        tmp_path, "--region-level", "1", "--industry-level", "2", "--reference-region", "EU27_2020"
    )

    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"region": str, "cluster": str})
    assert table[["region", "cluster", "employment"]].values.tolist() == [
        ["DE1", "10", 30.0],
        ["DE1", "29", 30.0],
        ["FR1", "10", 40.0],
    ]
    # reference: division 10 = 1,500 of 2,400; DE1 region share 30/60 → lq = 0.5 / 0.625
    assert table["lq"].tolist() == pytest.approx([0.8, 0.5 / 0.375, 1.0 / 0.625])


def test_clusters_roll_up_with_official_code_list(tmp_path, shared_data):
    codes = shared_data / "classifications" / "nuts_2021.csv"

    result, out = _run(
        tmp_path,
        "--region-level",
        "0",
        "--region-codes",
        str(codes),
        "--reference-region",
        "EU27_2020",
    )

    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"region": str, "cluster": str})
    assert sorted(set(table["region"])) == ["DE", "FR"]


def test_clusters_roll_up_unknown_code_is_clear_error(tmp_path):
    result, out = _run(tmp_path, "--region-level", "1")

    assert result.exit_code == 3
    assert result.stderr == "error: 1 codes have no NUTS ancestor at level 1: EU27_2020\n"
    assert not out.exists()
