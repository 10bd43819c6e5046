"""Permission predicates, without a database (transient model objects)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clusteratlas.collaboration.models import Organisation, OrganisationStatus, User
from clusteratlas.collaboration.permissions import (
    can_create_organisation,
    can_edit_organisation,
    can_link_organisation,
    can_manage_managers,
    can_moderate,
    can_review_organisation,
    can_view_contacts,
    can_view_history,
    can_view_organisation,
    is_member,
)

pytestmark = pytest.mark.unit

CONFIRMED = datetime(2025, 1, 1, tzinfo=UTC)


def _user(id, *, confirmed=True, moderator=False, admin=False):  # noqa: A002
    return User(
        id=id,
        email=f"u{id}@example.org",
        password_hash="x",
        confirmed_at=CONFIRMED if confirmed else None,
        is_moderator=moderator,
        is_admin=admin,
    )


def _org(status=OrganisationStatus.draft):
    return Organisation(id=10, name="BioCluster", country="DE", status=status)


MANAGER = _user(1)
OTHER = _user(2)
UNCONFIRMED_MANAGER = _user(3, confirmed=False)
MODERATOR = _user(4, moderator=True)
ADMIN = _user(5, admin=True)
UNCONFIRMED_MODERATOR = _user(6, confirmed=False, moderator=True)
MANAGERS = {1, 3, 4}  # the moderator manages this organisation too


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, False),
        (OTHER, True),
        (UNCONFIRMED_MANAGER, False),
        (MODERATOR, True),
        (ADMIN, True),
    ],
)
def test_members_are_confirmed_users(user, expected):
    assert is_member(user) == expected
    assert can_view_contacts(user) == expected
    assert can_create_organisation(user) == expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, False),
        (OTHER, False),
        (MODERATOR, True),
        (ADMIN, True),
        (UNCONFIRMED_MODERATOR, False),
    ],
)
def test_can_moderate_needs_a_confirmed_moderator_or_admin(user, expected):
    assert can_moderate(user) == expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, False),
        (MANAGER, True),
        (OTHER, False),
        (UNCONFIRMED_MANAGER, False),
        (ADMIN, True),
        (_user(7, moderator=True), False),  # moderating is not editing
    ],
)
def test_can_edit_organisation_is_for_its_managers_and_admins(user, expected):
    assert can_edit_organisation(user, _org(), MANAGERS) == expected
    assert can_manage_managers(user, _org(), MANAGERS) == expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, False),
        (MANAGER, False),
        (OTHER, False),
        (MODERATOR, False),  # no one reviews their own organisation
        (_user(7, moderator=True), True),
        (ADMIN, True),
    ],
)
def test_can_review_organisation_excludes_its_own_managers(user, expected):
    assert can_review_organisation(user, _org(OrganisationStatus.submitted), MANAGERS) == expected


@pytest.mark.parametrize(
    ("status", "user", "expected"),
    [
        (OrganisationStatus.published, None, True),
        (OrganisationStatus.published, OTHER, True),
        (OrganisationStatus.draft, None, False),
        (OrganisationStatus.draft, OTHER, False),
        (OrganisationStatus.draft, MANAGER, True),
        (OrganisationStatus.submitted, _user(7, moderator=True), True),
        (OrganisationStatus.returned, ADMIN, True),
    ],
)
def test_can_view_organisation_hides_unpublished_profiles(status, user, expected):
    assert can_view_organisation(user, _org(status), MANAGERS) == expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, False),
        (MANAGER, True),
        (OTHER, False),
        (UNCONFIRMED_MANAGER, False),
        (ADMIN, True),
        (_user(7, moderator=True), False),
    ],
)
def test_can_link_organisation_is_for_the_source_managers(user, expected):
    assert can_link_organisation(user, _org(OrganisationStatus.published), MANAGERS) == expected


@pytest.mark.parametrize(
    ("status", "user", "expected"),
    [
        (OrganisationStatus.published, None, True),
        (OrganisationStatus.draft, None, False),
        (OrganisationStatus.draft, OTHER, False),
        (OrganisationStatus.returned, MANAGER, True),
        (OrganisationStatus.submitted, _user(7, moderator=True), True),
    ],
)
def test_can_view_history_follows_the_profile(status, user, expected):
    assert can_view_history(user, _org(status), MANAGERS) == expected
