"""Pages of event schedules (issue 6): the organiser's grid (slots × tables) with "Run the
scheduler", lock, unlock and move per meeting and "Publish"; each participant's agenda, its
printable page and its ICS file.

Every form is POST with the CSRF token. A refused move or publication re-renders the grid with
the message next to the form (400) and the values kept. Times are shown in the event's zone.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration import schedules as verbs
from clusteratlas.collaboration.event_access import (
    is_organiser,
    local_time,
    require_organiser,
)
from clusteratlas.collaboration.ics import agenda_ics
from clusteratlas.collaboration.models import Event, EventSlot, Meeting, User
from clusteratlas.web.api.deps import MAX_ID, SessionDep, SettingsDep
from clusteratlas.web.event_deps import agenda_owner, event_or_404, meeting_or_404
from clusteratlas.web.pages.deps import FormDep, SignedInUser, render
from clusteratlas.web.pages.sessions import flash

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

EventId = Annotated[int, Path(ge=1, le=MAX_ID)]
MeetingId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _grid(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    *,
    errors: dict[str, str] | None = None,
    move: dict[str, Any] | None = None,
    note: str = "",
    status_code: int = 200,
) -> Response:
    grid = verbs.working_schedule(session, event, actor=user)
    return render(
        request,
        "schedules/grid.html",
        user=user,
        status_code=status_code,
        event=event,
        grid=grid,
        version=verbs.latest_version(session, event),
        errors=errors or {},
        move=move or {},
        note=note,
        table_numbers=list(range(1, grid.tables + 1)),
        local=lambda moment: local_time(event, moment),
    )


def _back(event: Event, meeting: Meeting | None = None) -> RedirectResponse:
    anchor = f"#meeting-{meeting.id}" if meeting is not None else ""
    return RedirectResponse(f"/events/{event.id}/schedule{anchor}", status.HTTP_303_SEE_OTHER)


def _run_summary(run: verbs.SchedulerRun) -> str:
    q = run.quality
    proof = "proven optimal" if run.status == "optimal" else f"gap to the bound {run.gap:.1%}"
    text = (
        f"The scheduler placed {q.scheduled} of {q.meetings} meetings "
        f"(weight {run.objective} of the bound {run.bound}, {proof}) in {run.seconds:.1f} s; "
        f"{q.without_meetings} participant(s) with requests but no meeting; "
        f"{q.idle_gaps} idle gap(s)."
    )
    if run.rescheduled:
        text += f" Published meetings moved: {run.moved or 0}."
    return text


@router.get("/events/{event_id}/schedule")
def grid(request: Request, session: SessionDep, user: SignedInUser, event_id: EventId) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    return _grid(request, session, user, event)


@router.post("/events/{event_id}/schedule/run")
def run(
    request: Request, _form: FormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    try:
        result = verbs.run_scheduler(session, event, actor=user)
    except ValidationError as exc:
        return _grid(
            request,
            session,
            user,
            event,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, _run_summary(result))
    return _back(event)


@router.post("/events/{event_id}/schedule/publish")
def publish(
    request: Request,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    note = form.get("note", "")
    try:
        done = verbs.publish_schedule(
            session, event, actor=user, note=note, base_url=settings.public_url
        )
    except ValidationError as exc:
        return _grid(
            request,
            session,
            user,
            event,
            errors=exc.errors,
            note=note,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    n = len(done.notified)
    flash(
        request,
        f"Version {done.version.version} is published; {n} participant{'s' if n != 1 else ''} "
        "told of their changes.",
    )
    return _back(event)


@router.post("/events/{event_id}/meetings/{meeting_id}/lock")
def lock(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    meeting_id: MeetingId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    meeting = meeting_or_404(session, event, meeting_id, page=True)
    try:
        verbs.lock_meeting(session, event, meeting, actor=user)
    except ValidationError as exc:
        return _grid(
            request,
            session,
            user,
            event,
            move={"meeting": meeting.id, "errors": exc.errors},
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    return _back(event, meeting)


@router.post("/events/{event_id}/meetings/{meeting_id}/unlock")
def unlock(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    meeting_id: MeetingId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    meeting = meeting_or_404(session, event, meeting_id, page=True)
    verbs.unlock_meeting(session, event, meeting, actor=user)
    return _back(event, meeting)


def _number(text: str, field: str, errors: dict[str, str]) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        errors[field] = "enter a whole number" if field == "table" else "choose a slot"
        return None
    return int(text)


@router.post("/events/{event_id}/meetings/{meeting_id}/move")
def move(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    meeting_id: MeetingId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    meeting = meeting_or_404(session, event, meeting_id, page=True)
    values = {"slot": form.get("slot", ""), "table": form.get("table", "")}
    errors: dict[str, str] = {}
    slot_id = _number(values["slot"], "slot", errors)
    table = _number(values["table"], "table", errors)
    slot: EventSlot | None = None
    if slot_id is not None:
        slot = session.get(EventSlot, slot_id)
        if slot is None or slot.event_id != event.id:
            errors["slot"] = "choose a slot of this event"
    elif "slot" not in errors and values["slot"].strip() != "none":
        errors["slot"] = "choose a slot"
    try:
        if errors:
            raise ValidationError(errors)
        verbs.move_meeting(session, event, meeting, slot, table, actor=user)
    except ValidationError as exc:
        return _grid(
            request,
            session,
            user,
            event,
            move={"meeting": meeting.id, "errors": errors | exc.errors, "values": values},
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "The meeting is moved and locked there.")
    return _back(event, meeting)


# ---- agendas -----------------------------------------------------------------------------


ParticipantQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _agenda_page(
    request: Request,
    session: Session,
    user: User,
    event_id: int,
    participant: int | None,
    template: str,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    who = agenda_owner(session, event, user, participant, page=True)
    found = verbs.agenda(session, who)
    suffix = f"?participant={who.id}" if participant is not None else ""
    return render(
        request,
        template,
        user=user,
        event=event,
        agenda=found,
        own=who.user_id == user.id,
        suffix=suffix,
        organiser=is_organiser(user, event),
        local=lambda moment: local_time(event, moment),
        with_day=len({local_time(event, i.start).date() for i in found.items}) > 1,
    )


@router.get("/events/{event_id}/agenda")
def agenda_page(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    participant: ParticipantQuery = None,
) -> Response:
    return _agenda_page(request, session, user, event_id, participant, "schedules/agenda.html")


@router.get("/events/{event_id}/agenda/print")
def agenda_print(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    participant: ParticipantQuery = None,
) -> Response:
    return _agenda_page(request, session, user, event_id, participant, "schedules/print.html")


@router.get("/events/{event_id}/agenda.ics")
def agenda_file(
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
    participant: ParticipantQuery = None,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    found = verbs.agenda(session, agenda_owner(session, event, user, participant, page=True))
    host = urlsplit(settings.public_url).hostname or "clusteratlas"
    return Response(
        agenda_ics(found, host=host),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="agenda-{event.id}.ics"'},
    )
