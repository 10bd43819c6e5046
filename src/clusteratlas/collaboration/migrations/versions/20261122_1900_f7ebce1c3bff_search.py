"""Full-text search indexes of organisations and posts (issue 5).

SQLite: FTS5 tables ``organisations_fts`` and ``posts_fts`` (rowid = the row's id). PostgreSQL:
tables ``organisations_fts`` and ``posts_fts`` of ``(id, document tsvector)`` with a GIN index.
On both, triggers keep them in sync with ``organisations``, ``organisation_sectors`` and
``posts``, so rows written by any means (bulk inserts too) are indexed. An organisation's
document holds its name and acronym, keywords, value chains, emerging industries and
smart-specialisation priorities, its sectors' codes and titles, description and city; a post's
its title, keywords and body. Words are lower-cased, accents are kept and nothing is stemmed
(FTS5 ``unicode61 remove_diacritics 0``, PostgreSQL ``simple``), so both find the same rows.

Revision ID: f7ebce1c3bff
Revises: 18d68f3f4f86
Create Date: 2026-11-22 19:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "f7ebce1c3bff"
down_revision: str | None = "18d68f3f4f86"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG_TEXT_COLUMNS = (
    "name, acronym, city, description, keywords, value_chains, emerging_industries, s3_priorities"
)
POST_TEXT_COLUMNS = "title, body, keywords"

# ---- SQLite ---------------------------------------------------------------------------------


def _sqlite_json_words(column: str) -> str:
    return f"coalesce((SELECT group_concat(j.value, ' ') FROM json_each(o.{column}) j), '')"


def _sqlite_org_insert(where: str) -> str:
    """INSERT into the index the organisations ``o`` selected by ``where``."""
    lists = " || ' ' || ".join(
        _sqlite_json_words(c)
        for c in ("keywords", "value_chains", "emerging_industries", "s3_priorities")
    )
    return f"""
    INSERT INTO organisations_fts (rowid, name, keywords, sectors, description)
    SELECT o.id,
           o.name || ' ' || coalesce(o.acronym, ''),
           {lists},
           coalesce((SELECT group_concat(s.code || ' ' || s.title, ' ')
                     FROM organisation_sectors s WHERE s.organisation_id = o.id), ''),
           coalesce(o.description, '') || ' ' || coalesce(o.city, '')
    FROM organisations o WHERE {where}"""


def _sqlite_org_refresh(org_id: str) -> str:
    """Statements (for a trigger body) that re-index organisation ``org_id``."""
    return (
        f"DELETE FROM organisations_fts WHERE rowid = {org_id}; "
        f"{_sqlite_org_insert(f'o.id = {org_id}')};"
    )


def _sqlite_post_insert(where: str) -> str:
    """INSERT into the index the posts ``p`` selected by ``where``."""
    return f"""
    INSERT INTO posts_fts (rowid, title, keywords, body)
    SELECT p.id, p.title,
           coalesce((SELECT group_concat(j.value, ' ') FROM json_each(p.keywords) j), ''),
           coalesce(p.body, '')
    FROM posts p WHERE {where}"""


def _sqlite_post_refresh(post_id: str) -> str:
    return (
        f"DELETE FROM posts_fts WHERE rowid = {post_id}; "
        f"{_sqlite_post_insert(f'p.id = {post_id}')};"
    )


def _upgrade_sqlite() -> None:
    tokenizer = "tokenize = 'unicode61 remove_diacritics 0'"
    op.execute(
        f"CREATE VIRTUAL TABLE organisations_fts USING fts5("
        f"name, keywords, sectors, description, {tokenizer})"
    )
    op.execute(f"CREATE VIRTUAL TABLE posts_fts USING fts5(title, keywords, body, {tokenizer})")
    triggers = {
        "organisations_fts_insert": (
            "AFTER INSERT ON organisations",
            _sqlite_org_refresh("NEW.id"),
        ),
        "organisations_fts_update": (
            f"AFTER UPDATE OF {ORG_TEXT_COLUMNS} ON organisations",
            _sqlite_org_refresh("NEW.id"),
        ),
        "organisations_fts_delete": (
            "AFTER DELETE ON organisations",
            "DELETE FROM organisations_fts WHERE rowid = OLD.id;",
        ),
        "organisation_sectors_fts_insert": (
            "AFTER INSERT ON organisation_sectors",
            _sqlite_org_refresh("NEW.organisation_id"),
        ),
        "organisation_sectors_fts_update": (
            "AFTER UPDATE ON organisation_sectors",
            _sqlite_org_refresh("OLD.organisation_id") + _sqlite_org_refresh("NEW.organisation_id"),
        ),
        "organisation_sectors_fts_delete": (
            "AFTER DELETE ON organisation_sectors",
            _sqlite_org_refresh("OLD.organisation_id"),
        ),
        "posts_fts_insert": ("AFTER INSERT ON posts", _sqlite_post_refresh("NEW.id")),
        "posts_fts_update": (
            f"AFTER UPDATE OF {POST_TEXT_COLUMNS} ON posts",
            _sqlite_post_refresh("NEW.id"),
        ),
        "posts_fts_delete": (
            "AFTER DELETE ON posts",
            "DELETE FROM posts_fts WHERE rowid = OLD.id;",
        ),
    }
    for name, (when, body) in triggers.items():
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {body} END")
    # rows written before this migration
    op.execute(_sqlite_org_insert("1 = 1"))
    op.execute(_sqlite_post_insert("1 = 1"))


def _downgrade_sqlite() -> None:
    for name in (
        "organisations_fts_insert",
        "organisations_fts_update",
        "organisations_fts_delete",
        "organisation_sectors_fts_insert",
        "organisation_sectors_fts_update",
        "organisation_sectors_fts_delete",
        "posts_fts_insert",
        "posts_fts_update",
        "posts_fts_delete",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS posts_fts")
    op.execute("DROP TABLE IF EXISTS organisations_fts")


# ---- PostgreSQL -----------------------------------------------------------------------------

_PG_ORG_DOCUMENT = """
    setweight(to_tsvector('simple', o.name || ' ' || coalesce(o.acronym, '')), 'A')
    || setweight(to_tsvector('simple', coalesce(o.keywords, '[]'::jsonb))
                 || to_tsvector('simple', coalesce(o.value_chains, '[]'::jsonb))
                 || to_tsvector('simple', coalesce(o.emerging_industries, '[]'::jsonb))
                 || to_tsvector('simple', coalesce(o.s3_priorities, '[]'::jsonb)), 'B')
    || setweight(to_tsvector('simple', coalesce(
           (SELECT string_agg(s.code || ' ' || s.title, ' ')
            FROM organisation_sectors s WHERE s.organisation_id = o.id), '')), 'C')
    || setweight(to_tsvector('simple',
           coalesce(o.description, '') || ' ' || coalesce(o.city, '')), 'D')"""

_PG_POST_DOCUMENT = """
    setweight(to_tsvector('simple', p.title), 'A')
    || setweight(to_tsvector('simple', coalesce(p.keywords, '[]'::jsonb)), 'B')
    || setweight(to_tsvector('simple', coalesce(p.body, '')), 'D')"""

_PG_UPGRADE = [
    "CREATE TABLE organisations_fts (id integer PRIMARY KEY, document tsvector NOT NULL)",
    "CREATE INDEX ix_organisations_fts_document ON organisations_fts USING gin (document)",
    "CREATE TABLE posts_fts (id integer PRIMARY KEY, document tsvector NOT NULL)",
    "CREATE INDEX ix_posts_fts_document ON posts_fts USING gin (document)",
    f"""CREATE FUNCTION organisations_fts_refresh(org integer) RETURNS void
        LANGUAGE sql AS $$
        DELETE FROM organisations_fts WHERE id = org;
        INSERT INTO organisations_fts (id, document)
        SELECT o.id, {_PG_ORG_DOCUMENT} FROM organisations o WHERE o.id = org;
        $$""",
    f"""CREATE FUNCTION posts_fts_refresh(post integer) RETURNS void
        LANGUAGE sql AS $$
        DELETE FROM posts_fts WHERE id = post;
        INSERT INTO posts_fts (id, document)
        SELECT p.id, {_PG_POST_DOCUMENT} FROM posts p WHERE p.id = post;
        $$""",
    """CREATE FUNCTION organisations_fts_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            DELETE FROM organisations_fts WHERE id = OLD.id;
          ELSE
            PERFORM organisations_fts_refresh(NEW.id);
          END IF;
          RETURN NULL;
        END $$""",
    """CREATE FUNCTION organisation_sectors_fts_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM organisations_fts_refresh(OLD.organisation_id);
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM organisations_fts_refresh(NEW.organisation_id);
          END IF;
          RETURN NULL;
        END $$""",
    """CREATE FUNCTION posts_fts_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            DELETE FROM posts_fts WHERE id = OLD.id;
          ELSE
            PERFORM posts_fts_refresh(NEW.id);
          END IF;
          RETURN NULL;
        END $$""",
    "CREATE TRIGGER organisations_fts_insert_delete AFTER INSERT OR DELETE ON organisations "
    "FOR EACH ROW EXECUTE FUNCTION organisations_fts_trigger()",
    f"CREATE TRIGGER organisations_fts_update AFTER UPDATE OF {ORG_TEXT_COLUMNS} "
    "ON organisations FOR EACH ROW EXECUTE FUNCTION organisations_fts_trigger()",
    "CREATE TRIGGER organisation_sectors_fts AFTER INSERT OR UPDATE OR DELETE "
    "ON organisation_sectors FOR EACH ROW EXECUTE FUNCTION organisation_sectors_fts_trigger()",
    "CREATE TRIGGER posts_fts_insert_delete AFTER INSERT OR DELETE ON posts "
    "FOR EACH ROW EXECUTE FUNCTION posts_fts_trigger()",
    f"CREATE TRIGGER posts_fts_update AFTER UPDATE OF {POST_TEXT_COLUMNS} "
    "ON posts FOR EACH ROW EXECUTE FUNCTION posts_fts_trigger()",
    f"INSERT INTO organisations_fts (id, document) SELECT o.id, {_PG_ORG_DOCUMENT} "
    "FROM organisations o",
    f"INSERT INTO posts_fts (id, document) SELECT p.id, {_PG_POST_DOCUMENT} FROM posts p",
]

_PG_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS posts_fts_update ON posts",
    "DROP TRIGGER IF EXISTS posts_fts_insert_delete ON posts",
    "DROP TRIGGER IF EXISTS organisation_sectors_fts ON organisation_sectors",
    "DROP TRIGGER IF EXISTS organisations_fts_update ON organisations",
    "DROP TRIGGER IF EXISTS organisations_fts_insert_delete ON organisations",
    "DROP FUNCTION IF EXISTS posts_fts_trigger()",
    "DROP FUNCTION IF EXISTS organisation_sectors_fts_trigger()",
    "DROP FUNCTION IF EXISTS organisations_fts_trigger()",
    "DROP FUNCTION IF EXISTS posts_fts_refresh(integer)",
    "DROP FUNCTION IF EXISTS organisations_fts_refresh(integer)",
    "DROP TABLE IF EXISTS posts_fts",
    "DROP TABLE IF EXISTS organisations_fts",
]


ORG_FACETS_INDEX = "ix_organisations_status_country_region_code_type_quality_label"
POST_FACETS_INDEX = "ix_posts_organisation_id_closed_at_expires_at_kind_category"


def upgrade() -> None:
    # covering indexes of the facets' grouped counts (on both backends, declared in the models)
    op.create_index(
        ORG_FACETS_INDEX,
        "organisations",
        ["status", "country", "region_code", "type", "quality_label"],
    )
    op.create_index(
        POST_FACETS_INDEX,
        "posts",
        ["organisation_id", "closed_at", "expires_at", "kind", "category"],
    )
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        for statement in _PG_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _downgrade_sqlite()
    else:
        for statement in _PG_DOWNGRADE:
            op.execute(statement)
    op.drop_index(POST_FACETS_INDEX, table_name="posts")
    op.drop_index(ORG_FACETS_INDEX, table_name="organisations")
