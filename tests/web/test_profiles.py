"""Complete organisation profiles on SQLite and PostgreSQL, through the API and the pages:
every profile field, sectors with titles, contacts for members only, eligibility of cluster
organisations, the history of published profiles, links between organisations, managers,
and sanitised descriptions."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"  # the password of the factory users (tests/collaboration)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FULL = {
    "type": "cluster_organisation",
    "name": "Battery Cluster Saxony",
    "country": "de",
    "region_code": "ded2",
    "keywords": ["batteries", "recycling"],
    "value_chains": ["e-mobility"],
    "emerging_industries": ["circular economy"],
    "s3_priorities": ["clean energy"],
    "members_sme": 20,
    "members_large": 4,
    "members_research": 3,
    "members_university": 2,
    "members_other": 0,
    "staff_fte": 6.5,
    "year_founded": 2012,
    "quality_label": "silver",
    "label_date": "2024-05-01",
    "label_expiry": "2026-05-01",
    "contacts": [{"name": "Ana Silva", "role": "manager", "email": "ana@bcs.example.org"}],
    "nace": ["27.2", "C27"],
    "naics": ["3359"],
    "description": "<p>Cells <strong>and</strong> packs.<script>alert(1)</script></p>",
}
DIRTY = (
    '<p>Fine <em>text</em><script>alert("x")</script><img src=x onerror="alert(1)">'
    '<a href="javascript:alert(1)">click</a><a href="https://ok.example.org">ok</a></p>'
)


def _errors(response):
    assert response.status_code == 422, response.text
    return response.json()["errors"]


# ---- API: every field ----------------------------------------------------------------------


def test_create_with_every_field_and_read_it_back(client, create_user, auth):
    headers = auth(create_user())

    created = client.post("/api/organisations", json=FULL, headers=headers)
    read = client.get(f"/api/organisations/{created.json()['id']}", headers=headers)

    assert created.status_code == 201, created.text
    body = read.json()
    assert body["region_code"] == "DED2"
    assert body["sectors"] == [
        {"scheme": "NACE", "code": "C27", "title": "Manufacture of electrical equipment"},
        {"scheme": "NACE", "code": "C27.2", "title": "Manufacture of batteries and accumulators"},
        {
            "scheme": "NAICS",
            "code": "3359",
            "title": "Other Electrical Equipment and Component Manufacturing",
        },
    ]
    assert body["contacts"] == [
        {"name": "Ana Silva", "role": "manager", "email": "ana@bcs.example.org", "phone": ""}
    ]
    assert (body["members_sme"], body["staff_fte"], body["year_founded"]) == (20, 6.5, 2012)
    assert (body["quality_label"], body["label_date"], body["label_expiry"]) == (
        "silver",
        "2024-05-01",
        "2026-05-01",
    )
    assert body["keywords"] == ["batteries", "recycling"]
    assert "<script" not in body["description_html"]
    assert "<strong>and</strong>" in body["description_html"]
    assert (body["links"], body["version"], body["published_at"]) == ([], 0, None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nace": ["C99"]}, "nace"),
        ({"naics": ["12"]}, "naics"),
        ({"keywords": ["x" * 101]}, "keywords"),
        ({"keywords": [f"k{i}" for i in range(31)]}, "keywords"),
        ({"keywords": "batteries"}, "keywords"),
        ({"members_sme": -3}, "members_sme"),
        ({"members_sme": 1.5}, "members_sme"),
        ({"staff_fte": -1}, "staff_fte"),
        ({"year_founded": 1700}, "year_founded"),
        ({"quality_label": "platinum"}, "quality_label"),
        ({"label_date": "2024-13-01"}, "label_date"),
        ({"label_expiry": "2020-01-01"}, "label_expiry"),
        ({"contacts": [{"name": "Ana", "email": "nope"}]}, "contacts"),
        ({"contacts": [{"email": "a@b.org"}]}, "contacts.0.name"),
        ({"contacts": [{"name": f"n{i}"} for i in range(11)]}, "contacts"),
        ({"region_code": "FR10"}, "region_code"),
    ],
)
def test_create_rejects_bad_profile_fields_by_name(client, create_user, auth, changes, field):
    response = client.post("/api/organisations", json=FULL | changes, headers=auth(create_user()))

    errors = _errors(response)
    assert field in errors, errors


def test_unknown_nace_code_is_named(client, create_user, auth):
    response = client.post(
        "/api/organisations", json=FULL | {"nace": ["C27", "C99"]}, headers=auth(create_user())
    )

    assert _errors(response) == {"nace": "unknown NACE Rev. 2 code 'C99'"}


def test_contacts_only_for_signed_in_members(client, create_user, create_org, auth):
    organisation = create_org(
        create_user(), status="published", contacts=[{"name": "Ana", "email": "a@b.org"}]
    )
    url = f"/api/organisations/{organisation.id}"

    as_visitor = client.get(url).json()
    as_member = client.get(url, headers=auth(create_user())).json()
    listed = client.get("/api/organisations").json()["data"][0]

    assert as_visitor["contacts"] is None
    assert listed["contacts"] is None
    assert as_member["contacts"][0]["email"] == "a@b.org"


# ---- API: eligibility ----------------------------------------------------------------------


def test_submit_checks_cluster_eligibility_with_the_settings(
    make_client, settings, create_user, create_org, auth
):
    strict = make_client(
        settings.model_copy(
            update={"eligibility_min_members": 30, "eligibility_min_member_types": 3}
        )
    )
    manager = create_user()
    organisation = create_org(manager, members_sme=20, members_large=4)
    url = f"/api/organisations/{organisation.id}"

    refused = strict.post(f"{url}/submit", headers=auth(manager))
    strict.patch(url, json={"members_research": 6}, headers=auth(manager))
    accepted = strict.post(f"{url}/submit", headers=auth(manager))

    errors = _errors(refused)
    assert list(errors) == ["members"]
    assert "at least 30 members (24 given)" in errors["members"]
    assert "at least 3 types (2 given)" in errors["members"]
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "submitted"


def test_companies_need_no_members(client, create_user, create_org, auth):
    manager = create_user()
    organisation = create_org(manager, type="company")

    response = client.post(f"/api/organisations/{organisation.id}/submit", headers=auth(manager))

    assert response.status_code == 200


# ---- API: history --------------------------------------------------------------------------


def test_versions_list_what_changed(client, create_user, create_org, auth):
    manager = create_user()
    organisation = create_org(manager, status="published", nace=["C27"])
    url = f"/api/organisations/{organisation.id}"

    edited = client.patch(
        url, json={"city": "Dresden", "nace": ["C27", "C28"]}, headers=auth(manager)
    )
    versions = client.get(f"{url}/versions")

    assert edited.status_code == 200
    assert versions.status_code == 200
    body = versions.json()
    assert body["count"] == 2
    assert [v["version"] for v in body["data"]] == [2, 1]
    assert body["data"][0]["changes"] == {
        "city": [None, "Dresden"],
        "nace": [["C27"], ["C27", "C28"]],
    }
    assert body["data"][0]["by"] == manager.email
    assert body["data"][1]["changes"] == {}


def test_versions_hide_contact_changes_from_visitors(client, create_user, create_org, auth):
    manager = create_user()
    organisation = create_org(manager, status="published")
    url = f"/api/organisations/{organisation.id}"
    client.patch(url, json={"contacts": [{"name": "Ana", "phone": "+49 1"}]}, headers=auth(manager))

    public = client.get(f"{url}/versions").json()["data"][0]["changes"]
    member = client.get(f"{url}/versions", headers=auth(create_user())).json()["data"][0]

    assert "contacts" not in public
    assert member["changes"]["contacts"][1][0]["phone"] == "+49 1"


@pytest.mark.parametrize(("path", "expected"), [("999999", 404), ("0", 422), ("draft", 404)])
def test_versions_of_unknown_or_hidden_profile(client, create_user, create_org, path, expected):
    draft = create_org(create_user())
    organisation_id = draft.id if path == "draft" else path

    response = client.get(f"/api/organisations/{organisation_id}/versions")

    assert response.status_code == expected


# ---- API: links ----------------------------------------------------------------------------


def test_link_shown_on_both_profiles_then_unlinked(client, create_user, create_org, auth):
    manager = create_user()
    member = create_org(manager, type="company", name="Cell Maker GmbH", status="published")
    cluster = create_org(create_user(), status="published")
    headers = auth(manager)

    created = client.post(
        f"/api/organisations/{member.id}/links",
        json={"target_id": cluster.id, "kind": "member_of"},
        headers=headers,
    )
    on_member = client.get(f"/api/organisations/{member.id}").json()["links"]
    on_cluster = client.get(f"/api/organisations/{cluster.id}").json()["links"]
    removed = client.delete(
        f"/api/organisations/{member.id}/links",
        params={"target_id": cluster.id, "kind": "member_of"},
        headers=headers,
    )
    again = client.delete(
        f"/api/organisations/{member.id}/links",
        params={"target_id": cluster.id, "kind": "member_of"},
        headers=headers,
    )

    assert created.status_code == 201
    assert created.json() == {
        "direction": "outgoing",
        "kind": "member_of",
        "organisation_id": cluster.id,
        "name": "BioCluster Rhein",
    }
    assert on_member == [created.json()]
    assert on_cluster == [
        {
            "direction": "incoming",
            "kind": "member_of",
            "organisation_id": member.id,
            "name": "Cell Maker GmbH",
        }
    ]
    assert removed.status_code == 204
    assert again.status_code == 404
    assert client.get(f"/api/organisations/{cluster.id}").json()["links"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_id": "draft", "kind": "member_of"}, "target_id"),
        ({"target_id": 999_999, "kind": "member_of"}, "target_id"),
        ({"target_id": "self", "kind": "partner_of"}, "target_id"),
        ({"target_id": "published", "kind": "friend_of"}, "kind"),
        ({"target_id": 0, "kind": "member_of"}, "target_id"),
        ({"kind": "member_of"}, "target_id"),
    ],
)
def test_link_rejects_bad_targets(client, create_user, create_org, auth, body, field):
    manager = create_user()
    source = create_org(manager, status="published", name="Source")
    ids = {
        "draft": create_org(create_user(), name="Draft").id,
        "published": create_org(create_user(), status="published", name="Target").id,
        "self": source.id,
    }
    body = body | {"target_id": ids.get(body.get("target_id"), body.get("target_id"))}
    body = {k: v for k, v in body.items() if v is not None}

    response = client.post(
        f"/api/organisations/{source.id}/links", json=body, headers=auth(manager)
    )

    assert list(_errors(response)) == [field]


def test_unlink_rejects_bad_parameters(client, create_user, create_org, auth):
    manager = create_user()
    source = create_org(manager)

    response = client.delete(
        f"/api/organisations/{source.id}/links",
        params={"target_id": "x", "kind": "friend_of"},
        headers=auth(manager),
    )

    assert set(_errors(response)) == {"target_id", "kind"}


def test_the_targets_managers_cannot_remove_a_link(client, create_user, create_org, auth):
    manager, target_manager = create_user(), create_user()
    source = create_org(manager, type="company", name="Source")
    target = create_org(target_manager, status="published")
    client.post(
        f"/api/organisations/{source.id}/links",
        json={"target_id": target.id, "kind": "partner_of"},
        headers=auth(manager),
    )

    response = client.delete(
        f"/api/organisations/{source.id}/links",
        params={"target_id": target.id, "kind": "partner_of"},
        headers=auth(target_manager),
    )

    assert response.status_code == 403
    links = client.get(f"/api/organisations/{target.id}", headers=auth(manager)).json()["links"]
    assert len(links) == 1  # the draft source is seen by its manager only


# ---- API: managers -------------------------------------------------------------------------


def test_add_manager_by_email_lets_them_edit(client, create_user, create_org, auth):
    manager, colleague = create_user(), create_user("ben@example.org")
    organisation = create_org(manager)
    url = f"/api/organisations/{organisation.id}"

    added = client.post(f"{url}/managers", json={"email": "BEN@example.org"}, headers=auth(manager))
    edited = client.patch(url, json={"city": "Leipzig"}, headers=auth(colleague))

    assert added.status_code == 201
    assert added.json() == {
        "organisation_id": organisation.id,
        "user_id": colleague.id,
        "email": "ben@example.org",
    }
    assert (edited.status_code, edited.json()["city"]) == (200, "Leipzig")


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("nobody@example.org", "there is no account with this address"),
        ("self", "manages this organisation already"),
        ("unconfirmed", "has not confirmed"),
        ("", "there is no account with this address"),
    ],
)
def test_add_manager_rejects_bad_addresses(client, create_user, create_org, auth, email, message):
    manager = create_user()
    unconfirmed = create_user(confirmed=False)
    organisation = create_org(manager)
    email = {"self": manager.email, "unconfirmed": unconfirmed.email}.get(email, email)

    response = client.post(
        f"/api/organisations/{organisation.id}/managers",
        json={"email": email},
        headers=auth(manager),
    )

    assert message in _errors(response)["email"]


def test_add_manager_needs_an_email_field(client, create_user, create_org, auth):
    manager = create_user()
    organisation = create_org(manager)

    response = client.post(
        f"/api/organisations/{organisation.id}/managers", json={}, headers=auth(manager)
    )

    assert list(_errors(response)) == ["email"]


# ---- pages ---------------------------------------------------------------------------------


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


def log_in(client, user) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def post_on(client, page: str, path: str, data: dict[str, str]):
    """POST ``data`` with the CSRF token of ``page``."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


FORM = {
    "type": "cluster_organisation",
    "name": "Battery Cluster Saxony",
    "country": "de",
    "region_code": "DED2",
    "keywords": "batteries, recycling\ncell chemistry",
    "nace": "27.2\nC27",
    "naics": "3359",
    "members_sme": "20",
    "members_large": "4",
    "staff_fte": "6.5",
    "year_founded": "2012",
    "quality_label": "gold",
    "label_date": "2024-05-01",
    "label_expiry": "2099-05-01",
    "contacts": "Ana Silva; manager; ana@bcs.example.org; +49 351 1234",
    "description": DIRTY,
}


def test_profile_form_takes_every_field_and_the_page_shows_them(client, create_user):
    log_in(client, create_user())

    created = post_on(client, "/organisations/new", "/organisations/new", FORM)
    page = client.get(created.headers["location"])
    edit = client.get(created.headers["location"] + "/edit")

    assert created.status_code == 303, created.text
    html = page.text
    assert "NACE C27.2" in html
    assert "Manufacture of batteries and accumulators" in html
    assert "NAICS 3359" in html
    assert "<li>cell chemistry</li>" in html
    assert "Gold label · valid until 2099-05-01" in html
    assert '<th scope="row">SMEs</th><td>20</td>' in html
    assert '<th scope="row">Total</th><td>24</td>' in html
    assert "6.5 FTE" in html
    assert 'href="mailto:ana@bcs.example.org"' in html
    assert "At least 15 members (24 given)" in html
    for gone in ("<script", "onerror", "javascript:", "<img"):
        assert gone not in html.split("<main", 1)[1].split("</main>", 1)[0], gone
    assert '<a href="https://ok.example.org" rel="noopener">ok</a>' in html
    assert edit.status_code == 200
    assert "batteries\nrecycling\ncell chemistry</textarea>" in edit.text
    assert "C27\nC27.2</textarea>" in edit.text
    assert "Ana Silva; manager; ana@bcs.example.org; +49 351 1234</textarea>" in edit.text
    assert 'name="members_sme" type="number" value="20"' in edit.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"nace": "C99"}, "nace", "unknown NACE Rev. 2 code &#39;C99&#39;"),
        ({"members_sme": "-2"}, "members_sme", "from 0 to"),
        ({"year_founded": "1066"}, "year_founded", "from 1800 to"),
        ({"label_expiry": "2020-01-01"}, "label_expiry", "cannot expire before"),
        ({"contacts": "Ana; boss; not-an-address"}, "contacts", "contact 1"),
        ({"region_code": "FR10"}, "region_code", "not in DE"),
    ],
)
def test_profile_form_shows_field_messages(client, create_user, changes, field, message):
    log_in(client, create_user())

    response = post_on(client, "/organisations/new", "/organisations/new", FORM | changes)

    assert response.status_code == 400
    assert f'<p class="field-error" id="error-{field}">' in response.text
    assert message in response.text
    assert 'value="Battery Cluster Saxony"' in response.text


def test_contacts_page_shows_log_in_to_visitors(
    client, make_client, settings, create_user, create_org
):
    organisation = create_org(
        create_user(), status="published", contacts=[{"name": "Ana", "email": "ana@x.org"}]
    )
    visitor = make_client(settings)
    log_in(client, create_user())

    hidden = visitor.get(f"/organisations/{organisation.id}").text
    shown = client.get(f"/organisations/{organisation.id}").text

    assert "to see contacts" in hidden
    assert "ana@x.org" not in hidden
    assert "ana@x.org" in shown


def test_submit_page_names_what_is_missing(client, create_user, create_org):
    manager = create_user()
    organisation = create_org(manager, members_sme=3)
    log_in(client, manager)
    page = f"/organisations/{organisation.id}"

    before = client.get(page).text
    response = post_on(client, page, f"{page}/submit", {})

    assert "✗</span> At least 15 members (3 given)" in before
    assert response.status_code == 400
    assert "a cluster organisation needs at least 15 members (3 given)" in response.text
    assert "Status: draft" in response.text


def test_edit_published_profile_then_history(client, create_user, create_org):
    manager = create_user()
    organisation = create_org(manager, status="published", city="Dresden")
    log_in(client, manager)
    page = f"/organisations/{organisation.id}"

    form = client.get(f"{page}/edit")
    values = {"name": "BioCluster Rhein", "country": "DE", "type": "cluster_organisation"}
    values |= {"members_sme": "12", "members_research": "3", "city": "Leipzig"}
    saved = client.post(
        f"{page}/edit", data={"csrf_token": csrf_of(form.text), **values}, follow_redirects=False
    )
    profile = client.get(page)
    history = client.get(f"{page}/history")

    assert "This profile is published" in form.text
    assert saved.status_code == 303
    assert "published as version 2" in profile.text
    assert "Leipzig" in profile.text
    assert history.status_code == 200
    assert "Version 2" in history.text
    assert "Version 1" in history.text
    assert '<th scope="row">City</th><td>Dresden</td><td>Leipzig</td>' in history.text
    assert "First published." in history.text


def test_history_page_of_hidden_profile_is_404(client, create_user, create_org):
    draft = create_org(create_user())

    assert client.get(f"/organisations/{draft.id}/history").status_code == 404
    assert client.get("/organisations/999999/history").status_code == 404


def test_link_and_manager_forms(client, create_user, create_org):
    manager, colleague = create_user(), create_user("ben@example.org")
    source = create_org(manager, type="company", name="Cell Maker GmbH")
    target = create_org(create_user(), status="published", name="Battery Cluster")
    log_in(client, manager)
    page = f"/organisations/{source.id}"

    bad = post_on(client, page, f"{page}/links", {"target": "abc", "kind": "member_of"})
    linked = post_on(
        client,
        page,
        f"{page}/links",
        {"target": f"http://x/organisations/{target.id}", "kind": "member_of"},
    )
    on_source = client.get(page).text
    on_target = client.get(f"/organisations/{target.id}").text
    unknown = post_on(client, page, f"{page}/managers", {"manager_email": "nobody@example.org"})
    added = post_on(client, page, f"{page}/managers", {"email": "ben@example.org"})
    managers = client.get(page).text
    removed = post_on(
        client, page, f"{page}/links/delete", {"target": str(target.id), "kind": "member_of"}
    )
    after = client.get(f"/organisations/{target.id}").text

    assert bad.status_code == 400
    assert "there is no published organisation with this id" in bad.text
    assert linked.status_code == 303
    assert f'Member of <a href="/organisations/{target.id}">Battery Cluster</a>' in on_source
    assert f'<a href="/organisations/{source.id}">Cell Maker GmbH</a> is member of' in on_target
    assert unknown.status_code == 400
    assert "there is no account with this address" in unknown.text
    assert added.status_code == 303
    assert "<li>ben@example.org</li>" in managers
    assert colleague.email in managers
    assert removed.status_code == 303
    assert "Cell Maker GmbH" not in after


def test_incoming_link_shown_once_source_is_published(client, create_user, create_org, session):
    from clusteratlas.collaboration.organisations import link

    manager = create_user()
    source = create_org(manager, type="company", name="Cell Maker GmbH", status="published")
    target = create_org(create_user(), status="published", name="Battery Cluster")
    link(session, actor=manager, source=source, target=target, kind="partner_of")

    html = client.get(f"/organisations/{target.id}").text

    assert f'<a href="/organisations/{source.id}">Cell Maker GmbH</a> is partner of' in html


def test_other_users_cannot_use_the_profile_forms(client, create_user, create_org):
    organisation = create_org(create_user(), status="published")
    log_in(client, create_user())
    page = f"/organisations/{organisation.id}"

    responses = [
        post_on(client, page, f"{page}/{path}", data)
        for path, data in [
            ("edit", {"name": "Taken"}),
            ("submit", {}),
            ("links", {"target": "1", "kind": "member_of"}),
            ("links/delete", {"target": "1", "kind": "member_of"}),
            ("managers", {"email": "x@example.org"}),
        ]
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert "Add manager" not in client.get(page).text


def test_moderation_queue_sanitises_descriptions(client, create_user, create_org):
    create_org(create_user(), status="submitted", description=DIRTY)
    log_in(client, create_user(moderator=True))

    html = client.get("/moderation").text

    assert "<em>text</em>" in html
    assert 'class="send-back-button"' in html
    for gone in ("<script>alert", "onerror", "javascript:alert"):
        assert gone not in html


@pytest.mark.parametrize("path", ["links", "links/delete", "managers", "submit", "edit"])
def test_profile_forms_on_unknown_or_hidden_ids_are_404(client, create_user, create_org, path):
    hidden = create_org(create_user(), name="Someone else's draft")
    log_in(client, create_user())

    responses = [
        post_on(client, "/organisations/new", f"/organisations/{organisation_id}/{path}", {})
        for organisation_id in (999_999, hidden.id)
    ]

    assert [r.status_code for r in responses] == [404, 404]


def test_profile_forms_need_a_signed_in_user(client, create_user, create_org):
    organisation = create_org(create_user(), status="published")

    response = client.post(
        f"/organisations/{organisation.id}/managers",
        data={"email": "x@example.org"},
        follow_redirects=False,
    )

    assert response.status_code in (303, 403)  # to the log-in page, or refused without CSRF
    assert "x@example.org" not in client.get(f"/organisations/{organisation.id}").text
