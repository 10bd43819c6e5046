"""``clusteratlas seed-demo``: fill a migrated collaboration database with demo data.

Registered on the main app by importing this module at the end of ``cli/__init__.py``.
``make demo`` runs ``db upgrade``, then this, then ``serve``. SQLAlchemy is imported inside
the command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from clusteratlas.cli import _errors, app, err
from clusteratlas.cli.db import UrlOpt, _database

__all__ = ["seed_demo"]


@app.command("seed-demo")
def seed_demo(
    url: UrlOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated content.")] = 2024,
    synthetic_organisations: Annotated[
        int,
        typer.Option(
            "--synthetic-organisations",
            min=0,
            help="Also bulk-insert this many synthetic organisations (benchmarks).",
        ),
    ] = 0,
    synthetic_posts: Annotated[
        int,
        typer.Option(
            "--synthetic-posts", min=0, help="Also bulk-insert this many synthetic posts."
        ),
    ] = 0,
) -> None:
    """Add clearly-labelled DEMO organisations, posts and users (development only: every
    account has the same, printed password). Running it again adds nothing."""
    with _errors():
        from sqlalchemy.orm import Session

        from clusteratlas.cli.serve import _check_migrated
        from clusteratlas.collaboration.demo import seed_demo as run_seed
        from clusteratlas.collaboration.demo import seed_synthetic

        if synthetic_posts and not synthetic_organisations:
            raise ValueError("--synthetic-posts needs --synthetic-organisations")
        with _database(url) as engine:
            shown = engine.url.render_as_string(hide_password=True)
            _check_migrated(engine.url.render_as_string(hide_password=False))
            with Session(engine) as session, session.begin():
                result = run_seed(session, seed=seed)
                extra = (0, 0)
                if synthetic_organisations and not result.skipped:
                    extra = seed_synthetic(
                        session,
                        organisations=synthetic_organisations,
                        posts=synthetic_posts,
                        seed=seed,
                    )
        if result.skipped:
            err.print(
                f"{shown} already holds the demo data: nothing added. Log in as "
                f"admin@demo.invalid (password {result.password!r}).",
                markup=False,
            )
            return
        err.print(
            f"DEMO DATA added to {shown}: {result.organisations} organisations, "
            f"{result.posts} posts, {result.users} users, {result.links} links"
            + (f", and {extra[0]} synthetic organisations, {extra[1]} posts" if extra[0] else ""),
            markup=False,
        )
        err.print(
            f"Demo log-ins (development only), all with the password {result.password!r}:",
            markup=False,
        )
        for email, role in result.logins:
            err.print(f"  {email:<28} {role}", markup=False)
