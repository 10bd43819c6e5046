"""Queries: the SQL visibility rule agrees with the permission predicate; listing pages."""

from __future__ import annotations

import pytest

from clusteratlas.collaboration.organisations import (
    create_organisation,
    manager_ids,
    publish,
    send_back,
    submit,
)
from clusteratlas.collaboration.permissions import can_view_organisation
from clusteratlas.collaboration.queries import (
    get_organisation,
    list_organisations,
    visible_organisation,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def profiles(session, create_user):
    """One organisation in each status, managed by ``manager``; and the users who look."""
    manager, moderator = create_user(), create_user(moderator=True)
    result = {}
    for status in ("draft", "submitted", "published", "returned"):
        organisation = create_organisation(
            session, actor=manager, type="company", name=status.title(), country="FR"
        )
        if status != "draft":
            submit(session, actor=manager, organisation=organisation)
        if status == "published":
            publish(session, actor=moderator, organisation=organisation)
        if status == "returned":
            send_back(session, actor=moderator, organisation=organisation, reason="more")
        result[status] = organisation
    viewers = {
        "visitor": None,
        "unconfirmed": create_user(confirmed=False),
        "member": create_user(),
        "manager": manager,
        "moderator": moderator,
        "admin": create_user(admin=True),
    }
    return result, viewers


@pytest.mark.parametrize(
    "viewer", ["visitor", "unconfirmed", "member", "manager", "moderator", "admin"]
)
def test_visibility_query_agrees_with_the_predicate(session, profiles, viewer):
    organisations, viewers = profiles
    user = viewers[viewer]

    for organisation in organisations.values():
        expected = can_view_organisation(user, organisation, manager_ids(session, organisation))
        found = visible_organisation(session, viewer=user, organisation_id=organisation.id)

        assert (found is not None) == expected, (viewer, organisation.status)


def test_list_counts_all_matches_and_pages(session, profiles):
    _, viewers = profiles

    page, count = list_organisations(session, viewer=viewers["moderator"], limit=2, offset=1)

    assert ([o.name for o in page], count) == (["Published", "Returned"], 4)


def test_get_organisation_ignores_visibility(session, profiles):
    organisations, _ = profiles

    assert get_organisation(session, organisations["draft"].id) is organisations["draft"]
    assert get_organisation(session, 999_999) is None
