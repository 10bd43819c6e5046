"""An upper bound on the scheduled weight from a linear relaxation without slots.

Drop the slots and let each meeting be held fractionally (0 ≤ y ≤ 1, locked ones 1): each
person takes part in at most min(cap, slots in which one of their meetings could be) meetings
and there are no more meetings than tables in all slots. Every schedule satisfies these, so the
linear optimum (GLOP, OR-Tools' simplex; well under a second for 2,500 meetings, about two for
10,000) bounds the total weight from above; weights are whole numbers, so its floor does too.
On events where tables or caps are the binding limit it is often exactly the optimum, which
CP-SAT's own bound reaches only slowly on large events."""

from __future__ import annotations

import math
from collections import defaultdict

from clusteratlas.scheduling.model import Event

__all__ = ["lp_bound"]


def lp_bound(event: Event) -> int | None:
    """The floor of the relaxation's optimum, or None if the LP solver did not finish."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP is part of every OR-Tools wheel
        return None
    held = {}
    by_person: dict[str, list] = defaultdict(list)
    slots_of: dict[str, set[str]] = defaultdict(set)
    for m in event.meetings:
        slots = event.feasible_slots(m) if m.locked_slot is None else [m.locked_slot]
        if not slots:
            continue
        held[m.id] = var = solver.NumVar(1.0 if m.locked_slot else 0.0, 1.0, m.id)
        for pid in (m.a, m.b):
            by_person[pid].append(var)
            slots_of[pid].update(slots)
    if not held:
        return 0
    for pid, vars_ in by_person.items():
        cap = event.participant(pid).max_meetings
        room = len(slots_of[pid]) if cap is None else min(cap, len(slots_of[pid]))
        if len(vars_) > room:
            solver.Add(solver.Sum(vars_) <= room)
    capacity = sum(event.tables.values())
    if len(held) > capacity:
        solver.Add(solver.Sum(list(held.values())) <= capacity)
    weight = {m.id: m.weight for m in event.meetings}
    solver.Maximize(solver.Sum([weight[mid] * var for mid, var in held.items()]))
    if solver.Solve() != pywraplp.Solver.OPTIMAL:  # pragma: no cover - a bounded, feasible LP
        return None
    return math.floor(solver.Objective().Value() + 1e-6)
