"""Alembic migrations: a full round trip on both backends, and models that match them."""

from __future__ import annotations

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from clusteratlas.collaboration.db import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    downgrade,
    make_engine,
    upgrade,
)
from clusteratlas.collaboration.models import Base
from collaboration.conftest import BACKENDS, fresh_database_url

pytestmark = pytest.mark.integration

TABLES = [
    "api_tokens",
    "audit_log",
    "event_items",
    "event_participants",
    "event_sessions",
    "event_slots",
    "events",
    "meeting_requests",
    "meetings",
    "notifications",
    "organisation_links",
    "organisation_managers",
    "organisation_sectors",
    "organisation_versions",
    "organisations",
    "outbox",
    "post_follows",
    "post_interests",
    "posts",
    "saved_searches",
    "schedule_versions",
    "search_generation",
    "users",
]
#: the full-text search indexes (migration f7ebce1c3bff): FTS5 tables and their shadow tables on
#: SQLite, tsvector tables on PostgreSQL; not models, so left out of the comparisons
FTS = re.compile(r"^(organisations|posts)_fts(_\w+)?$")


def _not_fts(obj, name, type_, reflected, compare_to):
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not (FTS.match(name or "") or FTS.match(table or ""))


@pytest.fixture(params=BACKENDS)
def empty_engine(request, tmp_path_factory):
    engine = make_engine(fresh_database_url(request.param, request, tmp_path_factory))
    yield engine
    engine.dispose()


def _head():
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrations_round_trip_leaves_no_table(empty_engine):
    upgrade(empty_engine)
    names = inspect(empty_engine).get_table_names()
    after_upgrade = sorted(n for n in names if not FTS.match(n))
    fts = sorted(n for n in names if FTS.match(n) and not n.count("_fts_"))
    downgrade(empty_engine, "base")
    after_downgrade = sorted(inspect(empty_engine).get_table_names())
    upgrade(empty_engine)

    assert after_upgrade == sorted(["alembic_version", *TABLES])
    assert fts == ["organisations_fts", "posts_fts"]
    assert after_downgrade == ["alembic_version"]
    assert current_revision(empty_engine) == _head()


# SQLite cannot reflect the expression index on lower(email): compared on PostgreSQL only, and
# its uniqueness is tested on both in test_models.py
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrated_schema_matches_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _not_fts}
        )
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_migration_files_are_named_by_date():
    names = sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py"))

    assert names
    for name in names:
        assert re.fullmatch(r"\d{8}_\d{4}_[0-9a-f]{12}_[a-z0-9_]+\.py", name), name


def test_migrations_have_one_head_and_every_downgrade():
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())

    assert len(script.get_heads()) == 1
    for revision in revisions:
        source = revision.module.downgrade.__code__
        assert source.co_code != (lambda: None).__code__.co_code, revision.revision
