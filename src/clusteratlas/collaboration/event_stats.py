"""Figures of a matchmaking event for its organiser (:func:`dashboard`) and the organisations'
event histories (:func:`organisation_event_history`), issue 6.

Definitions (also in ``docs/event-day.md``):

- *registrations*: participants by status; *countries*: approved participants by the country
  of their organisation (``"none"`` without one).
- *requests*: every meeting request by status; *sent* counts them all. The *acceptance rate*
  is accepted / (accepted + declined + expired): of the requests that got an answer or ran out
  of time, the share accepted (cancelled and pending ones are left out); None without any.
- *accepted meetings*: meetings from requests, not cancelled. *Scheduled*: those in the latest
  published schedule. *Standby*: meetings made on the day from the standby list. *Held*:
  meetings of the day marked held. *Absent*: meetings of the day with a side marked absent.
- *no-show rate*: among the meetings of the day whose slot has ended at ``now``, the share
  with a side marked absent; None when no slot has ended.
- *outcomes*: each side's answer counts once (a meeting gives up to two);
  ``unanswered`` counts the sides of held meetings without one.
- *schedule quality*: scheduled vs accepted meetings; *without meeting*: approved participants
  who are a side of an accepted meeting but of none in the published schedule; *idle gaps*:
  for each participant and session, the empty slots between their first and last published
  meeting of that session, summed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from clusteratlas.collaboration.event_day import day_meetings, latest_schedule
from clusteratlas.collaboration.models import (
    Event,
    EventSlot,
    EventStatus,
    Meeting,
    MeetingOrigin,
    MeetingOutcome,
    MeetingRequest,
    Organisation,
    Participant,
    ParticipantStatus,
    RequestStatus,
    utcnow,
)

__all__ = [
    "Dashboard",
    "EventRecord",
    "dashboard",
    "idle_gaps",
    "organisation_event_history",
]

NO_COUNTRY = "none"


@dataclass(frozen=True)
class Dashboard:
    """The organiser's figures of one event at ``generated_at``."""

    event_id: int
    generated_at: datetime
    registrations: dict[str, int]
    countries: dict[str, int]
    requests: dict[str, int]
    requests_sent: int
    acceptance_rate: float | None
    accepted_meetings: int
    scheduled_meetings: int
    standby_meetings: int
    held_meetings: int
    absent_meetings: int
    past_meetings: int
    no_show_rate: float | None
    outcomes: dict[str, int]
    participants_without_meeting: int
    idle_gaps: int
    schedule_version: int
    solver: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["generated_at"] = self.generated_at.isoformat()
        return out


@dataclass(frozen=True)
class EventRecord:
    """One event in an organisation's history: its people there, the meetings they held and
    the outcomes their side gave."""

    event_id: int
    title: str
    starts_at: datetime | None
    timezone: str
    participants: int
    meetings_held: int
    outcomes: dict[str, int]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def idle_gaps(
    slot_session: dict[int, int], order: dict[int, int], busy: dict[int, set[int]]
) -> int:
    """Empty slots between each participant's first and last meeting of a session, summed.
    ``slot_session``: slot id → session id; ``order``: slot id → its position in its session;
    ``busy``: participant id → the slot ids of their meetings."""
    total = 0
    for slots in busy.values():
        by_session: dict[int, list[int]] = {}
        for slot_id in slots:
            by_session.setdefault(slot_session[slot_id], []).append(order[slot_id])
        for positions in by_session.values():
            total += max(positions) - min(positions) + 1 - len(set(positions))
    return total


def dashboard(session: Session, event: Event, *, now: datetime | None = None) -> Dashboard:
    """The figures of ``event`` at ``now`` (see the module's definitions)."""
    now = now or utcnow()
    registrations = dict.fromkeys((s.value for s in ParticipantStatus), 0)
    for status, count in session.execute(
        select(Participant.status, func.count())
        .where(Participant.event_id == event.id)
        .group_by(Participant.status)
    ):
        registrations[ParticipantStatus(status).value] = count
    countries: Counter[str] = Counter()
    for country, count in session.execute(
        select(Organisation.country, func.count())
        .select_from(Participant)
        .outerjoin(Organisation, Organisation.id == Participant.organisation_id)
        .where(Participant.event_id == event.id, Participant.status == ParticipantStatus.approved)
        .group_by(Organisation.country)
    ):
        countries[country or NO_COUNTRY] += count
    requests = dict.fromkeys((s.value for s in RequestStatus), 0)
    for status, count in session.execute(
        select(MeetingRequest.status, func.count())
        .where(MeetingRequest.event_id == event.id)
        .group_by(MeetingRequest.status)
    ):
        requests[RequestStatus(status).value] = count
    decided = requests["accepted"] + requests["declined"] + requests["expired"]

    accepted = list(
        session.scalars(
            select(Meeting).where(
                Meeting.event_id == event.id,
                Meeting.origin == MeetingOrigin.request,
                Meeting.cancelled_at.is_(None),
            )
        )
    )
    days = day_meetings(session, event)
    published = [d for d in days if d.meeting.origin == MeetingOrigin.request]
    standby = [d for d in days if d.meeting.origin == MeetingOrigin.standby]
    held = sum(1 for d in days if d.meeting.held_at is not None)
    absent = sum(1 for d in days if d.meeting.absent_participant_id is not None)
    past = [d for d in days if d.ended(now)]
    past_absent = sum(1 for d in past if d.meeting.absent_participant_id is not None)

    outcomes = dict.fromkeys((o.value for o in MeetingOutcome), 0)
    outcomes["unanswered"] = 0
    for d in days:
        m = d.meeting
        if m.held_at is None:
            continue
        for value in (m.outcome_a, m.outcome_b):
            outcomes[MeetingOutcome(value).value if value else "unanswered"] += 1

    approved = set(
        session.scalars(
            select(Participant.id).where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.approved,
            )
        )
    )
    wanting = {side for m in accepted for side in (m.a_id, m.b_id)} & approved
    placed = {side for d in published for side in (d.meeting.a_id, d.meeting.b_id)}

    slots = list(
        session.scalars(
            select(EventSlot)
            .where(EventSlot.event_id == event.id)
            .order_by(EventSlot.session_id, EventSlot.starts_at)
        )
    )
    order: dict[int, int] = {}
    slot_session: dict[int, int] = {}
    counters: Counter[int] = Counter()
    for slot in slots:
        order[slot.id] = counters[slot.session_id]
        counters[slot.session_id] += 1
        slot_session[slot.id] = slot.session_id
    busy: dict[int, set[int]] = {}
    for d in published:
        for side in (d.meeting.a_id, d.meeting.b_id):
            busy.setdefault(side, set()).add(d.slot.id)

    version = latest_schedule(session, event)
    solver = dict(version.quality) if version is not None and version.quality else {}
    return Dashboard(
        event_id=event.id,
        generated_at=now,
        registrations=registrations,
        countries=dict(sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))),
        requests=requests,
        requests_sent=sum(requests.values()),
        acceptance_rate=_rate(requests["accepted"], decided),
        accepted_meetings=len(accepted),
        scheduled_meetings=len(published),
        standby_meetings=len(standby),
        held_meetings=held,
        absent_meetings=absent,
        past_meetings=len(past),
        no_show_rate=_rate(past_absent, len(past)),
        outcomes=outcomes,
        participants_without_meeting=len(wanting - placed),
        idle_gaps=idle_gaps(slot_session, order, busy),
        schedule_version=version.version if version is not None else 0,
        solver=solver,
    )


def organisation_event_history(session: Session, organisation_id: int) -> list[EventRecord]:
    """The published events (not drafts, not cancelled) where people of the organisation took
    part (approved), newest first: how many of them, the meetings they held (a meeting of two
    of its people counts once) and the outcomes their side gave."""
    people = list(
        session.execute(
            select(Participant.id, Participant.event_id)
            .join(Event, Event.id == Participant.event_id)
            .where(
                Participant.organisation_id == organisation_id,
                Participant.status == ParticipantStatus.approved,
                Event.status == EventStatus.published,
            )
        )
    )
    if not people:
        return []
    ours = {pid for pid, _ in people}
    per_event = Counter(event_id for _, event_id in people)
    held: Counter[int] = Counter()
    outcomes: dict[int, Counter[str]] = {}
    a, b = aliased(Participant), aliased(Participant)
    rows = session.execute(
        select(Meeting.event_id, Meeting.a_id, Meeting.b_id, Meeting.outcome_a, Meeting.outcome_b)
        .join(a, a.id == Meeting.a_id)
        .join(b, b.id == Meeting.b_id)
        .where(
            Meeting.held_at.is_not(None),
            Meeting.cancelled_at.is_(None),
            Meeting.event_id.in_(list(per_event)),
            or_(a.id.in_(ours), b.id.in_(ours)),
        )
    )
    for event_id, a_id, b_id, outcome_a, outcome_b in rows:
        held[event_id] += 1
        counter = outcomes.setdefault(event_id, Counter())
        for side, value in ((a_id, outcome_a), (b_id, outcome_b)):
            if side in ours and value is not None:
                counter[MeetingOutcome(value).value] += 1
    events = session.scalars(
        select(Event)
        .where(Event.id.in_(list(per_event)))
        .order_by(Event.starts_at.desc().nulls_last(), Event.id.desc())
    )
    return [
        EventRecord(
            event_id=event.id,
            title=event.title,
            starts_at=event.starts_at,
            timezone=event.timezone,
            participants=per_event[event.id],
            meetings_held=held[event.id],
            outcomes={o.value: outcomes.get(event.id, Counter())[o.value] for o in MeetingOutcome},
        )
        for event in events
    ]
