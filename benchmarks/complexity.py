"""Benchmark: the full complexity table at three panel sizes, against the ``ecomplexity`` package.

Each scale (regions × industries, 10 years, ~60% of cells zero) is generated from a seed. For
each, one fresh process computes Cluster Atlas's `complexity_table` (every region × industry
cell of every year) and another runs `ecomplexity.ecomplexity` on the long table of the same
panel, so peak memory (the process's maximum resident set, including its input) is measured per
method. A third process times writing our table to Parquet (pyarrow), separately. The two
results are compared at the smallest scale (every column to 1e-6).

At the largest scale ecomplexity runs on the first ``--baseline-years`` years (default 2) and its
time is scaled linearly to 10 years (it computes each year independently; the final merge grows
with the rows too); the output says so. Its memory is shown as measured.

Target (issue #4), at the largest scale: ≤ 10 s, ≤ 3 GB peak, ≥ 15× faster than ecomplexity
(also at 1,500 × 600).

    .venv/bin/python benchmarks/complexity.py            # all three scales
    .venv/bin/python benchmarks/complexity.py --quick    # smallest two scales only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SCALES = [(300, 100), (1_500, 600), (3_200, 1_000)]
YEARS = 10
ZERO_SHARE = 0.6
SEED = 7
TARGET_SECONDS, TARGET_GB, TARGET_SPEEDUP = 10.0, 3.0, 15.0
COLS = {"time": "year", "loc": "region", "prod": "industry", "val": "employment"}


def _peak_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB → GiB


def _ecomplexity(frame):  # noqa: ANN001, ANN202 - benchmark baseline
    import warnings

    from ecomplexity import ecomplexity

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ecomplexity(frame, COLS, check_logsupermodularity=False, verbose=False)


def _child(method: str, n_regions: int, n_industries: int, n_years: int) -> None:
    """Runs in a fresh process: build the input, time one method, print JSON."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    from clusteratlas.observatory.complexity import complexity_table
    from clusteratlas.sources.synthetic import random_panel, random_panel_frame

    args = {"n_years": n_years, "zero_share": ZERO_SHARE, "seed": SEED}
    extra = {}
    if method in ("clusteratlas", "parquet"):
        panel = random_panel(n_regions, n_industries, **args)
        before = _peak_gb()
        start = time.perf_counter()
        table = complexity_table(panel)
        seconds = time.perf_counter() - start
        if method == "parquet":
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "complexity.parquet")
                start = time.perf_counter()
                table.to_parquet(path, index=False)
                seconds = time.perf_counter() - start
                extra["mb"] = os.path.getsize(path) / 1024**2
    else:
        frame = random_panel_frame(n_regions, n_industries, **args)
        frame = frame[["year", "region", "industry", "employment"]]
        before = _peak_gb()
        start = time.perf_counter()
        table = _ecomplexity(frame)
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_gb": _peak_gb(),
                "input_gb": before,
                "rows": len(table),
                **extra,
            }
        )
    )


def _run(method: str, n_regions: int, n_industries: int, n_years: int = YEARS) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(n_regions), str(n_industries)]
        + [str(n_years)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _agree(n_regions: int, n_industries: int) -> float:
    """Largest absolute difference over every column and row ecomplexity computes."""
    import numpy as np

    from clusteratlas.observatory.complexity import complexity_table
    from clusteratlas.sources.synthetic import random_panel, random_panel_frame

    args = {"n_years": YEARS, "zero_share": ZERO_SHARE, "seed": SEED}
    ours = complexity_table(random_panel(n_regions, n_industries, **args))
    ours = ours.astype({"region": str, "industry": str})
    frame = random_panel_frame(n_regions, n_industries, **args)
    ref = _ecomplexity(frame[["year", "region", "industry", "employment"]]).dropna(subset="eci")
    both = ref.merge(ours, on=["year", "region", "industry"], suffixes=("_ref", ""))
    assert len(both) == len(ref) == len(ours)
    cols = ("rca", "mcp", "diversity", "ubiquity", "eci", "pci", "density", "coi", "cog")
    return max(
        float(np.max(np.abs(both[c].to_numpy(float) - both[f"{c}_ref"].to_numpy(float))))
        for c in cols
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the two smaller scales")
    parser.add_argument(
        "--baseline-years",
        type=int,
        default=2,
        help="years ecomplexity runs at the largest scale (its time is scaled to 10 years)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        _child(opts.child[0], *(int(x) for x in opts.child[1:]))
        return
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    from importlib.metadata import version

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, numpy {version('numpy')}, "
        f"scipy {version('scipy')}, ecomplexity {version('ecomplexity')}; "
        f"{YEARS} years, {ZERO_SHARE:.0%} zero cells, seed {SEED}"
    )
    print(f"largest difference from ecomplexity at {SCALES[0]}: {_agree(*SCALES[0]):.1e}")
    print(
        f"{'regions × industries':>22} {'rows':>11} {'ours s':>8} {'ecx s':>9} {'speed-up':>8} "
        f"{'ours GB':>8} {'ecx GB':>8} {'parquet s':>9} {'MB':>6}"
    )
    scales = SCALES[:2] if opts.quick else SCALES
    verdicts = []
    notes = []
    for n_r, n_i in scales:
        ours = _run("clusteratlas", n_r, n_i)
        pq = _run("parquet", n_r, n_i)
        years = opts.baseline_years if (n_r, n_i) == SCALES[-1] else YEARS
        base = _run("ecomplexity", n_r, n_i, years)
        base_s = base["seconds"] * YEARS / years
        mark = "*" if years != YEARS else " "
        if years != YEARS:
            notes.append(
                f"* ecomplexity at {n_r:,} × {n_i:,} ran {years} years in {base['seconds']:.1f} s "
                f"({base['peak_gb']:.2f} GB peak); its time is scaled linearly to {YEARS} years"
            )
        speedup = base_s / ours["seconds"]
        print(
            f"{f'{n_r:,} × {n_i:,}':>22} {ours['rows']:>11,} {ours['seconds']:>8.2f} "
            f"{base_s:>8.1f}{mark} {speedup:>7.1f}× {ours['peak_gb']:>8.2f} "
            f"{base['peak_gb']:>8.2f} {pq['seconds']:>9.2f} {pq['mb']:>6.0f}"
        )
        if (n_r, n_i) in SCALES[1:]:
            ok = speedup >= TARGET_SPEEDUP
            if (n_r, n_i) == SCALES[-1]:
                ok = ok and ours["seconds"] <= TARGET_SECONDS and ours["peak_gb"] <= TARGET_GB
            verdicts.append(f"{n_r:,} × {n_i:,}: {'MET' if ok else 'NOT MET'}")
    for note in notes:
        print(note)
    print(
        f"target: ≥ {TARGET_SPEEDUP:g}× ecomplexity at 1,500 × 600 and 3,200 × 1,000, and at "
        f"3,200 × 1,000 ≤ {TARGET_SECONDS:g} s, ≤ {TARGET_GB:g} GB → " + "; ".join(verdicts)
    )


if __name__ == "__main__":
    main()
