"""``/api/events`` on SQLite and PostgreSQL: every route for success, 201 on create, 422 with
the field named (naive times, unknown time zones, overlapping sessions, unknown slots…), 401
for visitors, 403 for non-organisers, 404 for drafts of others and ids of other events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.events import event_slots
from clusteratlas.collaboration.models import (
    EventStatus,
    Notification,
    OrganisationManager,
    ParticipantStatus,
)
from collaboration.event_fixtures import add_meeting, add_participant, make_event, make_organisation
from web.event_fixtures import errors_of

pytestmark = pytest.mark.integration


@pytest.fixture
def people(create_user, auth):
    ana, ben, cleo = (
        create_user("ana@example.org"),
        create_user("ben.de-vries@example.org"),
        create_user("cleo@example.org"),
    )
    return {
        "ana": (ana, auth(ana)),
        "ben": (ben, auth(ben)),
        "cleo": (cleo, auth(cleo)),
    }


def _create(client, headers, **values):
    body = {"title": "Clusters meet Regions", "timezone": "Europe/Brussels"} | values
    return client.post("/api/events", json=body, headers=headers)


# ---- events ------------------------------------------------------------------------------


def test_create_read_and_draft_visibility(client, people):
    ana, ana_h = people["ana"]
    _ben, ben_h = people["ben"]

    created = _create(
        client,
        ana_h,
        registration_closes_at="2030-05-01T18:00:00+02:00",
        virtual_link_template="https://meet.example.org/atlas-{meeting}",
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "draft"
    assert body["organiser_id"] == ana.id
    assert body["registration_closes_at"] == "2030-05-01T16:00:00Z"
    assert body["registration_open"] is False
    event_id = body["id"]
    assert client.get(f"/api/events/{event_id}", headers=ana_h).status_code == 200
    assert client.get(f"/api/events/{event_id}", headers=ben_h).status_code == 404
    assert client.get(f"/api/events/{event_id}").status_code == 404
    assert client.get("/api/events").json() == {"data": [], "count": 0}
    mine = client.get("/api/events?mine=true", headers=ana_h).json()
    assert [e["id"] for e in mine["data"]] == [event_id]


def test_create_field_errors(client, people):
    _ana, ana_h = people["ana"]

    errors = errors_of(
        _create(
            client,
            ana_h,
            title="",
            timezone="Mars/Olympus",
            virtual_link_template="https://meet.example.org/x",
            must_meet_weight=0,
        )
    )
    naive = errors_of(_create(client, ana_h, requests_deadline="2030-05-01T18:00:00"))

    assert set(errors) == {"title", "timezone", "virtual_link_template", "must_meet_weight"}
    assert set(naive) == {"requests_deadline"}


def test_create_needs_a_token(client):
    assert _create(client, {}).status_code == 401


def test_patch_publish_cancel_and_permissions(client, session, people):
    ana, ana_h = people["ana"]
    ben, ben_h = people["ben"]
    event_id = _create(client, ana_h).json()["id"]

    patched = client.patch(f"/api/events/{event_id}", json={"venue": "Square"}, headers=ana_h)
    null_title = client.patch(f"/api/events/{event_id}", json={"title": None}, headers=ana_h)
    published = client.post(f"/api/events/{event_id}/publish", headers=ana_h)
    by_ben = client.patch(f"/api/events/{event_id}", json={"venue": "x"}, headers=ben_h)
    again = client.post(f"/api/events/{event_id}/publish", headers=ana_h)

    assert patched.json()["venue"] == "Square"
    assert errors_of(null_title) == {"title": "give a value or leave the field out"}
    assert published.json()["status"] == "published"
    assert by_ben.status_code == 403
    assert "status" in errors_of(again)
    event = make_event(session, ana)  # a published event with an approved participant
    add_participant(session, event, ben)
    assert client.post(f"/api/events/{event.id}/cancel", headers=ben_h).status_code == 403
    cancelled = client.post(f"/api/events/{event.id}/cancel", headers=ana_h)
    assert cancelled.json()["status"] == "cancelled"
    note = session.scalars(select(Notification).where(Notification.user_id == ben.id)).one()
    assert note.subject == "Cancelled: Clusters meet Regions"


def test_list_upcoming_events_for_visitors(client, session, people):
    ana, _ = people["ana"]
    later = make_event(session, ana, title="Later", start=datetime(2031, 6, 1, 7, tzinfo=UTC))
    sooner = make_event(session, ana, title="Sooner", start=datetime(2031, 5, 1, 7, tzinfo=UTC))
    make_event(session, ana, title="Draft", status=EventStatus.draft)

    body = client.get("/api/events").json()

    assert [e["id"] for e in body["data"]] == [sooner.id, later.id]
    assert body["count"] == 2


# ---- sessions and slots ------------------------------------------------------------------


def test_sessions_generate_slots_in_utc(client, people):
    _ana, ana_h = people["ana"]
    event_id = _create(client, ana_h).json()["id"]

    # 09:00-10:40 in Brussels in May (UTC+2); 25-minute slots with 5-minute breaks
    added = client.post(
        f"/api/events/{event_id}/sessions",
        json={
            "name": "Morning",
            "starts_at": "2030-05-14T09:00:00+02:00",
            "ends_at": "2030-05-14T10:40:00+02:00",
            "slot_minutes": 25,
            "break_minutes": 5,
            "tables": 10,
        },
        headers=ana_h,
    )

    assert added.status_code == 201, added.text
    slots = added.json()["slots"]
    assert [(s["starts_at"], s["ends_at"]) for s in slots] == [
        ("2030-05-14T07:00:00Z", "2030-05-14T07:25:00Z"),
        ("2030-05-14T07:30:00Z", "2030-05-14T07:55:00Z"),
        ("2030-05-14T08:00:00Z", "2030-05-14T08:25:00Z"),
    ]
    event = client.get(f"/api/events/{event_id}", headers=ana_h).json()
    assert (event["starts_at"], event["ends_at"]) == (
        "2030-05-14T07:00:00Z",
        "2030-05-14T08:40:00Z",
    )
    listed = client.get(f"/api/events/{event_id}/slots", headers=ana_h).json()
    assert listed["count"] == 3


def test_session_errors_overlap_and_naive(client, people):
    _ana, ana_h = people["ana"]
    _ben, ben_h = people["ben"]
    event_id = _create(client, ana_h).json()["id"]
    body = {
        "name": "Morning",
        "starts_at": "2030-05-14T09:00:00+02:00",
        "ends_at": "2030-05-14T11:00:00+02:00",
        "slot_minutes": 30,
        "tables": 4,
    }
    url = f"/api/events/{event_id}/sessions"
    assert client.post(url, json=body, headers=ana_h).status_code == 201

    overlap = client.post(url, json=body | {"name": "Again"}, headers=ana_h)
    naive = client.post(url, json=body | {"starts_at": "2030-05-14T12:00:00"}, headers=ana_h)
    short = client.post(
        url,
        json=body | {"starts_at": "2030-05-14T12:00:00Z", "ends_at": "2030-05-14T12:10:00Z"},
        headers=ana_h,
    )
    other = client.post(url, json=body, headers=ben_h)

    assert errors_of(overlap) == {"starts_at": 'this session overlaps "Morning"'}
    assert set(errors_of(naive)) == {"starts_at"}
    assert errors_of(short) == {"slot_minutes": "no slot of 30 minutes fits in this session"}
    assert other.status_code == 404  # a draft of someone else


def test_delete_session_and_patch_slot(client, session, people):
    ana, ana_h = people["ana"]
    ben, _ = people["ben"]
    cleo, _ = people["cleo"]
    event = make_event(session, ana, tables=5)
    other = make_event(session, ana, title="Other")
    block = event.sessions[0]
    slots = event_slots(session, event)
    pb, pc = add_participant(session, event, ben), add_participant(session, event, cleo)
    meeting = add_meeting(session, pb, pc, slot=slots[0], table=3)

    refused = client.delete(f"/api/events/{event.id}/sessions/{block.id}", headers=ana_h)
    low = client.patch(
        f"/api/events/{event.id}/slots/{slots[0].id}", json={"tables": 2}, headers=ana_h
    )
    ok = client.patch(
        f"/api/events/{event.id}/slots/{slots[1].id}", json={"tables": 2}, headers=ana_h
    )
    wrong_event = client.patch(
        f"/api/events/{other.id}/slots/{slots[1].id}", json={"tables": 2}, headers=ana_h
    )

    assert "session" in errors_of(refused)
    assert "table 3" in errors_of(low)["tables"]
    assert ok.json()["tables"] == 2
    assert wrong_event.status_code == 404
    meeting.slot_id = None
    session.flush()
    deleted = client.delete(f"/api/events/{event.id}/sessions/{block.id}", headers=ana_h)
    assert deleted.status_code == 204
    assert client.get(f"/api/events/{event.id}/slots").json() == {"data": [], "count": 0}


# ---- registrations -----------------------------------------------------------------------


def test_register_once_and_read_mine(client, session, people):
    ana, _ = people["ana"]
    _ben, ben_h = people["ben"]
    event = make_event(session, ana, max_meetings=6)
    url = f"/api/events/{event.id}/registrations"

    created = client.post(url, json={"headline": "Batteries", "max_meetings": 4}, headers=ben_h)
    twice = client.post(url, json={}, headers=ben_h)
    too_many = client.patch(f"{url}/me", json={"max_meetings": 7}, headers=ben_h)
    mine = client.get(f"{url}/me", headers=ben_h)

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "approved"
    assert created.json()["display_name"] == "Ben De Vries"
    assert errors_of(twice) == {"event": "you are already registered for this event (approved)"}
    assert "the event's limit" in errors_of(too_many)["max_meetings"]
    assert mine.json()["max_meetings"] == 4
    assert client.get(f"{url}/me", headers=people["cleo"][1]).status_code == 404


def test_register_with_approval_then_approve_and_decline(client, session, people):
    ana, ana_h = people["ana"]
    ben, ben_h = people["ben"]
    cleo, cleo_h = people["cleo"]
    event = make_event(session, ana, requires_approval=True)
    url = f"/api/events/{event.id}/registrations"
    pb = client.post(url, json={}, headers=ben_h).json()
    pc = client.post(url, json={}, headers=cleo_h).json()

    listed = client.get(f"{url}?status=pending", headers=ana_h).json()
    by_ben = client.post(f"{url}/{pc['id']}/approve", headers=ben_h)
    approved = client.post(f"{url}/{pb['id']}/approve", headers=ana_h)
    declined = client.post(f"{url}/{pc['id']}/decline", headers=ana_h)

    assert pb["status"] == "pending"
    assert [p["id"] for p in listed["data"]] == [pb["id"], pc["id"]]
    assert by_ben.status_code == 403
    assert client.get(url, headers=ben_h).status_code == 403
    assert approved.json()["status"] == "approved"
    assert declined.json()["status"] == "declined"
    told = {
        n.user_id: n.subject
        for n in session.scalars(select(Notification).where(Notification.user_id != ana.id))
    }
    assert told == {
        ben.id: "You are in: Clusters meet Regions",
        cleo.id: "Registration declined: Clusters meet Regions",
    }
    other = make_event(session, ana, title="Other")
    elsewhere = f"/api/events/{other.id}/registrations/{pb['id']}/approve"
    assert client.post(elsewhere, headers=ana_h).status_code == 404


def test_register_closed_and_withdraw(client, session, people):
    ana, _ = people["ana"]
    _ben, ben_h = people["ben"]
    closed = make_event(
        session, ana, registration_closes_at=datetime(2020, 1, 1, tzinfo=UTC), title="Closed"
    )
    event = make_event(session, ana)

    refused = client.post(f"/api/events/{closed.id}/registrations", json={}, headers=ben_h)
    client.post(f"/api/events/{event.id}/registrations", json={}, headers=ben_h)
    withdrawn = client.post(f"/api/events/{event.id}/registrations/me/withdraw", headers=ben_h)

    assert errors_of(refused) == {"status": "registration for this event is closed"}
    assert withdrawn.json()["status"] == "withdrawn"


def test_register_for_an_organisation_you_manage(client, session, people):
    ana, _ = people["ana"]
    ben, ben_h = people["ben"]
    own, other = make_organisation(session, "Volta Cells"), make_organisation(session, "Nord")
    session.add(OrganisationManager(organisation_id=own.id, user_id=ben.id))
    session.flush()
    event = make_event(session, ana)
    url = f"/api/events/{event.id}/registrations"

    refused = client.post(url, json={"organisation_id": other.id}, headers=ben_h)
    created = client.post(url, json={"organisation_id": own.id}, headers=ben_h)

    assert errors_of(refused) == {"organisation_id": "choose an organisation that you manage"}
    assert created.json()["organisation"] == {
        "id": own.id,
        "name": "Volta Cells",
        "country": "BE",
        "type": "company",
    }


# ---- availability ------------------------------------------------------------------------


def test_availability(client, session, people):
    ana, _ = people["ana"]
    ben, ben_h = people["ben"]
    event = make_event(session, ana)
    add_participant(session, event, ben)
    s1, s2, _s3, _s4 = (slot.id for slot in event_slots(session, event))
    url = f"/api/events/{event.id}/registrations/me/availability"

    default = client.get(url, headers=ben_h).json()
    chosen = client.put(url, json={"slot_ids": [s2, s1]}, headers=ben_h).json()
    unknown = client.put(url, json={"slot_ids": [s1, 999_999]}, headers=ben_h)
    everything = client.put(url, json={"slot_ids": None}, headers=ben_h).json()

    assert default["available_slot_ids"] is None
    assert chosen["available_slot_ids"] == [s1, s2]
    assert errors_of(unknown) == {"available_slot_ids": "not slots of this event: 999999"}
    assert everything["available_slot_ids"] is None


# ---- items and the directory -------------------------------------------------------------


def test_items_crud_and_visibility_of_names(client, session, people):
    ana, ana_h = people["ana"]
    ben, ben_h = people["ben"]
    _cleo, cleo_h = people["cleo"]
    event = make_event(session, ana)
    add_participant(session, event, ben, name="Ben")
    url = f"/api/events/{event.id}/items"

    created = client.post(
        url, json={"kind": "offer", "title": "Pilot line", "keywords": ["batteries"]}, headers=ben_h
    )
    item_id = created.json()["id"]
    bad = client.post(url, json={"kind": "offer", "title": " "}, headers=ben_h)
    not_registered = client.post(url, json={"kind": "offer", "title": "x"}, headers=cleo_h)
    edited = client.patch(f"{url}/{item_id}", json={"kind": "expertise"}, headers=ben_h)
    by_cleo = client.patch(f"{url}/{item_id}", json={"title": "mine"}, headers=cleo_h)
    public = client.get(url).json()
    for_ben = client.get(url, headers=ben_h).json()

    assert created.status_code == 201
    assert errors_of(bad) == {"title": "this field is required"}
    assert not_registered.status_code == 404
    assert edited.json()["kind"] == "expertise"
    assert by_cleo.status_code == 403
    assert public["data"][0]["participant_name"] is None
    assert for_ben["data"][0]["participant_name"] == "Ben"
    assert client.delete(f"{url}/{item_id}", headers=cleo_h).status_code == 403
    assert client.delete(f"{url}/{item_id}", headers=ana_h).status_code == 204
    assert client.get(url).json()["count"] == 0


def test_participant_directory_filters_and_access(client, session, people):
    ana, ana_h = people["ana"]
    ben, ben_h = people["ben"]
    _cleo, cleo_h = people["cleo"]
    event = make_event(session, ana)
    volta = make_organisation(session, "Volta Cells", country="DE")
    add_participant(session, event, ben, name="Ben", organisation=volta)
    dan = add_participant(session, event, ana, name="Ana", status=ParticipantStatus.pending)
    url = f"/api/events/{event.id}/participants"

    all_ = client.get(url, headers=ben_h).json()
    german = client.get(f"{url}?country=de", headers=ana_h).json()
    french = client.get(f"{url}?country=FR", headers=ana_h).json()
    text = client.get(f"{url}?text=volta", headers=ana_h).json()

    assert [p["display_name"] for p in all_["data"]] == ["Ben"]
    assert all_["data"][0]["auto_accept"] is False  # his own card, in full
    assert [p["display_name"] for p in german["data"]] == ["Ben"]
    assert french["count"] == 0
    assert text["count"] == 1
    assert dan.status == ParticipantStatus.pending
    assert client.get(url, headers=cleo_h).status_code == 403
    assert client.get(url).status_code == 401
