"""Pages of meeting requests at an event (issue 6): browse the participants (htmx filter form,
"partners for you" or by name) with a request form on each card, the request form on its own
page (where bad input comes back with its messages), and "my requests" with accept, decline
and cancel buttons (plain forms with the CSRF token).

Like the post list, the browse page answers an htmx request (``HX-Request``, not a history
restore) with the results fragment only (``meetings/_browse_results.html``). A refused action
re-renders its page with the messages (400); an event one may not see is a 404, someone who is
not an approved participant gets 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration import meeting_requests as verbs
from clusteratlas.collaboration.event_access import (
    local_time,
    participation,
    require_participant,
)
from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    ItemKind,
    Meeting,
    Participant,
    ParticipantStatus,
    User,
    utcnow,
)
from clusteratlas.web.api.deps import MAX_ID, SessionDep, SettingsDep
from clusteratlas.web.event_deps import event_or_404, is_htmx_fragment, request_or_404
from clusteratlas.web.pages.deps import FormDep, SignedInUser, render
from clusteratlas.web.pages.sessions import flash

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
MAX_PAGE = 10_000
EventId = Annotated[int, Path(ge=1, le=MAX_ID)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
KIND_LABELS = {
    ItemKind.offer: "Offer",
    ItemKind.request: "Request",
    ItemKind.expertise: "Expertise",
}
SORT_LABELS = {"partners": "Partners for you", "name": "Name"}
STATUS_LABELS = {
    "pending": "Waiting for an answer",
    "accepted": "Accepted",
    "declined": "Declined",
    "cancelled": "Withdrawn",
    "expired": "Expired",
}


def _labels(event: Event) -> dict[str, Any]:
    return {
        "kind_labels": KIND_LABELS,
        "sort_labels": SORT_LABELS,
        "status_labels": STATUS_LABELS,
        "local": lambda moment: local_time(event, moment).strftime("%Y-%m-%d %H:%M"),
    }


# ---- browse ------------------------------------------------------------------------------


@router.get("/events/{event_id}/browse")
def browse(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
    q: Annotated[str, Query(max_length=300)] = "",
    country: Annotated[str, Query(max_length=100)] = "",
    organisation_type: Annotated[str, Query(max_length=100)] = "",
    item_kind: Annotated[str, Query(max_length=100)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """The other approved participants, filtered and sorted; a form on each card asks for a
    meeting."""
    event = event_or_404(session, user, event_id, page=True)
    filters = {
        "q": q.strip(),
        "country": country.strip(),
        "organisation_type": organisation_type.strip(),
        "item_kind": item_kind.strip(),
        "sort": sort.strip(),
    }
    errors: dict[str, str] = {}
    result = None
    try:
        result = verbs.browse(
            session,
            actor=user,
            event=event,
            q=filters["q"],
            country=filters["country"] or None,
            organisation_type=filters["organisation_type"] or None,
            item_kind=filters["item_kind"] or None,
            sort=filters["sort"] or None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            base_url=settings.public_url,
        )
    except ValidationError as exc:
        errors = exc.errors
    me = participation(session, event, user)
    if result is not None:
        filters["sort"] = result.sort
    count = result.count if result is not None else 0
    context = {
        "event": event,
        "me": me if me is not None and me.status == ParticipantStatus.approved else None,
        "open": verbs.requests_open(event),
        "entries": result.entries if result is not None else [],
        "count": count,
        "page": page,
        "pages": max(1, -(-count // PAGE_SIZE)),
        "filters": filters,
        "errors": errors,
        **_labels(event),
    }
    template = (
        "meetings/_browse_results.html" if is_htmx_fragment(request) else "meetings/browse.html"
    )
    return render(
        request,
        template,
        user=user,
        headers={"Vary": "HX-Request"},
        status_code=status.HTTP_400_BAD_REQUEST if errors else 200,
        **context,
    )


# ---- the request form --------------------------------------------------------------------


def _recipient(session: Session, event: Event, value: str | int | None) -> Participant | None:
    text = str(value or "").strip()
    if not (text.isdigit() and 0 < int(text) <= MAX_ID):
        return None
    found = session.get(Participant, int(text))
    if found is None or found.event_id != event.id:
        return None
    return found


def _request_form(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    recipient: Participant | None,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    me = require_participant(session, event, user)
    mine = verbs.my_requests(session, actor=user, event=event)
    return render(
        request,
        "meetings/request_form.html",
        user=user,
        status_code=status_code,
        event=event,
        me=me,
        recipient=recipient,
        items=_items(session, recipient) if recipient is not None else [],
        mine=mine,
        values=values,
        errors=errors,
        **_labels(event),
    )


def _items(session: Session, participant: Participant) -> list[EventItem]:
    return list(
        session.scalars(
            select(EventItem)
            .where(EventItem.participant_id == participant.id)
            .order_by(EventItem.id)
        )
    )


@router.get("/events/{event_id}/requests/new")
def new_request(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    to: Annotated[int, Query(ge=1, le=MAX_ID)],
) -> Response:
    """The request form for one participant (``to``: their id)."""
    event = event_or_404(session, user, event_id, page=True)
    recipient = _recipient(session, event, to)
    if recipient is None or recipient.status != ParticipantStatus.approved:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such participant.")
    values = {"recipient_id": str(recipient.id), "message": "", "must_meet": ""}
    return _request_form(request, session, user, event, recipient, values=values, errors={})


@router.post("/events/{event_id}/requests")
def send(
    request: Request,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    values = {
        "recipient_id": form.get("recipient_id", ""),
        "message": form.get("message", ""),
        "must_meet": "1" if form.get("must_meet") else "",
    }
    recipient = _recipient(session, event, values["recipient_id"])
    try:
        if recipient is None:
            raise ValidationError({"recipient_id": "choose a participant of this event"})
        sent = verbs.send_request(
            session,
            actor=user,
            event=event,
            recipient_id=recipient.id,
            message=values["message"],
            must_meet=bool(values["must_meet"]),
            base_url=settings.public_url,
        )
    except ValidationError as exc:
        return _request_form(
            request,
            session,
            user,
            event,
            recipient,
            values=values,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    if sent.status.value == "accepted":
        flash(request, f"{recipient.display_name} accepts requests automatically: you meet.")
    else:
        flash(request, f"Your request was sent to {recipient.display_name}.")
    return RedirectResponse(f"/events/{event.id}/requests", status.HTTP_303_SEE_OTHER)


# ---- my requests -------------------------------------------------------------------------


def _requests_page(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    *,
    base_url: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    mine = verbs.my_requests(session, actor=user, event=event, base_url=base_url)
    return render(
        request,
        "meetings/requests.html",
        user=user,
        status_code=status_code,
        event=event,
        mine=mine,
        started=event.starts_at is not None and utcnow() >= event.starts_at,
        errors=errors or {},
        **_labels(event),
    )


@router.get("/events/{event_id}/requests")
def my_requests(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    return _requests_page(request, session, user, event, base_url=settings.public_url)


_ACTIONS = {
    "accept": (verbs.accept_request, "The meeting is accepted."),
    "decline": (verbs.decline_request, "The request is declined."),
}


@router.post("/events/{event_id}/requests/{request_id}/{action}")
def answer(
    request: Request,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
    request_id: ItemId,
    action: str,
) -> Response:
    """accept, decline (the recipient, with an optional message) or cancel (the requester)."""
    if action not in ("accept", "decline", "cancel"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no page at this address.")
    event = event_or_404(session, user, event_id, page=True)
    found = request_or_404(session, user, event, request_id, detail="There is no such request.")
    try:
        if action == "cancel":
            verbs.cancel_request(
                session, actor=user, event=event, request=found, base_url=settings.public_url
            )
            message = "Your request is withdrawn."
        else:
            verb, message = _ACTIONS[action]
            verb(
                session,
                actor=user,
                event=event,
                request=found,
                message=form.get("message", ""),
                base_url=settings.public_url,
            )
    except ValidationError as exc:
        return _requests_page(
            request,
            session,
            user,
            event,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, message)
    return RedirectResponse(f"/events/{event.id}/requests", status.HTTP_303_SEE_OTHER)


@router.post("/events/{event_id}/meetings/{meeting_id}/cancel")
def cancel_meeting(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
    meeting_id: ItemId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    me = participation(session, event, user)
    meeting = session.get(Meeting, meeting_id)
    if (
        me is None
        or meeting is None
        or meeting.event_id != event.id
        or me.id not in (meeting.a_id, meeting.b_id)
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such meeting.")
    try:
        verbs.cancel_meeting(
            session, actor=user, event=event, meeting=meeting, base_url=settings.public_url
        )
    except ValidationError as exc:
        return _requests_page(
            request,
            session,
            user,
            event,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "The meeting is cancelled; the other side is told.")
    return RedirectResponse(f"/events/{event.id}/requests", status.HTTP_303_SEE_OTHER)
