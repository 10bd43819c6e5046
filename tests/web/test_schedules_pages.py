"""The schedule pages on SQLite and PostgreSQL: the organiser's grid (times in the event's
zone, locked meetings marked, unscheduled ones with why), run, lock, move with field errors
(400, the form kept open), publish (only the moved people told), the agenda, its printable
page and its ICS download; refusals; CSRF; no inline code."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import Meeting, Notification, ScheduleVersion, User
from clusteratlas.collaboration.schedules import publish_schedule
from collaboration.event_fixtures import add_meeting, add_participant, make_event
from web.event_fixtures import assert_no_inline_code, csrf_of, log_in

pytestmark = pytest.mark.integration


@pytest.fixture
def world(session, create_user):
    """Olga organises 3 slots (09:00, 09:30, 10:00 in Brussels) × 2 tables; Ana, Ben, Cleo."""
    olga = create_user("olga@example.org")
    event = make_event(session, olga, slots=3, tables=2)
    people = {
        n: add_participant(session, event, create_user(f"{n.lower()}@example.org"), name=n + " X")
        for n in ("Ana", "Ben", "Cleo")
    }
    slots = sorted(event.slots, key=lambda s: s.starts_at)
    return olga, event, people, slots


def test_grid_shows_slots_tables_locks_and_reasons(client, session, world):
    olga, event, p, slots = world
    add_meeting(session, p["Ana"], p["Ben"], slot=slots[1], table=2, locked=True)
    p["Cleo"].available_slot_ids = [slots[1].id]
    add_meeting(session, p["Ana"], p["Cleo"])
    session.flush()
    log_in(client, olga)
    page = client.get(f"/events/{event.id}/schedule")
    assert page.status_code == 200
    html = page.text
    assert_no_inline_code(html)
    assert re.findall(r'<th scope="row">(\d\d:\d\d)', html) == ["09:00", "09:30", "10:00"]
    assert re.findall(r'<th scope="col">(Table \d)</th>', html) == ["Table 1", "Table 2"]
    assert "Ana X – Ben X" in html
    assert 'class="schedule-lock"' in html
    assert "Not scheduled (1)" in html
    assert "every slot they share is taken" in html  # Cleo only at 09:30, where Ana meets Ben
    assert "Run the scheduler" in html
    assert "/static/css/schedules.css" in html.split("</head>")[0]


def test_run_lock_move_and_publish(client, session, world):
    olga, event, p, slots = world
    ab = add_meeting(session, p["Ana"], p["Ben"])
    add_meeting(session, p["Ben"], p["Cleo"])
    log_in(client, olga)
    grid = f"/events/{event.id}/schedule"
    token = csrf_of(client.get(grid).text)

    ran = client.post(f"{grid}/run", data={"csrf_token": token}, follow_redirects=False)
    assert ran.status_code == 303
    after = client.get(grid).text
    assert "The scheduler placed 2 of 2 meetings" in after
    assert "proven optimal" in after
    session.expire_all()
    assert session.get(Meeting, ab.id).slot_id is not None

    published = client.post(
        f"{grid}/publish", data={"csrf_token": token, "note": "Welcome!"}, follow_redirects=False
    )
    assert published.status_code == 303
    assert "Version 1 is published; 3 participants told" in client.get(grid).text

    # a move refused: the form comes back with the message, kept open
    row = session.get(Meeting, ab.id)
    other_slot = next(s for s in slots if s.id != row.slot_id)
    refused = client.post(
        f"/events/{event.id}/meetings/{ab.id}/move",
        data={"csrf_token": token, "slot": str(other_slot.id), "table": "7"},
    )
    assert refused.status_code == 400
    assert "choose a table from 1 to 2" in refused.text
    assert re.search(rf'id="meeting-{ab.id}"', refused.text)
    assert '<details class="schedule-move" open>' in refused.text
    bad = client.post(
        f"/events/{event.id}/meetings/{ab.id}/move", data={"csrf_token": token, "slot": "x"}
    )
    assert bad.status_code == 400
    assert "choose a slot" in bad.text

    # Ben meets Cleo in one slot, Ana–Ben in another: move Ana–Ben to the third slot
    session.expire_all()
    busy = {m.slot_id for m in session.scalars(select(Meeting))}
    free = next(s for s in slots if s.id not in busy)
    moved = client.post(
        f"/events/{event.id}/meetings/{ab.id}/move",
        data={"csrf_token": token, "slot": str(free.id), "table": ""},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/events/{event.id}/schedule#meeting-{ab.id}"
    session.expire_all()
    assert (session.get(Meeting, ab.id).slot_id, session.get(Meeting, ab.id).locked) == (
        free.id,
        True,
    )
    unlocked = client.post(
        f"/events/{event.id}/meetings/{ab.id}/unlock",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert unlocked.status_code == 303
    session.expire_all()
    assert session.get(Meeting, ab.id).locked is False

    for row in session.scalars(select(Notification)):
        session.delete(row)
    session.flush()
    second = client.post(f"{grid}/publish", data={"csrf_token": token}, follow_redirects=False)
    assert second.status_code == 303
    told = session.scalars(
        select(User.email).join(Notification, Notification.user_id == User.id)
    ).all()
    assert sorted(told) == ["ana@example.org", "ben@example.org"]
    again = client.post(f"{grid}/publish", data={"csrf_token": token, "note": "keep me"})
    assert again.status_code == 400
    assert "nothing changed since version 2 was published" in again.text
    assert "keep me" in again.text
    assert session.scalars(select(ScheduleVersion.version)).all() == [1, 2]


def test_run_refused_by_a_lock_that_cannot_hold(client, session, world):
    olga, event, p, slots = world
    add_meeting(session, p["Ana"], p["Ben"], slot=slots[2], table=1, locked=True)
    p["Ben"].available_slot_ids = [slots[0].id]
    session.flush()
    log_in(client, olga)
    grid = f"/events/{event.id}/schedule"
    refused = client.post(f"{grid}/run", data={"csrf_token": csrf_of(client.get(grid).text)})
    assert refused.status_code == 400
    assert (
        "meeting &#34;Ana X – Ben X&#34; is locked to 10:00 but Ben X is not available then"
        in refused.text
    )


def test_refusals_and_csrf(client, session, world, create_user):
    olga, event, p, slots = world
    ab = add_meeting(session, p["Ana"], p["Ben"], slot=slots[0], table=1)
    grid = f"/events/{event.id}/schedule"
    visitor = client.get(grid, follow_redirects=False)
    assert visitor.status_code == 303
    assert visitor.headers["location"].startswith("/login")
    log_in(client, p["Ana"].user)
    assert client.get(grid).status_code == 403
    token = csrf_of(client.get(f"/events/{event.id}/agenda").text)
    assert client.post(f"{grid}/run", data={"csrf_token": token}).status_code == 403
    lock = f"/events/{event.id}/meetings/{ab.id}/lock"
    assert client.post(lock, data={"csrf_token": token}).status_code == 403
    other = client.get(f"/events/{event.id}/agenda?participant={p['Ben'].id}")
    assert other.status_code == 403
    assert client.get("/events/999999/schedule").status_code == 404
    client.cookies.clear()
    log_in(client, olga)
    assert client.post(lock, data={"csrf_token": "forged"}).status_code == 403
    assert (
        client.post(
            f"/events/{event.id}/meetings/999999/lock",
            data={"csrf_token": csrf_of(client.get(grid).text)},
        ).status_code
        == 404
    )


def test_agenda_print_and_ics(client, session, world):
    olga, event, p, slots = world
    ab = add_meeting(session, p["Ana"], p["Ben"], slot=slots[0], table=2)
    add_meeting(session, p["Ana"], p["Cleo"], slot=slots[2], table=1)
    log_in(client, p["Ana"].user)
    before = client.get(f"/events/{event.id}/agenda")
    assert before.status_code == 200
    assert "The schedule is not published yet" in before.text

    publish_schedule(session, event, actor=olga)
    page = client.get(f"/events/{event.id}/agenda")
    html = page.text
    assert_no_inline_code(html)
    # 07:00 and 08:00 UTC are 09:00 and 10:00 in Brussels (CEST)
    assert re.findall(r'<p class="agenda-time">(?:<time[^>]*>)?(\d\d:\d\d)', html) == [
        "09:00",
        "09:30",
        "10:00",
    ]
    assert "Ben X" in html
    assert "Table 2" in html
    assert "Free" in html  # the 09:30 gap
    assert f"/events/{event.id}/agenda.ics" in html

    printable = client.get(f"/events/{event.id}/agenda/print")
    assert printable.status_code == 200
    assert_no_inline_code(printable.text)
    assert "data-print" in printable.text
    assert "/static/js/schedules.js" in printable.text

    ics = client.get(f"/events/{event.id}/agenda.ics")
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "attachment" in ics.headers["content-disposition"]
    assert f"UID:meeting-{ab.id}@" in ics.text
    assert "DTSTART:20300514T070000Z\r\n" in ics.text

    client.cookies.clear()
    log_in(client, olga)
    bens = client.get(f"/events/{event.id}/agenda?participant={p['Ben'].id}")
    assert bens.status_code == 200
    assert "Agenda of Ben X" in bens.text
    assert f"agenda.ics?participant={p['Ben'].id}" in bens.text


def test_print_css_has_print_rules(client):
    css = client.get("/static/css/schedules.css")
    assert css.status_code == 200
    assert "@media print" in css.text
    assert ".site-header" in css.text.split("@media print", 1)[1]
