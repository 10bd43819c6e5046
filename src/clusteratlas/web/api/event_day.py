"""On the day and after (issue 6): check-in, each meeting held or its partner absent, the
standby list, outcomes, the organiser's dashboard, and the organisations' event histories.

Routes are thin: they find the event (404 if unknown or invisible), the meeting or participant
named in the path (404 if not of this event), and call the verbs of
:mod:`clusteratlas.collaboration.event_day`, which answer 403 (not a side of the meeting, not
the participant, not the organiser) or 422 (timing rules, bad values) with the field named.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration import event_day as verbs
from clusteratlas.collaboration.event_access import (
    is_organiser,
    require_organiser,
    require_participant,
)
from clusteratlas.collaboration.event_stats import dashboard as event_dashboard
from clusteratlas.collaboration.event_stats import organisation_event_history
from clusteratlas.collaboration.models import (
    Event,
    EventSlot,
    Meeting,
    MeetingOrigin,
    MeetingOutcome,
    Participant,
    ParticipantStatus,
    utcnow,
)
from clusteratlas.collaboration.queries import visible_organisation
from clusteratlas.web.api.deps import MAX_ID, CurrentUser, OptionalUser, SessionDep, SettingsDep
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.event_deps import event_or_404, meeting_or_404

__all__ = [
    "CandidatePublic",
    "CheckInBody",
    "DashboardPublic",
    "DayMeetingPublic",
    "DayParticipant",
    "FreedSlotPublic",
    "HistoryPublic",
    "TodayPublic",
    "router",
]

router = APIRouter(tags=["events"])

_WRITE = error_responses(401, 403, 404)
EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="the event's id")]
MeetingId = Annotated[int, Path(ge=1, le=MAX_ID, description="the meeting's id")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


# ---- schemas -----------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckInBody(_Input):
    participant_id: Id | None = Field(
        default=None, description="whom to check in (organisers); default: yourself"
    )


class AbsentBody(_Input):
    participant_id: Id = Field(description="the side who did not come")


class OutcomeBody(_Input):
    outcome: MeetingOutcome
    side: Literal["a", "b"] | None = Field(
        default=None, description="organisers: for which side; a side records its own"
    )


class StandbyBody(_Input):
    slot_id: Id
    participant_id: Id = Field(description="the participant whose partner is absent")
    partner_id: Id = Field(description="a standby candidate")


class DayParticipant(BaseModel):
    id: int
    display_name: str
    organisation: str | None
    on_standby: bool
    checked_in_at: datetime | None

    @classmethod
    def of(cls, p: Participant) -> DayParticipant:
        return cls(
            id=p.id,
            display_name=p.display_name,
            organisation=p.organisation.name if p.organisation is not None else None,
            on_standby=p.on_standby,
            checked_in_at=p.checked_in_at,
        )


class DayMeetingPublic(BaseModel):
    id: int
    origin: MeetingOrigin
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    table: int | None
    a: DayParticipant
    b: DayParticipant
    state: Literal["open", "held", "absent"]
    held_at: datetime | None
    absent_participant_id: int | None
    outcome_a: MeetingOutcome | None
    outcome_b: MeetingOutcome | None

    @classmethod
    def of(cls, day: verbs.DayMeeting) -> DayMeetingPublic:
        m = day.meeting
        return cls(
            id=m.id,
            origin=m.origin,
            slot_id=day.slot.id,
            starts_at=day.slot.starts_at,
            ends_at=day.slot.ends_at,
            table=day.table,
            a=DayParticipant.of(m.a),
            b=DayParticipant.of(m.b),
            state=verbs.meeting_state(m),  # type: ignore[arg-type]
            held_at=m.held_at,
            absent_participant_id=m.absent_participant_id,
            outcome_a=m.outcome_a,
            outcome_b=m.outcome_b,
        )


class FreedSlotPublic(BaseModel):
    meeting_id: int
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    table: int | None
    present: DayParticipant
    absent: DayParticipant
    marked: bool = Field(description="marked absent (else: not checked in)")

    @classmethod
    def of(cls, freed: verbs.FreedSlot) -> FreedSlotPublic:
        return cls(
            meeting_id=freed.meeting.id,
            slot_id=freed.slot.id,
            starts_at=freed.slot.starts_at,
            ends_at=freed.slot.ends_at,
            table=freed.table,
            present=DayParticipant.of(freed.present),
            absent=DayParticipant.of(freed.absent),
            marked=freed.marked,
        )


class CandidatePublic(BaseModel):
    participant: DayParticipant
    accepted: bool = Field(description="they had an accepted meeting the schedule did not place")
    shared: list[str] = Field(description="words shared with the freed participant")


class CandidatesPublic(BaseModel):
    data: list[CandidatePublic]
    count: int


class TodayPublic(BaseModel):
    """Your day: your check-in, your meetings and the slots where your partner is absent."""

    participant: DayParticipant
    meetings: list[DayMeetingPublic]
    freed: list[FreedSlotPublic]


class DeskPublic(BaseModel):
    """The organiser's desk: participants with their check-in, the day's meetings, freed
    slots."""

    participants: list[DayParticipant]
    checked_in: int
    approved: int
    meetings: list[DayMeetingPublic]
    freed: list[FreedSlotPublic]


class DashboardPublic(BaseModel):
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
    solver: dict[str, object]


class EventRecordPublic(BaseModel):
    event_id: int
    title: str
    starts_at: datetime | None
    participants: int
    meetings_held: int
    outcomes: dict[str, int]


class HistoryPublic(BaseModel):
    organisation_id: int
    data: list[EventRecordPublic]
    count: int


# ---- lookups -----------------------------------------------------------------------------


def _meeting(session: Session, event: Event, meeting_id: int) -> Meeting:
    return meeting_or_404(session, event, meeting_id, detail="no meeting with this id here")


def _participant(session: Session, event: Event, participant_id: int, field: str) -> Participant:
    found = session.get(Participant, participant_id)
    if found is None or found.event_id != event.id:
        raise ValidationError({field: "no participant with this id at this event"})
    return found


def _day(session: Session, event: Event, meeting: Meeting) -> DayMeetingPublic:
    for day in verbs.day_meetings(session, event):
        if day.meeting.id == meeting.id:
            return DayMeetingPublic.of(day)
    raise ValidationError({"meeting": "this meeting is not in the published schedule of the day"})


# ---- routes ------------------------------------------------------------------------------


@router.get(
    "/events/{event_id}/today",
    responses=error_responses(401, 403, 404),
    summary="Your day at an event",
)
def today(session: SessionDep, user: CurrentUser, event_id: EventId) -> TodayPublic:
    """For approved participants: your check-in, your meetings of the day (published schedule
    and standby meetings) and the slots running now where your partner is absent."""
    event = event_or_404(session, user, event_id)
    me = require_participant(session, event, user)
    days = verbs.day_meetings(session, event)
    mine = [d for d in days if me.id in (d.meeting.a_id, d.meeting.b_id)]
    freed = [
        f
        for f in verbs.freed_slots(session, event, now=utcnow(), days=days)
        if f.present.id == me.id
    ]
    return TodayPublic(
        participant=DayParticipant.of(me),
        meetings=[DayMeetingPublic.of(d) for d in mine],
        freed=[FreedSlotPublic.of(f) for f in freed],
    )


@router.get(
    "/events/{event_id}/checkin",
    responses=error_responses(401, 403, 404),
    summary="The check-in desk (organisers)",
)
def desk(session: SessionDep, user: CurrentUser, event_id: EventId) -> DeskPublic:
    """Approved participants by name with their check-in, the day's meetings and the freed
    slots running now."""
    event = event_or_404(session, user, event_id)
    require_organiser(user, event)
    people = list(
        session.scalars(
            select(Participant)
            .where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.approved,
            )
            .order_by(Participant.display_name, Participant.id)
        )
    )
    days = verbs.day_meetings(session, event)
    return DeskPublic(
        participants=[DayParticipant.of(p) for p in people],
        checked_in=sum(1 for p in people if p.checked_in_at is not None),
        approved=len(people),
        meetings=[DayMeetingPublic.of(d) for d in days],
        freed=[
            FreedSlotPublic.of(f)
            for f in verbs.freed_slots(session, event, now=utcnow(), days=days)
        ],
    )


@router.post("/events/{event_id}/checkin", responses=_WRITE, summary="Check in")
def check_in(
    session: SessionDep, user: CurrentUser, event_id: EventId, body: CheckInBody
) -> DayParticipant:
    """Yourself (an approved participant) or, for organisers, the participant named; from a
    day before the event until its end. Checking in again keeps the first time."""
    event = event_or_404(session, user, event_id)
    if body.participant_id is None:
        who = require_participant(session, event, user)
    else:
        who = _participant(session, event, body.participant_id, "participant_id")
    verbs.check_in(session, event, who, actor=user)
    return DayParticipant.of(who)


@router.delete("/events/{event_id}/checkin", responses=_WRITE, summary="Undo a check-in")
def undo_check_in(
    session: SessionDep,
    user: CurrentUser,
    event_id: EventId,
    participant_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="organisers: whom; default: yourself")
    ] = None,
) -> DayParticipant:
    event = event_or_404(session, user, event_id)
    if participant_id is None:
        who = require_participant(session, event, user)
    else:
        who = _participant(session, event, participant_id, "participant_id")
    verbs.undo_check_in(session, event, who, actor=user)
    return DayParticipant.of(who)


@router.post(
    "/events/{event_id}/day/meetings/{meeting_id}/held",
    responses=_WRITE,
    summary="Mark a meeting held",
)
def held(
    session: SessionDep, user: CurrentUser, event_id: EventId, meeting_id: MeetingId
) -> DayMeetingPublic:
    """Either side or the organiser, once the meeting's slot has started."""
    event = event_or_404(session, user, event_id)
    meeting = _meeting(session, event, meeting_id)
    verbs.mark_held(session, meeting, actor=user)
    return _day(session, event, meeting)


@router.post(
    "/events/{event_id}/day/meetings/{meeting_id}/absent",
    responses=_WRITE,
    summary="Mark the partner absent",
)
def absent(
    session: SessionDep,
    user: CurrentUser,
    event_id: EventId,
    meeting_id: MeetingId,
    body: AbsentBody,
) -> DayMeetingPublic:
    """A side marks the other absent (organisers: either side), once the slot has started.
    The present side may then be paired from the standby list."""
    event = event_or_404(session, user, event_id)
    meeting = _meeting(session, event, meeting_id)
    who = _participant(session, event, body.participant_id, "participant_id")
    try:
        verbs.mark_absent(session, meeting, actor=user, absent=who)
    except ValidationError as exc:  # the verb names its argument, the body its field
        renamed = {"participant_id" if k == "absent" else k: v for k, v in exc.errors.items()}
        raise ValidationError(renamed) from None
    return _day(session, event, meeting)


@router.delete(
    "/events/{event_id}/day/meetings/{meeting_id}/attendance",
    responses=_WRITE,
    summary="Undo held or absent",
)
def undo_attendance(
    session: SessionDep, user: CurrentUser, event_id: EventId, meeting_id: MeetingId
) -> DayMeetingPublic:
    event = event_or_404(session, user, event_id)
    meeting = _meeting(session, event, meeting_id)
    verbs.undo_attendance(session, meeting, actor=user)
    return _day(session, event, meeting)


@router.put(
    "/events/{event_id}/day/meetings/{meeting_id}/outcome",
    responses=_WRITE,
    summary="Record the outcome of a held meeting",
)
def outcome(
    session: SessionDep,
    user: CurrentUser,
    event_id: EventId,
    meeting_id: MeetingId,
    body: OutcomeBody,
) -> DayMeetingPublic:
    """Your side's outcome (follow-up planned, partnership started, none); it can be
    changed. Organisers give ``side``."""
    event = event_or_404(session, user, event_id)
    meeting = _meeting(session, event, meeting_id)
    verbs.record_outcome(session, meeting, actor=user, outcome=body.outcome, side=body.side)
    return _day(session, event, meeting)


@router.get(
    "/events/{event_id}/day/standby",
    responses=error_responses(401, 403, 404),
    summary="Standby candidates for a freed slot",
)
def candidates(
    session: SessionDep,
    user: CurrentUser,
    event_id: EventId,
    slot_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    participant_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="organisers: for whom; default: you")
    ] = None,
) -> CandidatesPublic:
    """The checked-in standby participants free in the slot, best first (for the participant
    or the organiser)."""
    event = event_or_404(session, user, event_id)
    if participant_id is None:
        who = require_participant(session, event, user)
    else:
        who = _participant(session, event, participant_id, "participant_id")
        if who.user_id != user.id and not is_organiser(user, event):
            raise PermissionDenied("only the participant or the organiser may see this")
    slot = session.get(EventSlot, slot_id)
    if slot is None or slot.event_id != event.id:
        raise ValidationError({"slot_id": "no slot with this id at this event"})
    found = verbs.standby_candidates(session, event, slot, who)
    data = [
        CandidatePublic(
            participant=DayParticipant.of(c.participant), accepted=c.accepted, shared=c.shared
        )
        for c in found
    ]
    return CandidatesPublic(data=data, count=len(data))


@router.post(
    "/events/{event_id}/day/standby",
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
    summary="Pair a freed participant with a standby participant",
)
def pair(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    event_id: EventId,
    body: StandbyBody,
) -> DayMeetingPublic:
    """While the slot runs, by the freed participant or the organiser: a standby meeting at
    the freed table; both are notified."""
    event = event_or_404(session, user, event_id)
    slot = session.get(EventSlot, body.slot_id)
    if slot is None or slot.event_id != event.id:
        raise ValidationError({"slot_id": "no slot with this id at this event"})
    a = _participant(session, event, body.participant_id, "participant_id")
    b = _participant(session, event, body.partner_id, "partner_id")
    meeting = verbs.pair_standby(
        session, event, slot, a, b, actor=user, base_url=settings.public_url
    )
    return _day(session, event, meeting)


@router.get(
    "/events/{event_id}/dashboard",
    responses=error_responses(401, 403, 404),
    summary="The organiser's dashboard",
)
def dashboard(session: SessionDep, user: CurrentUser, event_id: EventId) -> DashboardPublic:
    """Registrations, countries, requests, meetings, no-shows, outcomes and the schedule's
    quality (definitions in the docs: docs/event-day.md)."""
    event = event_or_404(session, user, event_id)
    require_organiser(user, event)
    return DashboardPublic.model_validate(event_dashboard(session, event).as_dict())


@router.get(
    "/events/history/organisations/{organisation_id}",
    responses=error_responses(401, 404),
    summary="An organisation's event history",
)
def history(
    session: SessionDep,
    viewer: OptionalUser,
    organisation_id: Annotated[int, Path(ge=1, le=MAX_ID, description="the organisation's id")],
) -> HistoryPublic:
    """The published events its people took part in, the meetings they held and the outcomes
    their side gave, newest first."""
    organisation = visible_organisation(session, viewer=viewer, organisation_id=organisation_id)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no organisation with this id")
    rows = organisation_event_history(session, organisation.id)
    data = [
        EventRecordPublic(
            event_id=r.event_id,
            title=r.title,
            starts_at=r.starts_at,
            participants=r.participants,
            meetings_held=r.meetings_held,
            outcomes=r.outcomes,
        )
        for r in rows
    ]
    return HistoryPublic(organisation_id=organisation.id, data=data, count=len(data))
