"""The observatory pages (issue 7) on the demo dataset loaded into a real store (DuckDB files in
a temporary folder, with hand-made square shapes for the 90 demo regions): every page, the
values shown and the JSON of the charts and the map compared with the observatory's own frames
(computed here from the same panel, not through the store), the CSV downloads, the PDF report,
404 and 400 answers, and no inline code (CSP)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from clusteratlas.collaboration.settings import Settings
from clusteratlas.observatory import QUADRANTS, Panel, cluster_table, region_indices
from clusteratlas.sources.store import ObservatoryStore
from clusteratlas.sources.synthetic import demo_panel_frame, demo_regions
from clusteratlas.web.pages.observatory_data import LQ_BREAKS, cluster_organisations
from sources.store_reference import demo_inputs

pytestmark = pytest.mark.integration

DATASET = "/observatory/demo"
ATTRIBUTION = "Test squares, no licence needed"


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    return demo_inputs()


@pytest.fixture(scope="module")
def reference(demo) -> dict[str, pd.DataFrame]:
    """The observatory's own tables, as the store computes them (dynamics from the first year)."""
    panel, definitions = demo
    return {
        "clusters": cluster_table(panel, definitions, base_year=panel.years[0]),
        "regions": region_indices(panel, definitions),
    }


def square_shapes(codes: list[tuple[str, str]]) -> dict[str, Any]:
    features = []
    for k, (code, name) in enumerate(codes):
        x, y = -10 + (k % 10) * 2.0, 36 + (k // 10) * 2.0
        ring = [[x, y], [x + 1.8, y], [x + 1.8, y + 1.8], [x, y + 1.8], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"NUTS_ID": code, "NAME_LATN": name},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, demo) -> Path:
    directory = tmp_path_factory.mktemp("observatory")
    store = ObservatoryStore(directory)
    names = demo_regions()
    store.load_dataset("demo", *demo, title="Demo NUTS-2", source="panel.csv", region_names=names)
    shapes = directory.parent / "shapes.geojson"
    shapes.write_text(json.dumps(square_shapes(list(zip(names.region, names.name, strict=True)))))
    store.load_geometry(
        shapes,
        level="nuts2",
        code_property="NUTS_ID",
        name_property="NAME_LATN",
        attribution=ATTRIBUTION,
    )
    return directory


@pytest.fixture(scope="module")
def bare_dir(tmp_path_factory: pytest.TempPathFactory, store_dir: Path) -> Path:
    """The same dataset in a store without any geometry."""
    directory = tmp_path_factory.mktemp("bare")
    shutil.copy(store_dir / "demo.duckdb", directory / "demo.duckdb")
    return directory


@pytest.fixture
def obs(make_client: Callable[[Settings], TestClient], settings: Settings, store_dir: Path):
    return make_client(settings.model_copy(update={"observatory_dir": store_dir}))


# ---- reading pages --------------------------------------------------------------------------


class Page(HTMLParser):
    """The tables (``data-table``: rows of ``{data-col: (text, data-value)}``), the JSON
    blocks (by id) and any inline code of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, tuple[str, str | None]]]] = {}
        self.json: dict[str, Any] = {}
        self.inline: list[str] = []
        self._table: str | None = None
        self._cell: tuple[str, str | None] | None = None
        self._text: list[str] = []
        self._script: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "style":
            self.inline.append("<style>")
        self.inline += [f"{n}= on <{tag}>" for n in a if n == "style" or n.startswith("on")]
        if tag == "script":
            if a.get("type") == "application/json":
                self._script, self._text = a.get("id") or "", []
            elif "src" not in a:
                self.inline.append("inline <script>")
        if tag == "table" and a.get("data-table"):
            self._table = a["data-table"]
            self.tables[self._table] = []
        if tag == "tr" and self._table is not None:
            self.tables[self._table].append({})
        if tag == "td" and self._table is not None and a.get("data-col"):
            self._cell, self._text = (a["data-col"], a.get("data-value")), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.json[self._script] = json.loads("".join(self._text))
            self._script = None
        if tag == "td" and self._cell is not None and self._table is not None:
            col, value = self._cell
            self.tables[self._table][-1][col] = (" ".join("".join(self._text).split()), value)
            self._cell = None
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None or self._script is not None:
            self._text.append(data)

    def rows(self, table: str) -> list[dict[str, tuple[str, str | None]]]:
        return [r for r in self.tables[table] if r]


def get_page(client: TestClient, url: str) -> tuple[str, Page]:
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    page = Page(response.text)
    assert page.inline == [], f"inline code on {url}: {page.inline}"
    return response.text, page


def read_csv(client: TestClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def ranked(clusters: pd.DataFrame) -> pd.DataFrame:
    """A region's clusters as the profile ranks them: most stars, then highest LQ."""
    return clusters.sort_values(
        ["stars", "lq", "cluster"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def rows_of(reference: pd.DataFrame, **where: Any) -> pd.DataFrame:
    mask = np.ones(len(reference), dtype=bool)
    for column, value in where.items():
        mask &= (reference[column].astype(object) == value).to_numpy()
    return reference[mask].reset_index(drop=True)


# ---- the datasets and the home page ---------------------------------------------------------


def test_datasets_page_lists_the_loaded_dataset(obs):
    html, _ = get_page(obs, "/observatory")

    assert 'href="/observatory/demo">Demo NUTS-2</a>' in html
    assert "2015–2022" in html
    assert '<td class="num">90</td>' in html
    assert '<td class="num">19</td>' in html
    assert "panel.csv" in html
    rows = read_csv(obs, "/observatory/datasets.csv")
    assert [(r["name"], r["title"], r["first_year"], r["last_year"]) for r in rows] == [
        ("demo", "Demo NUTS-2", "2015", "2022")
    ]
    assert rows[0]["regions"] == "90"


def test_home_map_ranks_every_region_by_the_lq_of_the_cluster(obs, reference):
    html, page = get_page(obs, f"{DATASET}?indicator=lq&cluster=automotive&year=2020")

    expected = rows_of(reference["clusters"], year=2020, cluster="automotive")
    lq = dict(zip(expected["region"].astype(str), expected["lq"], strict=True))
    rows = page.rows("ranking")
    assert len(rows) == 90
    shown = {r["region"][0]: float(r["value"][1]) for r in rows if r["value"][1] is not None}
    assert shown == pytest.approx(lq, rel=1e-12)
    values = [float(r["value"][1]) for r in rows if r["value"][1] is not None]
    assert values == sorted(values, reverse=True)
    top = max(lq, key=lq.get)
    assert rows[0]["region"][0] == top
    assert rows[0]["value"][0] == f"{lq[top]:.2f}"
    data = page.json["obs-map-data"]
    assert data["geometry"] == f"{DATASET}/geometry.json?level=nuts2"
    assert data["attribution"] == ATTRIBUTION
    assert f"Boundaries: {ATTRIBUTION}" in html
    assert set(data["classes"]) == {str(c) for c in demo_regions()["region"]}
    for code, value in lq.items():
        assert data["classes"][code] == int(np.searchsorted(LQ_BREAKS, value, side="right"))
        assert data["values"][code] == f"{value:.2f}"
    assert '<option value="automotive" selected>' in html
    assert "/static/vendor/maplibre-gl.css" in html


def test_home_stars_and_region_indicators(obs, reference):
    _, stars = get_page(obs, f"{DATASET}?indicator=stars&cluster=digital&year=2016")
    _, krugman = get_page(obs, f"{DATASET}?indicator=krugman&year=2016")

    clusters = rows_of(reference["clusters"], year=2016, cluster="digital")
    data = stars.json["obs-map-data"]
    for region, n in zip(clusters["region"].astype(str), clusters["stars"], strict=True):
        assert data["classes"][region] == int(n) + 1  # class 0 is unused: 1…4 are 0…3 stars
        assert data["values"][region] == "★" * int(n) + "☆" * (3 - int(n))
    regions = rows_of(reference["regions"], year=2016)
    shown = {r["region"][0]: float(r["value"][1]) for r in krugman.rows("ranking")}
    assert shown == pytest.approx(
        dict(zip(regions["region"].astype(str), regions["krugman"], strict=True)), rel=1e-12
    )


def test_home_without_geometry_shows_a_ranked_table_and_says_so(
    make_client, settings, bare_dir, reference
):
    client = make_client(settings.model_copy(update={"observatory_dir": bare_dir}))

    html, page = get_page(client, DATASET)

    assert "obs-map-data" not in page.json
    assert "ranked in a table instead of a map" in html
    assert "maplibre" not in html
    assert len(page.rows("ranking")) == 90
    assert client.get(f"{DATASET}/geometry.json").status_code == 404


def test_geometry_json_has_the_regions_shapes(obs):
    response = obs.get(f"{DATASET}/geometry.json?level=nuts2")

    assert response.status_code == 200
    collection = response.json()
    codes = {f["properties"]["code"] for f in collection["features"]}
    assert codes == {str(c) for c in demo_regions()["region"]}
    assert collection["features"][0]["geometry"]["type"] == "Polygon"


def test_home_map_csv_equals_the_ranking(obs, reference):
    rows = read_csv(obs, f"{DATASET}/map.csv?indicator=lq&cluster=energy&year=2022")

    expected = rows_of(reference["clusters"], year=2022, cluster="energy")
    lq = dict(zip(expected["region"].astype(str), expected["lq"], strict=True))
    assert list(rows[0]) == ["year", "cluster", "rank", "region", "name", "lq"]
    assert {r["region"]: float(r["lq"]) for r in rows if r["lq"]} == pytest.approx(lq, rel=1e-15)
    assert rows[0]["rank"] == "1"
    assert {r["cluster"] for r in rows} == {"energy"}


# ---- region profile -------------------------------------------------------------------------


def test_region_profile_ranks_clusters_as_the_cluster_table(obs, reference):
    _, page = get_page(obs, f"{DATASET}/regions/DE11?year=2021")

    expected = ranked(rows_of(reference["clusters"], year=2021, region="DE11"))
    rows = page.rows("clusters")
    assert [r["cluster_name"][0] for r in rows] == list(expected["cluster_name"].astype(str))
    assert float(rows[0]["lq"][1]) == pytest.approx(expected["lq"][0], rel=1e-15)
    assert rows[0]["stars"][0] == "★" * int(expected["stars"][0]) + "☆" * (
        3 - int(expected["stars"][0])
    )
    labels = {"strong10": "strong, top 10 %", "strong": "strong", "significant": "significant"}
    labels["qualifying"] = "qualifying"
    for row, record in zip(rows, expected.to_dict("records"), strict=True):
        flags = [text for name, text in labels.items() if record[name] is True]
        source = "" if pd.isna(record.get("flag")) or not record.get("flag") else record["flag"]
        shown = " ".join([*flags[:1], *([f"source flag {source}"] if source else [])])
        assert row["flags"][0] == shown


def test_region_bubble_chart_json_is_the_cluster_table(obs, reference):
    _, by_lq = get_page(obs, f"{DATASET}/regions/FRK2")
    _, by_growth = get_page(obs, f"{DATASET}/regions/FRK2?x=growth_cagr")

    expected = rows_of(reference["clusters"], year=2022, region="FRK2").set_index("cluster")
    for page, x in ((by_lq, "lq_change"), (by_growth, "growth_cagr")):
        chart = page.json["obs-charts"]["bubble"]
        assert chart["kind"] == "bubble"
        assert chart["quadrants"] == dict(
            zip(QUADRANTS, ["top-right", "top-left", "bottom-right", "bottom-left"], strict=True)
        )
        assert {p["code"] for p in chart["points"]} == set(expected.index.astype(str))
        for point in chart["points"]:
            row = expected.loc[point["code"]]
            assert point["y"] == pytest.approx(row["lq"], rel=1e-15)
            assert point["x"] == pytest.approx(row[x], rel=1e-15)
            assert point["size"] == pytest.approx(row["employment"])
            assert point["quadrant"] == row["quadrant"]


def test_region_indices_over_time_and_their_chart(obs, reference):
    _, page = get_page(obs, f"{DATASET}/regions/PL21")

    expected = rows_of(reference["regions"], region="PL21").sort_values("year")
    rows = page.rows("indices")
    assert [int(r["year"][0]) for r in rows] == list(expected["year"])
    assert [float(r["krugman"][1]) for r in rows] == pytest.approx(list(expected["krugman"]))
    chart = page.json["obs-charts"]["specialisation"]
    assert chart["x"] == list(expected["year"])
    series = {s["name"]: s["values"] for s in chart["series"]}
    assert series["Herfindahl index"] == pytest.approx(list(expected["herfindahl"]))
    employment = page.json["obs-charts"]["employment"]["series"][0]["values"]
    assert employment == pytest.approx(list(expected["employment"]))


def test_region_peers_and_opportunities_come_from_the_store(obs, store_dir):
    _, page = get_page(obs, f"{DATASET}/regions/AT13")

    store = ObservatoryStore(store_dir)
    peers = store.table("demo", "peers", region="AT13")
    rows = page.rows("peers")
    assert [r["peer"][0] for r in rows] == list(peers["peer"].astype(str))
    assert (
        rows[0]["peer_name"][0]
        == store.regions("demo").set_index("code").at[str(peers["peer"][0]), "name"]
    )
    opportunities = store.table("demo", "opportunities", region="AT13")
    assert len(page.rows("opportunities")) == min(20, len(opportunities))


def test_region_lists_its_published_organisations_only(obs, create_user, create_org):
    manager = create_user()
    create_org(manager, status="published", name="Stuttgart Mobility Cluster", region_code="DE11")
    create_org(manager, status="draft", name="Draft Cluster Stuttgart", region_code="DE11")
    create_org(manager, status="published", name="Munich Cluster", region_code="DE21")

    html, _ = get_page(obs, f"{DATASET}/regions/DE11")

    assert "Stuttgart Mobility Cluster" in html
    assert "Draft Cluster Stuttgart" not in html
    assert "Munich Cluster" not in html


def test_region_csv_downloads(obs, reference):
    clusters = read_csv(obs, f"{DATASET}/regions/ES51/clusters.csv?year=2019")
    indices = read_csv(obs, f"{DATASET}/regions/ES51/indices.csv")
    peers = read_csv(obs, f"{DATASET}/regions/ES51/peers.csv")

    expected = ranked(rows_of(reference["clusters"], year=2019, region="ES51"))
    assert [r["cluster"] for r in clusters] == list(expected["cluster"].astype(str))
    assert [float(r["lq"]) for r in clusters] == list(expected["lq"])
    assert {r["year"] for r in clusters} == {"2019"}
    assert {r["region"] for r in clusters} == {"ES51"}
    assert [float(r["entropy"]) for r in indices] == list(
        rows_of(reference["regions"], region="ES51").sort_values("year")["entropy"]
    )
    assert len(peers) == 10
    assert "peer_name" in peers[0]
    assert obs.get(f"{DATASET}/regions/ES51/nothing.csv").status_code == 404


# ---- cluster page ---------------------------------------------------------------------------


def test_cluster_page_top_regions_map_and_trends(obs, reference):
    html, page = get_page(obs, f"{DATASET}/clusters/chemicals?year=2018")

    clusters = reference["clusters"]
    year = rows_of(clusters, year=2018, cluster="chemicals").sort_values(
        ["employment", "region"], ascending=[False, True]
    )
    rows = page.rows("regions")
    assert len(rows) == 20
    assert [r["name"][0] for r in rows[:3]] == [
        demo_regions().set_index("region").at[c, "name"] for c in year["region"].astype(str)[:3]
    ]
    assert float(rows[0]["lq"][1]) == pytest.approx(year["lq"].iloc[0], rel=1e-15)
    data = page.json["obs-map-data"]
    assert data["values"][str(year["region"].iloc[0])] == f"{year['lq'].iloc[0]:.2f}"
    assert "Location quotient by region, 2018" in html
    every = rows_of(clusters, cluster="chemicals")
    totals = every.groupby("year")[["employment", "payroll"]].sum()
    chart = page.json["obs-charts"]["trends"]
    assert chart["x"] == list(totals.index)
    series = {s["name"]: s for s in chart["series"]}
    assert series["Employment"]["values"] == pytest.approx(list(totals["employment"]))
    wage = totals["payroll"] / totals["employment"]
    assert series["Average wage"]["values"] == pytest.approx(list(wage), rel=1e-12)
    assert series["Average wage"]["axis"] == 1


def test_cluster_related_by_co_location(obs, reference):
    _, page = get_page(obs, f"{DATASET}/clusters/tourism?year=2022")

    lq = rows_of(reference["clusters"], year=2022).pivot_table(
        index="cluster", columns="region", values="lq", observed=True
    )
    lq = lq.fillna(0.0)
    unit = lq.to_numpy() / np.linalg.norm(lq.to_numpy(), axis=1, keepdims=True)
    similarity = pd.Series(unit @ unit[list(lq.index).index("tourism")], index=lq.index)
    expected = similarity.drop("tourism").sort_values(ascending=False).head(6)
    rows = page.rows("related")
    assert [float(r["similarity"][1]) for r in rows] == pytest.approx(list(expected), rel=1e-9)
    names = dict(
        zip(reference["clusters"]["cluster"], reference["clusters"]["cluster_name"], strict=True)
    )
    assert [r["cluster_name"][0] for r in rows] == [names[c] for c in expected.index]


def test_cluster_csv_downloads(obs, reference):
    regions = read_csv(obs, f"{DATASET}/clusters/finance/regions.csv?year=2017")
    trends = read_csv(obs, f"{DATASET}/clusters/finance/trends.csv")
    related = read_csv(obs, f"{DATASET}/clusters/finance/related.csv")

    expected = rows_of(reference["clusters"], year=2017, cluster="finance")
    assert len(regions) == len(expected)
    assert {r["region"]: float(r["lq"]) for r in regions} == pytest.approx(
        dict(zip(expected["region"].astype(str), expected["lq"], strict=True)), rel=1e-15
    )
    assert [int(r["year"]) for r in trends] == list(range(2015, 2023))
    assert len(related) == 6
    assert {r["year"] for r in related} == {"2022"}


def test_cluster_page_lists_organisations_of_its_industries(obs, create_user, create_org):
    # agrifood is NACE divisions 01, 03, 10, 11, 12 … in the demo definitions: A01.1 is one of
    # its industries, J62 is not
    manager = create_user()
    create_org(manager, status="published", name="Green Farms Cluster", nace=["A01.1"])
    create_org(manager, status="published", name="Software Cluster", nace=["J62"])

    html, _ = get_page(obs, f"{DATASET}/clusters/agrifood")

    assert "Green Farms Cluster" in html
    assert "Software Cluster" not in html
    assert "cannot be matched" not in html


def test_organisations_of_a_cluster_match_sector_prefixes(session, create_user, create_org):
    manager = create_user()
    battery = create_org(manager, status="published", name="Battery Cluster", nace=["C27.2"])
    create_org(manager, status="published", name="Software Cluster", nace=["J62"])
    create_org(manager, status="draft", name="Draft Electrical Cluster", nace=["C27"])

    found = cluster_organisations(session, ["27", "28"])
    by_letter = cluster_organisations(session, ["C27"])

    assert [o.name for o in found] == [battery.name]
    assert [o.name for o in by_letter] == [battery.name]
    assert cluster_organisations(session, ["2_"]) == []  # LIKE wildcards are escaped


# ---- compare --------------------------------------------------------------------------------


def test_compare_two_regions_side_by_side(obs, reference):
    html, page = get_page(obs, f"{DATASET}/compare?region=DE11&region=ITC4&year=2020")

    clusters = rows_of(reference["clusters"], year=2020)
    cells = re.findall(
        r'<td class="num" data-region="(\w+)" data-col="lq" data-value="([^"]+)"', html
    )
    expected = {
        (str(r), c): v
        for r, c, v in zip(clusters["region"], clusters["cluster"], clusters["lq"], strict=True)
        if str(r) in ("DE11", "ITC4")
    }
    assert len(cells) == len(expected)
    assert sorted(float(v) for _, v in cells) == pytest.approx(sorted(expected.values()))
    indices = rows_of(reference["regions"], year=2020).set_index("region")
    for code in ("DE11", "ITC4"):
        value = re.search(
            rf'data-region="{code}" data-col="entropy" data-value="([^"]+)"', html
        ).group(1)
        assert float(value) == pytest.approx(indices.at[code, "entropy"], rel=1e-15)
    chart = page.json["obs-charts"]["lq"]
    assert [s["name"] for s in chart["series"]] == ["Stuttgart (DE11)", "Lombardia (ITC4)"]
    rows = read_csv(obs, f"{DATASET}/compare.csv?region=DE11&region=ITC4&year=2020")
    assert {(r["region"], r["cluster"]): float(r["lq"]) for r in rows} == pytest.approx(expected)
    rows = read_csv(obs, f"{DATASET}/compare.csv?region=DE11&region=ITC4&year=2020&table=indices")
    assert [r["region"] for r in rows] == ["DE11", "ITC4"]
    assert [float(r["hoover"]) for r in rows] == [indices.at[c, "hoover"] for c in ("DE11", "ITC4")]


@pytest.mark.parametrize(
    ("query", "status", "text"),
    [
        ("", 200, "Choose two to five regions"),
        ("?region=DE11", 200, "Choose two to five regions"),
        ("?region=DE11&region=lombardia", 200, 'data-region="ITC4" data-col="lq"'),
        ("?region=DE11&region=XX99", 400, "region: the dataset has no region XX99"),
        (
            "?" + "&".join(f"region={c}" for c in ["DE11", "DE21", "AT13", "FRK2", "PL21", "ES51"]),
            400,
            "compare at most 5 regions",
        ),
    ],
)
def test_compare_needs_two_to_five_known_regions(obs, query, status, text):
    response = obs.get(f"{DATASET}/compare{query}")

    assert response.status_code == status
    assert text in response.text


# ---- report ---------------------------------------------------------------------------------


def test_report_html_is_printable_with_the_top_clusters(obs, reference):
    html, page = get_page(obs, f"{DATASET}/regions/SE23/report?year=2022")

    expected = ranked(rows_of(reference["clusters"], year=2022, region="SE23")).head(10)
    chart = page.json["obs-charts"]["top"]
    assert chart["kind"] == "bars"
    assert chart["categories"] == list(expected["cluster_name"].astype(str))
    assert chart["series"][0]["values"] == pytest.approx(list(expected["lq"]), rel=1e-15)
    assert "data-print" in html
    assert "obs-page-break" in html
    assert "Västsverige" in html


def pdf_title(data: bytes) -> str:
    """The /Title of a PDF's document information (literal or UTF-16 hex string)."""
    match = re.search(rb"/Title\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f]+>)", data)
    assert match is not None, "the PDF has no /Title"
    raw = match.group(1)
    if raw.startswith(b"<"):
        return bytes.fromhex(raw[1:-1].decode()).decode("utf-16")
    text = re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    if text.startswith(b"\xfe\xff"):
        return text.decode("utf-16")
    return text.decode("latin-1")


@pytest.mark.parametrize(("code", "name"), [("DE11", "Stuttgart"), ("PL21", "Małopolskie")])
def test_report_pdf_is_a_pdf_naming_the_region(obs, code, name):
    response = obs.get(f"{DATASET}/regions/{code}/report.pdf?year=2022")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert pdf_title(response.content) == f"{name} ({code}): cluster profile 2022"
    assert response.content.count(b"/Type /Page\n") + response.content.count(b"/Type /Page>") >= 1


# ---- errors, CSV safety ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/observatory/nope", 404, "There is no dataset “nope”."),
        ("/observatory/nope/regions/DE11", 404, "There is no dataset “nope”."),
        (f"{DATASET}/regions/XX99", 404, "has no region “XX99”"),
        (f"{DATASET}/regions/XX99/report.pdf", 404, "has no region “XX99”"),
        (f"{DATASET}/regions/XX99/clusters.csv", 404, "has no region “XX99”"),
        (f"{DATASET}/clusters/nothing", 404, "has no cluster “nothing”"),
        (f"{DATASET}/clusters/nothing/regions.csv", 404, "has no cluster “nothing”"),
        (f"{DATASET}?year=1999", 400, "year: the dataset has the years 2015–2022, not 1999"),
        (f"{DATASET}?indicator=bogus", 400, "indicator: choose one of"),
        (f"{DATASET}?cluster=bogus", 400, "cluster: the dataset has no cluster"),
        (f"{DATASET}?level=county", 400, "level: the dataset has the region levels nuts2"),
        (f"{DATASET}/regions/DE11?x=bogus", 400, "x: choose one of"),
        (f"{DATASET}/clusters/energy?indicator=krugman", 400, "indicator: choose one of"),
    ],
)
def test_unknown_and_bad_choices(obs, path, status, text):
    response = obs.get(path)

    assert response.status_code == status
    assert text in response.text


def test_csv_text_cells_are_neutralised(make_client, settings, tmp_path, demo):
    store = ObservatoryStore(tmp_path)
    names = demo_regions().assign(name=lambda f: f["name"].where(f["region"] != "AT13", "=1+2"))
    store.load_dataset("evil", *demo, region_names=names)
    client = make_client(settings.model_copy(update={"observatory_dir": tmp_path}))

    rows = read_csv(client, "/observatory/evil/map.csv?indicator=krugman")

    assert [r["name"] for r in rows if r["region"] == "AT13"] == ["'=1+2"]


def test_pages_need_no_sign_in_and_keep_the_navigation(obs):
    html, _ = get_page(obs, f"{DATASET}/clusters/agrifood")

    assert '<a href="/observatory">Observatory</a>' in html
    assert '<script src="/static/js/observatory.js" defer></script>' in html


def test_a_reloaded_dataset_is_shown_by_the_running_app(make_client, settings, tmp_path, demo):
    store = ObservatoryStore(tmp_path)
    store.load_dataset("live", *demo, title="First load")
    client = make_client(settings.model_copy(update={"observatory_dir": tmp_path}))
    before = client.get("/observatory/live")

    store.load_dataset("live", *demo, title="Second load")
    after = client.get("/observatory/live")

    assert "First load" in before.text
    assert "Second load" in after.text
    assert "First load" not in after.text


def test_a_dataset_of_one_year_has_no_dynamics_and_says_so(make_client, settings, tmp_path):
    frame = demo_panel_frame(2024)
    panel = Panel.from_frame(frame[frame["year"] == 2022])
    ObservatoryStore(tmp_path).load_dataset("one", panel, demo_inputs()[1], title="One year")
    client = make_client(settings.model_copy(update={"observatory_dir": tmp_path}))

    html, _ = get_page(client, "/observatory/one")
    region, page = get_page(client, "/observatory/one/regions/DE11")
    get_page(client, "/observatory/one/clusters/energy")
    growth = client.get("/observatory/one?indicator=growth_cagr")

    assert 'value="growth_cagr"' not in html
    assert growth.status_code == 400
    assert "indicator: the dataset has no growth_cagr in its clusters table" in growth.text
    assert "the dataset has a single year" in region
    assert (
        "bubble" not in page.json["obs-charts"] or not page.json["obs-charts"]["bubble"]["points"]
    )
    assert len(page.rows("clusters")) > 0


def test_cluster_totals_are_prepared_when_a_dataset_version_is_first_read(tmp_path, demo):
    from clusteratlas.web.pages.observatory_data import (
        _cluster_totals,
        _colocation,
        cluster_trends,
        load_dataset,
        related_clusters,
    )

    store = ObservatoryStore(tmp_path)
    store.load_dataset("warm", *demo, title="Warm")
    totals, colocation = _cluster_totals.cache_info(), _colocation.cache_info()

    ds = load_dataset(store, "warm")
    assert ds.warming is not None
    ds.warming.join(timeout=60)
    warmed = _cluster_totals.cache_info(), _colocation.cache_info()
    code = str(ds.clusters["code"].iloc[0])
    cluster_trends(ds, code)
    related_clusters(ds, code, ds.info.years[-1])
    paged = _cluster_totals.cache_info(), _colocation.cache_info()

    # computed once by the warm-up, then found by the page
    assert warmed[0].misses == totals.misses + 1
    assert warmed[1].misses == colocation.misses + 1
    assert paged[0].misses == warmed[0].misses
    assert paged[0].hits == warmed[0].hits + 1
    assert paged[1].misses == warmed[1].misses
    assert paged[1].hits == warmed[1].hits + 1
