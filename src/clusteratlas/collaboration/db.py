"""Engines, sessions and migrations, built from settings when asked (never at import).

SQLite connections get ``foreign_keys=ON`` and WAL, and pysqlite's own transaction handling is
replaced by SQLAlchemy's (``BEGIN`` emitted explicitly), so that SAVEPOINTs and transactional
DDL work as they do on PostgreSQL. ``postgresql://`` URLs use the psycopg 3 driver.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

    from clusteratlas.collaboration.settings import Settings

__all__ = [
    "alembic_config",
    "current_revision",
    "downgrade",
    "engine_from_settings",
    "make_engine",
    "normalise_url",
    "session_factory",
    "upgrade",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


#: connections an SQLite file engine keeps open (the web server runs 40 threads at most)
SQLITE_POOL_SIZE = 40


def normalise_url(url: str | URL) -> URL:
    """``url`` as a SQLAlchemy URL; plain ``postgresql://`` (or ``postgres://``) gets psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the SQLite settings described in the module docstring."""
    parsed = normalise_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    in_memory = sqlite and (
        parsed.database in (None, "", ":memory:") or "mode=memory" in str(parsed)
    )
    if sqlite and not in_memory and "poolclass" not in kwargs:
        # keep as many connections as the server runs threads: a connection opened for a
        # burst and closed after it costs its PRAGMAs and starts with a cold page cache
        kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
        kwargs.setdefault("max_overflow", SQLITE_POOL_SIZE)
    engine = create_engine(parsed, **kwargs)
    if sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

    return engine


def engine_from_settings(settings: Settings, **kwargs: Any) -> Engine:
    """The engine for ``settings.database_url``."""
    return make_engine(settings.database_url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic's configuration without an ``alembic.ini``: the scripts are found inside the
    installed package, and the connection is passed by :func:`upgrade` / :func:`downgrade`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    config.set_main_option("timezone", "UTC")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database of ``engine`` up to ``revision``."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "-1") -> None:
    """Migrate the database of ``engine`` down to ``revision`` (``base`` removes every table)."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database of ``engine`` is at (None: not migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
