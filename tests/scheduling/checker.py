"""An independent checker of schedules, written from the file contract of issue 6 (EVENT.json
and SCHEDULE.json as plain dicts), sharing no code with ``clusteratlas.scheduling``.

``violations`` lists every broken rule; ``measure`` computes the objectives from their
definitions in docs/scheduling.md, by direct enumeration."""

from __future__ import annotations

from datetime import datetime


def _slots_in_time_order(event):
    return [
        s["id"] for s in sorted(event["slots"], key=lambda s: datetime.fromisoformat(s["start"]))
    ]


def _tables(event, slot):
    tables = event["tables"]
    return tables if isinstance(tables, int | float) else tables[slot]


def _available(event, person):
    for p in event["participants"]:
        if p["id"] == person:
            return (
                set(p["available"])
                if p.get("available") is not None
                else {s["id"] for s in event["slots"]}
            )
    raise AssertionError(f"no participant {person}")


def _cap(event, person):
    for p in event["participants"]:
        if p["id"] == person:
            return p.get("max_meetings")
    raise AssertionError(f"no participant {person}")


def violations(event, schedule):
    """Every rule the schedule breaks (an empty list: the schedule is valid)."""
    problems = []
    meetings = {m["id"]: m for m in event["meetings"]}
    slot_ids = {s["id"] for s in event["slots"]}
    seen = [a["meeting"] for a in schedule["assignments"]] + list(schedule["unscheduled"])
    for mid in meetings:
        if seen.count(mid) != 1:
            problems.append(f"{mid} appears {seen.count(mid)} times in assignments + unscheduled")
    for mid in seen:
        if mid not in meetings:
            problems.append(f"{mid} is not a meeting of the event")
    people_in_slot = {}
    tables_in_slot = {}
    count = {}
    for a in schedule["assignments"]:
        m = meetings.get(a["meeting"])
        if m is None:
            continue
        slot, table = a["slot"], a["table"]
        if slot not in slot_ids:
            problems.append(f"{m['id']} in unknown slot {slot}")
            continue
        for person in (m["a"], m["b"]):
            if slot not in _available(event, person):
                problems.append(f"{m['id']}: {person} is not available in {slot}")
            if (person, slot) in people_in_slot:
                problems.append(f"{person} twice in {slot}")
            people_in_slot[person, slot] = m["id"]
            count[person] = count.get(person, 0) + 1
        if not (isinstance(table, int) and 1 <= table <= _tables(event, slot)):
            problems.append(f"{m['id']}: table {table} not in 1..{_tables(event, slot)}")
        if table in tables_in_slot.setdefault(slot, set()):
            problems.append(f"table {table} of {slot} used twice")
        tables_in_slot[slot].add(table)
        if m.get("locked_slot") is not None and m["locked_slot"] != slot:
            problems.append(f"{m['id']} locked to {m['locked_slot']} but in {slot}")
        if m.get("locked_table") is not None and m["locked_table"] != table:
            problems.append(f"{m['id']} locked to table {m['locked_table']} but at {table}")
    for slot, used in tables_in_slot.items():
        if len(used) > _tables(event, slot):
            problems.append(f"{slot}: {len(used)} meetings for {_tables(event, slot)} tables")
    for person, n in count.items():
        cap = _cap(event, person)
        if cap is not None and n > cap:
            problems.append(f"{person}: {n} meetings over the cap {cap}")
    for mid in schedule["unscheduled"]:
        if mid in meetings and meetings[mid].get("locked_slot") is not None:
            problems.append(f"{mid} is locked but unscheduled")
    return problems


def measure(event, slot_of, *, levels=2, previous=None):
    """(weight, F_1..F_levels, idle gaps[, moved]) of meeting id → slot id, by enumeration."""
    weight = sum(m.get("weight", 1) for m in event["meetings"] if m["id"] in slot_of)
    requested = {}
    held = {}
    for m in event["meetings"]:
        for person in (m["a"], m["b"]):
            requested[person] = requested.get(person, 0) + 1
            if m["id"] in slot_of:
                held.setdefault(person, []).append(slot_of[m["id"]])
    fairness = tuple(
        len([p for p in requested if len(held.get(p, [])) < min(k, requested[p])])
        for k in range(1, levels + 1)
    )
    order = _slots_in_time_order(event)
    gaps = 0
    for person, slots in held.items():
        available = [s for s in order if s in _available(event, person)]
        positions = [available.index(s) for s in slots]
        for i in range(min(positions) + 1, max(positions)):
            if available[i] not in slots:
                gaps += 1
    result = (weight, *fairness, gaps)
    if previous is not None:
        moved = len([mid for mid, s in previous.items() if slot_of.get(mid) != s])
        result = (*result, moved)
    return result
