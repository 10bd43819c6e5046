"""``clusteratlas serve``: run the web application with uvicorn.

Registered on the main app in ``cli/__init__.py`` with ``app.command()(serve)``. The settings
come from the ``CLUSTERATLAS_*`` environment variables; the database must have been migrated
(``clusteratlas db upgrade``). FastAPI and uvicorn are imported inside the command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from clusteratlas.cli import _AbortError, _errors, err

__all__ = ["serve"]


def _check_migrated(url: str) -> None:
    """Stop with ``error: …`` (status 3) unless the database is at the latest revision."""
    from alembic.script import ScriptDirectory

    from clusteratlas.cli.db import _database
    from clusteratlas.collaboration.db import alembic_config, current_revision

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with _database(url) as engine:
        revision = current_revision(engine)
        shown = engine.url.render_as_string(hide_password=True)
    if revision != head:
        state = f"is at revision {revision}" if revision else "has no tables"
        raise _AbortError(f"{shown} {state}, not {head}: run `clusteratlas db upgrade` first")


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Worker processes (one per core is a good start; each builds its own app).",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request (off behind a proxy that logs them already).",
        ),
    ] = True,
) -> None:
    """Serve the web application and its JSON API (/api/, /openapi.json)."""
    with _errors():
        import uvicorn

        from clusteratlas.collaboration.settings import get_settings
        from clusteratlas.web.app import create_app
        from clusteratlas.web.serve import run_workers

        settings = get_settings()
        _check_migrated(settings.database_url)
        app = create_app(settings)
        err.print(
            f"Cluster Atlas ({settings.environment}) on http://{host}:{port}/ "
            "(the API under /api/, its description at /openapi.json); Ctrl+C stops it",
            markup=False,
        )
        if workers == 1:
            uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)
        else:  # each worker process builds the app from the environment, on its own socket
            try:
                run_workers(host, port, workers, access_log=access_log)
            except OSError as exc:
                raise _AbortError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
            except RuntimeError as exc:
                raise _AbortError(str(exc)) from None
