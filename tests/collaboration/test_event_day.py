"""On the day of an event: the day's meetings, check-in, held or absent, standby refill and
outcomes, on SQLite and PostgreSQL. Schedules are published by writing ScheduleVersion rows
directly (the schedules module is tested elsewhere)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.event_day import (
    check_in,
    day_meetings,
    freed_slots,
    mark_absent,
    mark_held,
    pair_standby,
    record_outcome,
    standby_candidates,
    undo_attendance,
    undo_check_in,
)
from clusteratlas.collaboration.models import (
    AuditLog,
    EventItem,
    ItemKind,
    Meeting,
    MeetingOrigin,
    MeetingOutcome,
    Notification,
    OutboxEmail,
    ParticipantStatus,
    ScheduleVersion,
)
from collaboration.event_fixtures import DAY, add_meeting, add_participant, make_event

pytestmark = pytest.mark.integration


def publish(session, event, meetings, version=1):
    """A published schedule of ``meetings`` at their current slot and table."""
    row = ScheduleVersion(
        event_id=event.id,
        version=version,
        assignments={str(m.id): {"slot": m.slot_id, "table": m.table_number} for m in meetings},
        quality={"status": "optimal", "objective": len(meetings), "bound": len(meetings)},
    )
    event.schedule_version = version
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def world(session, create_user):
    """Event on DAY, 4 slots of 30 minutes from 07:00 UTC. Ana meets Ben in slot 0 at table 2
    and Cleo in slot 2; Cleo meets Eva in slot 0."""
    organiser = create_user("org@example.org")
    event = make_event(session, organiser)
    slots = event.slots
    users = {n: create_user(f"{n}@example.org") for n in ("ana", "ben", "cleo", "eva")}
    people = {
        "ana": add_participant(
            session, event, users["ana"], name="Ana", headline="Hydrogen storage for ports"
        ),
        "ben": add_participant(session, event, users["ben"], name="Ben"),
        "cleo": add_participant(session, event, users["cleo"], name="Cleo"),
        "eva": add_participant(session, event, users["eva"], name="Eva", on_standby=True),
    }
    m1 = add_meeting(session, people["ana"], people["ben"], slot=slots[0], table=2)
    m2 = add_meeting(session, people["cleo"], people["eva"], slot=slots[0], table=1)
    m3 = add_meeting(session, people["ana"], people["cleo"], slot=slots[2], table=1)
    publish(session, event, [m1, m2, m3])
    return organiser, event, slots, users, people, (m1, m2, m3)


# ---- the day's meetings ------------------------------------------------------------------


def test_day_meetings_follow_the_published_schedule_not_the_working_copy(session, world):
    _organiser, event, slots, _users, people, (m1, m2, m3) = world
    m1.slot_id, m1.table_number = slots[3].id, 5  # the organiser moved it, not published
    m3.cancelled_at = DAY - timedelta(days=1)
    unpublished = add_meeting(session, people["ben"], people["eva"], slot=slots[1], table=1)
    standby = add_meeting(
        session, people["ben"], people["cleo"], slot=slots[1], table=3, with_request=False
    )
    add_meeting(session, people["eva"], people["ana"], with_request=False)  # standby, no slot
    session.flush()

    days = day_meetings(session, event)

    assert [(d.meeting.id, d.slot.id, d.table) for d in days] == [
        (m2.id, slots[0].id, 1),
        (m1.id, slots[0].id, 2),
        (standby.id, slots[1].id, 3),
    ]
    assert unpublished.id not in {d.meeting.id for d in days}


def test_day_meetings_without_a_published_schedule_are_only_standby(session, create_user):
    organiser = create_user()
    event = make_event(session, organiser)
    a = add_participant(session, event, create_user())
    b = add_participant(session, event, create_user())
    add_meeting(session, a, b, slot=event.slots[0], table=1)

    assert day_meetings(session, event) == []


# ---- check-in ----------------------------------------------------------------------------


def test_check_in_by_oneself_and_by_the_organiser(session, world, create_user):
    organiser, event, _slots, users, people, _m = world
    now = DAY - timedelta(minutes=30)

    check_in(session, event, people["ana"], actor=users["ana"], now=now)
    check_in(session, event, people["ben"], actor=organiser, now=now)
    check_in(session, event, people["ana"], actor=users["ana"], now=now + timedelta(minutes=9))

    assert people["ana"].checked_in_at == now  # the first time is kept
    assert people["ben"].checked_in_at == now
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.action == "event.checked_in")
    ).all()
    assert len(actions) == 2


def test_check_in_refuses_other_people_and_unapproved_registrations(session, world, create_user):
    _organiser, event, _slots, users, people, _m = world
    pending = add_participant(
        session, event, create_user(), status=ParticipantStatus.pending, name="Pat"
    )

    with pytest.raises(PermissionDenied):
        check_in(session, event, people["ben"], actor=users["ana"], now=DAY)
    with pytest.raises(PermissionDenied):
        check_in(session, event, people["ben"], actor=create_user(), now=DAY)
    with pytest.raises(ValidationError) as refused:
        check_in(session, event, pending, actor=pending.user, now=DAY)
    assert list(refused.value.errors) == ["participant_id"]


def test_check_in_is_open_from_a_day_before_until_the_end(session, world):
    _organiser, event, _slots, users, people, _m = world
    end = DAY + timedelta(minutes=120)

    with pytest.raises(ValidationError) as early:
        check_in(session, event, people["ana"], actor=users["ana"], now=DAY - timedelta(hours=25))
    with pytest.raises(ValidationError) as late:
        check_in(session, event, people["ana"], actor=users["ana"], now=end)
    check_in(session, event, people["ana"], actor=users["ana"], now=DAY - timedelta(hours=23))

    assert list(early.value.errors) == ["checked_in_at"]
    assert "2030-05-13 at 09:00" in early.value.errors["checked_in_at"]  # Brussels time
    assert late.value.errors == {"checked_in_at": "the event is over"}
    assert people["ana"].checked_in_at == DAY - timedelta(hours=23)


def test_undo_check_in(session, world):
    organiser, event, _slots, users, people, _m = world
    check_in(session, event, people["ana"], actor=users["ana"], now=DAY)

    with pytest.raises(PermissionDenied):
        undo_check_in(session, event, people["ana"], actor=users["ben"])
    undo_check_in(session, event, people["ana"], actor=organiser)

    assert people["ana"].checked_in_at is None


# ---- held, absent, undo ------------------------------------------------------------------


def test_mark_held_only_once_the_slot_started(session, world):
    _organiser, _event, _slots, users, _people, (m1, _m2, _m3) = world

    with pytest.raises(ValidationError) as early:
        mark_held(session, m1, actor=users["ana"], now=DAY - timedelta(seconds=1))
    mark_held(session, m1, actor=users["ben"], now=DAY + timedelta(minutes=5))

    assert early.value.errors == {"meeting": "this meeting's slot has not started yet"}
    assert m1.held_at == DAY + timedelta(minutes=5)
    assert m1.absent_participant_id is None


def test_only_the_sides_or_the_organiser_mark_a_meeting(session, world, create_user):
    organiser, _event, _slots, users, _people, (m1, _m2, m3) = world
    now = DAY + timedelta(minutes=70)

    with pytest.raises(PermissionDenied):
        mark_held(session, m1, actor=users["cleo"], now=now)
    with pytest.raises(PermissionDenied):
        mark_held(session, m1, actor=create_user(admin=False), now=now)
    mark_held(session, m3, actor=organiser, now=now)

    assert m3.held_at == now
    assert m1.held_at is None


def test_a_meeting_outside_the_published_schedule_cannot_be_marked(session, world):
    _organiser, _event, slots, users, people, _m = world
    other = add_meeting(session, people["ana"], people["eva"], slot=slots[1], table=3)

    with pytest.raises(ValidationError) as refused:
        mark_held(session, other, actor=users["ana"], now=DAY + timedelta(hours=1))

    assert list(refused.value.errors) == ["meeting"]


def test_mark_absent_marks_the_partner_and_clears_held_and_outcomes(session, world):
    organiser, _event, _slots, users, people, (m1, _m2, _m3) = world
    now = DAY + timedelta(minutes=10)
    mark_held(session, m1, actor=users["ana"], now=now)
    record_outcome(session, m1, actor=users["ana"], outcome="follow_up")

    with pytest.raises(ValidationError) as self_absent:
        mark_absent(session, m1, actor=users["ana"], absent=people["ana"], now=now)
    with pytest.raises(ValidationError) as stranger:
        mark_absent(session, m1, actor=users["ana"], absent=people["cleo"], now=now)
    mark_absent(session, m1, actor=users["ana"], absent=people["ben"], now=now)

    assert list(self_absent.value.errors) == ["absent"]
    assert list(stranger.value.errors) == ["absent"]
    assert (m1.absent_participant_id, m1.held_at, m1.outcome_a) == (people["ben"].id, None, None)
    mark_absent(session, m1, actor=organiser, absent=people["ana"], now=now)  # either side
    assert m1.absent_participant_id == people["ana"].id


def test_undo_attendance(session, world):
    _organiser, _event, _slots, users, people, (m1, _m2, _m3) = world
    now = DAY + timedelta(minutes=10)
    mark_absent(session, m1, actor=users["ben"], absent=people["ana"], now=now)

    with pytest.raises(PermissionDenied):
        undo_attendance(session, m1, actor=users["cleo"])
    undo_attendance(session, m1, actor=users["ana"])

    assert (m1.absent_participant_id, m1.held_at) == (None, None)


# ---- outcomes ----------------------------------------------------------------------------


def test_outcomes_per_side_after_the_meeting_was_held(session, world, create_user):
    organiser, _event, _slots, users, _people, (m1, _m2, _m3) = world

    with pytest.raises(ValidationError) as early:
        record_outcome(session, m1, actor=users["ana"], outcome="partnership")
    mark_held(session, m1, actor=users["ana"], now=DAY + timedelta(minutes=1))
    record_outcome(session, m1, actor=users["ana"], outcome="partnership")
    record_outcome(session, m1, actor=users["ben"], outcome=MeetingOutcome.none)
    record_outcome(session, m1, actor=users["ana"], outcome="follow_up")  # changed

    assert early.value.errors == {"outcome": "the meeting must be marked held first"}
    assert (m1.outcome_a, m1.outcome_b) == (MeetingOutcome.follow_up, MeetingOutcome.none)
    with pytest.raises(ValidationError) as bad:
        record_outcome(session, m1, actor=users["ana"], outcome="great")
    assert list(bad.value.errors) == ["outcome"]
    with pytest.raises(PermissionDenied):
        record_outcome(session, m1, actor=users["cleo"], outcome="none")
    with pytest.raises(ValidationError) as no_side:
        record_outcome(session, m1, actor=organiser, outcome="none")
    assert list(no_side.value.errors) == ["side"]
    record_outcome(session, m1, actor=organiser, outcome="partnership", side="b")
    assert m1.outcome_b == MeetingOutcome.partnership


# ---- standby -----------------------------------------------------------------------------


@pytest.fixture
def standby_world(session, world, create_user):
    """On top of ``world``: standby people. Hal had an accepted meeting with Ana that the
    schedule did not place; Dan shares "hydrogen" with Ana; Ivy shares nothing; Fay is not
    checked in; Gus is not available in slot 0; Jon has reached his cap of 1; Eva is busy in
    slot 0 (with Cleo). Everyone but Ben and Fay is checked in."""
    organiser, event, slots, users, people, meetings = world
    for name, options in {
        "hal": {},
        "dan": {"headline": "Hydrogen valleys"},
        "ivy": {"headline": "Textiles"},
        "fay": {},
        "gus": {"available": [slots[1].id, slots[2].id]},
        "jon": {"max_meetings": 1},
    }.items():
        users[name] = create_user(f"{name}@example.org")
        people[name] = add_participant(
            session, event, users[name], name=name.title(), on_standby=True, **options
        )
    session.add(
        EventItem(
            event_id=event.id,
            participant_id=people["ivy"].id,
            kind=ItemKind.offer,
            title="Recycled fibres",
            keywords=["circular"],
        )
    )
    add_meeting(session, people["ana"], people["hal"])  # accepted, not scheduled
    jons = add_meeting(session, people["jon"], people["cleo"], slot=slots[3], table=1)
    publish(session, event, [*meetings, jons], version=2)
    checked = DAY - timedelta(minutes=20)
    for name in ("ana", "cleo", "eva", "hal", "dan", "ivy", "gus", "jon"):
        people[name].checked_in_at = checked
    session.flush()
    return organiser, event, slots, users, people, meetings


def test_a_partner_not_checked_in_frees_the_slot_once_it_started(session, standby_world):
    _organiser, event, slots, _users, people, (m1, _m2, _m3) = standby_world

    before = freed_slots(session, event, now=DAY - timedelta(minutes=1))
    during = freed_slots(session, event, now=DAY + timedelta(minutes=3))
    after = freed_slots(session, event, now=DAY + timedelta(minutes=30))

    assert before == []
    assert [(f.meeting.id, f.present.id, f.absent.id, f.table, f.marked) for f in during] == [
        (m1.id, people["ana"].id, people["ben"].id, 2, False)
    ]
    assert after == []  # the slot is over


def test_standby_candidates_best_first(session, standby_world):
    _organiser, event, slots, _users, people, _m = standby_world

    found = standby_candidates(
        session, event, slots[0], people["ana"], now=DAY + timedelta(minutes=3)
    )

    assert [(c.participant.display_name, c.accepted, c.shared) for c in found] == [
        ("Hal", True, []),
        ("Dan", False, ["hydrogen"]),
        ("Ivy", False, []),
    ]


def test_a_freed_standby_person_is_a_candidate(session, standby_world):
    _organiser, event, slots, users, people, (_m1, m2, _m3) = standby_world
    now = DAY + timedelta(minutes=3)
    mark_absent(session, m2, actor=users["eva"], absent=people["cleo"], now=now)

    found = standby_candidates(session, event, slots[0], people["ana"], now=now)

    assert [c.participant.display_name for c in found] == ["Hal", "Dan", "Eva", "Ivy"]


def test_standby_flow_end_to_end(session, standby_world, create_user):
    organiser, event, slots, users, people, (m1, _m2, _m3) = standby_world
    now = DAY + timedelta(minutes=4)
    mark_absent(session, m1, actor=users["ana"], absent=people["ben"], now=now)

    with pytest.raises(PermissionDenied):
        pair_standby(
            session, event, slots[0], people["ana"], people["dan"], actor=users["cleo"], now=now
        )
    with pytest.raises(ValidationError) as not_candidate:
        pair_standby(
            session, event, slots[0], people["ana"], people["fay"], actor=users["ana"], now=now
        )
    meeting = pair_standby(
        session,
        event,
        slots[0],
        people["ana"],
        people["dan"],
        actor=users["ana"],
        base_url="https://atlas.example.org",
        now=now,
    )

    assert not_candidate.value.errors == {
        "partner_id": "choose a checked-in standby participant free in this slot"
    }
    assert (
        meeting.origin,
        meeting.slot_id,
        meeting.table_number,
        meeting.request_id,
        meeting.a_id,
        meeting.b_id,
    ) == (MeetingOrigin.standby, slots[0].id, 2, None, people["ana"].id, people["dan"].id)
    notes = session.scalars(
        select(Notification).where(Notification.subject.like("Standby meeting now%"))
    ).all()
    assert sorted((n.user_id, n.link) for n in notes) == sorted(
        [
            (users["ana"].id, f"/events/{event.id}/today"),
            (users["dan"].id, f"/events/{event.id}/today"),
        ]
    )
    mails = session.scalars(select(OutboxEmail).where(OutboxEmail.to == "dan@example.org")).all()
    assert len(mails) == 1
    assert f"https://atlas.example.org/events/{event.id}/today" in mails[0].body
    # the standby meeting is one of the day's; Ana is no longer freed; a second pairing fails
    assert meeting.id in {d.meeting.id for d in day_meetings(session, event)}
    assert freed_slots(session, event, now=now) == []
    with pytest.raises(ValidationError) as again:
        pair_standby(
            session, event, slots[0], people["ana"], people["ivy"], actor=organiser, now=now
        )
    assert list(again.value.errors) == ["participant_id"]
    # the absence cannot be undone nor the replaced meeting marked held
    with pytest.raises(ValidationError):
        undo_attendance(session, m1, actor=users["ana"])
    with pytest.raises(ValidationError):
        mark_held(session, m1, actor=users["ana"], now=now)
    # the standby meeting itself is marked and gets outcomes like any other
    mark_held(session, meeting, actor=users["dan"], now=now + timedelta(minutes=20))
    record_outcome(session, meeting, actor=users["dan"], outcome="follow_up")
    assert meeting.outcome_b == MeetingOutcome.follow_up


def test_pair_standby_only_while_the_slot_runs(session, standby_world):
    organiser, event, slots, _users, people, _m = standby_world

    with pytest.raises(ValidationError) as early:
        pair_standby(
            session,
            event,
            slots[0],
            people["ana"],
            people["dan"],
            actor=organiser,
            now=DAY - timedelta(minutes=1),
        )
    with pytest.raises(ValidationError) as late:
        pair_standby(
            session,
            event,
            slots[0],
            people["ana"],
            people["dan"],
            actor=organiser,
            now=DAY + timedelta(minutes=30),
        )

    assert early.value.errors == {"slot_id": "this slot has not started yet"}
    assert late.value.errors == {"slot_id": "this slot is over"}
    assert session.scalars(select(Meeting).where(Meeting.origin == "standby")).all() == []


def test_pair_standby_when_the_partner_came(session, standby_world):
    organiser, event, slots, _users, people, _m = standby_world
    people["ben"].checked_in_at = DAY

    with pytest.raises(ValidationError) as refused:
        pair_standby(
            session,
            event,
            slots[0],
            people["ana"],
            people["dan"],
            actor=organiser,
            now=DAY + timedelta(minutes=2),
        )

    assert list(refused.value.errors) == ["participant_id"]
