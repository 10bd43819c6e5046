"""The on-the-day API on SQLite and PostgreSQL: check-in, held/absent/undo, outcomes, standby
pairing end to end, the dashboard JSON and the organisations' histories; 401, 403, 404 and
422 with the field named. The event runs now (its first slot started five minutes ago)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import (
    Meeting,
    MeetingOrigin,
    Notification,
    ScheduleVersion,
    utcnow,
)
from collaboration.event_fixtures import (
    add_meeting,
    add_participant,
    make_event,
    make_organisation,
)
from web.event_fixtures import errors_of

pytestmark = pytest.mark.integration


@pytest.fixture
def running(session, create_user):
    """Slot 0 of 30 minutes started 5 minutes ago. Ana (Volta) meets Ben in slot 0 at table
    3 and Cleo in slot 1; Dan is on standby. Ana and Dan are checked in, Ben is not."""
    start = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    organiser = create_user("org@example.org")
    event = make_event(session, organiser, start=start)
    volta = make_organisation(session, "Volta", country="DE")
    users = {n: create_user(f"{n}@example.org") for n in ("ana", "ben", "cleo", "dan")}
    people = {
        "ana": add_participant(session, event, users["ana"], name="Ana", organisation=volta),
        "ben": add_participant(session, event, users["ben"], name="Ben"),
        "cleo": add_participant(session, event, users["cleo"], name="Cleo"),
        "dan": add_participant(session, event, users["dan"], name="Dan", on_standby=True),
    }
    s = event.slots
    m1 = add_meeting(session, people["ana"], people["ben"], slot=s[0], table=3)
    m2 = add_meeting(session, people["ana"], people["cleo"], slot=s[1], table=1)
    session.add(
        ScheduleVersion(
            event_id=event.id,
            version=1,
            assignments={
                str(m1.id): {"slot": s[0].id, "table": 3},
                str(m2.id): {"slot": s[1].id, "table": 1},
            },
        )
    )
    people["ana"].checked_in_at = people["dan"].checked_in_at = start
    session.flush()
    return organiser, event, users, people, (m1, m2), volta


def test_today_for_a_participant(client, auth, running, create_user):
    _org, event, users, people, (m1, m2), _volta = running

    anonymous = client.get(f"/api/events/{event.id}/today")
    stranger = client.get(f"/api/events/{event.id}/today", headers=auth(create_user()))
    unknown = client.get("/api/events/999999/today", headers=auth(users["ana"]))
    mine = client.get(f"/api/events/{event.id}/today", headers=auth(users["ana"]))

    assert anonymous.status_code == 401
    assert stranger.status_code == 403
    assert unknown.status_code == 404
    body = mine.json()
    assert body["participant"]["display_name"] == "Ana"
    assert [(m["id"], m["table"], m["state"]) for m in body["meetings"]] == [
        (m1.id, 3, "open"),
        (m2.id, 1, "open"),
    ]
    assert [(f["meeting_id"], f["absent"]["id"], f["marked"]) for f in body["freed"]] == [
        (m1.id, people["ben"].id, False)  # Ben is not checked in and the slot started
    ]


def test_check_in_and_undo(client, auth, running, session):
    organiser, event, users, people, _m, _volta = running
    url = f"/api/events/{event.id}/checkin"

    own = client.post(url, json={}, headers=auth(users["ben"]))
    by_other = client.post(
        url, json={"participant_id": people["cleo"].id}, headers=auth(users["ben"])
    )
    by_organiser = client.post(
        url, json={"participant_id": people["cleo"].id}, headers=auth(organiser)
    )
    unknown = client.post(url, json={"participant_id": 999999}, headers=auth(organiser))
    desk = client.get(url, headers=auth(organiser))
    desk_refused = client.get(url, headers=auth(users["ben"]))
    undone = client.delete(url, headers=auth(users["ben"]))

    assert own.status_code == 200
    assert own.json()["checked_in_at"] is not None
    assert by_other.status_code == 403
    assert by_organiser.status_code == 200
    assert errors_of(unknown) == {"participant_id": "no participant with this id at this event"}
    assert (desk.json()["checked_in"], desk.json()["approved"]) == (4, 4)
    assert desk_refused.status_code == 403
    assert undone.json()["checked_in_at"] is None
    session.refresh(people["ben"])
    assert people["ben"].checked_in_at is None


def test_held_absent_undo_and_outcome(client, auth, running, session, create_user):
    organiser, event, users, people, (m1, m2), _volta = running
    base = f"/api/events/{event.id}/day/meetings"

    early = client.post(f"{base}/{m2.id}/held", headers=auth(users["ana"]))
    not_side = client.post(f"{base}/{m1.id}/held", headers=auth(users["cleo"]))
    elsewhere = make_event(session, create_user(), title="Other")
    wrong_event = client.post(
        f"/api/events/{elsewhere.id}/day/meetings/{m1.id}/held", headers=auth(users["ana"])
    )
    self_absent = client.post(
        f"{base}/{m1.id}/absent",
        json={"participant_id": people["ana"].id},
        headers=auth(users["ana"]),
    )
    held = client.post(f"{base}/{m1.id}/held", headers=auth(users["ben"]))
    bad_outcome = client.put(
        f"{base}/{m1.id}/outcome", json={"outcome": "great"}, headers=auth(users["ana"])
    )
    outcome = client.put(
        f"{base}/{m1.id}/outcome", json={"outcome": "partnership"}, headers=auth(users["ana"])
    )
    by_organiser = client.put(
        f"{base}/{m1.id}/outcome",
        json={"outcome": "follow_up", "side": "b"},
        headers=auth(organiser),
    )

    assert errors_of(early) == {"meeting": "this meeting's slot has not started yet"}
    assert not_side.status_code == 403
    assert wrong_event.status_code == 404
    assert list(errors_of(self_absent)) == ["participant_id"]
    assert held.json()["state"] == "held"
    assert list(errors_of(bad_outcome)) == ["outcome"]
    assert outcome.json()["outcome_a"] == "partnership"
    assert by_organiser.json()["outcome_b"] == "follow_up"

    absent = client.post(
        f"{base}/{m1.id}/absent",
        json={"participant_id": people["ben"].id},
        headers=auth(users["ana"]),
    )
    assert (absent.json()["state"], absent.json()["outcome_a"]) == ("absent", None)
    undone = client.delete(f"{base}/{m1.id}/attendance", headers=auth(users["ana"]))
    assert (undone.json()["state"], undone.json()["absent_participant_id"]) == ("open", None)


def test_standby_pairing_end_to_end(client, auth, running, session, create_user):
    organiser, event, users, people, (m1, _m2), _volta = running
    slot = event.slots[0]
    url = f"/api/events/{event.id}/day/standby"

    mine = client.get(url, params={"slot_id": slot.id}, headers=auth(users["ana"]))
    others = client.get(
        url,
        params={"slot_id": slot.id, "participant_id": people["ana"].id},
        headers=auth(users["cleo"]),
    )
    refused = client.post(
        url,
        json={
            "slot_id": slot.id,
            "participant_id": people["ana"].id,
            "partner_id": people["dan"].id,
        },
        headers=auth(users["cleo"]),
    )
    paired = client.post(
        url,
        json={
            "slot_id": slot.id,
            "participant_id": people["ana"].id,
            "partner_id": people["dan"].id,
        },
        headers=auth(users["ana"]),
    )

    assert [c["participant"]["display_name"] for c in mine.json()["data"]] == ["Dan"]
    assert others.status_code == 403
    assert refused.status_code == 403
    assert paired.status_code == 201, paired.text
    body = paired.json()
    assert (body["origin"], body["slot_id"], body["table"]) == ("standby", slot.id, 3)
    assert (body["a"]["id"], body["b"]["id"]) == (people["ana"].id, people["dan"].id)
    meeting = session.get(Meeting, body["id"])
    assert (meeting.origin, meeting.request_id) == (MeetingOrigin.standby, None)
    told = session.scalars(
        select(Notification.user_id).where(Notification.subject.like("Standby meeting now%"))
    ).all()
    assert sorted(told) == sorted([users["ana"].id, users["dan"].id])
    again = client.post(
        url,
        json={
            "slot_id": slot.id,
            "participant_id": people["ana"].id,
            "partner_id": people["dan"].id,
        },
        headers=auth(organiser),
    )
    assert list(errors_of(again)) == ["participant_id"]
    desk = client.get(f"/api/events/{event.id}/checkin", headers=auth(organiser)).json()
    assert desk["freed"] == []
    assert body["id"] in {m["id"] for m in desk["meetings"]}


def test_dashboard_json_for_the_organiser_only(client, auth, running):
    organiser, event, users, _people, _m, _volta = running

    figures = client.get(f"/api/events/{event.id}/dashboard", headers=auth(organiser))
    refused = client.get(f"/api/events/{event.id}/dashboard", headers=auth(users["ana"]))

    assert refused.status_code == 403
    body = figures.json()
    # four approved, one of them of a German organisation; two accepted meetings, both
    # scheduled; Ana in slots 0 and 1: no gap
    assert body["registrations"]["approved"] == 4
    assert body["countries"] == {"none": 3, "DE": 1}
    assert (body["requests_sent"], body["acceptance_rate"]) == (2, 1.0)
    assert (body["accepted_meetings"], body["scheduled_meetings"], body["idle_gaps"]) == (
        2,
        2,
        0,
    )
    assert body["no_show_rate"] is None  # no slot is over


def test_organisation_history_route(client, running, session):
    _org, event, users, people, (m1, _m2), volta = running
    m1.held_at, m1.outcome_a = utcnow(), "follow_up"
    session.flush()

    found = client.get(f"/api/events/history/organisations/{volta.id}")
    unknown = client.get("/api/events/history/organisations/999999")

    assert unknown.status_code == 404
    assert found.json() == {
        "organisation_id": volta.id,
        "count": 1,
        "data": [
            {
                "event_id": event.id,
                "title": event.title,
                "starts_at": event.starts_at.isoformat().replace("+00:00", "Z"),
                "participants": 1,
                "meetings_held": 1,
                "outcomes": {"follow_up": 1, "partnership": 0, "none": 0},
            }
        ],
    }
