"""``clusteratlas fetch``: cached path on stdout, ``error: …`` and exit 3 on failure.

The sub-app is mounted on a local Typer app exactly as ``clusteratlas.cli`` mounts it, and the
downloads go to a local server on 127.0.0.1 that serves the recorded sample responses."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from clusteratlas.cli import ExitStatus
from clusteratlas.cli.fetch import fetch_app
from conftest import GOLDEN

pytestmark = pytest.mark.integration

RESPONSES = GOLDEN / "sources" / "responses"

app = typer.Typer()
app.add_typer(fetch_app, name="fetch")


class Handler(http.server.SimpleHTTPRequestHandler):
    """Files of RESPONSES at their URL path; the Eurostat format picks the file's suffix."""

    def translate_path(self, path: str) -> str:
        local = super().translate_path(path)
        if "format=SDMX-CSV" in path:
            return local + ".sdmx.csv.gz"
        if "format=TSV" in path:
            return local + ".tsv.gz"
        return local

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Handler, directory=str(RESPONSES))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield {
            "CLUSTERATLAS_CACHE": str(tmp_path / "cache"),
            "CLUSTERATLAS_FETCH_BASE": f"http://127.0.0.1:{httpd.server_address[1]}",
        }
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, ["fetch", *args], env=env)


def assert_bad_input(result, expected: str) -> None:
    assert result.exit_code == ExitStatus.BAD_INPUT, (result.exit_code, result.output)
    assert result.stderr.startswith("error: "), result.stderr
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_eurostat_prints_the_cached_path(env):
    result = invoke(env, "eurostat", "sbs_r_nuts2021")

    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path == Path(env["CLUSTERATLAS_CACHE"]) / "eurostat" / "sbs_r_nuts2021.tsv.gz"
    assert path.is_file()


def test_eurostat_sdmx_csv(env):
    result = invoke(env, "eurostat", "sbs_r_nuts2021", "--format", "sdmx-csv")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("sbs_r_nuts2021.sdmx.csv.gz")


def test_cbp_then_offline(env):
    first = invoke(env, "cbp", "2016")
    again = invoke({**env, "CLUSTERATLAS_FETCH_BASE": "http://127.0.0.1:9"}, "cbp", "2016",
                   "--offline")  # fmt: skip

    assert first.exit_code == 0, first.output
    assert first.stdout.strip().endswith("cbp/cbp16co.zip")
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout


def test_offline_miss_is_bad_input(env):
    assert_bad_input(invoke(env, "cbp", "2016", "--offline"), "not cached")


def test_404_is_bad_input(env):
    assert_bad_input(invoke(env, "cbp", "2019", "--level", "state"), "HTTP 404")


def test_bad_dataset_code_is_bad_input(env):
    assert_bad_input(invoke(env, "eurostat", "a/b"), "not a Eurostat dataset code")


def test_bad_level_is_a_usage_error(env):
    result = invoke(env, "cbp", "2016", "--level", "zip")

    assert result.exit_code == ExitStatus.USAGE


def test_classifications_lists_every_file(env):
    result = invoke(env, "classifications")

    assert result.exit_code == 0, result.output
    names = [Path(line).name for line in result.stdout.split()]
    assert names == sorted(
        ["nuts_2016.csv", "nuts_2021.csv", "nuts_2024.csv", "us_counties.csv", "us_states.csv"]
    )


def test_classifications_from_a_folder(env, shared_data):
    result = invoke(env, "classifications", "--from", str(shared_data / "classifications"))

    assert result.exit_code == 0, result.output
    assert "naics_2012_2017.csv" in result.stdout


def test_help_lists_the_commands():
    result = CliRunner().invoke(app, ["fetch", "--help"])

    assert result.exit_code == 0
    for command in ("eurostat", "cbp", "classifications"):
        assert command in result.stdout


def test_nuts_geometry_downloads_and_loads_with_the_attribution(env, tmp_path):
    from clusteratlas.sources.store import GISCO_ATTRIBUTION, ObservatoryStore

    result = invoke(
        env, "nuts-geometry", "2021", "--resolution", "60M", "--store", str(tmp_path / "store")
    )

    assert result.exit_code == 0, result.output
    cached = Path(env["CLUSTERATLAS_CACHE"]) / "gisco" / "NUTS_RG_60M_2021_4326_LEVL_2.geojson"
    assert result.stdout.strip() == str(cached)
    assert "loaded 3 shapes of level nuts2" in result.stderr
    store = ObservatoryStore(tmp_path / "store")
    features = store.geometry("nuts2")["features"]
    assert [(f["id"], f["properties"]["name"]) for f in features] == [
        ("AT13", "Wien"),
        ("DE11", "Stuttgart"),
        ("FR10", "Ile-de-France"),
    ]
    assert store.geometry_attribution("nuts2") == GISCO_ATTRIBUTION


def test_nuts_geometry_missing_on_the_server_is_bad_input(env, tmp_path):
    result = invoke(env, "nuts-geometry", "2016", "--store", str(tmp_path / "store"))

    assert_bad_input(result, "404")
    assert not (tmp_path / "store").exists()
