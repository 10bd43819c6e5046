"""Reusable reads of the collaboration data, scoped to what the viewer may see.

The visibility rule is the one of :func:`~clusteratlas.collaboration.permissions.
can_view_organisation`, written as SQL: published profiles for everyone; also the profiles a
confirmed user manages; everything for confirmed moderators and administrators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from clusteratlas.collaboration.models import (
    LinkKind,
    Organisation,
    OrganisationLink,
    OrganisationManager,
    OrganisationStatus,
    OrganisationType,
    OrganisationVersion,
    User,
)
from clusteratlas.collaboration.permissions import can_moderate, is_member

__all__ = [
    "Link",
    "Links",
    "VersionView",
    "get_organisation",
    "organisation_links",
    "organisation_versions",
    "version_changes",
    "list_organisations",
    "visible_organisation",
    "visible_to",
]


def visible_to(viewer: User | None) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Organisation` selecting what ``viewer`` (None: a visitor) may
    see."""
    published = Organisation.status == OrganisationStatus.published
    if viewer is None or not is_member(viewer):
        return published
    if can_moderate(viewer) or viewer.is_admin:
        return true()
    managed = select(OrganisationManager.organisation_id).where(
        OrganisationManager.user_id == viewer.id
    )
    return or_(published, Organisation.id.in_(managed))


def get_organisation(session: Session, organisation_id: int) -> Organisation | None:
    """The organisation with this id, whoever may see it (for the verbs, which check)."""
    return session.get(Organisation, organisation_id)


def visible_organisation(
    session: Session, *, viewer: User | None, organisation_id: int
) -> Organisation | None:
    """The organisation with this id if ``viewer`` may see it, else None."""
    return session.scalars(
        select(Organisation).where(Organisation.id == organisation_id, visible_to(viewer))
    ).one_or_none()


def _filtered(
    viewer: User | None,
    *,
    country: str | None,
    type: OrganisationType | None,  # noqa: A002 - the profile's field name
    status: OrganisationStatus | None,
) -> Select[tuple[Organisation]]:
    query = select(Organisation).where(visible_to(viewer))
    if country is not None:
        query = query.where(Organisation.country == country.upper())
    if type is not None:
        query = query.where(Organisation.type == type)
    if status is not None:
        query = query.where(Organisation.status == status)
    return query


def list_organisations(
    session: Session,
    *,
    viewer: User | None,
    country: str | None = None,
    type: OrganisationType | None = None,  # noqa: A002 - the profile's field name
    status: OrganisationStatus | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Organisation], int]:
    """One page of the organisations ``viewer`` may see, by name then id, and how many match
    in all."""
    query = _filtered(viewer, country=country, type=type, status=status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.options(selectinload(Organisation.sectors))
        .order_by(func.lower(Organisation.name), Organisation.id)
        .limit(limit)
        .offset(offset)
    )
    return list(page), total


# ---- history -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionView:
    """One published version of a profile and what changed since the one before (empty for
    version 1)."""

    version: int
    at: datetime
    actor_email: str | None
    changes: dict[str, list[Any]] = field(default_factory=dict)


def version_changes(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """``{field: [old, new]}`` for the fields that differ between two snapshots (None: no
    earlier snapshot, so nothing is reported as changed)."""
    if previous is None:
        return {}
    return {
        name: [previous.get(name), value]
        for name, value in current.items()
        if previous.get(name) != value
    }


def organisation_versions(
    session: Session, organisation: Organisation, *, with_contacts: bool = False
) -> list[VersionView]:
    """The profile's versions, newest first, each with its changes from the one before.
    Changes of the contacts are left out unless ``with_contacts`` (members only: see
    :func:`~clusteratlas.collaboration.permissions.can_view_contacts`)."""
    rows = session.execute(
        select(OrganisationVersion, User.email)
        .outerjoin(User, User.id == OrganisationVersion.actor_id)
        .where(OrganisationVersion.organisation_id == organisation.id)
        .order_by(OrganisationVersion.version)
    ).all()
    views = []
    previous: dict[str, Any] | None = None
    for version, email in rows:
        changes = version_changes(previous, version.data)
        if not with_contacts:
            changes.pop("contacts", None)
        views.append(
            VersionView(version=version.version, at=version.at, actor_email=email, changes=changes)
        )
        previous = version.data
    return views[::-1]


# ---- links ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A link seen from one profile: the other organisation, and how they are related."""

    kind: LinkKind
    organisation: Organisation


@dataclass(frozen=True)
class Links:
    """``outgoing``: this organisation is a member / partner of these; ``incoming``: these
    are members / partners of it. Only organisations the viewer may see are listed."""

    outgoing: list[Link]
    incoming: list[Link]


def organisation_links(
    session: Session, *, organisation: Organisation, viewer: User | None
) -> Links:
    """The links of ``organisation`` in both directions, by the other organisation's name."""
    mine = organisation.id
    other = case(
        (OrganisationLink.source_id == mine, OrganisationLink.target_id),
        else_=OrganisationLink.source_id,
    )
    rows = session.execute(
        select(OrganisationLink.kind, OrganisationLink.source_id, Organisation)
        .join(Organisation, Organisation.id == other)
        .where(or_(OrganisationLink.source_id == mine, OrganisationLink.target_id == mine))
        .where(visible_to(viewer))
        .order_by(OrganisationLink.kind, func.lower(Organisation.name), Organisation.id)
    ).all()
    return Links(
        outgoing=[
            Link(kind=kind, organisation=org) for kind, source, org in rows if source == mine
        ],
        incoming=[
            Link(kind=kind, organisation=org) for kind, source, org in rows if source != mine
        ],
    )
