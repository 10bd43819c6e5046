"""Meeting requests at events (issue 6): browse the participants with filters and the "partners
for you" ranking, send, accept, decline and cancel requests, cancel an accepted meeting.

``/api/events/{event_id}/browse``, ``/api/events/{event_id}/requests…`` and
``/api/events/{event_id}/meetings/{meeting_id}/cancel``. An event the user may not see, a
request or a meeting that is not theirs answers 404; the verbs of
:mod:`clusteratlas.collaboration.meeting_requests` answer 403 (not an approved participant, not
the right side) and 422 with a message per field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from clusteratlas.collaboration import meeting_requests as verbs
from clusteratlas.collaboration.models import (
    EventItem,
    ItemKind,
    Meeting,
    MeetingRequest,
    Organisation,
    OrganisationType,
    Participant,
    RequestStatus,
)
from clusteratlas.web.api.deps import MAX_ID, CurrentUser, SessionDep, SettingsDep
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.api.schemas import Text
from clusteratlas.web.event_deps import event_or_404, registration_or_404, request_or_404

__all__ = [
    "BrowsePublic",
    "MyRequestsPublic",
    "RequestAnswer",
    "RequestCreate",
    "RequestPublic",
    "router",
]

router = APIRouter(tags=["events"])

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
_WRITE = error_responses(401, 403, 404)

EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="the event's id")]
RequestId = Annotated[int, Path(ge=1, le=MAX_ID, description="the request's id")]
MeetingId = Annotated[int, Path(ge=1, le=MAX_ID, description="the meeting's id")]


# ---- schemas -----------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestCreate(_Input):
    recipient_id: int = Field(ge=1, le=MAX_ID, description="an approved participant's id")
    message: Text = Field(default="", description="at most 2,000 characters")
    must_meet: bool = Field(default=False, description="counts more in the schedule")


class RequestAnswer(_Input):
    message: Text = Field(default="", description="to the requester (at most 2,000 characters)")


class OrganisationBrief(BaseModel):
    id: int
    name: str
    country: str
    type: OrganisationType

    @classmethod
    def of(cls, organisation: Organisation | None) -> OrganisationBrief | None:
        if organisation is None:
            return None
        return cls(
            id=organisation.id,
            name=organisation.name,
            country=organisation.country,
            type=organisation.type,
        )


class ParticipantBrief(BaseModel):
    id: int
    display_name: str
    job_title: str | None
    headline: str
    organisation: OrganisationBrief | None

    @classmethod
    def of(cls, participant: Participant) -> ParticipantBrief:
        return cls(
            id=participant.id,
            display_name=participant.display_name,
            job_title=participant.job_title,
            headline=participant.headline,
            organisation=OrganisationBrief.of(participant.organisation),
        )


class ItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ItemKind
    title: str
    body: str
    keywords: list[str]

    @classmethod
    def of(cls, item: EventItem) -> ItemPublic:
        return cls.model_validate(item)


class BrowseEntryPublic(BaseModel):
    participant: ParticipantBrief
    items: list[ItemPublic]
    score: float | None = Field(description='"partners for you" only')
    components: dict[str, float]
    explanation: str
    relation: Literal["pending_sent", "pending_received", "meeting"] | None = Field(
        description="between you and them"
    )


class BrowsePublic(BaseModel):
    data: list[BrowseEntryPublic]
    count: int = Field(description="how many participants match in all pages")
    sort: Literal["partners", "name"]


class RequestPublic(BaseModel):
    id: int
    event_id: int
    requester: ParticipantBrief
    recipient: ParticipantBrief
    message: str
    must_meet: bool
    status: RequestStatus
    response_message: str | None
    created_at: datetime
    responded_at: datetime | None
    meeting_id: int | None = Field(default=None, description="once accepted")

    @classmethod
    def of(cls, request: MeetingRequest, meeting_id: int | None = None) -> RequestPublic:
        return cls(
            id=request.id,
            event_id=request.event_id,
            requester=ParticipantBrief.of(request.requester),
            recipient=ParticipantBrief.of(request.recipient),
            message=request.message,
            must_meet=request.must_meet,
            status=request.status,
            response_message=request.response_message,
            created_at=request.created_at,
            responded_at=request.responded_at,
            meeting_id=meeting_id,
        )


class MeetingPublic(BaseModel):
    id: int
    event_id: int
    request_id: int | None
    a: ParticipantBrief
    b: ParticipantBrief
    partner: ParticipantBrief | None = Field(default=None, description="the other side")
    weight: int
    slot_id: int | None
    table_number: int | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, meeting: Meeting, partner: Participant | None = None) -> MeetingPublic:
        return cls(
            id=meeting.id,
            event_id=meeting.event_id,
            request_id=meeting.request_id,
            a=ParticipantBrief.of(meeting.a),
            b=ParticipantBrief.of(meeting.b),
            partner=ParticipantBrief.of(partner) if partner is not None else None,
            weight=meeting.weight,
            slot_id=meeting.slot_id,
            table_number=meeting.table_number,
            cancelled_at=meeting.cancelled_at,
        )


class MyRequestsPublic(BaseModel):
    received: list[RequestPublic] = Field(description="pending first")
    sent: list[RequestPublic] = Field(description="pending first")
    meetings: list[MeetingPublic] = Field(description="accepted meetings, not cancelled")
    pending_sent: int
    pending_received: int
    max_outstanding: int | None = Field(description="the event's limit on pending sent requests")
    remaining: int | None = Field(description="requests you may still send now")
    meeting_cap: int | None
    open: bool = Field(description="requests may still be sent and answered")


# ---- routes ------------------------------------------------------------------------------


_NO_REQUEST = "no such request at this event"


def _meeting_id(session: Session, request: MeetingRequest) -> int | None:
    return session.scalar(select(Meeting.id).where(Meeting.request_id == request.id))


@router.get(
    "/events/{event_id}/browse",
    responses=error_responses(401, 403, 404),
    summary="Browse the participants of an event",
)
def browse(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    event_id: EventId,
    q: Annotated[str, Query(max_length=200, description="words in names, headlines, items")] = "",
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="the organisation's country")
    ] = None,
    organisation_type: Annotated[OrganisationType | None, Query()] = None,
    item_kind: Annotated[ItemKind | None, Query(description="has an item of this kind")] = None,
    sort: Annotated[
        Literal["partners", "name"] | None,
        Query(description='"partners" (for you; the default for participants) or "name"'),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> BrowsePublic:
    """The approved participants other than you with their organisation and marketplace items,
    filtered, ranked "partners for you" (with the score's components and a one-line
    explanation) or by name. For approved participants and the organisers."""
    event = event_or_404(session, user, event_id)
    result = verbs.browse(
        session,
        actor=user,
        event=event,
        q=q,
        country=country,
        organisation_type=organisation_type.value if organisation_type else None,
        item_kind=item_kind.value if item_kind else None,
        sort=sort,
        limit=limit,
        offset=offset,
        base_url=settings.public_url,
    )
    return BrowsePublic(
        data=[
            BrowseEntryPublic(
                participant=ParticipantBrief.of(entry.participant),
                items=[ItemPublic.of(i) for i in entry.items],
                score=entry.score,
                components=entry.components,
                explanation=entry.explanation,
                relation=entry.relation,  # type: ignore[arg-type]
            )
            for entry in result.entries
        ],
        count=result.count,
        sort=result.sort,  # type: ignore[arg-type]
    )


@router.post(
    "/events/{event_id}/requests",
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
    summary="Request a meeting",
)
def send(
    body: RequestCreate,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    event_id: EventId,
) -> RequestPublic:
    """To another approved participant. Refused (422) for yourself, someone not approved, a
    second request while one is pending or a meeting exists between you, after the request
    deadline or the event's end, at the event's limit of pending requests, or when the
    recipient already has their cap of meetings. A recipient with auto-accept accepts at
    once (``status`` is ``accepted`` and ``meeting_id`` set)."""
    event = event_or_404(session, user, event_id)
    request = verbs.send_request(
        session,
        actor=user,
        event=event,
        recipient_id=body.recipient_id,
        message=body.message,
        must_meet=body.must_meet,
        base_url=settings.public_url,
    )
    return RequestPublic.of(request, _meeting_id(session, request))


@router.get(
    "/events/{event_id}/requests",
    responses=error_responses(401, 403, 404),
    summary="My requests and meetings at an event",
)
def mine(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, event_id: EventId
) -> MyRequestsPublic:
    """Requests received and sent (pending first), accepted meetings, the counts and how
    many more requests you may send."""
    event = event_or_404(session, user, event_id)
    found = verbs.my_requests(session, actor=user, event=event, base_url=settings.public_url)
    meetings = {m.request_id: m.id for m in found.meetings if m.request_id is not None}
    return MyRequestsPublic(
        received=[RequestPublic.of(r, meetings.get(r.id)) for r in found.received],
        sent=[RequestPublic.of(r, meetings.get(r.id)) for r in found.sent],
        meetings=[MeetingPublic.of(m, found.partner(m)) for m in found.meetings],
        pending_sent=found.pending_sent,
        pending_received=found.pending_received,
        max_outstanding=found.max_outstanding,
        remaining=found.remaining,
        meeting_cap=found.meeting_cap,
        open=found.open,
    )


@router.post(
    "/events/{event_id}/requests/{request_id}/accept",
    responses=_WRITE,
    summary="Accept a meeting request",
)
def accept(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    event_id: EventId,
    request_id: RequestId,
    body: RequestAnswer | None = None,
) -> MeetingPublic:
    """The recipient accepts: the meeting is made (weight: the event's must-meet weight for a
    "must meet" request) and the requester notified."""
    event = event_or_404(session, user, event_id)
    request = request_or_404(session, user, event, request_id, detail=_NO_REQUEST)
    meeting = verbs.accept_request(
        session,
        actor=user,
        event=event,
        request=request,
        message=body.message if body else None,
        base_url=settings.public_url,
    )
    return MeetingPublic.of(meeting, request.requester)


@router.post(
    "/events/{event_id}/requests/{request_id}/decline",
    responses=_WRITE,
    summary="Decline a meeting request",
)
def decline(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    event_id: EventId,
    request_id: RequestId,
    body: RequestAnswer | None = None,
) -> RequestPublic:
    """The recipient declines, with an optional message; the requester is notified."""
    event = event_or_404(session, user, event_id)
    request = request_or_404(session, user, event, request_id, detail=_NO_REQUEST)
    verbs.decline_request(
        session,
        actor=user,
        event=event,
        request=request,
        message=body.message if body else None,
        base_url=settings.public_url,
    )
    return RequestPublic.of(request)


@router.post(
    "/events/{event_id}/requests/{request_id}/cancel",
    responses=_WRITE,
    summary="Cancel a pending request",
)
def cancel(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    event_id: EventId,
    request_id: RequestId,
) -> RequestPublic:
    """The requester withdraws a pending request."""
    event = event_or_404(session, user, event_id)
    request = request_or_404(session, user, event, request_id, detail=_NO_REQUEST)
    verbs.cancel_request(
        session, actor=user, event=event, request=request, base_url=settings.public_url
    )
    return RequestPublic.of(request)


@router.post(
    "/events/{event_id}/meetings/{meeting_id}/cancel",
    responses=_WRITE,
    summary="Cancel an accepted meeting",
)
def cancel_meeting(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    event_id: EventId,
    meeting_id: MeetingId,
) -> MeetingPublic:
    """Either side, before the event starts; the other side is notified."""
    event = event_or_404(session, user, event_id)
    me = registration_or_404(session, event, user, detail=_NO_REQUEST)
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.event_id != event.id or me.id not in (meeting.a_id, meeting.b_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such meeting at this event")
    verbs.cancel_meeting(
        session, actor=user, event=event, meeting=meeting, base_url=settings.public_url
    )
    return MeetingPublic.of(meeting, meeting.b if meeting.a_id == me.id else meeting.a)
