"""Lookups shared by the event routers, JSON API and pages alike (issue 6): the event a user
may see, a meeting, participant, item or request of that event, one's own registration, and
whether a request is an htmx fragment request.

Each answers 404 when the row is unknown, belongs to another event, or (the event) is a draft
of someone else. The JSON API answers in its terse style (``no meeting with this id``); pages
pass ``page=True`` and answer in sentences (``There is no such meeting.``).
"""

from __future__ import annotations

from typing import TypeVar

from fastapi import HTTPException, Request, status
from sqlalchemy.orm import Session

from clusteratlas.collaboration.event_access import (
    EventNotFound,
    get_event,
    is_organiser,
    participation,
    require_organiser,
    require_participant,
)
from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    Meeting,
    MeetingRequest,
    Participant,
    User,
)

__all__ = [
    "agenda_owner",
    "event_or_404",
    "is_htmx_fragment",
    "item_or_404",
    "meeting_or_404",
    "not_found",
    "participant_or_404",
    "registration_or_404",
    "request_or_404",
]

_Row = TypeVar("_Row", EventItem, Meeting, MeetingRequest, Participant)


def not_found(noun: str, *, page: bool = False) -> HTTPException:
    """The 404 of an unknown ``noun``, in the API's words or, with ``page``, a page's."""
    detail = f"There is no such {noun}." if page else f"no {noun} with this id"
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)


def event_or_404(
    session: Session, viewer: User | None, event_id: int, *, page: bool = False
) -> Event:
    """The event ``viewer`` may see (:func:`~clusteratlas.collaboration.event_access.get_event`),
    else 404."""
    try:
        return get_event(session, event_id, viewer=viewer)
    except EventNotFound:
        raise not_found("event", page=page) from None


def _of_event(session: Session, model: type[_Row], row_id: int, event: Event) -> _Row | None:
    found = session.get(model, row_id)
    return found if found is not None and found.event_id == event.id else None


def meeting_or_404(
    session: Session, event: Event, meeting_id: int, *, page: bool = False, detail: str = ""
) -> Meeting:
    """A meeting of ``event``; 404 (with ``detail`` if given) otherwise."""
    found = _of_event(session, Meeting, meeting_id, event)
    if found is None:
        if detail:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)
        raise not_found("meeting", page=page)
    return found


def participant_or_404(
    session: Session,
    event: Event,
    participant_id: int,
    *,
    page: bool = False,
    noun: str = "participant",
) -> Participant:
    """A participant of ``event`` whatever their status; 404 (naming ``noun``) otherwise."""
    found = _of_event(session, Participant, participant_id, event)
    if found is None:
        raise not_found(noun, page=page)
    return found


def agenda_owner(
    session: Session, event: Event, user: User, participant_id: int | None, *, page: bool = False
) -> Participant:
    """Whose agenda ``user`` asks for: their own (``participant_id`` None or theirs; 403 if not
    an approved participant), or, for organisers, any participant of the event (404 if none)."""
    if participant_id is None:
        return require_participant(session, event, user)
    if not is_organiser(user, event):
        mine = require_participant(session, event, user)
        if mine.id != participant_id:
            require_organiser(user, event)
        return mine
    return participant_or_404(session, event, participant_id, page=page)


def item_or_404(session: Session, event: Event, item_id: int, *, page: bool = False) -> EventItem:
    """A marketplace item of ``event``; 404 otherwise."""
    found = _of_event(session, EventItem, item_id, event)
    if found is None:
        raise not_found("item", page=page)
    return found


def registration_or_404(session: Session, event: Event, user: User, *, detail: str) -> Participant:
    """``user``'s registration for ``event`` whatever its status; 404 with ``detail`` if none."""
    found = participation(session, event, user)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)
    return found


def request_or_404(
    session: Session, user: User, event: Event, request_id: int, *, detail: str
) -> MeetingRequest:
    """A meeting request of ``event`` that ``user`` sent or received; 404 with ``detail``
    otherwise (also when ``user`` is not registered)."""
    me = participation(session, event, user)
    found = _of_event(session, MeetingRequest, request_id, event)
    if me is None or found is None or me.id not in (found.requester_id, found.recipient_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)
    return found


def is_htmx_fragment(request: Request) -> bool:
    """An htmx request for a fragment (``HX-Request``), not a history restore (which wants the
    whole page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )
