import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app
from clusteratlas.cli.reference import render_reference
from conftest import ROOT

pytestmark = pytest.mark.unit


def test_cli_reference_in_docs_is_current():
    written = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")

    assert written == render_reference(), (
        "docs/cli.md is out of date: run `python -m clusteratlas.cli.reference > docs/cli.md`"
    )


@pytest.mark.parametrize(
    "command", ["clusters", "shiftshare", "regions", "industries", "demo", "indicators"]
)
def test_cli_reference_documents_every_command(command):
    assert f"## `clusteratlas {command}`" in render_reference()


def test_cli_help_lists_the_commands():
    result = CliRunner().invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in ("clusters", "shiftshare", "regions", "industries", "demo", "indicators"):
        assert command in result.output


def test_cli_reference_names_the_kind_of_each_value():
    text = render_reference()

    assert "- `--dominance-share` NUMBER:" in text
    assert "- `--min-establishments` INTEGER" in text
    assert "- `--out`, `-o` PATH" in text
