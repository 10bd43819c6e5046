"""Matchmaking events (issue 6): the event and its lifecycle, sessions split into meeting
slots, registration with approval, availability, marketplace items and the participant
directory.

Verbs take the acting user explicitly (``actor``), check permission with
:mod:`clusteratlas.collaboration.event_access` (raising
:class:`~clusteratlas.collaboration.PermissionDenied`), then the lifecycle and the fields
(raising :class:`~clusteratlas.collaboration.ValidationError` with a message per field), write
an audit row and flush. The caller commits.

Every time is an aware datetime, stored in UTC. Pages enter and show times in the event's
time zone: :func:`local_to_utc` converts a wall-clock time there (refusing the times that do
not exist when the clocks go forward). Slots are generated in absolute time, so a session
crossing a change of the clocks still gets slots of equal real length.

::

    create_event ──► draft ──publish_event──► published ──cancel_event──► cancelled
                       └─────────────cancel_event─────────────────────────────┘

    register ──► pending ──approve──► approved      (approved at once without approval)
                    └─────decline──► declined        withdraw: pending/approved ──► withdrawn
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.event_access import is_organiser, participation, require_organiser
from clusteratlas.collaboration.mail import notify
from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    EventSession,
    EventSlot,
    EventStatus,
    ItemKind,
    Meeting,
    Organisation,
    OrganisationManager,
    OrganisationType,
    Participant,
    ParticipantStatus,
    User,
    utcnow,
)
from clusteratlas.collaboration.permissions import is_member
from clusteratlas.collaboration.posts import parse_keywords

__all__ = [
    "EVENT_FIELDS",
    "ITEM_FIELDS",
    "ITEM_KIND_LABELS",
    "REGISTRATION_FIELDS",
    "STATUS_LABELS",
    "add_item",
    "add_session",
    "approve",
    "cancel_event",
    "create_event",
    "decline",
    "default_display_name",
    "delete_item",
    "delete_session",
    "event_slots",
    "is_valid_timezone",
    "list_events",
    "list_items",
    "list_participants",
    "local_to_utc",
    "managed_organisations",
    "publish_event",
    "register",
    "registration_open",
    "set_availability",
    "slot_times",
    "timezone_names",
    "update_event",
    "update_item",
    "update_registration",
    "update_slot",
    "withdraw",
]

MAX_TITLE = 300
MAX_DESCRIPTION = 20_000
MAX_VENUE = 300
MAX_LINK = 500
MAX_NAME = 200
MAX_HEADLINE = 2_000
MAX_ITEM_TITLE = 200
MAX_ITEM_BODY = 5_000
MAX_KEYWORDS = 30
MAX_ITEMS = 20
MAX_CAP = 1_000
MAX_WEIGHT = 100
MAX_TABLES = 10_000
#: the years an event's dates may fall in
FIRST_YEAR, LAST_YEAR = 2000, 2200
#: ids are 32-bit integers on PostgreSQL
MAX_ID = 2**31 - 1
#: slots are at least 5 minutes long and a session lasts at most a day: at most 288 slots
MIN_SLOT_MINUTES = 5
MAX_MINUTES = 24 * 60
MAX_SESSION = timedelta(hours=24)
MEETING_PLACEHOLDER = "{meeting}"

#: the event fields :func:`create_event` and :func:`update_event` take (besides the title)
EVENT_FIELDS = (
    "title",
    "description",
    "timezone",
    "venue",
    "virtual_link_template",
    "organisation_id",
    "registration_opens_at",
    "registration_closes_at",
    "requests_deadline",
    "requires_approval",
    "max_meetings_per_participant",
    "max_outstanding_requests",
    "must_meet_weight",
)
REGISTRATION_FIELDS = (
    "display_name",
    "job_title",
    "organisation_id",
    "headline",
    "max_meetings",
    "auto_accept",
    "on_standby",
)
ITEM_FIELDS = ("kind", "title", "body", "keywords")
_TIMES = ("registration_opens_at", "registration_closes_at", "requests_deadline")

STATUS_LABELS: dict[str, str] = {
    ParticipantStatus.pending: "waiting for the organiser's approval",
    ParticipantStatus.approved: "approved",
    ParticipantStatus.declined: "declined by the organiser",
    ParticipantStatus.withdrawn: "withdrawn",
}
ITEM_KIND_LABELS: dict[str, str] = {
    ItemKind.offer: "Offer",
    ItemKind.request: "Request",
    ItemKind.expertise: "Expertise",
}


# ---- time --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_names() -> list[str]:
    """Every IANA time-zone name known to this machine, sorted."""
    return sorted(_zones())


def is_valid_timezone(name: object) -> bool:
    """An IANA time-zone name known to this machine, e.g. ``Europe/Brussels``."""
    return isinstance(name, str) and name in _zones()


def local_to_utc(value: datetime, timezone: str) -> datetime:
    """The wall-clock time ``value`` (naive) in ``timezone``, in UTC. A time skipped when the
    clocks go forward raises ValueError; a time that occurs twice (the clocks go back) is the
    first one."""
    zone = ZoneInfo(timezone)
    aware = value.replace(tzinfo=zone, fold=0)
    try:
        moment = aware.astimezone(UTC)
        back = moment.astimezone(zone).replace(tzinfo=None)
    except OverflowError:  # the first or last hours that datetime can hold
        raise ValueError(f"choose a date between {FIRST_YEAR} and {LAST_YEAR}") from None
    if back != value.replace(tzinfo=None, fold=0):
        raise ValueError(f"{value:%Y-%m-%d %H:%M} does not exist in {timezone} (clocks change)")
    return moment


def slot_times(
    starts_at: datetime, ends_at: datetime, slot_minutes: int, break_minutes: int = 0
) -> list[tuple[datetime, datetime]]:
    """Back-to-back slots of ``slot_minutes`` separated by ``break_minutes``, from
    ``starts_at`` while a whole slot fits before ``ends_at`` (in absolute time, UTC)."""
    slot, pause = timedelta(minutes=slot_minutes), timedelta(minutes=break_minutes)
    begin = starts_at.astimezone(UTC)
    end = ends_at.astimezone(UTC)
    out: list[tuple[datetime, datetime]] = []
    while begin + slot <= end:
        out.append((begin, begin + slot))
        begin += slot + pause
    return out


def registration_open(event: Event, now: datetime | None = None) -> bool:
    """Published, between the registration dates (when set) and not over."""
    now = now or utcnow()
    if event.status != EventStatus.published:
        return False
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return False
    if event.registration_closes_at is not None and now >= event.registration_closes_at:
        return False
    return event.ends_at is None or now < event.ends_at


# ---- field checks ------------------------------------------------------------------------


def _text(value: Any, *, limit: int, required: bool = False) -> tuple[str | None, str | None]:
    """(clean text, error)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return None, "enter text"
    text = value.strip()
    if required and not text:
        return None, "this field is required"
    if len(text) > limit:
        return None, f"use at most {limit:,} characters"
    return text, None


def _int(value: Any, *, low: int, high: int, optional: bool) -> tuple[int | None, str | None]:
    if value is None or value == "":
        return (None, None) if optional else (None, "this field is required")
    if isinstance(value, bool) or not isinstance(value, int):
        return None, "enter a whole number"
    if not low <= value <= high:
        return None, f"enter a whole number from {low:,} to {high:,}"
    return value, None


def _aware(value: Any, *, optional: bool) -> tuple[datetime | None, str | None]:
    if value is None:
        return (None, None) if optional else (None, "give a date and time")
    if not isinstance(value, datetime):
        return None, "give a date and time"
    if value.tzinfo is None or value.utcoffset() is None:
        return None, "give a date and time with its offset from UTC, e.g. +02:00"
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        return None, f"choose a date between {FIRST_YEAR} and {LAST_YEAR}"
    return value.astimezone(UTC), None


def managed_organisations(session: Session, user: User | None) -> list[Organisation]:
    """The organisations ``user`` manages, by name."""
    if user is None:
        return []
    return list(
        session.scalars(
            select(Organisation)
            .join(OrganisationManager, OrganisationManager.organisation_id == Organisation.id)
            .where(OrganisationManager.user_id == user.id)
            .order_by(Organisation.name, Organisation.id)
        )
    )


def _exists(session: Session, organisation_id: Any) -> bool:
    return (
        isinstance(organisation_id, int)
        and not isinstance(organisation_id, bool)
        and 0 < organisation_id <= MAX_ID
        and session.get(Organisation, organisation_id) is not None
    )


def _manages(session: Session, user: User, organisation_id: int) -> bool:
    return (
        session.get(OrganisationManager, (organisation_id, user.id)) is not None
        if isinstance(organisation_id, int)
        and not isinstance(organisation_id, bool)
        and 0 < organisation_id <= MAX_ID
        else False
    )


def _clean_event(
    session: Session, actor: User, values: dict[str, Any], *, current: Event | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, value in values.items():
        error: str | None = None
        if field == "title":
            out[field], error = _text(value, limit=MAX_TITLE, required=True)
        elif field == "description":
            out[field], error = _text(value, limit=MAX_DESCRIPTION)
        elif field == "venue":
            text, error = _text(value, limit=MAX_VENUE)
            out[field] = text or None
        elif field == "timezone":
            if not is_valid_timezone(value):
                error = "choose a time zone by its IANA name, e.g. Europe/Brussels"
            out[field] = value
        elif field == "virtual_link_template":
            text, error = _text(value, limit=MAX_LINK)
            if error is None and text:
                if not text.startswith(("https://", "http://")):
                    error = "the link must start with https:// or http://"
                elif MEETING_PLACEHOLDER not in text:
                    error = "put {meeting} where each meeting's number goes"
                elif any(c.isspace() for c in text):
                    error = "a link cannot contain spaces"
            out[field] = text or None
        elif field == "organisation_id":
            admin_ok = actor.is_admin and _exists(session, value)
            if value is not None and not admin_ok and not _manages(session, actor, value):
                error = "choose an organisation that you manage"
            out[field] = value
        elif field in _TIMES:
            out[field], error = _aware(value, optional=True)
        elif field == "requires_approval":
            if not isinstance(value, bool):
                error = "choose yes or no"
            out[field] = value
        elif field in ("max_meetings_per_participant", "max_outstanding_requests"):
            out[field], error = _int(value, low=1, high=MAX_CAP, optional=True)
        elif field == "must_meet_weight":
            out[field], error = _int(value, low=1, high=MAX_WEIGHT, optional=False)
        if error:
            errors[field] = error
    if "registration_closes_at" not in errors and "registration_opens_at" not in errors:
        opens = out.get("registration_opens_at", current and current.registration_opens_at)
        closes = out.get("registration_closes_at", current and current.registration_closes_at)
        if opens is not None and closes is not None and closes <= opens:
            errors["registration_closes_at"] = "registration must close after it opens"
    if errors:
        raise ValidationError(errors)
    return out


def _check_unknown(changes: dict[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "this field cannot be changed"))


def _not_cancelled(event: Event) -> None:
    if event.status == EventStatus.cancelled:
        raise ValidationError({"status": "this event is cancelled"})


# ---- the event ---------------------------------------------------------------------------


def create_event(
    session: Session,
    *,
    actor: User,
    title: str,
    timezone: str,
    description: str | None = "",
    venue: str | None = None,
    virtual_link_template: str | None = None,
    organisation_id: int | None = None,
    registration_opens_at: datetime | None = None,
    registration_closes_at: datetime | None = None,
    requests_deadline: datetime | None = None,
    requires_approval: bool = False,
    max_meetings_per_participant: int | None = None,
    max_outstanding_requests: int | None = 10,
    must_meet_weight: int = 3,
) -> Event:
    """A draft event organised by ``actor`` (any confirmed member)."""
    if not is_member(actor):
        raise PermissionDenied("confirm your e-mail address before you create an event")
    values = _clean_event(
        session,
        actor,
        {
            "title": title,
            "description": description,
            "timezone": timezone,
            "venue": venue,
            "virtual_link_template": virtual_link_template,
            "organisation_id": organisation_id,
            "registration_opens_at": registration_opens_at,
            "registration_closes_at": registration_closes_at,
            "requests_deadline": requests_deadline,
            "requires_approval": requires_approval,
            "max_meetings_per_participant": max_meetings_per_participant,
            "max_outstanding_requests": max_outstanding_requests,
            "must_meet_weight": must_meet_weight,
        },
        current=None,
    )
    event = Event(organiser_id=actor.id, status=EventStatus.draft, **values)
    session.add(event)
    session.flush()
    record(
        session,
        actor=actor,
        action="event.created",
        entity_type="event",
        entity_id=event.id,
        changes=values,
    )
    session.flush()
    return event


def update_event(session: Session, *, actor: User, event: Event, **changes: Any) -> Event:
    """Change fields of a draft or published event (its organisers). The audit row holds
    ``[old, new]`` per changed field."""
    require_organiser(actor, event)
    _check_unknown(changes, EVENT_FIELDS)
    _not_cancelled(event)
    values = _clean_event(session, actor, changes, current=event)
    diff: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(event, field)
        if old != new:
            diff[field] = [old, new]
            setattr(event, field, new)
    if diff:
        record(
            session,
            actor=actor,
            action="event.updated",
            entity_type="event",
            entity_id=event.id,
            changes=diff,
        )
        session.flush()
    return event


def publish_event(session: Session, *, actor: User, event: Event) -> Event:
    """A draft becomes public: listed, and open to registration by its dates."""
    require_organiser(actor, event)
    if event.status != EventStatus.draft:
        raise ValidationError({"status": f"only a draft can be published (it is {event.status})"})
    event.status = EventStatus.published
    record(session, actor=actor, action="event.published", entity_type="event", entity_id=event.id)
    session.flush()
    return event


def cancel_event(session: Session, *, actor: User, event: Event, base_url: str = "") -> Event:
    """Cancel a draft or published event; its approved participants are told."""
    require_organiser(actor, event)
    _not_cancelled(event)
    event.status = EventStatus.cancelled
    record(session, actor=actor, action="event.cancelled", entity_type="event", entity_id=event.id)
    approved = session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id, Participant.status == ParticipantStatus.approved)
        .options(joinedload(Participant.user))
        .order_by(Participant.id)
    )
    for participant in approved:
        notify(
            session,
            user=participant.user,
            subject=f"Cancelled: {event.title}",
            body=f'The organiser has cancelled "{event.title}". Your meetings there will not '
            "take place.",
            link=f"/events/{event.id}",
            base_url=base_url,
        )
    session.flush()
    return event


# ---- sessions and slots ------------------------------------------------------------------


def event_slots(session: Session, event: Event) -> list[EventSlot]:
    """Every slot of ``event``, in time order."""
    return list(
        session.scalars(
            select(EventSlot)
            .where(EventSlot.event_id == event.id)
            .order_by(EventSlot.starts_at, EventSlot.id)
        )
    )


def _sessions(session: Session, event: Event) -> list[EventSession]:
    return list(
        session.scalars(
            select(EventSession)
            .where(EventSession.event_id == event.id)
            .order_by(EventSession.starts_at, EventSession.id)
        )
    )


def _refresh_span(session: Session, event: Event) -> None:
    """``event.starts_at``/``ends_at``: the span of its sessions (None without sessions)."""
    first, last = session.execute(
        select(func.min(EventSession.starts_at), func.max(EventSession.ends_at)).where(
            EventSession.event_id == event.id
        )
    ).one()
    event.starts_at, event.ends_at = first, last


def add_session(
    session: Session,
    *,
    actor: User,
    event: Event,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    slot_minutes: int,
    tables: int,
    break_minutes: int = 0,
) -> EventSession:
    """A block of the agenda, split at once into slots of ``slot_minutes`` with
    ``break_minutes`` between them (each with ``tables`` tables). It may not overlap another
    session of the event."""
    require_organiser(actor, event)
    _not_cancelled(event)
    errors: dict[str, str] = {}
    text, error = _text(name, limit=MAX_NAME, required=True)
    if error:
        errors["name"] = error
    start, error = _aware(starts_at, optional=False)
    if error:
        errors["starts_at"] = error
    end, error = _aware(ends_at, optional=False)
    if error:
        errors["ends_at"] = error
    minutes, error = _int(slot_minutes, low=MIN_SLOT_MINUTES, high=MAX_MINUTES, optional=False)
    if error:
        errors["slot_minutes"] = error
    pause, error = _int(break_minutes, low=0, high=MAX_MINUTES, optional=False)
    if error:
        errors["break_minutes"] = error
    count, error = _int(tables, low=0, high=MAX_TABLES, optional=False)
    if error:
        errors["tables"] = error
    if start is not None and end is not None:
        if end <= start:
            errors["ends_at"] = "the session must end after it starts"
        elif end - start > MAX_SESSION:
            errors["ends_at"] = "a session lasts at most 24 hours: add one per day"
        elif minutes is not None and start + timedelta(minutes=minutes) > end:
            errors["slot_minutes"] = f"no slot of {minutes} minutes fits in this session"
        else:
            for other in _sessions(session, event):
                if other.starts_at < end and start < other.ends_at:
                    errors["starts_at"] = f'this session overlaps "{other.name}"'
                    break
    if errors:
        raise ValidationError(errors)
    assert start is not None
    assert end is not None
    assert minutes is not None
    assert pause is not None
    assert count is not None
    assert text is not None
    block = EventSession(
        event_id=event.id,
        name=text,
        starts_at=start,
        ends_at=end,
        slot_minutes=minutes,
        break_minutes=pause,
        tables=count,
    )
    session.add(block)
    session.flush()
    for begin, finish in slot_times(start, end, minutes, pause):
        session.add(
            EventSlot(
                event_id=event.id,
                session_id=block.id,
                starts_at=begin,
                ends_at=finish,
                tables=count,
            )
        )
    session.flush()
    _refresh_span(session, event)
    record(
        session,
        actor=actor,
        action="event.session_added",
        entity_type="event",
        entity_id=event.id,
        changes={
            "session_id": block.id,
            "name": text,
            "starts_at": start,
            "ends_at": end,
            "slot_minutes": minutes,
            "break_minutes": pause,
            "tables": count,
        },
    )
    session.flush()
    session.refresh(block)
    session.expire(event, ["sessions", "slots"])
    return block


def _scheduled_in(session: Session, slot_ids: Sequence[int]) -> list[Meeting]:
    if not slot_ids:
        return []
    return list(
        session.scalars(
            select(Meeting).where(Meeting.slot_id.in_(slot_ids), Meeting.cancelled_at.is_(None))
        )
    )


def delete_session(session: Session, *, actor: User, event_session: EventSession) -> None:
    """Remove a session and its slots; refused once a meeting is scheduled in one of them.
    The slots leave the participants' availability."""
    event = event_session.event
    require_organiser(actor, event)
    _not_cancelled(event)
    slot_ids = [slot.id for slot in event_session.slots]
    scheduled = _scheduled_in(session, slot_ids)
    if scheduled:
        raise ValidationError(
            {
                "session": f"{len(scheduled)} meeting(s) are scheduled in this session: move or "
                "unschedule them first"
            }
        )
    gone = set(slot_ids)
    for participant in session.scalars(
        select(Participant).where(
            Participant.event_id == event.id, Participant.available_slot_ids.is_not(None)
        )
    ):
        kept = [i for i in participant.available_slot_ids or [] if i not in gone]
        if kept != participant.available_slot_ids:
            participant.available_slot_ids = kept
    record(
        session,
        actor=actor,
        action="event.session_deleted",
        entity_type="event",
        entity_id=event.id,
        changes={"session_id": event_session.id, "name": event_session.name},
    )
    session.delete(event_session)
    session.flush()
    _refresh_span(session, event)
    session.flush()
    session.expire(event, ["sessions", "slots"])


def update_slot(session: Session, *, actor: User, slot: EventSlot, tables: int) -> EventSlot:
    """Change the number of tables of one slot (not below a table a meeting there uses)."""
    event = slot.session.event
    require_organiser(actor, event)
    _not_cancelled(event)
    count, error = _int(tables, low=0, high=MAX_TABLES, optional=False)
    if error:
        raise ValidationError({"tables": error})
    assert count is not None
    used = [m.table_number or 0 for m in _scheduled_in(session, [slot.id])]
    if used and max(used) > count:
        raise ValidationError(
            {"tables": f"a meeting is scheduled at table {max(used)} in this slot: move it first"}
        )
    if count != slot.tables:
        record(
            session,
            actor=actor,
            action="event.slot_updated",
            entity_type="event",
            entity_id=event.id,
            changes={"slot_id": slot.id, "tables": [slot.tables, count]},
        )
        slot.tables = count
        session.flush()
    return slot


# ---- registration ------------------------------------------------------------------------


def default_display_name(email: str) -> str:
    """``ana.lopez@example.org`` → ``Ana Lopez``."""
    local = email.split("@", 1)[0].split("+", 1)[0]
    words = local.replace("_", ".").replace("-", ".").split(".")
    name = " ".join(w.capitalize() for w in words if w)
    return (name or email)[:MAX_NAME]


def _clean_registration(
    session: Session, actor: User, event: Event, values: dict[str, Any]
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    cap = event.max_meetings_per_participant
    for field, value in values.items():
        error: str | None = None
        if field == "display_name":
            out[field], error = _text(value, limit=MAX_NAME, required=True)
        elif field == "job_title":
            text, error = _text(value, limit=MAX_NAME)
            out[field] = text or None
        elif field == "headline":
            out[field], error = _text(value, limit=MAX_HEADLINE)
        elif field == "organisation_id":
            if value is not None and not _manages(session, actor, value):
                error = "choose an organisation that you manage"
            out[field] = value
        elif field == "max_meetings":
            out[field], error = _int(value, low=0, high=cap or MAX_CAP, optional=True)
            if error and cap is not None:
                error = f"enter a whole number from 0 to {cap} (the event's limit)"
        elif field in ("auto_accept", "on_standby"):
            if not isinstance(value, bool):
                error = "choose yes or no"
            out[field] = value
        if error:
            errors[field] = error
    if errors:
        raise ValidationError(errors)
    return out


def register(
    session: Session,
    *,
    actor: User,
    event: Event,
    display_name: str | None = None,
    job_title: str | None = None,
    organisation_id: int | None = None,
    headline: str | None = "",
    max_meetings: int | None = None,
    auto_accept: bool = False,
    on_standby: bool = False,
    now: datetime | None = None,
    base_url: str = "",
) -> Participant:
    """Register ``actor`` for a published event while registration is open: approved at once,
    or pending (and the organiser told) when the event requires approval. Once per user and
    event; someone who withdrew may register again."""
    if not is_member(actor):
        raise PermissionDenied("confirm your e-mail address before you register")
    if event.status != EventStatus.published:
        raise ValidationError({"status": f"this event is {event.status}: no registration"})
    if not registration_open(event, now):
        raise ValidationError({"status": "registration for this event is closed"})
    existing = participation(session, event, actor)
    if existing is not None and existing.status != ParticipantStatus.withdrawn:
        raise ValidationError(
            {"event": f"you are already registered for this event ({existing.status})"}
        )
    values = _clean_registration(
        session,
        actor,
        event,
        {
            "display_name": display_name
            if display_name and display_name.strip()
            else default_display_name(actor.email),
            "job_title": job_title,
            "organisation_id": organisation_id,
            "headline": headline,
            "max_meetings": max_meetings,
            "auto_accept": auto_accept,
            "on_standby": on_standby,
        },
    )
    status = ParticipantStatus.pending if event.requires_approval else ParticipantStatus.approved
    decided = None if event.requires_approval else (now or utcnow())
    if existing is not None:
        participant = existing
        for field, value in values.items():
            setattr(participant, field, value)
        participant.status, participant.decided_at = status, decided
    else:
        participant = Participant(
            event_id=event.id, user_id=actor.id, status=status, decided_at=decided, **values
        )
        session.add(participant)
    session.flush()
    record(
        session,
        actor=actor,
        action="event.registered",
        entity_type="event",
        entity_id=event.id,
        changes={"participant_id": participant.id, "status": status, **values},
    )
    organiser = session.get(User, event.organiser_id) if event.organiser_id else None
    if status == ParticipantStatus.pending and organiser is not None:
        notify(
            session,
            user=organiser,
            subject=f"To approve: {values['display_name']} for {event.title}",
            body=f'{values["display_name"]} registered for "{event.title}" and waits for your '
            "approval.",
            link=f"/events/{event.id}/manage",
            base_url=base_url,
        )
    session.flush()
    return participant


def _decide(
    session: Session,
    *,
    actor: User,
    participant: Participant,
    status: ParticipantStatus,
    allowed: tuple[ParticipantStatus, ...],
    base_url: str,
    now: datetime | None,
) -> Participant:
    event = participant.event
    require_organiser(actor, event)
    _not_cancelled(event)
    if participant.status not in allowed:
        raise ValidationError(
            {"status": f"a registration that is {participant.status} cannot be {status}"}
        )
    old = participant.status
    participant.status = status
    participant.decided_at = now or utcnow()
    record(
        session,
        actor=actor,
        action=f"event.participant_{status}",
        entity_type="event",
        entity_id=event.id,
        changes={"participant_id": participant.id, "status": [old, status]},
    )
    if status == ParticipantStatus.approved:
        subject = f"You are in: {event.title}"
        body = f'Your registration for "{event.title}" is approved: you can now request meetings.'
    else:
        subject = f"Registration declined: {event.title}"
        body = f'The organiser of "{event.title}" has declined your registration.'
    notify(
        session,
        user=participant.user,
        subject=subject,
        body=body,
        link=f"/events/{event.id}",
        base_url=base_url,
    )
    session.flush()
    return participant


def approve(
    session: Session,
    *,
    actor: User,
    participant: Participant,
    base_url: str = "",
    now: datetime | None = None,
) -> Participant:
    """The organiser approves a pending (or declined) registration; the participant is told."""
    return _decide(
        session,
        actor=actor,
        participant=participant,
        status=ParticipantStatus.approved,
        allowed=(ParticipantStatus.pending, ParticipantStatus.declined),
        base_url=base_url,
        now=now,
    )


def decline(
    session: Session,
    *,
    actor: User,
    participant: Participant,
    base_url: str = "",
    now: datetime | None = None,
) -> Participant:
    """The organiser declines a pending (or approved) registration; the participant is told."""
    return _decide(
        session,
        actor=actor,
        participant=participant,
        status=ParticipantStatus.declined,
        allowed=(ParticipantStatus.pending, ParticipantStatus.approved),
        base_url=base_url,
        now=now,
    )


def _require_self(actor: User, participant: Participant, what: str) -> None:
    if not is_member(actor) or participant.user_id != actor.id:
        raise PermissionDenied(f"only the participant may {what}")


def withdraw(session: Session, *, actor: User, participant: Participant) -> Participant:
    """The participant withdraws a pending or approved registration."""
    _require_self(actor, participant, "withdraw their registration")
    if participant.status not in (ParticipantStatus.pending, ParticipantStatus.approved):
        raise ValidationError({"status": f"this registration is {participant.status} already"})
    old = participant.status
    participant.status = ParticipantStatus.withdrawn
    record(
        session,
        actor=actor,
        action="event.withdrawn",
        entity_type="event",
        entity_id=participant.event_id,
        changes={"participant_id": participant.id, "status": [old, participant.status]},
    )
    session.flush()
    return participant


def _active(participant: Participant) -> None:
    if participant.status not in (ParticipantStatus.pending, ParticipantStatus.approved):
        raise ValidationError({"status": f"this registration is {participant.status}"})
    _not_cancelled(participant.event)


def update_registration(
    session: Session, *, actor: User, participant: Participant, **changes: Any
) -> Participant:
    """Change the participant's profile for the event (by themselves)."""
    _require_self(actor, participant, "change their registration")
    _check_unknown(changes, REGISTRATION_FIELDS)
    _active(participant)
    values = _clean_registration(session, actor, participant.event, changes)
    diff: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(participant, field)
        if old != new:
            diff[field] = [old, new]
            setattr(participant, field, new)
    if diff:
        record(
            session,
            actor=actor,
            action="event.registration_updated",
            entity_type="event",
            entity_id=participant.event_id,
            changes={"participant_id": participant.id, **diff},
        )
        session.flush()
    return participant


def set_availability(
    session: Session, *, actor: User, participant: Participant, slot_ids: Iterable[int] | None
) -> Participant:
    """The slots the participant is available in (None, or every slot: all, including the
    slots of sessions added later)."""
    _require_self(actor, participant, "set their availability")
    _active(participant)
    known = {slot.id for slot in event_slots(session, participant.event)}
    chosen: list[int] | None = None
    if slot_ids is not None:
        ids = list(slot_ids)
        if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
            raise ValidationError({"available_slot_ids": "give slot ids as whole numbers"})
        unknown = sorted(set(ids) - known)
        if unknown:
            listed = ", ".join(str(i) for i in unknown[:10])
            raise ValidationError({"available_slot_ids": f"not slots of this event: {listed}"})
        chosen = None if set(ids) == known else sorted(set(ids))
    old = participant.available_slot_ids
    if old != chosen:
        participant.available_slot_ids = chosen
        record(
            session,
            actor=actor,
            action="event.availability_set",
            entity_type="event",
            entity_id=participant.event_id,
            changes={"participant_id": participant.id, "available_slot_ids": [old, chosen]},
        )
        session.flush()
    return participant


# ---- marketplace items -------------------------------------------------------------------


def _clean_item(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, value in values.items():
        error: str | None = None
        if field == "kind":
            try:
                out[field] = ItemKind(value)
            except ValueError:
                error = "choose offer, request or expertise"
        elif field == "title":
            out[field], error = _text(value, limit=MAX_ITEM_TITLE, required=True)
        elif field == "body":
            out[field], error = _text(value, limit=MAX_ITEM_BODY)
        elif field == "keywords":
            try:
                keywords = parse_keywords(value)
            except ValidationError as exc:
                error = exc.errors.get("keywords", "give keywords as text")
            else:
                if len(keywords) > MAX_KEYWORDS:
                    error = f"give at most {MAX_KEYWORDS} keywords"
                elif any(len(k) > 100 for k in keywords):
                    error = "use at most 100 characters per keyword"
                out[field] = keywords
        if error:
            errors[field] = error
    if errors:
        raise ValidationError(errors)
    return out


def add_item(
    session: Session,
    *,
    actor: User,
    participant: Participant,
    kind: ItemKind | str,
    title: str,
    body: str | None = "",
    keywords: str | Sequence[str] | None = (),
) -> EventItem:
    """An offer, request or expertise of the participant for the event (at most 20)."""
    _require_self(actor, participant, "publish items")
    _active(participant)
    values = _clean_item({"kind": kind, "title": title, "body": body, "keywords": keywords})
    count = session.scalar(select(func.count()).where(EventItem.participant_id == participant.id))
    if (count or 0) >= MAX_ITEMS:
        raise ValidationError({"title": f"you have {MAX_ITEMS} items already: delete one first"})
    item = EventItem(event_id=participant.event_id, participant_id=participant.id, **values)
    session.add(item)
    session.flush()
    record(
        session,
        actor=actor,
        action="event.item_added",
        entity_type="event",
        entity_id=participant.event_id,
        changes={"item_id": item.id, **values},
    )
    session.flush()
    return item


def update_item(session: Session, *, actor: User, item: EventItem, **changes: Any) -> EventItem:
    """Change an item (by its participant)."""
    _require_self(actor, item.participant, "change their items")
    _check_unknown(changes, ITEM_FIELDS)
    _active(item.participant)
    values = _clean_item(changes)
    diff: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(item, field)
        if old != new:
            diff[field] = [old, new]
            setattr(item, field, new)
    if diff:
        record(
            session,
            actor=actor,
            action="event.item_updated",
            entity_type="event",
            entity_id=item.event_id,
            changes={"item_id": item.id, **diff},
        )
        session.flush()
    return item


def delete_item(session: Session, *, actor: User, item: EventItem) -> None:
    """Remove an item (its participant, or the event's organisers)."""
    event = item.participant.event
    if not (is_member(actor) and item.participant.user_id == actor.id) and not is_organiser(
        actor, event
    ):
        raise PermissionDenied("only the participant or the organisers may delete this item")
    record(
        session,
        actor=actor,
        action="event.item_deleted",
        entity_type="event",
        entity_id=item.event_id,
        changes={"item_id": item.id, "title": item.title},
    )
    session.delete(item)
    session.flush()


# ---- reads -------------------------------------------------------------------------------


def list_events(
    session: Session,
    *,
    viewer: User | None,
    mine: bool = False,
    now: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Event], int]:
    """Upcoming published events (not over yet; soonest first, undated last) and how many in
    all; with ``mine``, the events ``viewer`` organises or registered for, in any status,
    latest first."""
    now = now or utcnow()
    if mine:
        if not is_member(viewer):
            return [], 0
        assert viewer is not None
        registered = select(Participant.event_id).where(Participant.user_id == viewer.id)
        query = select(Event).where(or_(Event.organiser_id == viewer.id, Event.id.in_(registered)))
        order = (Event.starts_at.desc().nulls_first(), Event.id.desc())
    else:
        query = select(Event).where(
            Event.status == EventStatus.published,
            or_(Event.ends_at.is_(None), Event.ends_at > now),
        )
        order = (Event.starts_at.asc().nulls_last(), Event.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*order).limit(limit).offset(offset))
    return list(rows), total


def _can_see_directory(session: Session, viewer: User | None, event: Event) -> bool:
    if is_organiser(viewer, event):
        return True
    mine = participation(session, event, viewer)
    return mine is not None and mine.status == ParticipantStatus.approved


def list_participants(
    session: Session,
    *,
    viewer: User | None,
    event: Event,
    text: str | None = None,
    country: str | None = None,
    organisation_type: OrganisationType | str | None = None,
    status: ParticipantStatus | None = ParticipantStatus.approved,
) -> list[Participant]:
    """The event's participants, by name: approved ones for its approved participants and
    organisers; other statuses (``status``, None for all) for the organisers only. Filters:
    ``text`` in the name, job title, headline or organisation name; the organisation's
    ``country`` and ``organisation_type``."""
    if not _can_see_directory(session, viewer, event):
        raise PermissionDenied("the participant list is for the event's participants")
    if status != ParticipantStatus.approved and not is_organiser(viewer, event):
        raise PermissionDenied("only the organisers see registrations that are not approved")
    query = (
        select(Participant)
        .outerjoin(Organisation, Organisation.id == Participant.organisation_id)
        .where(Participant.event_id == event.id)
    )
    if status is not None:
        query = query.where(Participant.status == status)
    needle = (text or "").strip().lower()
    if needle:
        columns = (
            Participant.display_name,
            func.coalesce(Participant.job_title, ""),
            Participant.headline,
            func.coalesce(Organisation.name, ""),
        )
        query = query.where(
            or_(*(func.lower(column).contains(needle, autoescape=True) for column in columns))
        )
    if country:
        query = query.where(Organisation.country == country.strip().upper())
    if organisation_type:
        query = query.where(Organisation.type == OrganisationType(organisation_type))
    return list(
        session.scalars(
            query.options(
                joinedload(Participant.organisation), joinedload(Participant.user)
            ).order_by(func.lower(Participant.display_name), Participant.id)
        )
    )


def list_items(
    session: Session,
    *,
    event: Event,
    participant_ids: Iterable[int] | None = None,
    viewer_participant: Participant | None = None,
) -> list[EventItem]:
    """The marketplace items of the event's approved participants (plus ``viewer_participant``'s
    own whatever their status), newest first; only of ``participant_ids`` if given."""
    visible = Participant.status == ParticipantStatus.approved
    if viewer_participant is not None:
        visible = or_(visible, Participant.id == viewer_participant.id)
    query = (
        select(EventItem)
        .join(Participant, Participant.id == EventItem.participant_id)
        .where(EventItem.event_id == event.id, visible)
        .options(selectinload(EventItem.participant).joinedload(Participant.organisation))
        .order_by(EventItem.created_at.desc(), EventItem.id.desc())
    )
    if participant_ids is not None:
        query = query.where(EventItem.participant_id.in_(list(participant_ids)))
    return list(session.scalars(query))
