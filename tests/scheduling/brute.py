"""Reference optima by enumerating every assignment of a tiny event (independent of the
solver: feasibility and objectives come from ``checker``)."""

from __future__ import annotations

import itertools

from scheduling.checker import measure, violations


def with_tables(event, slot_of):
    """A SCHEDULE dict for meeting → slot: locked tables first, then the lowest free ones."""
    tables = event["tables"]
    used = {}
    assignments = []
    meetings = [m for m in event["meetings"] if m["id"] in slot_of]
    for m in meetings:
        if m.get("locked_table") is not None:
            used.setdefault(slot_of[m["id"]], set()).add(m["locked_table"])
    for m in meetings:
        slot = slot_of[m["id"]]
        table = m.get("locked_table")
        if table is None:
            table = 1
            while table in used.setdefault(slot, set()):
                table += 1
            used[slot].add(table)
        assignments.append({"meeting": m["id"], "slot": slot, "table": table})
    del tables
    unscheduled = [m["id"] for m in event["meetings"] if m["id"] not in slot_of]
    return {"assignments": assignments, "unscheduled": unscheduled}


def best(event, *, levels=2, previous=None):
    """The lexicographic optimum (weight max; then moves min if ``previous``; then F_1..,
    gaps min) over all valid assignments, as the objective tuple of ``measure``."""
    ids = [m["id"] for m in event["meetings"]]
    choices = [None] + [s["id"] for s in event["slots"]]
    top = None
    for combo in itertools.product(choices, repeat=len(ids)):
        slot_of = {mid: s for mid, s in zip(ids, combo, strict=True) if s is not None}
        if violations(event, with_tables(event, slot_of)):
            continue
        values = measure(event, slot_of, levels=levels, previous=previous)
        key = _key(values, previous is not None)
        if top is None or key > top[0]:
            top = (key, values)
    return None if top is None else top[1]


def _key(values, moves):
    weight, *rest = values
    if moves:
        *rest, moved = rest
        return (weight, -moved, *(-v for v in rest))
    return (weight, *(-v for v in rest))
