"""Who may see and do what at a matchmaking event (issue 6), and the lookups every event module
shares: the event by id, the acting user's participation, the organiser check.

The verbs of ``events``, ``meeting_requests``, ``schedules`` and ``event_day`` call these and
raise :class:`~clusteratlas.collaboration.PermissionDenied` or :class:`EventNotFound`.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusteratlas.collaboration import PermissionDenied
from clusteratlas.collaboration.models import (
    Event,
    EventStatus,
    Participant,
    ParticipantStatus,
    User,
)
from clusteratlas.collaboration.permissions import is_member

__all__ = [
    "EventNotFound",
    "approved_participant",
    "can_view_event",
    "event_zone",
    "get_event",
    "is_organiser",
    "local_time",
    "participation",
    "require_organiser",
    "require_participant",
]


class EventNotFound(LookupError):  # noqa: N818 - like PermissionDenied
    """No such event, or one the user may not see (a draft of someone else)."""


def is_organiser(user: User | None, event: Event) -> bool:
    """The event's organiser, or an administrator (confirmed accounts only)."""
    return is_member(user) and (user.is_admin or event.organiser_id == user.id)  # type: ignore[union-attr]


def can_view_event(user: User | None, event: Event) -> bool:
    """Published and cancelled events are public; drafts only for their organisers."""
    return event.status != EventStatus.draft or is_organiser(user, event)


def get_event(session: Session, event_id: int, *, viewer: User | None) -> Event:
    """The event, if ``viewer`` may see it; else :class:`EventNotFound`."""
    event = session.get(Event, event_id)
    if event is None or not can_view_event(viewer, event):
        raise EventNotFound(f"no event {event_id}")
    return event


def require_organiser(user: User | None, event: Event) -> None:
    if not is_organiser(user, event):
        raise PermissionDenied("only the event's organisers may do this")


def participation(session: Session, event: Event, user: User | None) -> Participant | None:
    """``user``'s registration for ``event`` whatever its status (None if not registered)."""
    if user is None:
        return None
    return session.scalar(
        select(Participant).where(Participant.event_id == event.id, Participant.user_id == user.id)
    )


def approved_participant(session: Session, event: Event, user: User | None) -> Participant | None:
    """``user``'s registration if it is approved, else None."""
    found = participation(session, event, user)
    return found if found is not None and found.status == ParticipantStatus.approved else None


def require_participant(session: Session, event: Event, user: User | None) -> Participant:
    """``user``'s approved registration, or :class:`PermissionDenied` saying why not."""
    if not is_member(user):
        raise PermissionDenied("sign in with a confirmed address")
    found = participation(session, event, user)
    if found is None:
        raise PermissionDenied("register for the event first")
    if found.status != ParticipantStatus.approved:
        raise PermissionDenied(f"your registration is {found.status.value}, not approved")
    return found


def event_zone(event: Event) -> tzinfo:
    """The event's time zone (UTC if the stored name is unknown to this machine)."""
    try:
        return ZoneInfo(event.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(event: Event, moment: datetime) -> datetime:
    """``moment`` (aware) in the event's time zone, for display."""
    return moment.astimezone(event_zone(event))
