"""``clusteratlas db``: migrate the collaboration database (Alembic, scripts inside the package).

Registered on the main app by ``app.add_typer(db_app, name="db")`` in ``cli/__init__.py``.
SQLAlchemy and Alembic are imported inside the commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from clusteratlas.cli import _AbortError, _errors, err

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["db_app"]

db_app = typer.Typer(
    help="The collaboration database: create or migrate its tables.",
    no_args_is_help=True,
    add_completion=False,
)

UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (sqlite:///path.db, postgresql://user:pass@host/db). Default: "
        "CLUSTERATLAS_DATABASE_URL, else clusteratlas.db in the working directory.",
        show_default=False,
    ),
]


@contextmanager
def _database(url: str | None) -> Iterator[Engine]:
    """An engine for ``url`` (or the settings' URL), with connection and Alembic failures
    turned into ``error: …`` and exit status 3; disposed afterwards."""
    from alembic.util import CommandError
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    from clusteratlas.collaboration.db import make_engine

    if url is None:
        from clusteratlas.collaboration.settings import get_settings

        url = get_settings().database_url
    try:
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise _AbortError(f"--url {url!r} is not a database URL we can use: {exc}") from None
    shown = engine.url.render_as_string(hide_password=True)
    try:
        yield engine
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise _AbortError(f"{shown}: {reason}") from None
    except CommandError as exc:
        raise _AbortError(f"{shown}: {exc}") from None
    finally:
        engine.dispose()


@db_app.command()
def upgrade(
    url: UrlOpt = None,
    to: Annotated[str, typer.Option("--to", help="Target revision.")] = "head",
) -> None:
    """Create or migrate the tables up to the latest revision (or --to)."""
    with _errors():
        from clusteratlas.collaboration.db import current_revision
        from clusteratlas.collaboration.db import upgrade as run_upgrade

        with _database(url) as engine:
            run_upgrade(engine, to)
            revision = current_revision(engine)
            shown = engine.url.render_as_string(hide_password=True)
        err.print(f"{shown} is at revision {revision}", markup=False)


@db_app.command()
def downgrade(
    url: UrlOpt = None,
    to: Annotated[
        str,
        typer.Option("--to", help="Target revision: an id, -1 (one step back) or base (none)."),
    ] = "-1",
) -> None:
    """Migrate the tables down to a revision (default: one step back; base drops them all)."""
    with _errors():
        from clusteratlas.collaboration.db import current_revision
        from clusteratlas.collaboration.db import downgrade as run_downgrade

        with _database(url) as engine:
            run_downgrade(engine, to)
            revision = current_revision(engine)
            shown = engine.url.render_as_string(hide_password=True)
        err.print(f"{shown} is at revision {revision or 'base (no tables)'}", markup=False)
