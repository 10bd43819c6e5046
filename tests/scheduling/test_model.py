"""Validation of events: defaults, and every problem reported with its item and field."""

import pytest

from clusteratlas.scheduling import ScheduleInputError, parse_event
from scheduling.events import event, slots

pytestmark = pytest.mark.unit


def _problems(data):
    with pytest.raises(ScheduleInputError) as info:
        parse_event(data)
    return info.value.problems


def test_parse_event_applies_the_defaults():
    data = event(3, 4, {"p1": None, "p2": ["s2"]}, [("p1", "p2")])

    parsed = parse_event(data)

    assert parsed.tables == {"s1": 4, "s2": 4, "s3": 4}
    assert parsed.participant("p1").available == {"s1", "s2", "s3"}
    assert parsed.participant("p1").max_meetings is None
    assert parsed.meetings[0].weight == 1
    assert parsed.meetings[0].locked_slot is None


def test_parse_event_orders_slots_by_time_across_offsets():
    data = event(0, 1, {}, [])
    data["slots"] = [
        {"id": "late", "start": "2026-05-04T10:00:00+02:00", "end": "2026-05-04T10:30:00+02:00"},
        # 07:30Z is 09:30+02:00: before "late" although it is listed after it
        {"id": "early", "start": "2026-05-04T07:30:00Z", "end": "2026-05-04T08:00:00Z"},
    ]

    assert parse_event(data).slot_ids() == ["early", "late"]


def test_parse_event_accepts_an_empty_event():
    parsed = parse_event({"slots": [], "tables": 0, "participants": [], "meetings": []})

    assert parsed.meetings == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["meetings"].append({"id": "m9", "a": "p1", "b": "nobody"}),
            "meeting 'm9': b is an unknown participant id 'nobody'",
        ),
        (
            lambda d: d["meetings"].append({"id": "m9", "a": "p1", "b": "p1"}),
            "meeting 'm9': a and b are the same participant 'p1'",
        ),
        (
            lambda d: d["meetings"].append({"id": "m1", "a": "p1", "b": "p2"}),
            "meeting 'm1': duplicate meeting id",
        ),
        (
            lambda d: d["participants"].append({"id": "p1"}),
            "participant 'p1': duplicate participant id",
        ),
        (lambda d: d["slots"].append(dict(d["slots"][0])), "slot 's1': duplicate slot id"),
        (
            lambda d: d["meetings"][0].update(weight=0),
            "meeting 'm1': weight must be a whole number ≥ 1, not 0",
        ),
        (
            lambda d: d["meetings"][0].update(weight=-2),
            "meeting 'm1': weight must be a whole number ≥ 1, not -2",
        ),
        (
            lambda d: d["meetings"][0].update(weight=1.5),
            "meeting 'm1': weight must be a whole number ≥ 1, not 1.5",
        ),
        (
            lambda d: d["meetings"][0].update(locked_slot="s9"),
            "meeting 'm1': locked_slot is an unknown slot id 's9'",
        ),
        (
            lambda d: d["meetings"][0].update(locked_slot="s1"),
            "meeting 'm1': locked to slot 's1' where 'p2' is not available",
        ),
        (
            lambda d: d["meetings"][0].update(locked_table=1),
            "meeting 'm1': locked_table needs a locked_slot",
        ),
        (
            lambda d: d["meetings"][0].update(locked_slot="s2", locked_table=3),
            "meeting 'm1': locked_table 3 is not a table of slot 's2' (1..2)",
        ),
        (
            lambda d: d["participants"][0].update(available=["s1", "s7"]),
            "participant 'p1': available names unknown slot ids ['s7']",
        ),
        (
            lambda d: d["participants"][0].update(max_meetings=-1),
            "participant 'p1': max_meetings must be a whole number ≥ 0, not -1",
        ),
        (
            lambda d: d.update(tables={"s1": 2, "s2": 2}),
            "tables: no number of tables for slot 's3'",
        ),
        (
            lambda d: d.update(tables={"s1": 2, "s2": 2, "s3": 1, "s4": 1}),
            "tables: unknown slot id 's4'",
        ),
        (lambda d: d.update(tables=-1), "tables: expected a whole number ≥ 0 or an object, not -1"),
        (
            lambda d: d["slots"][0].update(start="09:00"),
            "slot 's1': start: '09:00' is not an ISO-8601 date-time",
        ),
        (
            lambda d: d["slots"][0].update(end="2026-05-04T09:25:00"),
            "slot 's1': end: '2026-05-04T09:25:00' has no UTC offset (write e.g. +02:00 or Z)",
        ),
        (
            lambda d: d["slots"][1].update(start="2026-05-04T09:10:00+02:00"),
            "slot 's2': overlaps slot 's1' (slots must not overlap: nobody can be in two at once)",
        ),
        (lambda d: d.update(rooms=3), "unknown top-level keys ['rooms']"),
    ],
)
def test_parse_event_names_the_item_and_field(change, expected):
    data = event(3, 2, {"p1": None, "p2": ["s2", "s3"], "p3": None}, [("p1", "p2"), ("p1", "p3")])
    change(data)

    assert expected in _problems(data)


def test_parse_event_rejects_locks_that_cannot_all_hold():
    people = {"p1": (None, 1), "p2": None, "p3": None, "p4": None}
    data = event(
        2, 1, people, [("p1", "p2", 1, "s1"), ("p3", "p4", 1, "s1"), ("p1", "p3", 1, "s2")]
    )
    data["meetings"].append({"id": "m4", "a": "p2", "b": "p4", "locked_slot": "s2"})

    problems = _problems(data)

    assert problems == [
        "slot 's1': 2 meetings are locked to it but it has 1 tables (m1, m2)",
        "slot 's2': 2 meetings are locked to it but it has 1 tables (m3, m4)",
        "participant 'p1': 2 locked meetings exceed max_meetings 1",
    ]


def test_parse_event_rejects_two_locks_of_one_person_in_a_slot():
    data = event(
        1, 5, {"p1": None, "p2": None, "p3": None}, [("p1", "p2", 1, "s1"), ("p1", "p3", 1, "s1")]
    )

    assert _problems(data) == ["participant 'p1': locked into 2 meetings in slot 's1' (m1, m2)"]


def test_parse_event_rejects_one_table_locked_twice():
    data = event(
        1,
        5,
        {"p1": None, "p2": None, "p3": None, "p4": None},
        [("p1", "p2", 1, "s1"), ("p3", "p4", 1, "s1")],
    )
    for m in data["meetings"]:
        m["locked_table"] = 2

    assert _problems(data) == ["slot 's1': table 2 is locked for m1, m2"]


def test_parse_event_lists_every_problem_in_the_message():
    data = {
        "slots": slots(1),
        "tables": 1,
        "participants": [{"id": ""}],
        "meetings": [{"id": "m", "a": "x", "b": "y"}],
    }

    with pytest.raises(
        ScheduleInputError, match=r"^3 problems in the event: participants\[0\]: id must be"
    ):
        parse_event(data)
