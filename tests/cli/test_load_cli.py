"""``clusteratlas load``, ``load-geometry``, ``datasets`` and ``fetch nuts-geometry`` on real
files and a real store folder (never the network: the GISCO file is put in the cache first and
fetched with ``--offline``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clusteratlas.cli import ExitStatus, app
from clusteratlas.sources.fetch import nuts_geometry_url
from clusteratlas.sources.store import GISCO_ATTRIBUTION, TABLES, ObservatoryStore
from clusteratlas.sources.synthetic import demo_definitions, demo_panel_frame, demo_regions

pytestmark = pytest.mark.integration

US_ATLAS = Path(__file__).resolve().parents[2] / "src/clusteratlas/web/static/vendor/us-atlas"


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inputs")
    paths = {
        "panel": root / "eu-panel.csv",
        "definitions": root / "definitions.csv",
        "names": root / "names.csv",
    }
    demo_panel_frame().to_csv(paths["panel"], index=False)
    demo_definitions().to_csv(paths["definitions"], index=False)
    demo_regions().to_csv(paths["names"], index=False)
    return paths


def test_load_stores_every_table_and_prints_a_summary(tmp_path, files):
    result = run(
        "load",
        files["panel"],
        "--definitions",
        files["definitions"],
        "--title",
        "EU demo",
        "--region-names",
        files["names"],
        "--store",
        tmp_path,
    )

    store = ObservatoryStore(tmp_path)
    info = store.dataset("eu-panel")  # the name comes from the file
    assert result.exit_code == 0, result.output
    assert (info.title, info.source, info.tables) == ("EU demo", "eu-panel.csv", TABLES)
    assert store.regions("eu-panel").set_index("code").loc["AT13", "name"] == "Wien"
    assert "dataset 'eu-panel' (EU demo): 8 years (2015–2022), 90 regions (nuts2)" in (
        result.output
    )
    assert "│ clusters      │ 13,680 │" in result.output


def test_load_again_replaces_and_datasets_lists_and_drops(tmp_path, files):
    base = ["--definitions", files["definitions"], "--store", tmp_path]
    first = run("load", files["panel"], "--name", "eu", "--title", "First", *base)
    second = run("load", files["panel"], "--name", "eu", "--title", "Second", *base)
    listed = run("datasets", "--store", tmp_path)
    dropped = run("datasets", "--drop", "eu", "--store", tmp_path)
    empty = run("datasets", "--store", tmp_path)

    assert (first.exit_code, second.exit_code, listed.exit_code) == (0, 0, 0)
    assert "│ eu   │ Second │ 2015–2022 │ 90" in listed.output
    assert dropped.exit_code == 0
    assert "dropped dataset 'eu'" in dropped.output
    assert f"no datasets in {tmp_path}" in empty.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_load_without_definitions_uses_each_industry_as_a_cluster(tmp_path, files):
    result = run("load", files["panel"], "--name", "raw", "--store", tmp_path)

    assert result.exit_code == 0, result.output
    assert ObservatoryStore(tmp_path).dataset("raw").n_clusters == 88


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--definitions", "missing.csv"], ExitStatus.BAD_INPUT, "missing.csv"),
        (["--name", "no good"], ExitStatus.BAD_INPUT, "dataset name 'no good'"),
    ],
)
def test_load_errors_exit_with_a_message(tmp_path, files, args, status, message):
    result = run("load", files["panel"], *args, "--store", tmp_path)

    assert result.exit_code == status
    assert "error:" in result.output
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_datasets_drop_of_an_unknown_dataset(tmp_path):
    result = run("datasets", "--drop", "nope", "--store", tmp_path)

    assert result.exit_code == ExitStatus.BAD_INPUT
    assert "error: no dataset 'nope'" in result.output


def geojson(path: Path, *codes: str) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"NUTS_ID": code, "NAME_LATN": f"Region {code}", "LEVL_CODE": 2},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[k, 50], [k + 1, 50], [k + 1, 51], [k, 50]]],
            },
        }
        for k, code in enumerate(codes)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_load_geometry_from_a_file(tmp_path):
    path = geojson(tmp_path / "regions.geojson", "DE11", "AT13")

    result = run(
        "load-geometry",
        path,
        "--level",
        "nuts2",
        "--code-property",
        "NUTS_ID",
        "--attribution",
        "mine",
        "--store",
        tmp_path / "store",
    )

    store = ObservatoryStore(tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert "loaded 2 shapes of level nuts2" in result.output
    assert [f["properties"] for f in store.geometry("nuts2")["features"]] == [
        {"code": "AT13", "name": "Region AT13"},
        {"code": "DE11", "name": "Region DE11"},
    ]
    assert store.geometry_attribution("nuts2") == "mine"


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ([], ExitStatus.USAGE, "give either FILE or --us-atlas"),
        (["{file}"], ExitStatus.USAGE, "--level is required"),
        (["{file}", "--level", "nuts2", "--name-property", "x"], 3, "no property 'x'"),
        (["{file}", "--level", "bad level"], 3, "geometry level 'bad level'"),
        (["{file}", "--us-atlas", "states"], ExitStatus.USAGE, "either FILE or --us-atlas"),
    ],
)
def test_load_geometry_errors(tmp_path, args, status, message):
    path = geojson(tmp_path / "r.geojson", "DE11")

    result = run("load-geometry", *[a.format(file=path) for a in args], "--store", tmp_path)

    assert result.exit_code == status, result.output
    assert f"error: {message}" in result.output or message in result.output


def test_load_geometry_of_the_bundled_us_states(tmp_path):
    if not (US_ATLAS / "states-10m.json").is_file():
        pytest.skip("us-atlas files missing: run `make static`")

    result = run("load-geometry", "--us-atlas", "states", "--store", tmp_path)

    store = ObservatoryStore(tmp_path)
    assert result.exit_code == 0, result.output
    assert "loaded 56 shapes of level state" in result.output
    assert store.geometry_levels() == ["state"]
    assert "us-atlas" in store.geometry_attribution("state")


def test_nuts_geometry_url():
    assert nuts_geometry_url(2021) == (
        "https://gisco-services.ec.europa.eu/distribution/v2/nuts/geojson/"
        "NUTS_RG_20M_2021_4326_LEVL_2.geojson"
    )
    assert nuts_geometry_url(2016, "03m", 3, base_url="http://127.0.0.1:9") == (
        "http://127.0.0.1:9/distribution/v2/nuts/geojson/NUTS_RG_03M_2016_4326_LEVL_3.geojson"
    )
    for bad in [(2020, "20M", 2), (2021, "5M", 2), (2021, "20M", 4)]:
        with pytest.raises(ValueError, match="no NUTS version|unknown resolution|does not exist"):
            nuts_geometry_url(*bad)


def test_fetch_nuts_geometry_loads_the_cached_file_with_the_attribution(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CLUSTERATLAS_CACHE", str(cache))
    (cache / "gisco").mkdir(parents=True)
    cached = geojson(cache / "gisco" / "NUTS_RG_60M_2021_4326_LEVL_2.geojson", "DE11", "FR10")

    result = run(
        "fetch",
        "nuts-geometry",
        "2021",
        "--resolution",
        "60M",
        "--level",
        "2",
        "--offline",
        "--store",
        tmp_path / "store",
    )

    store = ObservatoryStore(tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert str(cached) in result.output
    assert [f["id"] for f in store.geometry("nuts2")["features"]] == ["DE11", "FR10"]
    assert store.geometry_attribution("nuts2") == GISCO_ATTRIBUTION


def test_fetch_nuts_geometry_offline_without_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERATLAS_CACHE", str(tmp_path / "cache"))

    result = run("fetch", "nuts-geometry", "2021", "--offline", "--store", tmp_path / "store")

    assert result.exit_code == ExitStatus.BAD_INPUT
    assert "error:" in result.output
    assert "NUTS_RG_20M_2021_4326_LEVL_2.geojson is not cached" in result.output
    assert not (tmp_path / "store").exists()
