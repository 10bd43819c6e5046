"""Alembic environment: run with a connection passed in ``config.attributes["connection"]``
(see ``clusteratlas.collaboration.db.upgrade``); there is no ``alembic.ini``."""

from __future__ import annotations

from alembic import context

from clusteratlas.collaboration.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations through clusteratlas.collaboration.db.upgrade/downgrade "
            "or `clusteratlas db upgrade`, which pass the connection"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE through copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported")
run_migrations()
