"""Queries: the SQL visibility rule agrees with the permission predicate; listing pages."""

from __future__ import annotations

import pytest

from clusteratlas.collaboration.models import LinkKind
from clusteratlas.collaboration.organisations import (
    create_organisation,
    link,
    manager_ids,
    publish,
    send_back,
    submit,
    update_organisation,
)
from clusteratlas.collaboration.permissions import can_view_organisation
from clusteratlas.collaboration.queries import (
    get_organisation,
    list_organisations,
    organisation_links,
    organisation_versions,
    version_changes,
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


def test_version_changes_lists_fields_that_differ():
    assert version_changes(None, {"city": "Köln"}) == {}
    assert version_changes({"city": None, "name": "A"}, {"city": "Köln", "name": "A"}) == {
        "city": [None, "Köln"]
    }


def test_versions_newest_first_with_their_changes(session, profiles):
    organisations, viewers = profiles
    published, manager = organisations["published"], viewers["manager"]
    update_organisation(
        session,
        actor=manager,
        organisation=published,
        city="Lyon",
        contacts=[{"name": "Ana"}],
    )

    public = organisation_versions(session, published)
    members = organisation_versions(session, published, with_contacts=True)

    assert [(v.version, v.changes) for v in public] == [(2, {"city": [None, "Lyon"]}), (1, {})]
    assert public[0].actor_email == manager.email
    assert public[1].actor_email == viewers["moderator"].email
    assert members[0].changes["contacts"][1] == [
        {"name": "Ana", "role": "", "email": "", "phone": ""}
    ]


def test_links_in_both_directions_only_visible_ones(session, profiles):
    organisations, viewers = profiles
    manager, published = viewers["manager"], organisations["published"]
    link(session, actor=manager, source=organisations["draft"], target=published, kind="member_of")
    link(
        session,
        actor=manager,
        source=organisations["returned"],
        target=published,
        kind="partner_of",
    )

    for_visitor = organisation_links(session, organisation=published, viewer=None)
    for_manager = organisation_links(session, organisation=published, viewer=manager)
    from_draft = organisation_links(session, organisation=organisations["draft"], viewer=manager)

    assert (for_visitor.outgoing, for_visitor.incoming) == ([], [])
    assert [(x.kind, x.organisation.name) for x in for_manager.incoming] == [
        (LinkKind.member_of, "Draft"),
        (LinkKind.partner_of, "Returned"),
    ]
    assert [(x.kind, x.organisation.name) for x in from_draft.outgoing] == [
        (LinkKind.member_of, "Published")
    ]
