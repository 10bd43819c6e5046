"""A fast greedy schedule with a repair pass: for very large events, and as CP-SAT's hint.

Greedy: locked meetings first, then the others by weight (heaviest first), favouring people
with few requests (fairness), each into the feasible slot that touches the most existing
meetings of its two sides (compact agendas). Repair: an unscheduled meeting may take a slot
after moving one meeting that blocks it (a busy side or the last table) to another slot."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping

from clusteratlas.scheduling.model import Event, Meeting
from clusteratlas.scheduling.quality import requests_per_participant

__all__ = ["greedy_slots"]


class _State:
    """Who is busy when, how many tables are used, how many meetings each person has."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self.index = {s: i for i, s in enumerate(event.slot_ids())}
        self.slot_of: dict[str, str] = {}
        self.busy: dict[tuple[str, str], str] = {}  # (person, slot) → meeting id
        self.used: dict[str, int] = defaultdict(int)
        self.count: dict[str, int] = defaultdict(int)
        self.in_slot: dict[str, set[str]] = defaultdict(set)

    def cap_ok(self, m: Meeting) -> bool:
        for pid in (m.a, m.b):
            cap = self.event.participant(pid).max_meetings
            if cap is not None and self.count[pid] >= cap:
                return False
        return True

    def free(self, m: Meeting, slot: str) -> bool:
        return (
            (m.a, slot) not in self.busy
            and (m.b, slot) not in self.busy
            and self.used[slot] < self.event.tables[slot]
        )

    def place(self, m: Meeting, slot: str) -> None:
        self.slot_of[m.id] = slot
        self.busy[m.a, slot] = self.busy[m.b, slot] = m.id
        self.used[slot] += 1
        self.count[m.a] += 1
        self.count[m.b] += 1
        self.in_slot[slot].add(m.id)

    def remove(self, m: Meeting) -> str:
        slot = self.slot_of.pop(m.id)
        del self.busy[m.a, slot], self.busy[m.b, slot]
        self.used[slot] -= 1
        self.count[m.a] -= 1
        self.count[m.b] -= 1
        self.in_slot[slot].discard(m.id)
        return slot

    def closeness(self, m: Meeting, slot: str) -> int:
        """How many meetings of m's sides sit in the neighbouring slots (compactness)."""
        order = self.event.slots
        i = self.index[slot]
        near = [order[j].id for j in (i - 1, i + 1) if 0 <= j < len(order)]
        return sum((pid, s) in self.busy for pid in (m.a, m.b) for s in near)


def greedy_slots(
    event: Event,
    *,
    time_limit: float = 5.0,
    preferred: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A feasible assignment meeting id → slot id (locks kept). ``preferred`` (re-scheduling)
    puts meetings back into their previous slot when that is still possible."""
    deadline = time.perf_counter() + time_limit
    state = _State(event)
    by_id = {m.id: m for m in event.meetings}
    options = {m.id: event.feasible_slots(m) for m in event.meetings}
    for m in event.meetings:
        if m.locked_slot is not None:
            state.place(m, m.locked_slot)
    requests = requests_per_participant(event)
    free_meetings = [m for m in event.meetings if m.locked_slot is None and options[m.id]]
    free_meetings.sort(
        key=lambda m: (-m.weight, min(requests[m.a], requests[m.b]), len(options[m.id]))
    )
    if preferred:
        for m in free_meetings:
            slot = preferred.get(m.id)
            if slot in options[m.id] and state.free(m, slot) and state.cap_ok(m):
                state.place(m, slot)
    for m in free_meetings:
        if m.id in state.slot_of or not state.cap_ok(m):
            continue
        candidates = [s for s in options[m.id] if state.free(m, s)]
        if candidates:
            state.place(m, max(candidates, key=lambda s: state.closeness(m, s)))
    _repair(state, by_id, options, free_meetings, deadline)
    return dict(state.slot_of)


def _repair(
    state: _State,
    by_id: Mapping[str, Meeting],
    options: Mapping[str, list[str]],
    order: list[Meeting],
    deadline: float,
) -> None:
    """Insert unscheduled meetings by moving one blocking meeting elsewhere; repeat while it
    helps and time remains."""
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for m in order:
            if m.id in state.slot_of or not state.cap_ok(m):
                continue
            if time.perf_counter() > deadline:
                return
            if _insert_with_one_move(state, m, by_id, options):
                improved = True


def _insert_with_one_move(
    state: _State, m: Meeting, by_id: Mapping[str, Meeting], options: Mapping[str, list[str]]
) -> bool:
    for slot in options[m.id]:
        blockers = {state.busy.get((m.a, slot)), state.busy.get((m.b, slot))} - {None}
        if len(blockers) > 1:
            continue
        if blockers:
            candidates = [by_id[b] for b in blockers if b is not None]
        elif state.used[slot] >= state.event.tables[slot]:
            candidates = [by_id[b] for b in state.in_slot[slot]]
        else:  # free now (an earlier move freed it)
            state.place(m, slot)
            return True
        for other in candidates:
            if other.locked_slot is not None:
                continue
            old = state.remove(other)
            target = next((s for s in options[other.id] if s != old and state.free(other, s)), None)
            if target is not None and state.free(m, slot):
                state.place(other, target)
                state.place(m, slot)
                return True
            state.place(other, old)
    return False
