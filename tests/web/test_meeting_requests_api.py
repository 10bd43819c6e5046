"""``/api/events/{id}/browse``, ``/requests…`` and ``/meetings/{id}/cancel`` on SQLite and
PostgreSQL: success, 422 with the field named, 401 for visitors, 403 for the wrong person, 404
for what one may not see; notifications in the inbox and the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import (
    EventStatus,
    Meeting,
    MeetingRequest,
    Notification,
    OutboxEmail,
    ParticipantStatus,
    RequestStatus,
    utcnow,
)
from collaboration.event_fixtures import (
    add_items,
    add_meeting,
    add_participant,
    add_request,
    make_event,
    make_organisation,
)
from web.event_fixtures import errors_of

pytestmark = pytest.mark.integration


@pytest.fixture
def world(session, create_user):
    """Olga's event; Ana (Volta, DE) asks for battery recycling, Ben (Nord, FR) offers it,
    Cleo (no organisation) offers tours; Dan is pending."""
    olga = create_user("olga@example.org")
    event = make_event(session, olga)
    volta = make_organisation(session, "Volta Cells", country="DE")
    nord = make_organisation(session, "Nord Recycling", country="FR")
    users = {n: create_user(f"{n}@example.org") for n in ("ana", "ben", "cleo", "dan")}
    people = {
        "ana": add_participant(session, event, users["ana"], name="Ana", organisation=volta),
        "ben": add_participant(session, event, users["ben"], name="Ben", organisation=nord),
        "cleo": add_participant(session, event, users["cleo"], name="Cleo"),
        "dan": add_participant(
            session, event, users["dan"], name="Dan", status=ParticipantStatus.pending
        ),
    }
    add_items(
        session,
        (people["ana"], "request", "Battery recycling partner", "recycle lithium battery cells"),
        (people["ben"], "offer", "Battery recycling line", "we recycle lithium battery cells"),
        (people["cleo"], "offer", "Coastal tours", "holidays by the sea"),
    )
    return event, users, people


# ---- browse ------------------------------------------------------------------------------


def test_browse_ranks_partners_for_you(client, auth, world):
    event, users, people = world

    response = client.get(f"/api/events/{event.id}/browse", headers=auth(users["ana"]))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["count"], body["sort"]) == (2, "partners")
    assert [e["participant"]["display_name"] for e in body["data"]] == ["Ben", "Cleo"]
    ben = body["data"][0]
    assert ben["participant"]["organisation"] == {
        "id": people["ben"].organisation_id,
        "name": "Nord Recycling",
        "country": "FR",
        "type": "company",
    }
    assert [i["title"] for i in ben["items"]] == ["Battery recycling line"]
    assert ben["explanation"].startswith(
        "you ask for 'Battery recycling partner', they offer 'Battery recycling line'"
    )
    assert ben["score"] > 0
    assert ben["relation"] is None
    assert body["data"][1]["score"] == 0.0


def test_browse_filters_and_sort(client, auth, world):
    event, users, _people = world
    headers = auth(users["ben"])
    url = f"/api/events/{event.id}/browse"

    def names(**params):
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [e["participant"]["display_name"] for e in response.json()["data"]]

    assert names(sort="name") == ["Ana", "Cleo"]
    assert names(q="coastal") == ["Cleo"]
    assert names(country="de") == ["Ana"]
    assert names(organisation_type="company", sort="name") == ["Ana"]
    assert names(item_kind="request") == ["Ana"]
    assert names(sort="name", limit=1, offset=1) == ["Cleo"]
    assert sorted(errors_of(client.get(url, params={"country": "France"}, headers=headers))) == [
        "country"
    ]


def test_browse_refusals(client, auth, world, create_user):
    event, users, _people = world
    url = f"/api/events/{event.id}/browse"

    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth(users["dan"])).status_code == 403
    assert client.get(url, headers=auth(create_user())).status_code == 403
    assert client.get("/api/events/999999/browse", headers=auth(users["ana"])).status_code == 404


def test_browse_hides_a_draft_event(client, auth, world):
    event, users, _people = world
    event.status = EventStatus.draft

    response = client.get(f"/api/events/{event.id}/browse", headers=auth(users["ana"]))

    assert response.status_code == 404


# ---- send --------------------------------------------------------------------------------


def test_send_request(client, auth, session, world):
    event, users, people = world

    response = client.post(
        f"/api/events/{event.id}/requests",
        json={"recipient_id": people["ben"].id, "message": "Shall we?", "must_meet": True},
        headers=auth(users["ana"]),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["must_meet"], body["message"], body["meeting_id"]) == (
        "pending",
        True,
        "Shall we?",
        None,
    )
    assert (body["requester"]["id"], body["recipient"]["id"]) == (
        people["ana"].id,
        people["ben"].id,
    )
    note = session.scalars(
        select(Notification).where(Notification.user_id == users["ben"].id)
    ).one()
    assert note.link == f"/events/{event.id}/requests"
    mail = session.scalars(select(OutboxEmail).where(OutboxEmail.to == "ben@example.org")).one()
    assert "asks to meet you" in mail.body


def test_send_request_refusals_name_the_field(client, auth, session, world):
    event, users, people = world
    headers = auth(users["ana"])
    url = f"/api/events/{event.id}/requests"
    add_request(session, people["cleo"], people["ana"])

    def send(recipient_id, **extra):
        return errors_of(
            client.post(url, json={"recipient_id": recipient_id, **extra}, headers=headers)
        )

    assert send(people["ana"].id) == {"recipient_id": "you cannot request a meeting with yourself"}
    assert send(people["dan"].id) == {"recipient_id": "Dan is not an approved participant"}
    assert send(people["cleo"].id) == {
        "recipient_id": "a request between you and Cleo is waiting for an answer"
    }
    assert list(send(people["ben"].id, message="x" * 2001)) == ["message"]
    assert list(send(people["ben"].id, colour="red")) == ["colour"]
    assert list(errors_of(client.post(url, json={}, headers=headers))) == ["recipient_id"]
    event.max_outstanding_requests = 1
    add_request(session, people["ana"], people["dan"])  # Dan was approved then, say
    assert send(people["ben"].id) == {
        "requests": "you have 1 pending requests and this event allows at most 1: wait for "
        "answers or cancel one"
    }
    event.max_outstanding_requests = 10
    event.requests_deadline = utcnow() - timedelta(days=1)
    session.flush()
    assert list(send(people["ben"].id)) == ["event"]
    assert (
        session.scalars(
            select(MeetingRequest).where(MeetingRequest.recipient_id == people["ben"].id)
        ).all()
        == []
    )


def test_send_request_refused_to_visitors_and_non_participants(client, auth, world, create_user):
    event, users, people = world
    url = f"/api/events/{event.id}/requests"
    body = {"recipient_id": people["ben"].id}

    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=auth(create_user())).status_code == 403
    assert client.post(url, json=body, headers=auth(users["dan"])).status_code == 403


def test_send_request_auto_accepted(client, auth, session, world):
    event, users, people = world
    people["ben"].auto_accept = True

    response = client.post(
        f"/api/events/{event.id}/requests",
        json={"recipient_id": people["ben"].id, "must_meet": True},
        headers=auth(users["ana"]),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    meeting = session.get(Meeting, body["meeting_id"])
    assert body["status"] == "accepted"
    assert (meeting.a_id, meeting.b_id, meeting.weight) == (people["ana"].id, people["ben"].id, 3)


# ---- mine, answer, cancel ----------------------------------------------------------------


def test_my_requests(client, auth, session, world):
    event, users, people = world
    event.max_outstanding_requests = 3
    received = add_request(session, people["ben"], people["ana"])
    sent = add_request(session, people["ana"], people["cleo"], must_meet=True)
    meeting = add_meeting(session, people["ana"], people["ben"], weight=3)

    response = client.get(f"/api/events/{event.id}/requests", headers=auth(users["ana"]))

    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["id"] for r in body["received"]] == [received.id]
    assert [r["id"] for r in body["sent"]] == [sent.id, meeting.request_id]
    assert body["sent"][1]["meeting_id"] == meeting.id
    assert [(m["id"], m["partner"]["display_name"], m["weight"]) for m in body["meetings"]] == [
        (meeting.id, "Ben", 3)
    ]
    assert (body["pending_sent"], body["pending_received"]) == (1, 1)
    assert (body["max_outstanding"], body["remaining"], body["open"]) == (3, 2, True)
    assert client.get(f"/api/events/{event.id}/requests").status_code == 401
    assert (
        client.get(f"/api/events/{event.id}/requests", headers=auth(users["dan"])).status_code
        == 403
    )


def test_accept_request(client, auth, session, world):
    event, users, people = world
    request = add_request(session, people["ana"], people["ben"], must_meet=True)
    url = f"/api/events/{event.id}/requests/{request.id}/accept"

    assert client.post(url, headers=auth(users["ana"])).status_code == 403  # the requester
    assert client.post(url, headers=auth(users["cleo"])).status_code == 404  # not theirs
    response = client.post(url, json={"message": "Gladly"}, headers=auth(users["ben"]))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["a"]["id"], body["b"]["id"], body["weight"], body["request_id"]) == (
        people["ana"].id,
        people["ben"].id,
        3,
        request.id,
    )
    assert body["partner"]["display_name"] == "Ana"
    session.expire_all()
    assert request.status == RequestStatus.accepted
    assert request.response_message == "Gladly"
    assert session.scalars(
        select(Notification.subject).where(Notification.user_id == users["ana"].id)
    ).all() == ["Meeting accepted: Ben"]
    again = client.post(url, headers=auth(users["ben"]))
    assert errors_of(again) == {"status": "this request is accepted already"}


def test_decline_and_cancel_request(client, auth, session, world):
    event, users, people = world
    first = add_request(session, people["ana"], people["ben"])
    second = add_request(session, people["ana"], people["cleo"])
    base = f"/api/events/{event.id}/requests"

    declined = client.post(
        f"{base}/{first.id}/decline", json={"message": "No time"}, headers=auth(users["ben"])
    )
    refused = client.post(f"{base}/{second.id}/cancel", headers=auth(users["cleo"]))
    cancelled = client.post(f"{base}/{second.id}/cancel", headers=auth(users["ana"]))

    assert declined.status_code == 200, declined.text
    assert (declined.json()["status"], declined.json()["response_message"]) == (
        "declined",
        "No time",
    )
    assert refused.status_code == 403
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(f"{base}/999999/cancel", headers=auth(users["ana"])).status_code == 404
    other_event = make_event(session, users["dan"], title="Other")
    assert (
        client.post(
            f"/api/events/{other_event.id}/requests/{first.id}/decline",
            headers=auth(users["ben"]),
        ).status_code
        == 404
    )


def test_cancel_meeting(client, auth, session, world):
    event, users, people = world
    meeting = add_meeting(session, people["ana"], people["ben"])
    url = f"/api/events/{event.id}/meetings/{meeting.id}/cancel"

    assert client.post(url).status_code == 401
    assert client.post(url, headers=auth(users["cleo"])).status_code == 404
    response = client.post(url, headers=auth(users["ben"]))

    assert response.status_code == 200, response.text
    assert response.json()["cancelled_at"] is not None
    assert response.json()["partner"]["display_name"] == "Ana"
    session.expire_all()
    assert meeting.cancelled_at is not None
    mail = session.scalars(select(OutboxEmail).where(OutboxEmail.to == "ana@example.org")).one()
    assert mail.subject == "Meeting cancelled: Ben"
    assert errors_of(client.post(url, headers=auth(users["ana"]))) == {
        "status": "this meeting is cancelled already"
    }
