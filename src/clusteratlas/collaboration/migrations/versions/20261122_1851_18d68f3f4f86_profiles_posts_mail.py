"""Profile fields, sectors, links and history; posts, follows, interests; notifications,
e-mail outbox and saved searches (issue 5).

Revision ID: 18d68f3f4f86
Revises: d32e07475559
Create Date: 2026-11-22 18:51:53.707366+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "18d68f3f4f86"
down_revision: str | None = "d32e07475559"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


EMPTY = sa.text("'[]'")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("read_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_user_id_read_at"), ["user_id", "read_at"], unique=False
        )

    op.create_table(
        "organisation_links",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('member_of', 'partner_of')", name=op.f("ck_organisation_links_kind")
        ),
        sa.CheckConstraint("source_id <> target_id", name=op.f("ck_organisation_links_not_self")),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_links_source_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_links_target_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "source_id", "target_id", "kind", name=op.f("pk_organisation_links")
        ),
    )
    with op.batch_alter_table("organisation_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_links_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "organisation_sectors",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.CheckConstraint(
            "scheme IN ('NACE', 'NAICS')", name=op.f("ck_organisation_sectors_scheme")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_sectors_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "scheme", "code", name=op.f("pk_organisation_sectors")
        ),
    )
    with op.batch_alter_table("organisation_sectors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_sectors_scheme_code"), ["scheme", "code"], unique=False
        )

    op.create_table(
        "organisation_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_organisation_versions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_versions_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_versions")),
        sa.UniqueConstraint(
            "organisation_id",
            "version",
            name=op.f("uq_organisation_versions_organisation_id_version"),
        ),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=7), nullable=False),
        sa.Column("category", sa.String(length=18), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keywords", _json(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.CheckConstraint(
            "category IN ('technology', 'business', 'research_partner', "
            "'funding_consortium', 'event')",
            name=op.f("ck_posts_category"),
        ),
        sa.CheckConstraint("kind IN ('offer', 'request')", name=op.f("ck_posts_kind")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_posts_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_posts_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posts_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_posts_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("query", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("notified_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_searches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_searches_user_id"), ["user_id"], unique=False)

    op.create_table(
        "post_follows",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_follows_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_post_follows_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_post_follows")),
    )
    with op.batch_alter_table("post_follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_follows_user_id"), ["user_id"], unique=False)

    op.create_table(
        "post_interests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_post_interests_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_interests_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_post_interests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_interests")),
        sa.UniqueConstraint("post_id", "user_id", name=op.f("uq_post_interests_post_id_user_id")),
    )
    with op.batch_alter_table("post_interests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_interests_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keywords", _json(), server_default=EMPTY, nullable=False))
        batch_op.add_column(
            sa.Column("value_chains", _json(), server_default=EMPTY, nullable=False)
        )
        batch_op.add_column(
            sa.Column("emerging_industries", _json(), server_default=EMPTY, nullable=False)
        )
        batch_op.add_column(
            sa.Column("s3_priorities", _json(), server_default=EMPTY, nullable=False)
        )
        batch_op.add_column(sa.Column("members_sme", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("members_large", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("members_research", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("members_university", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("members_other", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("staff_fte", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("year_founded", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quality_label", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("label_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("label_expiry", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("contacts", _json(), server_default=EMPTY, nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("published_at", _utc(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_organisations_region_code"), ["region_code"], unique=False
        )
        batch_op.create_check_constraint(
            op.f("ck_organisations_quality_label"),
            "quality_label IS NULL OR quality_label IN ('bronze', 'silver', 'gold')",
        )


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_organisations_quality_label"), type_="check")
        batch_op.drop_index(batch_op.f("ix_organisations_region_code"))
        batch_op.drop_column("published_at")
        batch_op.drop_column("version")
        batch_op.drop_column("contacts")
        batch_op.drop_column("label_expiry")
        batch_op.drop_column("label_date")
        batch_op.drop_column("quality_label")
        batch_op.drop_column("year_founded")
        batch_op.drop_column("staff_fte")
        batch_op.drop_column("members_other")
        batch_op.drop_column("members_university")
        batch_op.drop_column("members_research")
        batch_op.drop_column("members_large")
        batch_op.drop_column("members_sme")
        batch_op.drop_column("s3_priorities")
        batch_op.drop_column("emerging_industries")
        batch_op.drop_column("value_chains")
        batch_op.drop_column("keywords")

    with op.batch_alter_table("post_interests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_interests_user_id"))

    op.drop_table("post_interests")
    with op.batch_alter_table("post_follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_follows_user_id"))

    op.drop_table("post_follows")
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_searches_user_id"))

    op.drop_table("saved_searches")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_posts_expires_at"))
        batch_op.drop_index(batch_op.f("ix_posts_author_id"))

    op.drop_table("posts")
    op.drop_table("organisation_versions")
    with op.batch_alter_table("organisation_sectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_sectors_scheme_code"))

    op.drop_table("organisation_sectors")
    with op.batch_alter_table("organisation_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_links_target_id"))

    op.drop_table("organisation_links")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_user_id_read_at"))

    op.drop_table("notifications")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_sent_at"))

    op.drop_table("outbox")
