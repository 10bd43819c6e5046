"""Benchmark: reading a full-size County Business Patterns county file, against plain pandas.

A county file in the published layout up to 2016 (``cbpYYco.txt``: quoted codes, ``empflag`` and
noise flags, establishment size classes) is generated from a seed into a temporary folder and
deleted afterwards: 3,200 counties, a NAICS tree of 20 sectors down to ~1,000 six-digit
industries, every level present where a county has employment under it (~2 million rows), and
about 40% of the cells withheld with their size-class letter, as in the published files. The
withheld cells' true values lie in their ranges and the published ones add up, so every fit is
feasible. One fresh process times ``CBPSource().open(path)`` (parse, checks, the fit of every
withheld cell, the panel) and another a plain ``pandas.read_csv(path)`` of the same file, so
peak memory (the process's maximum resident set) is measured per method.

Target (issue #3): ≤ 15 s and ≤ 2 GB peak for the full-size file.

    .venv/bin/python benchmarks/sources.py            # full size (~2 million rows)
    .venv/bin/python benchmarks/sources.py --quick    # 400 counties (~250,000 rows)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_COUNTIES, QUICK_COUNTIES = 3_200, 400
WITHHELD_SHARE = 0.4
SEED = 11
TARGET_SECONDS, TARGET_GB = 15.0, 2.0
SECTORS = ["11", "21", "22", "23", "31", "42", "44", "48", "51", "52", "53", "54", "55", "56",
           "61", "62", "71", "72", "81", "99"]  # fmt: skip
LETTERS = [("A", 0, 19), ("B", 20, 99), ("C", 100, 249), ("E", 250, 499), ("F", 500, 999),
           ("G", 1_000, 2_499), ("H", 2_500, 4_999), ("I", 5_000, 9_999),
           ("J", 10_000, 24_999), ("K", 25_000, 49_999), ("L", 50_000, 99_999),
           ("M", 100_000, 10**12)]  # fmt: skip
SIZE_COLUMNS = ["n1_4", "n5_9", "n10_19", "n20_49", "n50_99", "n100_249", "n250_499",
                "n500_999", "n1000", "n1000_1", "n1000_2", "n1000_3", "n1000_4"]  # fmt: skip


def naics_tree(rng):  # noqa: ANN001, ANN201 - benchmark helper
    """Codes by level (3–6 digits) with each code's parent position one level up."""
    import numpy as np

    levels = {2: SECTORS}
    parents = {}
    branching = {3: 5, 4: 3, 5: 2.3, 6: 1.45}
    for level in (3, 4, 5, 6):
        codes, parent = [], []
        for k, up in enumerate(levels[level - 1]):
            n = max(1, int(rng.poisson(branching[level] - 1)) + 1)
            stems = ["31", "32", "33"] if up == "31" and level == 3 else [up]
            for j in range(min(n, 9)):
                stem = stems[j % len(stems)]
                digit = str(j // len(stems) + 1) if level == 3 else str(j + 1)
                code = stem + digit if level == 3 else up + digit
                if level == 6 and n == 1:
                    code = up + "0"
                codes.append(code)
                parent.append(k)
        levels[level] = codes
        parents[level] = np.array(parent)
    return levels, parents


def write_county_file(path: Path, n_counties: int, seed: int = SEED) -> dict[str, float]:
    """Write a county file in the published pre-2017 layout; return facts about it."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    levels, parents = naics_tree(rng)
    states = np.arange(n_counties) // 60 + 1  # 60 counties per "state": codes never repeat
    counties = np.arange(n_counties) % 60 * 2 + 1
    size = rng.lognormal(0.0, 1.2, size=n_counties)
    presence = np.clip(0.09 + 0.13 * size, 0.05, 0.9)
    # six-digit employment: present with a county-dependent probability, lognormal sizes
    n6 = len(levels[6])
    present = rng.random((n_counties, n6)) < presence[:, None]
    emp = np.where(present, np.maximum(1, np.round(rng.lognormal(2.5, 1.5, (n_counties, n6)))), 0)
    emp = emp * np.maximum(1, np.round(size))[:, None]
    by_level = {6: emp}
    for level in (5, 4, 3, 2):
        child = by_level[level + 1]
        up = np.zeros((n_counties, len(levels[level])))
        np.add.at(up.T, parents[level + 1], child.T)
        by_level[level] = up
    by_level[0] = by_level[2].sum(axis=1, keepdims=True)
    names = {0: ["------"], 2: [s + "----" for s in SECTORS]}
    for level in (3, 4, 5, 6):
        names[level] = [c + "/" * (6 - level) for c in levels[level]]
    parts = []
    for level in (0, 2, 3, 4, 5, 6):
        r, c = np.nonzero(by_level[level])
        parts.append((r, np.asarray(names[level], dtype=object)[c], by_level[level][r, c]))
    region = np.concatenate([p[0] for p in parts])
    naics = np.concatenate([p[1] for p in parts])
    value = np.concatenate([p[2] for p in parts]).astype(np.int64)
    order = np.lexsort((naics, region))
    region, naics, value = region[order], naics[order], value[order]
    n = len(value)
    withheld = rng.random(n) < WITHHELD_SHARE
    withheld &= naics != "------"
    bins = np.array([lo for _, lo, _ in LETTERS])
    letter = np.asarray([x for x, _, _ in LETTERS], dtype=object)[
        np.searchsorted(bins, value, "right") - 1
    ]
    noise = np.where(rng.random(n) < 0.8, "G", "H").astype(object)
    noise[withheld] = "D"
    est = np.maximum(1, value // 12).astype(np.int64)
    columns = {
        "fipstate": np.char.zfill(states[region].astype(str), 2),
        "fipscty": np.char.zfill(counties[region].astype(str), 3),
        "naics": naics.astype(str),
        "empflag": np.where(withheld, letter, "").astype(str),
        "emp_nf": noise.astype(str),
        "emp": np.where(withheld, 0, value),
        "qp1_nf": noise.astype(str),
        "qp1": np.where(withheld, 0, value * 11),
        "ap_nf": noise.astype(str),
        "ap": np.where(withheld, 0, value * 45),
        "est": est,
    }
    for k, name in enumerate(SIZE_COLUMNS):
        columns[name] = est if k == 0 else np.zeros(n, dtype=np.int64)
    table = pa.table(columns)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    return {
        "rows": n,
        "withheld": float(withheld.mean()),
        "mb": path.stat().st_size / 1e6,
    }


def _peak_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB → GiB


def _child(method: str, path: str) -> None:
    """Runs in a fresh process: read the file one way, print JSON."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    import warnings

    if method == "clusteratlas":
        from clusteratlas.sources.cbp import CBPSource

        before = _peak_gb()
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            panel = CBPSource().open(path, year=2016)
        seconds = time.perf_counter() - start
        nnz = sum(panel.matrix("employment", y).nnz for y in panel.years)
        out = {"cells": nnz, "warnings": len(caught), "estimated": len(panel.bounds)}
    else:
        import pandas as pd

        before = _peak_gb()
        start = time.perf_counter()
        frame = pd.read_csv(path)
        seconds = time.perf_counter() - start
        out = {"cells": len(frame)}
    out.update({"seconds": seconds, "peak_gb": _peak_gb(), "start_gb": before})
    print(json.dumps(out))


def _run(method: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_COUNTIES} counties only")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        _child(*opts.child)
        return
    import numpy as np
    import pandas as pd

    n_counties = QUICK_COUNTIES if opts.quick else N_COUNTIES
    with tempfile.TemporaryDirectory(prefix="cbp-bench-") as folder:
        path = Path(folder) / "cbp16co.txt"
        start = time.perf_counter()
        facts = write_county_file(path, n_counties)
        made = time.perf_counter() - start
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores, numpy {np.__version__}, "
            f"pandas {pd.__version__}; seed {SEED}"
        )
        print(
            f"county file: {n_counties:,} counties, {facts['rows']:,} rows, "
            f"{facts['withheld']:.0%} withheld, {facts['mb']:.0f} MB (written in {made:.0f} s)"
        )
        ours = _run("clusteratlas", path)
        base = _run("pandas", path)
    print(f"{'method':>26} {'seconds':>8} {'peak GB':>8}")
    print(f"{'CBPSource().open':>26} {ours['seconds']:>8.2f} {ours['peak_gb']:>8.2f}")
    print(f"{'pandas.read_csv':>26} {base['seconds']:>8.2f} {base['peak_gb']:>8.2f}")
    print(
        f"ratio (open / read_csv): {ours['seconds'] / base['seconds']:.1f}× time, "
        f"{ours['peak_gb'] / base['peak_gb']:.1f}× memory; {ours['cells']:,} cells, "
        f"{ours['estimated']:,} estimated, {ours['warnings']} warnings"
    )
    ok = ours["seconds"] <= TARGET_SECONDS and ours["peak_gb"] <= TARGET_GB
    scale = "quick scale, not the target size" if opts.quick else f"{facts['rows']:,} rows"
    print(
        f"target ({scale}): ≤ {TARGET_SECONDS:g} s, ≤ {TARGET_GB:g} GB → "
        f"{'MET' if ok else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
