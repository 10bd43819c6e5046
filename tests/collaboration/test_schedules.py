"""Schedules of events on SQLite and PostgreSQL: the scheduler's input built from the rows,
runs written to the working copy (every one checked by the independent checker below), locks
and hand moves with their refusals, publication notifying exactly the people whose meetings
changed, re-scheduling that keeps published meetings, and agendas in the event's time zone."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.models import (
    EventSlot,
    Meeting,
    MeetingOrigin,
    Notification,
    OutboxEmail,
    ParticipantStatus,
    ScheduleVersion,
    User,
    utcnow,
)
from clusteratlas.collaboration.schedules import (
    agenda,
    lock_meeting,
    move_meeting,
    publish_schedule,
    run_scheduler,
    schedule_quality,
    scheduling_event,
    slot_label,
    unlock_meeting,
    working_schedule,
)
from collaboration.event_fixtures import add_meeting, add_participant, make_event, make_organisation

pytestmark = pytest.mark.integration


# ---- the independent checker -------------------------------------------------------------


def check_schedule(session, event, *, locked=None):
    """Every rule of a schedule, read back from the database (not from the scheduler):
    meetings in slots of the event, both sides approved and available, nobody twice in a slot,
    tables 1..tables and not shared, caps held, and ``locked`` (meeting id → (slot id, table))
    kept. Returns the scheduled meetings."""
    slots = {
        s.id: s for s in session.scalars(select(EventSlot).where(EventSlot.event_id == event.id))
    }
    rows = session.scalars(
        select(Meeting).where(Meeting.event_id == event.id, Meeting.cancelled_at.is_(None))
    ).all()
    scheduled = [m for m in rows if m.slot_id is not None]
    seen_person, seen_table, count = set(), set(), Counter()
    for m in scheduled:
        assert m.slot_id in slots, f"meeting {m.id} in a slot of another event"
        slot = slots[m.slot_id]
        for side in (m.a, m.b):
            assert side.status == ParticipantStatus.approved
            if side.available_slot_ids is not None:
                assert m.slot_id in side.available_slot_ids, f"{side.display_name} unavailable"
            assert (side.id, m.slot_id) not in seen_person, f"{side.display_name} twice"
            seen_person.add((side.id, m.slot_id))
            count[side.id] += 1
        assert m.table_number is not None
        assert 1 <= m.table_number <= slot.tables, f"table {m.table_number} of {slot.tables}"
        assert (m.slot_id, m.table_number) not in seen_table
        seen_table.add((m.slot_id, m.table_number))
    for m in rows:
        for side in (m.a, m.b):
            caps = [c for c in (side.max_meetings, event.max_meetings_per_participant) if c]
            if caps:
                assert count[side.id] <= min(caps), f"{side.display_name} over the cap"
    for mid, (slot_id, table) in (locked or {}).items():
        row = session.get(Meeting, mid)
        assert (row.slot_id, row.table_number) == (slot_id, table)
    return scheduled


# ---- the world ---------------------------------------------------------------------------


@pytest.fixture
def world(session, create_user):
    """Olga organises a 4-slot event (09:00–11:00 in Brussels, 2 tables); Ana, Ben, Cleo and
    Dan are approved, Eve is pending."""
    olga = create_user("olga@example.org")
    event = make_event(session, olga, slots=4, tables=2)
    volta = make_organisation(session, "Volta Cells")
    people = {}
    for name in ("Ana Silva", "Ben Brown", "Cleo Dupont", "Dan Weber"):
        user = create_user(f"{name.split()[0].lower()}@example.org")
        people[name.split()[0]] = add_participant(
            session, event, user, name=name, organisation=volta if name == "Ben Brown" else None
        )
    eve_user = create_user("eve@example.org")
    people["Eve"] = add_participant(
        session, event, eve_user, name="Eve Evans", status=ParticipantStatus.pending
    )
    slots = sorted(event.slots, key=lambda s: s.starts_at)
    return olga, event, people, slots


def _notified(session):
    rows = session.execute(select(User.email).join(Notification, Notification.user_id == User.id))
    return sorted(email for (email,) in rows)


# ---- the scheduler's input ---------------------------------------------------------------


def test_scheduling_event_from_rows(session, world):
    olga, event, p, slots = world
    event.max_meetings_per_participant = 3
    p["Ana"].available_slot_ids = [slots[0].id, slots[2].id]
    p["Ben"].max_meetings = 2
    p["Cleo"].max_meetings = 5  # above the event's cap: the event's holds
    m1 = add_meeting(session, p["Ana"], p["Ben"], weight=3, slot=slots[2], table=2, locked=True)
    m2 = add_meeting(session, p["Cleo"], p["Dan"])
    gone = add_meeting(session, p["Ana"], p["Cleo"])
    gone.cancelled_at = utcnow()
    add_meeting(session, p["Dan"], p["Eve"])  # Eve is not approved: left out
    session.flush()

    built = scheduling_event(session, event)
    assert built.slot_ids() == [str(s.id) for s in slots]
    assert dict(built.tables) == {str(s.id): 2 for s in slots}
    people = {x.id: x for x in built.participants}
    assert set(people) == {str(p[n].id) for n in ("Ana", "Ben", "Cleo", "Dan")}
    assert people[str(p["Ana"].id)].available == {str(slots[0].id), str(slots[2].id)}
    assert people[str(p["Ben"].id)].available == {str(s.id) for s in slots}
    assert people[str(p["Ana"].id)].max_meetings == 3
    assert people[str(p["Ben"].id)].max_meetings == 2
    assert people[str(p["Cleo"].id)].max_meetings == 3
    meetings = {m.id: m for m in built.meetings}
    assert set(meetings) == {str(m1.id), str(m2.id)}
    assert meetings[str(m1.id)].weight == 3
    assert meetings[str(m1.id)].locked_slot == str(slots[2].id)
    assert meetings[str(m1.id)].locked_table == 2
    assert meetings[str(m2.id)].locked_slot is None
    assert (meetings[str(m2.id)].a, meetings[str(m2.id)].b) == (str(p["Cleo"].id), str(p["Dan"].id))


def test_locked_meeting_where_a_side_is_unavailable_is_named(session, world):
    _olga, event, p, slots = world
    add_meeting(session, p["Ana"], p["Ben"], slot=slots[1], table=1, locked=True)
    p["Ben"].available_slot_ids = [slots[0].id]
    session.flush()
    with pytest.raises(ValidationError) as caught:
        scheduling_event(session, event)
    message = caught.value.errors["schedule"]
    assert "Ana Silva – Ben Brown" in message
    assert "09:30" in message  # slot 2 starts at 07:30 UTC = 09:30 in Brussels
    assert "Ben Brown is not available" in message


def test_locked_meeting_whose_slot_is_gone_is_named(session, world):
    _olga, event, p, slots = world
    meeting = add_meeting(session, p["Cleo"], p["Dan"], slot=slots[3], table=1, locked=True)
    meeting.slot_id = None  # the slot was deleted (ON DELETE SET NULL)
    session.flush()
    with pytest.raises(ValidationError) as caught:
        scheduling_event(session, event)
    assert "Cleo Dupont – Dan Weber" in caught.value.errors["schedule"]
    assert "slot no longer exists" in caught.value.errors["schedule"]


def test_too_many_locks_in_a_slot_translated_to_names(session, world):
    _olga, event, p, slots = world
    add_meeting(session, p["Ana"], p["Ben"], slot=slots[0], table=1, locked=True)
    add_meeting(session, p["Ana"], p["Cleo"], slot=slots[0], table=2, locked=True)
    with pytest.raises(ValidationError) as caught:
        scheduling_event(session, event)
    message = caught.value.errors["schedule"]
    assert "Ana Silva" in message
    assert "the slot at 09:00" in message
    assert "'" + str(p["Ana"].id) + "'" not in message


# ---- running the scheduler ---------------------------------------------------------------


def test_run_writes_a_valid_schedule_with_every_meeting(session, world):
    olga, event, p, slots = world
    ana, ben, cleo, dan = p["Ana"], p["Ben"], p["Cleo"], p["Dan"]
    pairs = [(ana, ben), (ana, cleo), (ana, dan), (ben, cleo), (ben, dan), (cleo, dan)]
    for a, b in pairs:
        add_meeting(session, a, b)
    run = run_scheduler(session, event, actor=olga, time_limit=5)
    scheduled = check_schedule(session, event)
    # 6 meetings, 4 people each in 3 of them, 4 slots × 2 tables: all fit (a round robin needs
    # 3 rounds of 2 meetings)
    assert len(scheduled) == 6
    assert (run.status, run.objective, run.bound, run.gap) == ("optimal", 6, 6, 0.0)
    assert run.rescheduled is False
    assert run.quality.scheduled == 6
    assert run.quality.without_meetings == 0
    assert run.quality.idle_gaps == 0  # 3 meetings in 3 consecutive slots each
    assert run.unscheduled == ()


def test_run_respects_caps_availability_and_locks(session, world):
    olga, event, p, slots = world
    ana, ben, cleo, dan = p["Ana"], p["Ben"], p["Cleo"], p["Dan"]
    ana.max_meetings = 1
    dan.available_slot_ids = [slots[3].id]
    locked = add_meeting(session, ben, cleo, slot=slots[2], table=2, locked=True)
    add_meeting(session, ana, ben, weight=3)
    add_meeting(session, ana, cleo)
    add_meeting(session, cleo, dan)
    add_meeting(session, ben, dan)
    run = run_scheduler(session, event, actor=olga, time_limit=5)
    scheduled = check_schedule(session, event, locked={locked.id: (slots[2].id, 2)})
    # Ana's cap keeps one of her two meetings out (the heavier one stays); Dan can only meet in
    # slot 4, so one of his two meetings is out: 3 of 5 scheduled, weight 1 + 3 + 1 = 5
    assert len(scheduled) == 3
    assert run.objective == 5
    assert run.bound == 5
    assert len(run.unscheduled) == 2


def test_only_organisers_run(session, world, create_user):
    _olga, event, p, _slots = world
    add_meeting(session, p["Ana"], p["Ben"])
    with pytest.raises(PermissionDenied):
        run_scheduler(session, event, actor=p["Ana"].user)
    with pytest.raises(ValidationError) as caught:
        run_scheduler(session, event, actor=_olga, time_limit=0)
    assert "time_limit" in caught.value.errors


def test_run_on_an_empty_event(session, world):
    olga, event, _p, _slots = world
    run = run_scheduler(session, event, actor=olga, time_limit=2)
    assert (run.objective, run.quality.meetings, run.quality.scheduled) == (0, 0, 0)


def test_random_events_always_pass_the_checker(session, create_user):
    """Seeded random events (caps, availability, locks, weights): every run passes."""
    olga = create_user("olga@example.org")
    users = [create_user() for _ in range(8)]
    for seed in range(3):
        rng = random.Random(seed)
        event = make_event(session, olga, title=f"Random {seed}", slots=5, tables=rng.randint(1, 3))
        slots = sorted(event.slots, key=lambda s: s.starts_at)
        people = []
        for user in users:
            available = sorted(rng.sample([s.id for s in slots], rng.randint(2, 5)))
            people.append(
                add_participant(
                    session,
                    event,
                    user,
                    available=available if rng.random() < 0.6 else None,
                    max_meetings=rng.choice([None, 2, 3]),
                )
            )
        pairs = rng.sample([(a, b) for i, a in enumerate(people) for b in people[i + 1 :]], 14)
        locked = {}
        a, b = pairs[0]
        common = [
            s
            for s in slots
            if (a.available_slot_ids is None or s.id in a.available_slot_ids)
            and (b.available_slot_ids is None or s.id in b.available_slot_ids)
        ]
        for x, y in pairs:
            meeting = add_meeting(session, x, y, weight=rng.choice([1, 1, 3]))
            if (x, y) == (a, b) and common:
                meeting.slot_id, meeting.table_number, meeting.locked = common[0].id, 1, True
                locked[meeting.id] = (common[0].id, 1)
        session.flush()
        run = run_scheduler(session, event, actor=olga, time_limit=3)
        scheduled = check_schedule(session, event, locked=locked)
        assert run.quality.scheduled == len(scheduled)
        assert run.objective <= run.bound


# ---- the grid: unscheduled reasons, lock, move -------------------------------------------


def test_unscheduled_meetings_say_why(session, world):
    olga, event, p, slots = world
    p["Ana"].available_slot_ids = [slots[0].id]
    p["Ben"].available_slot_ids = [slots[1].id]
    never = add_meeting(session, p["Ana"], p["Ben"])
    p["Cleo"].max_meetings = 1
    add_meeting(session, p["Cleo"], p["Dan"], slot=slots[0], table=1)
    capped = add_meeting(session, p["Cleo"], p["Ben"])
    withdrawn = add_meeting(session, p["Dan"], p["Eve"])
    grid = working_schedule(session, event, actor=olga)
    reasons = {m.id: why for m, why in grid.unscheduled}
    assert reasons[never.id].startswith("no common free slot")
    assert reasons[capped.id] == "Cleo Dupont has reached the cap of 1 meetings"
    assert reasons[withdrawn.id] == "the registration of Eve Evans is pending"
    assert grid.labels[slots[0].id] == "09:00"
    with pytest.raises(PermissionDenied):
        working_schedule(session, event, actor=p["Ana"].user)


def test_move_refusals_name_the_field(session, world):
    olga, event, p, slots = world
    ana, ben, cleo, dan = p["Ana"], p["Ben"], p["Cleo"], p["Dan"]
    busy = add_meeting(session, ana, cleo, slot=slots[0], table=1)
    add_meeting(session, cleo, dan, slot=slots[1], table=2)
    meeting = add_meeting(session, ana, ben, slot=slots[2], table=1)
    ben.available_slot_ids = [slots[0].id, slots[1].id, slots[2].id]
    session.flush()

    def refused(slot, table):
        with pytest.raises(ValidationError) as caught:
            move_meeting(session, event, meeting, slot, table, actor=olga)
        return caught.value.errors

    assert refused(slots[0], 2) == {"slot": "Ana Silva already meets Cleo Dupont at 09:00"}
    assert refused(slots[3], 1) == {"slot": "Ben Brown is not available at 10:30"}
    assert refused(slots[1], 2) == {"table": "table 2 at 09:30 is taken by Cleo Dupont – Dan Weber"}
    assert refused(slots[1], 3) == {"table": "choose a table from 1 to 2 (the slot at 09:30 has 2)"}
    assert (meeting.slot_id, meeting.table_number, meeting.locked) == (slots[2].id, 1, False)
    with pytest.raises(PermissionDenied):
        move_meeting(session, event, meeting, slots[1], 1, actor=ana.user)

    move_meeting(session, event, meeting, slots[1], None, actor=olga)
    assert (meeting.slot_id, meeting.table_number, meeting.locked) == (slots[1].id, 1, True)
    check_schedule(session, event)
    move_meeting(session, event, busy, None, None, actor=olga)
    assert (busy.slot_id, busy.table_number) == (None, None)


def test_move_refuses_a_side_at_their_cap(session, world):
    olga, event, p, slots = world
    p["Ana"].max_meetings = 1
    add_meeting(session, p["Ana"], p["Cleo"], slot=slots[0], table=1)
    waiting = add_meeting(session, p["Ana"], p["Ben"])
    with pytest.raises(ValidationError) as caught:
        move_meeting(session, event, waiting, slots[2], 1, actor=olga)
    assert caught.value.errors == {"slot": "Ana Silva has reached the cap of 1 meetings"}


def test_lock_and_unlock(session, world):
    olga, event, p, slots = world
    waiting = add_meeting(session, p["Ana"], p["Ben"])
    with pytest.raises(ValidationError) as caught:
        lock_meeting(session, event, waiting, actor=olga)
    assert "meeting" in caught.value.errors
    placed = add_meeting(session, p["Cleo"], p["Dan"], slot=slots[3], table=2)
    assert lock_meeting(session, event, placed, actor=olga).locked is True
    run_scheduler(session, event, actor=olga, time_limit=3)
    check_schedule(session, event, locked={placed.id: (slots[3].id, 2)})
    assert unlock_meeting(session, event, placed, actor=olga).locked is False
    with pytest.raises(PermissionDenied):
        lock_meeting(session, event, placed, actor=p["Cleo"].user)


# ---- publication -------------------------------------------------------------------------


def test_publication_notifies_exactly_the_people_whose_meetings_changed(session, world):
    olga, event, p, slots = world
    ana, ben, cleo, dan = p["Ana"], p["Ben"], p["Cleo"], p["Dan"]
    m_ab = add_meeting(session, ana, ben, slot=slots[0], table=1)
    add_meeting(session, cleo, dan, slot=slots[0], table=2)
    add_meeting(session, ana, cleo, slot=slots[1], table=1)

    first = publish_schedule(
        session, event, actor=olga, note="See you there", base_url="https://atlas.example"
    )
    assert first.version.version == 1
    assert event.schedule_version == 1
    assert first.notified == {ana.id, ben.id, cleo.id, dan.id}
    assert first.changes[ana.id] == [
        "new: 09:00 with Ben Brown, table 1",
        "new: 09:30 with Cleo Dupont, table 1",
    ]
    mail = session.scalars(select(OutboxEmail).where(OutboxEmail.to == "ana@example.org")).one()
    assert "new: 09:00 with Ben Brown, table 1" in mail.body
    assert "See you there" in mail.body
    assert f"https://atlas.example/events/{event.id}/agenda" in mail.body

    with pytest.raises(ValidationError) as caught:
        publish_schedule(session, event, actor=olga)
    assert caught.value.errors == {"schedule": "nothing changed since version 1 was published"}

    for row in session.scalars(select(Notification)):
        session.delete(row)
    session.flush()
    move_meeting(session, event, m_ab, slots[2], 2, actor=olga)
    second = publish_schedule(session, event, actor=olga)
    assert second.notified == {ana.id, ben.id}
    assert second.changes[ana.id] == ["09:00 → 10:00 with Ben Brown, table 2"]
    assert second.changes[ben.id] == ["09:00 → 10:00 with Ana Silva, table 2"]
    assert _notified(session) == ["ana@example.org", "ben@example.org"]
    assert event.schedule_version == 2
    assert session.scalars(select(ScheduleVersion.version)).all() == [1, 2]


def test_table_change_and_cancellation_are_told(session, world):
    olga, event, p, slots = world
    ab = add_meeting(session, p["Ana"], p["Ben"], slot=slots[0], table=1)
    cd = add_meeting(session, p["Cleo"], p["Dan"], slot=slots[1], table=1)
    publish_schedule(session, event, actor=olga)
    move_meeting(session, event, ab, slots[0], 2, actor=olga)
    cd.cancelled_at = utcnow()
    session.flush()
    second = publish_schedule(session, event, actor=olga)
    assert second.changes == {
        p["Ana"].id: ["09:00 with Ben Brown: table 1 → table 2"],
        p["Ben"].id: ["09:00 with Ana Silva: table 1 → table 2"],
        p["Cleo"].id: ["cancelled: 09:30 with Dan Weber"],
        p["Dan"].id: ["cancelled: 09:30 with Cleo Dupont"],
    }


def test_publish_refuses_an_empty_or_broken_schedule(session, world):
    olga, event, p, slots = world
    with pytest.raises(ValidationError) as caught:
        publish_schedule(session, event, actor=olga)
    assert "run the scheduler first" in caught.value.errors["schedule"]
    add_meeting(session, p["Ana"], p["Ben"], slot=slots[0], table=1)
    add_meeting(session, p["Ana"], p["Cleo"], slot=slots[0], table=2)  # Ana twice at 09:00
    with pytest.raises(ValidationError) as caught:
        publish_schedule(session, event, actor=olga)
    assert "Ana Silva has two meetings at 09:00" in caught.value.errors["schedule"]
    with pytest.raises(PermissionDenied):
        publish_schedule(session, event, actor=p["Ana"].user)
    assert event.schedule_version == 0


def test_rescheduling_keeps_published_meetings(session, world):
    olga, event, p, slots = world
    ana, ben, cleo, dan = p["Ana"], p["Ben"], p["Cleo"], p["Dan"]
    for a, b in [(ana, ben), (cleo, dan), (ana, cleo)]:
        add_meeting(session, a, b)
    run_scheduler(session, event, actor=olga, time_limit=3)
    publish_schedule(session, event, actor=olga)
    before = {
        m.id: (m.slot_id, m.table_number)
        for m in session.scalars(select(Meeting).where(Meeting.event_id == event.id))
    }
    add_meeting(session, ben, dan)  # a new accepted request after publication
    run = run_scheduler(session, event, actor=olga, time_limit=3)
    assert run.rescheduled is True
    assert run.moved == 0
    check_schedule(session, event)
    for mid, where in before.items():
        assert (session.get(Meeting, mid).slot_id, session.get(Meeting, mid).table_number) == where
    second = publish_schedule(session, event, actor=olga)
    assert second.notified == {ben.id, dan.id}


# ---- quality and agendas -----------------------------------------------------------------


def test_schedule_quality_by_hand(session, world):
    olga, event, p, slots = world
    add_meeting(session, p["Ana"], p["Ben"], slot=slots[0], table=1)
    add_meeting(session, p["Ana"], p["Cleo"], slot=slots[3], table=1)  # Ana: gap of 2 slots
    add_meeting(session, p["Ben"], p["Dan"], weight=3)  # not scheduled: Dan has none
    quality = schedule_quality(session, event)
    assert quality.meetings == 3
    assert quality.scheduled == 2
    assert quality.weight == 2
    assert quality.bound == 5
    assert quality.participants_with_requests == 4
    assert quality.without_meetings == 1
    assert quality.idle_gaps == 2
    assert schedule_quality(session, event, published=True) is None
    publish_schedule(session, event, actor=olga)
    assert schedule_quality(session, event, published=True).scheduled == 2


def test_agenda_shows_the_published_version_standby_and_gaps(session, world):
    olga, event, p, slots = world
    ana, ben, cleo, dan = p["Ana"], p["Ben"], p["Cleo"], p["Dan"]
    ab = add_meeting(session, ana, ben, slot=slots[0], table=2)
    ac = add_meeting(session, ana, cleo, slot=slots[3], table=1)
    cancelled = add_meeting(session, ana, dan, slot=slots[1], table=1)
    assert agenda(session, ana).items == []  # nothing published yet
    publish_schedule(session, event, actor=olga)
    cancelled.cancelled_at = utcnow()
    move_meeting(session, event, ab, slots[1], 1, actor=olga)  # working copy only
    standby = add_meeting(session, ana, dan, slot=slots[2], table=2, with_request=False)
    assert standby.origin == MeetingOrigin.standby

    mine = agenda(session, ana)
    assert mine.version == 1
    assert [(i.meeting_id, i.partner_name, i.table, i.standby) for i in mine.items] == [
        (ab.id, "Ben Brown", 2, False),  # as published: 09:00, table 2
        (standby.id, "Dan Weber", 2, True),
        (ac.id, "Cleo Dupont", 1, False),
    ]
    assert mine.items[0].start == datetime(2030, 5, 14, 7, 0, tzinfo=UTC)
    assert mine.items[0].location == "table 2"
    assert [(g.start, g.slots) for g in mine.gaps] == [
        (datetime(2030, 5, 14, 7, 30, tzinfo=UTC), 1)
    ]
    assert [type(r).__name__ for r in mine.rows()] == [
        "AgendaItem",
        "Gap",
        "AgendaItem",
        "AgendaItem",
    ]
    bens = agenda(session, ben)
    assert [(i.partner_name, i.organisation) for i in bens.items] == [("Ana Silva", None)]
    assert agenda(session, cleo).items[0].partner.organisation is None
    assert [i.organisation for i in agenda(session, ana).items][0] == "Volta Cells"


def test_online_meetings_get_their_link(session, create_user):
    olga = create_user("olga@example.org")
    event = make_event(
        session,
        olga,
        slots=2,
        tables=0,
        virtual_link_template="https://meet.example.org/atlas-{meeting}",
    )
    a = add_participant(session, event, create_user(), name="Ana Silva")
    b = add_participant(session, event, create_user(), name="Ben Brown")
    meeting = add_meeting(session, a, b)
    run_scheduler(session, event, actor=olga, time_limit=2)
    assert meeting.slot_id is not None
    publish_schedule(session, event, actor=olga)
    item = agenda(session, a).items[0]
    assert item.online is True
    assert item.link == f"https://meet.example.org/atlas-{meeting.id}"
    assert item.location == f"online: https://meet.example.org/atlas-{meeting.id}"


def test_times_shown_in_the_event_zone(session, create_user):
    olga = create_user("olga@example.org")
    start = datetime(2030, 11, 5, 14, 0, tzinfo=UTC)  # 09:00 in New York (EST, UTC-5)
    event = make_event(session, olga, slots=2, timezone="America/New_York", start=start)
    slots = sorted(event.slots, key=lambda s: s.starts_at)
    assert slot_label(event, slots[0]) == "09:00"
    assert slot_label(event, slots[1]) == "09:30"
    assert slot_label(event, slots[1], with_day=True) == "Tue 05 Nov 09:30"
    two_days = make_event(session, olga, slots=1, start=start - timedelta(days=1))
    extra = EventSlot(
        event_id=two_days.id,
        session_id=two_days.sessions[0].id,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        tables=2,
    )
    session.add(extra)
    session.flush()
    a = add_participant(session, two_days, create_user(), name="Ana Silva")
    b = add_participant(session, two_days, create_user(), name="Ben Brown")
    add_meeting(session, a, b, slot=extra, table=1)
    grid = working_schedule(session, two_days, actor=olga)
    assert grid.labels[extra.id] == "Tue 05 Nov 15:00"  # Brussels (CET, UTC+1)
