"""The scheduling problem as plain, validated, immutable data: slots, tables, participants and
meetings in; a schedule out. ``parse_event`` checks everything once and reports every problem
with the item and field it concerns; afterwards the event is trusted."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "Assignment",
    "Event",
    "Meeting",
    "Participant",
    "Schedule",
    "ScheduleInputError",
    "Slot",
    "parse_event",
]


class ScheduleInputError(ValueError):
    """An event that cannot be scheduled as given; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:20])
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        n = len(self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the event: {shown}{more}")


@dataclass(frozen=True, slots=True)
class Slot:
    """A meeting slot: ``start`` and ``end`` are timezone-aware."""

    id: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone who meets: the slots they are available in and their cap (None: no cap)."""

    id: str
    available: frozenset[str]
    max_meetings: int | None = None


@dataclass(frozen=True, slots=True)
class Meeting:
    """An accepted meeting between ``a`` and ``b``, optionally locked to a slot (and table)."""

    id: str
    a: str
    b: str
    weight: int = 1
    locked_slot: str | None = None
    locked_table: int | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A validated event (build it with :func:`parse_event`). Slots are in time order;
    ``tables`` maps every slot to its tables."""

    slots: tuple[Slot, ...]
    tables: Mapping[str, int]
    participants: tuple[Participant, ...]
    meetings: tuple[Meeting, ...]
    _participant: Mapping[str, Participant] = field(repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not self._participant:  # built directly rather than by parse_event
            object.__setattr__(self, "_participant", {p.id: p for p in self.participants})

    def participant(self, pid: str) -> Participant:
        """The participant with this id."""
        return self._participant[pid]

    def slot_ids(self) -> list[str]:
        """Slot ids in time order."""
        return [s.id for s in self.slots]

    def feasible_slots(self, meeting: Meeting) -> list[str]:
        """Slots (time order) where both sides are available and there is at least one table."""
        a, b = self._participant[meeting.a], self._participant[meeting.b]
        return [
            s.id
            for s in self.slots
            if s.id in a.available and s.id in b.available and self.tables[s.id] > 0
        ]


@dataclass(frozen=True, slots=True)
class Assignment:
    """A scheduled meeting: its slot and its table (1..tables of that slot)."""

    meeting: str
    slot: str
    table: int


@dataclass(frozen=True, slots=True)
class Schedule:
    """A schedule and what is known about its quality.

    ``objective`` is the total weight of scheduled meetings and ``bound`` the best upper bound on
    it proven by the solver (equal to ``objective`` when ``status`` is ``"optimal"``). The other
    figures are the lower-priority objectives of the schedule found (see docs/scheduling.md).
    """

    status: str  # "optimal" | "feasible"
    objective: int
    bound: int
    assignments: tuple[Assignment, ...]
    unscheduled: tuple[str, ...]
    without_meetings: int = 0  # participants with requests but no scheduled meeting
    fairness: tuple[int, ...] = ()  # F_k: participants below min(k, their requests), k = 1..
    idle_gaps: int = 0
    moved: int | None = None  # re-scheduling only: previous meetings not in their old slot
    method: str = "cp-sat"
    seconds: float = 0.0
    steps: tuple[str, ...] = ()  # status of each lexicographic step

    @property
    def gap(self) -> float:
        """Relative distance of the objective from the proven bound (0 when optimal)."""
        return 0.0 if self.bound <= 0 else (self.bound - self.objective) / self.bound

    def slot_of(self) -> dict[str, str]:
        """Meeting id → slot id of the scheduled meetings."""
        return {a.meeting: a.slot for a in self.assignments}

    def to_dict(self) -> dict[str, Any]:
        """The SCHEDULE.json contract (issue 6) plus a ``summary`` of the quality figures."""
        return {
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "assignments": [
                {"meeting": a.meeting, "slot": a.slot, "table": a.table} for a in self.assignments
            ],
            "unscheduled": list(self.unscheduled),
            "summary": {
                "scheduled": len(self.assignments),
                "gap": round(self.gap, 6),
                "participants_without_meetings": self.without_meetings,
                "fairness": list(self.fairness),
                "idle_gaps": self.idle_gaps,
                "moved": self.moved,
                "method": self.method,
                "seconds": round(self.seconds, 3),
                "steps": list(self.steps),
            },
        }


def _text_id(value: Any, where: str, problems: list[str]) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    problems.append(f"{where}: id must be a non-empty string, not {value!r}")
    return None


def _whole(value: Any) -> int | None:
    """``value`` as an int if it is a whole number (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _time(value: Any, where: str, problems: list[str]) -> datetime | None:
    if not isinstance(value, str):
        problems.append(f"{where}: expected an ISO-8601 date-time string, not {value!r}")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        problems.append(f"{where}: {value!r} is not an ISO-8601 date-time")
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        problems.append(f"{where}: {value!r} has no UTC offset (write e.g. +02:00 or Z)")
        return None
    return moment


def _list(data: Mapping[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{key}: expected a list, not {type(value).__name__}")
        return []
    return value


def _parse_slots(data: Mapping[str, Any], problems: list[str]) -> list[Slot]:
    slots: list[Slot] = []
    seen: set[str] = set()
    for i, item in enumerate(_list(data, "slots", problems)):
        where = f"slots[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: expected an object with id, start and end")
            continue
        sid = _text_id(item.get("id"), where, problems)
        if sid is not None:
            where = f"slot {sid!r}"
            if sid in seen:
                problems.append(f"{where}: duplicate slot id")
                continue
            seen.add(sid)
        start = _time(item.get("start"), f"{where}: start", problems)
        end = _time(item.get("end"), f"{where}: end", problems)
        if start is not None and end is not None and not start < end:
            problems.append(f"{where}: end {item['end']} is not after start {item['start']}")
            continue
        if sid is not None and start is not None and end is not None:
            slots.append(Slot(sid, start, end))
    slots.sort(key=lambda s: (s.start, s.end, s.id))
    for previous, slot in zip(slots, slots[1:], strict=False):
        if slot.start < previous.end:
            problems.append(
                f"slot {slot.id!r}: overlaps slot {previous.id!r} (slots must not overlap: "
                "nobody can be in two at once)"
            )
    return slots


def _parse_tables(data: Mapping[str, Any], slot_ids: list[str], problems: list[str]) -> dict:
    raw = data.get("tables")
    tables: dict[str, int] = {}
    if raw is None:
        if slot_ids:
            problems.append("tables: missing (one number for all slots or {slot id: number})")
        return dict.fromkeys(slot_ids, 0)
    if isinstance(raw, Mapping):
        known = set(slot_ids)
        for sid, value in raw.items():
            if sid not in known:
                problems.append(f"tables: unknown slot id {sid!r}")
            n = _whole(value)
            if n is None or n < 0:
                problems.append(
                    f"tables of slot {sid!r}: expected a whole number ≥ 0, not {value!r}"
                )
            elif sid in known:
                tables[sid] = n
        for sid in slot_ids:
            if sid not in raw:
                problems.append(f"tables: no number of tables for slot {sid!r}")
    else:
        n = _whole(raw)
        if n is None or n < 0:
            problems.append(f"tables: expected a whole number ≥ 0 or an object, not {raw!r}")
        else:
            tables = dict.fromkeys(slot_ids, n)
    for sid in slot_ids:
        tables.setdefault(sid, 0)
    return tables


def _parse_participants(
    data: Mapping[str, Any], slot_ids: list[str], problems: list[str]
) -> list[Participant]:
    people: list[Participant] = []
    seen: set[str] = set()
    known = set(slot_ids)
    for i, item in enumerate(_list(data, "participants", problems)):
        where = f"participants[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: expected an object with an id")
            continue
        pid = _text_id(item.get("id"), where, problems)
        if pid is None:
            continue
        where = f"participant {pid!r}"
        if pid in seen:
            problems.append(f"{where}: duplicate participant id")
            continue
        seen.add(pid)
        available = item.get("available")
        if available is None:
            slots = frozenset(slot_ids)
        elif not isinstance(available, list):
            problems.append(f"{where}: available must be a list of slot ids")
            slots = frozenset()
        else:
            unknown = [s for s in available if s not in known]
            if unknown:
                problems.append(f"{where}: available names unknown slot ids {unknown!r}")
            slots = frozenset(s for s in available if s in known)
        cap_raw = item.get("max_meetings")
        cap = None if cap_raw is None else _whole(cap_raw)
        if cap_raw is not None and (cap is None or cap < 0):
            problems.append(f"{where}: max_meetings must be a whole number ≥ 0, not {cap_raw!r}")
            cap = None
        people.append(Participant(pid, slots, cap))
    return people


def _parse_meetings(
    data: Mapping[str, Any],
    people: Mapping[str, Participant],
    tables: Mapping[str, int],
    problems: list[str],
) -> list[Meeting]:
    meetings: list[Meeting] = []
    seen: set[str] = set()
    for i, item in enumerate(_list(data, "meetings", problems)):
        where = f"meetings[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: expected an object with id, a and b")
            continue
        mid = _text_id(item.get("id"), where, problems)
        if mid is None:
            continue
        where = f"meeting {mid!r}"
        if mid in seen:
            problems.append(f"{where}: duplicate meeting id")
            continue
        seen.add(mid)
        ok = True
        sides = []
        for side in ("a", "b"):
            pid = item.get(side)
            if pid not in people:
                problems.append(f"{where}: {side} is an unknown participant id {pid!r}")
                ok = False
            sides.append(pid)
        if ok and sides[0] == sides[1]:
            problems.append(f"{where}: a and b are the same participant {sides[0]!r}")
            ok = False
        raw_weight = item.get("weight", 1)
        weight = _whole(raw_weight)
        if weight is None or weight <= 0:
            problems.append(f"{where}: weight must be a whole number ≥ 1, not {raw_weight!r}")
            ok = False
        slot = item.get("locked_slot")
        table_raw = item.get("locked_table")
        table = None if table_raw is None else _whole(table_raw)
        if slot is not None and slot not in tables:
            problems.append(f"{where}: locked_slot is an unknown slot id {slot!r}")
            ok = False
        elif slot is not None and ok:
            for pid in sides:
                if slot not in people[pid].available:
                    problems.append(
                        f"{where}: locked to slot {slot!r} where {pid!r} is not available"
                    )
                    ok = False
        if table_raw is not None:
            if slot is None:
                problems.append(f"{where}: locked_table needs a locked_slot")
                ok = False
            elif table is None or not 1 <= table <= tables.get(slot, 0):
                n = tables.get(slot, 0)
                problems.append(
                    f"{where}: locked_table {table_raw!r} is not a table of slot {slot!r} (1..{n})"
                )
                ok = False
        if ok:
            meetings.append(Meeting(mid, sides[0], sides[1], weight, slot, table))
    return meetings


def _check_locks(
    meetings: list[Meeting],
    people: Mapping[str, Participant],
    tables: Mapping[str, int],
    problems: list[str],
) -> None:
    """Locks must be satisfiable on their own: then every event that passes has a schedule."""
    per_slot: dict[str, list[str]] = defaultdict(list)
    per_person_slot: dict[tuple[str, str], list[str]] = defaultdict(list)
    per_person: Counter[str] = Counter()
    per_table: dict[tuple[str, int], list[str]] = defaultdict(list)
    for m in meetings:
        if m.locked_slot is None:
            continue
        per_slot[m.locked_slot].append(m.id)
        for pid in (m.a, m.b):
            per_person_slot[pid, m.locked_slot].append(m.id)
            per_person[pid] += 1
        if m.locked_table is not None:
            per_table[m.locked_slot, m.locked_table].append(m.id)
    for sid, ids in per_slot.items():
        if len(ids) > tables[sid]:
            problems.append(
                f"slot {sid!r}: {len(ids)} meetings are locked to it but it has "
                f"{tables[sid]} tables ({', '.join(ids)})"
            )
    for (pid, sid), ids in per_person_slot.items():
        if len(ids) > 1:
            problems.append(
                f"participant {pid!r}: locked into {len(ids)} meetings in slot {sid!r} "
                f"({', '.join(ids)})"
            )
    for pid, n in per_person.items():
        cap = people[pid].max_meetings
        if cap is not None and n > cap:
            problems.append(f"participant {pid!r}: {n} locked meetings exceed max_meetings {cap}")
    for (sid, table), ids in per_table.items():
        if len(ids) > 1:
            problems.append(f"slot {sid!r}: table {table} is locked for {', '.join(ids)}")


def parse_event(data: Any) -> Event:
    """Validate an event given as the EVENT.json structure (see docs/scheduling.md).

    Raises :class:`ScheduleInputError` listing every problem, each naming its item and field.
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise ScheduleInputError(
            [
                f"the event must be an object with slots, tables, participants and meetings, "
                f"not {type(data).__name__}"
            ]
        )
    unknown = sorted(set(data) - {"slots", "tables", "participants", "meetings"})
    if unknown:
        problems.append(f"unknown top-level keys {unknown!r}")
    slots = _parse_slots(data, problems)
    slot_ids = [s.id for s in slots]
    tables = _parse_tables(data, slot_ids, problems)
    people = _parse_participants(data, slot_ids, problems)
    by_id = {p.id: p for p in people}
    meetings = _parse_meetings(data, by_id, tables, problems)
    _check_locks(meetings, by_id, tables, problems)
    if problems:
        raise ScheduleInputError(problems)
    return Event(tuple(slots), dict(tables), tuple(people), tuple(meetings), by_id)
