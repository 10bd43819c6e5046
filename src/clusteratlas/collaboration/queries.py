"""Reusable reads of the collaboration data, scoped to what the viewer may see.

The visibility rule is the one of :func:`~clusteratlas.collaboration.permissions.
can_view_organisation`, written as SQL: published profiles for everyone; also the profiles a
confirmed user manages; everything for confirmed moderators and administrators.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session

from clusteratlas.collaboration.models import (
    Organisation,
    OrganisationManager,
    OrganisationStatus,
    OrganisationType,
    User,
)
from clusteratlas.collaboration.permissions import can_moderate, is_member

__all__ = [
    "get_organisation",
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
        query.order_by(func.lower(Organisation.name), Organisation.id).limit(limit).offset(offset)
    )
    return list(page), total
