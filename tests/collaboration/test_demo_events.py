"""The demo event seeded by ``seed_demo`` (on SQLite and PostgreSQL): its counts, a published
schedule that an independent checker finds valid, and idempotence."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from clusteratlas.collaboration.demo import seed_demo
from clusteratlas.collaboration.demo_events import DEMO_EVENT_TITLE, seed_demo_event
from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    EventSlot,
    Meeting,
    MeetingRequest,
    OutboxEmail,
    Participant,
    ScheduleVersion,
    User,
)

pytestmark = pytest.mark.integration


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def seeded(session):
    seed_demo(session)
    return session.scalars(select(Event).where(Event.title == DEMO_EVENT_TITLE)).one()


def test_demo_event_counts(session, seeded):
    event = seeded
    admin = session.scalars(select(User).where(User.email == "admin@demo.invalid")).one()
    participants = session.scalars(select(Participant).where(Participant.event_id == event.id))
    statuses = Counter(str(p.status) for p in participants)
    requests = session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id))
    by_status = Counter((str(r.status), r.must_meet) for r in requests)
    slots = session.scalars(
        select(EventSlot).where(EventSlot.event_id == event.id).order_by(EventSlot.starts_at)
    ).all()

    assert (str(event.status), event.timezone, event.organiser_id) == (
        "published",
        "Europe/Brussels",
        admin.id,
    )
    # 09:00 in Brussels on 14 May 2030 (summer time, UTC+2) is 07:00 UTC; 8 × 20 min
    assert event.starts_at == datetime(2030, 5, 14, 7, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2030, 5, 14, 9, 40, tzinfo=UTC)
    assert len(slots) == 8
    assert all(s.ends_at - s.starts_at == timedelta(minutes=20) for s in slots)
    assert all(s.tables == 10 for s in slots)
    assert statuses == {"approved": 24, "pending": 2}
    assert by_status == {
        ("accepted", True): 4,
        ("accepted", False): 27,
        ("pending", True): 1,
        ("pending", False): 4,
        ("declined", False): 4,
    }
    assert _count(session, Meeting, Meeting.event_id == event.id) == 31
    approved = session.scalars(
        select(Participant).where(
            Participant.event_id == event.id, Participant.status == "approved"
        )
    ).all()
    assert all(p.headline and p.job_title for p in approved)
    assert sum(p.organisation_id is not None for p in approved) >= 20
    with_items = set(session.scalars(select(EventItem.participant_id)))
    assert {p.id for p in approved} <= with_items
    assert event.schedule_version == 1
    assert _count(session, OutboxEmail, OutboxEmail.to.like("%@demo.invalid")) == 0
    emails = [u.email for u in session.scalars(select(User))]
    assert all(e.endswith("@demo.invalid") for e in emails)


def test_demo_event_schedule_is_valid(session, seeded):
    """Checked from the rows, not with the scheduler's own checks."""
    event = seeded
    [version] = session.scalars(select(ScheduleVersion).where(ScheduleVersion.event_id == event.id))
    meetings = {
        m.id: m for m in session.scalars(select(Meeting).where(Meeting.event_id == event.id))
    }
    slots = {
        s.id: s for s in session.scalars(select(EventSlot).where(EventSlot.event_id == event.id))
    }
    people = {
        p.id: p
        for p in session.scalars(select(Participant).where(Participant.event_id == event.id))
    }
    placed = {int(k): (v["slot"], v["table"]) for k, v in version.assignments.items()}

    assert len(placed) >= 28  # 31 accepted meetings, 80 seats: nearly all fit
    seats: set[tuple[int, int]] = set()
    busy: set[tuple[int, int]] = set()
    load: Counter[int] = Counter()
    for meeting_id, (slot_id, table) in placed.items():
        meeting = meetings[meeting_id]
        assert (meeting.slot_id, meeting.table_number) == (slot_id, table)  # working copy
        assert slot_id in slots
        assert 1 <= table <= slots[slot_id].tables
        assert (slot_id, table) not in seats, "a table taken twice"
        seats.add((slot_id, table))
        for side in (meeting.a_id, meeting.b_id):
            person = people[side]
            assert str(person.status) == "approved"
            assert (side, slot_id) not in busy, f"{person.display_name} twice in a slot"
            busy.add((side, slot_id))
            assert person.available_slot_ids is None or slot_id in person.available_slot_ids
            load[side] += 1
    assert max(load.values()) <= event.max_meetings_per_participant
    partial = [p for p in people.values() if p.available_slot_ids is not None]
    assert partial, "some participants are available in part of the morning only"


def test_demo_event_must_meet_weight(session, seeded):
    must = session.scalars(
        select(Meeting)
        .join(MeetingRequest, Meeting.request_id == MeetingRequest.id)
        .where(MeetingRequest.must_meet.is_(True))
    ).all()
    plain = session.scalars(
        select(Meeting)
        .join(MeetingRequest, Meeting.request_id == MeetingRequest.id)
        .where(MeetingRequest.must_meet.is_(False))
    ).all()

    assert [m.weight for m in must] == [3] * 4
    assert {m.weight for m in plain} == {1}


def test_demo_event_is_idempotent(session, seeded):
    before = {
        model.__name__: _count(session, model)
        for model in (User, Event, Participant, EventItem, MeetingRequest, Meeting)
    }
    again = seed_demo(session)
    direct = seed_demo_event(session)

    assert again.skipped
    assert direct.skipped
    assert before == {
        model.__name__: _count(session, model)
        for model in (User, Event, Participant, EventItem, MeetingRequest, Meeting)
    }
    assert before["User"] == 11 + 16
