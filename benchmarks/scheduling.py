"""Benchmark: the meeting scheduler (issue #6) on seeded events of three sizes, against a
first-come self-booking baseline measured in the same run.

Events are generated from a seed: participants arrive late or leave early (each is available
in one contiguous run of slots, most of them in all), requests follow a skewed popularity (a
few people are asked by many), weights are 1 (80%), 2 (15%) or 3 ("must meet", 5%), and
everyone has a cap of 8 meetings. For each event the script reports, for CP-SAT, the greedy
heuristic alone and the baseline: scheduled weight against the CP-SAT bound, participants with
requests but no meeting, idle gaps and time.

Baseline ("first come"): requests are booked in the order they were made, each into the
earliest slot where both sides are free, a table is left and neither side is at their cap —
what self-booking systems do.

Targets: 85 participants / 170 requests / 8 slots proven optimal in ≤ 2 s; 500 / 2,500 /
12 slots / 60 tables ≥ 99.5% of the bound in ≤ 20 s; 2,000 / 10,000 / 16 slots / 200 tables
≥ 99% of the bound in ≤ 60 s.

    .venv/bin/python benchmarks/scheduling.py              # all three, 1 CP-SAT worker
    .venv/bin/python benchmarks/scheduling.py --workers 2  # both cores
    .venv/bin/python benchmarks/scheduling.py --only 0 1   # the first two sizes
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone

# benchmarks/platform.py would shadow the standard library's `platform` module: take this
# folder off the path and put the source tree on it
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from clusteratlas.scheduling import Schedule, evaluate, heuristic, parse_event, solve  # noqa: E402
from clusteratlas.scheduling.model import Event  # noqa: E402

#: (participants, requests, slots, tables per slot, time limit s, target share of the bound)
CASES = [
    (85, 170, 8, 40, 2.0, 1.0),
    (500, 2_500, 12, 60, 20.0, 0.995),
    (2_000, 10_000, 16, 200, 60.0, 0.99),
]
SEED = 6
CAP = 8


def generate(n_people: int, n_requests: int, n_slots: int, tables: int, seed: int) -> dict:
    """A seeded EVENT.json structure (see the module docstring)."""
    rng = random.Random(seed)
    tz = timezone(timedelta(hours=2))
    start = datetime(2026, 5, 4, 9, 0, tzinfo=tz)
    slots = [
        {
            "id": f"s{i + 1}",
            "start": (start + timedelta(minutes=30 * i)).isoformat(),
            "end": (start + timedelta(minutes=30 * i + 25)).isoformat(),
        }
        for i in range(n_slots)
    ]
    participants = []
    for i in range(n_people):
        p: dict = {"id": f"p{i + 1}", "max_meetings": CAP}
        if rng.random() < 0.3:  # arrives late or leaves early
            first = rng.randrange(0, n_slots // 2)
            last = rng.randrange(n_slots // 2, n_slots)
            p["available"] = [s["id"] for s in slots[first : last + 1]]
        participants.append(p)
    popularity = [rng.paretovariate(1.5) for _ in range(n_people)]
    pairs: set[tuple[int, int]] = set()
    meetings = []
    while len(meetings) < n_requests:
        a = rng.randrange(n_people)
        b = rng.choices(range(n_people), weights=popularity)[0]
        key = (min(a, b), max(a, b))
        if a == b or key in pairs:
            continue
        pairs.add(key)
        weight = rng.choices([1, 2, 3], weights=[80, 15, 5])[0]
        meetings.append(
            {"id": f"m{len(meetings) + 1}", "a": f"p{a + 1}", "b": f"p{b + 1}", "weight": weight}
        )
    return {"slots": slots, "tables": tables, "participants": participants, "meetings": meetings}


def first_come(event: Event) -> dict[str, str]:
    """Self-booking: each request, in the order made, takes the earliest free slot."""
    busy: set[tuple[str, str]] = set()
    used: dict[str, int] = dict.fromkeys(event.tables, 0)
    count: dict[str, int] = {}
    slot_of = {}
    for m in event.meetings:
        caps = [event.participant(p).max_meetings for p in (m.a, m.b)]
        if any(
            c is not None and count.get(p, 0) >= c for p, c in zip((m.a, m.b), caps, strict=True)
        ):
            continue
        for s in event.feasible_slots(m):
            if (m.a, s) not in busy and (m.b, s) not in busy and used[s] < event.tables[s]:
                slot_of[m.id] = s
                busy.update({(m.a, s), (m.b, s)})
                used[s] += 1
                count[m.a] = count.get(m.a, 0) + 1
                count[m.b] = count.get(m.b, 0) + 1
                break
    return slot_of


def _row(
    name: str, weight: int, bound: int, without: int, gaps: int, seconds: float, note: str
) -> str:
    share = weight / bound if bound else 1.0
    return (
        f"  {name:<11} {weight:>7,} {share:>8.2%} {without:>8,} {gaps:>7,} {seconds:>7.1f}  {note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="CP-SAT workers (default 1)")
    parser.add_argument("--only", type=int, nargs="*", help="case numbers (0, 1, 2) to run")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    import ortools
    from ortools.sat.python import cp_model  # noqa: F401 - imported before any clock starts

    print(
        f"python {sys.version.split()[0]}, ortools {ortools.__version__}, {os.cpu_count()} cores, "
        f"CP-SAT workers {args.workers}, seed {args.seed}"
    )
    for i, (people, requests, n_slots, tables, limit, target) in enumerate(CASES):
        if args.only and i not in args.only:
            continue
        t0 = time.perf_counter()
        event = parse_event(generate(people, requests, n_slots, tables, args.seed + i))
        parsed = time.perf_counter() - t0
        t0 = time.perf_counter()
        exact: Schedule = solve(event, time_limit=limit, workers=args.workers)
        seconds = time.perf_counter() - t0
        quick = heuristic(event, time_limit=min(5.0, limit / 2))
        t0 = time.perf_counter()
        base = evaluate(event, first_come(event))
        base_s = time.perf_counter() - t0
        bound = exact.bound
        print(
            f"\n{people:,} participants / {requests:,} requests / {n_slots} slots × {tables} "
            f"tables (capacity {n_slots * tables:,}); time limit {limit:g} s; parsed in "
            f"{parsed:.1f} s"
        )
        print(f"  {'method':<11} {'weight':>7} {'of bound':>8} {'no mtg':>8} {'gaps':>7} {'s':>7}")
        print(
            _row(
                "CP-SAT" if exact.method.startswith("cp-sat") else "solve*",
                exact.objective,
                bound,
                exact.without_meetings,
                exact.idle_gaps,
                seconds,
                exact.status,
            )
        )
        print(
            _row(
                "greedy",
                quick.objective,
                bound,
                quick.without_meetings,
                quick.idle_gaps,
                quick.seconds,
                "",
            )
        )
        print(
            _row(
                "first come", base.weight, bound, base.without_meetings, base.idle_gaps, base_s, ""
            )
        )
        print(f"  bound {bound:,}; {exact.method}; steps: {'; '.join(exact.steps)}")
        weight_proven = exact.objective == bound
        if target >= 1.0:
            met = weight_proven and seconds <= limit * 1.05
            goal = f"weight proven optimal in ≤ {limit:g} s"
        else:
            met = exact.objective >= target * bound and seconds <= limit * 1.05
            goal = f"≥ {target:.1%} of the bound in ≤ {limit:g} s"
        print(f"  target: {goal} → {'MET' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
