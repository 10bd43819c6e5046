"""``/api/observatory/``: the JSON equals the observatory's own frames for the demo dataset
(page by page), filters, ordering, GeoJSON, 404 and 422 answers, and an empty store.

The app is built with settings whose ``observatory_dir`` is a temporary folder; its database is
never opened by these routes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clusteratlas.collaboration.settings import Settings
from clusteratlas.sources.store import TABLES, ObservatoryStore
from clusteratlas.sources.synthetic import demo_regions
from clusteratlas.web.app import create_app
from sources.store_reference import demo_inputs, records, reference_tables

pytestmark = pytest.mark.integration

API = "/api/observatory"


def make_client(directory: Path) -> TestClient:
    settings = Settings(
        environment="test",
        database_url="sqlite://",
        secret_key="an-observatory-api-test-secret-key-0123456789",
        observatory_dir=directory,
    )
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def demo():
    return demo_inputs()


@pytest.fixture(scope="module")
def reference(demo):
    return reference_tables(*demo)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, demo) -> Path:
    directory = tmp_path_factory.mktemp("observatory")
    store = ObservatoryStore(directory)
    store.load_dataset("demo", *demo, title="Demo", source="panel.csv", region_names=demo_regions())
    geometry = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"NUTS_ID": code, "NAME_LATN": name},
                "geometry": {"type": "Point", "coordinates": [float(k), 50.0]},
            }
            for k, (code, name) in enumerate([("AT13", "Wien"), ("DE11", "Stuttgart")])
        ],
    }
    path = directory.parent / "nuts2.geojson"
    path.write_text(json.dumps(geometry))
    store.load_geometry(path, level="nuts2", attribution="© EuroGeographics")
    return directory


@pytest.fixture(scope="module")
def client(store_dir: Path) -> Iterator[TestClient]:
    with make_client(store_dir) as client:
        yield client


def all_rows(client: TestClient, table: str, limit: int = 1000, **params) -> list[dict]:
    rows: list[dict] = []
    while True:
        answer = client.get(
            f"{API}/datasets/demo/tables/{table}",
            params={**params, "limit": limit, "offset": len(rows)},
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert (page["limit"], page["offset"]) == (limit, len(rows))
        rows += page["data"]
        if len(rows) >= page["count"]:
            return rows


def json_records(frame) -> list[dict]:
    """The reference rows as JSON would carry them."""
    return json.loads(json.dumps(records(frame)))


@pytest.mark.parametrize("table", TABLES)
def test_table_json_equals_the_observatory_frame(client, reference, table):
    rows = all_rows(client, table)

    assert rows == json_records(reference[table])
    assert [type(v) for v in rows[0].values()] == [
        type(v) for v in json_records(reference[table])[0].values()
    ]


def test_datasets_list_and_one(client, demo):
    panel, definitions = demo

    listed = client.get(f"{API}/datasets")
    one = client.get(f"{API}/datasets/demo")

    assert listed.status_code == one.status_code == 200
    assert listed.json()["count"] == 1
    assert listed.json()["data"] == [one.json()]
    body = one.json()
    loaded_at = body.pop("loaded_at")
    assert body == {
        "name": "demo",
        "title": "Demo",
        "years": list(panel.years),
        "n_regions": 90,
        "n_clusters": 19,
        "region_levels": ["nuts2"],
        "tables": list(TABLES),
        "source": "panel.csv",
        "notes": [],
    }
    assert loaded_at.endswith(("Z", "+00:00"))


def test_regions_and_clusters(client, demo):
    names = demo_regions().set_index("region")["name"]
    clusters = demo[1].clusters

    regions = client.get(f"{API}/datasets/demo/regions").json()
    answer = client.get(f"{API}/datasets/demo/clusters").json()

    assert regions["count"] == len(regions["data"]) == 90
    assert regions["data"][0] == {
        "code": "AT11",
        "name": names["AT11"],
        "level": "nuts2",
        "parent": "AT1",
    }
    assert answer["data"] == [
        {"code": code, "name": row.cluster_name, "type": row.type}
        for code, row in zip(clusters.index, clusters.itertuples(), strict=True)
    ]


def test_filters_and_ordering_match_pandas(client, reference):
    ref = reference["clusters"]
    selected = ref[(ref["year"] == 2021) & ref["region"].isin(["DE11", "FR10", "ITC4"])]
    expected = selected.sort_values("employment", ascending=False, kind="stable")

    answer = client.get(
        f"{API}/datasets/demo/tables/clusters",
        params=[
            ("year", 2021),
            ("region", "DE11,FR10"),
            ("region", "ITC4"),
            ("order_by", "employment"),
            ("descending", "true"),
            ("columns", "region"),
            ("columns", "cluster"),
            ("columns", "employment"),
            ("limit", 5),
            ("offset", 2),
        ],
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["count"] == len(selected) == 57
    assert body["columns"] == ["region", "cluster", "employment"]
    assert body["data"] == json_records(expected[["region", "cluster", "employment"]].iloc[2:7])


def test_cluster_filter_on_complexity(client, reference):
    ref = reference["complexity"]
    expected = ref[(ref["industry"] == "digital") & (ref["year"] == 2022)]

    rows = all_rows(client, "complexity", cluster="digital", year=2022)

    assert rows == json_records(expected)


def test_geometry_levels_and_features(client):
    levels = client.get(f"{API}/geometry")
    everything = client.get(f"{API}/geometry/nuts2")
    some = client.get(f"{API}/geometry/nuts2", params={"codes": "DE11,XX00"})

    assert levels.json() == {
        "data": [{"level": "nuts2", "attribution": "© EuroGeographics"}],
        "count": 1,
    }
    assert everything.headers["content-type"] == "application/json"
    assert everything.json() == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": code,
                "properties": {"code": code, "name": name},
                "geometry": {"type": "Point", "coordinates": [float(k), 50.0]},
            }
            for k, (code, name) in enumerate([("AT13", "Wien"), ("DE11", "Stuttgart")])
        ],
    }
    assert [f["id"] for f in some.json()["features"]] == ["DE11"]


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/datasets/nope", "no dataset 'nope'"),
        ("/datasets/nope/regions", "no dataset 'nope'"),
        ("/datasets/nope/clusters", "no dataset 'nope'"),
        ("/datasets/nope/tables/clusters", "no dataset 'nope'"),
        ("/datasets/demo/tables/nope", "dataset 'demo' has no table 'nope'"),
        ("/geometry/county", "no geometry for level 'county'"),
    ],
)
def test_unknown_things_are_404(client, path, detail):
    answer = client.get(API + path)

    assert answer.status_code == 404
    assert answer.json()["detail"].startswith(detail)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("offset=-1", "offset"),
        ("year=abc", "year"),
        ("order_by=bogus", "order_by"),
        ("columns=bogus", "columns"),
        ("descending=maybe", "descending"),
    ],
)
def test_bad_parameters_are_422_with_the_field(client, query, field):
    answer = client.get(f"{API}/datasets/demo/tables/clusters?{query}")

    assert answer.status_code == 422
    assert field in answer.json()["errors"]


@pytest.mark.parametrize(
    ("table", "query", "field"),
    [
        ("shiftshare", "year=2020", "year"),
        ("industries", "region=AT11", "region"),
        ("regions", "cluster=digital", "cluster"),
    ],
)
def test_filters_a_table_lacks_are_422(client, table, query, field):
    answer = client.get(f"{API}/datasets/demo/tables/{table}?{query}")

    assert answer.status_code == 422
    assert answer.json()["errors"] == {field: f"the table {table} has no {field} column"}


def test_bad_names_are_422(client):
    answer = client.get(f"{API}/datasets/bad%20name")

    assert answer.status_code == 422
    assert "name" in answer.json()["errors"]


def test_without_a_store_folder_lists_are_empty(tmp_path):
    with make_client(tmp_path / "none") as client:
        datasets = client.get(f"{API}/datasets")
        levels = client.get(f"{API}/geometry")
        missing = client.get(f"{API}/datasets/demo")

    assert datasets.json() == {"data": [], "count": 0}
    assert levels.json() == {"data": [], "count": 0}
    assert missing.status_code == 404


def test_reload_is_seen_by_the_running_app(tmp_path, demo):
    panel, definitions = demo
    store = ObservatoryStore(tmp_path)
    store.load_dataset("d", panel.select(regions=list(panel.regions[:5])), definitions)
    with make_client(tmp_path) as client:
        before = client.get(f"{API}/datasets/d/regions").json()["count"]
        store.load_dataset("d", panel.select(regions=list(panel.regions[:7])), definitions)
        after = client.get(f"{API}/datasets/d/regions").json()["count"]

    assert (before, after) == (5, 7)


def test_openapi_documents_the_routes(client):
    schema = client.get("/openapi.json").json()

    paths = {p for p in schema["paths"] if p.startswith(API)}
    table = schema["paths"][f"{API}/datasets/{{name}}/tables/{{table}}"]["get"]

    assert paths == {
        f"{API}/datasets",
        f"{API}/datasets/{{name}}",
        f"{API}/datasets/{{name}}/regions",
        f"{API}/datasets/{{name}}/clusters",
        f"{API}/datasets/{{name}}/tables/{{table}}",
        f"{API}/geometry",
        f"{API}/geometry/{{level}}",
    }
    assert set(table["responses"]) == {"200", "404", "422"}
    assert table["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TablePage"
    }
    assert {p["name"] for p in table["parameters"]} >= {
        "year",
        "region",
        "cluster",
        "order_by",
        "descending",
        "limit",
        "offset",
    }


def test_a_file_the_store_did_not_write_is_404_not_500(tmp_path):
    (tmp_path / "junk.duckdb").write_bytes(b"junk" * 1000)
    (tmp_path / "geometry.duckdb").write_bytes(b"junk" * 1000)
    with make_client(tmp_path) as client:
        datasets = client.get(f"{API}/datasets")
        junk = client.get(f"{API}/datasets/junk/tables/clusters")
        levels = client.get(f"{API}/geometry")
        shapes = client.get(f"{API}/geometry/nuts2")

    assert datasets.json() == {"data": [], "count": 0}
    assert junk.status_code == shapes.status_code == 404
    assert "junk.duckdb is not a file of the observatory store" in junk.json()["detail"]
    assert levels.json() == {"data": [], "count": 0}
