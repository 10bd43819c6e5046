"""The meeting-request pages on SQLite and PostgreSQL: browse with its htmx filter and the
"partners for you" order, the request form (inline and on its own page, refusals re-rendered
with their message, 400), "my requests" with accept, decline, withdraw and meeting cancel,
CSRF, refused access and no inline code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import (
    Meeting,
    MeetingRequest,
    Notification,
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
from web.event_fixtures import assert_no_inline_code, csrf_of, log_in

pytestmark = pytest.mark.integration


def names_in(html: str) -> list[str]:
    return re.findall(
        r'<li class="card participant-card" id="participant-\d+">\s*<h2>([^<]+)', html
    )


@pytest.fixture
def world(session, create_user):
    """Olga's event; Ana asks for battery recycling, Ben offers it, Cleo offers tours, Dan is
    pending."""
    olga = create_user("olga@example.org")
    event = make_event(session, olga)
    nord = make_organisation(session, "Nord Recycling", country="FR")
    users = {n: create_user(f"{n}@example.org") for n in ("ana", "ben", "cleo", "dan")}
    people = {
        "ana": add_participant(session, event, users["ana"], name="Ana"),
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


def test_browse_page_ranks_and_filters(client, world):
    event, users, _people = world
    log_in(client, users["ana"])

    page = client.get(f"/events/{event.id}/browse")

    assert page.status_code == 200, page.text
    assert names_in(page.text) == ["Ben", "Cleo"]
    assert "you ask for &#39;Battery recycling partner&#39;, they offer" in page.text
    assert f'hx-get="/events/{event.id}/browse"' in page.text
    assert '<option value="partners" selected>' in page.text
    assert_no_inline_code(page.text)

    fragment = client.get(
        f"/events/{event.id}/browse", params={"q": "coastal"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert names_in(fragment.text) == ["Cleo"]
    assert csrf_of(fragment.text)  # the inline request form works in the fragment too

    by_country = client.get(f"/events/{event.id}/browse", params={"country": "FR"})
    assert names_in(by_country.text) == ["Ben"]


def test_browse_page_bad_filter(client, world):
    event, users, _people = world
    log_in(client, users["ana"])

    page = client.get(f"/events/{event.id}/browse", params={"country": "France"})

    assert page.status_code == 400
    assert "enter a two-letter country code such as DE or FR" in page.text
    assert names_in(page.text) == []


def test_browse_page_refusals(client, world, create_user):
    event, users, _people = world

    visitor = client.get(f"/events/{event.id}/browse", follow_redirects=False)
    assert visitor.status_code == 303
    assert visitor.headers["location"].startswith("/login")
    log_in(client, users["dan"])
    assert client.get(f"/events/{event.id}/browse").status_code == 403
    assert client.get("/events/999999/browse").status_code == 404


def test_browse_shows_relations(client, session, world):
    event, users, people = world
    add_request(session, people["ana"], people["ben"])
    add_meeting(session, people["cleo"], people["ana"])
    log_in(client, users["ana"])

    page = client.get(f"/events/{event.id}/browse").text

    assert "Your request is waiting for an answer." in page
    assert "You meet Cleo." in page
    assert "Request a meeting" not in page


# ---- send --------------------------------------------------------------------------------


def test_send_request_from_the_browse_card(client, session, world):
    event, users, people = world
    log_in(client, users["ana"])
    token = csrf_of(client.get(f"/events/{event.id}/browse").text)

    response = client.post(
        f"/events/{event.id}/requests",
        data={
            "csrf_token": token,
            "recipient_id": str(people["ben"].id),
            "message": "Your line?",
            "must_meet": "1",
        },
        follow_redirects=False,
    )

    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/events/{event.id}/requests"
    request = session.scalars(select(MeetingRequest)).one()
    assert (request.recipient_id, request.message, request.must_meet) == (
        people["ben"].id,
        "Your line?",
        True,
    )
    note = session.scalars(
        select(Notification).where(Notification.user_id == users["ben"].id)
    ).one()
    assert note.link == f"/events/{event.id}/requests"
    mine = client.get(f"/events/{event.id}/requests")
    assert "Your request was sent to Ben." in mine.text
    assert "You have 1 pending request of at most 10: you may send 9 more." in mine.text


def test_send_request_refused_rerenders_the_form(client, session, world):
    event, users, people = world
    add_request(session, people["ben"], people["ana"])
    log_in(client, users["ana"])
    form = client.get(f"/events/{event.id}/requests/new", params={"to": people["ben"].id})
    assert form.status_code == 200
    assert "Request a meeting with Ben" in form.text
    assert "Battery recycling line" in form.text
    assert_no_inline_code(form.text)

    response = client.post(
        f"/events/{event.id}/requests",
        data={
            "csrf_token": csrf_of(form.text),
            "recipient_id": str(people["ben"].id),
            "message": "Keep this text",
        },
    )

    assert response.status_code == 400
    assert "a request between you and Ben is waiting for an answer" in response.text
    assert "Keep this text" in response.text
    myself = client.post(
        f"/events/{event.id}/requests",
        data={"csrf_token": csrf_of(form.text), "recipient_id": str(people["ana"].id)},
    )
    assert myself.status_code == 400
    assert "you cannot request a meeting with yourself" in myself.text
    nobody = client.post(
        f"/events/{event.id}/requests",
        data={"csrf_token": csrf_of(form.text), "recipient_id": "abc"},
    )
    assert nobody.status_code == 400
    assert "choose a participant of this event" in nobody.text
    assert (
        session.scalars(
            select(MeetingRequest).where(MeetingRequest.requester_id == people["ana"].id)
        ).all()
        == []
    )


def test_send_request_needs_the_csrf_token(client, session, world):
    event, users, people = world
    log_in(client, users["ana"])

    response = client.post(
        f"/events/{event.id}/requests", data={"recipient_id": str(people["ben"].id)}
    )

    assert response.status_code == 403
    assert session.scalars(select(MeetingRequest)).all() == []


# ---- my requests -------------------------------------------------------------------------


def test_my_requests_page_accept_and_decline(client, session, world):
    event, users, people = world
    first = add_request(session, people["ana"], people["ben"], must_meet=True)
    second = add_request(session, people["cleo"], people["ben"])
    log_in(client, users["ben"])

    page = client.get(f"/events/{event.id}/requests")

    assert page.status_code == 200
    assert_no_inline_code(page.text)
    assert "<strong>2</strong> received, waiting for your answer" in page.text
    assert f"/requests/{first.id}/accept" in page.text
    assert "must meet" in page.text
    token = csrf_of(page.text)
    accepted = client.post(
        f"/events/{event.id}/requests/{first.id}/accept",
        data={"csrf_token": token, "message": "Yes"},
        follow_redirects=False,
    )
    declined = client.post(
        f"/events/{event.id}/requests/{second.id}/decline",
        data={"csrf_token": token, "message": "Sorry"},
        follow_redirects=False,
    )

    assert (accepted.status_code, declined.status_code) == (303, 303)
    session.expire_all()
    meeting = session.scalars(select(Meeting)).one()
    assert (meeting.a_id, meeting.b_id, meeting.weight) == (people["ana"].id, people["ben"].id, 3)
    assert (first.status, second.status) == (RequestStatus.accepted, RequestStatus.declined)
    assert second.response_message == "Sorry"
    after = client.get(f"/events/{event.id}/requests").text
    assert "<strong>1</strong> accepted meeting" in after
    assert "Cancel the meeting" in after

    again = client.post(
        f"/events/{event.id}/requests/{first.id}/accept", data={"csrf_token": token}
    )
    assert again.status_code == 400
    assert "this request is accepted already" in again.text


def test_withdraw_request_and_cancel_meeting(client, session, world):
    event, users, people = world
    request = add_request(session, people["ana"], people["cleo"])
    meeting = add_meeting(session, people["ben"], people["ana"])
    log_in(client, users["ana"])
    token = csrf_of(client.get(f"/events/{event.id}/requests").text)

    withdrawn = client.post(
        f"/events/{event.id}/requests/{request.id}/cancel",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    cancelled = client.post(
        f"/events/{event.id}/meetings/{meeting.id}/cancel",
        data={"csrf_token": token},
        follow_redirects=False,
    )

    assert (withdrawn.status_code, cancelled.status_code) == (303, 303)
    session.expire_all()
    assert request.status == RequestStatus.cancelled
    assert meeting.cancelled_at is not None
    assert session.scalars(
        select(Notification.subject).where(Notification.user_id == users["ben"].id)
    ).all() == ["Meeting cancelled: Ana"]
    page = client.get(f"/events/{event.id}/requests").text
    assert "No meeting yet." in page
    assert "Withdrawn" in page


def test_my_requests_page_refusals(client, session, world, create_user):
    event, users, people = world
    request = add_request(session, people["ana"], people["ben"])
    log_in(client, users["cleo"])
    token = csrf_of(client.get(f"/events/{event.id}/requests").text)

    not_mine = client.post(
        f"/events/{event.id}/requests/{request.id}/accept", data={"csrf_token": token}
    )
    unknown_action = client.post(
        f"/events/{event.id}/requests/{request.id}/approve", data={"csrf_token": token}
    )
    log_in(client, users["dan"])
    pending = client.get(f"/events/{event.id}/requests")

    assert not_mine.status_code == 404
    assert unknown_action.status_code == 404
    assert pending.status_code == 403
    assert request.status == RequestStatus.pending


def test_browse_after_the_deadline_offers_no_request_form(client, session, world):
    event, users, _people = world
    event.requests_deadline = utcnow() - timedelta(hours=1)
    session.flush()
    log_in(client, users["ana"])

    page = client.get(f"/events/{event.id}/browse").text

    assert "Meeting requests are closed for this event." in page
    assert "Request a meeting" not in page
    assert names_in(page) == ["Ben", "Cleo"]
