"""Schedules of matchmaking events (issue 6): the organiser's working copy, published versions
and each participant's agenda.

The working copy is ``Meeting.slot_id``/``table_number``. :func:`run_scheduler` fills it with
:func:`clusteratlas.scheduling.solve` (or :func:`~clusteratlas.scheduling.reschedule` once a
schedule was published, so that as few published meetings as possible move); the organiser
locks, unlocks and moves meetings in the grid (:func:`lock_meeting`, :func:`unlock_meeting`,
:func:`move_meeting`) and publishes (:func:`publish_schedule`): a :class:`ScheduleVersion`
snapshot, and a notification to exactly the participants whose meetings were added, moved or
removed. Participants only ever see the published schedule (:func:`agenda`), plus the standby
meetings made on the day (never published).

Physical meetings sit at tables 1..``EventSlot.tables``. An event with a
``virtual_link_template`` also holds meetings online: numbers above the slot's tables are
online rooms, each meeting with its own link. Times are stored in UTC and shown in the event's
zone (:func:`~clusteratlas.collaboration.event_access.local_time`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from clusteratlas import scheduling
from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.event_access import local_time, require_organiser
from clusteratlas.collaboration.mail import notify
from clusteratlas.collaboration.models import (
    Event,
    EventSlot,
    Meeting,
    MeetingOrigin,
    Participant,
    ParticipantStatus,
    ScheduleVersion,
    User,
)

__all__ = [
    "MAX_NOTE",
    "MAX_TIME_LIMIT",
    "Agenda",
    "AgendaItem",
    "Gap",
    "Publication",
    "ScheduleQuality",
    "SchedulerRun",
    "WorkingSchedule",
    "agenda",
    "is_online",
    "latest_version",
    "lock_meeting",
    "meeting_link",
    "move_meeting",
    "publish_schedule",
    "run_scheduler",
    "schedule_quality",
    "scheduling_event",
    "slot_label",
    "unlock_meeting",
    "versions",
    "working_schedule",
]

MAX_NOTE = 2_000
MAX_TIME_LIMIT = 60.0
#: the highest room number accepted for an online meeting (events with virtual links)
MAX_ONLINE_ROOM = 100_000
_ENTITY = "event"


# ---- small helpers -----------------------------------------------------------------------


def _slots(session: Session, event: Event) -> list[EventSlot]:
    return list(
        session.scalars(
            select(EventSlot)
            .where(EventSlot.event_id == event.id)
            .order_by(EventSlot.starts_at, EventSlot.id)
        )
    )


def _live_meetings(session: Session, event: Event) -> list[Meeting]:
    """The event's meetings that are not cancelled, with both sides loaded, by id."""
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.event_id == event.id, Meeting.cancelled_at.is_(None))
            .options(
                joinedload(Meeting.a).joinedload(Participant.organisation),
                joinedload(Meeting.b).joinedload(Participant.organisation),
            )
            .order_by(Meeting.id)
        ).unique()
    )


def _approved(participant: Participant) -> bool:
    return participant.status == ParticipantStatus.approved


def _available(participant: Participant, slot_id: int) -> bool:
    ids = participant.available_slot_ids
    return ids is None or slot_id in {int(i) for i in ids}


def _cap(event: Event, participant: Participant) -> int | None:
    """The smaller of the participant's and the event's cap (None: no cap)."""
    caps = [
        c for c in (participant.max_meetings, event.max_meetings_per_participant) if c is not None
    ]
    return min(caps) if caps else None


def is_online(event: Event, slot: EventSlot, table: int | None) -> bool:
    """A meeting at ``table`` in ``slot`` is held online (events with virtual links: numbers
    above the slot's physical tables)."""
    return bool(event.virtual_link_template) and table is not None and table > slot.tables


def meeting_link(event: Event, meeting_id: int) -> str | None:
    """The meeting's online link (``{meeting}`` in the event's template → its id)."""
    if not event.virtual_link_template:
        return None
    return event.virtual_link_template.replace("{meeting}", str(meeting_id))


def _single_day(event: Event, slots: Sequence[EventSlot]) -> bool:
    return len({local_time(event, s.starts_at).date() for s in slots}) <= 1


def slot_label(event: Event, slot: EventSlot, *, with_day: bool = False) -> str:
    """``10:30`` in the event's zone (``Tue 14 May 10:30`` with ``with_day``)."""
    start = local_time(event, slot.starts_at)
    return start.strftime("%a %d %b %H:%M") if with_day else start.strftime("%H:%M")


def _labeller(event: Event, slots: Sequence[EventSlot]) -> Any:
    with_day = not _single_day(event, slots)
    return lambda slot: slot_label(event, slot, with_day=with_day)


def _pair(meeting: Meeting) -> str:
    return f"{meeting.a.display_name} – {meeting.b.display_name}"


def _place(event: Event, slot: EventSlot, table: int | None) -> str:
    if table is None:
        return "no table"
    return "online" if is_online(event, slot, table) else f"table {table}"


# ---- the scheduling problem --------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """The database event as a :class:`scheduling.Event`, with the rows behind its ids."""

    event: scheduling.Event
    slots: dict[str, EventSlot]
    meetings: dict[str, Meeting]
    participants: dict[str, Participant]
    #: live meetings left out of the problem (a side not approved, a standby without slot)
    left_out: list[Meeting] = field(default_factory=list)


def _capacity(event: Event, slot: EventSlot, meetings: int) -> int:
    """Meetings a slot can hold: its tables, plus one online room per meeting if virtual."""
    return slot.tables + (max(meetings, 1) if event.virtual_link_template else 0)


def _translate(problems: Iterable[str], problem: _Problem, label: Any) -> list[str]:
    """The solver's messages with ids replaced by the names people know."""

    def name_of(kind: str, key: str) -> str:
        if kind == "meeting" and key in problem.meetings:
            return f'meeting "{_pair(problem.meetings[key])}"'
        if kind == "participant" and key in problem.participants:
            return problem.participants[key].display_name
        if kind == "slot" and key in problem.slots:
            return f"the slot at {label(problem.slots[key])}"
        return f"{kind} {key}"

    def ids_in_parentheses(match: re.Match[str]) -> str:
        keys = [k.strip() for k in match.group(1).split(",")]
        if all(k in problem.meetings for k in keys):
            return "(" + "; ".join(_pair(problem.meetings[k]) for k in keys) + ")"
        return match.group(0)

    out = []
    for text in problems:
        text = re.sub(r"\(([\w, ]+)\)", ids_in_parentheses, text)
        text = re.sub(
            r"\b(meeting|participant|slot) '([^']*)'", lambda m: name_of(m[1], m[2]), text
        )
        text = re.sub(
            r"'(\d+)' is not available",
            lambda m: f"{name_of('participant', m[1])} is not available",
            text,
        )
        out.append(text)
    return out


def _build(session: Session, event: Event, *, locks: bool = True) -> _Problem:
    slots = _slots(session, event)
    slot_by_id = {str(s.id): s for s in slots}
    label = _labeller(event, slots)
    people = list(
        session.scalars(
            select(Participant)
            .where(
                Participant.event_id == event.id, Participant.status == ParticipantStatus.approved
            )
            .order_by(Participant.id)
        )
    )
    person = {str(p.id): p for p in people}
    chosen: list[Meeting] = []
    left_out: list[Meeting] = []
    problems: list[str] = []
    for meeting in _live_meetings(session, event):
        standby = meeting.origin == MeetingOrigin.standby
        if not (_approved(meeting.a) and _approved(meeting.b)) or (
            standby and meeting.slot_id is None
        ):
            if locks and meeting.locked and not standby:
                who = meeting.a if not _approved(meeting.a) else meeting.b
                problems.append(
                    f'meeting "{_pair(meeting)}" is locked but the registration of '
                    f"{who.display_name} is {who.status.value}: unlock the meeting"
                )
            left_out.append(meeting)
            continue
        chosen.append(meeting)
        pinned = standby or (locks and meeting.locked)
        if not pinned:
            continue
        if meeting.slot_id is None or str(meeting.slot_id) not in slot_by_id:
            problems.append(
                f'meeting "{_pair(meeting)}" is locked but its slot no longer exists: '
                "move it to another slot or unlock it"
            )
            continue
        slot = slot_by_id[str(meeting.slot_id)]
        for side in (meeting.a, meeting.b):
            if not _available(side, slot.id):
                problems.append(
                    f'meeting "{_pair(meeting)}" is locked to {label(slot)} but '
                    f"{side.display_name} is not available then: move it or unlock it"
                )
    if problems:
        raise ValidationError({"schedule": "; ".join(problems)})
    data = {
        "slots": [
            {"id": str(s.id), "start": s.starts_at.isoformat(), "end": s.ends_at.isoformat()}
            for s in slots
        ],
        "tables": {str(s.id): _capacity(event, s, len(chosen)) for s in slots},
        "participants": [
            {
                "id": str(p.id),
                "available": None
                if p.available_slot_ids is None
                else [str(i) for i in p.available_slot_ids if str(i) in slot_by_id],
                "max_meetings": _cap(event, p),
            }
            for p in people
        ],
        "meetings": [],
    }
    for meeting in chosen:
        pinned = meeting.origin == MeetingOrigin.standby or (locks and meeting.locked)
        item: dict[str, Any] = {
            "id": str(meeting.id),
            "a": str(meeting.a_id),
            "b": str(meeting.b_id),
            "weight": meeting.weight,
        }
        if pinned:
            item["locked_slot"] = str(meeting.slot_id)
            slot = slot_by_id[str(meeting.slot_id)]
            if meeting.table_number is not None and meeting.table_number <= _capacity(
                event, slot, len(chosen)
            ):
                item["locked_table"] = meeting.table_number
        data["meetings"].append(item)
    problem = _Problem(
        scheduling.Event((), {}, (), ()),
        slot_by_id,
        {str(m.id): m for m in chosen},
        person,
        left_out,
    )
    try:
        parsed = scheduling.parse_event(data)
    except scheduling.ScheduleInputError as exc:
        raise ValidationError(
            {"schedule": "; ".join(_translate(exc.problems, problem, label))}
        ) from None
    return _Problem(parsed, slot_by_id, problem.meetings, person, left_out)


def scheduling_event(session: Session, event: Event) -> scheduling.Event:
    """The event as the scheduler's input: approved participants (availability: their slots,
    None = all; cap: the smaller of theirs and the event's), the meetings not cancelled between
    approved participants (locked ones, and standby meetings, kept in their slot and table).
    Ids are the database ids as strings.

    A locked meeting that cannot stay (its slot is gone, a side is unavailable then, more locks
    than tables…) raises :class:`ValidationError` on ``schedule`` naming the meeting and people.
    """
    return _build(session, event).event


# ---- quality -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleQuality:
    """How good a schedule is: meetings scheduled against the upper bound, participants with
    requests but no meeting, idle gaps."""

    meetings: int
    scheduled: int
    weight: int
    bound: int
    participants_with_requests: int
    without_meetings: int
    idle_gaps: int
    fairness: tuple[int, ...] = ()

    @property
    def share_of_bound(self) -> float:
        """Scheduled weight as a share of the bound (1 when the bound is 0)."""
        return 1.0 if self.bound <= 0 else self.weight / self.bound

    def as_dict(self) -> dict[str, Any]:
        return {
            "meetings": self.meetings,
            "scheduled": self.scheduled,
            "weight": self.weight,
            "bound": self.bound,
            "participants_with_requests": self.participants_with_requests,
            "without_meetings": self.without_meetings,
            "idle_gaps": self.idle_gaps,
            "fairness": list(self.fairness),
        }


def _measure(problem: _Problem, slot_of: Mapping[str, str], bound: int | None) -> ScheduleQuality:
    ev = problem.event
    slot_of = {m: s for m, s in slot_of.items() if m in problem.meetings and s in ev.tables}
    measured = scheduling.evaluate(ev, slot_of)
    with_requests = {p for m in ev.meetings for p in (m.a, m.b)}
    simple = scheduling.simple_bound(ev)
    return ScheduleQuality(
        meetings=len(ev.meetings),
        scheduled=len(slot_of),
        weight=measured.weight,
        bound=max(measured.weight, simple if bound is None else min(bound, simple)),
        participants_with_requests=len(with_requests),
        without_meetings=measured.without_meetings,
        idle_gaps=measured.idle_gaps,
        fairness=measured.fairness,
    )


def latest_version(session: Session, event: Event) -> ScheduleVersion | None:
    """The latest published schedule of ``event`` (None before the first publication)."""
    return session.scalars(
        select(ScheduleVersion)
        .where(ScheduleVersion.event_id == event.id)
        .order_by(ScheduleVersion.version.desc())
        .limit(1)
    ).first()


def versions(session: Session, event: Event, *, actor: User | None) -> list[ScheduleVersion]:
    """The published versions, newest first (organisers)."""
    require_organiser(actor, event)
    return list(
        session.scalars(
            select(ScheduleVersion)
            .where(ScheduleVersion.event_id == event.id)
            .order_by(ScheduleVersion.version.desc())
        )
    )


def schedule_quality(
    session: Session, event: Event, *, published: bool = False
) -> ScheduleQuality | None:
    """The quality of the working copy (or of the latest published version): None when the
    event's slots cannot be scheduled at all (e.g. overlapping slots), or, for ``published``,
    before the first publication. Locks are ignored here (they do not change the figures)."""
    try:
        problem = _build(session, event, locks=False)
    except ValidationError:
        return None
    if published:
        version = latest_version(session, event)
        if version is None:
            return None
        slot_of = {mid: str(a["slot"]) for mid, a in version.assignments.items()}
        bound = version.quality.get("bound") if version.quality else None
        return _measure(problem, slot_of, bound if isinstance(bound, int) else None)
    slot_of = {key: str(m.slot_id) for key, m in problem.meetings.items() if m.slot_id is not None}
    return _measure(problem, slot_of, None)


# ---- running the scheduler ---------------------------------------------------------------


@dataclass(frozen=True)
class SchedulerRun:
    """What :func:`run_scheduler` did: the solver's figures and the schedule's quality."""

    status: str
    objective: int
    bound: int
    gap: float
    method: str
    seconds: float
    rescheduled: bool
    moved: int | None
    quality: ScheduleQuality
    unscheduled: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": round(self.gap, 6),
            "method": self.method,
            "seconds": round(self.seconds, 3),
            "rescheduled": self.rescheduled,
            "moved": self.moved,
            "quality": self.quality.as_dict(),
            "unscheduled": list(self.unscheduled),
        }


def _previous(problem: _Problem, version: ScheduleVersion) -> scheduling.Schedule:
    kept = []
    for mid, where in version.assignments.items():
        slot, table = str(where.get("slot")), where.get("table")
        if mid in problem.meetings and slot in problem.slots and isinstance(table, int):
            kept.append(scheduling.Assignment(mid, slot, table))
    return scheduling.Schedule("feasible", 0, 0, tuple(kept), ())


def run_scheduler(
    session: Session, event: Event, *, actor: User, time_limit: float = 10.0
) -> SchedulerRun:
    """Schedule the event's meetings into the working copy (organisers). Once a schedule was
    published, :func:`~clusteratlas.scheduling.reschedule` moves as few published meetings as
    possible; before, :func:`~clusteratlas.scheduling.solve`. Every meeting of the problem gets
    its slot and table (None when unscheduled); meetings with a side no longer approved are
    unscheduled."""
    require_organiser(actor, event)
    if not 0 < time_limit <= MAX_TIME_LIMIT:
        raise ValidationError({"time_limit": f"give between 0 and {MAX_TIME_LIMIT:g} seconds"})
    problem = _build(session, event)
    version = latest_version(session, event) if event.schedule_version else None
    if version is not None:
        result = scheduling.reschedule(
            problem.event, _previous(problem, version), time_limit=time_limit
        )
    else:
        result = scheduling.solve(problem.event, time_limit=time_limit)
    placed = {a.meeting: a for a in result.assignments}
    for key, meeting in problem.meetings.items():
        if meeting.origin == MeetingOrigin.standby:
            continue
        where = placed.get(key)
        slot_id = int(where.slot) if where else None
        table = where.table if where else None
        if (meeting.slot_id, meeting.table_number) != (slot_id, table):
            meeting.slot_id, meeting.table_number = slot_id, table
    for meeting in problem.left_out:
        if meeting.origin != MeetingOrigin.standby and meeting.slot_id is not None:
            meeting.slot_id, meeting.table_number, meeting.locked = None, None, False
    session.flush()
    slot_of = {a.meeting: a.slot for a in result.assignments}
    run = SchedulerRun(
        status=result.status,
        objective=result.objective,
        bound=result.bound,
        gap=result.gap,
        method=result.method,
        seconds=result.seconds,
        rescheduled=version is not None,
        moved=result.moved,
        quality=_measure(problem, slot_of, result.bound),
        unscheduled=tuple(int(m) for m in result.unscheduled),
    )
    record(
        session,
        actor=actor,
        action="schedule.run",
        entity_type=_ENTITY,
        entity_id=event.id,
        changes={k: v for k, v in run.as_dict().items() if k != "unscheduled"},
    )
    session.flush()
    return run


# ---- the organiser's grid ----------------------------------------------------------------


@dataclass(frozen=True)
class WorkingSchedule:
    """The working copy for the grid: slots in time order, the meetings of each slot, the
    unscheduled meetings with the reason when it can be told, and the quality."""

    event: Event
    slots: list[EventSlot]
    #: slot id → table → meeting (online meetings included, above the physical tables)
    cells: dict[int, dict[int, Meeting]]
    #: slot id → meetings in that slot without a usable table
    loose: dict[int, list[Meeting]]
    unscheduled: list[tuple[Meeting, str]]
    tables: int
    online: bool
    quality: ScheduleQuality | None
    labels: dict[int, str]

    def online_in(self, slot: EventSlot) -> list[Meeting]:
        """The online meetings of ``slot``, by room."""
        row = self.cells.get(slot.id, {})
        return [row[t] for t in sorted(row) if t > slot.tables]


def _why_unscheduled(
    event: Event,
    meeting: Meeting,
    slots: Sequence[EventSlot],
    busy: Mapping[int, set[int]],
    used: Mapping[int, int],
    count: Counter[int],
) -> str:
    for side in (meeting.a, meeting.b):
        if not _approved(side):
            return f"the registration of {side.display_name} is {side.status.value}"
    common = [
        s
        for s in slots
        if _available(meeting.a, s.id)
        and _available(meeting.b, s.id)
        and (s.tables > 0 or event.virtual_link_template)
    ]
    if not common:
        return "no common free slot: they are never available at the same time"
    for side in (meeting.a, meeting.b):
        cap = _cap(event, side)
        if cap is not None and count[side.id] >= cap:
            return f"{side.display_name} has reached the cap of {cap} meetings"
    free = [
        s
        for s in common
        if s.id not in busy[meeting.a_id]
        and s.id not in busy[meeting.b_id]
        and (event.virtual_link_template or used[s.id] < s.tables)
    ]
    if not free:
        return "every slot they share is taken by their other meetings or has no free table"
    return "not placed: run the scheduler, or move it by hand"


def working_schedule(session: Session, event: Event, *, actor: User | None) -> WorkingSchedule:
    """The working copy as the organiser's grid shows it (organisers)."""
    require_organiser(actor, event)
    slots = _slots(session, event)
    slot_of = {s.id: s for s in slots}
    slot_ids = set(slot_of)
    label = _labeller(event, slots)
    cells: dict[int, dict[int, Meeting]] = defaultdict(dict)
    loose: dict[int, list[Meeting]] = defaultdict(list)
    busy: dict[int, set[int]] = defaultdict(set)
    used: Counter[int] = Counter()
    count: Counter[int] = Counter()
    waiting: list[Meeting] = []
    for meeting in _live_meetings(session, event):
        if meeting.slot_id is None or meeting.slot_id not in slot_ids:
            waiting.append(meeting)
            continue
        row = cells[meeting.slot_id]
        table = meeting.table_number
        beyond = table is not None and table > slot_of[meeting.slot_id].tables
        if table is None or table in row or (beyond and not event.virtual_link_template):
            loose[meeting.slot_id].append(meeting)
        else:
            row[meeting.table_number] = meeting
        used[meeting.slot_id] += 1
        for pid in (meeting.a_id, meeting.b_id):
            busy[pid].add(meeting.slot_id)
            count[pid] += 1
    unscheduled = [(m, _why_unscheduled(event, m, slots, busy, used, count)) for m in waiting]
    return WorkingSchedule(
        event=event,
        slots=slots,
        cells=dict(cells),
        loose=dict(loose),
        unscheduled=unscheduled,
        tables=max((s.tables for s in slots), default=0),
        online=bool(event.virtual_link_template),
        quality=schedule_quality(session, event),
        labels={s.id: label(s) for s in slots},
    )


def _own_meeting(event: Event, meeting: Meeting) -> None:
    if meeting.event_id != event.id:
        raise ValidationError({"meeting": "this meeting is not part of this event"})
    if meeting.cancelled_at is not None:
        raise ValidationError({"meeting": "this meeting was cancelled"})


def lock_meeting(session: Session, event: Event, meeting: Meeting, *, actor: User) -> Meeting:
    """Pin a scheduled meeting to its slot and table: the scheduler keeps it there."""
    require_organiser(actor, event)
    _own_meeting(event, meeting)
    if meeting.slot_id is None:
        raise ValidationError({"meeting": "only a scheduled meeting can be locked: move it first"})
    if not meeting.locked:
        meeting.locked = True
        record(
            session,
            actor=actor,
            action="meeting.locked",
            entity_type="meeting",
            entity_id=meeting.id,
            changes={"slot_id": meeting.slot_id, "table_number": meeting.table_number},
        )
        session.flush()
    return meeting


def unlock_meeting(session: Session, event: Event, meeting: Meeting, *, actor: User) -> Meeting:
    """Let the scheduler move the meeting again."""
    require_organiser(actor, event)
    _own_meeting(event, meeting)
    if meeting.locked:
        meeting.locked = False
        record(
            session,
            actor=actor,
            action="meeting.unlocked",
            entity_type="meeting",
            entity_id=meeting.id,
        )
        session.flush()
    return meeting


def move_meeting(
    session: Session,
    event: Event,
    meeting: Meeting,
    slot: EventSlot | None,
    table: int | None,
    *,
    actor: User,
) -> Meeting:
    """Put a meeting in ``slot`` at ``table`` by hand (``table`` None: the lowest free one;
    ``slot`` None: unschedule it). Refused, with a message on ``slot`` or ``table``, when it
    breaks a rule: a side unavailable or already meeting someone then, a side at their cap,
    the table taken or not a table of the slot. A moved meeting is locked, so that the
    scheduler keeps it where the organiser put it."""
    require_organiser(actor, event)
    _own_meeting(event, meeting)
    old = (meeting.slot_id, meeting.table_number)
    if slot is None:
        if table is not None:
            raise ValidationError({"table": "choose a slot for the table"})
        meeting.slot_id, meeting.table_number, meeting.locked = None, None, False
        _record_move(session, actor, meeting, old)
        return meeting
    if slot.event_id != event.id:
        raise ValidationError({"slot": "this slot is not part of this event"})
    errors: dict[str, str] = {}
    when = slot_label(event, slot, with_day=not _single_day(event, _slots(session, event)))
    for side in (meeting.a, meeting.b):
        if not _approved(side):
            errors["slot"] = f"the registration of {side.display_name} is {side.status.value}"
            break
        if not _available(side, slot.id):
            errors["slot"] = f"{side.display_name} is not available at {when}"
            break
    others = [m for m in _live_meetings(session, event) if m.id != meeting.id]
    if "slot" not in errors:
        for other in others:
            if other.slot_id != slot.id:
                continue
            for side in (meeting.a, meeting.b):
                if side.id in (other.a_id, other.b_id):
                    partner = other.b if other.a_id == side.id else other.a
                    errors["slot"] = (
                        f"{side.display_name} already meets {partner.display_name} at {when}"
                    )
                    break
            if "slot" in errors:
                break
    if "slot" not in errors and meeting.slot_id is None:
        for side in (meeting.a, meeting.b):
            cap = _cap(event, side)
            scheduled = sum(
                1 for o in others if o.slot_id is not None and side.id in (o.a_id, o.b_id)
            )
            if cap is not None and scheduled >= cap:
                errors["slot"] = f"{side.display_name} has reached the cap of {cap} meetings"
                break
    taken = {o.table_number for o in others if o.slot_id == slot.id and o.table_number}
    limit = slot.tables + (MAX_ONLINE_ROOM if event.virtual_link_template else 0)
    if table is None:
        free = [t for t in range(1, limit + 1) if t not in taken]
        if not free:
            errors.setdefault("table", f"every table at {when} is taken")
        else:
            table = free[0]
    elif not 1 <= table <= limit:
        errors["table"] = (
            f"the slot at {when} has no tables"
            if slot.tables == 0
            else f"choose a table from 1 to {slot.tables} (the slot at {when} has {slot.tables})"
        )
    elif table in taken:
        other = next(o for o in others if o.slot_id == slot.id and o.table_number == table)
        errors["table"] = f"table {table} at {when} is taken by {_pair(other)}"
    if errors:
        raise ValidationError(errors)
    meeting.slot_id, meeting.table_number, meeting.locked = slot.id, table, True
    _record_move(session, actor, meeting, old)
    return meeting


def _record_move(
    session: Session, actor: User, meeting: Meeting, old: tuple[int | None, int | None]
) -> None:
    record(
        session,
        actor=actor,
        action="meeting.moved",
        entity_type="meeting",
        entity_id=meeting.id,
        changes={
            "slot_id": [old[0], meeting.slot_id],
            "table_number": [old[1], meeting.table_number],
        },
    )
    session.flush()


# ---- publication -------------------------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    """A published version and who was told what (participant id → their lines)."""

    version: ScheduleVersion
    changes: dict[int, list[str]]

    @property
    def notified(self) -> set[int]:
        return set(self.changes)


def _conflicts(
    event: Event, problem: _Problem, assignments: Mapping[str, Mapping[str, Any]], label: Any
) -> list[str]:
    """The rules a working copy breaks (checked before it is published)."""
    out: list[str] = []
    seen_person: dict[tuple[int, int], Meeting] = {}
    seen_table: dict[tuple[int, int], Meeting] = {}
    count: Counter[int] = Counter()
    for key, where in assignments.items():
        meeting = problem.meetings[key]
        slot = problem.slots[str(where["slot"])]
        for side in (meeting.a, meeting.b):
            count[side.id] += 1
            if not _available(side, slot.id):
                out.append(f"{side.display_name} is not available at {label(slot)}")
            other = seen_person.get((side.id, slot.id))
            if other is not None:
                out.append(
                    f"{side.display_name} has two meetings at {label(slot)} "
                    f"({_pair(other)}; {_pair(meeting)})"
                )
            seen_person[side.id, slot.id] = meeting
        table = where["table"]
        capacity = slot.tables + (MAX_ONLINE_ROOM if event.virtual_link_template else 0)
        if table is None or not 1 <= table <= capacity:
            out.append(f'meeting "{_pair(meeting)}" at {label(slot)} has no valid table')
        elif (slot.id, table) in seen_table:
            out.append(
                f"table {table} at {label(slot)} holds two meetings "
                f"({_pair(seen_table[slot.id, table])}; {_pair(meeting)})"
            )
        else:
            seen_table[slot.id, table] = meeting
    for pid, n in count.items():
        person = problem.participants.get(str(pid))
        cap = _cap(event, person) if person is not None else None
        if person is not None and cap is not None and n > cap:
            out.append(f"{person.display_name} has {n} meetings, more than the cap of {cap}")
    return out


def _line(
    event: Event,
    who: Participant,
    meeting: Meeting,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    slots: Mapping[int, EventSlot],
    label: Any,
) -> str:
    partner = meeting.b if meeting.a_id == who.id else meeting.a
    name = partner.display_name

    def at(where: Mapping[str, Any]) -> tuple[str, str]:
        slot = slots.get(int(where["slot"]))
        if slot is None:
            return "a slot that no longer exists", ""
        return label(slot), _place(event, slot, where.get("table"))

    if old is None and new is not None:
        time, place = at(new)
        return f"new: {time} with {name}, {place}"
    if new is None and old is not None:
        time, _place_old = at(old)
        return f"cancelled: {time} with {name}"
    assert old is not None
    assert new is not None
    (t0, p0), (t1, p1) = at(old), at(new)
    if t0 != t1:
        return f"{t0} → {t1} with {name}, {p1}"
    return f"{t1} with {name}: {p0} → {p1}"


def publish_schedule(
    session: Session, event: Event, *, actor: User, note: str = "", base_url: str = ""
) -> Publication:
    """Publish the working copy as the next :class:`ScheduleVersion` and tell, by inbox and
    e-mail, exactly the participants with a meeting added, moved (slot or table) or removed
    since the previous version (the first time: everyone with a meeting), listing their changes.
    Refused when nothing changed since the last version, and when the working copy breaks a
    rule (someone twice in a slot, unavailable, a table taken twice, a cap exceeded)."""
    require_organiser(actor, event)
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationError({"note": f"use at most {MAX_NOTE:,} characters"})
    problem = _build(session, event, locks=False)
    slots_by_id = {s.id: s for s in problem.slots.values()}
    label = _labeller(event, list(slots_by_id.values()))
    assignments: dict[str, dict[str, Any]] = {
        key: {"slot": m.slot_id, "table": m.table_number}
        for key, m in problem.meetings.items()
        if m.origin != MeetingOrigin.standby
        and m.slot_id is not None
        and str(m.slot_id) in problem.slots
    }
    conflicts = _conflicts(event, problem, assignments, label)
    if conflicts:
        raise ValidationError(
            {
                "schedule": "the schedule breaks rules: "
                + "; ".join(conflicts[:10])
                + ("…" if len(conflicts) > 10 else "")
                + ". Run the scheduler or move meetings."
            }
        )
    previous = latest_version(session, event)
    before: dict[str, dict[str, Any]] = dict(previous.assignments) if previous else {}
    if previous is not None and before == assignments:
        raise ValidationError(
            {"schedule": f"nothing changed since version {previous.version} was published"}
        )
    if previous is None and not assignments:
        raise ValidationError({"schedule": "no meeting is scheduled: run the scheduler first"})
    changed = sorted(
        (k for k in set(before) | set(assignments) if before.get(k) != assignments.get(k)),
        key=int,
    )
    rows = {
        m.id: m
        for m in session.scalars(
            select(Meeting)
            .where(Meeting.id.in_([int(k) for k in changed]))
            .options(
                joinedload(Meeting.a).joinedload(Participant.user),
                joinedload(Meeting.b).joinedload(Participant.user),
            )
        ).unique()
    }
    lines: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    people: dict[int, Participant] = {}
    for key in changed:
        meeting = rows.get(int(key))
        if meeting is None:  # deleted with its participant
            continue
        old, new = before.get(key), assignments.get(key)
        where = new or old
        slot = slots_by_id.get(int(where["slot"])) if where else None
        moment = slot.starts_at if slot else event.starts_at or datetime.min.replace(tzinfo=UTC)
        for side in (meeting.a, meeting.b):
            if side.status != ParticipantStatus.approved and new is not None:
                continue
            people[side.id] = side
            lines[side.id].append(
                (moment, _line(event, side, meeting, old, new, slots_by_id, label))
            )
    quality = _measure(problem, {k: str(v["slot"]) for k, v in assignments.items()}, None).as_dict()
    event.schedule_version += 1
    version = ScheduleVersion(
        event_id=event.id,
        version=event.schedule_version,
        assignments=assignments,
        quality=quality,
        note=text,
        published_by=actor.id,
    )
    session.add(version)
    session.flush()
    first = previous is None
    changes: dict[int, list[str]] = {}
    for pid, items in lines.items():
        who = people[pid]
        texts = [t for _m, t in sorted(items, key=lambda pair: pair[0])]
        changes[pid] = texts
        if first:
            subject = f"{event.title}: your meetings are scheduled"
            intro = "The schedule of your meetings is published:"
        else:
            subject = f"{event.title}: your meetings changed"
            intro = f"The schedule changed (version {version.version}). Your changes:"
        body = intro + "\n\n" + "\n".join(f"- {t}" for t in texts)
        if text:
            body += f"\n\nFrom the organisers: {text}"
        notify(
            session,
            user=who.user,
            subject=subject,
            body=body,
            link=f"/events/{event.id}/agenda",
            base_url=base_url,
        )
    record(
        session,
        actor=actor,
        action="schedule.published",
        entity_type=_ENTITY,
        entity_id=event.id,
        changes={"version": version.version, "changed": len(changed), "notified": len(changes)},
    )
    session.flush()
    return Publication(version=version, changes=changes)


# ---- agendas -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaItem:
    """One meeting of an agenda; ``start``/``end`` in UTC (show them with ``local_time``)."""

    meeting_id: int
    slot_id: int
    start: datetime
    end: datetime
    partner: Participant
    table: int | None
    link: str | None
    online: bool
    standby: bool

    @property
    def partner_name(self) -> str:
        return self.partner.display_name

    @property
    def organisation(self) -> str | None:
        org = self.partner.organisation
        return org.name if org is not None else None

    @property
    def location(self) -> str:
        if self.online:
            return f"online: {self.link}" if self.link else "online"
        return f"table {self.table}" if self.table is not None else "table to be announced"


@dataclass(frozen=True)
class Gap:
    """Free time between two meetings: ``slots`` consecutive slots with no meeting."""

    start: datetime
    end: datetime
    slots: int


@dataclass(frozen=True)
class Agenda:
    """A participant's published meetings in time order, and the idle gaps between them."""

    event: Event
    participant: Participant
    version: int
    published_at: datetime | None
    items: list[AgendaItem]
    gaps: list[Gap]

    def rows(self) -> list[AgendaItem | Gap]:
        """Meetings and gaps together, in time order."""
        return sorted([*self.items, *self.gaps], key=lambda row: row.start)


def agenda(session: Session, participant: Participant) -> Agenda:
    """``participant``'s agenda: their meetings in the latest published version (cancelled ones
    left out) and their standby meetings with a slot, in time order, with the partner, the
    table or the online link, and the idle gaps between meetings."""
    event = participant.event
    version = latest_version(session, event)
    slots = _slots(session, event)
    by_id = {s.id: s for s in slots}
    published = dict(version.assignments) if version else {}
    ids = [int(k) for k in published]
    mine = select(Meeting).where(
        Meeting.event_id == event.id,
        Meeting.cancelled_at.is_(None),
        (Meeting.a_id == participant.id) | (Meeting.b_id == participant.id),
    )
    rows = session.scalars(
        mine.where(
            Meeting.id.in_(ids)
            | ((Meeting.origin == MeetingOrigin.standby) & Meeting.slot_id.is_not(None))
        ).options(
            joinedload(Meeting.a).joinedload(Participant.organisation),
            joinedload(Meeting.b).joinedload(Participant.organisation),
        )
    ).unique()
    items: list[AgendaItem] = []
    for meeting in rows:
        standby = meeting.origin == MeetingOrigin.standby and str(meeting.id) not in published
        if standby:
            slot_id, table = meeting.slot_id, meeting.table_number
        else:
            where = published[str(meeting.id)]
            slot_id, table = int(where["slot"]), where.get("table")
        slot = by_id.get(slot_id) if slot_id is not None else None
        if slot is None:
            continue
        online = is_online(event, slot, table)
        items.append(
            AgendaItem(
                meeting_id=meeting.id,
                slot_id=slot.id,
                start=slot.starts_at,
                end=slot.ends_at,
                partner=meeting.b if meeting.a_id == participant.id else meeting.a,
                table=table,
                link=meeting_link(event, meeting.id) if online else None,
                online=online,
                standby=standby,
            )
        )
    items.sort(key=lambda i: (i.start, i.meeting_id))
    return Agenda(
        event=event,
        participant=participant,
        version=version.version if version else 0,
        published_at=version.published_at if version else None,
        items=items,
        gaps=_gaps(participant, slots, items),
    )


def _gaps(
    participant: Participant, slots: Sequence[EventSlot], items: Sequence[AgendaItem]
) -> list[Gap]:
    """Runs of slots the participant is available in, with no meeting, between their first and
    last meeting (the idle gaps the scheduler minimises)."""
    busy = {i.slot_id for i in items}
    if len(busy) < 2:
        return []
    available = [s for s in slots if _available(participant, s.id)]
    marks = [s.id in busy for s in available]
    first, last = marks.index(True), len(marks) - 1 - marks[::-1].index(True)
    gaps: list[Gap] = []
    run: list[EventSlot] = []
    for slot, used in zip(available[first : last + 1], marks[first : last + 1], strict=True):
        if not used:
            run.append(slot)
        elif run:
            gaps.append(Gap(run[0].starts_at, run[-1].ends_at, len(run)))
            run = []
    return gaps
