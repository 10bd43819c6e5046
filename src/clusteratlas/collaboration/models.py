"""Tables of the collaboration platform (SQLAlchemy 2 typed models, no business logic).

Invariants live in the database: e-mail addresses are unique whatever their case (a unique
index on ``lower(email)``), the organisation type and status are checked by named
constraints, and a returned profile carries its reason. Every datetime is timezone-aware UTC
(:class:`UTCDateTime`), on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Enum,
    Float,
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
    "Event",
    "EventItem",
    "EventSession",
    "EventSlot",
    "EventStatus",
    "ItemKind",
    "Meeting",
    "MeetingOrigin",
    "MeetingOutcome",
    "MeetingRequest",
    "Participant",
    "ParticipantStatus",
    "RequestStatus",
    "ScheduleVersion",
    "LinkKind",
    "Notification",
    "Organisation",
    "OrganisationLink",
    "OrganisationManager",
    "OrganisationSector",
    "OrganisationStatus",
    "OrganisationType",
    "OrganisationVersion",
    "OutboxEmail",
    "Post",
    "PostCategory",
    "PostFollow",
    "PostInterest",
    "PostKind",
    "QualityLabel",
    "SavedSearch",
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


def _json() -> JSON:
    return JSON().with_variant(JSONB(), "postgresql")


class QualityLabel(StrEnum):
    """The European Cluster Excellence Initiative labels."""

    bronze = "bronze"
    silver = "silver"
    gold = "gold"


class LinkKind(StrEnum):
    """How one organisation relates to another (``source`` *kind* ``target``)."""

    member_of = "member_of"
    partner_of = "partner_of"


class PostKind(StrEnum):
    offer = "offer"
    request = "request"


class PostCategory(StrEnum):
    technology = "technology"
    business = "business"
    research_partner = "research_partner"
    funding_consortium = "funding_consortium"
    event = "event"


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
        CheckConstraint(
            "quality_label IS NULL OR " + _in("quality_label", QualityLabel), name="quality_label"
        ),
        Index(None, "status"),
        Index(None, "country"),
        Index(None, "region_code"),
        #: covers the search facets' grouped count (migration f7ebce1c3bff)
        Index(None, "status", "country", "region_code", "type", "quality_label"),
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
    #: free-text lists (each a JSON array of strings)
    keywords: Mapped[list[str]] = mapped_column(_json(), default=list)  # technologies, keywords
    value_chains: Mapped[list[str]] = mapped_column(_json(), default=list)
    emerging_industries: Mapped[list[str]] = mapped_column(_json(), default=list)
    s3_priorities: Mapped[list[str]] = mapped_column(_json(), default=list)
    #: members by type (cluster organisations); None: not given
    members_sme: Mapped[int | None] = mapped_column(Integer)
    members_large: Mapped[int | None] = mapped_column(Integer)
    members_research: Mapped[int | None] = mapped_column(Integer)
    members_university: Mapped[int | None] = mapped_column(Integer)
    members_other: Mapped[int | None] = mapped_column(Integer)
    staff_fte: Mapped[float | None] = mapped_column(Float)
    year_founded: Mapped[int | None] = mapped_column(Integer)
    quality_label: Mapped[QualityLabel | None] = mapped_column(_enum(QualityLabel))
    label_date: Mapped[date | None] = mapped_column(Date)
    label_expiry: Mapped[date | None] = mapped_column(Date)
    #: [{"name", "role", "email", "phone"}]: shown to signed-in members only
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(_json(), default=list)
    #: the number of the latest published version (0: never published)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    managers: Mapped[list[OrganisationManager]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )
    sectors: Mapped[list[OrganisationSector]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(OrganisationSector.scheme, OrganisationSector.code)",
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


class OrganisationSector(Base):
    """A sector of an organisation: a NACE Rev. 2 or NAICS code (any level), with its title."""

    __tablename__ = "organisation_sectors"
    __table_args__ = (
        CheckConstraint("scheme IN ('NACE', 'NAICS')", name="scheme"),
        Index(None, "scheme", "code"),
    )

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    scheme: Mapped[str] = mapped_column(String(8), primary_key=True)  # NACE or NAICS
    code: Mapped[str] = mapped_column(String(16), primary_key=True)  # e.g. C27, C27.1, 3359
    title: Mapped[str] = mapped_column(String(300), default="")


class OrganisationLink(Base):
    """``source`` is a member / partner of ``target``."""

    __tablename__ = "organisation_links"
    __table_args__ = (
        CheckConstraint(_in("kind", LinkKind), name="kind"),
        CheckConstraint("source_id <> target_id", name="not_self"),
    )

    source_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    target_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[LinkKind] = mapped_column(_enum(LinkKind), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OrganisationVersion(Base):
    """A snapshot of a profile each time it is published or a published profile is edited:
    the profile's history."""

    __tablename__ = "organisation_versions"
    __table_args__ = (UniqueConstraint("organisation_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(_json())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Post(Base):
    """A cooperation offer or request of an organisation, open until it expires."""

    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint(_in("kind", PostKind), name="kind"),
        CheckConstraint(_in("category", PostCategory), name="category"),
        Index(None, "organisation_id"),
        Index(None, "expires_at"),
        #: covers the post search's open-post filter and facets (migration f7ebce1c3bff)
        Index(None, "organisation_id", "closed_at", "expires_at", "kind", "category"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[PostKind] = mapped_column(_enum(PostKind))
    category: Mapped[PostCategory] = mapped_column(_enum(PostCategory))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(_json(), default=list)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()

    def __repr__(self) -> str:
        return f"<Post {self.id} {self.kind.value} {self.title!r}>"


class PostFollow(Base):
    """A member follows a post (and is told when it changes or closes)."""

    __tablename__ = "post_follows"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PostInterest(Base):
    """A member expresses interest in a post, with a message; the author sees who."""

    __tablename__ = "post_interests"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class Notification(Base):
    """A message to a user, shown on the site (their inbox)."""

    __tablename__ = "notifications"
    __table_args__ = (Index(None, "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))  # a path on this site
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxEmail(Base):
    """An e-mail waiting to be sent (or sent): written in the same transaction as the change
    that caused it, sent after commit, retried by ``clusteratlas mail send`` if SMTP failed."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)


class SavedSearch(Base):
    """A search a member saved; new matches are e-mailed to them."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the search's parameters (query text and facets), as the search page's query string has them
    query: Mapped[dict[str, Any]] = mapped_column(_json())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: matches created after this were not notified yet
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SearchGeneration(Base):
    """One row whose ``token`` changes, by database triggers, in every transaction that
    writes organisations or their sectors (migration 9e3b2c1d7f60): the in-memory search index
    of a process (``search_index``) is rebuilt when the token it was built at is not the
    current one. A random token, not a counter, so a rolled-back change cannot reuse it."""

    __tablename__ = "search_generation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64))


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
    changes: Mapped[dict[str, Any]] = mapped_column(_json(), default=dict)
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


# --- matchmaking events (issue 6) -------------------------------------------------------------


class EventStatus(StrEnum):
    """draft (only the organiser sees it) → published (listed, registration by its dates) →
    cancelled."""

    draft = "draft"
    published = "published"
    cancelled = "cancelled"


class ParticipantStatus(StrEnum):
    """pending (the event requires approval) → approved, or declined; withdrawn by themselves."""

    pending = "pending"
    approved = "approved"
    declined = "declined"
    withdrawn = "withdrawn"


class ItemKind(StrEnum):
    """A participant's marketplace item for an event."""

    offer = "offer"
    request = "request"
    expertise = "expertise"


class RequestStatus(StrEnum):
    """pending → accepted (a meeting is made) | declined | cancelled (by the requester) |
    expired (not answered by the event's request deadline)."""

    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    cancelled = "cancelled"
    expired = "expired"


class MeetingOrigin(StrEnum):
    """An accepted request, or a pairing from the standby list on the day."""

    request = "request"
    standby = "standby"


class MeetingOutcome(StrEnum):
    """One participant's one-click outcome of a meeting."""

    follow_up = "follow_up"
    partnership = "partnership"
    none = "none"


class Event(Base):
    """A matchmaking event. Times are stored in UTC and shown in ``timezone`` (IANA name)."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(_in("status", EventStatus), name="status"),
        CheckConstraint(
            "max_meetings_per_participant IS NULL OR max_meetings_per_participant >= 0",
            name="max_meetings",
        ),
        CheckConstraint(
            "max_outstanding_requests IS NULL OR max_outstanding_requests >= 1",
            name="max_outstanding",
        ),
        Index(None, "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    #: IANA time zone of the venue, e.g. "Europe/Brussels"; pages show times in it
    timezone: Mapped[str] = mapped_column(String(64))
    venue: Mapped[str | None] = mapped_column(String(300))
    #: virtual meetings: a link per meeting, "{meeting}" replaced by the meeting's number,
    #: e.g. "https://meet.example.org/atlas-{meeting}"; None: physical tables only
    virtual_link_template: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[EventStatus] = mapped_column(
        _enum(EventStatus), default=EventStatus.draft, server_default="draft"
    )
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: the organisation hosting the event (optional)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    #: first and last moment of the event (kept equal to its sessions' span)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: pending meeting requests expire at this moment
    requests_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requires_approval: Mapped[bool] = mapped_column(default=False, server_default=sql_false())
    #: cap on scheduled meetings per participant (None: no cap)
    max_meetings_per_participant: Mapped[int | None] = mapped_column(Integer)
    #: cap on pending requests a participant may have sent (None: no cap)
    max_outstanding_requests: Mapped[int | None] = mapped_column(Integer, default=10)
    #: weight of a "must meet" request in the schedule (others weigh 1)
    must_meet_weight: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    #: the number of the latest published schedule (0: none published)
    schedule_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="EventSession.starts_at",
    )
    slots: Mapped[list[EventSlot]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="EventSlot.starts_at"
    )

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r} {self.status.value}>"


class EventSession(Base):
    """A block of the event's agenda split into meeting slots of ``slot_minutes`` with
    ``break_minutes`` between them, with ``tables`` physical tables per slot."""

    __tablename__ = "event_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("slot_minutes > 0", name="slot_minutes"),
        CheckConstraint("break_minutes >= 0", name="break_minutes"),
        CheckConstraint("tables >= 0", name="tables"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    slot_minutes: Mapped[int] = mapped_column(Integer)
    break_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tables: Mapped[int] = mapped_column(Integer)

    event: Mapped[Event] = relationship(back_populates="sessions")
    slots: Mapped[list[EventSlot]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="EventSlot.starts_at",
    )


class EventSlot(Base):
    """A meeting slot of a session; ``tables`` physical tables (virtual meetings need none)."""

    __tablename__ = "event_slots"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("tables >= 0", name="tables"),
        Index(None, "event_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(
        ForeignKey("event_sessions.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tables: Mapped[int] = mapped_column(Integer)

    session: Mapped[EventSession] = relationship(back_populates="slots")


class Participant(Base):
    """A user registered for an event, for their organisation."""

    __tablename__ = "event_participants"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint(_in("status", ParticipantStatus), name="status"),
        CheckConstraint("max_meetings IS NULL OR max_meetings >= 0", name="max_meetings"),
        Index(None, "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ParticipantStatus] = mapped_column(
        _enum(ParticipantStatus),
        default=ParticipantStatus.pending,
        server_default="pending",
    )
    #: how the participant appears in the event (their name and role)
    display_name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    #: what they come for, in their words (searched and used by the recommendations)
    headline: Mapped[str] = mapped_column(Text, default="")
    #: their own cap on meetings, at most the event's (None: the event's cap)
    max_meetings: Mapped[int | None] = mapped_column(Integer)
    #: requests to them are accepted at once
    auto_accept: Mapped[bool] = mapped_column(default=False, server_default=sql_false())
    #: the ids of the slots they are available in (None: all slots)
    available_slot_ids: Mapped[list[int] | None] = mapped_column(_json())
    #: willing to meet someone whose partner did not come (the standby list)
    on_standby: Mapped[bool] = mapped_column(default=False, server_default=sql_false())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    def __repr__(self) -> str:
        return f"<Participant {self.id} {self.display_name!r} of event {self.event_id}>"


class EventItem(Base):
    """A participant's marketplace item for an event: an offer, a request or an expertise."""

    __tablename__ = "event_items"
    __table_args__ = (
        CheckConstraint(_in("kind", ItemKind), name="kind"),
        Index(None, "event_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("event_participants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(_json(), default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    participant: Mapped[Participant] = relationship()


class MeetingRequest(Base):
    """A participant asks another for a bilateral meeting at the event."""

    __tablename__ = "meeting_requests"
    __table_args__ = (
        CheckConstraint(_in("status", RequestStatus), name="status"),
        CheckConstraint("requester_id <> recipient_id", name="not_self"),
        Index(None, "event_id", "requester_id", "status"),
        Index(None, "event_id", "recipient_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("event_participants.id", ondelete="CASCADE")
    )
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("event_participants.id", ondelete="CASCADE")
    )
    message: Mapped[str] = mapped_column(Text, default="")
    #: "must meet": weighs ``Event.must_meet_weight`` in the schedule instead of 1
    must_meet: Mapped[bool] = mapped_column(default=False, server_default=sql_false())
    status: Mapped[RequestStatus] = mapped_column(
        _enum(RequestStatus), default=RequestStatus.pending, server_default="pending"
    )
    response_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    requester: Mapped[Participant] = relationship(foreign_keys=[requester_id])
    recipient: Mapped[Participant] = relationship(foreign_keys=[recipient_id])


class Meeting(Base):
    """A meeting to schedule: from an accepted request, or a standby pairing on the day.
    ``slot_id``/``table`` are the current (working) schedule; published schedules are
    :class:`ScheduleVersion` snapshots."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("a_id <> b_id", name="not_self"),
        CheckConstraint(_in("origin", MeetingOrigin), name="origin"),
        CheckConstraint("weight >= 1", name="weight"),
        CheckConstraint("table_number IS NULL OR table_number >= 1", name="table_number"),
        CheckConstraint(
            "outcome_a IS NULL OR " + _in("outcome_a", MeetingOutcome), name="outcome_a"
        ),
        CheckConstraint(
            "outcome_b IS NULL OR " + _in("outcome_b", MeetingOutcome), name="outcome_b"
        ),
        UniqueConstraint("request_id"),
        Index(None, "event_id", "slot_id"),
        Index(None, "a_id"),
        Index(None, "b_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_requests.id", ondelete="SET NULL")
    )
    origin: Mapped[MeetingOrigin] = mapped_column(
        _enum(MeetingOrigin), default=MeetingOrigin.request, server_default="request"
    )
    a_id: Mapped[int] = mapped_column(ForeignKey("event_participants.id", ondelete="CASCADE"))
    b_id: Mapped[int] = mapped_column(ForeignKey("event_participants.id", ondelete="CASCADE"))
    weight: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("event_slots.id", ondelete="SET NULL"))
    table_number: Mapped[int | None] = mapped_column(Integer)
    #: the organiser pinned it to its slot: the scheduler keeps it there
    locked: Mapped[bool] = mapped_column(default=False, server_default=sql_false())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: on the day: marked held by either side, or the partner marked absent
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    absent_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_participants.id", ondelete="SET NULL")
    )
    outcome_a: Mapped[MeetingOutcome | None] = mapped_column(_enum(MeetingOutcome))
    outcome_b: Mapped[MeetingOutcome | None] = mapped_column(_enum(MeetingOutcome))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    a: Mapped[Participant] = relationship(foreign_keys=[a_id])
    b: Mapped[Participant] = relationship(foreign_keys=[b_id])
    slot: Mapped[EventSlot | None] = relationship()

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.a_id}-{self.b_id} slot {self.slot_id}>"


class ScheduleVersion(Base):
    """A published schedule: who meets whom, when and at which table, as published."""

    __tablename__ = "schedule_versions"
    __table_args__ = (UniqueConstraint("event_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    #: {"<meeting id>": {"slot": <slot id>, "table": <number>}} of the scheduled meetings
    assignments: Mapped[dict[str, Any]] = mapped_column(_json())
    #: the solver's status, objective, bound and the schedule's quality figures
    quality: Mapped[dict[str, Any]] = mapped_column(_json(), default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
