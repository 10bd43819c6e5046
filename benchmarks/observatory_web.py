"""Benchmark: the observatory on the web at US-county scale (issue #7).

A random panel (``random_panel``: 3,200 regions × 1,000 industries × 10 years, ~60% of cells
zero, seed 7) is relabelled with the first 3,200 county FIPS codes of the bundled us-atlas
file (names from it too) and grouped into 67 clusters (51 traded, 16 local) by definitions
generated here. Then, in one process:

1. ``ObservatoryStore.load_dataset`` into a temporary store (every table; the county shapes are
   loaded as well), timed. Target ≤ 60 s.
2. The region page of 200 random counties and the cluster page of all 67 clusters, rendered
   server-side through the ASGI app in process (``TestClient``, page cache off, each URL
   once after a warm-up on other regions). Target p95 ≤ 100 ms.
3. Their JSON from the API (``/api/observatory/datasets/{name}/tables/clusters`` filtered by
   the region or the cluster and the last year; a cluster's 3,200 regions are the API's
   maximum page of 1,000). Target p95 ≤ 50 ms.

Baselines, measured in the same run on the same data: the same rows taken from the
observatory's in-memory ``clusters`` frame with a pandas boolean mask, and a bare DuckDB
``SELECT … WHERE region = ? AND year = ?`` on the dataset's file (no web layer, no JSON).

    .venv/bin/python benchmarks/observatory_web.py            # the issue's scale
    .venv/bin/python benchmarks/observatory_web.py --quick    # 400 counties, 200 industries
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from clusteratlas.cli.load import US_ATLAS_DIR  # noqa: E402
from clusteratlas.observatory import ClusterDefinitions, Panel  # noqa: E402
from clusteratlas.sources.store import ObservatoryStore  # noqa: E402
from clusteratlas.sources.synthetic import random_panel  # noqa: E402

NAME = "us-counties"
YEARS, ZERO_SHARE, SEED = 10, 0.6, 7
N_TRADED, N_LOCAL = 51, 16
TARGET_LOAD_S, TARGET_PAGE_MS, TARGET_JSON_MS = 60.0, 100.0, 50.0
#: the columns of the cluster page's table of regions
CLUSTER_PAGE_COLUMNS = (
    "region",
    "employment",
    "lq",
    "stars",
    "region_share",
    "growth_cagr",
    "wage",
)
SECRET = "benchmark-secret-key-that-is-long-enough-0123456789"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(name: str, ms: list[float]) -> str:
    cpu = CPU[name]
    return (
        f"  {name:<44} n={len(ms):>4}  p50 {statistics.median(ms):6.1f}  "
        f"p95 {percentile(ms, 95):6.1f}  max {max(ms):6.1f}  | CPU p50 "
        f"{statistics.median(cpu):6.1f}  p95 {percentile(cpu, 95):6.1f}"
    )


#: CPU milliseconds of the process (every thread: the app's, DuckDB's) per call, by case
CPU: dict[str, list[float]] = {}


#: wall-clock milliseconds per call, by case
WALL: dict[str, list[float]] = {}


def case(name: str, calls: list[Callable[[], object]]) -> None:
    """Time each call: wall clock to ``WALL[name]``, the process's CPU time to ``CPU[name]``."""
    wall, cpu = [], []
    for call in calls:
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    WALL[name], CPU[name] = wall, cpu


def counties(n: int) -> pd.DataFrame:
    """The first ``n`` counties of the bundled us-atlas file, by FIPS: ``region, name``."""
    path = US_ATLAS_DIR / "counties-10m.json"
    if not path.exists():
        sys.exit(f"error: {path} is missing; run `make static`")
    geometries = json.loads(path.read_text())["objects"]["counties"]["geometries"]
    frame = pd.DataFrame(
        [(str(g["id"]), g["properties"]["name"]) for g in geometries], columns=["region", "name"]
    )
    frame = frame.drop_duplicates("region").sort_values("region").head(n)
    if len(frame) < n:
        sys.exit(f"error: {path} has only {len(frame)} counties")
    return frame.reset_index(drop=True)


def county_panel(n_regions: int, n_industries: int) -> tuple[Panel, pd.DataFrame]:
    names = counties(n_regions)
    base = random_panel(n_regions, n_industries, YEARS, zero_share=ZERO_SHARE, seed=SEED)
    panel = Panel(
        years=base.years,
        regions=list(names["region"]),
        industries=list(base.industries),
        data={m: {y: base.matrix(m, y) for y in base.years} for m in base.measures},
    )
    return panel, names


def definitions(industries: pd.Index) -> ClusterDefinitions:
    """67 clusters of uneven size: each industry goes to a cluster drawn with weights."""
    rng = np.random.default_rng(SEED)
    codes = [f"T{k:02d}" for k in range(1, N_TRADED + 1)]
    codes += [f"L{k:02d}" for k in range(1, N_LOCAL + 1)]
    weights = rng.dirichlet(np.full(len(codes), 3.0))
    picks = rng.choice(len(codes), size=len(industries), p=weights)
    picks[: len(codes)] = np.arange(len(codes))  # every cluster has an industry
    frame = pd.DataFrame(
        {
            "industry": list(industries),
            "cluster": [codes[k] for k in picks],
            "cluster_name": [
                f"{'Traded' if codes[k][0] == 'T' else 'Local'} cluster {codes[k][1:]}"
                for k in picks
            ],
            "type": ["traded" if codes[k][0] == "T" else "local" for k in picks],
        }
    )
    return ClusterDefinitions.from_frame(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="400 counties × 200 industries")
    parser.add_argument("--regions", type=int, default=200, help="region pages to time")
    opts = parser.parse_args()
    n_regions, n_industries = (400, 200) if opts.quick else (3_200, 1_000)

    from fastapi.testclient import TestClient

    from clusteratlas.collaboration.db import make_engine, upgrade
    from clusteratlas.collaboration.settings import Settings
    from clusteratlas.web.app import create_app

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, duckdb {duckdb.__version__}, "
        f"pandas {pd.__version__}; {n_regions:,} counties × {n_industries:,} industries × "
        f"{YEARS} years, {ZERO_SHARE:.0%} zero cells, {N_TRADED + N_LOCAL} clusters, seed {SEED}"
    )
    start = time.perf_counter()
    panel, names = county_panel(n_regions, n_industries)
    defs = definitions(panel.industries)
    print(f"panel built in {time.perf_counter() - start:.1f} s: {panel!r}")

    with tempfile.TemporaryDirectory() as folder:
        store = ObservatoryStore(Path(folder) / "observatory")
        start = time.perf_counter()
        info = store.load_dataset(
            NAME, panel, defs, title="US counties (synthetic)", region_names=names
        )
        load_s = time.perf_counter() - start
        shapes = store.load_geometry(
            US_ATLAS_DIR / "counties-10m.json", level="county", objects=["counties"]
        )
        size_mb = store._path(NAME).stat().st_size / 1e6
        rows = store.count(NAME, "clusters")
        print(
            f"load_dataset: {load_s:.1f} s ({len(info.tables)} tables, {rows:,} rows in "
            f"clusters, file {size_mb:.0f} MB); {shapes:,} county shapes loaded"
        )
        for note in info.notes:
            print(f"  note: {note}")

        last = info.years[-1]
        rng = random.Random(SEED)
        regions = list(names["region"])
        picked = rng.sample(regions, min(opts.regions, len(regions)))
        warm = [r for r in regions if r not in set(picked)][:5]
        clusters = list(store.clusters(NAME)["code"])

        # baselines: the rows of one region (one cluster) in the last year, without the web
        frame = store.table(NAME, "clusters")
        path = store._path(NAME)
        case(
            "baseline pandas mask, region rows",
            [lambda r=r: frame[(frame["year"] == last) & (frame["region"] == r)] for r in picked],
        )
        case(
            "baseline pandas mask, cluster rows",
            [
                lambda c=c: frame[(frame["year"] == last) & (frame["cluster"] == c)]
                for c in clusters
            ],
        )
        with duckdb.connect(str(path), read_only=True) as con:
            sql = "SELECT * FROM clusters WHERE year = ? AND {} = ?"
            case(
                "baseline bare DuckDB, region rows",
                [lambda r=r: con.execute(sql.format("region"), [last, r]).df() for r in picked],
            )
            case(
                "baseline bare DuckDB, cluster rows",
                [lambda c=c: con.execute(sql.format("cluster"), [last, c]).df() for c in clusters],
            )

        database_url = f"sqlite:///{Path(folder) / 'atlas.db'}"
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        settings = Settings(
            environment="production",
            database_url=database_url,
            secret_key=SECRET,
            observatory_dir=Path(folder) / "observatory",
            page_cache_seconds=0,
        )
        with TestClient(create_app(settings)) as client:

            def get(url: str, kind: str) -> None:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                assert response.headers["content-type"].startswith(kind), url

            api = f"/api/observatory/datasets/{NAME}/tables/clusters"
            start = time.perf_counter()
            get(f"/observatory/{NAME}/clusters/{clusters[0]}", "text/html")
            first_cluster_ms = (time.perf_counter() - start) * 1000
            for r in warm:  # templates, imports, the dataset's regions and clusters
                get(f"/observatory/{NAME}/regions/{r}", "text/html")
                get(f"/observatory/{NAME}/clusters/{clusters[0]}", "text/html")
                get(f"{api}?region={r}&year={last}", "application/json")
            case(
                "region page (ASGI, in process)",
                [lambda r=r: get(f"/observatory/{NAME}/regions/{r}", "text/html") for r in picked],
            )
            case(
                "cluster page (ASGI, in process)",
                [
                    lambda c=c: get(f"/observatory/{NAME}/clusters/{c}", "text/html")
                    for c in clusters
                ],
            )
            case(
                "region JSON (API, in process)",
                [
                    lambda r=r: get(f"{api}?region={r}&year={last}", "application/json")
                    for r in picked
                ],
            )
            case(
                "cluster JSON (API, 1,000 rows, in process)",
                [
                    lambda c=c: get(f"{api}?cluster={c}&year={last}&limit=1000", "application/json")
                    for c in clusters
                ],
            )
            shown = "&".join(f"columns={c}" for c in CLUSTER_PAGE_COLUMNS)
            case(
                "cluster JSON (API, the page's 7 columns)",
                [
                    lambda c=c: get(
                        f"{api}?cluster={c}&year={last}&limit=1000&{shown}", "application/json"
                    )
                    for c in clusters
                ],
            )
            case(
                "dataset home with map data (ASGI)",
                [
                    lambda c=c: get(f"/observatory/{NAME}?cluster={c}&year={last}", "text/html")
                    for c in clusters[:20]
                ],
            )

    print(
        "\nin process (one client thread), milliseconds: wall clock, and the process's CPU time "
        "(all threads) per request"
    )
    for name, values in WALL.items():
        print(summary(name, values))
    print(
        f"  (the first cluster page after a load: {first_cluster_ms:.0f} ms, computing every "
        "cluster's totals and the co-location matrix once for the dataset's version)"
    )

    def p95(name: str) -> float:
        return percentile(WALL[name], 95)

    pages = max(p95("region page (ASGI, in process)"), p95("cluster page (ASGI, in process)"))
    jsons = max(
        p95("region JSON (API, in process)"), p95("cluster JSON (API, 1,000 rows, in process)")
    )
    region_page = p95("region page (ASGI, in process)")
    print(
        f"\nregion page p95: {region_page / p95('baseline bare DuckDB, region rows'):.0f}× a bare "
        f"DuckDB query of its rows, {region_page / p95('baseline pandas mask, region rows'):.0f}× "
        "a pandas mask on the in-memory frame"
    )
    ok = load_s <= TARGET_LOAD_S and pages <= TARGET_PAGE_MS and jsons <= TARGET_JSON_MS
    print(
        f"load {load_s:.1f} s (≤ {TARGET_LOAD_S:g} s), pages p95 {pages:.1f} ms "
        f"(≤ {TARGET_PAGE_MS:g} ms), JSON p95 {jsons:.1f} ms (≤ {TARGET_JSON_MS:g} ms) → "
        f"{'MET' if ok else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
