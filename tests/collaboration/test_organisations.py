"""Organisation verbs: permissions, lifecycle, validation and the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.models import AuditLog, OrganisationStatus, OrganisationType
from clusteratlas.collaboration.organisations import (
    add_manager,
    create_organisation,
    manager_ids,
    publish,
    send_back,
    submit,
    update_organisation,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def create_org(session):
    def create(actor, **values):
        fields = {
            "type": "cluster_organisation",
            "name": "BioCluster Rhein",
            "country": "de",
            "region_code": "de11",
            "website": "https://biocluster.example.org",
        }
        return create_organisation(session, actor=actor, **(fields | values))

    return create


def _audit(session, organisation):
    rows = session.scalars(
        select(AuditLog)
        .where(AuditLog.entity_type == "organisation", AuditLog.entity_id == organisation.id)
        .order_by(AuditLog.id)
    )
    return [(row.action, row.actor_id) for row in rows]


def test_create_organisation_makes_a_managed_draft(session, create_user, create_org):
    ana = create_user()

    organisation = create_org(ana, description="  Biotech firms of the Rhine. ")

    assert (organisation.status, organisation.type) == (
        OrganisationStatus.draft,
        OrganisationType.cluster_organisation,
    )
    assert (organisation.country, organisation.region_code) == ("DE", "DE11")
    assert organisation.description == "Biotech firms of the Rhine."
    assert manager_ids(session, organisation) == {ana.id}
    assert _audit(session, organisation) == [("organisation.created", ana.id)]


def test_create_organisation_needs_a_confirmed_account(create_user, create_org):
    unconfirmed = create_user(confirmed=False)

    with pytest.raises(PermissionDenied):
        create_org(unconfirmed)


def test_create_organisation_reports_field_messages(create_user, create_org):
    ana = create_user()

    with pytest.raises(ValidationError) as caught:
        create_org(ana, type="club", name="  ", country="Germany", website="biocluster.de")

    assert sorted(caught.value.errors) == ["country", "name", "type", "website"]


def test_update_organisation_records_old_and_new_values(session, create_user, create_org):
    ana = create_user()
    organisation = create_org(ana)

    update_organisation(session, actor=ana, organisation=organisation, city="Düsseldorf")

    row = session.scalars(select(AuditLog).where(AuditLog.action == "organisation.updated")).one()
    assert organisation.city == "Düsseldorf"
    assert row.changes == {"city": [None, "Düsseldorf"]}


def test_non_manager_cannot_edit_submit_or_add_managers(session, create_user, create_org):
    ana, eve = create_user(), create_user()
    organisation = create_org(ana)

    with pytest.raises(PermissionDenied):
        update_organisation(session, actor=eve, organisation=organisation, name="Mine now")
    with pytest.raises(PermissionDenied):
        submit(session, actor=eve, organisation=organisation)
    with pytest.raises(PermissionDenied):
        add_manager(session, actor=eve, organisation=organisation, user=eve)

    assert organisation.name == "BioCluster Rhein"
    assert _audit(session, organisation) == [("organisation.created", ana.id)]


def test_moderator_publishes_submitted_profile(session, create_user, create_org):
    ana, mod = create_user(), create_user(moderator=True)
    organisation = create_org(ana)

    submit(session, actor=ana, organisation=organisation)
    publish(session, actor=mod, organisation=organisation)

    assert organisation.status == OrganisationStatus.published
    assert _audit(session, organisation) == [
        ("organisation.created", ana.id),
        ("organisation.submitted", ana.id),
        ("organisation.published", mod.id),
    ]


def test_moderator_sends_back_with_reason_and_manager_resubmits(session, create_user, create_org):
    ana, mod = create_user(), create_user(moderator=True)
    organisation = create_org(ana)
    submit(session, actor=ana, organisation=organisation)

    send_back(session, actor=mod, organisation=organisation, reason="Add the member count.")
    returned = (organisation.status, organisation.return_reason)
    update_organisation(session, actor=ana, organisation=organisation, description="42 members")
    submit(session, actor=ana, organisation=organisation)

    row = session.scalars(select(AuditLog).where(AuditLog.action == "organisation.sent_back")).one()
    assert returned == (OrganisationStatus.returned, "Add the member count.")
    assert (organisation.status, organisation.return_reason) == (OrganisationStatus.submitted, None)
    assert row.changes == {"status": ["submitted", "returned"], "reason": "Add the member count."}


def test_send_back_needs_a_reason(session, create_user, create_org):
    ana, mod = create_user(), create_user(moderator=True)
    organisation = create_org(ana)
    submit(session, actor=ana, organisation=organisation)

    with pytest.raises(ValidationError) as caught:
        send_back(session, actor=mod, organisation=organisation, reason="   ")

    assert list(caught.value.errors) == ["reason"]
    assert organisation.status == OrganisationStatus.submitted


def test_only_moderators_publish_and_not_their_own(session, create_user, create_org):
    ana = create_user()
    mod_manager = create_user(moderator=True)
    organisation = create_org(ana)
    add_manager(session, actor=ana, organisation=organisation, user=mod_manager)
    submit(session, actor=ana, organisation=organisation)

    with pytest.raises(PermissionDenied):
        publish(session, actor=ana, organisation=organisation)
    with pytest.raises(PermissionDenied):
        publish(session, actor=mod_manager, organisation=organisation)

    assert organisation.status == OrganisationStatus.submitted


def test_draft_cannot_be_published(session, create_user, create_org):
    ana, mod = create_user(), create_user(moderator=True)
    organisation = create_org(ana)

    with pytest.raises(ValidationError) as caught:
        publish(session, actor=mod, organisation=organisation)

    assert caught.value.errors == {"status": "a draft profile cannot become published"}


def test_published_profile_cannot_be_edited_yet(session, create_user, create_org):
    ana, mod = create_user(), create_user(moderator=True)
    organisation = create_org(ana)
    submit(session, actor=ana, organisation=organisation)
    publish(session, actor=mod, organisation=organisation)

    with pytest.raises(ValidationError) as caught:
        update_organisation(session, actor=ana, organisation=organisation, city="Köln")

    assert list(caught.value.errors) == ["status"]


def test_add_manager_lets_the_new_manager_edit(session, create_user, create_org):
    ana, bob = create_user(), create_user()
    organisation = create_org(ana)

    add_manager(session, actor=ana, organisation=organisation, user=bob)
    update_organisation(session, actor=bob, organisation=organisation, acronym="BCR")

    assert manager_ids(session, organisation) == {ana.id, bob.id}
    assert _audit(session, organisation) == [
        ("organisation.created", ana.id),
        ("organisation.manager_added", ana.id),
        ("organisation.updated", bob.id),
    ]


def test_add_manager_twice_is_a_field_error(session, create_user, create_org):
    ana = create_user()
    organisation = create_org(ana)

    with pytest.raises(ValidationError) as caught:
        add_manager(session, actor=ana, organisation=organisation, user=ana)

    assert list(caught.value.errors) == ["user"]


def test_admin_may_edit_any_organisation(session, create_user, create_org):
    ana, admin = create_user(), create_user(admin=True)
    organisation = create_org(ana)

    update_organisation(session, actor=admin, organisation=organisation, city="Bonn")

    assert organisation.city == "Bonn"
