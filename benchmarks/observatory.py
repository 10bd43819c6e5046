"""Benchmark: the full clusters table at three panel sizes, against a plain pandas baseline.

Each scale (regions × industries, 10 years, ~60% of cells zero) is generated from a seed. For
each, one fresh process computes Cluster Atlas's `cluster_table` and another a straightforward
pandas groupby implementation of the same table (shares, LQ, stars, US flags, wage), so peak
memory (the process's maximum resident set) is measured per method. The two tables are compared
at the smallest scale to make sure they compute the same thing.

Target (issue #2), at the largest scale: ≤ 10 s, ≤ 3 GB peak, ≥ 5× faster than pandas.

    .venv/bin/python benchmarks/observatory.py            # all three scales
    .venv/bin/python benchmarks/observatory.py --quick    # smallest two scales only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

SCALES = [(300, 100), (1_500, 600), (3_200, 1_000)]
YEARS = 10
ZERO_SHARE = 0.6
SEED = 7
TARGET_SECONDS, TARGET_GB, TARGET_SPEEDUP = 10.0, 3.0, 5.0


def pandas_cluster_table(df):  # noqa: ANN001, ANN201 - benchmark baseline
    """A straightforward pandas implementation of the clusters table (each industry its own
    cluster, reference = sum of regions, total base, default thresholds)."""
    import pandas as pd

    df = df.rename(columns={"industry": "cluster"})
    df = df[df["employment"] > 0].copy()
    by_region = df.groupby(["year", "region"])["employment"].transform("sum")
    by_cluster = df.groupby(["year", "cluster"])["employment"].transform("sum")
    by_year = df.groupby("year")["employment"].transform("sum")
    df["wage"] = df["payroll"] / df["employment"]
    df["region_share"] = df["employment"] / by_region
    df["cluster_share"] = df["employment"] / by_cluster
    df["lq"] = df["region_share"] / (by_cluster / by_year)
    keys = ["year", "cluster"]
    groups = df.groupby(keys)
    q = pd.concat(
        {
            "cs90": groups["cluster_share"].quantile(0.9),
            "rs90": groups["region_share"].quantile(0.9),
            "lq25": groups["lq"].quantile(0.25),
            "lq50": groups["lq"].quantile(0.5),
            "lq75": groups["lq"].quantile(0.75),
            "lq90": groups["lq"].quantile(0.9),
            "e25": groups["employment"].quantile(0.25),
            "est25": groups["establishments"].quantile(0.25),
        },
        axis=1,
    )
    df = df.merge(q, left_on=keys, right_index=True, how="left")
    df["size_star"] = df["cluster_share"] >= df["cs90"]
    df["specialisation_star"] = df["lq"] >= 2
    df["focus_star"] = df["region_share"] >= df["rs90"]
    df["stars"] = df[["size_star", "specialisation_star", "focus_star"]].sum(axis=1)
    size = (df["employment"] > df["e25"]) & (df["establishments"] > df["est25"])
    df["qualifying"] = size & (df["lq"] > df["lq25"])
    df["significant"] = size & (df["lq"] > df["lq50"])
    df["strong"] = size & (df["lq"] >= df["lq75"]) & (df["lq"] >= 1)
    df["strong10"] = size & (df["lq"] >= df["lq90"]) & (df["lq"] >= 1)
    df = df.drop(columns=list(q.columns))
    return df.sort_values(["year", "region", "cluster"], ignore_index=True)


def _peak_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB → GiB


def _child(method: str, n_regions: int, n_industries: int) -> None:
    """Runs in a fresh process: build the input, time one method, print JSON."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    from clusteratlas.observatory import cluster_table
    from clusteratlas.sources.synthetic import random_panel, random_panel_frame

    args = {"n_years": YEARS, "zero_share": ZERO_SHARE, "seed": SEED}
    if method == "clusteratlas":
        panel = random_panel(n_regions, n_industries, **args)
        before = _peak_gb()
        start = time.perf_counter()
        table = cluster_table(panel)
        seconds = time.perf_counter() - start
    else:
        frame = random_panel_frame(n_regions, n_industries, **args)
        before = _peak_gb()
        start = time.perf_counter()
        table = pandas_cluster_table(frame)
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {"seconds": seconds, "peak_gb": _peak_gb(), "input_gb": before, "rows": len(table)}
        )
    )


def _run(method: str, n_regions: int, n_industries: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(n_regions), str(n_industries)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _agree(n_regions: int, n_industries: int) -> bool:
    """The two implementations give the same table (values to 1e-9, flags exactly)."""
    import numpy as np

    from clusteratlas.observatory import cluster_table
    from clusteratlas.sources.synthetic import random_panel, random_panel_frame

    args = {"n_years": YEARS, "zero_share": ZERO_SHARE, "seed": SEED}
    ours = cluster_table(random_panel(n_regions, n_industries, **args))
    base = pandas_cluster_table(random_panel_frame(n_regions, n_industries, **args))
    if len(ours) != len(base):
        return False
    ok = all(
        np.allclose(ours[c].to_numpy(float), base[c].to_numpy(float), rtol=1e-9)
        for c in ("employment", "region_share", "cluster_share", "lq", "wage")
    )
    for c in (
        "size_star",
        "specialisation_star",
        "focus_star",
        "stars",
        "qualifying",
        "significant",
        "strong",
        "strong10",
    ):
        ok &= bool((ours[c].to_numpy(dtype=int) == base[c].to_numpy(dtype=int)).all())
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the two smaller scales")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        _child(opts.child[0], int(opts.child[1]), int(opts.child[2]))
        return
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; "
        f"{YEARS} years, {ZERO_SHARE:.0%} zero cells, seed {SEED}"
    )
    print(f"same table as the pandas baseline at {SCALES[0]}: {_agree(*SCALES[0])}")
    header = (
        f"{'regions × industries':>22} {'rows':>11} {'ours s':>8} {'pandas s':>9} "
        f"{'speed-up':>8} {'ours GB':>8} {'pandas GB':>9}"
    )
    print(header)
    scales = SCALES[:2] if opts.quick else SCALES
    verdict = ""
    for n_r, n_i in scales:
        ours = _run("clusteratlas", n_r, n_i)
        base = _run("pandas", n_r, n_i)
        speedup = base["seconds"] / ours["seconds"]
        print(
            f"{f'{n_r:,} × {n_i:,}':>22} {ours['rows']:>11,} {ours['seconds']:>8.2f} "
            f"{base['seconds']:>9.2f} {speedup:>7.1f}× {ours['peak_gb']:>8.2f} "
            f"{base['peak_gb']:>9.2f}"
        )
        if (n_r, n_i) == SCALES[-1]:
            ok = (
                ours["seconds"] <= TARGET_SECONDS
                and ours["peak_gb"] <= TARGET_GB
                and speedup >= TARGET_SPEEDUP
            )
            verdict = (
                f"target at {n_r:,} × {n_i:,}: ≤ {TARGET_SECONDS:g} s, ≤ {TARGET_GB:g} GB, "
                f"≥ {TARGET_SPEEDUP:g}× pandas → {'MET' if ok else 'NOT MET'}"
            )
    if verdict:
        print(verdict)


if __name__ == "__main__":
    main()
