"""Tables of the collaboration platform (SQLAlchemy 2 typed models, no business logic).

Invariants live in the database: e-mail addresses are unique whatever their case (a unique
index on ``lower(email)``), the organisation type and status are checked by named
constraints, and a returned profile carries its reason. Every datetime is timezone-aware UTC
(:class:`UTCDateTime`), on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy import false as sql_false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ApiToken",
    "AuditLog",
    "Base",
    "Organisation",
    "OrganisationManager",
    "OrganisationStatus",
    "OrganisationType",
    "UTCDateTime",
    "User",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC. Naive datetimes are refused; values read back
    are aware UTC (SQLite stores them without an offset, PostgreSQL as ``timestamptz``)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OrganisationType(StrEnum):
    cluster_organisation = "cluster_organisation"
    company = "company"
    research_organisation = "research_organisation"
    university = "university"
    public_authority = "public_authority"
    investor = "investor"
    other = "other"

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]


_TYPE_LABELS = {
    OrganisationType.cluster_organisation: "cluster organisation",
    OrganisationType.company: "company",
    OrganisationType.research_organisation: "research organisation",
    OrganisationType.university: "university",
    OrganisationType.public_authority: "public authority or agency",
    OrganisationType.investor: "investor",
    OrganisationType.other: "other",
}


class OrganisationStatus(StrEnum):
    """Lifecycle: draft → submitted → published, or returned (with a reason) → submitted …"""

    draft = "draft"
    submitted = "submitted"
    published = "published"
    returned = "returned"


def _in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum)})"


def _enum(enum: type[StrEnum]) -> Enum:
    """Stored as the member's value in a VARCHAR; the CHECK constraint is declared explicitly."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda members: [m.value for m in members],
    )


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=sql_false())
    is_moderator: Mapped[bool] = mapped_column(default=False, server_default=sql_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


#: e-mail addresses are unique whatever their case (the domain reports it as a field error)
Index("uq_users_email_lower", func.lower(User.email), unique=True)


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(_in("type", OrganisationType), name="type"),
        CheckConstraint(_in("status", OrganisationStatus), name="status"),
        CheckConstraint(
            "status <> 'returned' OR return_reason IS NOT NULL", name="returned_has_reason"
        ),
        Index(None, "status"),
        Index(None, "country"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[OrganisationType] = mapped_column(_enum(OrganisationType))
    name: Mapped[str] = mapped_column(String(300))
    acronym: Mapped[str | None] = mapped_column(String(50))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2 (EL for Greece too)
    region_code: Mapped[str | None] = mapped_column(String(16))  # NUTS or another region code
    city: Mapped[str | None] = mapped_column(String(120))
    website: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OrganisationStatus] = mapped_column(
        _enum(OrganisationStatus), default=OrganisationStatus.draft, server_default="draft"
    )
    return_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    managers: Mapped[list[OrganisationManager]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.status.value}>"


class OrganisationManager(Base):
    """A user who manages an organisation's profile (several per organisation)."""

    __tablename__ = "organisation_managers"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="managers")
    user: Mapped[User] = relationship()


class AuditLog(Base):
    """Who did what to which entity, with the changed values, and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=dict
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditLog {self.action} {self.entity_type} {self.entity_id} by {self.actor_id}>"


class ApiToken(Base):
    """A bearer token for the JSON API. Only the SHA-256 of the secret is stored: the secret is
    shown once, when the token is created. A revoked token stays, for the audit trail."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.name!r} of user {self.user_id}>"
