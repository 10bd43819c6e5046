"""Schedules of events (issue 6): run the scheduler, the working copy with its quality, lock,
unlock and move meetings, publish versions, and each participant's agenda (JSON and ICS).

Organisers only, except the agenda (approved participants; organisers may read anyone's with
``participant_id``). An event one may not see, and a meeting or participant of another event,
answer 404. The verbs are in :mod:`clusteratlas.collaboration.schedules`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration import schedules as verbs
from clusteratlas.collaboration.event_access import (
    local_time,
    require_organiser,
)
from clusteratlas.collaboration.ics import agenda_ics
from clusteratlas.collaboration.models import (
    Event,
    EventSlot,
    Meeting,
    MeetingOrigin,
    Participant,
    ScheduleVersion,
    User,
)
from clusteratlas.web.api.deps import MAX_ID, CurrentUser, SessionDep, SettingsDep
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.api.schemas import Text
from clusteratlas.web.event_deps import agenda_owner, event_or_404, meeting_or_404

__all__ = [
    "AgendaPublic",
    "MoveIn",
    "PublishIn",
    "PublicationPublic",
    "RunIn",
    "RunPublic",
    "SchedulePublic",
    "VersionsPublic",
    "router",
]

router = APIRouter(prefix="/events/{event_id}", tags=["events"])

_WRITE = error_responses(401, 403, 404)

EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="the event's id")]
MeetingId = Annotated[int, Path(ge=1, le=MAX_ID, description="the meeting's id")]
ParticipantQuery = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="organisers: whose agenda (a participant id)"),
]


# ---- schemas -----------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunIn(_Input):
    time_limit: float = Field(default=10.0, gt=0, le=30, description="seconds for the solver")


class MoveIn(_Input):
    slot_id: int | None = Field(ge=1, le=MAX_ID, description="the new slot; null: unschedule")
    table: int | None = Field(
        default=None, ge=1, le=verbs.MAX_ONLINE_ROOM, description="null: the lowest free table"
    )


class PublishIn(_Input):
    note: Text = Field(default="", description="a note for the participants (≤ 2,000 characters)")


class QualityPublic(BaseModel):
    meetings: int = Field(description="meetings to schedule (accepted, not cancelled)")
    scheduled: int
    weight: int = Field(description="total weight of the scheduled meetings")
    bound: int = Field(description="an upper bound on the weight")
    participants_with_requests: int
    without_meetings: int = Field(description="participants with requests but no meeting")
    idle_gaps: int
    fairness: list[int]


class RunPublic(BaseModel):
    status: str = Field(description="optimal or feasible")
    objective: int
    bound: int = Field(description="the solver's proven upper bound on the weight")
    gap: float
    method: str
    seconds: float
    rescheduled: bool = Field(
        description="true: published meetings were moved as little as possible"
    )
    moved: int | None
    quality: QualityPublic
    unscheduled: list[int]


class PersonPublic(BaseModel):
    id: int
    name: str
    organisation: str | None

    @classmethod
    def of(cls, participant: Participant) -> PersonPublic:
        org = participant.organisation
        return cls(
            id=participant.id,
            name=participant.display_name,
            organisation=org.name if org is not None else None,
        )


class SlotPublic(BaseModel):
    id: int
    starts_at: datetime
    ends_at: datetime
    label: str = Field(description="the start in the event's time zone")
    tables: int


class PlacementPublic(BaseModel):
    id: int
    a: PersonPublic
    b: PersonPublic
    weight: int
    origin: MeetingOrigin
    slot_id: int | None
    table: int | None
    online: bool
    locked: bool

    @classmethod
    def of(cls, event: Event, meeting: Meeting) -> PlacementPublic:
        slot = meeting.slot
        return cls(
            id=meeting.id,
            a=PersonPublic.of(meeting.a),
            b=PersonPublic.of(meeting.b),
            weight=meeting.weight,
            origin=meeting.origin,
            slot_id=meeting.slot_id,
            table=meeting.table_number,
            online=slot is not None and verbs.is_online(event, slot, meeting.table_number),
            locked=meeting.locked,
        )


class UnscheduledPublic(BaseModel):
    meeting: PlacementPublic
    reason: str


class SchedulePublic(BaseModel):
    """The working copy (what the scheduler and the organiser's moves produced)."""

    published_version: int = Field(description="the latest published version (0: none)")
    slots: list[SlotPublic]
    meetings: list[PlacementPublic] = Field(description="scheduled meetings, by slot and table")
    unscheduled: list[UnscheduledPublic]
    quality: QualityPublic | None


class VersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    published_at: datetime
    published_by: int | None
    note: str
    meetings: int
    quality: dict[str, object]

    @classmethod
    def of(cls, row: ScheduleVersion) -> VersionPublic:
        return cls(
            version=row.version,
            published_at=row.published_at,
            published_by=row.published_by,
            note=row.note,
            meetings=len(row.assignments),
            quality=dict(row.quality or {}),
        )


class VersionsPublic(BaseModel):
    data: list[VersionPublic]
    count: int


class PublicationPublic(BaseModel):
    version: VersionPublic
    notified: list[int] = Field(description="participants told of their changes")


class AgendaItemPublic(BaseModel):
    meeting_id: int
    starts_at: datetime
    ends_at: datetime
    local_start: str
    local_end: str
    partner: PersonPublic
    table: int | None
    online: bool
    link: str | None
    standby: bool


class GapPublic(BaseModel):
    starts_at: datetime
    ends_at: datetime
    slots: int


class AgendaPublic(BaseModel):
    participant: PersonPublic
    timezone: str
    version: int = Field(description="the published version shown (0: none yet)")
    published_at: datetime | None
    meetings: list[AgendaItemPublic]
    gaps: list[GapPublic]


# ---- helpers -----------------------------------------------------------------------------


def _quality(quality: verbs.ScheduleQuality | None) -> QualityPublic | None:
    return None if quality is None else QualityPublic(**quality.as_dict())


def _host(public_url: str) -> str:
    return urlsplit(public_url).hostname or "clusteratlas"


# ---- routes ------------------------------------------------------------------------------


@router.post("/schedule/run", responses=_WRITE, summary="Run the scheduler (organisers)")
def run(
    event_id: EventId, session: SessionDep, user: CurrentUser, body: RunIn | None = None
) -> RunPublic:
    """Fill the working copy: an exact schedule within the time limit (after a publication,
    moving as few published meetings as possible). Locked meetings stay."""
    event = event_or_404(session, user, event_id)
    result = verbs.run_scheduler(
        session, event, actor=user, time_limit=(body or RunIn()).time_limit
    )
    return RunPublic(**result.as_dict())


@router.get("/schedule", responses=_WRITE, summary="The working schedule (organisers)")
def read(event_id: EventId, session: SessionDep, user: CurrentUser) -> SchedulePublic:
    event = event_or_404(session, user, event_id)
    grid = verbs.working_schedule(session, event, actor=user)
    placed: list[Meeting] = []
    for slot in grid.slots:
        row = grid.cells.get(slot.id, {})
        placed += [row[t] for t in sorted(row)] + grid.loose.get(slot.id, [])
    return SchedulePublic(
        published_version=event.schedule_version,
        slots=[
            SlotPublic(
                id=s.id,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                label=grid.labels[s.id],
                tables=s.tables,
            )
            for s in grid.slots
        ],
        meetings=[PlacementPublic.of(event, m) for m in placed],
        unscheduled=[
            UnscheduledPublic(meeting=PlacementPublic.of(event, m), reason=why)
            for m, why in grid.unscheduled
        ],
        quality=_quality(grid.quality),
    )


@router.post("/schedule/publish", responses=_WRITE, summary="Publish the schedule (organisers)")
def publish(
    event_id: EventId,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    body: PublishIn | None = None,
) -> PublicationPublic:
    """The working copy becomes the next version; only the participants whose meetings were
    added, moved or removed are notified. 422 when nothing changed."""
    event = event_or_404(session, user, event_id)
    done = verbs.publish_schedule(
        session,
        event,
        actor=user,
        note=(body or PublishIn()).note,
        base_url=settings.public_url,
    )
    return PublicationPublic(version=VersionPublic.of(done.version), notified=sorted(done.notified))


@router.get("/schedule/versions", responses=_WRITE, summary="Published versions (organisers)")
def list_versions(event_id: EventId, session: SessionDep, user: CurrentUser) -> VersionsPublic:
    event = event_or_404(session, user, event_id)
    rows = verbs.versions(session, event, actor=user)
    return VersionsPublic(data=[VersionPublic.of(r) for r in rows], count=len(rows))


@router.post("/meetings/{meeting_id}/lock", responses=_WRITE, summary="Lock a meeting")
def lock(
    event_id: EventId, meeting_id: MeetingId, session: SessionDep, user: CurrentUser
) -> PlacementPublic:
    """The scheduler keeps it in its slot and table (organisers)."""
    event = event_or_404(session, user, event_id)
    require_organiser(user, event)
    meeting = meeting_or_404(session, event, meeting_id)
    meeting = verbs.lock_meeting(session, event, meeting, actor=user)
    return PlacementPublic.of(event, meeting)


@router.post("/meetings/{meeting_id}/unlock", responses=_WRITE, summary="Unlock a meeting")
def unlock(
    event_id: EventId, meeting_id: MeetingId, session: SessionDep, user: CurrentUser
) -> PlacementPublic:
    event = event_or_404(session, user, event_id)
    require_organiser(user, event)
    meeting = meeting_or_404(session, event, meeting_id)
    meeting = verbs.unlock_meeting(session, event, meeting, actor=user)
    return PlacementPublic.of(event, meeting)


@router.post("/meetings/{meeting_id}/move", responses=_WRITE, summary="Move a meeting")
def move(
    event_id: EventId, meeting_id: MeetingId, body: MoveIn, session: SessionDep, user: CurrentUser
) -> PlacementPublic:
    """To another slot and table (organisers); 422 naming ``slot_id`` or ``table`` when it
    breaks a rule. A moved meeting is locked."""
    event = event_or_404(session, user, event_id)
    require_organiser(user, event)
    meeting = meeting_or_404(session, event, meeting_id)
    slot = None
    if body.slot_id is not None:
        slot = session.get(EventSlot, body.slot_id)
        if slot is None or slot.event_id != event.id:
            raise ValidationError({"slot_id": "no slot with this id in this event"})
    try:
        verbs.move_meeting(session, event, meeting, slot, body.table, actor=user)
    except ValidationError as exc:
        raise ValidationError(
            {("slot_id" if k == "slot" else k): v for k, v in exc.errors.items()}
        ) from None
    session.refresh(meeting)
    return PlacementPublic.of(event, meeting)


def _agenda(
    session: Session, user: User, event_id: int, participant_id: int | None
) -> verbs.Agenda:
    event = event_or_404(session, user, event_id)
    return verbs.agenda(session, agenda_owner(session, event, user, participant_id))


@router.get("/agenda", responses=_WRITE, summary="An agenda (published meetings)")
def read_agenda(
    event_id: EventId,
    session: SessionDep,
    user: CurrentUser,
    participant_id: ParticipantQuery = None,
) -> AgendaPublic:
    """Your meetings in the published schedule (and standby meetings of the day), in time
    order, with idle gaps; organisers may read anyone's."""
    found = _agenda(session, user, event_id, participant_id)
    event = found.event

    def local(moment: datetime) -> str:
        return local_time(event, moment).isoformat()

    return AgendaPublic(
        participant=PersonPublic.of(found.participant),
        timezone=event.timezone,
        version=found.version,
        published_at=found.published_at,
        meetings=[
            AgendaItemPublic(
                meeting_id=i.meeting_id,
                starts_at=i.start,
                ends_at=i.end,
                local_start=local(i.start),
                local_end=local(i.end),
                partner=PersonPublic.of(i.partner),
                table=None if i.online else i.table,
                online=i.online,
                link=i.link,
                standby=i.standby,
            )
            for i in found.items
        ],
        gaps=[GapPublic(starts_at=g.start, ends_at=g.end, slots=g.slots) for g in found.gaps],
    )


@router.get(
    "/agenda.ics",
    responses={
        **_WRITE,
        200: {"content": {"text/calendar": {}}, "description": "an iCalendar file"},
    },
    response_class=Response,
    summary="An agenda as iCalendar",
)
def agenda_calendar(
    event_id: EventId,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    participant_id: ParticipantQuery = None,
) -> Response:
    found = _agenda(session, user, event_id, participant_id)
    text = agenda_ics(found, host=_host(settings.public_url))
    return Response(
        text,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="agenda-{event_id}.ics"'},
    )
