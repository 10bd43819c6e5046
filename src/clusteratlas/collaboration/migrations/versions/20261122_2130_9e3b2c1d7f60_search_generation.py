"""Search generation: a token that database triggers change whenever organisations or their
sectors are written, so each process knows when its in-memory search index is stale (issue 5).

Revision ID: 9e3b2c1d7f60
Revises: 5c1e7a9b2d40
Create Date: 2026-11-22 21:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e3b2c1d7f60"
down_revision: str | None = "5c1e7a9b2d40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the tables whose writes change the token, and the trigger events
TABLES = ("organisations", "organisation_sectors")
EVENTS = ("INSERT", "UPDATE", "DELETE")
SQLITE_TOKEN = "lower(hex(randomblob(16)))"
PG_TOKEN = "md5(random()::text || clock_timestamp()::text)"


def _trigger(table: str, event: str) -> str:
    return f"{table}_search_generation_{event.lower()}"


def upgrade() -> None:
    op.create_table(
        "search_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_search_generation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_generation")),
    )
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"INSERT INTO search_generation (id, token) VALUES (1, {SQLITE_TOKEN})")
        for table in TABLES:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {_trigger(table, event)} AFTER {event} ON {table} "
                    f"BEGIN UPDATE search_generation SET token = {SQLITE_TOKEN} WHERE id = 1; END"
                )
        return
    op.execute(f"INSERT INTO search_generation (id, token) VALUES (1, {PG_TOKEN})")
    op.execute(
        "CREATE FUNCTION bump_search_generation() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN UPDATE search_generation SET token = {PG_TOKEN} WHERE id = 1; RETURN NULL; END $$"
    )
    for table in TABLES:
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER {_trigger(table, event)} AFTER {event} ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_search_generation()"
            )


def downgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    for table in TABLES:
        for event in EVENTS:
            suffix = "" if sqlite else f" ON {table}"
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, event)}{suffix}")
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS bump_search_generation()")
    op.drop_table("search_generation")
