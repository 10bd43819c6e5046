"""``clusteratlas schedule``: the file contract of issue 6, end to end, and its errors."""

import json

import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app
from scheduling.checker import violations
from scheduling.events import event

pytestmark = pytest.mark.integration


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def event_file(tmp_path):
    data = event(
        3,
        {"s1": 1, "s2": 2, "s3": 1},
        {"p1": None, "p2": (["s2", "s3"], 8), "p3": None, "p4": None},
        [("p1", "p2", 2), ("p1", "p3"), ("p3", "p4", 1, "s2"), ("p2", "p4"), ("p2", "p3")],
    )
    data["meetings"][2]["locked_slot"] = "s2"
    data["meetings"][0]["locked_slot"] = None  # null means not locked
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, data


def test_schedule_writes_the_contract_and_a_valid_schedule(event_file, tmp_path):
    path, data = event_file
    out = tmp_path / "schedule.json"

    result = run("schedule", path, "--out", out, "--time-limit", 1)

    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert list(written)[:5] == ["status", "objective", "bound", "assignments", "unscheduled"]
    assert written["status"] == "optimal"
    assert violations(data, written) == []
    # 3 slots, p2 only in s2-s3: at most 5 meetings fit the tables (1+2+1) and people
    assert written["objective"] == written["bound"] == 5
    assert "optimal: scheduled 4 of 5 meetings, weight 5 of bound 5" in result.output
    assert "participants with requests but no meeting: 0" in result.output


def test_schedule_reschedules_from_a_previous_schedule(event_file, tmp_path):
    path, data = event_file
    first = tmp_path / "first.json"
    run("schedule", path, "--out", first, "--time-limit", 1)
    data["participants"][3]["available"] = ["s1", "s2"]  # p4 cannot stay for s3
    path.write_text(json.dumps(data), encoding="utf-8")
    second = tmp_path / "second.json"

    result = run("schedule", path, "--out", second, "--previous", first, "--time-limit", 1)

    assert result.exit_code == 0, result.output
    written = json.loads(second.read_text(encoding="utf-8"))
    assert violations(data, written) == []
    assert written["summary"]["moved"] is not None
    assert "moved" in result.output


def test_schedule_heuristic_only(event_file, tmp_path):
    path, data = event_file
    out = tmp_path / "schedule.json"

    result = run("schedule", path, "--out", out, "--heuristic")

    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert violations(data, written) == []
    assert written["objective"] <= written["bound"]


def test_schedule_reports_malformed_json_with_line_and_column(tmp_path):
    path = tmp_path / "event.json"
    path.write_text('{"slots": [\n  {"id": "s1",}\n]}', encoding="utf-8")

    result = run("schedule", path, "--out", tmp_path / "s.json")

    assert result.exit_code == 3
    assert f"error: {path}: not valid JSON at line 2, column 15" in result.output
    assert not (tmp_path / "s.json").exists()


def test_schedule_reports_unknown_ids_and_infeasible_locks(event_file, tmp_path):
    path, data = event_file
    data["meetings"].append({"id": "m9", "a": "p1", "b": "ghost"})
    data["meetings"][0]["locked_slot"] = "s1"  # p2 is not available in s1
    path.write_text(json.dumps(data), encoding="utf-8")

    result = run("schedule", path, "--out", tmp_path / "s.json")

    assert result.exit_code == 3
    assert f"error: {path}: 2 problems:" in result.output
    assert "  - meeting 'm1': locked to slot 's1' where 'p2' is not available" in result.output
    assert "  - meeting 'm9': b is an unknown participant id 'ghost'" in result.output
    assert "Traceback" not in result.output


def test_schedule_checks_the_output_before_solving(event_file, tmp_path):
    path, _ = event_file

    result = run("schedule", path, "--out", tmp_path / "schedule.csv")

    assert result.exit_code == 3
    assert "name the file *.json" in result.output


def test_schedule_reports_a_missing_event_file(tmp_path):
    result = run("schedule", tmp_path / "none.json", "--out", tmp_path / "s.json")

    assert result.exit_code == 3
    assert "no such event file" in result.output
