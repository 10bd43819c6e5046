"""``clusteratlas events``: matchmaking events (issue 6) from the command line.

``list`` shows every event with its figures; ``expire-requests`` expires the pending meeting
requests past their deadline (run it from cron); ``export`` writes an event as the scheduler's
EVENT.json (docs/scheduling.md), so that a very large event can be scheduled offline with
``clusteratlas schedule``, and ``import-schedule`` sets the organiser's working copy from the
SCHEDULE.json that comes back; ``schedule`` runs the scheduler on the database (and publishes
with ``--publish``); ``dashboard`` prints the organiser's figures.

Commands that change an event act as its organiser (``--as EMAIL``), with the same checks as
the web pages. Unknown event, unknown e-mail, someone who is not the organiser, and input the
domain refuses are ``error: …`` with exit status 2; a file that cannot be read or is not JSON
is exit status 3, as for ``clusteratlas schedule``. Notifications go to the outbox (send them
with ``clusteratlas mail send``). Registered on the main app by
``app.add_typer(events_app, name="events")`` in ``cli/__init__.py``; SQLAlchemy is imported
inside the commands.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from clusteratlas.cli import ExitStatus, _AbortError, _errors, err
from clusteratlas.cli.db import UrlOpt, _database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clusteratlas import scheduling
    from clusteratlas.collaboration.models import Event, User

__all__ = ["events_app"]

events_app = typer.Typer(
    help="Matchmaking events: list them, expire requests, export, schedule, import a schedule, "
    "dashboard.",
    no_args_is_help=True,
    add_completion=False,
)

EventArg = Annotated[
    int, typer.Argument(metavar="EVENT_ID", help="The event's id (see `events list`).")
]
AsOpt = Annotated[
    str,
    typer.Option(
        "--as",
        metavar="ORGANISER_EMAIL",
        help="Act as this user: the event's organiser (or an administrator).",
        show_default=False,
    ),
]


def _console() -> Console:
    return Console(highlight=False, emoji=False, width=None if err.is_terminal else 160)


def _refused(message: str) -> _AbortError:
    return _AbortError(message, ExitStatus.USAGE)


@contextmanager
def _domain() -> Iterator[None]:
    """The domain's refusals (no such event, not the organiser, invalid input) as ``error: …``
    with exit status 2."""
    from clusteratlas.collaboration import PermissionDenied, ValidationError
    from clusteratlas.collaboration.event_access import EventNotFound

    try:
        yield
    except ValidationError as exc:
        raise _refused("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
    except (PermissionDenied, EventNotFound) as exc:
        raise _refused(str(exc)) from None


def _event(session: Session, event_id: int) -> Event:
    from clusteratlas.collaboration.models import Event

    event = session.get(Event, event_id)
    if event is None:
        raise _refused(f"no event {event_id}")
    return event


def _organiser(session: Session, event: Event, email: str) -> User:
    """The user with ``email``, if they may organise ``event``."""
    from clusteratlas.collaboration.accounts import find_user_by_email
    from clusteratlas.collaboration.event_access import is_organiser

    user = find_user_by_email(session, email)
    if user is None:
        raise _refused(f"--as: no user with the e-mail {email!r}")
    if not is_organiser(user, event):
        raise _refused(
            f"--as: {user.email} is not the organiser of event {event.id} ({event.title!r})"
        )
    return user


def _dates(event: Event) -> str:
    """The event's span in its own time zone."""
    from clusteratlas.collaboration.event_access import local_time

    if event.starts_at is None or event.ends_at is None:
        return "no sessions yet"
    start, end = local_time(event, event.starts_at), local_time(event, event.ends_at)
    until = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{until} {event.timezone}"


# ---- list ----------------------------------------------------------------------------------


@events_app.command("list")
def list_(
    url: UrlOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=10_000, help="How many events.")
    ] = 100,
) -> None:
    """Every event with its participants, meetings and schedule version.

    Drafts and cancelled events too, latest first; dates in the event's time zone.
    Meetings: accepted (from requests, not cancelled), scheduled in the working copy.
    Version: of the published schedule (0: none yet).
    """
    with _errors():
        from sqlalchemy import func, select

        from clusteratlas.collaboration.db import session_factory
        from clusteratlas.collaboration.models import (
            Event,
            Meeting,
            MeetingOrigin,
            Participant,
            ParticipantStatus,
        )

        with _database(url) as engine, session_factory(engine)() as session:
            events = list(
                session.scalars(
                    select(Event)
                    .order_by(Event.starts_at.desc().nulls_first(), Event.id.desc())
                    .limit(limit)
                )
            )
            total = session.scalar(select(func.count()).select_from(Event)) or 0
            ids = [e.id for e in events]
            people: Counter[tuple[int, str]] = Counter()
            for event_id, status, n in session.execute(
                select(Participant.event_id, Participant.status, func.count())
                .where(Participant.event_id.in_(ids))
                .group_by(Participant.event_id, Participant.status)
            ):
                people[event_id, ParticipantStatus(status).value] = n
            accepted: Counter[int] = Counter()
            scheduled: Counter[int] = Counter()
            for event_id, has_slot, n in session.execute(
                select(Meeting.event_id, Meeting.slot_id.is_not(None), func.count())
                .where(
                    Meeting.event_id.in_(ids),
                    Meeting.origin == MeetingOrigin.request,
                    Meeting.cancelled_at.is_(None),
                )
                .group_by(Meeting.event_id, Meeting.slot_id.is_not(None))
            ):
                accepted[event_id] += n
                if has_slot:
                    scheduled[event_id] += n
            table = Table(title=f"Events: {len(events)} of {total}", title_justify="left")
            for name in ("id", "title", "status", "dates"):
                table.add_column(name, justify="right" if name == "id" else "left")
            for name in ("approved", "pending", "accepted", "scheduled", "version"):
                table.add_column(name, justify="right")
            for event in events:
                table.add_row(
                    str(event.id),
                    event.title,
                    event.status.value,
                    _dates(event),
                    str(people[event.id, "approved"]),
                    str(people[event.id, "pending"]),
                    str(accepted[event.id]),
                    str(scheduled[event.id]),
                    str(event.schedule_version),
                )
            if events:
                _console().print(table)
        err.print(f"{total} event(s)", markup=False)


# ---- expire-requests -----------------------------------------------------------------------


@events_app.command("expire-requests")
def expire_requests(
    url: UrlOpt = None,
    event_id: Annotated[
        int | None, typer.Option("--event", help="Only this event (default: every event).")
    ] = None,
) -> None:
    """Expire the pending meeting requests past their deadline (run it from cron).

    Each requester is told in their inbox and by an e-mail queued in the outbox
    (the web app sends it, or `clusteratlas mail send`).
    """
    with _errors():
        from clusteratlas.collaboration.db import session_factory
        from clusteratlas.collaboration.meeting_requests import expire_due_requests
        from clusteratlas.collaboration.settings import get_settings

        settings = get_settings()
        with _database(url) as engine, session_factory(engine)() as session:
            event = _event(session, event_id) if event_id is not None else None
            n = expire_due_requests(session, event=event, base_url=settings.public_url)
            session.commit()
        where = f" of event {event_id}" if event_id is not None else ""
        typer.echo(f"{n} pending request(s){where} expired")


# ---- export --------------------------------------------------------------------------------


def event_file(problem: scheduling.Event) -> dict[str, Any]:
    """The EVENT.json structure of ``problem`` (docs/scheduling.md): slots in UTC, tables per
    slot, participants with their available slots and cap, meetings with weight and locks."""

    def utc(moment: Any) -> str:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    order = problem.slot_ids()
    return {
        "slots": [{"id": s.id, "start": utc(s.start), "end": utc(s.end)} for s in problem.slots],
        "tables": {sid: problem.tables[sid] for sid in order},
        "participants": [
            {
                "id": p.id,
                "available": [sid for sid in order if sid in p.available],
                "max_meetings": p.max_meetings,
            }
            for p in problem.participants
        ],
        "meetings": [
            {
                "id": m.id,
                "a": m.a,
                "b": m.b,
                "weight": m.weight,
                "locked_slot": m.locked_slot,
                "locked_table": m.locked_table,
            }
            for m in problem.meetings
        ],
    }


@events_app.command()
def export(
    event_id: EventArg,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="EVENT.json for `clusteratlas schedule`.", show_default=False
        ),
    ],
    url: UrlOpt = None,
) -> None:
    """Write the event as the scheduler's EVENT.json, to schedule it offline.

    Approved participants (available slots, cap), meetings not cancelled (weight,
    locks), slots in UTC with their tables. Then:
    `clusteratlas schedule EVENT.json --out SCHEDULE.json` and `events import-schedule`.
    """
    with _errors():
        from clusteratlas.cli.schedule import _check_out, _write_json
        from clusteratlas.collaboration.db import session_factory
        from clusteratlas.collaboration.schedules import scheduling_event

        _check_out(out)
        with _database(url) as engine, session_factory(engine)() as session, _domain():
            event = _event(session, event_id)
            data = event_file(scheduling_event(session, event))
        _write_json(data, out)
        locked = sum(1 for m in data["meetings"] if m["locked_slot"] is not None)
        err.print(
            f"wrote {out}: {len(data['slots'])} slots, {len(data['participants'])} participants, "
            f"{len(data['meetings'])} meetings ({locked} locked)",
            markup=False,
        )


# ---- import-schedule -----------------------------------------------------------------------


def _read_assignments(path: Path) -> list[dict[str, Any]]:
    from clusteratlas.cli.schedule import _read_json

    data = _read_json(path, "schedule")
    rows = data.get("assignments") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _AbortError(
            f"{path}: expected a SCHEDULE.json with assignments [{{meeting, slot, table}}]"
        )
    return rows


def _key(value: Any) -> str | None:
    """An id as the scheduler writes it (whole numbers are read as strings)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def check_assignments(
    problem: scheduling.Event,
    rows: list[dict[str, Any]],
    names: dict[str, str],
    times: dict[str, str] | None = None,
) -> tuple[dict[str, tuple[str, int]], list[str]]:
    """The assignments of a SCHEDULE.json checked against the event: meeting id → (slot id,
    table), and every problem found, each naming its meeting. ``names``: participant id →
    the name shown in messages; ``times``: slot id → its local time, shown after the id."""
    times = times or {}
    meetings = {m.id: m for m in problem.meetings}
    placed: dict[str, tuple[str, int]] = {}
    problems: list[str] = []
    person_slot: dict[tuple[str, str], str] = {}
    table_taken: dict[tuple[str, int], str] = {}
    count: Counter[str] = Counter()

    def who(pid: str) -> str:
        return f"{names.get(pid, 'participant')} (participant {pid})"

    def slot(sid: str) -> str:
        return f"slot {sid!r}" + (f" ({times[sid]})" if sid in times else "")

    for i, row in enumerate(rows):
        mid, sid, table = _key(row.get("meeting")), _key(row.get("slot")), row.get("table")
        if mid is None:
            problems.append(f"assignments[{i}]: meeting must be an id, not {row.get('meeting')!r}")
            continue
        where = f"meeting {mid!r}"
        meeting = meetings.get(mid)
        if meeting is None:
            problems.append(
                f"{where}: not a meeting to schedule in this event (unknown, cancelled, or a "
                "side not approved)"
            )
            continue
        if mid in placed:
            problems.append(f"{where}: assigned twice")
            continue
        if sid is None or sid not in problem.tables:
            problems.append(f"{where}: unknown slot {row.get('slot')!r}")
            continue
        tables = problem.tables[sid]
        if isinstance(table, bool) or not isinstance(table, int) or not 1 <= table <= tables:
            problems.append(
                f"{where}: table {table!r} is out of range in {slot(sid)} "
                + (f"(1..{tables})" if tables else "(it has no tables)")
            )
            continue
        if meeting.locked_slot is not None and (
            sid != meeting.locked_slot
            or (meeting.locked_table is not None and table != meeting.locked_table)
        ):
            at = slot(meeting.locked_slot) + (
                f", table {meeting.locked_table}" if meeting.locked_table is not None else ""
            )
            problems.append(f"{where}: it is locked to {at}: unlock it or keep it there")
            continue
        bad = False
        for pid in (meeting.a, meeting.b):
            if sid not in problem.participant(pid).available:
                problems.append(f"{where}: {who(pid)} is not available in {slot(sid)}")
                bad = True
            elif (pid, sid) in person_slot:
                problems.append(
                    f"{where}: {who(pid)} is twice in {slot(sid)} "
                    f"(also in meeting {person_slot[pid, sid]!r})"
                )
                bad = True
        if (sid, table) in table_taken:
            problems.append(
                f"{where}: table {table} in {slot(sid)} is taken by meeting "
                f"{table_taken[sid, table]!r}"
            )
            bad = True
        if bad:
            continue
        placed[mid] = (sid, table)
        table_taken[sid, table] = mid
        for pid in (meeting.a, meeting.b):
            person_slot[pid, sid] = mid
            count[pid] += 1
            cap = problem.participant(pid).max_meetings
            if cap is not None and count[pid] == cap + 1:
                problems.append(f"{where}: {who(pid)} would have more than their cap of {cap}")
    mentioned = {_key(r.get("meeting")) for r in rows}
    for meeting in problem.meetings:
        if meeting.locked_slot is not None and meeting.id not in mentioned:
            problems.append(
                f"meeting {meeting.id!r}: it is locked to {slot(meeting.locked_slot)} but "
                "the file leaves it unscheduled"
            )
    return placed, problems


@events_app.command("import-schedule")
def import_schedule(
    event_id: EventArg,
    schedule_path: Annotated[
        Path,
        typer.Argument(
            metavar="SCHEDULE.json",
            help="Written by `clusteratlas schedule` from this event's export.",
            show_default=False,
        ),
    ],
    as_email: AsOpt,
    url: UrlOpt = None,
) -> None:
    """Set the organiser's working copy from a SCHEDULE.json.

    Every assignment is checked against the event: meeting, slot, table, availability,
    one meeting per person and slot, caps, locks. Nothing changes unless all pass.
    Meetings not in the file are unscheduled. Nothing is published.
    """
    with _errors():
        from sqlalchemy import select

        from clusteratlas.collaboration.audit import record
        from clusteratlas.collaboration.db import session_factory
        from clusteratlas.collaboration.event_access import local_time
        from clusteratlas.collaboration.models import (
            EventSlot,
            Meeting,
            MeetingOrigin,
            Participant,
        )
        from clusteratlas.collaboration.schedules import schedule_quality, scheduling_event

        rows = _read_assignments(schedule_path)
        with _database(url) as engine, session_factory(engine)() as session, _domain():
            event = _event(session, event_id)
            actor = _organiser(session, event, as_email)
            problem = scheduling_event(session, event)
            names = {
                str(pid): name
                for pid, name in session.execute(
                    select(Participant.id, Participant.display_name).where(
                        Participant.event_id == event.id
                    )
                )
            }
            times = {
                str(sid): f"{local_time(event, start):%a %d %b %H:%M}"
                for sid, start in session.execute(
                    select(EventSlot.id, EventSlot.starts_at).where(EventSlot.event_id == event.id)
                )
            }
            placed, problems = check_assignments(problem, rows, names, times)
            if problems:
                n = len(problems)
                lines = "\n".join(f"  - {p}" for p in problems[:50])
                more = f"\n  … and {n - 50} more" if n > 50 else ""
                raise _refused(
                    f"{schedule_path}: {n} problem{'s' if n != 1 else ''}, nothing imported:\n"
                    f"{lines}{more}"
                )
            in_problem = {int(m.id) for m in problem.meetings}
            changed = 0
            for meeting in session.scalars(
                select(Meeting).where(Meeting.event_id == event.id, Meeting.cancelled_at.is_(None))
            ):
                if meeting.origin == MeetingOrigin.standby:
                    continue  # made on the day: kept where it is (locked in the problem)
                if meeting.id in in_problem:
                    where = placed.get(str(meeting.id))
                    new = (int(where[0]), where[1]) if where else (None, None)
                elif meeting.slot_id is not None:  # a side no longer approved
                    new = (None, None)
                    meeting.locked = False
                else:
                    continue
                if (meeting.slot_id, meeting.table_number) != new:
                    meeting.slot_id, meeting.table_number = new
                    changed += 1
            session.flush()
            record(
                session,
                actor=actor,
                action="schedule.imported",
                entity_type="event",
                entity_id=event.id,
                changes={"file": schedule_path.name, "assigned": len(placed), "changed": changed},
            )
            session.commit()
            quality = schedule_quality(session, event)
        typer.echo(
            f"imported {len(placed)} assignment(s) into the working copy of event {event_id}; "
            f"{changed} meeting(s) changed"
        )
        if quality is not None:
            _print_quality(quality)
        err.print(
            "not published yet: publish with `clusteratlas events schedule --publish` or on the "
            "schedule page",
            markup=False,
        )


# ---- schedule ------------------------------------------------------------------------------


def _print_quality(quality: Any) -> None:
    typer.echo(
        f"scheduled {quality.scheduled} of {quality.meetings} meetings, weight {quality.weight} "
        f"of bound {quality.bound} ({quality.share_of_bound:.1%})"
    )
    typer.echo(
        f"participants without meeting: {quality.without_meetings} of "
        f"{quality.participants_with_requests} with meetings; idle gaps: {quality.idle_gaps}"
    )


@events_app.command()
def schedule(
    event_id: EventArg,
    as_email: AsOpt,
    url: UrlOpt = None,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", min=0.1, help="Seconds for the solver (at most 60)."),
    ] = 10.0,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish", help="Publish the result: participants whose meetings changed are told."
        ),
    ] = False,
    note: Annotated[
        str, typer.Option("--note", help="A note to participants with the publication.")
    ] = "",
) -> None:
    """Schedule the event's meetings into the working copy; publish with --publish.

    Once a schedule was published, as few published meetings as possible move.
    Prints the status, gap, meetings against the bound, people without meeting, idle gaps.
    Events too large for 60 seconds: `export`, `clusteratlas schedule`, `import-schedule`.
    """
    with _errors():
        from clusteratlas.collaboration.db import session_factory
        from clusteratlas.collaboration.schedules import publish_schedule, run_scheduler
        from clusteratlas.collaboration.settings import get_settings

        settings = get_settings()
        with _database(url) as engine:
            sessions = session_factory(engine)
            with sessions() as session, _domain():
                event = _event(session, event_id)
                actor = _organiser(session, event, as_email)
                status = err.status("scheduling", spinner="dots") if err.is_terminal else None
                if status is not None:
                    status.start()
                try:
                    run = run_scheduler(session, event, actor=actor, time_limit=time_limit)
                finally:
                    if status is not None:
                        status.stop()
                session.commit()
            moved = f", moved {run.moved}" if run.moved is not None else ""
            typer.echo(
                f"{run.status} ({run.method}, {run.seconds:.1f} s): gap {run.gap:.2%}{moved}"
            )
            _print_quality(run.quality)
            if not publish:
                err.print("working copy saved, not published (add --publish)", markup=False)
                return
            with sessions() as session, _domain():
                event = _event(session, event_id)
                actor = _organiser(session, event, as_email)
                publication = publish_schedule(
                    session, event, actor=actor, note=note, base_url=settings.public_url
                )
                session.commit()
                version = publication.version.version
            typer.echo(
                f"published version {version}; {len(publication.notified)} participant(s) "
                "notified (e-mails in the outbox: `clusteratlas mail send`)"
            )


# ---- dashboard -----------------------------------------------------------------------------


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


@events_app.command()
def dashboard(
    event_id: EventArg,
    url: UrlOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="The figures as JSON.")] = False,
) -> None:
    """The organiser's figures of an event, as a table or JSON.

    Registrations, requests, meetings, attendance, outcomes, published schedule quality.
    Definitions: docs/event-day.md.
    """
    with _errors():
        from clusteratlas.collaboration.db import session_factory
        from clusteratlas.collaboration.event_stats import dashboard as figures

        with _database(url) as engine, session_factory(engine)() as session, _domain():
            event = _event(session, event_id)
            board = figures(session, event)
            title = event.title
        if as_json:
            typer.echo(json.dumps(board.as_dict(), ensure_ascii=False, indent=1))
            return
        table = Table(title=f"{title} (event {event_id})", title_justify="left")
        table.add_column("figure")
        table.add_column("value", justify="right")

        def group(name: str, values: dict[str, int]) -> None:
            for key, n in values.items():
                table.add_row(f"{name}: {key}", str(n))

        group("registrations", board.registrations)
        group("countries", board.countries)
        group("requests", board.requests)
        table.add_row("requests sent", str(board.requests_sent))
        table.add_row("acceptance rate", _share(board.acceptance_rate))
        table.add_row("accepted meetings", str(board.accepted_meetings))
        table.add_row("scheduled meetings", str(board.scheduled_meetings))
        table.add_row("standby meetings", str(board.standby_meetings))
        table.add_row("held meetings", str(board.held_meetings))
        table.add_row("meetings with an absence", str(board.absent_meetings))
        table.add_row("no-show rate", _share(board.no_show_rate))
        group("outcomes", board.outcomes)
        table.add_row("participants without meeting", str(board.participants_without_meeting))
        table.add_row("idle gaps", str(board.idle_gaps))
        table.add_row("schedule version", str(board.schedule_version))
        _console().print(table)
