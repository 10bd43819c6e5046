"""Events (issue 6): the event's lifecycle, sessions and their slots (times computed by hand
here), time zones across the changes of the clocks, registration and approval with their
notifications, availability, marketplace items, the participant directory, permissions and
every field error; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.event_access import EventNotFound, get_event
from clusteratlas.collaboration.events import (
    add_item,
    add_session,
    approve,
    cancel_event,
    create_event,
    decline,
    default_display_name,
    delete_item,
    delete_session,
    event_slots,
    list_events,
    list_items,
    list_participants,
    local_to_utc,
    publish_event,
    register,
    registration_open,
    set_availability,
    slot_times,
    update_event,
    update_item,
    update_registration,
    update_slot,
    withdraw,
)
from clusteratlas.collaboration.models import (
    AuditLog,
    EventStatus,
    Notification,
    OrganisationManager,
    OrganisationType,
    OutboxEmail,
    ParticipantStatus,
)
from collaboration.event_fixtures import add_meeting, add_participant, make_event, make_organisation

pytestmark = pytest.mark.integration

BRUSSELS = "Europe/Brussels"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def wall(*args: int) -> datetime:
    """A wall-clock time without a zone (as a datetime-local input gives it)."""
    return datetime(*args)  # noqa: DTZ001 - naive on purpose


@pytest.fixture
def ana(create_user):
    return create_user("ana.lopez@example.org")


@pytest.fixture
def draft(session, ana):
    return create_event(session, actor=ana, title="Clusters meet Regions", timezone=BRUSSELS)


def errors_of(excinfo) -> dict[str, str]:
    return excinfo.value.errors


# ---- time --------------------------------------------------------------------------------


def test_local_to_utc_summer_and_winter_in_brussels():
    assert local_to_utc(wall(2030, 5, 14, 9, 0), BRUSSELS) == utc(2030, 5, 14, 7, 0)
    assert local_to_utc(wall(2030, 1, 15, 9, 0), BRUSSELS) == utc(2030, 1, 15, 8, 0)
    assert local_to_utc(wall(2030, 5, 14, 9, 0), "America/New_York") == utc(2030, 5, 14, 13, 0)


def test_local_to_utc_refuses_the_hour_skipped_in_spring_and_takes_the_first_in_autumn():
    # 2030-03-31: Brussels goes from 02:00 CET straight to 03:00 CEST
    with pytest.raises(ValueError, match="does not exist"):
        local_to_utc(wall(2030, 3, 31, 2, 30), BRUSSELS)
    # 2030-10-27: 02:30 happens twice; the first is still summer time (UTC+2)
    assert local_to_utc(wall(2030, 10, 27, 2, 30), BRUSSELS) == utc(2030, 10, 27, 0, 30)


def test_local_to_utc_at_the_ends_of_the_calendar_is_a_value_error():
    with pytest.raises(ValueError, match="between 2000 and 2200"):
        local_to_utc(wall(1, 1, 1, 0, 0), BRUSSELS)


def test_slot_times_with_a_break_and_a_remainder():
    # 09:00-10:40 UTC, 25-minute slots, 5-minute breaks: 09:00, 09:30, 10:00; 10:30+25 > 10:40
    slots = slot_times(utc(2030, 5, 14, 9, 0), utc(2030, 5, 14, 10, 40), 25, 5)

    assert slots == [
        (utc(2030, 5, 14, 9, 0), utc(2030, 5, 14, 9, 25)),
        (utc(2030, 5, 14, 9, 30), utc(2030, 5, 14, 9, 55)),
        (utc(2030, 5, 14, 10, 0), utc(2030, 5, 14, 10, 25)),
    ]


def test_slot_times_exact_fit_without_break():
    slots = slot_times(utc(2030, 5, 14, 9, 0), utc(2030, 5, 14, 10, 0), 20)

    assert [s for s, _ in slots] == [
        utc(2030, 5, 14, 9, 0),
        utc(2030, 5, 14, 9, 20),
        utc(2030, 5, 14, 9, 40),
    ]
    assert slots[-1][1] == utc(2030, 5, 14, 10, 0)


def test_slot_times_across_the_autumn_change_are_equal_in_real_time():
    # 01:30 CEST (23:30 UTC) to 02:30 CET (01:30 UTC) is two real hours: four 30-minute slots
    start = local_to_utc(wall(2030, 10, 27, 1, 30), BRUSSELS)
    end = datetime(2030, 10, 27, 2, 30, fold=1, tzinfo=timezone(timedelta(hours=1)))

    slots = slot_times(start, end, 30)

    assert start == utc(2030, 10, 26, 23, 30)
    assert [s for s, _ in slots] == [
        utc(2030, 10, 26, 23, 30),
        utc(2030, 10, 27, 0, 0),
        utc(2030, 10, 27, 0, 30),
        utc(2030, 10, 27, 1, 0),
    ]


# ---- the event ---------------------------------------------------------------------------


def test_create_event_is_a_draft_of_its_organiser_with_an_audit_row(session, ana):
    event = create_event(
        session,
        actor=ana,
        title="  Clusters meet Regions ",
        timezone=BRUSSELS,
        virtual_link_template="https://meet.example.org/atlas-{meeting}",
        registration_opens_at=datetime(2030, 4, 1, 9, 0, tzinfo=timezone(timedelta(hours=2))),
        max_meetings_per_participant=8,
    )

    assert event.status == EventStatus.draft
    assert event.organiser_id == ana.id
    assert event.title == "Clusters meet Regions"
    assert event.registration_opens_at == utc(2030, 4, 1, 7, 0)
    assert event.max_outstanding_requests == 10
    assert event.must_meet_weight == 3
    row = session.scalars(select(AuditLog).where(AuditLog.action == "event.created")).one()
    assert row.entity_id == event.id
    assert row.changes["timezone"] == BRUSSELS


def test_create_event_reports_every_field_error(session, ana):
    with pytest.raises(ValidationError) as excinfo:
        create_event(
            session,
            actor=ana,
            title=" ",
            timezone="Europe/Atlantis",
            virtual_link_template="https://meet.example.org/atlas",
            organisation_id=999_999,
            registration_opens_at=wall(2030, 4, 1, 9, 0),  # naive
            requests_deadline="tomorrow",
            max_meetings_per_participant=0,
            max_outstanding_requests=-1,
            must_meet_weight=0,
        )

    assert set(errors_of(excinfo)) == {
        "title",
        "timezone",
        "virtual_link_template",
        "organisation_id",
        "registration_opens_at",
        "requests_deadline",
        "max_meetings_per_participant",
        "max_outstanding_requests",
        "must_meet_weight",
    }
    assert "IANA" in errors_of(excinfo)["timezone"]
    assert "{meeting}" in errors_of(excinfo)["virtual_link_template"]
    assert "offset" in errors_of(excinfo)["registration_opens_at"]


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("ftp://meet.example.org/{meeting}", "https://"),
        ("meet.example.org/{meeting}", "https://"),
        ("https://meet.example.org/ {meeting}", "spaces"),
        ("https://" + "x" * 500 + "{meeting}", "500"),
    ],
)
def test_virtual_link_template_errors(session, ana, link, message):
    with pytest.raises(ValidationError) as excinfo:
        create_event(session, actor=ana, title="T", timezone="UTC", virtual_link_template=link)

    assert message in errors_of(excinfo)["virtual_link_template"]


def test_registration_must_close_after_it_opens(session, ana, draft):
    update_event(session, actor=ana, event=draft, registration_opens_at=utc(2030, 4, 1, 0, 0))

    with pytest.raises(ValidationError) as excinfo:
        update_event(session, actor=ana, event=draft, registration_closes_at=utc(2030, 3, 1, 0, 0))

    assert errors_of(excinfo) == {
        "registration_closes_at": "registration must close after it opens"
    }


def test_host_organisation_must_be_managed_by_the_organiser(session, ana, create_user, draft):
    own = make_organisation(session, "Volta Cells")
    other = make_organisation(session, "Nord Energie")
    session.add(OrganisationManager(organisation_id=own.id, user_id=ana.id))
    session.flush()

    update_event(session, actor=ana, event=draft, organisation_id=own.id)
    with pytest.raises(ValidationError) as excinfo:
        update_event(session, actor=ana, event=draft, organisation_id=other.id)

    assert draft.organisation_id == own.id
    assert errors_of(excinfo) == {"organisation_id": "choose an organisation that you manage"}


def test_update_event_records_the_diff_and_refuses_unknown_fields(session, ana, draft):
    update_event(session, actor=ana, event=draft, venue="Square, Brussels", title=draft.title)
    row = session.scalars(select(AuditLog).where(AuditLog.action == "event.updated")).one()

    assert row.changes == {"venue": [None, "Square, Brussels"]}
    with pytest.raises(ValidationError) as excinfo:
        update_event(session, actor=ana, event=draft, status="published")
    assert errors_of(excinfo) == {"status": "this field cannot be changed"}


def test_only_organisers_and_admins_edit_an_event(session, ana, create_user, draft):
    ben, admin = create_user(), create_user(admin=True)

    with pytest.raises(PermissionDenied):
        update_event(session, actor=ben, event=draft, venue="elsewhere")
    with pytest.raises(PermissionDenied):
        publish_event(session, actor=ben, event=draft)
    update_event(session, actor=admin, event=draft, venue="Square")

    assert draft.venue == "Square"


def test_unconfirmed_users_cannot_create_events(session, create_user):
    with pytest.raises(PermissionDenied):
        create_event(session, actor=create_user(confirmed=False), title="T", timezone="UTC")


def test_drafts_are_visible_to_their_organisers_only(session, ana, create_user, draft):
    ben = create_user()

    with pytest.raises(EventNotFound):
        get_event(session, draft.id, viewer=ben)
    with pytest.raises(EventNotFound):
        get_event(session, draft.id, viewer=None)
    assert get_event(session, draft.id, viewer=ana) is draft
    publish_event(session, actor=ana, event=draft)
    assert get_event(session, draft.id, viewer=None) is draft


def test_publish_only_a_draft_and_cancel_notifies_approved_participants(session, ana, create_user):
    event = make_event(session, ana, status=EventStatus.published)
    ben, cleo, dan = create_user("ben@example.org"), create_user(), create_user()
    add_participant(session, event, ben)
    add_participant(session, event, cleo, status=ParticipantStatus.pending)
    add_participant(session, event, dan, status=ParticipantStatus.withdrawn)

    with pytest.raises(ValidationError) as excinfo:
        publish_event(session, actor=ana, event=event)
    cancel_event(session, actor=ana, event=event, base_url="https://atlas.example.org")

    assert "only a draft" in errors_of(excinfo)["status"]
    assert event.status == EventStatus.cancelled
    notes = session.scalars(select(Notification)).all()
    assert [(n.user_id, n.link) for n in notes] == [(ben.id, f"/events/{event.id}")]
    mail = session.scalars(select(OutboxEmail)).one()
    assert mail.to == "ben@example.org"
    assert f"https://atlas.example.org/events/{event.id}" in mail.body
    with pytest.raises(ValidationError):
        cancel_event(session, actor=ana, event=event)
    with pytest.raises(ValidationError):
        update_event(session, actor=ana, event=event, venue="x")


# ---- sessions and slots ------------------------------------------------------------------


def test_add_session_generates_slots_and_sets_the_event_span(session, ana, draft):
    # 09:00-10:40 Brussels summer time = 07:00-08:40 UTC; 25-minute slots, 5-minute breaks
    block = add_session(
        session,
        actor=ana,
        event=draft,
        name="Morning",
        starts_at=local_to_utc(wall(2030, 5, 14, 9, 0), BRUSSELS),
        ends_at=local_to_utc(wall(2030, 5, 14, 10, 40), BRUSSELS),
        slot_minutes=25,
        break_minutes=5,
        tables=12,
    )

    slots = event_slots(session, draft)
    assert [(s.starts_at, s.ends_at) for s in slots] == [
        (utc(2030, 5, 14, 7, 0), utc(2030, 5, 14, 7, 25)),
        (utc(2030, 5, 14, 7, 30), utc(2030, 5, 14, 7, 55)),
        (utc(2030, 5, 14, 8, 0), utc(2030, 5, 14, 8, 25)),
    ]
    assert {s.tables for s in slots} == {12}
    assert {s.session_id for s in slots} == {block.id}
    assert (draft.starts_at, draft.ends_at) == (utc(2030, 5, 14, 7, 0), utc(2030, 5, 14, 8, 40))


def test_event_span_follows_sessions_added_and_deleted(session, ana, draft):
    morning = add_session(
        session,
        actor=ana,
        event=draft,
        name="Morning",
        starts_at=utc(2030, 1, 15, 8, 0),
        ends_at=utc(2030, 1, 15, 10, 0),
        slot_minutes=30,
        tables=5,
    )
    add_session(
        session,
        actor=ana,
        event=draft,
        name="Afternoon",
        starts_at=utc(2030, 1, 15, 13, 0),
        ends_at=utc(2030, 1, 15, 14, 0),
        slot_minutes=15,
        tables=5,
    )
    assert (draft.starts_at, draft.ends_at) == (utc(2030, 1, 15, 8, 0), utc(2030, 1, 15, 14, 0))
    assert len(event_slots(session, draft)) == 4 + 4

    delete_session(session, actor=ana, event_session=morning)

    assert (draft.starts_at, draft.ends_at) == (utc(2030, 1, 15, 13, 0), utc(2030, 1, 15, 14, 0))
    assert len(event_slots(session, draft)) == 4


def test_overlapping_sessions_are_refused_touching_ones_accepted(session, ana, draft):
    common = {"actor": ana, "event": draft, "slot_minutes": 30, "tables": 5}
    add_session(
        session, name="A", starts_at=utc(2030, 5, 14, 7), ends_at=utc(2030, 5, 14, 9), **common
    )

    with pytest.raises(ValidationError) as excinfo:
        add_session(
            session,
            name="B",
            starts_at=utc(2030, 5, 14, 8, 30),
            ends_at=utc(2030, 5, 14, 10),
            **common,
        )
    add_session(
        session, name="C", starts_at=utc(2030, 5, 14, 9), ends_at=utc(2030, 5, 14, 10), **common
    )

    assert errors_of(excinfo) == {"starts_at": 'this session overlaps "A"'}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "required"),
        ({"starts_at": wall(2030, 5, 14, 7)}, "starts_at", "offset"),
        ({"ends_at": utc(2030, 5, 14, 6)}, "ends_at", "end after"),
        ({"ends_at": utc(2030, 5, 15, 8)}, "ends_at", "24 hours"),
        ({"slot_minutes": 4}, "slot_minutes", "from 5"),
        ({"slot_minutes": 180}, "slot_minutes", "no slot of 180 minutes"),
        ({"break_minutes": -5}, "break_minutes", "from 0"),
        ({"tables": -1}, "tables", "from 0"),
        ({"tables": "many"}, "tables", "whole number"),
    ],
)
def test_add_session_field_errors(session, ana, draft, changes, field, message):
    values = {
        "name": "Morning",
        "starts_at": utc(2030, 5, 14, 7),
        "ends_at": utc(2030, 5, 14, 9),
        "slot_minutes": 30,
        "tables": 5,
    }
    with pytest.raises(ValidationError) as excinfo:
        add_session(session, actor=ana, event=draft, **(values | changes))

    assert field in errors_of(excinfo)
    assert message in errors_of(excinfo)[field]


def test_delete_session_refused_once_a_meeting_is_scheduled(session, ana, create_user):
    event = make_event(session, ana)
    a = add_participant(session, event, create_user())
    b = add_participant(session, event, create_user())
    slots = event_slots(session, event)
    add_meeting(session, a, b, slot=slots[1], table=1)

    with pytest.raises(ValidationError) as excinfo:
        delete_session(session, actor=ana, event_session=event.sessions[0])

    assert "1 meeting(s) are scheduled" in errors_of(excinfo)["session"]
    assert len(event_slots(session, event)) == 4


def test_delete_session_removes_its_slots_from_availability(session, ana, create_user):
    event = make_event(session, ana, slots=2)
    later = add_session(
        session,
        actor=ana,
        event=event,
        name="Afternoon",
        starts_at=utc(2030, 5, 14, 12),
        ends_at=utc(2030, 5, 14, 13),
        slot_minutes=30,
        tables=3,
    )
    first, _second, third, fourth = event_slots(session, event)
    ben = add_participant(session, event, create_user(), available=[first.id, third.id])

    delete_session(session, actor=ana, event_session=later)

    assert third.session_id == later.id
    assert fourth.session_id == later.id
    assert ben.available_slot_ids == [first.id]


def test_update_slot_tables_not_below_a_scheduled_table(session, ana, create_user):
    event = make_event(session, ana, tables=5)
    a = add_participant(session, event, create_user())
    b = add_participant(session, event, create_user())
    slot = event_slots(session, event)[0]
    add_meeting(session, a, b, slot=slot, table=4)

    with pytest.raises(ValidationError) as excinfo:
        update_slot(session, actor=ana, slot=slot, tables=3)
    update_slot(session, actor=ana, slot=slot, tables=4)

    assert "table 4" in errors_of(excinfo)["tables"]
    assert slot.tables == 4
    with pytest.raises(PermissionDenied):
        update_slot(session, actor=a.user, slot=slot, tables=9)


# ---- registration ------------------------------------------------------------------------


@pytest.fixture
def open_event(session, ana):
    return make_event(session, ana, max_meetings=8)


def test_registration_open_by_dates_and_status(session, ana):
    event = make_event(
        session,
        ana,
        registration_opens_at=utc(2030, 4, 1),
        registration_closes_at=utc(2030, 5, 1),
    )

    assert not registration_open(event, utc(2030, 3, 31, 23, 59))
    assert registration_open(event, utc(2030, 4, 1))
    assert registration_open(event, utc(2030, 4, 30, 23, 59))
    assert not registration_open(event, utc(2030, 5, 1))
    event.status = EventStatus.draft
    assert not registration_open(event, utc(2030, 4, 15))
    event.registration_closes_at = None
    event.status = EventStatus.published
    assert not registration_open(event, event.ends_at)  # over


def test_register_approved_at_once_with_defaults(session, create_user, open_event):
    ben = create_user("ben.de-vries@example.org")

    participant = register(session, actor=ben, event=open_event, now=utc(2030, 4, 1))

    assert participant.status == ParticipantStatus.approved
    assert participant.display_name == "Ben De Vries"
    assert participant.available_slot_ids is None
    assert participant.decided_at == utc(2030, 4, 1)
    assert session.scalars(select(Notification)).all() == []


def test_register_pending_when_approval_required_and_organiser_told(session, ana, create_user):
    event = make_event(session, ana, requires_approval=True)
    ben = create_user()

    participant = register(session, actor=ben, event=event, display_name="Ben", now=utc(2030, 4, 1))

    assert participant.status == ParticipantStatus.pending
    note = session.scalars(select(Notification)).one()
    assert note.user_id == ana.id
    assert note.link == f"/events/{event.id}/manage"


def test_register_errors(session, ana, create_user, open_event):
    ben = create_user()
    own = make_organisation(session, "Volta Cells")
    other = make_organisation(session, "Nord Energie")
    session.add(OrganisationManager(organisation_id=own.id, user_id=ben.id))
    session.flush()

    with pytest.raises(ValidationError) as excinfo:
        register(
            session,
            actor=ben,
            event=open_event,
            organisation_id=other.id,
            max_meetings=9,
            display_name="x" * 201,
            now=utc(2030, 4, 1),
        )
    assert errors_of(excinfo) == {
        "organisation_id": "choose an organisation that you manage",
        "max_meetings": "enter a whole number from 0 to 8 (the event's limit)",
        "display_name": "use at most 200 characters",
    }

    participant = register(
        session, actor=ben, event=open_event, organisation_id=own.id, max_meetings=8,
        now=utc(2030, 4, 1),
    )  # fmt: skip
    assert participant.organisation_id == own.id
    with pytest.raises(ValidationError) as excinfo:
        register(session, actor=ben, event=open_event, now=utc(2030, 4, 1))
    assert errors_of(excinfo) == {"event": "you are already registered for this event (approved)"}


def test_register_refused_when_closed_draft_or_unconfirmed(session, ana, create_user):
    closed = make_event(session, ana, registration_closes_at=utc(2030, 1, 1))
    draft = make_event(session, ana, status=EventStatus.draft)

    with pytest.raises(ValidationError) as excinfo:
        register(session, actor=create_user(), event=closed, now=utc(2030, 2, 1))
    assert errors_of(excinfo) == {"status": "registration for this event is closed"}
    with pytest.raises(ValidationError) as excinfo:
        register(session, actor=create_user(), event=draft, now=utc(2030, 2, 1))
    assert errors_of(excinfo) == {"status": "this event is draft: no registration"}
    with pytest.raises(PermissionDenied):
        register(session, actor=create_user(confirmed=False), event=closed)


def test_approve_decline_notify_and_check_status(session, ana, create_user):
    event = make_event(session, ana, requires_approval=True)
    ben, cleo = create_user("ben@example.org"), create_user("cleo@example.org")
    pb = add_participant(session, event, ben, status=ParticipantStatus.pending)
    pc = add_participant(session, event, cleo, status=ParticipantStatus.pending)

    with pytest.raises(PermissionDenied):
        approve(session, actor=cleo, participant=pb)
    approve(session, actor=ana, participant=pb, now=utc(2030, 4, 2))
    decline(session, actor=ana, participant=pc)
    with pytest.raises(ValidationError) as excinfo:
        approve(session, actor=ana, participant=pb)

    assert pb.status == ParticipantStatus.approved
    assert pb.decided_at == utc(2030, 4, 2)
    assert pc.status == ParticipantStatus.declined
    assert "approved cannot be approved" in errors_of(excinfo)["status"]
    subjects = {
        n.user_id: n.subject
        for n in session.scalars(select(Notification).order_by(Notification.id))
    }
    assert subjects == {
        ben.id: "You are in: Clusters meet Regions",
        cleo.id: "Registration declined: Clusters meet Regions",
    }
    assert [m.to for m in session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))] == [
        "ben@example.org",
        "cleo@example.org",
    ]


def test_withdraw_then_register_again(session, ana, create_user, open_event):
    ben = create_user()
    participant = register(session, actor=ben, event=open_event, now=utc(2030, 4, 1))

    with pytest.raises(PermissionDenied):
        withdraw(session, actor=ana, participant=participant)
    withdraw(session, actor=ben, participant=participant)
    assert participant.status == ParticipantStatus.withdrawn
    with pytest.raises(ValidationError):
        withdraw(session, actor=ben, participant=participant)
    again = register(session, actor=ben, event=open_event, headline="Back", now=utc(2030, 4, 2))

    assert again.id == participant.id
    assert again.status == ParticipantStatus.approved
    assert again.headline == "Back"


def test_update_registration(session, ana, create_user, open_event):
    ben = create_user()
    participant = add_participant(session, open_event, ben)

    update_registration(
        session,
        actor=ben,
        participant=participant,
        job_title="CTO",
        headline="Looking for pilot sites",
        auto_accept=True,
        max_meetings=3,
    )
    with pytest.raises(ValidationError) as excinfo:
        update_registration(session, actor=ben, participant=participant, display_name=" ")
    with pytest.raises(ValidationError) as unknown:
        update_registration(session, actor=ben, participant=participant, status="approved")
    with pytest.raises(PermissionDenied):
        update_registration(session, actor=ana, participant=participant, job_title="x")

    assert (participant.job_title, participant.auto_accept, participant.max_meetings) == (
        "CTO",
        True,
        3,
    )
    assert errors_of(excinfo) == {"display_name": "this field is required"}
    assert errors_of(unknown) == {"status": "this field cannot be changed"}


def test_default_display_name():
    assert default_display_name("ana.lopez@example.org") == "Ana Lopez"
    assert default_display_name("jean-luc_picard+events@example.org") == "Jean Luc Picard"


# ---- availability ------------------------------------------------------------------------


def test_set_availability_stores_ids_or_none_for_all(session, ana, create_user, open_event):
    ben = create_user()
    participant = add_participant(session, open_event, ben)
    s1, s2, s3, s4 = (slot.id for slot in event_slots(session, open_event))

    set_availability(session, actor=ben, participant=participant, slot_ids=[s3, s1, s1])
    assert participant.available_slot_ids == [s1, s3]
    set_availability(session, actor=ben, participant=participant, slot_ids=[s4, s3, s2, s1])
    assert participant.available_slot_ids is None
    set_availability(session, actor=ben, participant=participant, slot_ids=[])
    assert participant.available_slot_ids == []


def test_set_availability_refuses_unknown_slots_and_others(session, ana, create_user, open_event):
    ben = create_user()
    participant = add_participant(session, open_event, ben)
    elsewhere = make_event(session, ana, title="Other")
    foreign = event_slots(session, elsewhere)[0].id

    with pytest.raises(ValidationError) as excinfo:
        set_availability(session, actor=ben, participant=participant, slot_ids=[foreign])
    with pytest.raises(PermissionDenied):
        set_availability(session, actor=ana, participant=participant, slot_ids=None)

    assert errors_of(excinfo) == {"available_slot_ids": f"not slots of this event: {foreign}"}


# ---- items -------------------------------------------------------------------------------


def test_items_create_edit_delete(session, ana, create_user, open_event):
    ben = create_user()
    participant = add_participant(session, open_event, ben)

    item = add_item(
        session,
        actor=ben,
        participant=participant,
        kind="offer",
        title="Pilot line access",
        keywords="batteries, recycling",
    )
    update_item(session, actor=ben, item=item, kind="expertise", body="20 years")
    assert (item.kind.value, item.body, item.keywords) == (
        "expertise",
        "20 years",
        ["batteries", "recycling"],
    )
    with pytest.raises(ValidationError) as excinfo:
        add_item(session, actor=ben, participant=participant, kind="gift", title="")
    assert set(errors_of(excinfo)) == {"kind", "title"}
    with pytest.raises(PermissionDenied):
        update_item(session, actor=ana, item=item, title="mine")
    assert list_items(session, event=open_event) == [item]

    delete_item(session, actor=ana, item=item)  # the organiser may remove it

    assert list_items(session, event=open_event) == []


def test_items_of_unapproved_participants_are_not_listed(session, ana, create_user, open_event):
    ben = create_user()
    pending = add_participant(session, open_event, ben, status=ParticipantStatus.pending)
    item = add_item(session, actor=ben, participant=pending, kind="request", title="Funding")

    assert list_items(session, event=open_event) == []
    assert list_items(session, event=open_event, viewer_participant=pending) == [item]


# ---- reads -------------------------------------------------------------------------------


def test_list_events_upcoming_and_mine(session, ana, create_user):
    ben = create_user()
    now = utc(2030, 5, 1)
    later = make_event(session, ana, title="Later", start=utc(2030, 6, 1, 7))
    sooner = make_event(session, ana, title="Sooner", start=utc(2030, 5, 10, 7))
    make_event(session, ana, title="Past", start=utc(2030, 4, 1, 7))
    draft = make_event(session, ana, title="Draft", status=EventStatus.draft)
    add_participant(session, later, ben)

    upcoming, count = list_events(session, viewer=None, now=now)
    mine, _ = list_events(session, viewer=ben, mine=True, now=now)
    organised, total = list_events(session, viewer=ana, mine=True, now=now)

    assert [e.title for e in upcoming] == ["Sooner", "Later"]
    assert count == 2
    assert mine == [later]
    assert total == 4
    assert draft in organised
    assert sooner in organised


def test_list_participants_filters_and_visibility(session, ana, create_user, open_event):
    volta = make_organisation(session, "Volta Cells", country="DE")
    nord = make_organisation(session, "Nord Energie", country="FR")
    nord.type = OrganisationType.research_organisation
    ben, cleo, dan, eve = (create_user() for _ in range(4))
    pb = add_participant(session, open_event, ben, name="Ben", organisation=volta)
    pc = add_participant(
        session, open_event, cleo, name="Cleo", organisation=nord, headline="Hydrogen 100%"
    )
    add_participant(session, open_event, dan, name="Dan", status=ParticipantStatus.pending)

    def names(**filters):
        return [p.display_name for p in list_participants(session, event=open_event, **filters)]

    assert names(viewer=ben) == ["Ben", "Cleo"]
    assert names(viewer=ana, text="volta") == ["Ben"]
    assert names(viewer=ana, text="100%") == ["Cleo"]
    assert names(viewer=ana, text="10_%") == []
    assert names(viewer=ana, country="fr") == ["Cleo"]
    assert names(viewer=ana, organisation_type="research_organisation") == ["Cleo"]
    assert names(viewer=ana, status=None) == ["Ben", "Cleo", "Dan"]
    assert pb.id != pc.id
    with pytest.raises(PermissionDenied):
        list_participants(session, viewer=dan, event=open_event)
    with pytest.raises(PermissionDenied):
        list_participants(session, viewer=eve, event=open_event)
    with pytest.raises(PermissionDenied):
        list_participants(session, viewer=ben, event=open_event, status=None)
