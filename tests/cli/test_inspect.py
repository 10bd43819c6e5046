import pandas as pd
import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app
from clusteratlas.observatory import Panel
from clusteratlas.observatory.quality import flag_counts, panel_quality

pytestmark = pytest.mark.integration

PANEL = """year,region,industry,employment,flag
2020,DE11,10,100,
2020,DE11,11,,c
2020,DE12,10,40,e
2020,DE12,11,60,
2021,DE11,10,90,"c,e"
"""


def test_panel_quality_counts_withheld_and_estimated_cells():
    panel = Panel.from_frame(
        pd.read_csv(__import__("io").StringIO(PANEL), dtype=str, keep_default_na=False)
    )

    q = panel_quality(panel, region_levels={"DE11": "NUTS 2", "DE12": "NUTS 2"})

    assert q[
        ["year", "region_level", "industry_level", "cells", "employment", "withheld", "estimated"]
    ].values.tolist() == [
        [2020, "NUTS 2", "all", 4, 200.0, 1, 1],
        [2021, "NUTS 2", "all", 1, 90.0, 1, 1],
    ]
    assert q["estimated_employment_share"].tolist() == [0.2, 1.0]
    assert flag_counts(panel).to_dict() == {"c": 2, "e": 2}


def test_inspect_prints_years_levels_and_flags(tmp_path):
    path = tmp_path / "panel.csv"
    path.write_text(PANEL)
    out = tmp_path / "quality.csv"

    result = CliRunner().invoke(app, ["inspect", str(path), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "2 years (2020–2021), 2 regions (0 of them aggregates: none), 2 industries" in (
        result.stdout
    )
    assert "flags: c 2, e 2" in result.stdout
    assert "│ 2020 │ NUTS 2  │ 2 digits   │     4 │        200 │    25.0% │" in result.stdout
    assert pd.read_csv(out)["withheld_share"].tolist() == [0.25, 1.0]


def test_inspect_bad_file_is_a_clear_error(tmp_path):
    path = tmp_path / "panel.csv"
    path.write_text("year,region,industry,employment\n2020,DE11,10,x\n")

    result = CliRunner().invoke(app, ["inspect", str(path)])

    assert result.exit_code == 3
    assert result.stderr == f"error: {path}, line 2, column 'employment', value 'x': not a number\n"


def test_unknown_source_option_is_a_clear_error(tmp_path):
    path = tmp_path / "panel.csv"
    path.write_text(PANEL)

    result = CliRunner().invoke(
        app, ["clusters", str(path), "-O", "level=2", "-o", str(tmp_path / "o.csv")]
    )

    assert result.exit_code == 3
    assert result.stderr == "error: the table reader takes no options (got level)\n"
