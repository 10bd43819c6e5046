"""Demo matchmaking event: "Clusters meet Regions 2030", seeded through the domain verbs.

:func:`seed_demo_event` adds, on a database that holds the demo data of
:func:`~clusteratlas.collaboration.demo.seed_demo` (it is called at the end of it):

- one published event in ``Europe/Brussels`` on 14 May 2030 (a date far enough ahead that
  registration and meeting requests stay open), organised by the demo **administrator**
  (:data:`~clusteratlas.collaboration.demo.ADMIN_EMAIL`), with registration on approval, at most
  :data:`MAX_MEETINGS` meetings per participant and a morning session of 8 slots of 20 minutes
  (09:00–11:40) with 10 tables each;
- 26 registrations: the moderator, the 8 managers, the member and 16 new attendees
  (``attendee01@demo.invalid``…, password :data:`~clusteratlas.collaboration.demo.DEMO_PASSWORD`,
  each made co-manager of one demo organisation). 24 are approved by the organiser, 2 wait
  for approval. Each has a job title, a headline and one or two marketplace items built from
  their organisation's keywords; a few are available in part of the morning only;
- 40 meeting requests between approved participants: 31 accepted (4 of them "must meet"),
  5 pending (1 "must meet") and 4 declined;
- the schedule run and published as version 1.

Every verb is the one the pages and the API call (``events.register``, ``approve``, ``add_item``,
``meeting_requests.send_request``, ``accept_request``, ``schedules.run_scheduler``,
``publish_schedule``…), so the data obey the same rules. The inbox notifications they make are
kept (the demo users find them when they log in); the e-mails they queue are removed, since
``@demo.invalid`` can never receive mail. Deterministic (a seeded generator) up to the slots
the solver picks; a second call adds nothing. Flushes; the caller commits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from itertools import product

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from clusteratlas.collaboration import events, meeting_requests, schedules
from clusteratlas.collaboration.accounts import hash_password
from clusteratlas.collaboration.models import (
    Event,
    ItemKind,
    MeetingRequest,
    Organisation,
    OrganisationManager,
    OrganisationStatus,
    OutboxEmail,
    Participant,
    User,
    utcnow,
)
from clusteratlas.collaboration.organisations import add_manager

__all__ = [
    "DEMO_EVENT_TITLE",
    "DemoEvent",
    "seed_demo_event",
]

DEMO_EVENT_TITLE = "Clusters meet Regions 2030"
TIMEZONE = "Europe/Brussels"
#: the morning session, in the event's time zone
SESSION_START = datetime(2030, 5, 14, 9, 0)  # noqa: DTZ001 - wall-clock time, see local_to_utc
SESSION_END = datetime(2030, 5, 14, 11, 40)  # noqa: DTZ001
SLOT_MINUTES = 20
TABLES = 10
MAX_MEETINGS = 6
#: the solver places every meeting within a second; the rest of its 10 s only polishes gaps
SOLVER_SECONDS = 1.0
#: new accounts for the event: the first 14 are approved, the last 2 wait for approval
ATTENDEES = 16
PENDING_REGISTRATIONS = 2
#: requests: (accepted, pending, declined); "must meet" among the accepted and the pending
ACCEPTED, PENDING, DECLINED = 31, 5, 4
MUST_MEET_ACCEPTED, MUST_MEET_PENDING = 4, 1

_FIRST = ("Anna", "Luca", "Marie", "Jonas", "Sofia", "Pavel", "Elena", "Mikkel", "Inês", "Niamh")
_LAST = ("Keller", "Moreau", "Rossi", "García", "de Vries", "Nowak", "Lindqvist", "Papadopoulou")
_JOBS = (
    "Cluster manager",
    "Innovation manager",
    "Head of R&D",
    "Business developer",
    "Policy officer",
    "Project officer",
)
_MESSAGES = (
    "Your offer fits what we look for: shall we meet? (demo)",
    "We would like to explore a joint project with you. (demo)",
    "Could we talk about a pilot with our members? (demo)",
    "Interested in your request: we may be the partner you need. (demo)",
)


@dataclass(frozen=True)
class DemoEvent:
    """What :func:`seed_demo_event` added (all zero when ``skipped``)."""

    skipped: bool
    event_id: int | None = None
    users: int = 0
    participants: int = 0
    approved: int = 0
    items: int = 0
    requests: int = 0
    meetings: int = 0
    scheduled: int = 0


def _names() -> list[str]:
    """Distinct people's names, spread over the first and last names."""
    combos = [f"{first} {last}" for first, last in product(_FIRST, _LAST)]
    return [combos[(i * 23) % len(combos)] for i in range(len(combos))]


def _user(session: Session, email: str) -> User:
    user = session.scalars(select(User).where(func.lower(User.email) == email)).first()
    if user is None:
        raise ValueError(f"seed the demo data first: {email} is missing")
    return user


def _first_managed(session: Session, user: User, taken: set[int]) -> Organisation | None:
    rows = session.scalars(
        select(Organisation)
        .join(OrganisationManager, OrganisationManager.organisation_id == Organisation.id)
        .where(
            OrganisationManager.user_id == user.id,
            Organisation.status == OrganisationStatus.published,
        )
        .order_by(Organisation.id)
    ).all()
    return next((o for o in rows if o.id not in taken), None)


def _items(rng: random.Random, organisation: Organisation | None, n: int) -> list[tuple]:
    """One or two (kind, title, body, keywords) for a participant, from its organisation's
    keywords so that offers and requests of different people meet."""
    keywords = list(organisation.keywords) if organisation else ["regional policy", "funding"]
    first = keywords[n % len(keywords)]
    second = keywords[(n + 1) % len(keywords)]
    out = [
        (
            ItemKind.offer,
            f"We offer expertise in {first} (demo)",
            f"Our team brings know-how and facilities in {first}. Demo item.",
            [first, second],
        )
    ]
    if n % 3 != 2:
        kind = ItemKind.request if n % 2 == 0 else ItemKind.expertise
        verb = "We look for partners in" if kind is ItemKind.request else "Ask us about"
        out.append(
            (
                kind,
                f"{verb} {second} (demo)",
                f"{verb} {second} for projects in 2030 and beyond. Demo item.",
                [second, rng.choice(keywords)],
            )
        )
    return out


def _pairs(rng: random.Random, people: int, count: int, limit: int) -> list[tuple[int, int]]:
    """``count`` distinct unordered pairs of ``range(people)`` (as requester, recipient), none
    with a person in more than ``limit`` pairs."""
    degree = [0] * people
    chosen: list[tuple[int, int]] = []
    seen: set[frozenset[int]] = set()
    while len(chosen) < count:
        a, b = rng.sample(range(people), 2)
        key = frozenset((a, b))
        if key in seen or degree[a] >= limit or degree[b] >= limit:
            continue
        seen.add(key)
        degree[a] += 1
        degree[b] += 1
        chosen.append((a, b))
    return chosen


def seed_demo_event(
    session: Session, *, seed: int = 2030, now: datetime | None = None
) -> DemoEvent:
    """Add the demo event (see the module), or nothing if an event of that title exists
    (``skipped``). Needs the demo users and organisations."""
    from clusteratlas.collaboration.demo import (
        ADMIN_EMAIL,
        DEMO_DOMAIN,
        DEMO_PASSWORD,
        MANAGERS,
        MEMBER_EMAIL,
        MODERATOR_EMAIL,
    )

    found = session.scalar(select(Event.id).where(Event.title == DEMO_EVENT_TITLE))
    if found is not None:
        return DemoEvent(skipped=True)
    now = now or utcnow()
    rng = random.Random(seed)
    outbox_before = session.scalar(select(func.max(OutboxEmail.id))) or 0
    admin = _user(session, ADMIN_EMAIL)

    event = events.create_event(
        session,
        actor=admin,
        title=DEMO_EVENT_TITLE,
        timezone=TIMEZONE,
        description=(
            "A morning of one-to-one meetings between cluster organisations, companies, "
            "research organisations and regional authorities. Demonstration data: this event "
            "will not take place."
        ),
        venue="Square, Brussels Meeting Centre (demo)",
        virtual_link_template="https://meet.example.org/demo-{meeting}",
        requires_approval=True,
        max_meetings_per_participant=MAX_MEETINGS,
        must_meet_weight=3,
    )
    events.add_session(
        session,
        actor=admin,
        event=event,
        name="Morning meetings",
        starts_at=events.local_to_utc(SESSION_START, TIMEZONE),
        ends_at=events.local_to_utc(SESSION_END, TIMEZONE),
        slot_minutes=SLOT_MINUTES,
        tables=TABLES,
    )
    events.publish_event(session, actor=admin, event=event)
    slot_ids = [slot.id for slot in events.event_slots(session, event)]

    password_hash = hash_password(DEMO_PASSWORD)
    attendees = []
    for i in range(1, ATTENDEES + 1):
        user = User(
            email=f"attendee{i:02d}@{DEMO_DOMAIN}", password_hash=password_hash, confirmed_at=now
        )
        session.add(user)
        attendees.append(user)
    session.flush()
    people = [
        _user(session, MODERATOR_EMAIL),
        *(_user(session, f"manager{i}@{DEMO_DOMAIN}") for i in range(1, MANAGERS + 1)),
        _user(session, MEMBER_EMAIL),
        *attendees,
    ]

    published = session.scalars(
        select(Organisation)
        .where(Organisation.status == OrganisationStatus.published)
        .order_by(Organisation.id)
    ).all()
    taken: set[int] = set()
    free = iter(published)
    names = _names()
    participants: list[Participant] = []
    items = 0
    for n, user in enumerate(people):
        organisation = _first_managed(session, user, taken)
        if organisation is None and user in attendees:
            organisation = next(o for o in free if o.id not in taken)
            add_manager(session, actor=admin, organisation=organisation, user=user)
        if organisation is not None:
            taken.add(organisation.id)
        keywords = list(organisation.keywords) if organisation else ["regional policy"]
        participant = events.register(
            session,
            actor=user,
            event=event,
            display_name=names[n],
            job_title=_JOBS[n % len(_JOBS)],
            organisation_id=organisation.id if organisation else None,
            headline=f"Looking for partners in {' and '.join(keywords[:2])} (demo)",
            auto_accept=False,
            on_standby=n % 4 == 0,
            now=now,
        )
        for kind, title, body, words in _items(rng, organisation, n):
            events.add_item(
                session,
                actor=user,
                participant=participant,
                kind=kind,
                title=title,
                body=body,
                keywords=words,
            )
            items += 1
        if n % 5 == 3:  # a few come late or leave early
            part = slot_ids[2:] if n % 2 else slot_ids[:-2]
            events.set_availability(session, actor=user, participant=participant, slot_ids=part)
        participants.append(participant)

    approved = participants[: len(participants) - PENDING_REGISTRATIONS]
    for participant in approved:
        events.approve(session, actor=admin, participant=participant, now=now)

    pairs = _pairs(rng, len(approved), ACCEPTED + PENDING + DECLINED, MAX_MEETINGS - 1)
    meetings = 0
    for k, (a, b) in enumerate(pairs):
        requester, recipient = approved[a], approved[b]
        accepted = k < ACCEPTED
        pending = ACCEPTED <= k < ACCEPTED + PENDING
        must_meet = (accepted and k < MUST_MEET_ACCEPTED) or (
            pending and k < ACCEPTED + MUST_MEET_PENDING
        )
        request = meeting_requests.send_request(
            session,
            actor=requester.user,
            event=event,
            recipient_id=recipient.id,
            message=_MESSAGES[k % len(_MESSAGES)],
            must_meet=must_meet,
            now=now,
        )
        if accepted:
            meeting_requests.accept_request(
                session, actor=recipient.user, event=event, request=request, now=now
            )
            meetings += 1
        elif not pending:
            meeting_requests.decline_request(
                session,
                actor=recipient.user,
                event=event,
                request=request,
                message="Thank you, but our agenda is full. (demo)",
                now=now,
            )

    schedules.run_scheduler(session, event, actor=admin, time_limit=SOLVER_SECONDS)
    schedules.publish_schedule(
        session, event, actor=admin, note="First schedule of the demo event."
    )
    version = schedules.latest_version(session, event)
    scheduled = len(version.assignments) if version is not None else 0

    # the demo addresses can never receive mail: keep the inbox items, drop the e-mails
    session.execute(delete(OutboxEmail).where(OutboxEmail.id > outbox_before))
    session.info.pop("mail_queued", None)
    session.flush()
    requests = session.scalar(select(func.count()).where(MeetingRequest.event_id == event.id))
    return DemoEvent(
        skipped=False,
        event_id=event.id,
        users=len(attendees),
        participants=len(participants),
        approved=len(approved),
        items=items,
        requests=requests or 0,
        meetings=meetings,
        scheduled=scheduled,
    )
