"""``clusteratlas schedule``: meeting schedules of matchmaking events (issue 6).

Registered on the main app by importing this module at the end of ``cli/__init__.py``. Reads
EVENT.json, calls the pure scheduler (``clusteratlas.scheduling``; OR-Tools is imported inside
the command) and writes SCHEDULE.json whole or not at all, one assignment per line. The file
contract is in docs/scheduling.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from clusteratlas.cli import _AbortError, _errors, app, err

__all__ = ["schedule"]


def _read_json(path: Path, what: str) -> Any:
    """The parsed file, or ``error: …`` naming the line and column of a JSON mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _AbortError(f"{path}: no such {what} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _AbortError(f"{path}: cannot read the {what} file ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _AbortError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def _previous(path: Path) -> Any:
    """A previous SCHEDULE.json as a Schedule (its assignments: slots and tables)."""
    from clusteratlas.scheduling import Assignment, Schedule

    data = _read_json(path, "previous schedule")
    rows = data.get("assignments") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and isinstance(r.get("meeting"), str) and isinstance(r.get("slot"), str)
        for r in rows
    ):
        raise _AbortError(
            f"{path}: expected a SCHEDULE.json with assignments [{{meeting, slot, table}}]"
        )
    assignments = tuple(
        Assignment(r["meeting"], r["slot"], r["table"] if isinstance(r.get("table"), int) else 0)
        for r in rows
    )
    return Schedule("feasible", 0, 0, assignments, ())


def _write_json(data: Any, path: Path) -> None:
    """Write to a temporary file beside ``path`` and rename it: whole or not at all."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(_dumps(data))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _dumps(data: dict[str, Any]) -> str:
    """JSON with one line per key, and per item of a list of objects (readable diffs)."""
    lines = []
    for key, value in data.items():
        head = f" {json.dumps(key)}: "
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = ",\n".join(f"  {json.dumps(v, ensure_ascii=False)}" for v in value)
            lines.append(f"{head}[\n{items}\n ]")
        else:
            lines.append(head + json.dumps(value, ensure_ascii=False))
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _check_out(out: Path) -> None:
    from clusteratlas.cli.output import check_output

    if check_output(out) != "json":
        raise _AbortError(f"{out}: the schedule is written as JSON; name the file *.json")


@app.command()
def schedule(
    event_path: Annotated[
        Path,
        typer.Argument(
            metavar="EVENT.json",
            help="The event: slots (id, start, end with UTC offset), tables (a number or per "
            "slot), participants (id, available, max_meetings) and meetings (id, a, b, weight, "
            "locked_slot, locked_table). See docs/scheduling.md.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="SCHEDULE.json: status, objective, bound, assignments, unscheduled, summary.",
            show_default=False,
        ),
    ],
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            min=0.1,
            help="Seconds for the solver, all objectives together (it stops earlier when every "
            "one is proven optimal).",
        ),
    ] = 10.0,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="A previous SCHEDULE.json: re-schedule moving as few of its meetings as "
            "possible (after the total weight).",
        ),
    ] = None,
    heuristic_only: Annotated[
        bool,
        typer.Option(
            "--heuristic",
            help="Only the fast greedy schedule (very large events); its bound is a simple one.",
        ),
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=8, help="CP-SAT worker threads.")
    ] = 1,
) -> None:
    """Schedule the accepted meetings of an event into slots and tables, optimally."""
    with _errors():
        from clusteratlas.scheduling import ScheduleInputError, parse_event

        _check_out(out)
        data = _read_json(event_path, "event")
        old = _previous(previous) if previous is not None else None
        try:
            event = parse_event(data)
        except ScheduleInputError as exc:
            lines = "\n".join(f"  - {p}" for p in exc.problems)
            n = len(exc.problems)
            raise _AbortError(
                f"{event_path}: {n} problem{'s' if n != 1 else ''}:\n{lines}"
            ) from None
        result = _run(event, time_limit, workers, old, heuristic_only)
        _write_json(result.to_dict(), out)
        _summary(result, out)


def _run(event: Any, time_limit: float, workers: int, old: Any, heuristic_only: bool) -> Any:
    try:
        from clusteratlas.scheduling import heuristic, reschedule, solve
    except ImportError:  # pragma: no cover - depends on the installation
        raise _AbortError("scheduling needs `pip install clusteratlas[scheduling]`") from None
    if heuristic_only:
        return heuristic(event, time_limit=time_limit)
    status = err.status("importing OR-Tools", spinner="dots") if err.is_terminal else None
    with status if status is not None else nullcontext():
        from ortools.sat.python import cp_model  # noqa: F401 - slow import, shown as a status

        def progress(step: str, value: float, bound: float, seconds: float) -> None:
            if status is not None:
                status.update(
                    f"solving: {step} {value:,.0f} (bound {bound:,.0f}) · {seconds:.1f} s "
                    f"of {time_limit:g} s"
                )

        if status is not None:
            status.update(f"solving {len(event.meetings):,} meetings (≤ {time_limit:g} s)")
        if old is not None:
            result = reschedule(
                event, old, time_limit=time_limit, workers=workers, progress=progress
            )
        else:
            result = solve(event, time_limit=time_limit, workers=workers, progress=progress)
    return result


def _summary(result: Any, out: Path) -> None:
    total = len(result.assignments) + len(result.unscheduled)
    gap = f"gap {result.gap:.2%}" if result.bound else "no meetings possible"
    err.print(
        f"{result.status}: scheduled {len(result.assignments):,} of {total:,} meetings, "
        f"weight {result.objective:,} of bound {result.bound:,} ({gap})",
        markup=False,
    )
    moved = f"; moved {result.moved:,}" if result.moved is not None else ""
    err.print(
        f"participants with requests but no meeting: {result.without_meetings:,}; "
        f"idle gaps: {result.idle_gaps:,}{moved}; {result.seconds:.1f} s",
        markup=False,
    )
    proven = [step.split(":")[0] for step in result.steps if ": optimal" in step]
    unproven = [step.split(":")[0] for step in result.steps if ": optimal" not in step]
    if proven or unproven:
        err.print(
            f"proven optimal: {', '.join(proven) or 'none'}; "
            f"not proven: {', '.join(unproven) or 'none'}",
            markup=False,
        )
    err.print(f"wrote {out}", markup=False)
