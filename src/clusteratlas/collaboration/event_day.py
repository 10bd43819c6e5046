"""On the day of a matchmaking event and after it (issue 6): check-in, each meeting held or its
partner absent, the standby list that refills freed slots, and one outcome per meeting and side.

*The day's meetings* (:func:`day_meetings`) are those of the latest published schedule
(:class:`~clusteratlas.collaboration.models.ScheduleVersion`, at the slot and table published,
cancelled meetings skipped) plus the standby meetings made on the day, which have a slot but
are never published. The organiser's working copy (``Meeting.slot_id``) is not what people
follow, so it is not read here for published meetings.

Verbs take the acting user (``actor``): a side of the meeting (or the participant checking in)
or the event's organiser; anyone else gets
:class:`~clusteratlas.collaboration.PermissionDenied`. Timing rules: check-in is open from
:data:`CHECKIN_OPENS_BEFORE` before the event starts until it ends; a meeting is marked held or
absent only once its slot has started; a standby pairing only while the slot runs; an outcome
only for a meeting marked held. Every verb takes ``now`` (default: the current time) for tests.
Each writes an audit row and flushes; the caller commits.

A participant is *freed* in a slot when their partner there is absent: marked absent, or, once
the slot has started, not checked in while they are (and the meeting is not marked held).
:func:`standby_candidates` lists the checked-in standby participants free in that slot, best
first; :func:`pair_standby` makes the standby meeting at the freed table and tells both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.event_access import is_organiser, local_time
from clusteratlas.collaboration.mail import notify
from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    EventSlot,
    EventStatus,
    Meeting,
    MeetingOrigin,
    MeetingOutcome,
    Participant,
    ParticipantStatus,
    ScheduleVersion,
    User,
    utcnow,
)

__all__ = [
    "CHECKIN_OPENS_BEFORE",
    "OUTCOME_LABELS",
    "Candidate",
    "DayMeeting",
    "FreedSlot",
    "check_in",
    "day_meetings",
    "freed_slots",
    "latest_schedule",
    "mark_absent",
    "mark_held",
    "meeting_state",
    "pair_standby",
    "participant_of",
    "record_outcome",
    "side_of",
    "standby_candidates",
    "undo_attendance",
    "undo_check_in",
]

#: check-in opens this long before the event's first session starts
CHECKIN_OPENS_BEFORE = timedelta(hours=24)

OUTCOME_LABELS: dict[str, str] = {
    MeetingOutcome.follow_up: "Follow-up planned",
    MeetingOutcome.partnership: "Partnership started",
    MeetingOutcome.none: "None",
}

_MEETING = "meeting"
_PARTICIPANT = "event_participant"
#: words too common to say two people share an interest
_STOPWORDS = frozenset(
    """and the for with our your from that this are was were will can who what how into about
    their them they you not but all any new more most other some such than then there these
    those also have has had its it's via per out use using based looking seek seeking offer
    offers request requests expertise""".split()  # noqa: SIM905 - a word list reads better as text
)
_WORD = re.compile(r"[^\W\d_][\w-]*", re.UNICODE)


@dataclass(frozen=True)
class DayMeeting:
    """A meeting of the day at its published slot and table (standby ones at their own)."""

    meeting: Meeting
    slot: EventSlot
    table: int | None

    @property
    def id(self) -> int:
        return self.meeting.id

    def other(self, participant_id: int) -> Participant:
        m = self.meeting
        return m.b if m.a_id == participant_id else m.a

    def started(self, now: datetime) -> bool:
        return now >= self.slot.starts_at

    def ended(self, now: datetime) -> bool:
        return now >= self.slot.ends_at


@dataclass(frozen=True)
class FreedSlot:
    """``present`` is free in ``slot`` at ``table`` because ``absent`` did not come to
    ``meeting`` (marked absent, or not checked in once the slot started)."""

    meeting: Meeting
    slot: EventSlot
    table: int | None
    present: Participant
    absent: Participant
    marked: bool


@dataclass(frozen=True)
class Candidate:
    """A standby participant for a freed slot: ``accepted`` if they had an accepted meeting
    with the freed participant that the schedule did not place; the words they share."""

    participant: Participant
    accepted: bool
    shared: list[str] = field(default_factory=list)


# ---- reads -------------------------------------------------------------------------------


def latest_schedule(session: Session, event: Event) -> ScheduleVersion | None:
    """The latest published schedule of ``event`` (None before the first)."""
    return session.scalars(
        select(ScheduleVersion)
        .where(ScheduleVersion.event_id == event.id)
        .order_by(ScheduleVersion.version.desc())
        .limit(1)
    ).first()


def _published(version: ScheduleVersion | None) -> dict[int, tuple[int, int | None]]:
    """meeting id → (slot id, table) of a published schedule, ignoring malformed entries."""
    out: dict[int, tuple[int, int | None]] = {}
    if version is None or not isinstance(version.assignments, dict):
        return out
    for key, value in version.assignments.items():
        try:
            meeting_id = int(key)
            slot_id = int(value["slot"])
            table = value.get("table")
            out[meeting_id] = (slot_id, int(table) if table is not None else None)
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
    return out


def day_meetings(session: Session, event: Event) -> list[DayMeeting]:
    """The meetings of the day: the latest published schedule's (not cancelled) at their
    published slot and table, plus the standby meetings that have a slot; by slot start, then
    table, then id."""
    placed = _published(latest_schedule(session, event))
    slots = {
        slot.id: slot
        for slot in session.scalars(select(EventSlot).where(EventSlot.event_id == event.id))
    }
    conditions = [Meeting.origin == MeetingOrigin.standby]
    if placed:
        conditions.append(Meeting.id.in_(list(placed)))
    meetings = session.scalars(
        select(Meeting)
        .options(joinedload(Meeting.a), joinedload(Meeting.b))
        .where(Meeting.event_id == event.id, Meeting.cancelled_at.is_(None), or_(*conditions))
    ).unique()
    out: list[DayMeeting] = []
    for meeting in meetings:
        if meeting.id in placed:
            slot_id, table = placed[meeting.id]
        elif meeting.origin == MeetingOrigin.standby and meeting.slot_id is not None:
            slot_id, table = meeting.slot_id, meeting.table_number
        else:
            continue
        slot = slots.get(slot_id)
        if slot is not None:
            out.append(DayMeeting(meeting=meeting, slot=slot, table=table))
    out.sort(key=lambda d: (d.slot.starts_at, d.table or 0, d.meeting.id))
    return out


def participant_of(session: Session, event: Event, user: User | None) -> Participant | None:
    """``user``'s approved registration for ``event`` (None if there is none)."""
    if user is None:
        return None
    return session.scalars(
        select(Participant).where(
            Participant.event_id == event.id,
            Participant.user_id == user.id,
            Participant.status == ParticipantStatus.approved,
        )
    ).first()


def side_of(meeting: Meeting, user: User | None) -> str | None:
    """ "a" or "b" if ``user`` is that side of ``meeting``, else None."""
    if user is None:
        return None
    if meeting.a.user_id == user.id:
        return "a"
    if meeting.b.user_id == user.id:
        return "b"
    return None


def meeting_state(meeting: Meeting) -> str:
    """ "held", "absent" (a side marked absent) or "open"."""
    if meeting.absent_participant_id is not None:
        return "absent"
    if meeting.held_at is not None:
        return "held"
    return "open"


def _partner_absent(day: DayMeeting, participant_id: int, now: datetime) -> bool:
    """Is ``participant_id``'s partner in ``day`` absent (marked, or not checked in once the
    slot started while they are)?"""
    m = day.meeting
    other = day.other(participant_id)
    if m.absent_participant_id is not None:
        return m.absent_participant_id == other.id
    if m.held_at is not None or not day.started(now):
        return False
    me = m.a if m.a_id == participant_id else m.b
    return me.checked_in_at is not None and other.checked_in_at is None


def freed_slots(
    session: Session,
    event: Event,
    *,
    now: datetime | None = None,
    days: list[DayMeeting] | None = None,
) -> list[FreedSlot]:
    """The slots running now (started, not ended) in which someone's partner is absent and
    who has no standby meeting there yet; by slot, then table."""
    now = now or utcnow()
    days = day_meetings(session, event) if days is None else days
    standby = {
        (side, d.slot.id)
        for d in days
        if d.meeting.origin == MeetingOrigin.standby
        for side in (d.meeting.a_id, d.meeting.b_id)
    }
    out: list[FreedSlot] = []
    for day in days:
        if not day.started(now) or day.ended(now) or day.meeting.origin == MeetingOrigin.standby:
            continue
        m = day.meeting
        for present in (m.a, m.b):
            if _partner_absent(day, present.id, now) and (present.id, day.slot.id) not in standby:
                out.append(
                    FreedSlot(
                        meeting=m,
                        slot=day.slot,
                        table=day.table,
                        present=present,
                        absent=day.other(present.id),
                        marked=m.absent_participant_id is not None,
                    )
                )
    return out


def _cap(event: Event, participant: Participant) -> int | None:
    caps = [c for c in (participant.max_meetings, event.max_meetings_per_participant) if c]
    zero = participant.max_meetings == 0 or event.max_meetings_per_participant == 0
    return 0 if zero else (min(caps) if caps else None)


def _words(texts: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for text in texts:
        for word in _WORD.findall((text or "").casefold()):
            if len(word) >= 3 and word not in _STOPWORDS:
                out.add(word)
    return out


def _interest_words(session: Session, participants: list[Participant]) -> dict[int, set[str]]:
    texts: dict[int, list[str]] = {p.id: [p.headline or ""] for p in participants}
    if texts:
        for item in session.scalars(
            select(EventItem).where(EventItem.participant_id.in_(list(texts)))
        ):
            texts[item.participant_id].append(item.title)
            texts[item.participant_id].extend(k for k in item.keywords or [] if isinstance(k, str))
    return {pid: _words(parts) for pid, parts in texts.items()}


def standby_candidates(
    session: Session,
    event: Event,
    slot: EventSlot,
    participant: Participant,
    *,
    now: datetime | None = None,
) -> list[Candidate]:
    """The checked-in standby participants free in ``slot`` for ``participant``: approved,
    ``on_standby``, checked in, available in the slot, under their meeting cap, with no meeting
    then (a meeting whose partner is absent leaves them free) and none with ``participant``
    today. Best first: those who had an accepted meeting with ``participant`` that the
    schedule did not place, then by the number of words shared (headline, items' titles and
    keywords), then by name."""
    now = now or utcnow()
    days = day_meetings(session, event)
    busy: set[int] = set()
    met: set[int] = set()
    counts: dict[int, int] = {}
    for day in days:
        m = day.meeting
        for side in (m.a_id, m.b_id):
            if m.absent_participant_id is None:
                counts[side] = counts.get(side, 0) + 1
            if day.slot.id == slot.id and not _partner_absent(day, side, now):
                busy.add(side)
        if participant.id in (m.a_id, m.b_id):
            met.add(day.other(participant.id).id)
    pool = list(
        session.scalars(
            select(Participant)
            .where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.approved,
                Participant.on_standby.is_(True),
                Participant.checked_in_at.is_not(None),
                Participant.id != participant.id,
            )
            .order_by(Participant.display_name, Participant.id)
        )
    )
    free: list[Participant] = []
    for person in pool:
        if person.id in busy or person.id in met:
            continue
        if person.available_slot_ids is not None and slot.id not in person.available_slot_ids:
            continue
        cap = _cap(event, person)
        if cap is not None and counts.get(person.id, 0) >= cap:
            continue
        free.append(person)
    scheduled = {d.meeting.id for d in days}
    unplaced = set()
    for m in session.scalars(
        select(Meeting).where(
            Meeting.event_id == event.id,
            Meeting.cancelled_at.is_(None),
            Meeting.origin == MeetingOrigin.request,
            or_(Meeting.a_id == participant.id, Meeting.b_id == participant.id),
        )
    ):
        if m.id not in scheduled:
            unplaced.add(m.b_id if m.a_id == participant.id else m.a_id)
    words = _interest_words(session, [participant, *free])
    mine = words[participant.id]
    candidates = [
        Candidate(
            participant=person,
            accepted=person.id in unplaced,
            shared=sorted(mine & words[person.id]),
        )
        for person in free
    ]
    candidates.sort(key=lambda c: (not c.accepted, -len(c.shared)))  # stable: names kept
    return candidates


# ---- permission helpers ------------------------------------------------------------------


def _acting_side(meeting: Meeting, actor: User, event: Event) -> str | None:
    """The actor's side, None for the organiser; PermissionDenied for anyone else."""
    side = side_of(meeting, actor)
    if side is not None:
        me = meeting.a if side == "a" else meeting.b
        if me.status == ParticipantStatus.approved:
            return side
    if is_organiser(actor, event):
        return None
    raise PermissionDenied("only the two sides of the meeting or the organiser may do this")


def _event_of(session: Session, meeting: Meeting) -> Event:
    event = session.get(Event, meeting.event_id)
    assert event is not None  # the foreign key cascades
    return event


def _day_meeting(session: Session, event: Event, meeting: Meeting) -> DayMeeting:
    for day in day_meetings(session, event):
        if day.meeting.id == meeting.id:
            return day
    raise ValidationError({"meeting": "this meeting is not in the published schedule of the day"})


def _standby_in_slot(days: list[DayMeeting], participant_id: int, slot_id: int) -> bool:
    return any(
        d.meeting.origin == MeetingOrigin.standby
        and d.slot.id == slot_id
        and participant_id in (d.meeting.a_id, d.meeting.b_id)
        for d in days
    )


# ---- check-in ----------------------------------------------------------------------------


def _check_event_open(event: Event, now: datetime) -> None:
    if event.status != EventStatus.published:
        raise ValidationError({"event": f"the event is {event.status.value}"})
    if event.starts_at is None or event.ends_at is None:
        raise ValidationError({"event": "the event has no sessions yet"})
    if now < event.starts_at - CHECKIN_OPENS_BEFORE:
        opens = local_time(event, event.starts_at - CHECKIN_OPENS_BEFORE)
        raise ValidationError(
            {"checked_in_at": f"check-in opens on {opens:%Y-%m-%d at %H:%M} (event time)"}
        )
    if now >= event.ends_at:
        raise ValidationError({"checked_in_at": "the event is over"})


def _check_participant_actor(event: Event, participant: Participant, actor: User) -> None:
    if participant.event_id != event.id:
        raise ValidationError({"participant_id": "not a participant of this event"})
    if participant.user_id != actor.id and not is_organiser(actor, event):
        raise PermissionDenied("only the participant or the organiser may do this")
    if participant.status != ParticipantStatus.approved:
        raise ValidationError(
            {"participant_id": f"the registration is {participant.status.value}, not approved"}
        )


def check_in(
    session: Session,
    event: Event,
    participant: Participant,
    *,
    actor: User,
    now: datetime | None = None,
) -> Participant:
    """Mark ``participant`` present at the venue (by themselves or the organiser); checking in
    again keeps the first time."""
    now = now or utcnow()
    _check_participant_actor(event, participant, actor)
    _check_event_open(event, now)
    if participant.checked_in_at is None:
        participant.checked_in_at = now
        record(
            session,
            actor=actor,
            action="event.checked_in",
            entity_type=_PARTICIPANT,
            entity_id=participant.id,
            changes={"checked_in_at": now},
        )
        session.flush()
    return participant


def undo_check_in(
    session: Session, event: Event, participant: Participant, *, actor: User
) -> Participant:
    """Take back a check-in (a mistake at the desk, or self check-in by error)."""
    _check_participant_actor(event, participant, actor)
    if participant.checked_in_at is not None:
        record(
            session,
            actor=actor,
            action="event.check_in_undone",
            entity_type=_PARTICIPANT,
            entity_id=participant.id,
            changes={"checked_in_at": [participant.checked_in_at, None]},
        )
        participant.checked_in_at = None
        session.flush()
    return participant


# ---- attendance per meeting ----------------------------------------------------------------


def _check_started(day: DayMeeting, now: datetime) -> None:
    if not day.started(now):
        raise ValidationError({"meeting": "this meeting's slot has not started yet"})


def mark_held(
    session: Session, meeting: Meeting, *, actor: User, now: datetime | None = None
) -> Meeting:
    """Either side (or the organiser) says the meeting took place, once its slot started."""
    now = now or utcnow()
    event = _event_of(session, meeting)
    _acting_side(meeting, actor, event)
    day = _day_meeting(session, event, meeting)
    _check_started(day, now)
    if meeting.absent_participant_id is not None:
        days = day_meetings(session, event)
        if any(_standby_in_slot(days, side, day.slot.id) for side in (meeting.a_id, meeting.b_id)):
            raise ValidationError(
                {"meeting": "a standby meeting took this meeting's place: it cannot be held"}
            )
    old = meeting_state(meeting)
    meeting.held_at = meeting.held_at or now
    meeting.absent_participant_id = None
    record(
        session,
        actor=actor,
        action="meeting.held",
        entity_type=_MEETING,
        entity_id=meeting.id,
        changes={"state": [old, "held"], "held_at": meeting.held_at},
    )
    session.flush()
    return meeting


def mark_absent(
    session: Session,
    meeting: Meeting,
    *,
    actor: User,
    absent: Participant,
    now: datetime | None = None,
) -> Meeting:
    """A side says their partner did not come (the organiser may mark either side), once the
    slot started. Clears "held" and the outcomes."""
    now = now or utcnow()
    event = _event_of(session, meeting)
    side = _acting_side(meeting, actor, event)
    day = _day_meeting(session, event, meeting)
    _check_started(day, now)
    if absent.id not in (meeting.a_id, meeting.b_id):
        raise ValidationError({"absent": "choose one of the two sides of the meeting"})
    if side is not None and absent.id == (meeting.a_id if side == "a" else meeting.b_id):
        raise ValidationError({"absent": "you cannot mark yourself absent; mark your partner"})
    old = meeting_state(meeting)
    meeting.absent_participant_id = absent.id
    meeting.held_at = None
    meeting.outcome_a = meeting.outcome_b = None
    record(
        session,
        actor=actor,
        action="meeting.partner_absent",
        entity_type=_MEETING,
        entity_id=meeting.id,
        changes={"state": [old, "absent"], "absent_participant_id": absent.id},
    )
    session.flush()
    return meeting


def undo_attendance(session: Session, meeting: Meeting, *, actor: User) -> Meeting:
    """Back to neither held nor absent (and no outcomes). An absence whose freed slot was given
    to a standby meeting cannot be undone."""
    event = _event_of(session, meeting)
    _acting_side(meeting, actor, event)
    day = _day_meeting(session, event, meeting)
    if meeting.absent_participant_id is not None:
        present = meeting.b_id if meeting.absent_participant_id == meeting.a_id else meeting.a_id
        if _standby_in_slot(day_meetings(session, event), present, day.slot.id):
            raise ValidationError(
                {"meeting": "a standby meeting took this meeting's place: it stays absent"}
            )
    old = meeting_state(meeting)
    meeting.held_at = None
    meeting.absent_participant_id = None
    meeting.outcome_a = meeting.outcome_b = None
    record(
        session,
        actor=actor,
        action="meeting.attendance_undone",
        entity_type=_MEETING,
        entity_id=meeting.id,
        changes={"state": [old, "open"]},
    )
    session.flush()
    return meeting


# ---- standby -----------------------------------------------------------------------------


def pair_standby(
    session: Session,
    event: Event,
    slot: EventSlot,
    a: Participant,
    b: Participant,
    *,
    actor: User,
    base_url: str = "",
    now: datetime | None = None,
) -> Meeting:
    """A standby meeting of ``a`` (freed in ``slot``) and ``b`` (one of
    :func:`standby_candidates`) at ``a``'s freed table, made by ``a`` or the organiser while
    the slot runs; both are notified."""
    now = now or utcnow()
    if slot.event_id != event.id:
        raise ValidationError({"slot_id": "not a slot of this event"})
    if a.event_id != event.id:
        raise ValidationError({"participant_id": "not a participant of this event"})
    if a.user_id != actor.id and not is_organiser(actor, event):
        raise PermissionDenied("only the freed participant or the organiser may pair")
    if now < slot.starts_at:
        raise ValidationError({"slot_id": "this slot has not started yet"})
    if now >= slot.ends_at:
        raise ValidationError({"slot_id": "this slot is over"})
    days = day_meetings(session, event)
    freed = [
        f
        for f in freed_slots(session, event, now=now, days=days)
        if f.slot.id == slot.id and f.present.id == a.id
    ]
    if not freed:
        raise ValidationError(
            {"participant_id": "this participant's partner in this slot is not absent"}
        )
    if b.event_id != event.id or b.id not in {
        c.participant.id for c in standby_candidates(session, event, slot, a, now=now)
    }:
        raise ValidationError(
            {"partner_id": "choose a checked-in standby participant free in this slot"}
        )
    table = freed[0].table
    meeting = Meeting(
        event_id=event.id,
        request_id=None,
        origin=MeetingOrigin.standby,
        a_id=a.id,
        b_id=b.id,
        weight=1,
        slot_id=slot.id,
        table_number=table,
    )
    session.add(meeting)
    session.flush()
    record(
        session,
        actor=actor,
        action="meeting.standby_paired",
        entity_type=_MEETING,
        entity_id=meeting.id,
        changes={
            "slot_id": slot.id,
            "table_number": table,
            "a_id": a.id,
            "b_id": b.id,
            "replaces": freed[0].meeting.id,
        },
    )
    start = local_time(event, slot.starts_at)
    where = f"table {table}" if table is not None else "your meeting link"
    for me, other in ((a, b), (b, a)):
        notify(
            session,
            user=me.user,
            subject=f"Standby meeting now: {other.display_name}",
            body=(
                f"At {event.title} you meet {other.display_name} in the slot of "
                f"{start:%H:%M}, at {where}. Their partner or yours could not come."
            ),
            link=f"/events/{event.id}/today",
            base_url=base_url,
        )
    session.flush()
    return meeting


# ---- outcomes ----------------------------------------------------------------------------


def record_outcome(
    session: Session,
    meeting: Meeting,
    *,
    actor: User,
    outcome: MeetingOutcome | str,
    side: str | None = None,
) -> Meeting:
    """One side's outcome of a held meeting (``outcome_a`` for side a, ``outcome_b`` for side
    b); it can be changed. The organiser records for the ``side`` they name."""
    event = _event_of(session, meeting)
    own = _acting_side(meeting, actor, event)
    if own is not None:
        side = own
    elif side not in ("a", "b"):
        raise ValidationError({"side": "say for which side, a or b"})
    try:
        value = MeetingOutcome(outcome)
    except ValueError:
        raise ValidationError(
            {"outcome": "choose " + ", ".join(o.value for o in MeetingOutcome)}
        ) from None
    if meeting.held_at is None:
        raise ValidationError({"outcome": "the meeting must be marked held first"})
    column = "outcome_a" if side == "a" else "outcome_b"
    old = getattr(meeting, column)
    if old != value:
        setattr(meeting, column, value)
        record(
            session,
            actor=actor,
            action="meeting.outcome",
            entity_type=_MEETING,
            entity_id=meeting.id,
            changes={column: [old, value]},
        )
        session.flush()
    return meeting
