"""Pages of matchmaking events: the list, the event page, the create and edit forms, the
organiser's page (sessions and slots, registrations to approve), registration, "my
registration" (profile, availability, marketplace items), the marketplace and the participant
directory.

Times are entered on the forms in the event's time zone (``datetime-local`` inputs, converted
by :func:`~clusteratlas.collaboration.events.local_to_utc`) and shown in it with the zone
named. Every form carries the CSRF token; bad input re-renders the form with a message per
field (400) and keeps what was typed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration import events as verbs
from clusteratlas.collaboration.event_access import (
    is_organiser,
    local_time,
    participation,
    require_organiser,
)
from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    EventSession,
    EventSlot,
    EventStatus,
    OrganisationType,
    Participant,
    ParticipantStatus,
    User,
)
from clusteratlas.collaboration.permissions import is_member
from clusteratlas.web.api.deps import MAX_ID, SessionDep, SettingsDep
from clusteratlas.web.event_deps import (
    event_or_404,
    item_or_404,
    participant_or_404,
    registration_or_404,
)
from clusteratlas.web.pages.deps import FormDep, ListFormDep, PageUser, SignedInUser, render
from clusteratlas.web.pages.sessions import flash

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

EventId = Annotated[int, Path(ge=1, le=MAX_ID)]
ChildId = Annotated[int, Path(ge=1, le=MAX_ID)]
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

EVENT_TEXT = ("title", "description", "timezone", "venue", "virtual_link_template")
EVENT_TIMES = ("registration_opens_at", "registration_closes_at", "requests_deadline")
EVENT_NUMBERS = ("max_meetings_per_participant", "max_outstanding_requests", "must_meet_weight")
SESSION_FIELDS = ("name", "starts_at", "ends_at", "slot_minutes", "break_minutes", "tables")
PROFILE_TEXT = ("display_name", "job_title", "headline")
ITEM_FORM = ("kind", "title", "body", "keywords")


# ---- helpers -----------------------------------------------------------------------------


def _mine(session: Session, event: Event, user: User) -> Participant:
    return registration_or_404(session, event, user, detail="You are not registered.")


def _redirect(path: str) -> Response:
    return RedirectResponse(path, status.HTTP_303_SEE_OTHER)


def _local_input(event_zone: str, moment: datetime | None) -> str:
    """The value of a ``datetime-local`` input: ``moment`` in the zone, to the minute."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(event_zone)).strftime(_LOCAL_FORMAT)


def _parse_local(text: str, timezone: str) -> datetime:
    """A ``datetime-local`` value (``2030-05-14T09:00``) in ``timezone``, in UTC."""
    try:
        naive = datetime.strptime(text.strip()[:16], _LOCAL_FORMAT)  # noqa: DTZ007 - wall time
    except ValueError:
        raise ValueError("enter a date and time such as 2030-05-14T09:00") from None
    return verbs.local_to_utc(naive, timezone)


def _parse_int(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise ValueError("enter a whole number")
    return int(text)


def _parse_id(text: str, field: str, message: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise ValidationError({field: message})
    return int(text)


def _when(event: Event, moment: datetime | None, pattern: str = "%a %d %b %Y, %H:%M") -> str:
    return local_time(event, moment).strftime(pattern) if moment is not None else ""


def _until(event: Event, start: datetime | None, end: datetime | None) -> str:
    """The end of a span that starts at ``start``: the time alone on the same local day, with
    the date when the span crosses midnight."""
    if start is None or end is None:
        return _when(event, end)
    same_day = local_time(event, start).date() == local_time(event, end).date()
    return _when(event, end, "%H:%M" if same_day else "%a %d %b %Y, %H:%M")


def _event_context(session: Session, user: User | None, event: Event) -> dict[str, Any]:
    """What every event page shows: the event, the viewer's part in it, time formatting."""
    mine = participation(session, event, user)
    organiser = is_organiser(user, event)
    return {
        "event": event,
        "when": lambda moment, pattern="%a %d %b %Y, %H:%M": _when(event, moment, pattern),
        "until": lambda start, end: _until(event, start, end),
        "zone_name": event.timezone,
        "is_organiser": organiser,
        "mine": mine,
        "sees_directory": organiser
        or (mine is not None and mine.status == ParticipantStatus.approved),
        "registration_open": verbs.registration_open(event),
        "status_labels": verbs.STATUS_LABELS,
        "item_kind_labels": verbs.ITEM_KIND_LABELS,
    }


# ---- list --------------------------------------------------------------------------------


@router.get("/events")
def list_(request: Request, session: SessionDep, user: PageUser) -> Response:
    upcoming, _count = verbs.list_events(session, viewer=user, limit=100)
    mine, _ = verbs.list_events(session, viewer=user, mine=True, limit=100)
    return render(
        request,
        "events/list.html",
        user=user,
        upcoming=upcoming,
        mine=mine,
        can_create=is_member(user),
        when=_when,
    )


# ---- create and edit ---------------------------------------------------------------------


def _event_values(event: Event | None) -> dict[str, str]:
    if event is None:
        return {
            "timezone": "Europe/Brussels",
            "max_outstanding_requests": "10",
            "must_meet_weight": "3",
        }
    values = {field: getattr(event, field) or "" for field in EVENT_TEXT}
    values |= {field: _local_input(event.timezone, getattr(event, field)) for field in EVENT_TIMES}
    values |= {
        field: "" if getattr(event, field) is None else str(getattr(event, field))
        for field in EVENT_NUMBERS
    }
    values["organisation_id"] = str(event.organisation_id or "")
    values["requires_approval"] = "1" if event.requires_approval else ""
    return values


def _parse_event_form(form: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """(the values as typed, the verb's arguments); ValidationError for what cannot be read."""
    values = {f: form.get(f, "") for f in (*EVENT_TEXT, *EVENT_TIMES, *EVENT_NUMBERS)}
    values["organisation_id"] = form.get("organisation_id", "")
    values["requires_approval"] = "1" if form.get("requires_approval") else ""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {f: values[f] for f in EVENT_TEXT}
    zone = values["timezone"].strip()
    out["timezone"] = zone
    if not verbs.is_valid_timezone(zone):
        errors["timezone"] = "choose a time zone by its IANA name, e.g. Europe/Brussels"
    for field in EVENT_TIMES:
        text = values[field].strip()
        if not text:
            out[field] = None
        elif "timezone" not in errors:
            try:
                out[field] = _parse_local(text, zone)
            except ValueError as exc:
                errors[field] = str(exc)
    for field in EVENT_NUMBERS:
        try:
            out[field] = _parse_int(values[field])
        except ValueError as exc:
            errors[field] = str(exc)
    try:
        out["organisation_id"] = _parse_id(
            values["organisation_id"], "organisation_id", "choose an organisation that you manage"
        )
    except ValidationError as exc:
        errors |= exc.errors
    out["requires_approval"] = bool(values["requires_approval"])
    if errors:
        raise ValidationError(errors)
    return values, out


def _render_event_form(
    request: Request,
    session: Session,
    user: User,
    *,
    event: Event | None,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "events/form.html",
        user=user,
        status_code=status_code,
        event=event,
        values=values,
        errors=errors,
        organisations=verbs.managed_organisations(session, user),
        zones=verbs.timezone_names(),
    )


@router.get("/events/new")
def new_form(request: Request, session: SessionDep, user: SignedInUser) -> Response:
    return _render_event_form(
        request, session, user, event=None, values=_event_values(None), errors={}
    )


@router.post("/events/new")
def create(request: Request, form: FormDep, session: SessionDep, user: SignedInUser) -> Response:
    values = {f: form.get(f, "") for f in form}
    try:
        values, arguments = _parse_event_form(form)
        if arguments["must_meet_weight"] is None:
            arguments["must_meet_weight"] = 3
        event = verbs.create_event(session, actor=user, **arguments)
    except ValidationError as exc:
        return _render_event_form(
            request,
            session,
            user,
            event=None,
            values=values,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "Your event is a draft: add its sessions, then publish it.")
    return _redirect(f"/events/{event.id}/manage")


@router.get("/events/{event_id}/edit")
def edit_form(
    request: Request, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    return _render_event_form(
        request, session, user, event=event, values=_event_values(event), errors={}
    )


@router.post("/events/{event_id}/edit")
def edit(
    request: Request, form: FormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    values = {f: form.get(f, "") for f in form}
    try:
        values, arguments = _parse_event_form(form)
        if arguments["must_meet_weight"] is None:
            arguments["must_meet_weight"] = event.must_meet_weight
        verbs.update_event(session, actor=user, event=event, **arguments)
    except ValidationError as exc:
        return _render_event_form(
            request,
            session,
            user,
            event=event,
            values=values,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "Changes saved.")
    return _redirect(f"/events/{event.id}")


@router.post("/events/{event_id}/publish")
def publish(
    request: Request, _form: FormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    verbs.publish_event(session, actor=user, event=event)
    flash(request, "The event is published.")
    return _redirect(f"/events/{event.id}")


@router.post("/events/{event_id}/cancel")
def cancel(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    verbs.cancel_event(session, actor=user, event=event, base_url=settings.public_url)
    flash(request, "The event is cancelled; its participants were told.")
    return _redirect(f"/events/{event.id}")


# ---- the event page ----------------------------------------------------------------------


@router.get("/events/{event_id}")
def detail(request: Request, session: SessionDep, user: PageUser, event_id: EventId) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    context = _event_context(session, user, event)
    items = verbs.list_items(session, event=event, viewer_participant=context["mine"])
    return render(request, "events/detail.html", user=user, items=items, **context)


@router.get("/events/{event_id}/items")
def items(
    request: Request,
    session: SessionDep,
    user: PageUser,
    event_id: EventId,
    kind: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    context = _event_context(session, user, event)
    rows = verbs.list_items(session, event=event, viewer_participant=context["mine"])
    if kind in verbs.ITEM_KIND_LABELS:
        rows = [row for row in rows if row.kind == kind]
    return render(request, "events/items.html", user=user, items=rows, kind=kind, **context)


# ---- the organiser's page ----------------------------------------------------------------


def _manage(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    require_organiser(user, event)
    registrations = verbs.list_participants(session, viewer=user, event=event, status=None)
    counts = dict.fromkeys(ParticipantStatus, 0)
    for row in registrations:
        counts[row.status] += 1
    return render(
        request,
        "events/manage.html",
        user=user,
        status_code=status_code,
        sessions=list(event.sessions),
        registrations=registrations,
        counts=counts,
        slot_count=len(verbs.event_slots(session, event)),
        values=values or {"slot_minutes": "30", "break_minutes": "0", "tables": "10"},
        errors=errors or {},
        **_event_context(session, user, event),
    )


@router.get("/events/{event_id}/manage")
def manage(
    request: Request, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    return _manage(request, session, user, event_or_404(session, user, event_id, page=True))


@router.post("/events/{event_id}/sessions")
def add_session(
    request: Request, form: FormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    values = {field: form.get(field, "") for field in SESSION_FIELDS}
    errors: dict[str, str] = {}
    arguments: dict[str, Any] = {"name": values["name"]}
    for field in ("starts_at", "ends_at"):
        try:
            arguments[field] = _parse_local(values[field], event.timezone)
        except ValueError as exc:
            errors[field] = str(exc)
    for field in ("slot_minutes", "break_minutes", "tables"):
        try:
            arguments[field] = _parse_int(values[field])
        except ValueError as exc:
            errors[field] = str(exc)
    if arguments.get("break_minutes", 0) is None:
        arguments["break_minutes"] = 0
    try:
        if errors:
            raise ValidationError(errors)
        block = verbs.add_session(session, actor=user, event=event, **arguments)
    except ValidationError as exc:
        return _manage(
            request,
            session,
            user,
            event,
            values=values,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, f'Session "{block.name}" added with {len(block.slots)} slots.')
    return _redirect(f"/events/{event.id}/manage")


@router.post("/events/{event_id}/sessions/{session_id}/delete")
def delete_session(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    session_id: ChildId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    block = session.get(EventSession, session_id)
    if block is None or block.event_id != event.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such session.")
    try:
        verbs.delete_session(session, actor=user, event_session=block)
    except ValidationError as exc:
        return _manage(
            request,
            session,
            user,
            event,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "The session and its slots are deleted.")
    return _redirect(f"/events/{event.id}/manage")


@router.post("/events/{event_id}/slots/{slot_id}")
def update_slot(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    slot_id: ChildId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    slot = session.get(EventSlot, slot_id)
    if slot is None or slot.event_id != event.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such slot.")
    try:
        try:
            tables = _parse_int(form.get("tables", ""))
        except ValueError as exc:
            raise ValidationError({"tables": str(exc)}) from None
        verbs.update_slot(session, actor=user, slot=slot, tables=tables)  # type: ignore[arg-type]
    except ValidationError as exc:
        errors = {f"slot-{slot.id}": exc.errors.get("tables", "; ".join(exc.errors.values()))}
        return _manage(
            request, session, user, event, errors=errors, status_code=status.HTTP_400_BAD_REQUEST
        )
    flash(request, f"Slot {_when(event, slot.starts_at, '%H:%M')}: {slot.tables} tables.")
    return _redirect(f"/events/{event.id}/manage#slots")


@router.post("/events/{event_id}/participants/{participant_id}/{decision}")
def decide(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
    participant_id: ChildId,
    decision: str,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    if decision not in ("approve", "decline"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no page at this address.")
    participant = participant_or_404(session, event, participant_id, page=True, noun="registration")
    verb = verbs.approve if decision == "approve" else verbs.decline
    verb(session, actor=user, participant=participant, base_url=settings.public_url)
    flash(request, f"{participant.display_name}: {participant.status.value}.")
    return _redirect(f"/events/{event.id}/manage#registrations")


# ---- registration ------------------------------------------------------------------------


def _profile_values(participant: Participant | None, user: User) -> dict[str, str]:
    if participant is None:
        return {"display_name": verbs.default_display_name(user.email)}
    return {
        "display_name": participant.display_name,
        "job_title": participant.job_title or "",
        "headline": participant.headline,
        "organisation_id": str(participant.organisation_id or ""),
        "max_meetings": "" if participant.max_meetings is None else str(participant.max_meetings),
        "auto_accept": "1" if participant.auto_accept else "",
        "on_standby": "1" if participant.on_standby else "",
    }


def _parse_profile(form: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    values = {field: form.get(field, "") for field in (*PROFILE_TEXT, "organisation_id")}
    values["max_meetings"] = form.get("max_meetings", "")
    values["auto_accept"] = "1" if form.get("auto_accept") else ""
    values["on_standby"] = "1" if form.get("on_standby") else ""
    out: dict[str, Any] = {field: values[field] for field in PROFILE_TEXT}
    errors: dict[str, str] = {}
    try:
        out["max_meetings"] = _parse_int(values["max_meetings"])
    except ValueError as exc:
        errors["max_meetings"] = str(exc)
    try:
        out["organisation_id"] = _parse_id(
            values["organisation_id"], "organisation_id", "choose an organisation that you manage"
        )
    except ValidationError as exc:
        errors |= exc.errors
    out["auto_accept"] = bool(values["auto_accept"])
    out["on_standby"] = bool(values["on_standby"])
    if errors:
        raise ValidationError(errors)
    return values, out


def _render_register(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "events/register.html",
        user=user,
        status_code=status_code,
        values=values,
        errors=errors,
        organisations=verbs.managed_organisations(session, user),
        **_event_context(session, user, event),
    )


@router.get("/events/{event_id}/register")
def register_form(
    request: Request, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    mine = participation(session, event, user)
    if mine is not None and mine.status != ParticipantStatus.withdrawn:
        return _redirect(f"/events/{event.id}/me")
    return _render_register(
        request, session, user, event, values=_profile_values(mine, user), errors={}
    )


@router.post("/events/{event_id}/register")
def register(
    request: Request,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    values = {f: form.get(f, "") for f in form}
    try:
        values, arguments = _parse_profile(form)
        participant = verbs.register(
            session, actor=user, event=event, base_url=settings.public_url, **arguments
        )
    except ValidationError as exc:
        return _render_register(
            request,
            session,
            user,
            event,
            values=values,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    if participant.status == ParticipantStatus.approved:
        flash(request, "You are registered. Tell us when you are available and what you offer.")
    else:
        flash(request, "You are registered; the organiser will approve your registration.")
    return _redirect(f"/events/{event.id}/me")


def _my_page(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    *,
    values: dict[str, str] | None = None,
    item_values: dict[str, str] | None = None,
    item_errors: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    mine = _mine(session, event, user)
    slots = verbs.event_slots(session, event)
    chosen = set(mine.available_slot_ids) if mine.available_slot_ids is not None else None
    return render(
        request,
        "events/me.html",
        user=user,
        status_code=status_code,
        values=values or _profile_values(mine, user),
        item_values=item_values or {"kind": "offer"},
        errors=errors or {},
        item_errors=item_errors or {},
        organisations=verbs.managed_organisations(session, user),
        sessions=list(event.sessions),
        slots=slots,
        available=lambda slot: chosen is None or slot.id in chosen,
        my_items=verbs.list_items(
            session, event=event, participant_ids=[mine.id], viewer_participant=mine
        ),
        active=mine.status in (ParticipantStatus.pending, ParticipantStatus.approved)
        and event.status != EventStatus.cancelled,
        **_event_context(session, user, event),
    )


@router.get("/events/{event_id}/me")
def me(request: Request, session: SessionDep, user: SignedInUser, event_id: EventId) -> Response:
    return _my_page(request, session, user, event_or_404(session, user, event_id, page=True))


@router.post("/events/{event_id}/me")
def update_me(
    request: Request, form: FormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    mine = _mine(session, event, user)
    values = {f: form.get(f, "") for f in form}
    try:
        values, arguments = _parse_profile(form)
        verbs.update_registration(session, actor=user, participant=mine, **arguments)
    except ValidationError as exc:
        return _my_page(
            request,
            session,
            user,
            event,
            values=values,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "Your registration is saved.")
    return _redirect(f"/events/{event.id}/me")


@router.post("/events/{event_id}/me/availability")
def availability(
    request: Request, form: ListFormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    mine = _mine(session, event, user)
    chosen: list[int] = []
    errors: dict[str, str] = {}
    for name in form:
        if name.startswith("slot-"):
            number = name.removeprefix("slot-")
            if number.isdigit() and len(number) <= 10:
                chosen.append(int(number))
            else:
                errors["available_slot_ids"] = "choose slots from the list"
    try:
        if errors:
            raise ValidationError(errors)
        verbs.set_availability(session, actor=user, participant=mine, slot_ids=chosen)
    except ValidationError as exc:
        return _my_page(
            request,
            session,
            user,
            event,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "Your availability is saved.")
    return _redirect(f"/events/{event.id}/me#availability")


@router.post("/events/{event_id}/me/withdraw")
def withdraw(
    request: Request, _form: FormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    verbs.withdraw(session, actor=user, participant=_mine(session, event, user))
    flash(request, "You have withdrawn from this event.")
    return _redirect(f"/events/{event.id}")


# ---- items -------------------------------------------------------------------------------


@router.post("/events/{event_id}/items")
def add_item(
    request: Request, form: FormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    mine = _mine(session, event, user)
    values = {field: form.get(field, "") for field in ITEM_FORM}
    try:
        verbs.add_item(session, actor=user, participant=mine, **values)
    except ValidationError as exc:
        return _my_page(
            request,
            session,
            user,
            event,
            item_values=values,
            item_errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "Your item is published.")
    return _redirect(f"/events/{event.id}/me#items")


def _render_item_form(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    item: EventItem,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "events/item_form.html",
        user=user,
        status_code=status_code,
        item=item,
        values=values,
        errors=errors,
        **_event_context(session, user, event),
    )


def _own_item(session: Session, user: User, event: Event, item_id: int) -> EventItem:
    item = item_or_404(session, event, item_id, page=True)
    if item.participant.user_id != user.id:
        raise PermissionDenied("Only the participant may change this item.")
    return item


@router.get("/events/{event_id}/items/{item_id}/edit")
def edit_item_form(
    request: Request, session: SessionDep, user: SignedInUser, event_id: EventId, item_id: ChildId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    item = _own_item(session, user, event, item_id)
    values = {
        "kind": item.kind.value,
        "title": item.title,
        "body": item.body,
        "keywords": "\n".join(item.keywords),
    }
    return _render_item_form(request, session, user, event, item, values=values, errors={})


@router.post("/events/{event_id}/items/{item_id}/edit")
def edit_item(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    item_id: ChildId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    item = _own_item(session, user, event, item_id)
    values = {field: form.get(field, "") for field in ITEM_FORM}
    try:
        verbs.update_item(session, actor=user, item=item, **values)
    except ValidationError as exc:
        return _render_item_form(
            request,
            session,
            user,
            event,
            item,
            values=values,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "Your item is saved.")
    return _redirect(f"/events/{event.id}/me#items")


@router.post("/events/{event_id}/items/{item_id}/delete")
def delete_item(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    item_id: ChildId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    item = item_or_404(session, event, item_id, page=True)
    own = item.participant.user_id == user.id
    verbs.delete_item(session, actor=user, item=item)
    flash(request, "The item is deleted.")
    return _redirect(f"/events/{event.id}/me#items" if own else f"/events/{event.id}/items")


# ---- the directory -----------------------------------------------------------------------


@router.get("/events/{event_id}/participants")
def participants(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    text: Annotated[str, Query(max_length=200)] = "",
    country: Annotated[str, Query(max_length=100)] = "",
    type: Annotated[str, Query(max_length=100)] = "",  # noqa: A002 - the query name
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    context = _event_context(session, user, event)
    if not context["sees_directory"]:
        raise PermissionDenied("The participant list is for the event's approved participants.")
    filters = {"text": text.strip(), "country": country.strip(), "type": type.strip()}
    errors: dict[str, str] = {}
    if filters["country"] and not _COUNTRY.match(filters["country"]):
        errors["country"] = "enter a two-letter country code such as DE or FR"
    if filters["type"] and filters["type"] not in OrganisationType.__members__:
        errors["type"] = "choose a type from the list"
    if "\x00" in filters["text"]:
        errors["text"] = "enter text"
    rows: list[Participant] = []
    if not errors:
        rows = verbs.list_participants(
            session,
            viewer=user,
            event=event,
            text=filters["text"] or None,
            country=filters["country"] or None,
            organisation_type=filters["type"] or None,
        )
    items_by: dict[int, list[EventItem]] = {}
    for item in verbs.list_items(session, event=event, participant_ids=[p.id for p in rows]):
        items_by.setdefault(item.participant_id, []).append(item)
    return render(
        request,
        "events/participants.html",
        user=user,
        status_code=status.HTTP_400_BAD_REQUEST if errors else 200,
        participants=rows,
        items_by=items_by,
        filters=filters,
        errors=errors,
        **context,
    )
