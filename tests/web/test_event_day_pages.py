"""The on-the-day pages on SQLite and PostgreSQL: the check-in desk (search and check-in with
and without htmx), the participant's day (self check-in, held, partner absent, standby
pairing, outcomes), refused actions re-rendered with their message, the dashboard (figures,
chart data, no inline code), the CSV of meetings (formula cells neutralised) and the history on
the organisation's profile. The event runs now: its first slot started five minutes ago."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import (
    Meeting,
    MeetingOrigin,
    MeetingOutcome,
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
from web.event_fixtures import assert_no_inline_code, log_in

pytestmark = pytest.mark.integration


@pytest.fixture
def running(session, create_user):
    """Ana (Volta) meets Ben in slot 0 at table 3 (started 5 minutes ago) and Cleo in slot 1;
    Dan and Eva are on standby; Ana, Dan and Eva are checked in."""
    start = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    organiser = create_user("org@example.org")
    event = make_event(session, organiser, start=start)
    volta = make_organisation(session, "Volta", country="DE")
    users = {n: create_user(f"{n}@example.org") for n in ("ana", "ben", "cleo", "dan", "eva")}
    people = {
        "ana": add_participant(
            session, event, users["ana"], name="Ana", organisation=volta, headline="solar"
        ),
        "ben": add_participant(session, event, users["ben"], name="Ben"),
        "cleo": add_participant(session, event, users["cleo"], name="Cleo"),
        "dan": add_participant(
            session, event, users["dan"], name="Dan", on_standby=True, headline="solar roofs"
        ),
        "eva": add_participant(session, event, users["eva"], name="Eva", on_standby=True),
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
    for name in ("ana", "dan", "eva"):
        people[name].checked_in_at = start
    session.flush()
    return organiser, event, users, people, (m1, m2), volta


# ---- the desk ----------------------------------------------------------------------------


def test_desk_lists_searches_and_checks_in_with_htmx(client, session, running):
    organiser, event, users, people, _m, _volta = running
    token = log_in(client, organiser)
    url = f"/events/{event.id}/checkin"

    page = client.get(url)
    found = client.get(url, params={"q": "volt"}, headers={"HX-Request": "true"})
    row = client.post(
        f"{url}/{people['ben'].id}",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )

    assert page.status_code == 200
    assert_no_inline_code(page.text)
    assert "<strong>3</strong> of 5 participants checked in" in page.text
    assert re.findall(r'<tr id="participant-\d+"', page.text).__len__() == 5
    assert found.text.lstrip().startswith('<div id="checkin-list">')
    assert re.findall(r'<tr id="participant-(\d+)"', found.text) == [str(people["ana"].id)]
    assert row.text.lstrip().startswith(f'<tr id="participant-{people["ben"].id}"')
    assert "Undo" in row.text
    session.refresh(people["ben"])
    assert people["ben"].checked_in_at is not None

    undone = client.post(
        f"{url}/{people['ben'].id}/undo", data={"csrf_token": token}, follow_redirects=False
    )
    assert undone.status_code == 303
    session.refresh(people["ben"])
    assert people["ben"].checked_in_at is None


def test_desk_is_for_the_organiser(client, running, session):
    _organiser, event, users, people, _m, _volta = running
    url = f"/events/{event.id}/checkin"

    anonymous = client.get(url, follow_redirects=False)
    token = log_in(client, users["ana"])
    refused = client.get(url)
    refused_post = client.post(f"{url}/{people['ben'].id}", data={"csrf_token": token})
    no_csrf = client.post(f"{url}/{people['ben'].id}", data={"csrf_token": "forged"})
    unknown = client.get("/events/999999/checkin")

    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    assert refused.status_code == 403
    assert refused_post.status_code == 403
    assert no_csrf.status_code == 403
    assert unknown.status_code == 404
    session.refresh(people["ben"])
    assert people["ben"].checked_in_at is None


def test_desk_shows_freed_slots_and_pairs(client, session, running):
    organiser, event, users, people, (m1, _m2), _volta = running
    token = log_in(client, organiser)

    page = client.get(f"/events/{event.id}/checkin")
    paired = client.post(
        f"/events/{event.id}/day/standby",
        data={
            "csrf_token": token,
            "next": "desk",
            "slot_id": str(event.slots[0].id),
            "participant_id": str(people["ana"].id),
            "partner_id": str(people["eva"].id),
        },
        follow_redirects=False,
    )

    assert "Ana waits for Ben" in page.text
    assert "(not checked in)" in page.text
    # Dan shares "solar" with Ana, so he comes first
    assert re.findall(r"Pair with (\w+)", page.text) == ["Dan", "Eva"]
    assert paired.status_code == 303
    assert paired.headers["location"] == f"/events/{event.id}/checkin"
    standby = session.scalars(select(Meeting).where(Meeting.origin == MeetingOrigin.standby)).one()
    assert (standby.a_id, standby.b_id, standby.table_number) == (
        people["ana"].id,
        people["eva"].id,
        3,
    )
    after = client.get(f"/events/{event.id}/checkin")
    assert "No one is waiting for an absent partner right now." in after.text


# ---- the participant's day ----------------------------------------------------------------


def test_today_self_check_in_and_meeting_flow(client, session, running):
    _organiser, event, users, people, (m1, m2), _volta = running
    token = log_in(client, users["ben"])
    base = f"/events/{event.id}"

    page = client.get(f"{base}/today")
    checked = client.post(f"{base}/today/checkin", data={"csrf_token": token})
    early = client.post(f"{base}/day/meetings/{m2.id}/held", data={"csrf_token": token})
    held = client.post(
        f"{base}/day/meetings/{m1.id}/held", data={"csrf_token": token}, follow_redirects=False
    )
    outcome = client.post(
        f"{base}/day/meetings/{m1.id}/outcome",
        data={"csrf_token": token, "outcome": "partnership"},
    )
    bad = client.post(
        f"{base}/day/meetings/{m1.id}/outcome", data={"csrf_token": token, "outcome": "x"}
    )

    assert_no_inline_code(page.text)
    assert (
        '<link rel="stylesheet" href="/static/css/event_day.css">' in page.text.split("</head>")[0]
    )
    assert "I am here: check in" in page.text
    assert "Ana (Volta)" in page.text
    assert "You checked in at" in checked.text
    # a meeting in Ana's second slot is not Ben's: refused with 403
    assert early.status_code == 403
    assert held.status_code == 303
    assert 'aria-pressed="true">Partnership started</button>' in outcome.text
    assert bad.status_code == 400
    assert "choose follow_up, partnership, none" in bad.text
    session.refresh(m1)
    assert m1.outcome_b == MeetingOutcome.partnership


def test_a_refused_action_re_renders_the_day_with_its_message(client, session, running):
    _organiser, event, users, _people, (_m1, m2), _volta = running
    token = log_in(client, users["ana"])

    early = client.post(f"/events/{event.id}/day/meetings/{m2.id}/held", data={"csrf_token": token})

    assert early.status_code == 400
    assert "Your day at" in early.text
    assert "this meeting&#39;s slot has not started yet" in early.text
    session.refresh(m2)
    assert m2.held_at is None


def test_today_find_a_standby_partner(client, session, running):
    _organiser, event, users, people, (m1, _m2), _volta = running
    token = log_in(client, users["ana"])
    base = f"/events/{event.id}"

    absent = client.post(
        f"{base}/day/meetings/{m1.id}/absent",
        data={"csrf_token": token, "participant_id": str(people["ben"].id)},
    )
    paired = client.post(
        f"{base}/day/standby",
        data={
            "csrf_token": token,
            "slot_id": str(event.slots[0].id),
            "participant_id": str(people["ana"].id),
            "partner_id": str(people["dan"].id),
        },
    )

    assert "Find a standby partner" in absent.text
    assert "Ben is marked absent" in absent.text
    assert re.findall(r"Meet (\w+)</button>", absent.text) == ["Dan", "Eva"]
    assert "Ana now meets Dan; both were notified." in paired.text
    assert "Find a standby partner" not in paired.text
    assert "standby</span>" in paired.text
    told = session.scalars(
        select(Notification.user_id).where(Notification.subject == "Standby meeting now: Ana")
    ).all()
    assert told == [users["dan"].id]


def test_today_is_for_approved_participants(client, running, create_user):
    _organiser, event, _users, _people, _m, _volta = running
    log_in(client, create_user())

    assert client.get(f"/events/{event.id}/today").status_code == 403


# ---- dashboard and CSV ---------------------------------------------------------------------


def test_dashboard_page(client, session, running):
    organiser, event, users, people, (m1, _m2), _volta = running
    m1.held_at, m1.outcome_a = utcnow(), MeetingOutcome.follow_up
    session.flush()
    log_in(client, organiser)

    page = client.get(f"/events/{event.id}/dashboard")

    assert page.status_code == 200
    assert_no_inline_code(page.text)
    assert '<script src="/static/vendor/echarts.min.js" defer></script>' in page.text
    assert '<script src="/static/js/dashboard.js" defer></script>' in page.text

    def figure(name):
        return re.search(rf'data-figure="{name}">([^<]*)<', page.text).group(1)

    # 5 approved; 2 accepted requests, both scheduled; one held with one outcome given
    assert figure("registrations-approved") == "5"
    assert figure("country-DE") == "1"
    assert figure("country-none") == "4"
    assert figure("requests-sent") == "2"
    assert figure("acceptance-rate") == "100.0 %"
    assert figure("scheduled-of-accepted") == "2 / 2"
    assert figure("held") == "1"
    assert figure("no-show-rate") == "–"
    assert figure("outcome-follow_up") == "1"
    assert figure("outcome-unanswered") == "1"
    data = json.loads(
        re.search(
            r'<script type="application/json" id="dashboard-data">(.*?)</script>', page.text, re.S
        ).group(1)
    )
    assert data["meetings"] == {
        "kind": "bar",
        "labels": ["accepted", "scheduled", "standby", "held", "absent"],
        "values": [2, 2, 0, 1, 0],
    }
    assert data["outcomes"]["kind"] == "pie"
    assert data["outcomes"]["labels"] == [
        "Follow-up planned",
        "Partnership started",
        "None",
        "No answer yet",
    ]
    head = page.text.split("</head>")[0]
    assert '<link rel="stylesheet" href="/static/css/event_day.css">' in head
    assert '<script src="/static/js/dashboard.js" defer></script>' in head
    log_in(client, users["ana"])
    assert client.get(f"/events/{event.id}/dashboard").status_code == 403


def test_dashboard_script_is_served(client):
    js = client.get("/static/js/dashboard.js")

    assert js.status_code == 200
    assert 'getElementById("dashboard-data")' in js.text


def test_meetings_csv(client, session, running):
    organiser, event, users, people, (m1, _m2), _volta = running
    people["ben"].display_name = '=HYPERLINK("http://evil")'
    m1.held_at, m1.outcome_a, m1.outcome_b = utcnow(), "follow_up", "none"
    session.flush()
    log_in(client, organiser)

    response = client.get(f"/events/{event.id}/dashboard/meetings.csv")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "meeting_id",
        "origin",
        "date",
        "start",
        "end",
        "table",
        "a_name",
        "a_organisation",
        "b_name",
        "b_organisation",
        "state",
        "absent",
        "outcome_a",
        "outcome_b",
    ]
    start = event.slots[0].starts_at.astimezone(ZoneInfo("Europe/Brussels"))
    end = start + timedelta(minutes=30)
    assert rows[1] == [
        str(m1.id),
        "request",
        start.date().isoformat(),
        start.strftime("%H:%M"),
        end.strftime("%H:%M"),
        "3",
        "Ana",
        "Volta",
        '\'=HYPERLINK("http://evil")',
        "",
        "held",
        "",
        "follow_up",
        "none",
    ]
    assert len(rows) == 3
    log_in(client, users["ana"])
    assert client.get(f"/events/{event.id}/dashboard/meetings.csv").status_code == 403


# ---- the organisation's profile ------------------------------------------------------------


def test_history_on_the_profile_page(client, session, running):
    _organiser, event, _users, _people, (m1, _m2), volta = running
    m1.held_at, m1.outcome_a = utcnow(), "partnership"
    session.flush()

    page = client.get(f"/organisations/{volta.id}")

    assert page.status_code == 200
    assert "Matchmaking events" in page.text
    row = re.search(r'<a href="/events/(\d+)">([^<]+)</a></td>(.*?)</tr>', page.text, re.S)
    cells = re.findall(r"<td>([^<]*)</td>", row.group(3))
    # date, people, meetings held, follow-ups, partnerships
    assert (row.group(1), row.group(2)) == (str(event.id), event.title)
    assert cells[1:] == ["1", "1", "0", "1"]


def test_no_history_section_without_events(client, session):
    other = make_organisation(session, "Quiet Ltd")

    page = client.get(f"/organisations/{other.id}")

    assert page.status_code == 200
    assert "Matchmaking events" not in page.text
