"""A fast greedy schedule with a repair pass: for very large events, and as CP-SAT's hint.

Greedy: locked meetings first, then the others by weight (heaviest first), favouring people
with few requests (fairness), each into the feasible slot that touches the most existing
meetings of its two sides (compact agendas). Repair: an unscheduled meeting may take a slot
after moving one meeting that blocks it (a busy side or the last table) to another slot.
Fairness: an unscheduled meeting of someone short of meetings replaces a scheduled meeting of
the same weight when that lowers (F_1, F_2). Compaction: single meetings move to other free
slots while that lowers idle gaps. Each pass keeps the earlier objectives unchanged."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping

from clusteratlas.scheduling.model import Event, Meeting
from clusteratlas.scheduling.quality import requests_per_participant

__all__ = ["compact_slots", "greedy_slots"]

#: meetings of a full slot tried as swap partners when compacting agendas
SWAP_CANDIDATES = 40


class _State:
    """Who is busy when, how many tables are used, how many meetings each person has."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self.index = {s: i for i, s in enumerate(event.slot_ids())}
        self.slot_of: dict[str, str] = {}
        self.busy: dict[tuple[str, str], str] = {}  # (person, slot) → meeting id
        self.used: dict[str, int] = defaultdict(int)
        self.count: dict[str, int] = defaultdict(int)
        # meeting ids as insertion-ordered dicts (not sets): runs do not depend on hashing
        self.in_slot: dict[str, dict[str, None]] = defaultdict(dict)
        self.of_person: dict[str, dict[str, None]] = defaultdict(dict)

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
        self.in_slot[slot][m.id] = None
        self.of_person[m.a][m.id] = None
        self.of_person[m.b][m.id] = None

    def remove(self, m: Meeting) -> str:
        slot = self.slot_of.pop(m.id)
        del self.busy[m.a, slot], self.busy[m.b, slot]
        self.used[slot] -= 1
        self.count[m.a] -= 1
        self.count[m.b] -= 1
        self.in_slot[slot].pop(m.id, None)
        self.of_person[m.a].pop(m.id, None)
        self.of_person[m.b].pop(m.id, None)
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
    # re-scheduling: meetings back in their previous slot stay there
    keep = {mid for mid, slot in state.slot_of.items() if preferred and preferred.get(mid) == slot}
    _fairer(state, by_id, options, requests, deadline, keep)
    _compact(state, options, deadline, keep)
    return dict(state.slot_of)


def compact_slots(
    event: Event,
    slot_of: Mapping[str, str],
    *,
    time_limit: float = 1.0,
    keep: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Fewer idle gaps for a valid schedule by moves and swaps of meetings between slots; the
    same meetings stay scheduled, and those in their ``keep`` slot stay there."""
    deadline = time.perf_counter() + time_limit
    state = _State(event)
    by_id = {m.id: m for m in event.meetings}
    for mid, slot in slot_of.items():
        state.place(by_id[mid], slot)
    options = {m.id: event.feasible_slots(m) for m in event.meetings}
    kept = {mid for mid, slot in slot_of.items() if keep and keep.get(mid) == slot}
    _compact(state, options, deadline, kept)
    return dict(state.slot_of)


def _shortfall(state: _State, pid: str, requests: Mapping[str, int], extra: int = 0) -> tuple:
    """(below 1, below 2) for one person: the fairness levels F_1, F_2 they count in."""
    n = state.count[pid] + extra
    r = requests[pid]
    return (int(n < min(1, r)), int(n < min(2, r)))


def _total_shortfall(state: _State, people: set[str], requests: Mapping[str, int]) -> tuple:
    below = [_shortfall(state, p, requests) for p in people]
    return (sum(b[0] for b in below), sum(b[1] for b in below))


def _fairer(
    state: _State,
    by_id: Mapping[str, Meeting],
    options: Mapping[str, list[str]],
    requests: Mapping[str, int],
    deadline: float,
    keep: set[str],
) -> None:
    """Swap an unscheduled meeting of someone short of meetings for a scheduled meeting of the
    same weight whenever that lowers (F_1, F_2) lexicographically; the weight is unchanged."""
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        needy = [
            m
            for m in by_id.values()
            if m.id not in state.slot_of
            and options[m.id]
            and m.locked_slot is None
            and any(_shortfall(state, p, requests) != (0, 0) for p in (m.a, m.b))
        ]
        for m in needy:
            if time.perf_counter() > deadline:
                return
            if m.id not in state.slot_of and _swap_in(state, m, by_id, options, requests, keep):
                improved = True


def _swap_in(
    state: _State,
    m: Meeting,
    by_id: Mapping[str, Meeting],
    options: Mapping[str, list[str]],
    requests: Mapping[str, int],
    keep: set[str],
) -> bool:
    capped = [
        p
        for p in (m.a, m.b)
        if (cap := state.event.participant(p).max_meetings) is not None and state.count[p] >= cap
    ]
    if len(capped) > 1:
        return False
    for slot in options[m.id]:
        blockers = {state.busy.get((m.a, slot)), state.busy.get((m.b, slot))} - {None}
        if capped:
            mine = set(state.of_person[capped[0]])
            candidates = (blockers & mine) if blockers else mine
        elif blockers:
            candidates = blockers
        elif state.used[slot] >= state.event.tables[slot]:
            candidates = set(state.in_slot[slot])
        else:  # it fits as it is now (a swap freed room): more weight, no one worse off
            state.place(m, slot)
            return True
        if len(blockers) > 1 or len(candidates) == 0:
            continue
        for other_id in sorted(candidates, key=str):
            other = by_id[other_id]
            if other.locked_slot is not None or other.weight != m.weight or other_id in keep:
                continue
            people = {m.a, m.b, other.a, other.b}
            before = _total_shortfall(state, people, requests)
            old = state.remove(other)
            if state.free(m, slot) and state.cap_ok(m):
                state.place(m, slot)
                after = _total_shortfall(state, people, requests)
                if after < before:
                    return True
                state.remove(m)
            state.place(other, old)
    return False


def _gaps_of(state: _State, pid: str, sequence: list[str]) -> int:
    marks = [(pid, s) in state.busy for s in sequence]
    if marks.count(True) < 2:
        return 0
    first = marks.index(True)
    last = len(marks) - 1 - marks[::-1].index(True)
    return marks[first : last + 1].count(False)


def _compact(
    state: _State, options: Mapping[str, list[str]], deadline: float, keep: set[str]
) -> None:
    """Move a meeting to another slot, or swap slots with a meeting there when the tables are
    full, while that lowers the idle gaps of the people concerned (the same meetings stay
    scheduled: weight and fairness are unchanged)."""
    event = state.event
    order = event.slot_ids()
    sequence = {p.id: [s for s in order if s in p.available] for p in event.participants}
    movable = {m.id: m for m in event.meetings if m.locked_slot is None and m.id not in keep}

    position = {p: {s: i for i, s in enumerate(seq)} for p, seq in sequence.items()}

    def gaps(people: set[str]) -> int:
        return sum(_gaps_of(state, p, sequence[p]) for p in people)

    def targets(m: Meeting) -> list[str]:
        """Slots next to or inside the span of the sides' other meetings (where a move can
        close a gap), in time order."""
        near: set[str] = set()
        old = state.slot_of[m.id]
        for p in (m.a, m.b):
            seq, pos = sequence[p], position[p]
            others = [pos[state.slot_of[o]] for o in state.of_person[p] if o != m.id]
            if others:
                near.update(seq[max(0, min(others) - 1) : max(others) + 2])
        return [s for s in options[m.id] if s in near and s != old]

    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for m in movable.values():
            if m.id not in state.slot_of:
                continue
            if time.perf_counter() > deadline:
                return
            if gaps({m.a, m.b}) and _improve_one(state, m, targets(m), options, movable, gaps):
                improved = True


def _improve_one(
    state: _State,
    m: Meeting,
    targets: list[str],
    options: Mapping[str, list[str]],
    movable: Mapping[str, Meeting],
    gaps: Callable[[set[str]], int],
) -> bool:
    """The first move or swap of ``m`` into ``targets`` that lowers the gaps; False if none."""
    old = state.slot_of[m.id]
    for slot in targets:
        if slot == old or (m.a, slot) in state.busy or (m.b, slot) in state.busy:
            continue
        if state.used[slot] < state.event.tables[slot]:
            people = {m.a, m.b}
            before = gaps(people)
            state.remove(m)
            state.place(m, slot)
            if gaps(people) < before:
                return True
            state.remove(m)
            state.place(m, old)
            continue
        for other_id in list(state.in_slot[slot])[:SWAP_CANDIDATES]:
            other = movable.get(other_id)
            if other is None or old not in options[other.id]:
                continue
            people = {m.a, m.b, other.a, other.b}
            before = gaps(people)
            state.remove(m)
            state.remove(other)
            if state.free(m, slot) and state.free(other, old):
                state.place(m, slot)
                state.place(other, old)
                if gaps(people) < before:
                    return True
                state.remove(m)
                state.remove(other)
            state.place(m, old)
            state.place(other, slot)
    return False


def _repair(
    state: _State,
    by_id: Mapping[str, Meeting],
    options: Mapping[str, list[str]],
    order: list[Meeting],
    deadline: float,
) -> None:
    """Insert unscheduled meetings by moving one blocking meeting elsewhere; repeat while it
    helps and time remains."""
    tables = state.event.tables
    improved = True
    while improved and time.perf_counter() < deadline:
        if all(state.used[s] >= n for s, n in tables.items()):
            return  # every table is taken: a moved meeting would have nowhere to go
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
