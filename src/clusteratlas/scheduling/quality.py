"""The objectives of a schedule, measured: total weight, fairness, idle gaps, moves, and a
cheap upper bound on the weight for schedules that come without a solver's bound."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from clusteratlas.scheduling.model import Event

__all__ = ["Quality", "evaluate", "requests_per_participant", "simple_bound"]


@dataclass(frozen=True, slots=True)
class Quality:
    """The objectives of one schedule (see docs/scheduling.md for the definitions)."""

    weight: int
    without_meetings: int
    fairness: tuple[int, ...]
    idle_gaps: int
    moved: int | None


def requests_per_participant(event: Event) -> Counter[str]:
    """How many accepted meetings each participant has (scheduled or not)."""
    counts: Counter[str] = Counter()
    for m in event.meetings:
        counts[m.a] += 1
        counts[m.b] += 1
    return counts


def evaluate(
    event: Event,
    slot_of: Mapping[str, str],
    *,
    fairness_levels: int = 2,
    previous: Mapping[str, str] | None = None,
) -> Quality:
    """Measure a schedule given as meeting id → slot id (unscheduled meetings absent)."""
    requests = requests_per_participant(event)
    busy: dict[str, set[str]] = defaultdict(set)
    weight = 0
    for m in event.meetings:
        slot = slot_of.get(m.id)
        if slot is not None:
            weight += m.weight
            busy[m.a].add(slot)
            busy[m.b].add(slot)
    fairness = tuple(
        sum(1 for p, r in requests.items() if len(busy[p]) < min(k, r))
        for k in range(1, fairness_levels + 1)
    )
    without = sum(1 for p in requests if not busy[p])
    order = event.slot_ids()
    gaps = 0
    for p, slots in busy.items():
        if len(slots) < 2:
            continue
        available = [s for s in order if s in event.participant(p).available]
        marks = [s in slots for s in available]
        first = marks.index(True)
        last = len(marks) - 1 - marks[::-1].index(True)
        gaps += sum(1 for used in marks[first : last + 1] if not used)
    moved = None
    if previous is not None:
        ids = {m.id for m in event.meetings}
        moved = sum(1 for mid, s in previous.items() if mid in ids and slot_of.get(mid) != s)
    return Quality(weight, without, fairness, gaps, moved)


def simple_bound(event: Event) -> int:
    """An upper bound on the scheduled weight without a solver: the heaviest meetings that have
    a possible slot, no more of them than there are tables in all slots, and no participant in
    more meetings than their cap and their available slots allow (each side counted once)."""
    capacity = sum(event.tables.values())
    room: dict[str, int] = {}
    for p in event.participants:
        slots = sum(1 for s in p.available if event.tables[s] > 0)
        room[p.id] = slots if p.max_meetings is None else min(slots, p.max_meetings)
    per_person: dict[str, list[int]] = defaultdict(list)
    weights = []
    for m in event.meetings:
        if event.feasible_slots(m):
            weights.append(m.weight)
            per_person[m.a].append(m.weight)
    # each meeting is counted on its side a: a's heaviest room[a] meetings (a valid relaxation)
    by_a = sum(sum(sorted(ws, reverse=True)[: room[p]]) for p, ws in per_person.items())
    by_tables = sum(sorted(weights, reverse=True)[:capacity])
    return min(by_a, by_tables)
