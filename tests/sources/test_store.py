"""The observatory store on real DuckDB files: every stored table equals the observatory's own
frame for the demo panel, filters and ordering, atomic reloads, geometry from GeoJSON and
TopoJSON (hand-written topologies and the real us-atlas states), and clear errors."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clusteratlas.observatory import ClusterDefinitions, Panel
from clusteratlas.sources.store import (
    GEOMETRY_FILE,
    TABLES,
    DatasetNotFound,
    GeometryError,
    GeometryLevelNotFound,
    ObservatoryStore,
    StoreError,
    TableNotFound,
    read_features,
    region_level,
    topology_features,
)
from clusteratlas.sources.synthetic import demo_regions
from sources.store_reference import demo_inputs, plain, records, reference_tables

pytestmark = pytest.mark.integration

US_ATLAS = Path(__file__).resolve().parents[2] / "src/clusteratlas/web/static/vendor/us-atlas"


def typed(frame: pd.DataFrame) -> list[dict[str, tuple[str, object]]]:
    """Rows with each value's Python type, so 1.0 never passes for True."""
    return [{k: (type(v).__name__, v) for k, v in row.items()} for row in records(frame)]


@pytest.fixture(scope="module")
def demo() -> tuple[Panel, ClusterDefinitions]:
    return demo_inputs()


@pytest.fixture(scope="module")
def reference(demo: tuple[Panel, ClusterDefinitions]) -> dict[str, pd.DataFrame]:
    return reference_tables(*demo)


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory, demo: tuple[Panel, ClusterDefinitions]
) -> ObservatoryStore:
    store = ObservatoryStore(tmp_path_factory.mktemp("store"))
    store.load_dataset("demo", *demo, title="Demo", source="panel.csv", region_names=demo_regions())
    return store


def tiny_panel(employment: dict[tuple[str, str], float], year: int = 2020) -> Panel:
    rows = [
        {"year": year, "region": r, "industry": i, "employment": e}
        for (r, i), e in employment.items()
    ]
    return Panel.from_frame(pd.DataFrame(rows))


# ---------------------------------------------------------------------- stored tables
@pytest.mark.parametrize("table", TABLES)
def test_stored_table_equals_observatory_frame(loaded, reference, table):
    stored = loaded.table("demo", table)

    assert list(stored.columns) == list(reference[table].columns)
    assert typed(stored) == typed(reference[table])
    assert loaded.count("demo", table) == len(reference[table])


def test_dataset_info_describes_the_panel(loaded, demo):
    panel, definitions = demo

    info = loaded.dataset("demo")

    assert (info.name, info.title, info.source) == ("demo", "Demo", "panel.csv")
    assert info.years == panel.years
    assert (info.n_regions, info.n_clusters) == (len(panel.regions), len(definitions.clusters))
    assert info.region_levels == ("nuts2",)
    assert info.tables == TABLES
    assert info.notes == ()
    assert info.loaded_at.tzinfo is not None
    assert loaded.datasets() == [info]


def test_regions_have_names_levels_and_parents(loaded, demo):
    names = demo_regions().set_index("region")["name"]

    regions = loaded.regions("demo")

    assert list(regions.columns) == ["code", "name", "level", "parent"]
    assert list(regions["code"]) == list(demo[0].regions)
    assert list(regions["name"]) == [names[c] for c in regions["code"]]
    assert set(regions["level"]) == {"nuts2"}
    assert list(regions["parent"]) == [c[:3] for c in regions["code"]]


def test_clusters_are_those_of_the_definitions(loaded, demo):
    expected = demo[1].clusters

    clusters = loaded.clusters("demo")

    assert list(clusters.columns) == ["code", "name", "type"]
    assert list(clusters["code"]) == list(expected.index)
    assert list(clusters["name"]) == list(expected["cluster_name"])
    assert list(clusters["type"]) == list(expected["type"])


def test_definitions_are_those_it_was_loaded_with(loaded, demo):
    expected = demo[1].table

    definitions = loaded.definitions("demo")

    assert list(definitions.columns) == ["industry", "cluster"]
    assert list(definitions["industry"]) == [str(c) for c in expected["industry"]]
    assert list(definitions["cluster"]) == [str(c) for c in expected["cluster"]]


def test_filters_select_the_same_rows_as_pandas(loaded, reference):
    ref = reference["clusters"]
    mask = (
        (ref["year"] == 2020)
        & ref["region"].isin(["DE11", "AT13", "FR10"])
        & (ref["cluster"] == "digital")
    )

    stored = loaded.table(
        "demo", "clusters", year=2020, region=["DE11", "AT13", "FR10"], cluster="digital"
    )
    n = loaded.count(
        "demo", "clusters", year=2020, region=["DE11", "AT13", "FR10"], cluster="digital"
    )

    assert typed(stored) == typed(ref[mask])
    assert n == int(mask.sum()) == 3


def test_a_cluster_without_a_region_is_read_from_the_copy_in_cluster_order(loaded, reference):
    """The same rows, in the observatory's order, as the table itself gives."""
    ref = reference["clusters"]
    mask = ref["cluster"].isin(["digital", "agrifood"])

    stored = loaded.table("demo", "clusters", cluster=["digital", "agrifood"])
    last = loaded.table(
        "demo", "clusters", cluster="digital", year=2022, order_by="lq", descending=True, limit=5
    )

    assert "_clusters_by_cluster" in loaded._source(
        loaded._dataset("demo"), "clusters", None, "digital"
    )
    assert typed(stored) == typed(ref[mask])
    assert loaded.count("demo", "clusters", cluster=["digital", "agrifood"]) == int(mask.sum())
    expected = ref[(ref["cluster"] == "digital") & (ref["year"] == 2022)]
    assert list(last["region"]) == list(expected.nlargest(5, "lq", keep="first")["region"])


def test_cluster_filter_uses_the_industry_column_of_complexity(loaded, reference):
    ref = reference["complexity"]

    stored = loaded.table("demo", "complexity", cluster=["biopharma", "digital"], year=2022)

    expected = ref[ref["industry"].isin(["biopharma", "digital"]) & (ref["year"] == 2022)]
    assert typed(stored) == typed(expected)


def test_order_by_limit_offset_and_columns(loaded, reference):
    ref = reference["clusters"]
    ref = ref[ref["year"] == 2022].sort_values("lq", ascending=False, kind="stable")

    page = loaded.table(
        "demo",
        "clusters",
        year=2022,
        columns=["region", "cluster", "lq"],
        order_by="lq",
        descending=True,
        limit=25,
        offset=10,
    )

    assert typed(page) == typed(ref[["region", "cluster", "lq"]].iloc[10:35])


def test_order_by_puts_missing_values_last(loaded, reference):
    ref = reference["clusters"]
    ref = ref[ref["region"] == "AT11"]

    stored = loaded.table("demo", "clusters", region="AT11", order_by="lq_change")

    expected = ref.sort_values("lq_change", kind="stable", na_position="last")
    assert typed(stored) == typed(expected)
    assert stored["lq_change"].isna().sum() == ref["lq_change"].isna().sum() > 0


def test_bad_queries_name_the_problem(loaded):
    with pytest.raises(TableNotFound, match="no table 'nope'.*tables: clusters"):
        loaded.table("demo", "nope")
    with pytest.raises(DatasetNotFound, match="no dataset 'other'"):
        loaded.table("other", "clusters")
    with pytest.raises(StoreError, match="'shiftshare' has no year column"):
        loaded.table("demo", "shiftshare", year=2020)
    with pytest.raises(StoreError, match="'industries' has no region column"):
        loaded.count("demo", "industries", region="AT11")
    with pytest.raises(StoreError, match="no column 'bogus'"):
        loaded.table("demo", "clusters", columns=["region", "bogus"])
    with pytest.raises(StoreError, match="cannot order by 'bogus'"):
        loaded.table("demo", "clusters", order_by="bogus")


# ---------------------------------------------------------------------- datasets
def test_tables_that_cannot_be_computed_are_left_out_with_the_reason(tmp_path):
    # one year (no shift-share) and two regions sharing no industry (complexity undefined)
    panel = tiny_panel({("R1", "a"): 10, ("R1", "b"): 5, ("R2", "c"): 7, ("R2", "d"): 3})
    store = ObservatoryStore(tmp_path)

    info = store.load_dataset("tiny", panel, None)

    assert info.tables == ("clusters", "regions", "industries")
    assert info.notes[0] == "shiftshare: shift-share needs two years or more"
    assert [n.split(":")[0] for n in info.notes[1:]] == [
        "complexity",
        "opportunities",
        "peers",
        "mentors",
    ]
    assert "complexity cannot be computed" in info.notes[1]
    with pytest.raises(TableNotFound, match="has no table 'complexity' \\(complexity cannot"):
        store.table("tiny", "complexity")
    assert list(store.clusters("tiny")["code"]) == ["a", "b", "c", "d"]  # identity definitions


def test_several_datasets_and_drop(tmp_path, demo):
    store = ObservatoryStore(tmp_path)
    store.load_dataset("b-set", tiny_panel({("R1", "a"): 1, ("R2", "a"): 2}), None)
    store.load_dataset("a-set", tiny_panel({("R1", "a"): 3, ("R2", "b"): 2}), None)

    names = [info.name for info in store.datasets()]
    store.drop_dataset("b-set")

    assert names == ["a-set", "b-set"]
    assert [info.name for info in store.datasets()] == ["a-set"]
    with pytest.raises(DatasetNotFound):
        store.drop_dataset("b-set")
    with pytest.raises(DatasetNotFound):
        store.dataset("b-set")


def test_empty_or_missing_folder_has_no_datasets(tmp_path):
    store = ObservatoryStore(tmp_path / "not-there")

    assert (store.datasets(), store.geometry_levels()) == ([], [])
    assert not (tmp_path / "not-there").exists()


@pytest.mark.parametrize("name", ["", "has space", "../up", "geometry", "-dash", "x" * 65])
def test_bad_dataset_names_are_refused(tmp_path, name):
    store = ObservatoryStore(tmp_path)

    with pytest.raises(StoreError, match="dataset name"):
        store.load_dataset(name, tiny_panel({("R1", "a"): 1, ("R2", "a"): 2}), None)
    with pytest.raises(DatasetNotFound):
        store.dataset(name)


def test_region_levels_from_the_codes():
    assert [region_level(c) for c in ["DE", "DE1", "DE11", "DE111", "06", "06037", "x1"]] == [
        "nuts0",
        "nuts1",
        "nuts2",
        "nuts3",
        "state",
        "county",
        "other",
    ]
    assert region_level("EU27_2020", aggregate=True) == "aggregate"


def test_from_settings_places_the_store(tmp_path, monkeypatch):
    from clusteratlas.collaboration.settings import Settings

    monkeypatch.chdir(tmp_path)

    given = ObservatoryStore.from_settings(Settings(observatory_dir=tmp_path / "obs"))
    beside = ObservatoryStore.from_settings(
        Settings(database_url=f"sqlite:///{tmp_path / 'db' / 'atlas.db'}")
    )
    memory = ObservatoryStore.from_settings(Settings(database_url="sqlite://"))
    postgres = ObservatoryStore.from_settings(
        Settings(database_url="postgresql://u:p@localhost/atlas")
    )

    assert given.directory == tmp_path / "obs"
    assert beside.directory == tmp_path / "db" / "observatory"
    assert memory.directory == postgres.directory == tmp_path / "observatory"


def test_from_settings_reads_the_environment(tmp_path, monkeypatch):
    from clusteratlas.collaboration.settings import Settings

    monkeypatch.setenv("CLUSTERATLAS_OBSERVATORY_DIR", str(tmp_path / "env"))

    assert ObservatoryStore.from_settings(Settings()).directory == tmp_path / "env"


# ---------------------------------------------------------------------- atomic reloads
def test_reload_replaces_the_dataset_for_an_open_reader(tmp_path):
    reader = ObservatoryStore(tmp_path)
    writer = ObservatoryStore(tmp_path)
    writer.load_dataset("d", tiny_panel({("R1", "a"): 1, ("R2", "a"): 2}), None, title="old")
    before = reader.table("d", "clusters")["employment"].tolist()

    writer.load_dataset("d", tiny_panel({("R1", "a"): 5, ("R2", "a"): 7}), None, title="new")

    assert before == [1.0, 2.0]
    assert reader.table("d", "clusters")["employment"].tolist() == [5.0, 7.0]
    assert reader.dataset("d").title == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.duckdb"]


def test_a_failed_load_leaves_the_old_dataset_and_no_temporary_file(tmp_path):
    store = ObservatoryStore(tmp_path)
    store.load_dataset("d", tiny_panel({("R1", "a"): 1, ("R2", "a"): 2}), None, title="old")

    def fail_while_writing(step: str, done: int, total: int) -> None:
        if step == "writing" and done == 2:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        store.load_dataset(
            "d",
            tiny_panel({("R1", "a"): 5, ("R2", "a"): 7}),
            None,
            title="new",
            progress=fail_while_writing,
        )

    assert store.dataset("d").title == "old"
    assert store.table("d", "clusters")["employment"].tolist() == [1.0, 2.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.duckdb"]


def test_readers_see_old_or_new_never_a_partial_dataset_during_reloads(tmp_path, demo):
    panel, definitions = demo
    small = panel.select(regions=list(panel.regions[:30]))
    writer = ObservatoryStore(tmp_path)
    writer.load_dataset("d", small, definitions)
    reader = ObservatoryStore(tmp_path)
    sizes = {
        reader.count("d", "clusters"),
    }
    expected_full = None
    seen: list[tuple[int, int]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                n = reader.count("d", "clusters")
                regions = len(reader.regions("d"))
                seen.append((n, regions))
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
                return

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for k in range(3):
            writer.load_dataset("d", panel if k % 2 == 0 else small, definitions)
    finally:
        stop.set()
        thread.join()
    expected_full = ObservatoryStore(tmp_path).count("d", "clusters")
    sizes.add(expected_full)

    assert failures == []
    assert seen
    assert {n for n, _ in seen} <= sizes
    assert {r for _, r in seen} <= {30, len(panel.regions)}


# ---------------------------------------------------------------------- geometry
SQUARE = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def feature(code: str | None, name: str, **props: object) -> dict[str, object]:
    properties = {"NUTS_ID": code, "NAME_LATN": name, **props} if code else dict(props)
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": SQUARE},
    }


def test_geojson_levels_with_attribution(tmp_path):
    path = write_json(
        tmp_path / "nuts.geojson",
        {
            "type": "FeatureCollection",
            "features": [feature("DE11", "Stuttgart"), feature("AT13", "Wien")],
        },
    )
    store = ObservatoryStore(tmp_path / "store")

    n = store.load_geometry(path, level="nuts2", attribution="© EuroGeographics")
    m = store.load_geometry(path, level="other", code_property="NUTS_ID")
    collection = store.geometry("nuts2")
    subset = store.geometry("nuts2", codes=["AT13", "XX99"])

    assert (n, m) == (2, 2)
    assert store.geometry_levels() == ["nuts2", "other"]
    assert store.geometry_attribution("nuts2") == "© EuroGeographics"
    assert store.geometry_attribution("other") is None
    assert collection == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": code,
                "properties": {"code": code, "name": name},
                "geometry": {"type": "Polygon", "coordinates": SQUARE},
            }
            for code, name in [("AT13", "Wien"), ("DE11", "Stuttgart")]
        ],
    }
    assert [f["id"] for f in subset["features"]] == ["AT13"]
    assert json.loads(store.geometry_json("nuts2")) == collection


def test_reloading_a_level_replaces_only_that_level(tmp_path):
    one = write_json(tmp_path / "a.geojson", {"type": "Feature", **feature("DE1", "BW")})
    two = write_json(
        tmp_path / "b.geojson",
        {"type": "FeatureCollection", "features": [feature("DE2", "Bayern")]},
    )
    store = ObservatoryStore(tmp_path / "store")
    store.load_geometry(one, level="nuts1")
    store.load_geometry(one, level="nuts0")

    store.load_geometry(two, level="nuts1", attribution="new")

    assert [f["id"] for f in store.geometry("nuts1")["features"]] == ["DE2"]
    assert [f["id"] for f in store.geometry("nuts0")["features"]] == ["DE1"]
    assert store.geometry_attribution("nuts1") == "new"
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [GEOMETRY_FILE]


def test_unknown_geometry_level(tmp_path):
    store = ObservatoryStore(tmp_path)
    with pytest.raises(GeometryLevelNotFound, match="no geometry for level 'county'"):
        store.geometry("county")
    path = write_json(tmp_path / "a.geojson", {"type": "Feature", **feature("DE1", "BW")})
    store.load_geometry(path, level="nuts1")
    with pytest.raises(GeometryLevelNotFound):
        store.geometry_attribution("county")
    with pytest.raises(StoreError, match="geometry level 'a b'"):
        store.load_geometry(path, level="a b")


#: quantized: positions are delta-encoded integers, x = q * 0.5 + 10, y = q * 0.25 + 20
QUANTIZED = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.25], "translate": [10, 20]},
    "arcs": [
        [[0, 0], [2, 0], [0, 4]],  # (0,0) (2,0) (2,4) → (10,20) (11,20) (11,21)
        [[2, 4], [-2, 0], [0, -4]],  # (2,4) (0,4) (0,0) → (11,21) (10,21) (10,20)
    ],
    "objects": {
        "regions": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "id": "A", "properties": {"name": "Ay"}, "arcs": [[0, 1]]},
                {"type": "MultiPolygon", "id": "B", "arcs": [[[-2, -1]]]},
                {"type": "Point", "id": "C", "coordinates": [4, 8]},
            ],
        },
        "line": {"type": "LineString", "id": "L", "arcs": [~1]},
    },
}
RING = [[10.0, 20.0], [11.0, 20.0], [11.0, 21.0], [10.0, 21.0], [10.0, 20.0]]


def test_quantized_topology_is_decoded_arc_by_arc():
    features = topology_features(QUANTIZED)

    assert [(f["id"], f["properties"]["_object"]) for f in features] == [
        ("A", "regions"),
        ("B", "regions"),
        ("C", "regions"),
        ("L", "line"),
    ]
    assert features[0]["geometry"] == {"type": "Polygon", "coordinates": [RING]}
    # ~1 then ~0: both arcs reversed, the shared points once
    assert features[1]["geometry"] == {"type": "MultiPolygon", "coordinates": [[RING[::-1]]]}
    assert features[2]["geometry"] == {"type": "Point", "coordinates": [12.0, 22.0]}
    assert features[3]["geometry"] == {
        "type": "LineString",
        "coordinates": [[10.0, 20.0], [10.0, 21.0], [11.0, 21.0]],
    }


def test_topology_without_transform_and_chosen_objects(tmp_path):
    topology = {
        "type": "Topology",
        "arcs": [[[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 0.5]]],
        "objects": {
            "a": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "properties": {"code": "X1", "name": "Ex"}, "arcs": [[0]]},
            ]},
            "b": {"type": "Polygon", "arcs": [[0]]},  # no code: only an error when read
        },
    }  # fmt: skip
    path = write_json(tmp_path / "t.json", topology)

    rows = read_features(path, objects=["a"])

    assert rows == [
        (
            "X1",
            "Ex",
            {"type": "Polygon", "coordinates": [[[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 0.5]]]},
        )
    ]
    with pytest.raises(GeometryError, match=r"t.json: feature 1 \(object 'b'\): no code"):
        read_features(path)
    with pytest.raises(GeometryError, match="no object 'c' in the topology \\(objects: a, b\\)"):
        read_features(path, objects=["c"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON file"),
        ("[1, 2]", "the top level is not an object"),
        ('{"type": "Point", "coordinates": [0, 0]}', "type is 'Point'"),
        ('{"type": "FeatureCollection", "features": []}', "no features"),
        (
            json.dumps({"type": "FeatureCollection", "features": [feature(None, "x")]}),
            "feature 0: no code",
        ),
        (
            json.dumps(
                {"type": "FeatureCollection", "features": [feature("A1", "x"), feature("A1", "y")]}
            ),
            "feature 1: code 'A1' given twice \\(also feature 0\\)",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [{"type": "Feature", "id": "Q", "properties": {}}],
                }
            ),
            "feature 0 \\(Q\\): no geometry",
        ),
        (
            json.dumps({"type": "Topology", "objects": {}, "arcs": [], "transform": {"x": 1}}),
            "transform needs scale",
        ),
    ],
)
def test_bad_geometry_files_are_refused_by_name(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    store = ObservatoryStore(tmp_path / "store")

    with pytest.raises(GeometryError, match=f"bad.json: .*{message}"):
        store.load_geometry(path, level="nuts2")
    assert store.geometry_levels() == []


def test_missing_code_and_name_properties_are_named(tmp_path):
    path = write_json(
        tmp_path / "g.json", {"type": "FeatureCollection", "features": [feature("A1", "x")]}
    )

    with pytest.raises(GeometryError, match="no code \\(property 'GEOID'\\)"):
        read_features(path, code_property="GEOID")
    with pytest.raises(GeometryError, match="feature 0 \\(A1\\): no property 'label'"):
        read_features(path, name_property="label")
    with pytest.raises(GeometryError, match="no such file"):
        read_features(tmp_path / "none.json")


@pytest.fixture
def states_file() -> Path:
    path = US_ATLAS / "states-10m.json"
    if not path.is_file():
        pytest.skip(f"{path} missing: run `make static` (it copies the npm package us-atlas)")
    return path


def test_real_us_atlas_states(tmp_path, states_file):
    store = ObservatoryStore(tmp_path)

    n = store.load_geometry(states_file, level="state", objects=["states"])
    features = store.geometry("state")["features"]

    codes = [f["id"] for f in features]
    states = [c for c in codes if int(c) <= 56]
    assert n == len(features) == 56
    assert len(states) == 51  # 50 states and DC (11)
    assert set(codes) - set(states) == {"60", "66", "69", "72", "78"}  # territories
    by_code = {f["id"]: f for f in features}
    assert by_code["11"]["properties"]["name"] == "District of Columbia"
    assert by_code["08"]["properties"]["name"] == "Colorado"
    # Colorado is the rectangle 109.05°–102.04° W, 37.0°–41.0° N
    ring = np.array(
        [p for polygon in _polygons(by_code["08"]["geometry"]) for p in polygon[0]], dtype=float
    )
    assert ring[:, 0].min() == pytest.approx(-109.05, abs=0.02)
    assert ring[:, 0].max() == pytest.approx(-102.04, abs=0.02)
    assert ring[:, 1].min() == pytest.approx(36.99, abs=0.02)
    assert ring[:, 1].max() == pytest.approx(41.0, abs=0.02)
    # every ring is closed: stitching arcs loses no point
    for f in features:
        for polygon in _polygons(f["geometry"]):
            for ring in polygon:
                assert ring[0] == ring[-1]


def _polygons(geometry: dict[str, object]) -> list[list[list[list[float]]]]:
    coords = geometry["coordinates"]
    return [coords] if geometry["type"] == "Polygon" else list(coords)  # type: ignore[list-item]


def test_plain_values_of_the_reference_helper():
    assert [plain(np.float32(0.5)), plain(np.nan), plain(pd.NA), plain(np.int8(3))] == [
        0.5,
        None,
        None,
        3,
    ]


def test_files_the_store_did_not_write_are_not_datasets(tmp_path):
    import duckdb

    (tmp_path / "junk.duckdb").write_bytes(b"not a database at all" * 100)
    con = duckdb.connect(str(tmp_path / "other.duckdb"))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    (tmp_path / GEOMETRY_FILE).write_bytes(b"junk" * 1000)
    store = ObservatoryStore(tmp_path)
    path = write_json(tmp_path / "a.geojson", {"type": "Feature", **feature("DE1", "BW")})

    assert store.datasets() == []
    with pytest.raises(DatasetNotFound, match="no dataset 'junk': .*junk.duckdb is not a file"):
        store.dataset("junk")
    with pytest.raises(DatasetNotFound, match="no dataset 'other': .*other.duckdb is not a file"):
        store.table("other", "clusters")
    assert store.geometry_levels() == []
    with pytest.raises(GeometryLevelNotFound, match="geometry.duckdb is not a file"):
        store.geometry("nuts1")
    with pytest.raises(StoreError, match="geometry.duckdb is not a file of the observatory"):
        store.load_geometry(path, level="nuts1")
