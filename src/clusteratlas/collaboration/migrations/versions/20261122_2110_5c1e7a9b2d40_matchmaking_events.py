"""Matchmaking events: events, sessions, slots, participants, marketplace items, meeting requests,
meetings and published schedule versions (issue 6).

Revision ID: 5c1e7a9b2d40
Revises: f7ebce1c3bff
Create Date: 2026-11-22 21:10:34.114049+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5c1e7a9b2d40"
down_revision: str | None = "f7ebce1c3bff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=True),
        sa.Column("virtual_link_template", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum("draft", "published", "cancelled", name="eventstatus", native_enum=False),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", _utc(), nullable=True),
        sa.Column("ends_at", _utc(), nullable=True),
        sa.Column(
            "registration_opens_at",
            _utc(),
            nullable=True,
        ),
        sa.Column(
            "registration_closes_at",
            _utc(),
            nullable=True,
        ),
        sa.Column(
            "requests_deadline",
            _utc(),
            nullable=True,
        ),
        sa.Column("requires_approval", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("max_meetings_per_participant", sa.Integer(), nullable=True),
        sa.Column("max_outstanding_requests", sa.Integer(), nullable=True),
        sa.Column("must_meet_weight", sa.Integer(), server_default="3", nullable=False),
        sa.Column("schedule_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            _utc(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            _utc(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'cancelled')", name=op.f("ck_events_status")
        ),
        sa.CheckConstraint(
            "max_meetings_per_participant IS NULL OR max_meetings_per_participant >= 0",
            name=op.f("ck_events_max_meetings"),
        ),
        sa.CheckConstraint(
            "max_outstanding_requests IS NULL OR max_outstanding_requests >= 1",
            name=op.f("ck_events_max_outstanding"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_events_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["users.id"],
            name=op.f("fk_events_organiser_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_organiser_id"), ["organiser_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_events_status_starts_at"), ["status", "starts_at"], unique=False
        )

    op.create_table(
        "event_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "declined",
                "withdrawn",
                name="participantstatus",
                native_enum=False,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("max_meetings", sa.Integer(), nullable=True),
        sa.Column("auto_accept", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "available_slot_ids",
            _json(),
            nullable=True,
        ),
        sa.Column("on_standby", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "checked_in_at",
            _utc(),
            nullable=True,
        ),
        sa.Column(
            "decided_at",
            _utc(),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            _utc(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            _utc(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'declined', 'withdrawn')",
            name=op.f("ck_event_participants_status"),
        ),
        sa.CheckConstraint(
            "max_meetings IS NULL OR max_meetings >= 0",
            name=op.f("ck_event_participants_max_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_participants_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_event_participants_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_event_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_participants")),
        sa.UniqueConstraint(
            "event_id", "user_id", name=op.f("uq_event_participants_event_id_user_id")
        ),
    )
    with op.batch_alter_table("event_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_participants_event_id_status"),
            ["event_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_event_participants_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_participants_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "event_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "starts_at",
            _utc(),
            nullable=False,
        ),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("break_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tables", sa.Integer(), nullable=False),
        sa.CheckConstraint("break_minutes >= 0", name=op.f("ck_event_sessions_break_minutes")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_event_sessions_ends_after_start")),
        sa.CheckConstraint("slot_minutes > 0", name=op.f("ck_event_sessions_slot_minutes")),
        sa.CheckConstraint("tables >= 0", name=op.f("ck_event_sessions_tables")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_sessions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_sessions")),
    )
    with op.batch_alter_table("event_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_sessions_event_id"), ["event_id"], unique=False)

    op.create_table(
        "schedule_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "assignments",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "quality",
            _json(),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column(
            "published_at",
            _utc(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_schedule_versions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["users.id"],
            name=op.f("fk_schedule_versions_published_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_versions")),
        sa.UniqueConstraint(
            "event_id", "version", name=op.f("uq_schedule_versions_event_id_version")
        ),
    )
    op.create_table(
        "event_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("offer", "request", "expertise", name="itemkind", native_enum=False),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "keywords",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            _utc(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            _utc(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('offer', 'request', 'expertise')", name=op.f("ck_event_items_kind")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_items_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["event_participants.id"],
            name=op.f("fk_event_items_participant_id_event_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_items")),
    )
    with op.batch_alter_table("event_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_items_event_id_kind"), ["event_id", "kind"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_items_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "event_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column(
            "starts_at",
            _utc(),
            nullable=False,
        ),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.Column("tables", sa.Integer(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_event_slots_ends_after_start")),
        sa.CheckConstraint("tables >= 0", name=op.f("ck_event_slots_tables")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_slots_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_sessions.id"],
            name=op.f("fk_event_slots_session_id_event_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_slots")),
    )
    with op.batch_alter_table("event_slots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_slots_event_id_starts_at"), ["event_id", "starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_slots_session_id"), ["session_id"], unique=False)

    op.create_table(
        "meeting_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("must_meet", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "declined",
                "cancelled",
                "expired",
                name="requeststatus",
                native_enum=False,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("response_message", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            _utc(),
            nullable=False,
        ),
        sa.Column(
            "responded_at",
            _utc(),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')",
            name=op.f("ck_meeting_requests_status"),
        ),
        sa.CheckConstraint(
            "requester_id <> recipient_id", name=op.f("ck_meeting_requests_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_meeting_requests_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["event_participants.id"],
            name=op.f("fk_meeting_requests_recipient_id_event_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["event_participants.id"],
            name=op.f("fk_meeting_requests_requester_id_event_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_requests")),
    )
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_requests_event_id_recipient_id_status"),
            ["event_id", "recipient_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_requests_event_id_requester_id_status"),
            ["event_id", "requester_id", "status"],
            unique=False,
        )

    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column(
            "origin",
            sa.Enum("request", "standby", name="meetingorigin", native_enum=False),
            server_default="request",
            nullable=False,
        ),
        sa.Column("a_id", sa.Integer(), nullable=False),
        sa.Column("b_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), server_default="1", nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("table_number", sa.Integer(), nullable=True),
        sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "cancelled_at",
            _utc(),
            nullable=True,
        ),
        sa.Column("held_at", _utc(), nullable=True),
        sa.Column("absent_participant_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome_a",
            sa.Enum("follow_up", "partnership", "none", name="meetingoutcome", native_enum=False),
            nullable=True,
        ),
        sa.Column(
            "outcome_b",
            sa.Enum("follow_up", "partnership", "none", name="meetingoutcome", native_enum=False),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            _utc(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            _utc(),
            nullable=False,
        ),
        sa.CheckConstraint("origin IN ('request', 'standby')", name=op.f("ck_meetings_origin")),
        sa.CheckConstraint(
            "outcome_a IS NULL OR outcome_a IN ('follow_up', 'partnership', 'none')",
            name=op.f("ck_meetings_outcome_a"),
        ),
        sa.CheckConstraint(
            "outcome_b IS NULL OR outcome_b IN ('follow_up', 'partnership', 'none')",
            name=op.f("ck_meetings_outcome_b"),
        ),
        sa.CheckConstraint("a_id <> b_id", name=op.f("ck_meetings_not_self")),
        sa.CheckConstraint(
            "table_number IS NULL OR table_number >= 1", name=op.f("ck_meetings_table_number")
        ),
        sa.CheckConstraint("weight >= 1", name=op.f("ck_meetings_weight")),
        sa.ForeignKeyConstraint(
            ["a_id"],
            ["event_participants.id"],
            name=op.f("fk_meetings_a_id_event_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["absent_participant_id"],
            ["event_participants.id"],
            name=op.f("fk_meetings_absent_participant_id_event_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["b_id"],
            ["event_participants.id"],
            name=op.f("fk_meetings_b_id_event_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_meetings_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["meeting_requests.id"],
            name=op.f("fk_meetings_request_id_meeting_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["event_slots.id"],
            name=op.f("fk_meetings_slot_id_event_slots"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("request_id", name=op.f("uq_meetings_request_id")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_a_id"), ["a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_b_id"), ["b_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_meetings_event_id_slot_id"), ["event_id", "slot_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_event_id_slot_id"))
        batch_op.drop_index(batch_op.f("ix_meetings_b_id"))
        batch_op.drop_index(batch_op.f("ix_meetings_a_id"))

    op.drop_table("meetings")
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_requests_event_id_requester_id_status"))
        batch_op.drop_index(batch_op.f("ix_meeting_requests_event_id_recipient_id_status"))

    op.drop_table("meeting_requests")
    with op.batch_alter_table("event_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_slots_session_id"))
        batch_op.drop_index(batch_op.f("ix_event_slots_event_id_starts_at"))

    op.drop_table("event_slots")
    with op.batch_alter_table("event_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_items_participant_id"))
        batch_op.drop_index(batch_op.f("ix_event_items_event_id_kind"))

    op.drop_table("event_items")
    op.drop_table("schedule_versions")
    with op.batch_alter_table("event_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_sessions_event_id"))

    op.drop_table("event_sessions")
    with op.batch_alter_table("event_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_participants_user_id"))
        batch_op.drop_index(batch_op.f("ix_event_participants_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_event_participants_event_id_status"))

    op.drop_table("event_participants")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_status_starts_at"))
        batch_op.drop_index(batch_op.f("ix_events_organiser_id"))

    op.drop_table("events")
