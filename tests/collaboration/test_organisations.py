"""Organisation verbs: permissions, lifecycle, validation and the audit log."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.models import (
    AuditLog,
    LinkKind,
    Organisation,
    OrganisationLink,
    OrganisationStatus,
    OrganisationType,
    OrganisationVersion,
    QualityLabel,
    User,
)
from clusteratlas.collaboration.organisations import (
    add_manager,
    add_manager_by_email,
    create_organisation,
    description_html,
    eligibility,
    link,
    manager_ids,
    publish,
    send_back,
    submit,
    unlink,
    update_organisation,
)
from clusteratlas.collaboration.settings import Settings

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
            "members_sme": 12,
            "members_research": 3,
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


def test_submitted_profile_cannot_be_edited(session, create_user, create_org):
    ana = create_user()
    organisation = create_org(ana)
    submit(session, actor=ana, organisation=organisation)

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


# ---- every profile field -------------------------------------------------------------------

FULL = {
    "keywords": ["batteries", " recycling ", "batteries", ""],
    "value_chains": "mobility\nenergy, storage",
    "emerging_industries": ["circular economy"],
    "s3_priorities": ["clean energy"],
    "members_sme": "40",
    "members_large": 5,
    "members_research": 0,
    "members_university": None,
    "members_other": "",
    "staff_fte": "4,5",
    "year_founded": 2008,
    "quality_label": "gold",
    "label_date": "2024-03-01",
    "label_expiry": date(2026, 3, 1),
    "contacts": [{"name": "Ana Silva", "role": "manager", "email": "ana@bio.example.org"}],
    "nace": ["27", "C27.1", "2711"],
    "naics": "3359, 31",
}


def test_every_profile_field_is_cleaned_and_stored(session, create_user, create_org):
    organisation = create_org(create_user(), **FULL)
    session.expire_all()

    assert organisation.keywords == ["batteries", "recycling"]
    assert organisation.value_chains == ["mobility", "energy", "storage"]
    assert (organisation.members_sme, organisation.members_large) == (40, 5)
    assert (organisation.members_university, organisation.members_other) == (None, None)
    assert organisation.staff_fte == 4.5
    assert organisation.year_founded == 2008
    assert organisation.quality_label == QualityLabel.gold
    assert (organisation.label_date, organisation.label_expiry) == (
        date(2024, 3, 1),
        date(2026, 3, 1),
    )
    assert organisation.contacts == [
        {"name": "Ana Silva", "role": "manager", "email": "ana@bio.example.org", "phone": ""}
    ]
    assert [(s.scheme, s.code) for s in organisation.sectors] == [
        ("NACE", "C27"),
        ("NACE", "C27.1"),
        ("NACE", "C27.11"),
        ("NAICS", "31-33"),
        ("NAICS", "3359"),
    ]
    assert organisation.sectors[0].title == "Manufacture of electrical equipment"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"keywords": ["x"] * 0 + [f"k{i}" for i in range(31)]}, "keywords", "at most 30 items"),
        ({"keywords": ["x" * 101]}, "keywords", "at most 100 characters"),
        ({"keywords": [1, 2]}, "keywords", "list of texts"),
        ({"members_sme": -1}, "members_sme", "from 0 to"),
        ({"members_sme": "many"}, "members_sme", "whole number"),
        ({"members_large": 2.5}, "members_large", "whole number"),
        ({"members_large": 10**9}, "members_large", "from 0 to"),
        ({"staff_fte": -0.5}, "staff_fte", "from 0 to"),
        ({"staff_fte": float("nan")}, "staff_fte", "from 0 to"),
        ({"year_founded": 1799}, "year_founded", "from 1800 to"),
        ({"year_founded": 3000}, "year_founded", "from 1800 to"),
        ({"quality_label": "platinum"}, "quality_label", "bronze, silver or gold"),
        ({"label_date": "1 March"}, "label_date", "YYYY-MM-DD"),
        ({"quality_label": "gold"}, "label_date", "date the label was awarded"),
        ({"label_date": "2024-01-01"}, "quality_label", "choose the label"),
        (
            {"quality_label": "gold", "label_date": "2024-01-01", "label_expiry": "2023-01-01"},
            "label_expiry",
            "cannot expire before",
        ),
        ({"contacts": [{"name": "Ana", "email": "not-an-address"}]}, "contacts", "contact 1"),
        ({"contacts": [{"name": "Ana", "fax": "1"}]}, "contacts", "name, role, email and phone"),
        ({"contacts": [{"email": "a@b.org"}]}, "contacts", "enter a name"),
        ({"contacts": [{"name": "Ana", "phone": "call me"}]}, "contacts", "phone number"),
        ({"contacts": [{"name": f"n{i}"} for i in range(11)]}, "contacts", "at most 10"),
        ({"nace": ["C99"]}, "nace", "unknown NACE Rev. 2 code 'C99'"),
        ({"nace": ["D27"]}, "nace", "unknown NACE Rev. 2 code 'D27'"),
        ({"naics": ["9999999"]}, "naics", "unknown NAICS 2022 code"),
        ({"region_code": "FR10"}, "region_code", "not in DE"),
        ({"sectors": ["C27"]}, "sectors", "cannot be changed"),
    ],
)
def test_profile_fields_are_checked(create_user, create_org, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        create_org(create_user(), **changes)

    assert field in caught.value.errors
    assert message in caught.value.errors[field]


@pytest.mark.parametrize(
    ("country", "region"),
    [("EL", "EL30"), ("GR", "EL30"), ("GB", "UKI"), ("DE", "DEA"), ("US", "US-CA"), ("FR", "")],
)
def test_region_agrees_with_the_country(create_user, create_org, country, region):
    organisation = create_org(create_user(), country=country, region_code=region)

    assert organisation.region_code == (region or None)


def test_contacts_from_text_lines(create_user, create_org):
    organisation = create_org(
        create_user(),
        contacts="Ana Silva; manager; ana@bio.example.org; +49 221 1234\n\nBen; ; ;",
    )

    assert organisation.contacts == [
        {
            "name": "Ana Silva",
            "role": "manager",
            "email": "ana@bio.example.org",
            "phone": "+49 221 1234",
        },
        {"name": "Ben", "role": "", "email": "", "phone": ""},
    ]


def test_changing_sectors_keeps_the_rest(session, create_user, create_org):
    ana = create_user()
    organisation = create_org(ana, nace=["C27", "C26"], naics=["3359"])

    update_organisation(session, actor=ana, organisation=organisation, nace=["C27", "C28"])
    session.expire_all()

    assert [(s.scheme, s.code) for s in organisation.sectors] == [
        ("NACE", "C27"),
        ("NACE", "C28"),
        ("NAICS", "3359"),
    ]
    row = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert row.changes == {"nace": [["C26", "C27"], ["C27", "C28"]]}


# ---- eligibility ---------------------------------------------------------------------------


def _settings(members=15, types=2):
    return Settings(eligibility_min_members=members, eligibility_min_member_types=types)


@pytest.mark.parametrize(
    ("counts", "problems"),
    [
        ({"members_sme": 10, "members_large": 5}, []),
        ({"members_sme": 20}, ["members of at least 2 types (1 given)"]),
        ({"members_sme": 3, "members_other": 2}, ["at least 15 members (5 given)"]),
        ({}, ["at least 15 members (0 given)", "at least 2 types (0 given)"]),
    ],
)
def test_eligibility_of_cluster_organisations(counts, problems):
    organisation = Organisation(type=OrganisationType.cluster_organisation, **counts)

    found = eligibility(organisation, _settings())

    assert len(found) == len(problems)
    for text, problem in zip(found, problems, strict=True):
        assert problem in text


def test_eligibility_follows_the_settings_and_the_type():
    small = Organisation(type=OrganisationType.cluster_organisation, members_sme=2)
    company = Organisation(type=OrganisationType.company)

    assert eligibility(small, _settings(members=2, types=1)) == []
    assert eligibility(small, _settings(members=3, types=1)) != []
    assert eligibility(company, _settings()) == []


def test_submit_refuses_an_ineligible_cluster(session, create_user, create_org):
    ana = create_user()
    organisation = create_org(ana, members_sme=4, members_research=None)

    with pytest.raises(ValidationError) as caught:
        submit(session, actor=ana, organisation=organisation, settings=_settings())

    assert list(caught.value.errors) == ["members"]
    assert "at least 15 members (4 given)" in caught.value.errors["members"]
    assert organisation.status == OrganisationStatus.draft
    submit(session, actor=ana, organisation=organisation, settings=_settings(members=4, types=1))
    assert organisation.status == OrganisationStatus.submitted


# ---- history -------------------------------------------------------------------------------


def _published(session, create_user, create_org, **values):
    ana, mod = create_user(), create_user(moderator=True)
    organisation = create_org(ana, **values)
    submit(session, actor=ana, organisation=organisation)
    publish(session, actor=mod, organisation=organisation)
    return ana, mod, organisation


def _versions(session, organisation):
    return session.scalars(
        select(OrganisationVersion)
        .where(OrganisationVersion.organisation_id == organisation.id)
        .order_by(OrganisationVersion.version)
    ).all()


def test_publishing_records_version_one(session, create_user, create_org):
    _, mod, organisation = _published(session, create_user, create_org, nace=["C27"])

    versions = _versions(session, organisation)

    assert organisation.version == 1
    assert organisation.published_at is not None
    assert [(v.version, v.actor_id) for v in versions] == [(1, mod.id)]
    assert versions[0].data["name"] == "BioCluster Rhein"
    assert versions[0].data["nace"] == ["C27"]
    assert versions[0].data["type"] == "cluster_organisation"


def test_editing_a_published_profile_records_a_version_and_stays_published(
    session, create_user, create_org
):
    ana, _, organisation = _published(session, create_user, create_org)
    first_published = organisation.published_at

    update_organisation(session, actor=ana, organisation=organisation, city="Köln", label_date=None)

    versions = _versions(session, organisation)
    assert organisation.status == OrganisationStatus.published
    assert organisation.version == 2
    assert organisation.published_at >= first_published
    assert [(v.version, v.actor_id, v.data["city"]) for v in versions] == [
        (1, versions[0].actor_id, None),
        (2, ana.id, "Köln"),
    ]
    row = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert (row.action, row.changes) == (
        "organisation.updated",
        {"city": [None, "Köln"], "version": 2},
    )


def test_edit_without_change_records_no_version(session, create_user, create_org):
    ana, _, organisation = _published(session, create_user, create_org)

    update_organisation(session, actor=ana, organisation=organisation, name="BioCluster Rhein")

    assert organisation.version == 1
    assert len(_versions(session, organisation)) == 1


def test_published_cluster_must_stay_eligible(session, create_user, create_org):
    ana, _, organisation = _published(session, create_user, create_org)

    with pytest.raises(ValidationError) as caught:
        update_organisation(
            session, actor=ana, organisation=organisation, members_research=0, settings=_settings()
        )

    assert list(caught.value.errors) == ["members"]


def test_description_html_keeps_the_allow_list_only():
    dirty = (
        '<p onclick="x()">Hello <strong>world</strong><script>alert(1)</script>'
        '<img src=x onerror="alert(1)"><a href="javascript:alert(1)">bad</a>'
        '<a href="https://ok.example.org" target="_blank">ok</a></p><ul><li>one</li></ul>'
    )

    clean = description_html(dirty)

    for gone in ("<script", "onerror", "onclick", "javascript:", "<img", "target="):
        assert gone not in clean
    assert '<a href="https://ok.example.org" rel="noopener">ok</a>' in clean
    assert "<strong>world</strong>" in clean
    assert "<li>one</li>" in clean


def test_description_html_of_plain_text_makes_paragraphs():
    assert (
        description_html("One & two\nthree\n\nFour") == "<p>One &amp; two<br>three</p><p>Four</p>"
    )
    assert description_html(None) == ""


# ---- managers and links --------------------------------------------------------------------


def test_add_manager_by_email(session, create_user, create_org):
    ana, bob = create_user(), create_user("Bob@Example.org")
    organisation = create_org(ana)

    add_manager_by_email(session, actor=ana, organisation=organisation, email=" bob@example.ORG ")

    assert manager_ids(session, organisation) == {ana.id, bob.id}
    with pytest.raises(ValidationError) as caught:
        add_manager_by_email(session, actor=ana, organisation=organisation, email="bob@example.org")
    assert "manages this organisation already" in caught.value.errors["email"]
    with pytest.raises(ValidationError) as caught:
        add_manager_by_email(session, actor=ana, organisation=organisation, email="x@example.org")
    assert caught.value.errors == {"email": "there is no account with this address"}
    with pytest.raises(PermissionDenied):
        add_manager_by_email(
            session, actor=create_user(), organisation=organisation, email="bob@example.org"
        )


def test_link_and_unlink(session, create_user, create_org):
    ana = create_user()
    source = create_org(ana, name="Photonics Valley")
    _, _, target = _published(session, create_user, create_org)

    link(session, actor=ana, source=source, target=target, kind="member_of")
    link(session, actor=ana, source=source, target=target, kind=LinkKind.partner_of)

    rows = session.scalars(select(OrganisationLink).order_by(OrganisationLink.kind)).all()
    assert [(r.source_id, r.target_id, r.kind) for r in rows] == [
        (source.id, target.id, LinkKind.member_of),
        (source.id, target.id, LinkKind.partner_of),
    ]
    assert unlink(session, actor=ana, source=source, target_id=target.id, kind="member_of")
    assert not unlink(session, actor=ana, source=source, target_id=target.id, kind="member_of")
    assert [a for a, _ in _audit(session, source)][-3:] == [
        "organisation.linked",
        "organisation.linked",
        "organisation.unlinked",
    ]


def test_link_refusals(session, create_user, create_org):
    ana = create_user()
    source = create_org(ana)
    draft = create_org(create_user())
    _, _, published = _published(session, create_user, create_org)
    link(session, actor=ana, source=source, target=published, kind="partner_of")

    cases = [
        ({"target": draft, "kind": "member_of"}, "target_id"),
        ({"target": None, "kind": "member_of"}, "target_id"),
        ({"target": published, "kind": "friend_of"}, "kind"),
        ({"target": published, "kind": "partner_of"}, "target_id"),
    ]
    for arguments, field in cases:
        with pytest.raises(ValidationError) as caught:
            link(session, actor=ana, source=source, **arguments)
        assert list(caught.value.errors) == [field]
    with pytest.raises(ValidationError):
        link(
            session,
            actor=published_manager(session, published),
            source=published,
            target=published,
            kind="member_of",
        )
    with pytest.raises(PermissionDenied):
        link(session, actor=create_user(), source=source, target=published, kind="member_of")
    with pytest.raises(PermissionDenied):
        unlink(
            session, actor=create_user(), source=source, target_id=published.id, kind="partner_of"
        )


def published_manager(session, organisation):
    return session.get(User, next(iter(manager_ids(session, organisation))))
