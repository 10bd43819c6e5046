"""The solver, the heuristic and re-scheduling: every schedule passes the independent checker,
and on tiny events the objectives equal the optimum found by enumeration."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusteratlas.scheduling import (
    Assignment,
    Schedule,
    ScheduleInputError,
    heuristic,
    parse_event,
    reschedule,
    solve,
)
from clusteratlas.scheduling.heuristic import compact_slots
from clusteratlas.scheduling.relaxation import lp_bound
from scheduling.brute import best, with_tables
from scheduling.checker import measure, violations
from scheduling.events import event, tiny_events

pytestmark = pytest.mark.unit

#: CP-SAT time limit in tests (tiny events are proven in milliseconds)
LIMIT = 1.0


def _as_dict(schedule):
    return schedule.to_dict()


def _slot_of(schedule):
    return {a.meeting: a.slot for a in schedule.assignments}


def _locks_can_hold(data):
    """Independent: could the locked meetings alone be scheduled?"""
    avail = {
        p["id"]: set(p["available"]) if "available" in p else {s["id"] for s in data["slots"]}
        for p in data["participants"]
    }
    caps = {p["id"]: p.get("max_meetings") for p in data["participants"]}
    tables = data["tables"]
    locked = [m for m in data["meetings"] if m.get("locked_slot")]
    per_slot, per_person, person_slot = {}, {}, set()
    for m in locked:
        s = m["locked_slot"]
        per_slot[s] = per_slot.get(s, 0) + 1
        for p in (m["a"], m["b"]):
            if s not in avail[p] or (p, s) in person_slot:
                return False
            person_slot.add((p, s))
            per_person[p] = per_person.get(p, 0) + 1
    if any(n > (tables if isinstance(tables, int) else tables[s]) for s, n in per_slot.items()):
        return False
    return all(caps[p] is None or n <= caps[p] for p, n in per_person.items())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_events())
def test_solve_is_valid_and_lexicographically_optimal(data):
    if not _locks_can_hold(data):
        with pytest.raises(ScheduleInputError):
            parse_event(data)
        return

    schedule = solve(parse_event(data), time_limit=LIMIT)

    assert violations(data, _as_dict(schedule)) == []
    assert schedule.status == "optimal"
    assert measure(data, _slot_of(schedule)) == best(data)
    assert schedule.objective == schedule.bound == best(data)[0]


@settings(max_examples=40, deadline=None)
@given(tiny_events(max_meetings=6))
def test_heuristic_is_valid_and_within_its_bound(data):
    if not _locks_can_hold(data):
        return

    schedule = heuristic(parse_event(data))

    assert violations(data, _as_dict(schedule)) == []
    assert schedule.objective <= best(data)[0] <= schedule.bound


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_events(max_meetings=4, locks=False), st.randoms(use_true_random=False))
def test_reschedule_moves_as_few_meetings_as_possible(data, rnd):
    before = solve(parse_event(data), time_limit=LIMIT)
    # a change: one meeting dropped and one person loses a slot
    changed = {
        **data,
        "meetings": list(data["meetings"]),
        "participants": list(data["participants"]),
    }
    if changed["meetings"]:
        changed["meetings"].pop(rnd.randrange(len(changed["meetings"])))
    slot_ids = [s["id"] for s in data["slots"]]
    if slot_ids:
        i = rnd.randrange(len(changed["participants"]))
        p = dict(changed["participants"][i])
        p["available"] = [s for s in p.get("available", slot_ids) if s != rnd.choice(slot_ids)]
        changed["participants"][i] = p
    ids = {m["id"] for m in changed["meetings"]}
    previous = {mid: s for mid, s in _slot_of(before).items() if mid in ids}

    after = reschedule(parse_event(changed), before, time_limit=LIMIT)

    assert violations(changed, _as_dict(after)) == []
    assert after.status == "optimal"
    assert measure(changed, _slot_of(after), previous=previous) == best(changed, previous=previous)
    assert after.moved == best(changed, previous=previous)[-1]


def test_solve_prefers_weight_then_fairness_then_compact_agendas():
    # one table per slot, three slots. p1-p2 weighs 3; p3 has one request (with p1).
    # Weight first: m1 (3) + two of the 1s. Fairness: p3 must get m2. Gaps: p1's two meetings
    # adjacent.
    data = event(
        3,
        1,
        {"p1": None, "p2": None, "p3": None, "p4": None},
        [("p1", "p2", 3), ("p1", "p3", 1), ("p2", "p4", 1), ("p2", "p4", 1)],
    )

    schedule = solve(parse_event(data), time_limit=LIMIT)

    slot_of = _slot_of(schedule)
    assert violations(data, _as_dict(schedule)) == []
    assert schedule.objective == 5
    assert "m2" in slot_of  # p3's only request
    assert schedule.without_meetings == 0
    assert schedule.idle_gaps == 0
    assert measure(data, slot_of) == (5, 0, 1, 0)  # F_2 = 1: p3 has one request, p4 one meeting


def test_solve_keeps_locked_slots_and_tables():
    data = event(2, 3, {"p1": None, "p2": None, "p3": None}, [("p1", "p2", 1, "s2"), ("p1", "p3")])
    data["meetings"][0]["locked_table"] = 3

    schedule = solve(parse_event(data), time_limit=LIMIT)

    assert violations(data, _as_dict(schedule)) == []
    assert [(a.meeting, a.slot, a.table) for a in schedule.assignments] == [
        ("m2", "s1", 1),
        ("m1", "s2", 3),
    ]


def test_solve_an_empty_event():
    data = {"slots": [], "tables": 0, "participants": [], "meetings": []}

    schedule = solve(parse_event(data), time_limit=LIMIT)

    assert (schedule.status, schedule.objective, schedule.bound) == ("optimal", 0, 0)
    assert schedule.to_dict()["assignments"] == []


def test_solve_a_medium_event_is_valid_and_beats_or_ties_the_heuristic():
    import random

    rng = random.Random(3)
    people = {f"p{i}": sorted(rng.sample([f"s{j}" for j in range(1, 7)], 4)) for i in range(30)}
    pairs = set()
    while len(pairs) < 70:
        a, b = rng.sample(sorted(people), 2)
        pairs.add((min(a, b), max(a, b)))
    data = event(6, 8, people, [(a, b, rng.choice([1, 1, 2])) for a, b in sorted(pairs)])
    parsed = parse_event(data)

    exact = solve(parsed, time_limit=LIMIT)
    quick = heuristic(parsed)

    assert violations(data, _as_dict(exact)) == []
    assert violations(data, _as_dict(quick)) == []
    assert quick.objective <= exact.objective <= exact.bound
    assert exact.bound <= quick.bound
    assert measure(data, _slot_of(exact))[0] == exact.objective


@settings(max_examples=40, deadline=None)
@given(tiny_events(max_meetings=6))
def test_lp_bound_is_an_upper_bound_on_the_weight(data):
    if not _locks_can_hold(data):
        return

    bound = lp_bound(parse_event(data))

    assert bound >= best(data)[0]


@settings(max_examples=30, deadline=None)
@given(tiny_events(max_meetings=6))
def test_compact_slots_keeps_the_meetings_and_never_adds_gaps(data):
    if not _locks_can_hold(data):
        return
    parsed = parse_event(data)
    start = _slot_of(solve(parsed, time_limit=LIMIT, gaps=False))  # gaps not optimised

    compacted = compact_slots(parsed, start, time_limit=LIMIT)

    assert set(compacted) == set(start)
    assert violations(data, with_tables(data, compacted)) == []
    assert measure(data, compacted)[:-1] == measure(data, start)[:-1]  # weight, F_1, F_2
    assert measure(data, compacted)[-1] <= measure(data, start)[-1]  # gaps


def test_solve_uses_the_heuristic_alone_when_the_model_is_too_large_for_the_time():
    import random

    rng = random.Random(5)
    people = {f"p{i}": None for i in range(40)}
    pairs = set()
    while len(pairs) < 120:
        a, b = rng.sample(sorted(people), 2)
        pairs.add((min(a, b), max(a, b)))
    data = event(8, 10, people, sorted(pairs))  # 960 slot variables > 2,000 × 0.2 s

    schedule = solve(parse_event(data), time_limit=0.2)

    assert schedule.method == "greedy"
    assert schedule.steps[0].startswith("heuristic only: 960 slot variables")
    assert violations(data, _as_dict(schedule)) == []
    assert schedule.objective <= schedule.bound


def test_compact_slots_closes_a_gap_by_a_move_and_by_a_swap():
    # p1 meets in s1 and s3 with s2 empty: a move closes the gap. With s2 taken by p4-p5
    # (one table), only a swap of slots with that meeting does.
    data = event(3, 1, {f"p{i}": None for i in range(1, 6)}, [("p1", "p2"), ("p1", "p3")])
    parsed = parse_event(data)
    moved = compact_slots(parsed, {"m1": "s1", "m2": "s3"})
    data_full = event(
        3, 1, {f"p{i}": None for i in range(1, 6)}, [("p1", "p2"), ("p1", "p3"), ("p4", "p5")]
    )
    swapped = compact_slots(parse_event(data_full), {"m1": "s1", "m2": "s3", "m3": "s2"})

    assert measure(data, moved)[-1] == 0
    assert measure(data_full, swapped)[-1] == 0
    assert violations(data_full, with_tables(data_full, swapped)) == []


def test_reschedule_keeps_tables_of_meetings_that_stay():
    data = event(2, 3, {f"p{i}": None for i in range(1, 7)}, [("p1", "p2"), ("p3", "p4")])
    before = Schedule("optimal", 2, 2, (Assignment("m2", "s1", 1), Assignment("m1", "s1", 3)), ())
    data["meetings"].append({"id": "m3", "a": "p5", "b": "p6", "locked_slot": "s1"})

    after = reschedule(parse_event(data), before, time_limit=LIMIT)

    assert violations(data, _as_dict(after)) == []
    assert after.moved == 0
    assert {(a.meeting, a.slot, a.table) for a in after.assignments} == {
        ("m1", "s1", 3),
        ("m2", "s1", 1),
        ("m3", "s1", 2),
    }
