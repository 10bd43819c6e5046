"""``clusteratlas events …`` on migrated SQLite files, rows built with the event fixtures.

The event of most tests (Brussels, 2030-05-14, three 30-minute slots from 09:00 local = 07:00
UTC, two tables each): organiser Ana; approved Bo (slots 1 and 2 only), Cy, Di (cap 1); Eve
pending. Meetings: m1 Bo–Cy (weight 3), m2 Cy–Di locked to slot 2 table 2, m3 Bo–Di cancelled.
Expected values are worked out by hand from that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from clusteratlas.cli import app
from clusteratlas.collaboration.db import make_engine
from clusteratlas.collaboration.models import (
    AuditLog,
    Event,
    EventSlot,
    Meeting,
    MeetingRequest,
    OutboxEmail,
    ParticipantStatus,
    RequestStatus,
    User,
    utcnow,
)
from clusteratlas.scheduling import Event as SEvent
from clusteratlas.scheduling import Meeting as SMeeting
from clusteratlas.scheduling import Participant as SParticipant
from clusteratlas.scheduling import Slot, parse_event
from collaboration.event_fixtures import DAY, add_meeting, add_participant, add_request, make_event

pytestmark = pytest.mark.integration


def invoke(*args: str):
    return CliRunner().invoke(app, ["events", *args])


@pytest.fixture
def url(tmp_path, monkeypatch):
    """A SQLite file migrated with `clusteratlas db upgrade`."""
    from clusteratlas.collaboration.settings import get_settings

    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    monkeypatch.setenv("CLUSTERATLAS_PUBLIC_URL", "https://atlas.example.org")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    yield url
    get_settings.cache_clear()


@pytest.fixture
def engine(url):
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _user(session: Session, email: str) -> User:
    user = User(email=email, password_hash="x", confirmed_at=utcnow())
    session.add(user)
    session.flush()
    return user


@dataclass
class World:
    event: int
    slots: list[int]
    bo: int
    cy: int
    di: int
    m1: int
    m2: int
    m3: int


@pytest.fixture
def world(engine) -> World:
    with Session(engine) as session:
        ana = _user(session, "ana@example.org")
        event = make_event(session, ana, slots=3, tables=2)
        slots = list(
            session.scalars(
                select(EventSlot.id).where(EventSlot.event_id == event.id).order_by(EventSlot.id)
            )
        )
        bo = add_participant(
            session, event, _user(session, "bo@example.org"), name="Bo", available=slots[:2]
        )
        cy = add_participant(session, event, _user(session, "cy@example.org"), name="Cy")
        di = add_participant(
            session, event, _user(session, "di@example.org"), name="Di", max_meetings=1
        )
        add_participant(
            session,
            event,
            _user(session, "eve@example.org"),
            name="Eve",
            status=ParticipantStatus.pending,
        )
        slot2 = session.get(EventSlot, slots[1])
        m1 = add_meeting(session, bo, cy, weight=3)
        m2 = add_meeting(session, cy, di, slot=slot2, table=2, locked=True)
        m3 = add_meeting(session, bo, di)
        m3.cancelled_at = utcnow()
        session.commit()
        return World(event.id, slots, bo.id, cy.id, di.id, m1.id, m2.id, m3.id)


def _places(engine, *ids: int) -> list[tuple[int | None, int | None]]:
    with Session(engine) as session:
        return [
            (m.slot_id, m.table_number)
            for m in (session.get(Meeting, i) for i in ids)
            if m is not None
        ]


def _outbox(engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(OutboxEmail.to)))


# ---- list ----------------------------------------------------------------------------------


def test_list_shows_each_event_with_its_figures(url, world):
    result = invoke("list", "--url", url)

    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "Clusters meet Regions" in line)
    cells = [c.strip() for c in row.split("│")[1:-1]]
    # 07:00–08:30 UTC is 09:00–10:30 in Brussels (summer time); approved Bo, Cy, Di; pending
    # Eve; accepted m1, m2 (m3 cancelled); scheduled m2; nothing published
    assert cells == [
        str(world.event),
        "Clusters meet Regions",
        "published",
        "2030-05-14 09:00–10:30 Europe/Brussels",
        "3",
        "1",
        "2",
        "1",
        "0",
    ]
    assert "1 event(s)" in result.output


def test_list_of_an_empty_database(url):
    result = invoke("list", "--url", url)

    assert result.exit_code == 0
    assert "0 event(s)" in result.output


# ---- export --------------------------------------------------------------------------------


def test_export_writes_the_scheduler_file_of_the_event(url, world, tmp_path):
    out = tmp_path / "event.json"

    result = invoke("export", str(world.event), "--out", str(out), "--url", url)

    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    s1, s2, s3 = (str(s) for s in world.slots)
    assert data["slots"][0] == {
        "id": s1,
        "start": "2030-05-14T07:00:00Z",
        "end": "2030-05-14T07:30:00Z",
    }
    assert data["tables"] == {s1: 2, s2: 2, s3: 2}
    assert {"id": str(world.bo), "available": [s1, s2], "max_meetings": None} in data[
        "participants"
    ]
    assert {"id": str(world.di), "available": [s1, s2, s3], "max_meetings": 1} in data[
        "participants"
    ]
    at = DAY
    expected = SEvent(
        slots=tuple(
            Slot(sid, at + timedelta(minutes=30 * k), at + timedelta(minutes=30 * (k + 1)))
            for k, sid in enumerate((s1, s2, s3))
        ),
        tables={s1: 2, s2: 2, s3: 2},
        participants=(
            SParticipant(str(world.bo), frozenset({s1, s2}), None),
            SParticipant(str(world.cy), frozenset({s1, s2, s3}), None),
            SParticipant(str(world.di), frozenset({s1, s2, s3}), 1),
        ),
        meetings=(
            SMeeting(str(world.m1), str(world.bo), str(world.cy), 3, None, None),
            SMeeting(str(world.m2), str(world.cy), str(world.di), 1, s2, 2),
        ),
    )
    assert parse_event(data) == expected
    assert "3 slots, 3 participants, 2 meetings (1 locked)" in result.output


def test_export_refuses_an_output_that_is_not_json(url, world, tmp_path):
    result = invoke("export", str(world.event), "--out", str(tmp_path / "e.csv"), "--url", url)

    assert result.exit_code == 3
    assert "error" in result.output
    assert not (tmp_path / "e.csv").exists()


def test_export_of_an_unknown_event(url, world, tmp_path):
    result = invoke("export", "999", "--out", str(tmp_path / "e.json"), "--url", url)

    assert result.exit_code == 2
    assert "error: no event 999" in result.output
    assert not (tmp_path / "e.json").exists()


def test_offline_round_trip_export_schedule_import(url, world, engine, tmp_path):
    event_json, schedule_json = tmp_path / "event.json", tmp_path / "schedule.json"

    exported = invoke("export", str(world.event), "-o", str(event_json), "--url", url)
    solved = CliRunner().invoke(
        app, ["schedule", str(event_json), "--out", str(schedule_json), "--time-limit", "5"]
    )
    imported = invoke(
        "import-schedule",
        str(world.event),
        str(schedule_json),
        "--as",
        "ana@example.org",
        "--url",
        url,
    )

    assert exported.exit_code == 0, exported.output
    assert solved.exit_code == 0, solved.output
    assert imported.exit_code == 0, imported.output
    # m2 stays locked in slot 2 at table 2; Cy is busy then, Bo is never free in slot 3: m1
    # can only go to slot 1, at the lowest table
    s1, s2 = world.slots[:2]
    assert _places(engine, world.m1, world.m2) == [(s1, 1), (s2, 2)]
    assert "imported 2 assignment(s)" in imported.output
    assert "scheduled 2 of 2 meetings, weight 4 of bound 4" in imported.output


# ---- import-schedule -----------------------------------------------------------------------


def _schedule_file(tmp_path, *assignments: tuple[object, object, object]):
    path = tmp_path / "schedule.json"
    rows = [{"meeting": m, "slot": s, "table": t} for m, s, t in assignments]
    path.write_text(json.dumps({"status": "feasible", "assignments": rows}), encoding="utf-8")
    return path


def _import(url, world, path, email="ana@example.org"):
    return invoke("import-schedule", str(world.event), str(path), "--as", email, "--url", url)


def test_import_sets_the_working_copy_and_unschedules_the_rest(url, world, engine, tmp_path):
    s1, s2, s3 = world.slots
    with Session(engine) as session:  # m1 was in slot 3 before: the file leaves it out
        session.get(Meeting, world.m1).slot_id = s3
        session.get(Meeting, world.m1).table_number = 1
        session.commit()
    path = _schedule_file(tmp_path, (str(world.m2), str(s2), 2))

    result = _import(url, world, path)

    assert result.exit_code == 0, result.output
    assert _places(engine, world.m1, world.m2) == [(None, None), (s2, 2)]
    assert "imported 1 assignment(s)" in result.output
    assert "1 meeting(s) changed" in result.output
    with Session(engine) as session:
        actions = list(session.scalars(select(AuditLog.action)))
    assert "schedule.imported" in actions


def test_import_accepts_whole_number_ids(url, world, engine, tmp_path):
    s1, s2, _ = world.slots
    path = _schedule_file(tmp_path, (world.m1, s1, 2), (world.m2, s2, 2))

    result = _import(url, world, path)

    assert result.exit_code == 0, result.output
    assert _places(engine, world.m1, world.m2) == [(s1, 2), (s2, 2)]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (lambda w: [(999, w.slots[0], 1)], "meeting '999': not a meeting to schedule"),
        # the cancelled meeting is not part of the event's schedule
        (lambda w: [(w.m3, w.slots[0], 1)], "meeting '{m3}': not a meeting to schedule"),
        (lambda w: [(w.m1, 424242, 1)], "meeting '{m1}': unknown slot 424242"),
        (lambda w: [(w.m1, w.slots[0], 3)], "meeting '{m1}': table 3 is out of range"),
        (lambda w: [(w.m1, w.slots[0], 0)], "meeting '{m1}': table 0 is out of range"),
        (
            lambda w: [(w.m1, w.slots[2], 1), (w.m2, w.slots[1], 2)],
            "meeting '{m1}': Bo (participant {bo}) is not available in "
            "slot '{s3}' (Tue 14 May 10:00)",
        ),
        (
            lambda w: [(w.m2, w.slots[1], 2), (w.m1, w.slots[1], 1)],
            "meeting '{m1}': Cy (participant {cy}) is twice in slot '{s2}'",
        ),
        (
            lambda w: [(w.m2, w.slots[1], 2), (w.m1, w.slots[1], 2)],
            "meeting '{m1}': table 2 in slot '{s2}' (Tue 14 May 09:30) is taken by meeting '{m2}'",
        ),
        (
            lambda w: [(w.m2, w.slots[1], 2), (w.m1, w.slots[0], 1), (w.m1, w.slots[0], 2)],
            "meeting '{m1}': assigned twice",
        ),
        (lambda w: [(w.m1, w.slots[0], 1)], "meeting '{m2}': it is locked to slot '{s2}'"),
        (
            lambda w: [(w.m1, w.slots[0], 1), (w.m2, w.slots[0], 2)],
            "meeting '{m2}': it is locked to slot '{s2}' (Tue 14 May 09:30), table 2",
        ),
    ],
)
def test_import_refuses_a_bad_assignment_and_changes_nothing(
    url, world, engine, tmp_path, rows, message
):
    s1, s2, s3 = world.slots
    before = _places(engine, world.m1, world.m2, world.m3)
    path = _schedule_file(tmp_path, *rows(world))

    result = _import(url, world, path)

    assert result.exit_code == 2, result.output
    expected = message.format(
        m1=world.m1, m2=world.m2, m3=world.m3, bo=world.bo, cy=world.cy, s2=s2, s3=s3
    )
    assert "error:" in result.output
    assert expected in " ".join(result.output.split())
    assert "nothing imported" in result.output
    assert _places(engine, world.m1, world.m2, world.m3) == before
    with Session(engine) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "schedule.imported")
            )
            == 0
        )


def test_import_refuses_going_over_a_cap(url, engine, tmp_path):
    with Session(engine) as session:
        ana = _user(session, "ana@example.org")
        event = make_event(session, ana, slots=2, tables=2)
        s1, s2 = session.scalars(
            select(EventSlot.id).where(EventSlot.event_id == event.id).order_by(EventSlot.id)
        )
        di = add_participant(session, event, _user(session, "di@x.org"), name="Di", max_meetings=1)
        a = add_participant(session, event, _user(session, "a@x.org"), name="A")
        b = add_participant(session, event, _user(session, "b@x.org"), name="B")
        first, second = add_meeting(session, di, a), add_meeting(session, di, b)
        session.commit()
        event_id, second_id = event.id, second.id
        ids = (first.id, second.id)
    path = _schedule_file(tmp_path, (ids[0], s1, 1), (ids[1], s2, 1))

    result = invoke(
        "import-schedule", str(event_id), str(path), "--as", "ana@example.org", "--url", url
    )

    assert result.exit_code == 2
    assert f"meeting '{second_id}': Di (participant" in result.output
    assert "more than their cap of 1" in result.output
    assert _places(engine, *ids) == [(None, None), (None, None)]


def test_import_of_a_file_that_is_not_json(url, world, tmp_path):
    path = tmp_path / "schedule.json"
    path.write_text("{not json", encoding="utf-8")

    result = _import(url, world, path)

    assert result.exit_code == 3
    assert "not valid JSON at line 1" in result.output


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("nobody@example.org", "no user with the e-mail 'nobody@example.org'"),
        ("bo@example.org", "bo@example.org is not the organiser of event"),
    ],
)
def test_import_as_someone_else_is_refused(url, world, engine, tmp_path, email, message):
    s1, s2, _ = world.slots
    path = _schedule_file(tmp_path, (world.m1, s1, 1), (world.m2, s2, 2))

    result = _import(url, world, path, email=email)

    assert result.exit_code == 2
    assert message in result.output
    assert _places(engine, world.m1) == [(None, None)]


def test_the_organiser_email_is_matched_whatever_its_case(url, world, engine, tmp_path):
    s1, s2, _ = world.slots
    path = _schedule_file(tmp_path, (world.m1, s1, 1), (world.m2, s2, 2))

    result = _import(url, world, path, email="ANA@Example.org")

    assert result.exit_code == 0, result.output
    assert _places(engine, world.m1) == [(s1, 1)]


# ---- schedule ------------------------------------------------------------------------------


def test_schedule_runs_the_solver_into_the_working_copy(url, world, engine):
    result = invoke(
        "schedule", str(world.event), "--as", "ana@example.org", "--time-limit", "5", "--url", url
    )

    assert result.exit_code == 0, result.output
    s1, s2 = world.slots[:2]
    assert _places(engine, world.m1, world.m2) == [(s1, 1), (s2, 2)]
    out = " ".join(result.output.split())
    assert "optimal" in out
    assert "gap 0.00%" in out
    assert "scheduled 2 of 2 meetings, weight 4 of bound 4 (100.0%)" in out
    # Bo, Cy and Di all have a meeting; Cy meets in slots 1 and 2: no idle gap
    assert "participants without meeting: 0 of 3 with meetings; idle gaps: 0" in out
    assert "not published" in out
    with Session(engine) as session:
        assert session.get(Event, world.event).schedule_version == 0
    assert _outbox(engine) == []


def test_schedule_and_publish_tells_the_people_with_meetings(url, world, engine):
    args = ("schedule", str(world.event), "--as", "ana@example.org", "--url", url)

    first = invoke(*args, "--publish", "--note", "See you there")
    again = invoke(*args, "--publish")

    assert first.exit_code == 0, first.output
    assert "published version 1; 3 participant(s) notified" in first.output
    assert _outbox(engine) == ["bo@example.org", "cy@example.org", "di@example.org"]
    with Session(engine) as session:
        assert session.get(Event, world.event).schedule_version == 1
    # the same schedule again: nothing to publish, an error; the run itself is kept
    assert again.exit_code == 2
    assert "nothing changed since version 1" in again.output
    assert len(_outbox(engine)) == 3


def test_schedule_refuses_a_participant_and_a_too_long_time_limit(url, world, engine):
    by_participant = invoke("schedule", str(world.event), "--as", "cy@example.org", "--url", url)
    too_long = invoke(
        "schedule",
        str(world.event),
        "--as",
        "ana@example.org",
        "--time-limit",
        "61",
        "--url",
        url,
    )

    assert by_participant.exit_code == 2
    assert "not the organiser" in by_participant.output
    assert too_long.exit_code == 2
    assert "error: time_limit:" in too_long.output
    assert _places(engine, world.m1) == [(None, None)]


def test_schedule_of_an_unknown_event(url, world):
    result = invoke("schedule", "4040", "--as", "ana@example.org", "--url", url)

    assert result.exit_code == 2
    assert "error: no event 4040" in result.output


# ---- expire-requests -----------------------------------------------------------------------


def test_expire_requests_of_one_event_then_of_all(url, engine):
    past = utcnow() - timedelta(hours=1)
    with Session(engine) as session:
        ana = _user(session, "ana@example.org")
        users = [_user(session, f"p{i}@example.org") for i in range(4)]
        first = make_event(session, ana, title="First", requests_deadline=past)
        second = make_event(session, ana, title="Second", requests_deadline=past)
        later = make_event(
            session, ana, title="Later", requests_deadline=utcnow() + timedelta(days=1)
        )
        p = [add_participant(session, first, u) for u in users[:3]]
        q = [add_participant(session, second, u) for u in users[2:]]
        r = [add_participant(session, later, u) for u in users[:2]]
        add_request(session, p[0], p[1])  # pending, due: expires (p0 told)
        add_request(session, p[2], p[0])  # pending, due: expires (p2 told)
        add_request(session, p[1], p[2], status=RequestStatus.accepted)  # answered: stays
        add_request(session, q[0], q[1])  # pending in the second event
        add_request(session, r[0], r[1])  # pending, deadline tomorrow: stays
        session.commit()
        first_id = first.id

    one = invoke("expire-requests", "--event", str(first_id), "--url", url)
    assert one.exit_code == 0, one.output
    assert f"2 pending request(s) of event {first_id} expired" in one.output
    assert _outbox(engine) == ["p0@example.org", "p2@example.org"]

    rest = invoke("expire-requests", "--url", url)
    assert rest.exit_code == 0, rest.output
    assert "1 pending request(s) expired" in rest.output
    with Session(engine) as session:
        statuses = sorted(s.value for s in session.scalars(select(MeetingRequest.status)))
    assert statuses == ["accepted", "expired", "expired", "expired", "pending"]
    assert _outbox(engine) == ["p0@example.org", "p2@example.org", "p2@example.org"]


def test_expire_requests_of_an_unknown_event(url):
    result = invoke("expire-requests", "--event", "77", "--url", url)

    assert result.exit_code == 2
    assert "error: no event 77" in result.output


# ---- dashboard -----------------------------------------------------------------------------


def test_dashboard_as_json(url, world):
    result = invoke("dashboard", str(world.event), "--json", "--url", url)

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["event_id"] == world.event
    assert data["registrations"] == {"pending": 1, "approved": 3, "declined": 0, "withdrawn": 0}
    # three accepted requests (one per meeting, m3's too): acceptance 3 of 3 answered
    assert data["requests"]["accepted"] == 3
    assert data["requests_sent"] == 3
    assert data["acceptance_rate"] == 1.0
    assert data["accepted_meetings"] == 2  # m3 is cancelled
    assert data["scheduled_meetings"] == 0  # nothing published
    assert data["schedule_version"] == 0
    assert data["no_show_rate"] is None
    assert datetime.fromisoformat(data["generated_at"]).tzinfo is not None


def test_dashboard_as_a_table(url, world):
    result = invoke("dashboard", str(world.event), "--url", url)

    assert result.exit_code == 0, result.output
    rows = {
        cells[0]: cells[1]
        for line in result.output.splitlines()
        if len(cells := [c.strip() for c in line.split("│")[1:-1]]) == 2
    }
    assert rows["registrations: approved"] == "3"
    assert rows["registrations: pending"] == "1"
    assert rows["acceptance rate"] == "100.0%"
    assert rows["accepted meetings"] == "2"
    assert rows["no-show rate"] == "–"
    assert rows["schedule version"] == "0"


def test_dashboard_of_an_unknown_event(url):
    result = invoke("dashboard", "5", "--url", url)

    assert result.exit_code == 2
    assert "error: no event 5" in result.output
