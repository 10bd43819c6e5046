"""The agenda as iCalendar (RFC 5545), read back with a small parser written here (unfold,
split, unescape) and compared with lines written by hand: CRLF ends, lines of at most 75
octets, escaping, UTC times, stable UIDs and the schedule version as SEQUENCE."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clusteratlas.collaboration.ics import agenda_ics, escape_text, fold
from clusteratlas.collaboration.models import User
from clusteratlas.collaboration.schedules import agenda, move_meeting, publish_schedule
from collaboration.event_fixtures import add_meeting, add_participant, make_event, make_organisation

pytestmark = pytest.mark.integration

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def unfold(text: str) -> list[str]:
    """RFC 5545 3.1: every line ends with CRLF; a CRLF followed by a space or tab continues."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    physical = text[:-2].split("\r\n")
    for line in physical:
        assert len(line.encode("utf-8")) <= 75, line
    logical: list[str] = []
    for line in physical:
        if line[:1] in (" ", "\t"):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def components(lines: list[str]) -> list[dict[str, str]]:
    """The VEVENTs as {property name: raw value}."""
    events, current = [], None
    for line in lines:
        name, _, value = line.partition(":")
        name = name.split(";")[0]
        if (name, value) == ("BEGIN", "VEVENT"):
            current = {}
        elif (name, value) == ("END", "VEVENT"):
            events.append(current)
            current = None
        elif current is not None:
            assert name not in current, f"{name} twice"
            current[name] = value
    return events


def test_escape_and_fold_by_hand():
    assert escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
    line = "DESCRIPTION:" + "x" * 70
    assert fold(line) == "DESCRIPTION:" + "x" * 63 + "\r\n " + "x" * 7
    # a multi-byte character is never split: "é" is 2 octets
    folded = fold("SUMMARY:" + "é" * 40)
    first, second = folded.split("\r\n")
    assert first == "SUMMARY:" + "é" * 33  # 8 + 66 = 74 octets; one more would be 76
    assert second == " " + "é" * 7
    assert fold("SHORT:x") == "SHORT:x"


@pytest.fixture
def published(session, create_user):
    olga = create_user("olga@example.org")
    event = make_event(session, olga, title="Clusters meet Regions", slots=3, tables=4)
    slots = sorted(event.slots, key=lambda s: s.starts_at)
    nord = make_organisation(session, "Nord; Energie, S.A.")
    ana = add_participant(session, event, create_user("ana@example.org"), name="Ana Silva")
    ben = add_participant(
        session,
        event,
        create_user("ben@example.org"),
        name="Ben Brown",
        organisation=nord,
        headline="Hydrogen storage\nand grids",
    )
    cleo = add_participant(session, event, create_user("cleo@example.org"), name="Cléo Dupont-Ærø")
    m1 = add_meeting(session, ana, ben, slot=slots[0], table=4)
    m2 = add_meeting(session, ana, cleo, slot=slots[2], table=1)
    publish_schedule(session, event, actor=olga)
    return event, ana, m1, m2


def test_agenda_ics_parsed_back(session, published):
    event, ana, m1, m2 = published
    text = agenda_ics(agenda(session, ana), host="atlas.example.org", now=NOW)
    lines = unfold(text)
    assert lines[:6] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Cluster Atlas//Matchmaking agenda//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Clusters meet Regions: Ana Silva",
    ]
    assert lines[-1] == "END:VCALENDAR"
    first, second = components(lines)
    assert first["UID"] == f"meeting-{m1.id}@atlas.example.org"
    assert first["DTSTAMP"] == "20300501T120000Z"
    # slot 1: 2030-05-14 07:00–07:30 UTC (09:00 in Brussels)
    assert first["DTSTART"] == "20300514T070000Z"
    assert first["DTEND"] == "20300514T073000Z"
    assert first["SEQUENCE"] == "1"
    assert first["SUMMARY"] == "Meeting with Ben Brown (Nord\\; Energie\\, S.A.)"
    assert unescape(first["SUMMARY"]) == "Meeting with Ben Brown (Nord; Energie, S.A.)"
    assert first["LOCATION"] == "Table 4\\, Brussels"
    assert unescape(first["DESCRIPTION"]).split("\n") == [
        "Meeting with Ben Brown (Nord; Energie, S.A.)",
        "Hydrogen storage",
        "and grids",
        "Where: table 4",
        "Clusters meet Regions, schedule version 1",
    ]
    assert second["UID"] == f"meeting-{m2.id}@atlas.example.org"
    assert (second["DTSTART"], second["DTEND"]) == ("20300514T080000Z", "20300514T083000Z")
    assert unescape(second["SUMMARY"]) == "Meeting with Cléo Dupont-Ærø"


def test_uid_stable_and_sequence_follows_the_version(session, published, create_user):
    event, ana, m1, _m2 = published
    organiser = session.get(User, event.organiser_id)
    slots = sorted(event.slots, key=lambda s: s.starts_at)
    move_meeting(session, event, m1, slots[1], 2, actor=organiser)
    publish_schedule(session, event, actor=organiser)
    first = components(unfold(agenda_ics(agenda(session, ana), host="atlas.example.org", now=NOW)))[
        0
    ]
    assert first["UID"] == f"meeting-{m1.id}@atlas.example.org"
    assert first["SEQUENCE"] == "2"
    assert first["DTSTART"] == "20300514T073000Z"
    assert first["LOCATION"] == "Table 2\\, Brussels"


def test_empty_agenda_is_a_valid_calendar(session, create_user):
    olga = create_user("olga@example.org")
    event = make_event(session, olga)
    ana = add_participant(session, event, create_user(), name="Ana")
    lines = unfold(agenda_ics(agenda(session, ana), now=NOW))
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert components(lines) == []


def test_online_meeting_location_is_its_link(session, create_user):
    olga = create_user("olga@example.org")
    event = make_event(
        session,
        olga,
        slots=1,
        tables=0,
        virtual_link_template="https://meet.example.org/x-{meeting}",
    )
    slot = event.slots[0]
    a = add_participant(session, event, create_user(), name="Ana")
    b = add_participant(session, event, create_user(), name="Ben")
    meeting = add_meeting(session, a, b, slot=slot, table=1)
    publish_schedule(session, event, actor=olga)
    vevent = components(unfold(agenda_ics(agenda(session, a), now=NOW)))[0]
    assert vevent["LOCATION"] == f"https://meet.example.org/x-{meeting.id}"
    assert vevent["URL"] == f"https://meet.example.org/x-{meeting.id}"
