"""``clusteratlas saved-searches notify``: e-mail the owners of saved searches their new matches.

Registered on the main app by one line at the end of ``cli/__init__.py``. Run it from cron
(e.g. daily): it queues one e-mail per saved search with new matches, moves the searches'
``notified_at``, commits, then sends the outbox over SMTP (what fails stays in the outbox for
``clusteratlas mail send``).
"""

from __future__ import annotations

import typer

from clusteratlas.cli import _errors, err
from clusteratlas.cli.db import UrlOpt, _database

__all__ = ["searches_app"]

searches_app = typer.Typer(
    help="Saved searches of the collaboration platform.",
    no_args_is_help=True,
    add_completion=False,
)


@searches_app.command()
def notify(url: UrlOpt = None) -> None:
    """E-mail each saved search's new matches to its owner, then send the outbox."""
    with _errors():
        from clusteratlas.collaboration.db import session_factory
        from clusteratlas.collaboration.mail import send_pending
        from clusteratlas.collaboration.saved_searches import notify_saved_searches
        from clusteratlas.collaboration.settings import get_settings

        settings = get_settings()
        with _database(url) as engine:
            sessions = session_factory(engine)
            with sessions() as session:
                queued = notify_saved_searches(session, settings=settings)
                session.commit()
            sent, failed = send_pending(sessions, settings=settings) if queued else (0, 0)
        typer.echo(f"{queued} e-mail(s) queued, {sent} sent, {failed} failed")
        if failed:
            err.print(f"warning: {failed} e-mail(s) could not be sent: they stay in the outbox")
