"""The observatory pages (issue 7) in a real browser: Debian's Chromium driven by Playwright
against ``clusteratlas serve`` on a free port of 127.0.0.1, with the US-states demo dataset
(``us_states_panel_frame`` over the bundled us-atlas states) and the us-atlas state shapes
loaded into a temporary observatory store.

Each page type is opened: the datasets, a dataset's home with its map, a region profile, a
cluster page, compare and the printable report. The map must have drawn every state (the
features MapLibre rendered, their colour classes, and pixels of the canvas that are not
background); the ECharts charts must hold the values of the observatory's own tables, computed
here from the same panel (``cluster_table``, ``region_indices``), not read through the store or
the pages. Every request a page makes must go to the test server; the console must show no
error or CSP violation; the PNG, SVG and CSV downloads are clicked and their files read.
Full-page screenshots go to ``test-artifacts/e2e-observatory/``.

Needs ``/usr/bin/chromium`` (``make system``), Playwright (the ``dev`` extra) and the us-atlas
file that ``make static`` copies.
"""

from __future__ import annotations

import csv
import io
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from clusteratlas.cli.load import US_ATLAS_DIR
from clusteratlas.observatory import ClusterDefinitions, Panel, cluster_table, region_indices
from clusteratlas.sources.store import ObservatoryStore
from clusteratlas.sources.synthetic import (
    demo_definitions,
    demo_panel_frame,
    demo_regions,
    us_atlas_states,
    us_states_panel_frame,
)
from e2e.test_journey import (
    SECRET,
    Visit,
    browser,  # noqa: F401 - a fixture, used by name
    free_port,
    wait_until_answering,
)

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e-observatory"
STATES_FILE = US_ATLAS_DIR / "states-10m.json"
NAME = "us-states-demo"
TITLE = "US states demo (synthetic)"
LQ_BREAKS = (0.5, 0.8, 1.25, 2.0)  # the fixed LQ classes of docs/observatory-web.md
BACKGROUND = (0xEE, 0xF2, 0xF6)  # the map's background colour (no base map)

if not STATES_FILE.exists():
    pytest.skip(f"{STATES_FILE} is missing: run `make static`", allow_module_level=True)


# ---- the data and the server -----------------------------------------------------------------


@pytest.fixture(scope="module")
def reference() -> dict[str, object]:
    """The panel, and the observatory's own tables for it (dynamics from the first year)."""
    states = us_atlas_states(STATES_FILE)
    panel = Panel.from_frame(us_states_panel_frame(states))
    definitions = ClusterDefinitions.from_frame(demo_definitions())
    return {
        "states": states,
        "panel": panel,
        "definitions": definitions,
        "clusters": cluster_table(panel, definitions, base_year=panel.years[0]),
        "regions": region_indices(panel, definitions),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, reference) -> Iterator[str]:
    """The base URL of ``clusteratlas serve`` on a migrated SQLite file, with the US-states
    dataset and the us-atlas state shapes in its observatory store."""
    from clusteratlas.collaboration.db import make_engine, upgrade

    folder = tmp_path_factory.mktemp("e2e-observatory")
    database_url = f"sqlite:///{folder / 'atlas.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    store = ObservatoryStore(folder / "observatory")
    store.load_dataset(
        NAME,
        reference["panel"],
        reference["definitions"],
        title=TITLE,
        source="us-states-panel.csv",
        region_names=reference["states"],
    )
    store.load_dataset(
        "eu-demo",
        Panel.from_frame(demo_panel_frame()),
        reference["definitions"],
        title="EU NUTS-2 demo (synthetic)",
        region_names=demo_regions(),
    )
    store.load_geometry(
        STATES_FILE,
        level="state",
        objects=["states"],
        attribution="US Census Bureau cartographic boundaries, via us-atlas (ISC licence)",
    )

    port = free_port()
    env = {
        **os.environ,
        "CLUSTERATLAS_ENVIRONMENT": "test",
        "CLUSTERATLAS_DATABASE_URL": database_url,
        "CLUSTERATLAS_SECRET_KEY": SECRET,
        "CLUSTERATLAS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CLUSTERATLAS_MAIL_ENABLED": "false",
        "CLUSTERATLAS_OBSERVATORY_DIR": str(folder / "observatory"),
    }
    log = folder / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from clusteratlas.cli import main; main()", "serve"]
            + ["--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # a minute for the start: the machine may be busy
        wait_until_answering(f"{base}/observatory", process, log, seconds=60)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ObservatoryVisit(Visit):
    """A :class:`Visit` that records every request and whose screenshots go to
    ``test-artifacts/e2e-observatory/``."""

    shot = 0

    def __init__(self, chromium, base: str) -> None:
        super().__init__(chromium, base)
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))

    def snap(self, name: str) -> None:
        ObservatoryVisit.shot += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{ObservatoryVisit.shot:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=True)

    def close(self) -> None:
        host = urlsplit(self.base).netloc
        elsewhere = [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != host
        ]
        assert elsewhere == [], f"requests to other hosts: {elsewhere}"
        assert any(url.startswith(self.base) for url in self.requests)
        super().close()


@pytest.fixture
def visit(browser, server) -> Iterator[ObservatoryVisit]:  # noqa: F811 - the fixture
    v = ObservatoryVisit(browser, server)
    try:
        yield v
    finally:
        v.close()


# ---- helpers ---------------------------------------------------------------------------------


def charts(visit: Visit) -> dict[str, dict]:
    """Each drawn chart's figures (what the page passed) and the option ECharts holds."""
    visit.page.wait_for_function("() => window.clusterAtlasCharts !== undefined")
    return visit.page.evaluate(
        """() => {
          const out = {};
          for (const [id, entry] of Object.entries(window.clusterAtlasCharts)) {
            const option = echarts.getInstanceByDom(entry.element).getOption();
            out[id] = {
              data: entry.data,
              drawn: entry.element.dataset.drawn === "true",
              svg: entry.element.querySelectorAll("svg path, svg circle").length,
              series: option.series.map((s) => ({name: s.name, type: s.type, data: s.data})),
              xAxis: option.xAxis.map((a) => a.data || null),
              yAxis: option.yAxis.map((a) => a.data || null),
            };
          }
          return out;
        }"""
    )


def rendered_map(visit: Visit) -> dict:
    """Wait for the map's style, then what MapLibre drew: the codes and colour classes of the
    rendered region features, and the shapes it was given."""
    visit.page.wait_for_selector("#obs-map[data-map-ready]", timeout=20_000)
    visit.page.wait_for_function("() => window.clusterAtlasMap.map.loaded()", timeout=20_000)
    return visit.page.evaluate(
        """() => {
          const {map, data, features} = window.clusterAtlasMap;
          const drawn = map.queryRenderedFeatures({layers: ["regions-fill"]});
          const classes = {};
          drawn.forEach((f) => { classes[f.properties.code] = f.properties.cls; });
          return {classes, features, data_classes: data.classes, label: data.label,
                  attribution: data.attribution};
        }"""
    )


def map_pixels(visit: Visit) -> np.ndarray:
    """The map element as it appears on screen (RGB)."""
    from PIL import Image

    png = visit.page.locator("#obs-map").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def assert_map_painted(pixels: np.ndarray) -> None:
    """A good part of the map is painted in several colours, not just its background."""
    flat = pixels.reshape(-1, 3)
    background = (np.abs(flat.astype(int) - BACKGROUND).sum(axis=1) <= 6).mean()
    colours = {tuple(p) for p in flat[:: max(1, len(flat) // 20_000)]}
    assert background < 0.9, f"{background:.0%} of the map is background"
    assert 1 - background > 0.08
    assert len(colours) >= 5, colours


def lq_class(lq: float) -> int:
    return int(np.searchsorted(LQ_BREAKS, lq, side="right"))


def close(a: object, b: object, rel: float = 1e-9) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None and (b is None or math.isnan(b))
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-12)


def download(visit: Visit, selector: str) -> tuple[str, bytes]:
    """Click a download button or link; the suggested file name and the content."""
    with visit.page.expect_download() as info:
        visit.page.click(selector)
    item = info.value
    path = item.path()
    assert path is not None, item.failure()
    return item.suggested_filename, Path(path).read_bytes()


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def chart_downloads(visit: Visit, chart: str) -> None:
    """The chart's PNG and SVG buttons give a real image of the chart."""
    name, png = download(visit, f'button[data-download="png"][data-chart-id="{chart}"]')
    assert name.endswith(f"-{chart}.png"), name
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5_000
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.width >= 600  # twice the pixel density
    assert image.height >= 300
    name, svg = download(visit, f'button[data-download="svg"][data-chart-id="{chart}"]')
    assert name.endswith(f"-{chart}.svg"), name
    text = svg.decode("utf-8")
    assert text.lstrip().startswith("<svg")
    assert text.count("<path") > 10


# ---- the pages -------------------------------------------------------------------------------


def test_datasets_page_lists_the_dataset_and_its_csv(visit: ObservatoryVisit, reference) -> None:
    visit.goto("/observatory")
    assert visit.h1() == "Observatory"
    main = visit.page.locator("main").inner_text()
    for text in (TITLE, "EU NUTS-2 demo (synthetic)", "51", "2015"):
        assert text in main
    visit.snap("datasets")
    name, content = download(visit, 'a.obs-download[href="/observatory/datasets.csv"]')
    assert name.endswith(".csv")
    rows = csv_rows(content)
    assert sorted(r.get("name") for r in rows) == ["eu-demo", NAME], rows
    assert {r["name"]: r["title"] for r in rows}[NAME] == TITLE
    visit.page.click(f'main a:has-text("{TITLE}")')
    visit.page.wait_for_url(f"**/observatory/{NAME}")


def test_dataset_home_maps_every_state_in_its_lq_class(visit: ObservatoryVisit, reference) -> None:
    year, cluster = 2022, "digital"
    visit.goto(f"/observatory/{NAME}?indicator=lq&cluster={cluster}&year={year}")
    assert visit.h1() == TITLE
    drawn = rendered_map(visit)
    clusters = reference["clusters"]
    rows = clusters[(clusters["year"] == year) & (clusters["cluster"] == cluster)]
    expected = {str(r): lq_class(lq) for r, lq in zip(rows["region"], rows["lq"], strict=True)}
    assert len(expected) == 51
    assert drawn["features"] == 51  # the 50 states and DC (the store has 56 shapes)
    assert drawn["classes"] == expected  # every state drawn, in the colour class of its LQ
    assert len(set(expected.values())) >= 3
    assert "us-atlas" in drawn["attribution"]
    assert "us-atlas" in visit.page.locator(".maplibregl-ctrl-attrib").inner_text()
    assert_map_painted(map_pixels(visit))
    # the ranking beside the map: the first rows, by LQ, with the observatory's values
    top = rows.sort_values("lq", ascending=False).head(10)
    cells = visit.page.locator('table.obs-data td[data-col="value"]')
    shown = [float(cells.nth(k).get_attribute("data-value")) for k in range(10)]
    assert np.allclose(shown, top["lq"].to_numpy(float), rtol=1e-6)
    visit.snap("dataset-home-lq-digital")

    name, content = download(visit, "a.obs-download")
    assert name.endswith(".csv")
    table = csv_rows(content)
    assert len(table) == 51
    by_region = {r["region"]: r for r in table}
    lq_of = dict(zip(rows["region"].astype(str), rows["lq"], strict=True))
    assert all(close(float(by_region[c]["lq"]), lq_of[c], 1e-6) for c in lq_of)

    # changing the cluster applies at once (no Show button) and keeps the choice in the URL
    with visit.page.expect_navigation():
        visit.page.select_option("select[name=cluster]", "finance")
    assert "cluster=finance" in visit.page.url
    drawn = rendered_map(visit)
    rows = clusters[(clusters["year"] == year) & (clusters["cluster"] == "finance")]
    assert drawn["classes"] == {
        str(r): lq_class(lq) for r, lq in zip(rows["region"], rows["lq"], strict=True)
    }


def test_region_profile_charts_hold_the_observatorys_values(
    visit: ObservatoryVisit, reference
) -> None:
    code, last = "06", reference["panel"].years[-1]
    visit.goto(f"/observatory/{NAME}/regions/{code}")
    assert visit.h1().startswith("California")
    drawn = charts(visit)
    assert {"bubble", "specialisation", "employment"} <= drawn.keys()
    assert all(c["drawn"] and c["svg"] > 5 for c in drawn.values())

    clusters = reference["clusters"]
    mine = clusters[(clusters["year"] == last) & (clusters["region"] == code)]
    mine = mine.set_index(mine["cluster"].astype(str))
    points = {}
    for series in drawn["bubble"]["series"]:
        for x, y, size, _name, cluster in series["data"]:
            points[cluster] = (series["name"], x, y, size)
    assert points.keys() == set(mine.index)
    for cluster, (quadrant, x, y, size) in points.items():
        row = mine.loc[cluster]
        assert quadrant == row["quadrant"], cluster
        assert close(x, row["lq_change"]), cluster
        assert close(y, row["lq"]), cluster
        assert close(size, row["employment"]), cluster

    regions = reference["regions"]
    indices = regions[regions["region"] == code].sort_values("year")
    lines = {s["name"]: s["data"] for s in drawn["specialisation"]["series"]}
    assert set(lines) == {"Krugman index", "Hoover coefficient", "Herfindahl index"}
    for label, column in [
        ("Krugman index", "krugman"),
        ("Hoover coefficient", "hoover"),
        ("Herfindahl index", "herfindahl"),
    ]:
        assert np.allclose(lines[label], indices[column].to_numpy(float), rtol=1e-9)
    assert drawn["specialisation"]["xAxis"][0] == [str(y) for y in indices["year"]]
    employment = drawn["employment"]["series"][0]["data"]
    assert np.allclose(employment, indices["employment"].to_numpy(float))
    visit.snap("region-06")

    chart_downloads(visit, "bubble")
    name, content = download(
        visit, f'a.obs-download[href^="/observatory/{NAME}/regions/{code}/clusters.csv"]'
    )
    assert name.endswith(".csv")
    rows = csv_rows(content)
    assert {r["cluster"] for r in rows} == set(mine.index)
    assert all(close(float(r["lq"]), mine.loc[r["cluster"], "lq"], 1e-6) for r in rows)

    # the x-axis choice applies at once and is kept in the URL
    with visit.page.expect_navigation():
        visit.page.select_option("select[name=x]", "growth_cagr")
    assert "x=growth_cagr" in visit.page.url
    drawn = charts(visit)
    xs = {p[4]: p[0] for s in drawn["bubble"]["series"] for p in s["data"]}
    assert all(close(xs[c], mine.loc[c, "growth_cagr"]) for c in xs)


def test_cluster_page_map_and_trends(visit: ObservatoryVisit, reference) -> None:
    cluster, last = "digital", reference["panel"].years[-1]
    visit.goto(f"/observatory/{NAME}/clusters/{cluster}")
    assert visit.h1().startswith("Digital industries")
    clusters = reference["clusters"]
    mine = clusters[clusters["cluster"] == cluster]
    drawn = rendered_map(visit)
    now = mine[mine["year"] == last]
    assert drawn["classes"] == {
        str(r): lq_class(lq) for r, lq in zip(now["region"], now["lq"], strict=True)
    }
    assert_map_painted(map_pixels(visit))

    trends = charts(visit)["trends"]
    by_year = mine.groupby("year", observed=True)[["employment", "payroll"]].sum()
    series = {s["name"]: s["data"] for s in trends["series"]}
    assert np.allclose(series["Employment"], by_year["employment"].to_numpy(float))
    wage = (by_year["payroll"] / by_year["employment"]).to_numpy(float)
    ratio = np.asarray(series["Average wage"], float) / wage  # the page's unit is its own
    assert np.allclose(ratio, ratio[0], rtol=1e-9)
    assert trends["xAxis"][0] == [str(y) for y in by_year.index]

    # the top regions table: the 20 largest by employment, largest first
    top = now.sort_values("employment", ascending=False).head(20)
    table = visit.page.locator("table.obs-data").first
    links = table.locator('td[data-col="name"] a').evaluate_all(
        "links => links.map((a) => a.getAttribute('href'))"
    )
    assert [link.rsplit("/", 1)[-1] for link in links] == list(top["region"].astype(str))
    shown = [
        float(v)
        for v in table.locator('td[data-col="employment"]').evaluate_all(
            "cells => cells.map((c) => c.dataset.value)"
        )
    ]
    assert np.allclose(shown, top["employment"].to_numpy(float))
    visit.snap("cluster-digital")
    chart_downloads(visit, "trends")

    # clicking a state on the map opens its profile
    visit.page.locator("#obs-map").scroll_into_view_if_needed()
    box = visit.page.locator("#obs-map").bounding_box()
    point = visit.page.evaluate(
        """() => {
          const map = window.clusterAtlasMap.map;
          const p = map.project([-99.5, 31.5]);  // inside Texas
          return [p.x, p.y];
        }"""
    )
    with visit.page.expect_navigation():
        visit.page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    assert visit.page.url.split("?")[0].endswith(f"/observatory/{NAME}/regions/48")


def test_compare_page_bars_and_lines(visit: ObservatoryVisit, reference) -> None:
    codes, last = ["06", "48", "36"], reference["panel"].years[-1]
    visit.goto(f"/observatory/{NAME}/compare?" + "&".join(f"region={c}" for c in codes))
    assert "Compare" in visit.h1()
    drawn = charts(visit)
    clusters = reference["clusters"]
    now = clusters[clusters["year"] == last]
    lq = now.pivot_table(index="cluster_name", columns="region", values="lq", observed=True)
    bars = drawn["lq"]
    categories = bars["yAxis"][0]
    assert len(categories) == 10
    top10 = lq[codes].max(axis=1).sort_values(ascending=False).head(10)
    assert set(categories) == set(top10.index.astype(str))
    names = dict(zip(reference["states"]["region"], reference["states"]["name"], strict=True))
    assert [s["name"] for s in bars["series"]] == [f"{names[c]} ({c})" for c in codes]
    for series, code in zip(bars["series"], codes, strict=True):
        expected = [lq.loc[name, code] for name in categories]
        assert np.allclose(series["data"], expected, rtol=1e-9), code

    regions = reference["regions"]
    for series, code in zip(drawn["employment"]["series"], codes, strict=True):
        mine = regions[regions["region"] == code].sort_values("year")
        assert np.allclose(series["data"], mine["employment"].to_numpy(float)), code
    visit.snap("compare-06-48-36")
    chart_downloads(visit, "lq")
    link = f'a.obs-download[href^="/observatory/{NAME}/compare.csv"]'
    name, content = download(visit, f'{link}[href*="table=indices"]')
    assert name.endswith(".csv")
    indices = regions[regions["year"] == last]
    indices = indices.set_index(indices["region"].astype(str))
    for r in csv_rows(content):
        assert close(float(r["krugman"]), indices.loc[r["region"], "krugman"]), r
    name, content = download(visit, f'{link}:not([href*="table=indices"])')
    assert name.endswith(".csv")
    rows = csv_rows(content)
    assert {r["region"] for r in rows} == set(codes)
    lq_of = now.set_index([now["region"].astype(str), now["cluster"].astype(str)])["lq"]
    assert len(rows) == len(codes) * len(set(now["cluster"]))
    for r in rows:
        assert close(float(r["lq"]), lq_of[(r["region"], r["cluster"])], 1e-9), r


def test_report_prints_and_has_its_pdf(visit: ObservatoryVisit, reference) -> None:
    code, last = "36", reference["panel"].years[-1]
    visit.goto(f"/observatory/{NAME}/regions/{code}/report")
    assert "New York" in visit.h1()
    drawn = charts(visit)
    clusters = reference["clusters"]
    mine = clusters[(clusters["year"] == last) & (clusters["region"] == code)]
    lq_of = dict(zip(mine["cluster_name"].astype(str), mine["lq"], strict=True))
    top = drawn["top"]
    assert top["series"][0]["data"] == pytest.approx([lq_of[n] for n in top["yAxis"][0]])
    assert len(top["yAxis"][0]) == 10
    assert visit.page.locator("[data-print]").count() == 1
    visit.snap("report-36")
    # printed: the navigation and the controls are hidden, the charts still there
    visit.page.emulate_media(media="print")
    assert not visit.page.locator("header nav, nav.site-nav").first.is_visible()
    assert not visit.page.locator("[data-print]").is_visible()
    assert visit.page.locator("[data-chart=top] svg").is_visible()
    visit.page.emulate_media(media="screen")
    response = visit.page.request.get(f"{visit.base}/observatory/{NAME}/regions/{code}/report.pdf")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF-")


def test_a_dataset_without_shapes_shows_the_ranked_table(visit: ObservatoryVisit) -> None:
    """The EU demo's level (NUTS 2) has no shapes in the store (GISCO's are not bundled): the
    page says so and ranks the regions in a table instead of a map."""
    visit.goto("/observatory/eu-demo?indicator=lq&cluster=digital")
    assert visit.page.locator("#obs-map").count() == 0
    notice = visit.page.locator(".obs-no-map").inner_text()
    assert "No region shapes" in notice
    assert "nuts2" in notice
    assert visit.page.locator("table.obs-data tbody tr").count() == 90
    visit.snap("eu-demo-no-shapes")
