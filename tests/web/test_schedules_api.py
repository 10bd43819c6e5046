"""The schedule routes of ``/api/events/{id}`` on SQLite and PostgreSQL: run, the working copy,
lock, unlock and move (422 naming the field), publish and versions, the agenda in JSON and
ICS; 401 for visitors, 403 for participants on organiser routes, 404 for other events'
meetings and for drafts of others."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import EventStatus, Meeting, Notification
from collaboration.event_fixtures import add_meeting, add_participant, make_event
from web.event_fixtures import errors_of

pytestmark = pytest.mark.integration


@pytest.fixture
def world(session, create_user):
    """Olga organises a 3-slot event with 2 tables (09:00, 09:30, 10:00 in Brussels); Ana,
    Ben and Cleo are approved participants."""
    olga = create_user("olga@example.org")
    event = make_event(session, olga, slots=3, tables=2)
    people = {
        n: add_participant(session, event, create_user(f"{n.lower()}@example.org"), name=n)
        for n in ("Ana", "Ben", "Cleo")
    }
    slots = sorted(event.slots, key=lambda s: s.starts_at)
    return olga, event, people, slots


def test_run_read_publish_and_versions(client, auth, session, world):
    olga, event, p, slots = world
    ab = add_meeting(session, p["Ana"], p["Ben"])
    bc = add_meeting(session, p["Ben"], p["Cleo"])
    ac = add_meeting(session, p["Ana"], p["Cleo"])
    base = f"/api/events/{event.id}"
    h = auth(olga)

    ran = client.post(f"{base}/schedule/run", json={"time_limit": 5}, headers=h)
    assert ran.status_code == 200, ran.text
    body = ran.json()
    # a triangle needs three slots (each person meets the other two): all 3 fit in 3 slots
    assert (body["status"], body["objective"], body["bound"]) == ("optimal", 3, 3)
    assert body["quality"]["scheduled"] == 3
    assert body["unscheduled"] == []

    working = client.get(f"{base}/schedule", headers=h).json()
    assert working["published_version"] == 0
    assert [s["label"] for s in working["slots"]] == ["09:00", "09:30", "10:00"]
    assert sorted(m["id"] for m in working["meetings"]) == sorted([ab.id, bc.id, ac.id])
    assert len({m["slot_id"] for m in working["meetings"]}) == 3  # one slot each
    assert working["quality"]["without_meetings"] == 0

    published = client.post(f"{base}/schedule/publish", json={"note": "Welcome"}, headers=h)
    assert published.status_code == 200, published.text
    assert published.json()["version"]["version"] == 1
    assert published.json()["version"]["note"] == "Welcome"
    assert sorted(published.json()["notified"]) == sorted(x.id for x in p.values())
    again = client.post(f"{base}/schedule/publish", headers=h)
    assert errors_of(again) == {"schedule": "nothing changed since version 1 was published"}
    versions = client.get(f"{base}/schedule/versions", headers=h).json()
    assert versions["count"] == 1
    assert versions["data"][0]["meetings"] == 3


def test_lock_unlock_and_move(client, auth, session, world):
    olga, event, p, slots = world
    ab = add_meeting(session, p["Ana"], p["Ben"], slot=slots[0], table=1)
    add_meeting(session, p["Ben"], p["Cleo"], slot=slots[1], table=2)
    base = f"/api/events/{event.id}/meetings/{ab.id}"
    h = auth(olga)

    locked = client.post(f"{base}/lock", headers=h)
    assert locked.status_code == 200
    assert locked.json()["locked"] is True
    assert client.post(f"{base}/unlock", headers=h).json()["locked"] is False

    taken = client.post(f"{base}/move", json={"slot_id": slots[1].id, "table": 1}, headers=h)
    assert errors_of(taken) == {"slot_id": "Ben already meets Cleo at 09:30"}
    table = client.post(f"{base}/move", json={"slot_id": slots[2].id, "table": 3}, headers=h)
    assert errors_of(table) == {"table": "choose a table from 1 to 2 (the slot at 10:00 has 2)"}
    other_event = make_event(session, olga, title="Other")
    foreign = client.post(
        f"{base}/move", json={"slot_id": other_event.slots[0].id, "table": 1}, headers=h
    )
    assert errors_of(foreign) == {"slot_id": "no slot with this id in this event"}
    assert "slot_id" in errors_of(client.post(f"{base}/move", json={}, headers=h))

    moved = client.post(f"{base}/move", json={"slot_id": slots[2].id, "table": 2}, headers=h)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["slot_id"], moved.json()["table"], moved.json()["locked"]) == (
        slots[2].id,
        2,
        True,
    )
    session.expire_all()
    assert session.get(Meeting, ab.id).slot_id == slots[2].id


def test_refusals(client, auth, session, world, create_user):
    olga, event, p, slots = world
    ab = add_meeting(session, p["Ana"], p["Ben"], slot=slots[0], table=1)
    base = f"/api/events/{event.id}"
    ana = auth(p["Ana"].user)
    assert client.post(f"{base}/schedule/run").status_code == 401
    assert client.get(f"{base}/agenda").status_code == 401
    for method, path in [
        ("post", "/schedule/run"),
        ("get", "/schedule"),
        ("post", "/schedule/publish"),
        ("get", "/schedule/versions"),
        ("post", f"/meetings/{ab.id}/lock"),
        ("post", f"/meetings/{ab.id}/unlock"),
    ]:
        assert getattr(client, method)(base + path, headers=ana).status_code == 403, path
    moved = client.post(f"{base}/meetings/{ab.id}/move", json={"slot_id": slots[1].id}, headers=ana)
    assert moved.status_code == 403
    # someone else's agenda: 403 for a participant; not registered: 403
    other = f"{base}/agenda?participant_id={p['Ben'].id}"
    assert client.get(other, headers=ana).status_code == 403
    assert client.get(f"{base}/agenda", headers=auth(create_user())).status_code == 403
    # unknown ids and other events' rows: 404
    h = auth(olga)
    assert client.post(f"/api/events/{event.id}/meetings/999999/lock", headers=h).status_code == 404
    second = make_event(session, olga, title="Second")
    assert (
        client.post(f"/api/events/{second.id}/meetings/{ab.id}/lock", headers=h).status_code == 404
    )
    draft = make_event(session, create_user(), title="Draft", status=EventStatus.draft)
    assert client.get(f"/api/events/{draft.id}/schedule", headers=h).status_code == 404
    assert client.get(f"{base}/agenda?participant_id=999999", headers=h).status_code == 404
    assert client.post(f"{base}/schedule/run", json={"time_limit": 0}, headers=h).status_code == 422


def test_agenda_json_and_ics(client, auth, session, world, settings):
    olga, event, p, slots = world
    ab = add_meeting(session, p["Ana"], p["Ben"], slot=slots[1], table=2)
    h = auth(olga)
    base = f"/api/events/{event.id}"
    assert client.post(f"{base}/schedule/publish", headers=h).status_code == 200

    mine = client.get(f"{base}/agenda", headers=auth(p["Ana"].user))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["version"] == 1
    assert body["timezone"] == "Europe/Brussels"
    [item] = body["meetings"]
    assert item["meeting_id"] == ab.id
    assert item["partner"]["name"] == "Ben"
    assert item["table"] == 2
    assert item["starts_at"].startswith("2030-05-14T07:30:00")
    assert item["local_start"] == "2030-05-14T09:30:00+02:00"
    by_organiser = client.get(f"{base}/agenda?participant_id={p['Ben'].id}", headers=h).json()
    assert by_organiser["participant"]["name"] == "Ben"
    assert by_organiser["meetings"][0]["partner"]["name"] == "Ana"

    ics = client.get(f"{base}/agenda.ics", headers=auth(p["Ana"].user))
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.headers["content-disposition"] == f'attachment; filename="agenda-{event.id}.ics"'
    lines = ics.text.split("\r\n")
    assert "DTSTART:20300514T073000Z" in lines
    assert "SEQUENCE:1" in lines
    assert f"UID:meeting-{ab.id}@127.0.0.1" in lines  # the host of settings.public_url
    assert session.scalars(select(Notification)).all()  # the publication told people
