"""Pages of the day and after (issue 6): the organiser's check-in desk (``/events/{id}/checkin``,
search and check-in buttons through htmx, freed slots with their standby candidates), the
participant's day (``/events/{id}/today``: self check-in, held / partner absent, outcomes,
"find a standby partner"), the dashboard (``/events/{id}/dashboard``, figures as a table and
ECharts charts read by ``static/js/dashboard.js`` from a JSON block) and its CSV of meetings.

Every action is a POST form with the CSRF token. A refused action (a timing rule, a bad value)
re-renders the page it came from with the message (400); the wrong person gets 403, an unknown
event, meeting or participant 404. Times are shown in the event's time zone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration import event_day as verbs
from clusteratlas.collaboration.event_access import (
    is_organiser,
    local_time,
    require_organiser,
    require_participant,
)
from clusteratlas.collaboration.event_stats import dashboard as event_dashboard
from clusteratlas.collaboration.event_stats import organisation_event_history
from clusteratlas.collaboration.models import (
    Event,
    EventSlot,
    Participant,
    ParticipantStatus,
    User,
    utcnow,
)
from clusteratlas.web.api.deps import MAX_ID, SessionDep, SettingsDep
from clusteratlas.web.api.export import neutralise
from clusteratlas.web.event_deps import (
    event_or_404,
    is_htmx_fragment,
    meeting_or_404,
    participant_or_404,
)
from clusteratlas.web.pages.deps import FormDep, SignedInUser, render
from clusteratlas.web.pages.sessions import flash

__all__ = ["CSV_COLUMNS", "organisation_events_context", "router"]

router = APIRouter(include_in_schema=False)

EventId = Annotated[int, Path(ge=1, le=MAX_ID)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
#: standby candidates shown per freed slot on the pages
SHOWN_CANDIDATES = 5

#: the outcomes by name on the dashboard (its table and its pie chart)
DASHBOARD_OUTCOMES: dict[str, str] = {**verbs.OUTCOME_LABELS, "unanswered": "No answer yet"}

CSV_COLUMNS = (
    "meeting_id",
    "origin",
    "date",
    "start",
    "end",
    "table",
    "a_name",
    "a_organisation",
    "b_name",
    "b_organisation",
    "state",
    "absent",
    "outcome_a",
    "outcome_b",
)


def _form_id(form: dict[str, str], field: str) -> int:
    text = form.get(field, "").strip()
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise ValidationError({field: "choose from the list"})
    return int(text)


def _hhmm(event: Event) -> Callable[[datetime | None], str]:
    def show(moment: datetime | None) -> str:
        return local_time(event, moment).strftime("%H:%M") if moment is not None else ""

    return show


def _common(event: Event) -> dict[str, Any]:
    return {
        "event": event,
        "hhmm": _hhmm(event),
        "outcome_labels": verbs.OUTCOME_LABELS,
        "zone": event.timezone,
    }


# ---- the check-in desk (organiser) ---------------------------------------------------------


def _desk_people(session: Session, event: Event, q: str) -> list[Participant]:
    people = session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id, Participant.status == ParticipantStatus.approved)
        .order_by(Participant.display_name, Participant.id)
    ).all()
    needle = q.casefold().strip()
    if not needle:
        return list(people)
    return [
        p
        for p in people
        if needle in p.display_name.casefold()
        or (p.organisation is not None and needle in p.organisation.name.casefold())
    ]


def _render_desk(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    *,
    q: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    people = _desk_people(session, event, q)
    approved = session.scalars(
        select(Participant.checked_in_at).where(
            Participant.event_id == event.id, Participant.status == ParticipantStatus.approved
        )
    ).all()
    days = verbs.day_meetings(session, event)
    freed = [
        (f, verbs.standby_candidates(session, event, f.slot, f.present, now=now)[:SHOWN_CANDIDATES])
        for f in verbs.freed_slots(session, event, now=now, days=days)
    ]
    context = {
        **_common(event),
        "people": people,
        "q": q,
        "approved": len(approved),
        "checked_in": sum(1 for c in approved if c is not None),
        "freed": freed,
        "running": [d for d in days if d.started(now) and not d.ended(now)],
        "errors": errors or {},
    }
    template = (
        "event_day/_checkin_list.html" if is_htmx_fragment(request) else "event_day/checkin.html"
    )
    return render(
        request,
        template,
        user=user,
        status_code=status_code,
        headers={"Vary": "HX-Request"},
        **context,
    )


@router.get("/events/{event_id}/checkin")
def desk(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    return _render_desk(request, session, user, event, q=q)


def _desk_action(
    request: Request,
    session: Session,
    user: User,
    event_id: int,
    participant_id: int,
    action: Callable[..., Participant],
    message: str,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    who = participant_or_404(session, event, participant_id)
    try:
        action(session, event, who, actor=user)
    except ValidationError as exc:
        if is_htmx_fragment(request):  # htmx swaps only 2xx answers: the row shows the message
            return render(
                request,
                "event_day/_checkin_row.html",
                user=user,
                person=who,
                row_error="; ".join(exc.errors.values()),
                **_common(event),
            )
        return _render_desk(
            request,
            session,
            user,
            event,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    if is_htmx_fragment(request):
        return render(
            request, "event_day/_checkin_row.html", user=user, person=who, **_common(event)
        )
    flash(request, message.format(name=who.display_name))
    return RedirectResponse(f"/events/{event.id}/checkin", status.HTTP_303_SEE_OTHER)


@router.post("/events/{event_id}/checkin/{participant_id}")
def desk_check_in(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    participant_id: ItemId,
) -> Response:
    return _desk_action(
        request, session, user, event_id, participant_id, verbs.check_in, "{name} is checked in."
    )


@router.post("/events/{event_id}/checkin/{participant_id}/undo")
def desk_undo(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    participant_id: ItemId,
) -> Response:
    return _desk_action(
        request,
        session,
        user,
        event_id,
        participant_id,
        verbs.undo_check_in,
        "{name}'s check-in was taken back.",
    )


# ---- the participant's day -----------------------------------------------------------------


def _render_today(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    me: Participant,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    days = verbs.day_meetings(session, event)
    mine = [d for d in days if me.id in (d.meeting.a_id, d.meeting.b_id)]
    freed = [
        (f, verbs.standby_candidates(session, event, f.slot, me, now=now)[:SHOWN_CANDIDATES])
        for f in verbs.freed_slots(session, event, now=now, days=days)
        if f.present.id == me.id
    ]
    return render(
        request,
        "event_day/today.html",
        user=user,
        status_code=status_code,
        **_common(event),
        me=me,
        meetings=mine,
        freed=freed,
        now=now,
        errors=errors or {},
    )


@router.get("/events/{event_id}/today")
def today(request: Request, session: SessionDep, user: SignedInUser, event_id: EventId) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    me = require_participant(session, event, user)
    return _render_today(request, session, user, event, me)


@router.post("/events/{event_id}/today/checkin")
def self_check_in(
    request: Request, _form: FormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    me = require_participant(session, event, user)
    try:
        verbs.check_in(session, event, me, actor=user)
    except ValidationError as exc:
        return _render_today(request, session, user, event, me, errors=exc.errors, status_code=400)
    flash(request, "You are checked in. Welcome!")
    return RedirectResponse(f"/events/{event.id}/today", status.HTTP_303_SEE_OTHER)


@router.post("/events/{event_id}/today/checkin/undo")
def self_undo_check_in(
    request: Request, _form: FormDep, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    me = require_participant(session, event, user)
    verbs.undo_check_in(session, event, me, actor=user)
    flash(request, "Your check-in was taken back.")
    return RedirectResponse(f"/events/{event.id}/today", status.HTTP_303_SEE_OTHER)


def _back(
    request: Request,
    session: Session,
    user: User,
    event: Event,
    form: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    message: str = "",
) -> Response:
    """Back to the desk (``next=desk``, organisers) or to the participant's day, with the
    message; with ``errors`` that page is rendered again (400)."""
    to_desk = form.get("next") == "desk" and is_organiser(user, event)
    if errors:
        if to_desk:
            return _render_desk(request, session, user, event, errors=errors, status_code=400)
        me = require_participant(session, event, user)
        return _render_today(request, session, user, event, me, errors=errors, status_code=400)
    if message:
        flash(request, message)
    target = "checkin" if to_desk else "today"
    return RedirectResponse(f"/events/{event.id}/{target}", status.HTTP_303_SEE_OTHER)


@router.post("/events/{event_id}/day/meetings/{meeting_id}/{action}")
def meeting_action(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    event_id: EventId,
    meeting_id: ItemId,
    action: Annotated[str, Path(pattern="^(held|absent|undo|outcome)$")],
) -> Response:
    """held / absent (``participant_id`` of the absent side) / undo / outcome (``outcome``,
    and ``side`` for organisers)."""
    event = event_or_404(session, user, event_id, page=True)
    meeting = meeting_or_404(session, event, meeting_id, page=True)
    try:
        if action == "held":
            verbs.mark_held(session, meeting, actor=user)
            message = "Marked as held."
        elif action == "absent":
            absent = session.get(Participant, _form_id(form, "participant_id"))
            if absent is None or absent.id not in (meeting.a_id, meeting.b_id):
                raise ValidationError({"absent": "choose one of the two sides of the meeting"})
            verbs.mark_absent(session, meeting, actor=user, absent=absent)
            message = f"{absent.display_name} is marked absent."
        elif action == "undo":
            verbs.undo_attendance(session, meeting, actor=user)
            message = "The mark was taken back."
        else:
            side = form.get("side") or None
            verbs.record_outcome(
                session, meeting, actor=user, outcome=form.get("outcome", ""), side=side
            )
            message = "Outcome saved. Thank you!"
    except ValidationError as exc:
        return _back(request, session, user, event, form, errors=exc.errors)
    return _back(request, session, user, event, form, message=message)


@router.post("/events/{event_id}/day/standby")
def standby(
    request: Request,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    event_id: EventId,
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    try:
        slot = session.get(EventSlot, _form_id(form, "slot_id"))
        if slot is None or slot.event_id != event.id:
            raise ValidationError({"slot_id": "no such slot at this event"})
        a = session.get(Participant, _form_id(form, "participant_id"))
        b = session.get(Participant, _form_id(form, "partner_id"))
        if a is None or a.event_id != event.id:
            raise ValidationError({"participant_id": "no such participant at this event"})
        if b is None or b.event_id != event.id:
            raise ValidationError({"partner_id": "no such participant at this event"})
        verbs.pair_standby(session, event, slot, a, b, actor=user, base_url=settings.public_url)
    except ValidationError as exc:
        return _back(request, session, user, event, form, errors=exc.errors)
    return _back(
        request,
        session,
        user,
        event,
        form,
        message=f"{a.display_name} now meets {b.display_name}; both were notified.",
    )


# ---- dashboard -----------------------------------------------------------------------------


def _charts(figures: dict[str, Any]) -> dict[str, Any]:
    """The data dashboard.js draws: name → {kind, labels, values}."""

    def chart(kind: str, data: dict[str, int]) -> dict[str, Any]:
        return {"kind": kind, "labels": list(data), "values": list(data.values())}

    return {
        "registrations": chart("pie", figures["registrations"]),
        "countries": chart("bar", figures["countries"]),
        "requests": chart("bar", figures["requests"]),
        "meetings": chart(
            "bar",
            {
                "accepted": figures["accepted_meetings"],
                "scheduled": figures["scheduled_meetings"],
                "standby": figures["standby_meetings"],
                "held": figures["held_meetings"],
                "absent": figures["absent_meetings"],
            },
        ),
        "outcomes": chart(
            "pie", {DASHBOARD_OUTCOMES.get(k, k): v for k, v in figures["outcomes"].items()}
        ),
    }


@router.get("/events/{event_id}/dashboard")
def dashboard(
    request: Request, session: SessionDep, user: SignedInUser, event_id: EventId
) -> Response:
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    figures = event_dashboard(session, event)
    data = figures.as_dict()
    return render(
        request,
        "event_day/dashboard.html",
        user=user,
        **_common(event),
        figures=figures,
        outcome_names=DASHBOARD_OUTCOMES,
        charts=_charts(data),
        generated=local_time(event, figures.generated_at),
    )


def _csv_rows(session: Session, event: Event) -> list[list[str]]:
    rows: list[list[str]] = []
    for day in verbs.day_meetings(session, event):
        m = day.meeting
        start = local_time(event, day.slot.starts_at)
        absent = ""
        if m.absent_participant_id is not None:
            absent = (m.a if m.absent_participant_id == m.a_id else m.b).display_name
        values: list[Any] = [
            m.id,
            m.origin.value,
            start.date().isoformat(),
            start.strftime("%H:%M"),
            local_time(event, day.slot.ends_at).strftime("%H:%M"),
            day.table if day.table is not None else "",
            m.a.display_name,
            m.a.organisation.name if m.a.organisation is not None else "",
            m.b.display_name,
            m.b.organisation.name if m.b.organisation is not None else "",
            verbs.meeting_state(m),
            absent,
            m.outcome_a.value if m.outcome_a is not None else "",
            m.outcome_b.value if m.outcome_b is not None else "",
        ]
        rows.append([v if isinstance(v, int) else neutralise(str(v)) for v in values])
    return rows


@router.get("/events/{event_id}/dashboard/meetings.csv")
def meetings_csv(session: SessionDep, user: SignedInUser, event_id: EventId) -> Response:
    """The day's meetings with their state and outcomes, times in the event's zone."""
    event = event_or_404(session, user, event_id, page=True)
    require_organiser(user, event)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(session, event))
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}-meetings.csv"'},
    )


# ---- the organisation's profile ------------------------------------------------------------


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def organisation_events_context(session: Session, organisation_id: int) -> dict[str, Any]:
    """What ``event_day/_organisation_events.html`` needs on a profile page."""
    records = organisation_event_history(session, organisation_id)
    dates = {
        r.event_id: r.starts_at.astimezone(_zone(r.timezone)).date().isoformat()
        for r in records
        if r.starts_at is not None
    }
    return {"event_history": records, "event_history_dates": dates}
