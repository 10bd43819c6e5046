"""Event builders for the scheduling tests: plain EVENT.json dicts, and a Hypothesis strategy
of tiny random events (locks may be infeasible; events may be empty)."""

from __future__ import annotations

import itertools

from hypothesis import strategies as st


def slots(n, *, day="2026-05-04", offset="+02:00"):
    """``n`` consecutive 30-minute slots from 09:00, ids s1..sn."""
    out = []
    for i in range(n):
        h, m = divmod(9 * 60 + 30 * i, 60)
        h2, m2 = divmod(9 * 60 + 30 * i + 25, 60)
        out.append(
            {
                "id": f"s{i + 1}",
                "start": f"{day}T{h:02d}:{m:02d}:00{offset}",
                "end": f"{day}T{h2:02d}:{m2:02d}:00{offset}",
            }
        )
    return out


def event(n_slots, tables, people, meetings):
    """An event from compact parts: people as {id: available-or-None} or (available, cap);
    meetings as (a, b[, weight[, locked_slot]])."""
    participants = []
    for pid, spec in people.items():
        available, cap = spec if isinstance(spec, tuple) else (spec, None)
        p = {"id": pid}
        if available is not None:
            p["available"] = available
        if cap is not None:
            p["max_meetings"] = cap
        participants.append(p)
    ms = []
    for i, m in enumerate(meetings):
        item = {"id": f"m{i + 1}", "a": m[0], "b": m[1]}
        if len(m) > 2:
            item["weight"] = m[2]
        if len(m) > 3:
            item["locked_slot"] = m[3]
        ms.append(item)
    return {"slots": slots(n_slots), "tables": tables, "participants": participants, "meetings": ms}


@st.composite
def tiny_events(draw, max_meetings=5, locks=True):
    """Up to 3 slots, 2–5 people, up to ``max_meetings`` meetings: small enough to enumerate
    every assignment ((slots + 1) ** meetings)."""
    n_slots = draw(st.integers(0, 3))
    ids = [f"s{i + 1}" for i in range(n_slots)]
    if draw(st.booleans()):
        tables = draw(st.integers(0, 3))
    else:
        tables = {s: draw(st.integers(0, 3)) for s in ids}
    n_people = draw(st.integers(2, 5))
    people = {}
    for i in range(n_people):
        available = draw(
            st.none() | st.lists(st.sampled_from(ids), unique=True) if ids else st.none()
        )
        cap = draw(st.none() | st.integers(0, 3))
        people[f"p{i + 1}"] = (available, cap)
    pairs = list(itertools.combinations(people, 2))
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=max_meetings))
    meetings = []
    for a, b in chosen:
        weight = draw(st.integers(1, 3))
        lock = draw(st.none() | st.sampled_from(ids)) if locks and ids else None
        meetings.append((a, b, weight, lock))
    out = event(n_slots, tables, people, meetings)
    for m in out["meetings"]:
        if m.get("locked_slot") is None:
            m.pop("locked_slot", None)
    return out
