"""Permission predicates of cooperation posts, without a database (transient model objects)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clusteratlas.collaboration.models import Organisation, OrganisationStatus, User
from clusteratlas.collaboration.permissions import (
    can_follow_post,
    can_manage_posts,
    can_view_post,
)

pytestmark = pytest.mark.unit

CONFIRMED = datetime(2025, 1, 1, tzinfo=UTC)
MANAGERS = {1}


def _user(id, *, confirmed=True, moderator=False, admin=False):  # noqa: A002
    return User(
        id=id,
        email=f"u{id}@example.org",
        password_hash="x",
        confirmed_at=CONFIRMED if confirmed else None,
        is_moderator=moderator,
        is_admin=admin,
    )


def _org(status=OrganisationStatus.published):
    return Organisation(id=10, name="BioCluster", country="DE", status=status)


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, False),
        (_user(1), True),  # a manager
        (_user(1, confirmed=False), False),  # a manager who has not confirmed
        (_user(2), False),  # another member
        (_user(2, moderator=True), False),  # moderators do not post for others
        (_user(3, admin=True), True),
        (_user(3, admin=True, confirmed=False), False),
    ],
)
def test_can_manage_posts(user, expected):
    assert can_manage_posts(user, MANAGERS) is expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, False),
        (_user(1), False),  # own organisation's post
        (_user(2), True),
        (_user(2, confirmed=False), False),
        (_user(3, admin=True), True),  # an administrator who does not manage it
        (_user(1, admin=True), False),  # an administrator who manages it
    ],
)
def test_can_follow_post(user, expected):
    assert can_follow_post(user, MANAGERS) is expected


@pytest.mark.parametrize("user", [None, _user(1), _user(2), _user(2, confirmed=False)])
def test_open_post_of_published_organisation_is_public(user):
    assert can_view_post(user, _org(), MANAGERS, is_open=True) is True


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, False),
        (_user(2), False),
        (_user(2, moderator=True), False),
        (_user(1), True),
        (_user(1, confirmed=False), False),
        (_user(3, admin=True), True),
    ],
)
@pytest.mark.parametrize(
    ("status", "open_"),
    [
        (OrganisationStatus.published, False),  # closed or expired
        (OrganisationStatus.draft, True),
        (OrganisationStatus.returned, True),
    ],
)
def test_closed_posts_and_unpublished_organisations_are_for_managers(user, expected, status, open_):
    assert can_view_post(user, _org(status), MANAGERS, is_open=open_) is expected
