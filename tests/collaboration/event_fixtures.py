"""Events, participants, requests and meetings built directly as rows, for the tests of the
event modules (so each module's tests do not depend on another module's verbs).

Use: ``from collaboration.event_fixtures import make_event, add_participant, add_meeting``
(``tests/`` is on ``sys.path``), with the ``session`` and ``create_user`` fixtures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    EventSession,
    EventSlot,
    EventStatus,
    ItemKind,
    Meeting,
    MeetingOrigin,
    MeetingRequest,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    Participant,
    ParticipantStatus,
    RequestStatus,
    User,
)

#: the default event day: 2030-05-14, sessions from 09:00 in Brussels (07:00 UTC)
DAY = datetime(2030, 5, 14, 7, 0, tzinfo=UTC)


def make_event(
    session: Session,
    organiser: User,
    *,
    title: str = "Clusters meet Regions",
    slots: int = 4,
    slot_minutes: int = 30,
    tables: int = 5,
    status: EventStatus = EventStatus.published,
    timezone: str = "Europe/Brussels",
    start: datetime = DAY,
    requires_approval: bool = False,
    max_meetings: int | None = None,
    max_outstanding: int | None = 10,
    requests_deadline: datetime | None = None,
    registration_opens_at: datetime | None = None,
    registration_closes_at: datetime | None = None,
    virtual_link_template: str | None = None,
) -> Event:
    """A published event with one session of ``slots`` back-to-back slots of ``tables`` tables."""
    end = start + timedelta(minutes=slot_minutes * slots)
    event = Event(
        title=title,
        description="Bilateral meetings between cluster organisations and regions.",
        timezone=timezone,
        venue="Brussels",
        status=status,
        organiser_id=organiser.id,
        starts_at=start,
        ends_at=end,
        registration_opens_at=registration_opens_at,
        registration_closes_at=registration_closes_at,
        requests_deadline=requests_deadline,
        requires_approval=requires_approval,
        max_meetings_per_participant=max_meetings,
        max_outstanding_requests=max_outstanding,
        virtual_link_template=virtual_link_template,
    )
    session.add(event)
    session.flush()
    block = EventSession(
        event_id=event.id,
        name="Morning meetings",
        starts_at=start,
        ends_at=end,
        slot_minutes=slot_minutes,
        break_minutes=0,
        tables=tables,
    )
    session.add(block)
    session.flush()
    for k in range(slots):
        begin = start + timedelta(minutes=slot_minutes * k)
        session.add(
            EventSlot(
                event_id=event.id,
                session_id=block.id,
                starts_at=begin,
                ends_at=begin + timedelta(minutes=slot_minutes),
                tables=tables,
            )
        )
    session.flush()
    session.refresh(event)
    return event


def make_organisation(session: Session, name: str, *, country: str = "BE") -> Organisation:
    """A published company profile (no manager)."""
    org = Organisation(
        type=OrganisationType.company,
        name=name,
        country=country,
        status=OrganisationStatus.published,
        description=f"{name} makes things.",
        version=1,
    )
    session.add(org)
    session.flush()
    return org


def add_participant(
    session: Session,
    event: Event,
    user: User,
    *,
    name: str | None = None,
    organisation: Organisation | None = None,
    status: ParticipantStatus = ParticipantStatus.approved,
    headline: str = "",
    available: list[int] | None = None,
    max_meetings: int | None = None,
    auto_accept: bool = False,
    on_standby: bool = False,
) -> Participant:
    participant = Participant(
        event_id=event.id,
        user_id=user.id,
        organisation_id=organisation.id if organisation else None,
        status=status,
        display_name=name or user.email.split("@")[0].title(),
        headline=headline,
        available_slot_ids=available,
        max_meetings=max_meetings,
        auto_accept=auto_accept,
        on_standby=on_standby,
    )
    session.add(participant)
    session.flush()
    return participant


def add_items(session: Session, *rows: tuple[Participant, str, str, str]) -> list[EventItem]:
    """Marketplace items, one per ``(participant, kind, title, body)``, without keywords."""
    items = [
        EventItem(
            event_id=who.event_id,
            participant_id=who.id,
            kind=ItemKind(kind),
            title=title,
            body=body,
            keywords=[],
        )
        for who, kind, title, body in rows
    ]
    session.add_all(items)
    session.flush()
    return items


def add_request(
    session: Session,
    requester: Participant,
    recipient: Participant,
    *,
    status: RequestStatus = RequestStatus.pending,
    must_meet: bool = False,
    message: str = "Shall we meet?",
) -> MeetingRequest:
    request = MeetingRequest(
        event_id=requester.event_id,
        requester_id=requester.id,
        recipient_id=recipient.id,
        message=message,
        must_meet=must_meet,
        status=status,
    )
    session.add(request)
    session.flush()
    return request


def add_meeting(
    session: Session,
    a: Participant,
    b: Participant,
    *,
    weight: int = 1,
    slot: EventSlot | None = None,
    table: int | None = None,
    locked: bool = False,
    with_request: bool = True,
) -> Meeting:
    """A meeting between ``a`` and ``b`` (from an accepted request unless ``with_request`` is
    false), scheduled in ``slot`` at ``table`` if given."""
    request = (
        add_request(session, a, b, status=RequestStatus.accepted, must_meet=weight > 1)
        if with_request
        else None
    )
    meeting = Meeting(
        event_id=a.event_id,
        request_id=request.id if request else None,
        origin=MeetingOrigin.request if request else MeetingOrigin.standby,
        a_id=a.id,
        b_id=b.id,
        weight=weight,
        slot_id=slot.id if slot else None,
        table_number=table,
        locked=locked,
    )
    session.add(meeting)
    session.flush()
    return meeting
