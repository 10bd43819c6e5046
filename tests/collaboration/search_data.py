"""Test data for the search, saved-search and recommendation tests, inserted as model rows
(not through the verbs, so the indexes are shown to follow plain inserts too)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from clusteratlas.collaboration.models import (
    Organisation,
    OrganisationManager,
    OrganisationSector,
    OrganisationStatus,
    OrganisationType,
    Post,
    PostCategory,
    PostKind,
    User,
    utcnow,
)


def add_org(
    session: Session,
    name: str,
    *,
    country: str = "DE",
    type: str = "cluster_organisation",  # noqa: A002 - the field's name
    status: str = "published",
    sectors: Sequence[tuple[str, str]] = (),
    manager: User | None = None,
    **fields: Any,
) -> Organisation:
    """An organisation row (published by default) with its sectors ``[(code, title)]``."""
    organisation = Organisation(
        name=name,
        country=country,
        type=OrganisationType(type),
        status=OrganisationStatus(status),
        published_at=fields.pop("published_at", utcnow() if status == "published" else None),
        **fields,
    )
    session.add(organisation)
    session.flush()
    for code, title in sectors:
        scheme = "NAICS" if code[0].isdigit() else "NACE"
        session.add(
            OrganisationSector(
                organisation_id=organisation.id, scheme=scheme, code=code, title=title
            )
        )
    if manager is not None:
        session.add(OrganisationManager(organisation_id=organisation.id, user_id=manager.id))
    session.flush()
    session.expire(organisation, ["sectors"])
    return organisation


def add_post(
    session: Session,
    organisation: Organisation,
    title: str,
    *,
    kind: str = "offer",
    category: str = "technology",
    body: str = "",
    days: int = 30,
    **fields: Any,
) -> Post:
    """An open post of ``organisation`` expiring in ``days`` days (negative: expired)."""
    post = Post(
        organisation_id=organisation.id,
        kind=PostKind(kind),
        category=PostCategory(category),
        title=title,
        body=body,
        expires_at=utcnow() + timedelta(days=days),
        **fields,
    )
    session.add(post)
    session.flush()
    return post
