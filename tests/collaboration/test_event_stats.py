"""The organiser's dashboard and the organisations' event histories, on SQLite and PostgreSQL,
against figures counted by hand on a small event built row by row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clusteratlas.collaboration.event_stats import dashboard, organisation_event_history
from clusteratlas.collaboration.models import (
    EventSession,
    EventSlot,
    EventStatus,
    Meeting,
    MeetingOrigin,
    MeetingOutcome,
    ParticipantStatus,
    RequestStatus,
    ScheduleVersion,
)
from collaboration.event_fixtures import (
    DAY,
    add_meeting,
    add_participant,
    add_request,
    make_event,
    make_organisation,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def hand_built(session, create_user):
    """Session 1: slots 0-3 from 07:00 UTC (30 min); session 2: slots 4-5 from 11:00 UTC.

    approved: Ana, Cleo (Volta, DE), Ben (Nord, FR), Eva (Sol, ES), Dan (no organisation);
    Pat pending (Nord), Wil withdrawn (Sol), Dec declined.
    published: m1 Ana-Ben s0 (held; a follow_up, b partnership), m3 Ben-Eva s1 (held; a none),
    m2 Ana-Cleo s2 (Cleo absent), m6 Ben-Cleo s3, m7 Ana-Eva s5, m5 Cleo-Eva s3 (cancelled
    after publication). m4 Dan-Eva accepted but not placed. Standby: Dan-Ben s2 (held; a
    partnership). Requests besides the seven accepted ones: 2 declined, 1 expired, 1 pending,
    1 cancelled."""
    organiser = create_user("org@example.org")
    event = make_event(session, organiser)
    second = EventSession(
        event_id=event.id,
        name="Afternoon",
        starts_at=DAY + timedelta(hours=4),
        ends_at=DAY + timedelta(hours=5),
        slot_minutes=30,
        tables=5,
    )
    session.add(second)
    session.flush()
    for k in range(2):
        begin = DAY + timedelta(hours=4, minutes=30 * k)
        session.add(
            EventSlot(
                event_id=event.id,
                session_id=second.id,
                starts_at=begin,
                ends_at=begin + timedelta(minutes=30),
                tables=5,
            )
        )
    session.flush()
    session.refresh(event)
    s = event.slots
    assert len(s) == 6
    volta = make_organisation(session, "Volta", country="DE")
    nord = make_organisation(session, "Nord", country="FR")
    sol = make_organisation(session, "Sol", country="ES")

    def person(name, org=None, status=ParticipantStatus.approved):
        user = create_user(f"{name.lower()}@example.org")
        return add_participant(session, event, user, name=name, organisation=org, status=status)

    ana, cleo = person("Ana", volta), person("Cleo", volta)
    ben, eva, dan = person("Ben", nord), person("Eva", sol), person("Dan")
    person("Pat", nord, ParticipantStatus.pending)
    person("Wil", sol, ParticipantStatus.withdrawn)
    person("Dec", None, ParticipantStatus.declined)

    m1 = add_meeting(session, ana, ben, slot=s[0], table=1)
    m2 = add_meeting(session, ana, cleo, slot=s[2], table=1)
    m3 = add_meeting(session, ben, eva, slot=s[1], table=1)
    m4 = add_meeting(session, dan, eva)
    m5 = add_meeting(session, cleo, eva, slot=s[3], table=2)
    m6 = add_meeting(session, ben, cleo, slot=s[3], table=1)
    m7 = add_meeting(session, ana, eva, slot=s[5], table=1)
    standby = add_meeting(session, dan, ben, slot=s[2], table=2, with_request=False)
    assert standby.origin == MeetingOrigin.standby
    for status in (
        RequestStatus.declined,
        RequestStatus.declined,
        RequestStatus.expired,
        RequestStatus.pending,
        RequestStatus.cancelled,
    ):
        add_request(session, dan, cleo, status=status)
    session.add(
        ScheduleVersion(
            event_id=event.id,
            version=1,
            assignments={
                str(m.id): {"slot": m.slot_id, "table": m.table_number}
                for m in (m1, m2, m3, m5, m6, m7)
            },
            quality={"status": "optimal", "objective": 6, "bound": 6},
        )
    )
    event.schedule_version = 1
    m5.cancelled_at = DAY - timedelta(days=2)
    m1.held_at, m1.outcome_a, m1.outcome_b = DAY, MeetingOutcome.follow_up, "partnership"
    m3.held_at, m3.outcome_a = DAY + timedelta(minutes=30), MeetingOutcome.none
    m2.absent_participant_id = cleo.id
    standby.held_at, standby.outcome_a = DAY + timedelta(hours=1), MeetingOutcome.partnership
    session.flush()
    return event, {"volta": volta, "nord": nord, "sol": sol}, {"m4": m4, "m6": m6}


def test_dashboard_figures_counted_by_hand(session, hand_built):
    event, _orgs, _m = hand_built
    now = DAY + timedelta(minutes=95)  # slots 0, 1 and 2 are over

    figures = dashboard(session, event, now=now)

    assert figures.registrations == {
        "pending": 1,
        "approved": 5,
        "declined": 1,
        "withdrawn": 1,
    }
    assert figures.countries == {"DE": 2, "ES": 1, "FR": 1, "none": 1}
    assert figures.requests == {
        "pending": 1,
        "accepted": 7,
        "declined": 2,
        "cancelled": 1,
        "expired": 1,
    }
    assert figures.requests_sent == 12
    assert figures.acceptance_rate == pytest.approx(7 / 10)  # 7 / (7 + 2 + 1)
    assert figures.accepted_meetings == 6  # m1-m4, m6, m7 (m5 cancelled)
    assert figures.scheduled_meetings == 5  # m1, m2, m3, m6, m7
    assert figures.standby_meetings == 1
    assert figures.held_meetings == 3  # m1, m3, standby
    assert figures.absent_meetings == 1  # m2
    assert figures.past_meetings == 4  # m1 (s0), m3 (s1), m2 and standby (s2)
    assert figures.no_show_rate == pytest.approx(1 / 4)
    assert figures.outcomes == {"follow_up": 1, "partnership": 2, "none": 1, "unanswered": 2}
    assert figures.participants_without_meeting == 1  # Dan: only m4, not placed
    # Ana: s0, s2 in session 1 (one gap), s5 alone in session 2; Ben: s0, s1, s3 (one gap,
    # the standby meeting is not the schedule's); Cleo s2, s3; Eva s1 | s5
    assert figures.idle_gaps == 2
    assert figures.schedule_version == 1
    assert figures.solver == {"status": "optimal", "objective": 6, "bound": 6}
    assert figures.as_dict()["generated_at"] == now.isoformat()


def test_dashboard_of_an_empty_event(session, create_user):
    event = make_event(session, create_user())

    figures = dashboard(session, event, now=DAY)

    assert (figures.acceptance_rate, figures.no_show_rate) == (None, None)
    assert (figures.requests_sent, figures.scheduled_meetings, figures.idle_gaps) == (0, 0, 0)
    assert figures.countries == {}
    assert figures.registrations == {"pending": 0, "approved": 0, "declined": 0, "withdrawn": 0}


def test_organisation_history(session, create_user, hand_built):
    event, orgs, _m = hand_built
    earlier = make_event(
        session, create_user(), title="Spring days", start=DAY - timedelta(days=60)
    )
    draft = make_event(session, create_user(), title="Draft", status=EventStatus.draft)
    a = add_participant(session, earlier, create_user(), name="Ana", organisation=orgs["volta"])
    c = add_participant(session, earlier, create_user(), name="Cleo", organisation=orgs["volta"])
    own = add_meeting(session, a, c, slot=earlier.slots[0], table=1)
    own.held_at, own.outcome_a, own.outcome_b = earlier.starts_at, "follow_up", "follow_up"
    d = add_participant(session, draft, create_user(), organisation=orgs["volta"])
    e = add_participant(session, draft, create_user())
    hidden = add_meeting(session, d, e, slot=draft.slots[0], table=1)
    hidden.held_at = DAY
    session.flush()

    volta = organisation_event_history(session, orgs["volta"].id)
    nord = organisation_event_history(session, orgs["nord"].id)

    assert [(r.title, r.participants, r.meetings_held, r.outcomes) for r in volta] == [
        # Ana held m1 (her outcome: follow_up); m2 Ana-Cleo was absent
        (event.title, 2, 1, {"follow_up": 1, "partnership": 0, "none": 0}),
        # a meeting of two Volta people counts once, both their outcomes count
        ("Spring days", 2, 1, {"follow_up": 2, "partnership": 0, "none": 0}),
    ]
    # Ben held m1 (b: partnership), m3 (a: none) and the standby one (b: none given); Pat
    # is pending
    assert [(r.participants, r.meetings_held, r.outcomes) for r in nord] == [
        (1, 3, {"follow_up": 0, "partnership": 1, "none": 1})
    ]
    assert organisation_event_history(session, 10**6) == []


def test_history_ignores_cancelled_meetings(session, hand_built):
    event, orgs, meetings = hand_built
    m6: Meeting = meetings["m6"]
    m6.held_at = DAY + timedelta(minutes=95)
    m6.cancelled_at = DAY

    (record,) = organisation_event_history(session, orgs["nord"].id)

    assert record.meetings_held == 3
