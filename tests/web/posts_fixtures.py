"""Fixtures of the posts web tests (imported by ``test_posts_api.py`` and
``test_posts_pages.py``): organisations written directly in a given status (the profile
lifecycle is tested elsewhere) and posts made through the domain verb."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from clusteratlas.collaboration.models import (
    Organisation,
    OrganisationManager,
    OrganisationStatus,
    Post,
    User,
    utcnow,
)
from clusteratlas.collaboration.posts import create_post


@pytest.fixture
def make_org(session: Session) -> Callable[..., Organisation]:
    """Factory: ``make_org(manager, …, status="published", name=…, country=…)``."""

    def make(
        *managers: User, status: str = "published", name: str = "Volta Cells", country: str = "DE"
    ) -> Organisation:
        organisation = Organisation(
            type="company",
            name=name,
            country=country,
            status=OrganisationStatus(status),
            return_reason="add a website" if status == "returned" else None,
        )
        organisation.managers.extend(OrganisationManager(user_id=m.id) for m in managers)
        session.add(organisation)
        session.flush()
        return organisation

    return make


@pytest.fixture
def make_post(session: Session) -> Callable[..., Post]:
    """Factory: ``make_post(actor, organisation, title=…, …)``, open for 30 days."""

    def make(actor: User, organisation: Organisation, **values: object) -> Post:
        fields: dict[str, object] = {
            "kind": "offer",
            "category": "technology",
            "title": "Battery recycling pilot line",
            "body": "Access to our pilot line for partners.",
            "keywords": ["batteries", "recycling"],
            "expires_at": utcnow() + timedelta(days=30),
        }
        return create_post(session, actor=actor, organisation=organisation, **(fields | values))  # type: ignore[arg-type]

    return make
