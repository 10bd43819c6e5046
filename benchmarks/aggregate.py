"""Benchmark: region × industry × year panels from establishment microdata (issue #8).

Generates ``--rows`` establishment rows (default 50 million) into Parquet files of one million
rows each in a temporary folder (chunk by chunk, so generation memory stays bounded): 5 years,
~1,000 NUTS-3 regions in 25 countries, ~600 NACE classes, skewed sizes, establishment and firm
ids, payroll. Then, each in its own fresh process (so peak memory is that process's maximum
resident set, plus the JVM's for Spark), the same job: roll up to NUTS-2 × NACE division, sum
employment and payroll, count distinct establishments, find each cell's largest firm:

- ``ours``: ``clusteratlas.sources.microdata.aggregate`` on DuckDB (the ibis expression, the
  distinct-code pass for the roll-up maps, and primary + complementary suppression);
- ``duckdb-sql``: the same aggregation hand-written in DuckDB SQL on the same files (baseline:
  the obvious query, ``COUNT(DISTINCT establishment_id)`` per firm and cell);
- ``duckdb-sql-tuned``: the hand-written query with ours' two tricks (integer ids of the
  ancestors from the join, one group per establishment instead of ``COUNT(DISTINCT)``);
- ``pandas``: a plain pandas groupby of the same columns (read, map ancestors, two groupbys);
- ``spark``: ours on PySpark in local mode (all cores);
- ``ours-2GB``: ours on DuckDB with ``memory_limit=2GB``;
- ``ours-1-thread``: ours on one DuckDB thread (what a core does, against pandas' one).

Targets: ours ≤ 1.3× the hand-written DuckDB GROUP BY, ≥ 4× faster than pandas, peak ≤ 2 GB
with ``--memory-limit 2GB``.

    .venv/bin/python benchmarks/aggregate.py [--rows 50000000] [--skip spark,pandas]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHUNK = 1_000_000
YEARS = (2019, 2020, 2021, 2022, 2023)
SEED = 8
METHODS = ("ours", "duckdb-sql", "duckdb-sql-tuned", "pandas", "spark", "ours-2GB", "ours-1-thread")
REGION_LEVEL, INDUSTRY_LEVEL = 2, 2
MIN_ESTABLISHMENTS, DOMINANCE = 3, 0.85


def code_pools(rng):  # noqa: ANN001, ANN201 - benchmark helper
    """~1,000 NUTS-3 codes and ~600 NACE classes (valid shapes, so the hierarchies apply)."""
    from clusteratlas.observatory.hierarchy import NACE_SECTIONS

    letters = "ABCDEFGHIJKLMNOPRSTUVWXYZ"
    regions = []
    for k in range(25):
        country = "E" + letters[k] if k % 2 else letters[k] + "X"
        for n1 in "123":
            for n2 in "1234":
                for n3 in "123"[: rng.integers(2, 4)] + "4" * (k % 3 == 0):
                    regions.append(f"{country}{n1}{n2}{n3}")
    divisions = [d for lo, hi in NACE_SECTIONS.values() for d in range(lo, hi + 1)]
    industries = sorted(
        {f"{d:02d}.{g}{c}" for d in divisions for g in "123" for c in "1234"[: rng.integers(1, 4)]}
    )
    return regions, industries


def generate(folder: Path, rows: int, seed: int = SEED) -> dict[str, float]:
    """Write ``rows`` establishment rows as Parquet files of ``CHUNK`` rows; returns totals."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    regions, industries = code_pools(rng)
    p_region = rng.pareto(1.2, len(regions)) + 0.05
    p_region /= p_region.sum()
    p_industry = rng.pareto(1.0, len(industries)) + 0.05
    p_industry /= p_industry.sum()
    establishments = max(rows // len(YEARS), 1)
    region_of = rng.choice(len(regions), establishments, p=p_region).astype(np.int32)
    industry_of = rng.choice(len(industries), establishments, p=p_industry).astype(np.int32)
    size_of = np.maximum(1, rng.lognormal(1.3, 1.3, establishments)).astype(np.int64)
    region_dict, industry_dict = pa.array(regions), pa.array(industries)
    total = 0.0
    for part, start in enumerate(range(0, rows, CHUNK)):
        n = min(CHUNK, rows - start)
        index = np.arange(start, start + n)
        est = index % establishments
        year = np.asarray(YEARS)[np.minimum(index // establishments, len(YEARS) - 1)]
        employees = np.maximum(1, size_of[est] + rng.integers(-1, 2, n))
        payroll = np.round(employees * rng.normal(42_000, 9_000, n).clip(15_000), 0)
        table = pa.table(
            {
                "year": pa.array(year, pa.int32()),
                "region": pa.DictionaryArray.from_arrays(pa.array(region_of[est]), region_dict),
                "industry": pa.DictionaryArray.from_arrays(
                    pa.array(industry_of[est]), industry_dict
                ),
                "employees": pa.array(employees, pa.int64()),
                "establishment_id": pa.array(est, pa.int64()),
                "firm_id": pa.array(est // 3, pa.int64()),
                "payroll": pa.array(payroll, pa.float64()),
            }
        )
        pq.write_table(table, folder / f"part-{part:04d}.parquet")
        total += float(employees.sum())
    return {"employment": total, "files": part + 1}


# ---------------------------------------------------------------------------- methods


def _maps(folder: Path):  # noqa: ANN202 - benchmark helper
    """The roll-up maps from the codes in the files (what ``aggregate`` builds too)."""
    import duckdb
    import pandas as pd

    from clusteratlas.sources.microdata import ancestor_map

    con = duckdb.connect()
    maps = {}
    for key, level in (("region", REGION_LEVEL), ("industry", INDUSTRY_LEVEL)):
        codes = con.sql(
            f"SELECT DISTINCT {key} AS code FROM read_parquet('{folder}/*.parquet')"
        ).df()
        codes["file"] = str(folder)
        maps[key] = ancestor_map(codes, dimension=key, level=level, scheme=None)
    con.close()
    return maps["region"], maps["industry"], pd


def run_ours(
    folder: Path, memory_limit: str | None = None, threads: int | None = None
) -> dict[str, float]:
    from clusteratlas.sources.microdata import aggregate

    result = aggregate(
        [f"{folder}/*.parquet"],
        region_level=REGION_LEVEL,
        industry_level=INDUSTRY_LEVEL,
        min_establishments=MIN_ESTABLISHMENTS,
        dominance_share=DOMINANCE,
        memory_limit=memory_limit,
        threads=threads,
    )
    return {"cells": result.cells, "withheld": result.primary + result.complementary}


def run_spark(folder: Path) -> dict[str, float]:
    from clusteratlas.sources.microdata import aggregate, start_spark

    session = start_spark("local[*]", config={"spark.driver.memory": "4g"})
    try:
        result = aggregate(
            [f"{folder}/*.parquet"],
            engine="spark",
            spark_session=session,
            region_level=REGION_LEVEL,
            industry_level=INDUSTRY_LEVEL,
            min_establishments=MIN_ESTABLISHMENTS,
            dominance_share=DOMINANCE,
        )
        jvm = session.sparkContext._gateway.proc.pid  # noqa: SLF001 - the JVM's peak memory
        jvm_gb = _vm_hwm_gb(jvm)
    finally:
        session.stop()
    return {"cells": result.cells, "jvm_gb": jvm_gb}


def run_duckdb_sql(folder: Path) -> dict[str, float]:
    import duckdb

    region_map, industry_map, _ = _maps(folder)
    con = duckdb.connect()
    con.register("rmap", region_map)
    con.register("imap", industry_map)
    cells = con.sql(
        f"""
        WITH firms AS (
          SELECT d.year, r.ancestor AS region, i.ancestor AS industry, d.firm_id,
                 sum(d.employees) AS e, count(DISTINCT d.establishment_id) AS n,
                 sum(d.payroll) AS p
          FROM read_parquet('{folder}/*.parquet') d
          LEFT JOIN rmap r ON d.region = r.code
          LEFT JOIN imap i ON d.industry = i.code
          GROUP BY ALL
        )
        SELECT year, region, industry, sum(e) AS employment, sum(n) AS establishments,
               sum(p) AS payroll, max(e) AS top_firm_employment
        FROM firms GROUP BY ALL
        """
    ).df()
    return {"cells": len(cells)}


def run_duckdb_sql_tuned(folder: Path) -> dict[str, float]:
    import duckdb

    region_map, industry_map, pd = _maps(folder)
    con = duckdb.connect()
    for name, m in (("rmap", region_map), ("imap", industry_map)):
        ids, labels = pd.factorize(m["ancestor"], sort=True)
        con.register(name, m.assign(id=ids))
        con.register(name + "_labels", pd.DataFrame({"id": range(len(labels)), "code": labels}))
    cells = con.sql(
        f"""
        WITH est AS (
          SELECT d.year, r.id AS rid, i.id AS iid, d.firm_id, d.establishment_id,
                 sum(d.employees) AS e, sum(d.payroll) AS p
          FROM read_parquet('{folder}/*.parquet') d
          LEFT JOIN rmap r ON d.region = r.code
          LEFT JOIN imap i ON d.industry = i.code
          GROUP BY ALL
        ), firms AS (
          SELECT year, rid, iid, firm_id, sum(e) AS e, count(*) AS n, sum(p) AS p
          FROM est GROUP BY ALL
        ), cells AS (
          SELECT year, rid, iid, sum(e) AS employment, sum(n) AS establishments,
                 sum(p) AS payroll, max(e) AS top_firm_employment
          FROM firms GROUP BY ALL
        )
        SELECT year, rl.code AS region, il.code AS industry, employment, establishments,
               payroll, top_firm_employment
        FROM cells JOIN rmap_labels rl ON rid = rl.id JOIN imap_labels il ON iid = il.id
        """
    ).df()
    return {"cells": len(cells)}


def run_pandas(folder: Path) -> dict[str, float]:
    import pandas as pd

    region_map, industry_map, _ = _maps(folder)
    frame = pd.read_parquet(folder)
    frame["region"] = frame["region"].map(
        dict(zip(region_map.code, region_map.ancestor, strict=True))
    )
    frame["industry"] = frame["industry"].map(
        dict(zip(industry_map.code, industry_map.ancestor, strict=True))
    )
    keys = ["year", "region", "industry"]
    firms = frame.groupby([*keys, "firm_id"], observed=True, sort=False).agg(
        e=("employees", "sum"), n=("establishment_id", "nunique"), p=("payroll", "sum")
    )
    cells = firms.groupby(level=keys, observed=True).agg(
        employment=("e", "sum"), establishments=("n", "sum"), payroll=("p", "sum"),
        top_firm_employment=("e", "max"),
    )  # fmt: skip
    return {"cells": len(cells)}


def _vm_hwm_gb(pid: int) -> float:
    """Peak resident memory of a live process (Linux ``VmHWM``), in GiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def _child(method: str, folder: str) -> None:
    path = Path(folder)
    start = time.perf_counter()
    if method == "ours":
        extra = run_ours(path)
    elif method == "ours-2GB":
        extra = run_ours(path, memory_limit="2GB")
    elif method == "ours-1-thread":
        extra = run_ours(path, threads=1)
    elif method == "duckdb-sql":
        extra = run_duckdb_sql(path)
    elif method == "duckdb-sql-tuned":
        extra = run_duckdb_sql_tuned(path)
    elif method == "pandas":
        extra = run_pandas(path)
    elif method == "spark":
        extra = run_spark(path)
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - start
    gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB → GiB
    print(json.dumps({"seconds": seconds, "gb": gb + extra.pop("jvm_gb", 0.0), **extra}))


def _run(method: str, folder: Path) -> dict[str, float]:
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(folder)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{method} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--skip", default="", help="methods to skip, comma-separated")
    parser.add_argument("--folder", type=Path, help="keep the generated files here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    import duckdb
    import ibis
    import pandas as pd

    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; duckdb {duckdb.__version__}, "
        f"ibis {ibis.__version__}, pandas {pd.__version__}; {args.rows:,} rows, seed {SEED}"
    )
    with tempfile.TemporaryDirectory(prefix="clusteratlas-bench-") as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        info = generate(folder, args.rows)
        os.sync()  # the files on disk before any method runs (else the first one shares the
        # disk with their write-back)
        size = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 1024**2
        print(
            f"generated {info['files']} Parquet files, {size:,.0f} MB, "
            f"in {time.perf_counter() - start:.1f} s"
        )
        results = {}
        print(f"{'method':>16} {'seconds':>9} {'peak GB':>8} {'cells':>9}")
        for method in METHODS:
            if method in skip:
                continue
            results[method] = r = _run(method, folder)
            print(f"{method:>16} {r['seconds']:9.2f} {r['gb']:8.2f} {r['cells']:9,}", flush=True)
    if "ours" in results and "duckdb-sql" in results:
        ratio = results["ours"]["seconds"] / results["duckdb-sql"]["seconds"]
        print(f"ours / hand-written DuckDB SQL: {ratio:.2f}× (target ≤ 1.3×)")
    if "ours" in results and "duckdb-sql-tuned" in results:
        ratio = results["ours"]["seconds"] / results["duckdb-sql-tuned"]["seconds"]
        print(f"ours / tuned DuckDB SQL: {ratio:.2f}×")
    if "ours" in results and "pandas" in results:
        speed = results["pandas"]["seconds"] / results["ours"]["seconds"]
        print(f"pandas / ours: {speed:.1f}× faster (target ≥ 4×)")
    if "ours-1-thread" in results and "pandas" in results:
        speed = results["pandas"]["seconds"] / results["ours-1-thread"]["seconds"]
        ratio = results["ours-1-thread"]["seconds"] / results["ours"]["seconds"]
        print(f"per core: pandas / ours on one thread: {speed:.1f}×; two threads: {ratio:.2f}× one")
    if "ours-2GB" in results:
        gb = results["ours-2GB"]["gb"]
        print(f"peak with --memory-limit 2GB: {gb:.2f} GB (target ≤ 2 GB)")
    cells = {r["cells"] for r in results.values()}
    print(f"same number of cells from every method: {len(cells) == 1}")


if __name__ == "__main__":
    main()
