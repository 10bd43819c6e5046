"""``clusteratlas mail send|list``: the e-mail outbox of the collaboration platform.

The web app sends the outbox after each request that queued mail (unless
``CLUSTERATLAS_MAIL_ENABLED=false``); ``mail send`` sends what is still waiting (never sent,
or failed fewer than :data:`~clusteratlas.collaboration.mail.MAX_ATTEMPTS` times) with the
``CLUSTERATLAS_SMTP_*`` settings, whatever ``MAIL_ENABLED`` says, and ``mail list`` shows the
latest rows. Registered on the main app by ``app.add_typer(mail_app, name="mail")`` in
``cli/__init__.py``; SQLAlchemy is imported inside the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from clusteratlas.cli import _errors, err
from clusteratlas.cli.db import UrlOpt, _database

if TYPE_CHECKING:
    from clusteratlas.collaboration.models import OutboxEmail

__all__ = ["mail_app"]

mail_app = typer.Typer(
    help="The e-mail outbox of the collaboration platform: send what waits, list the latest.",
    no_args_is_help=True,
    add_completion=False,
)


def _status(row: OutboxEmail) -> str:
    from clusteratlas.collaboration.mail import MAX_ATTEMPTS

    if row.sent_at is not None:
        return f"sent {row.sent_at:%Y-%m-%d %H:%M}"
    if row.attempts == 0:
        return "waiting"
    gave_up = " (given up)" if row.attempts >= MAX_ATTEMPTS else ""
    first = (row.last_error or "").strip().splitlines()[:1]
    return f"failed {row.attempts}x{gave_up}: {first[0][:80] if first else 'no message'}"


def _table(rows: list[OutboxEmail], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("id", "created (UTC)", "to", "subject", "status"):
        table.add_column(name, justify="right" if name == "id" else "left", overflow="fold")
    for row in rows:
        style = "green" if row.sent_at else ("red" if row.attempts else "yellow")
        table.add_row(
            str(row.id),
            f"{row.created_at:%Y-%m-%d %H:%M}",
            row.to,
            row.subject,
            _status(row),
            style=style,
        )
    return table


def _console() -> Console:
    return Console(highlight=False, emoji=False, width=None if err.is_terminal else 160)


@mail_app.command()
def send(
    url: UrlOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="Send at most this many.")
    ] = 1000,
) -> None:
    """Send the e-mails waiting in the outbox; exit status 1 if any failed."""
    with _errors():
        from sqlalchemy import select

        from clusteratlas.collaboration.db import session_factory
        from clusteratlas.collaboration.mail import MAX_ATTEMPTS, send_pending
        from clusteratlas.collaboration.models import OutboxEmail
        from clusteratlas.collaboration.settings import get_settings

        settings = get_settings()
        with _database(url) as engine:
            sessions = session_factory(engine)
            with sessions() as session:
                ids = list(
                    session.scalars(
                        select(OutboxEmail.id)
                        .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS)
                        .order_by(OutboxEmail.id)
                        .limit(limit)
                    )
                )
            if not ids:
                err.print("nothing to send: the outbox has no waiting e-mail", markup=False)
                raise typer.Exit()
            sent, failed = send_pending(sessions, settings=settings, limit=limit, force=True)
            with sessions() as session:
                failures = list(
                    session.scalars(
                        select(OutboxEmail)
                        .where(OutboxEmail.id.in_(ids), OutboxEmail.sent_at.is_(None))
                        .order_by(OutboxEmail.id)
                    )
                )
                if failures:
                    _console().print(_table(failures, "Not sent"))
        server = escape(f"{settings.smtp_host}:{settings.smtp_port}")
        colour = "red" if failed else "green"
        err.print(
            f"[{colour}]sent {sent}, failed {failed}[/{colour}] (SMTP {server})", highlight=False
        )
        if failed:
            raise typer.Exit(1)


@mail_app.command("list")
def list_(
    url: UrlOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=10_000, help="How many rows.")
    ] = 20,
    waiting: Annotated[
        bool, typer.Option("--waiting", help="Only the e-mails not sent yet.")
    ] = False,
) -> None:
    """The latest e-mails of the outbox (newest first) with their status."""
    with _errors():
        from sqlalchemy import func, select

        from clusteratlas.collaboration.db import session_factory
        from clusteratlas.collaboration.models import OutboxEmail

        with _database(url) as engine, session_factory(engine)() as session:
            query = select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)
            if waiting:
                query = query.where(OutboxEmail.sent_at.is_(None))
            rows = list(session.scalars(query))
            total = session.scalar(select(func.count()).select_from(OutboxEmail)) or 0
            pending = (
                session.scalar(
                    select(func.count())
                    .select_from(OutboxEmail)
                    .where(OutboxEmail.sent_at.is_(None))
                )
                or 0
            )
            if rows:
                _console().print(_table(rows, f"Outbox: the latest {len(rows)}"))
        err.print(f"{total} e-mails in the outbox, {pending} not sent", markup=False)
