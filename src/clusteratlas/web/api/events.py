"""``/api/events``: matchmaking events: list, create, read, edit, publish, cancel; sessions and
their slots; registrations (register, approve, decline, withdraw, edit), availability;
marketplace items; the participant directory.

Reads are scoped by :func:`~clusteratlas.collaboration.event_access.get_event`: a draft of
someone else answers 404, like an unknown id. Writes call the verbs of
:mod:`clusteratlas.collaboration.events`, which check permission (403) and input (422). Times
are ISO 8601 with an offset (a time without one is a 422 on its field) and are answered in UTC.
The request and response bodies are defined here, with the conventions of
:mod:`clusteratlas.web.api.schemas`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration import events as verbs
from clusteratlas.collaboration.event_access import (
    is_organiser,
    participation,
)
from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    EventSession,
    EventSlot,
    EventStatus,
    ItemKind,
    Organisation,
    OrganisationType,
    Participant,
    ParticipantStatus,
    User,
)
from clusteratlas.web.api.deps import MAX_ID, CurrentUser, OptionalUser, SessionDep, SettingsDep
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.api.schemas import Line, Text
from clusteratlas.web.event_deps import (
    event_or_404,
    item_or_404,
    participant_or_404,
    registration_or_404,
)

__all__ = [
    "AvailabilityIn",
    "AvailabilityPublic",
    "EventCreate",
    "EventPublic",
    "EventUpdate",
    "EventsPublic",
    "ItemCreate",
    "ItemPublic",
    "ItemUpdate",
    "ItemsPublic",
    "ParticipantPublic",
    "ParticipantsPublic",
    "RegistrationCreate",
    "RegistrationUpdate",
    "SessionCreate",
    "SessionPublic",
    "SessionsPublic",
    "SlotPublic",
    "SlotUpdate",
    "SlotsPublic",
    "router",
]

router = APIRouter(prefix="/events", tags=["events"])

MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
_READ = error_responses(401, 404)
_WRITE = error_responses(401, 403, 404)

EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="the event's id")]
SessionId = Annotated[int, Path(ge=1, le=MAX_ID, description="the session's id")]
SlotId = Annotated[int, Path(ge=1, le=MAX_ID, description="the slot's id")]
ParticipantId = Annotated[int, Path(ge=1, le=MAX_ID, description="the participant's id")]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="the item's id")]
OrgId = Annotated[int, Field(ge=1, le=MAX_ID, description="an organisation you manage")]
Keywords = Annotated[list[Line], Field(max_length=100, description="at most 30 are accepted")]


# ---- schemas -----------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventCreate(_Input):
    title: Line = Field(description="at most 300 characters")
    timezone: Line = Field(description="IANA time zone of the venue, e.g. Europe/Brussels")
    description: Text = ""
    venue: Line | None = None
    virtual_link_template: Line | None = Field(
        default=None,
        description="http(s) link with {meeting} where each meeting's number goes",
    )
    organisation_id: OrgId | None = None
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None
    requests_deadline: AwareDatetime | None = None
    requires_approval: bool = False
    max_meetings_per_participant: int | None = Field(default=None, description="1 to 1,000")
    max_outstanding_requests: int | None = Field(default=10, description="1 to 1,000")
    must_meet_weight: int = Field(default=3, description="1 to 100")


class EventUpdate(_Input):
    """The fields to change; fields left out keep their value; ``null`` clears an optional
    field."""

    title: Line | None = None
    timezone: Line | None = None
    description: Text | None = None
    venue: Line | None = None
    virtual_link_template: Line | None = None
    organisation_id: OrgId | None = None
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None
    requests_deadline: AwareDatetime | None = None
    requires_approval: bool | None = None
    max_meetings_per_participant: int | None = None
    max_outstanding_requests: int | None = None
    must_meet_weight: int | None = None


#: fields of :class:`EventUpdate` that cannot be null
_REQUIRED_EVENT = ("title", "timezone", "description", "requires_approval", "must_meet_weight")


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    timezone: str
    venue: str | None
    virtual_link_template: str | None
    status: EventStatus
    organiser_id: int | None
    organisation_id: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    requests_deadline: datetime | None
    requires_approval: bool
    max_meetings_per_participant: int | None
    max_outstanding_requests: int | None
    must_meet_weight: int
    schedule_version: int
    registration_open: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, event: Event) -> EventPublic:
        values = {n: getattr(event, n) for n in cls.model_fields if n != "registration_open"}
        return cls.model_validate(values | {"registration_open": verbs.registration_open(event)})


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int = Field(description="how many events match in all pages")


class SessionCreate(_Input):
    name: Line = Field(description="at most 200 characters")
    starts_at: AwareDatetime
    ends_at: AwareDatetime = Field(description="after the start, at most 24 hours later")
    slot_minutes: int = Field(description="5 to 1,440")
    break_minutes: int = Field(default=0, description="0 to 1,440, between slots")
    tables: int = Field(description="physical tables per slot, 0 to 10,000")


class SlotPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    session_id: int
    starts_at: datetime
    ends_at: datetime
    tables: int


class SlotsPublic(BaseModel):
    data: list[SlotPublic]
    count: int


class SlotUpdate(_Input):
    tables: int = Field(description="0 to 10,000; not below a table in use in this slot")


class SessionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    slot_minutes: int
    break_minutes: int
    tables: int
    slots: list[SlotPublic]


class SessionsPublic(BaseModel):
    data: list[SessionPublic]
    count: int


class RegistrationCreate(_Input):
    display_name: Line | None = Field(default=None, description="default: from your e-mail")
    job_title: Line | None = None
    organisation_id: OrgId | None = None
    headline: Text = Field(default="", description="what you come for (2,000 characters)")
    max_meetings: int | None = Field(default=None, description="at most the event's cap")
    auto_accept: bool = False
    on_standby: bool = False


class RegistrationUpdate(_Input):
    """The fields to change; fields left out keep their value."""

    display_name: Line | None = None
    job_title: Line | None = None
    organisation_id: OrgId | None = None
    headline: Text | None = None
    max_meetings: int | None = None
    auto_accept: bool | None = None
    on_standby: bool | None = None


_REQUIRED_REGISTRATION = ("display_name", "headline", "auto_accept", "on_standby")


class ParticipantOrganisation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    country: str
    type: OrganisationType


class ParticipantPublic(BaseModel):
    """A registration. ``auto_accept``, ``on_standby``, ``max_meetings`` and
    ``available_slot_ids`` are given to the participant and the organisers only."""

    id: int
    event_id: int
    status: ParticipantStatus
    display_name: str
    job_title: str | None
    headline: str
    organisation: ParticipantOrganisation | None
    max_meetings: int | None = None
    auto_accept: bool | None = None
    on_standby: bool | None = None
    available_slot_ids: list[int] | None = None
    created_at: datetime

    @classmethod
    def of(cls, participant: Participant, *, full: bool) -> ParticipantPublic:
        organisation: Organisation | None = participant.organisation
        values: dict[str, Any] = {
            "id": participant.id,
            "event_id": participant.event_id,
            "status": participant.status,
            "display_name": participant.display_name,
            "job_title": participant.job_title,
            "headline": participant.headline,
            "organisation": (
                ParticipantOrganisation.model_validate(organisation) if organisation else None
            ),
            "created_at": participant.created_at,
        }
        if full:
            values |= {
                "max_meetings": participant.max_meetings,
                "auto_accept": participant.auto_accept,
                "on_standby": participant.on_standby,
                "available_slot_ids": participant.available_slot_ids,
            }
        return cls.model_validate(values)


class ParticipantsPublic(BaseModel):
    data: list[ParticipantPublic]
    count: int


class AvailabilityIn(_Input):
    slot_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        max_length=10_000, description="the slots you are available in; null: all slots"
    )


class AvailabilityPublic(BaseModel):
    participant_id: int
    available_slot_ids: list[int] | None = Field(description="null: all slots")


class ItemCreate(_Input):
    kind: ItemKind
    title: Line = Field(description="at most 200 characters")
    body: Text = Field(default="", description="at most 5,000 characters")
    keywords: Keywords = []


class ItemUpdate(_Input):
    kind: ItemKind | None = None
    title: Line | None = None
    body: Text | None = None
    keywords: Keywords | None = None


class ItemPublic(BaseModel):
    id: int
    event_id: int
    participant_id: int
    participant_name: str | None = Field(description="for the event's participants only")
    organisation_name: str | None
    kind: ItemKind
    title: str
    body: str
    keywords: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, item: EventItem, *, names: bool) -> ItemPublic:
        participant = item.participant
        return cls(
            id=item.id,
            event_id=item.event_id,
            participant_id=item.participant_id,
            participant_name=participant.display_name if names else None,
            organisation_name=participant.organisation.name if participant.organisation else None,
            kind=item.kind,
            title=item.title,
            body=item.body,
            keywords=item.keywords,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


class ItemsPublic(BaseModel):
    data: list[ItemPublic]
    count: int


# ---- lookups -----------------------------------------------------------------------------


def _mine(session: Session, event: Event, user: User) -> Participant:
    return registration_or_404(session, event, user, detail="you are not registered")


def _no_nulls(changes: dict[str, Any], fields: tuple[str, ...]) -> None:
    nulls = [field for field in fields if field in changes and changes[field] is None]
    if nulls:
        raise ValidationError(dict.fromkeys(nulls, "give a value or leave the field out"))


def _sees_directory(session: Session, viewer: User | None, event: Event) -> bool:
    mine = participation(session, event, viewer)
    return is_organiser(viewer, event) or (
        mine is not None and mine.status == ParticipantStatus.approved
    )


# ---- events ------------------------------------------------------------------------------


@router.get("", responses=error_responses(401), summary="List events")
def list_(
    session: SessionDep,
    viewer: OptionalUser,
    mine: Annotated[
        bool, Query(description="the events you organise or registered for, in any status")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")] = 0,
) -> EventsPublic:
    """Upcoming published events, soonest first (undated ones last); with ``mine``, yours,
    latest first."""
    rows, count = verbs.list_events(session, viewer=viewer, mine=mine, limit=limit, offset=offset)
    return EventsPublic(data=[EventPublic.of(row) for row in rows], count=count)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403),
    summary="Create an event",
)
def create(body: EventCreate, session: SessionDep, user: CurrentUser) -> EventPublic:
    """A draft, visible to you (its organiser) and administrators until published."""
    event = verbs.create_event(session, actor=user, **body.model_dump())
    return EventPublic.of(event)


@router.get("/{event_id}", responses=_READ, summary="Read an event")
def read(session: SessionDep, viewer: OptionalUser, event_id: EventId) -> EventPublic:
    """Published and cancelled events; drafts for their organisers only (404 for others)."""
    return EventPublic.of(event_or_404(session, viewer, event_id))


@router.patch("/{event_id}", responses=_WRITE, summary="Edit an event")
def update(
    body: EventUpdate, session: SessionDep, user: CurrentUser, event_id: EventId
) -> EventPublic:
    """Change the fields given (organisers); not on cancelled events."""
    event = event_or_404(session, user, event_id)
    changes = body.model_dump(exclude_unset=True)
    _no_nulls(changes, _REQUIRED_EVENT)
    verbs.update_event(session, actor=user, event=event, **changes)
    return EventPublic.of(event)


@router.post("/{event_id}/publish", responses=_WRITE, summary="Publish a draft event")
def publish(session: SessionDep, user: CurrentUser, event_id: EventId) -> EventPublic:
    event = event_or_404(session, user, event_id)
    verbs.publish_event(session, actor=user, event=event)
    return EventPublic.of(event)


@router.post("/{event_id}/cancel", responses=_WRITE, summary="Cancel an event")
def cancel(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, event_id: EventId
) -> EventPublic:
    """Approved participants are notified."""
    event = event_or_404(session, user, event_id)
    verbs.cancel_event(session, actor=user, event=event, base_url=settings.public_url)
    return EventPublic.of(event)


# ---- sessions and slots ------------------------------------------------------------------


@router.get("/{event_id}/sessions", responses=_READ, summary="Sessions and their slots")
def list_sessions(session: SessionDep, viewer: OptionalUser, event_id: EventId) -> SessionsPublic:
    event = event_or_404(session, viewer, event_id)
    rows = [SessionPublic.model_validate(block) for block in event.sessions]
    return SessionsPublic(data=rows, count=len(rows))


@router.post(
    "/{event_id}/sessions",
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
    summary="Add a session",
)
def add_session(
    body: SessionCreate, session: SessionDep, user: CurrentUser, event_id: EventId
) -> SessionPublic:
    """Split at once into back-to-back slots (slot, break, slot, …) while a slot fits; may not
    overlap another session. The event's start and end follow its sessions."""
    event = event_or_404(session, user, event_id)
    block = verbs.add_session(session, actor=user, event=event, **body.model_dump())
    return SessionPublic.model_validate(block)


@router.delete(
    "/{event_id}/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_WRITE,
    summary="Delete a session",
)
def delete_session(
    session: SessionDep, user: CurrentUser, event_id: EventId, session_id: SessionId
) -> Response:
    """Refused (422) once a meeting is scheduled in one of its slots."""
    event = event_or_404(session, user, event_id)
    block = session.get(EventSession, session_id)
    if block is None or block.event_id != event.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no session with this id")
    verbs.delete_session(session, actor=user, event_session=block)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{event_id}/slots", responses=_READ, summary="The event's slots")
def list_slots(session: SessionDep, viewer: OptionalUser, event_id: EventId) -> SlotsPublic:
    event = event_or_404(session, viewer, event_id)
    rows = [SlotPublic.model_validate(slot) for slot in verbs.event_slots(session, event)]
    return SlotsPublic(data=rows, count=len(rows))


@router.patch("/{event_id}/slots/{slot_id}", responses=_WRITE, summary="Change a slot's tables")
def update_slot(
    body: SlotUpdate, session: SessionDep, user: CurrentUser, event_id: EventId, slot_id: SlotId
) -> SlotPublic:
    event = event_or_404(session, user, event_id)
    slot = session.get(EventSlot, slot_id)
    if slot is None or slot.event_id != event.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no slot with this id")
    verbs.update_slot(session, actor=user, slot=slot, tables=body.tables)
    return SlotPublic.model_validate(slot)


# ---- registrations -----------------------------------------------------------------------


@router.post(
    "/{event_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
    summary="Register for an event",
)
def register(
    body: RegistrationCreate,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    event_id: EventId,
) -> ParticipantPublic:
    """While registration is open; approved at once, or pending when the event requires
    approval (the organiser is notified). Once per event."""
    event = event_or_404(session, user, event_id)
    participant = verbs.register(
        session, actor=user, event=event, base_url=settings.public_url, **body.model_dump()
    )
    return ParticipantPublic.of(participant, full=True)


@router.get("/{event_id}/registrations", responses=_WRITE, summary="Registrations (organisers)")
def list_registrations(
    session: SessionDep,
    user: CurrentUser,
    event_id: EventId,
    status_: Annotated[ParticipantStatus | None, Query(alias="status")] = None,
) -> ParticipantsPublic:
    """Every registration (or those of one status), by name."""
    event = event_or_404(session, user, event_id)
    if not is_organiser(user, event):
        raise PermissionDenied("only the event's organisers see its registrations")
    rows = verbs.list_participants(session, viewer=user, event=event, status=status_)
    return ParticipantsPublic(
        data=[ParticipantPublic.of(row, full=True) for row in rows], count=len(rows)
    )


@router.get("/{event_id}/registrations/me", responses=_READ, summary="Your registration")
def my_registration(session: SessionDep, user: CurrentUser, event_id: EventId) -> ParticipantPublic:
    event = event_or_404(session, user, event_id)
    return ParticipantPublic.of(_mine(session, event, user), full=True)


@router.patch("/{event_id}/registrations/me", responses=_WRITE, summary="Edit your registration")
def update_registration(
    body: RegistrationUpdate, session: SessionDep, user: CurrentUser, event_id: EventId
) -> ParticipantPublic:
    event = event_or_404(session, user, event_id)
    participant = _mine(session, event, user)
    changes = body.model_dump(exclude_unset=True)
    _no_nulls(changes, _REQUIRED_REGISTRATION)
    verbs.update_registration(session, actor=user, participant=participant, **changes)
    return ParticipantPublic.of(participant, full=True)


@router.post("/{event_id}/registrations/me/withdraw", responses=_WRITE, summary="Withdraw")
def withdraw(session: SessionDep, user: CurrentUser, event_id: EventId) -> ParticipantPublic:
    event = event_or_404(session, user, event_id)
    participant = verbs.withdraw(session, actor=user, participant=_mine(session, event, user))
    return ParticipantPublic.of(participant, full=True)


@router.get(
    "/{event_id}/registrations/me/availability", responses=_READ, summary="Your availability"
)
def my_availability(
    session: SessionDep, user: CurrentUser, event_id: EventId
) -> AvailabilityPublic:
    participant = _mine(session, event_or_404(session, user, event_id), user)
    return AvailabilityPublic(
        participant_id=participant.id, available_slot_ids=participant.available_slot_ids
    )


@router.put(
    "/{event_id}/registrations/me/availability", responses=_WRITE, summary="Set availability"
)
def set_availability(
    body: AvailabilityIn, session: SessionDep, user: CurrentUser, event_id: EventId
) -> AvailabilityPublic:
    """The slots you are available in (null or every slot: all, including later ones)."""
    participant = _mine(session, event_or_404(session, user, event_id), user)
    verbs.set_availability(session, actor=user, participant=participant, slot_ids=body.slot_ids)
    return AvailabilityPublic(
        participant_id=participant.id, available_slot_ids=participant.available_slot_ids
    )


@router.post(
    "/{event_id}/registrations/{participant_id}/approve",
    responses=_WRITE,
    summary="Approve a registration",
)
def approve(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    event_id: EventId,
    participant_id: ParticipantId,
) -> ParticipantPublic:
    """Organisers; the participant is notified."""
    event = event_or_404(session, user, event_id)
    participant = participant_or_404(session, event, participant_id)
    verbs.approve(session, actor=user, participant=participant, base_url=settings.public_url)
    return ParticipantPublic.of(participant, full=True)


@router.post(
    "/{event_id}/registrations/{participant_id}/decline",
    responses=_WRITE,
    summary="Decline a registration",
)
def decline(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    event_id: EventId,
    participant_id: ParticipantId,
) -> ParticipantPublic:
    """Organisers; the participant is notified."""
    event = event_or_404(session, user, event_id)
    participant = participant_or_404(session, event, participant_id)
    verbs.decline(session, actor=user, participant=participant, base_url=settings.public_url)
    return ParticipantPublic.of(participant, full=True)


@router.get("/{event_id}/participants", responses=_WRITE, summary="Participant directory")
def list_participants(
    session: SessionDep,
    user: CurrentUser,
    event_id: EventId,
    text: Annotated[str | None, Query(max_length=200, description="in names, headlines")] = None,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="the organisation's country")
    ] = None,
    organisation_type: Annotated[OrganisationType | None, Query()] = None,
) -> ParticipantsPublic:
    """Approved participants, by name: for the event's approved participants and organisers."""
    event = event_or_404(session, user, event_id)
    if text is not None and "\x00" in text:
        raise ValidationError({"text": "must not contain NUL characters"})
    rows = verbs.list_participants(
        session,
        viewer=user,
        event=event,
        text=text,
        country=country,
        organisation_type=organisation_type,
    )
    full = is_organiser(user, event)
    return ParticipantsPublic(
        data=[ParticipantPublic.of(row, full=full or row.user_id == user.id) for row in rows],
        count=len(rows),
    )


# ---- marketplace items -------------------------------------------------------------------


@router.get("/{event_id}/items", responses=_READ, summary="Marketplace items")
def list_items(
    session: SessionDep,
    viewer: OptionalUser,
    event_id: EventId,
    kind: Annotated[ItemKind | None, Query()] = None,
) -> ItemsPublic:
    """Items of approved participants, newest first (names for the event's participants)."""
    event = event_or_404(session, viewer, event_id)
    mine = participation(session, event, viewer)
    rows = verbs.list_items(session, event=event, viewer_participant=mine)
    if kind is not None:
        rows = [row for row in rows if row.kind == kind]
    names = _sees_directory(session, viewer, event)
    return ItemsPublic(data=[ItemPublic.of(row, names=names) for row in rows], count=len(rows))


@router.post(
    "/{event_id}/items",
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
    summary="Add an item",
)
def add_item(
    body: ItemCreate, session: SessionDep, user: CurrentUser, event_id: EventId
) -> ItemPublic:
    """An offer, request or expertise of yours for the event (registered participants)."""
    event = event_or_404(session, user, event_id)
    item = verbs.add_item(
        session, actor=user, participant=_mine(session, event, user), **body.model_dump()
    )
    return ItemPublic.of(item, names=True)


@router.patch("/{event_id}/items/{item_id}", responses=_WRITE, summary="Edit an item")
def update_item(
    body: ItemUpdate, session: SessionDep, user: CurrentUser, event_id: EventId, item_id: ItemId
) -> ItemPublic:
    event = event_or_404(session, user, event_id)
    item = item_or_404(session, event, item_id)
    changes = body.model_dump(exclude_unset=True)
    _no_nulls(changes, ("kind", "title", "body", "keywords"))
    verbs.update_item(session, actor=user, item=item, **changes)
    return ItemPublic.of(item, names=True)


@router.delete(
    "/{event_id}/items/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_WRITE,
    summary="Delete an item",
)
def delete_item(
    session: SessionDep, user: CurrentUser, event_id: EventId, item_id: ItemId
) -> Response:
    """Its participant, or the event's organisers."""
    event = event_or_404(session, user, event_id)
    verbs.delete_item(session, actor=user, item=item_or_404(session, event, item_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
