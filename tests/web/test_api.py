"""The JSON API on SQLite and PostgreSQL: every route for success, validation errors (422 with
the field named), refused access (401 anonymous, 403 another user), unknown ids (404),
pagination bounds, security headers and the OpenAPI document."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from clusteratlas.collaboration.settings import Settings
from clusteratlas.collaboration.tokens import create_api_token, revoke_api_token
from clusteratlas.web.api import auth as auth_routes
from clusteratlas.web.api import organisations as organisation_routes
from clusteratlas.web.app import SECURITY_HEADERS

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"  # the password of the factory users (tests/collaboration)
ORG = {"type": "cluster_organisation", "name": "BioCluster Rhein", "country": "de"}
#: every write route on one organisation: method, path (``{id}``), body, status it needs
WRITES = [
    ("PATCH", "/api/organisations/{id}", {"name": "Renamed"}, "draft"),
    ("POST", "/api/organisations/{id}/submit", None, "draft"),
    ("POST", "/api/organisations/{id}/publish", None, "submitted"),
    ("POST", "/api/organisations/{id}/send-back", {"reason": "add a website"}, "submitted"),
    ("POST", "/api/organisations/{id}/links", {"target_id": 1, "kind": "member_of"}, "draft"),
    ("DELETE", "/api/organisations/{id}/links?target_id=1&kind=member_of", None, "draft"),
    ("POST", "/api/organisations/{id}/managers", {"email": "x@example.org"}, "published"),
]
WRITE_IDS = ["update", "submit", "publish", "send-back", "link", "unlink", "add-manager"]


def _errors(response):
    assert response.status_code == 422, response.text
    return response.json()["errors"]


# ---- accounts and tokens ----------------------------------------------------------------


def test_register_confirm_and_get_token_then_use_it(client):
    registered = client.post(
        "/api/auth/register", json={"email": "ana@example.org", "password": PASSWORD}
    )
    body = registered.json()
    confirmed = client.post("/api/auth/confirm", json={"token": body["confirmation_token"]})
    issued = client.post(
        "/api/auth/tokens",
        json={"email": "ANA@example.org", "password": PASSWORD, "name": "my script"},
    )
    token = issued.json()["token"]
    created = client.post(
        "/api/organisations", json=ORG, headers={"Authorization": f"Bearer {token}"}
    )

    assert registered.status_code == 201
    assert (body["user"]["email"], body["user"]["confirmed_at"]) == ("ana@example.org", None)
    assert confirmed.status_code == 200
    assert confirmed.json()["confirmed_at"] is not None
    assert issued.status_code == 201
    assert (issued.json()["token_type"], issued.json()["name"]) == ("bearer", "my script")
    assert token.startswith("ca_")
    assert created.status_code == 201
    assert created.json()["status"] == "draft"


def test_register_hides_confirmation_token_in_production(make_client):
    production = Settings(
        environment="production",
        database_url="sqlite://",
        secret_key="a-production-secret-key-that-is-long-enough",
    )
    client = make_client(production)

    response = client.post(
        "/api/auth/register", json={"email": "ana@example.org", "password": PASSWORD}
    )

    assert response.status_code == 201
    assert response.json()["confirmation_token"] is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "not an address", "password": "short"}, ["email", "password"]),
        ({"email": "ana@example.org"}, ["password"]),
        ({"email": "ana@example.org", "password": PASSWORD, "admin": True}, ["admin"]),
        ({"email": "ana\x00@example.org", "password": PASSWORD}, ["email"]),
        ({"email": 5, "password": PASSWORD}, ["email"]),
        ([], ["body"]),
    ],
    ids=["domain", "missing", "unknown-field", "nul", "not-text", "not-object"],
)
def test_register_rejects_bad_input_by_field(client, body, fields):
    response = client.post("/api/auth/register", json=body)

    assert sorted(_errors(response)) == fields


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "body"),
        (b'{"email": "ana\\ud800@example.org", "password": "correct horse battery"}', "email"),
    ],
    ids=["malformed", "lone-surrogate"],
)
def test_register_rejects_bad_json(client, content, field):
    response = client.post(
        "/api/auth/register", content=content, headers={"Content-Type": "application/json"}
    )

    assert list(_errors(response)) == [field]


def test_register_rejects_taken_address(client, create_user):
    create_user("ana@example.org")

    response = client.post(
        "/api/auth/register", json={"email": "Ana@Example.org", "password": PASSWORD}
    )

    assert _errors(response) == {"email": "an account with this address exists already"}


def test_confirm_rejects_a_bad_token(client):
    response = client.post("/api/auth/confirm", json={"token": "forged.token"})

    assert _errors(response) == {"token": "this link is not valid"}


@pytest.mark.parametrize("confirmed", [True, False], ids=["wrong-password", "unconfirmed"])
def test_token_refused_without_valid_credentials(client, create_user, confirmed):
    create_user("ana@example.org", confirmed=confirmed)
    password = "wrong password!" if confirmed else PASSWORD

    response = client.post(
        "/api/auth/tokens", json={"email": "ana@example.org", "password": password}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "detail" in response.json()


def test_token_name_is_checked(client, create_user):
    create_user("ana@example.org")

    response = client.post(
        "/api/auth/tokens",
        json={"email": "ana@example.org", "password": PASSWORD, "name": "  "},
    )

    assert list(_errors(response)) == ["name"]


@pytest.mark.parametrize(
    "header",
    ["Bearer ca_not-a-token", "Bearer nonsense", "Basic YW5hOnNlY3JldA==", "Bearer"],
    ids=["unknown", "not-ours", "basic", "empty"],
)
def test_bad_authorization_header_is_401(client, header):
    response = client.get("/api/organisations", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_401(client, session, create_user):
    user = create_user()
    plaintext, token = create_api_token(session, actor=user, name="old")
    revoke_api_token(session, actor=user, token=token)

    response = client.post(
        "/api/organisations", json=ORG, headers={"Authorization": f"Bearer {plaintext}"}
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "this token is not valid or has been revoked"}


# ---- listing and reading ----------------------------------------------------------------


def test_list_shows_published_profiles_to_visitors(client, create_user, create_org):
    manager = create_user()
    published = create_org(manager, status="published", name="Alpha")
    create_org(manager, status="draft", name="Beta")
    create_org(manager, status="submitted", name="Gamma")

    response = client.get("/api/organisations")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [o["id"] for o in response.json()["data"]] == [published.id]


def test_list_shows_own_drafts_to_managers_and_all_to_moderators(
    client, create_user, create_org, auth
):
    manager, other, moderator = create_user(), create_user(), create_user(moderator=True)
    published = create_org(other, status="published", name="Alpha")
    own = create_org(manager, name="Beta")
    submitted = create_org(other, status="submitted", name="Gamma")

    as_manager = client.get("/api/organisations", headers=auth(manager)).json()
    as_moderator = client.get("/api/organisations", headers=auth(moderator)).json()
    queue = client.get(
        "/api/organisations", params={"status": "submitted"}, headers=auth(moderator)
    ).json()

    assert [o["id"] for o in as_manager["data"]] == [published.id, own.id]
    assert [o["id"] for o in as_moderator["data"]] == [published.id, own.id, submitted.id]
    assert [o["id"] for o in queue["data"]] == [submitted.id]


def test_list_paginates_by_name(client, create_user, create_org):
    manager = create_user()
    for name in ["Delta", "alpha", "Charlie", "Bravo", "Echo"]:
        create_org(manager, status="published", name=name)

    first = client.get("/api/organisations", params={"limit": 2}).json()
    last = client.get("/api/organisations", params={"limit": 2, "offset": 4}).json()
    beyond = client.get("/api/organisations", params={"offset": 10}).json()

    assert ([o["name"] for o in first["data"]], first["count"]) == (["alpha", "Bravo"], 5)
    assert ([o["name"] for o in last["data"]], last["count"]) == (["Echo"], 5)
    assert (beyond["data"], beyond["count"]) == ([], 5)


def test_list_filters_by_country_and_type(client, create_user, create_org):
    manager = create_user()
    german = create_org(manager, status="published", name="A", country="DE")
    create_org(manager, status="published", name="B", country="FR")
    company = create_org(manager, status="published", name="C", country="DE", type="company")

    by_country = client.get("/api/organisations", params={"country": "de"}).json()
    by_both = client.get("/api/organisations", params={"country": "DE", "type": "company"}).json()

    assert [o["id"] for o in by_country["data"]] == [german.id, company.id]
    assert [o["id"] for o in by_both["data"]] == [company.id]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 1_000_001}, "offset"),
        ({"country": "DEU"}, "country"),
        ({"country": "D\x00"}, "country"),
        ({"type": "castle"}, "type"),
        ({"status": "lost"}, "status"),
    ],
)
def test_list_rejects_bad_parameters_by_name(client, params, field):
    response = client.get("/api/organisations", params=params)

    assert list(_errors(response)) == [field]


def test_list_accepts_the_bounds(client):
    smallest = client.get("/api/organisations", params={"limit": 1, "offset": 0})
    largest = client.get("/api/organisations", params={"limit": 100, "offset": 1_000_000})

    assert (smallest.status_code, largest.status_code) == (200, 200)
    assert largest.json() == {"data": [], "count": 0}


def test_read_published_profile_as_visitor(client, create_user, create_org):
    organisation = create_org(create_user(), status="published", website="https://x.example")

    response = client.get(f"/api/organisations/{organisation.id}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["country"], body["status"]) == (
        organisation.id,
        "BioCluster Rhein",
        "DE",
        "published",
    )
    assert body["website"] == "https://x.example"


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [("visitor", 404), ("other", 404), ("manager", 200), ("moderator", 200), ("admin", 200)],
)
def test_read_draft_only_by_its_managers_and_moderators(
    client, create_user, create_org, auth, viewer, expected
):
    manager = create_user()
    users = {
        "other": create_user(),
        "manager": manager,
        "moderator": create_user(moderator=True),
        "admin": create_user(admin=True),
    }
    organisation = create_org(manager)
    headers = auth(users[viewer]) if viewer in users else {}

    response = client.get(f"/api/organisations/{organisation.id}", headers=headers)

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("organisation_id", "expected"),
    [("999999", 404), ("0", 422), ("2147483648", 422), ("abc", 422)],
)
def test_read_unknown_or_malformed_id(client, organisation_id, expected):
    response = client.get(f"/api/organisations/{organisation_id}")

    assert response.status_code == expected
    if expected == 422:
        assert list(response.json()["errors"]) == ["organisation_id"]
    else:
        assert response.json() == {"detail": "no organisation with this id"}


# ---- writing ----------------------------------------------------------------------------


def test_create_makes_a_draft_managed_by_its_creator(client, create_user, auth):
    user = create_user()
    headers = auth(user)
    body = ORG | {"region_code": "de11", "website": "https://bio.example.org"}

    created = client.post("/api/organisations", json=body, headers=headers)
    edited = client.patch(
        f"/api/organisations/{created.json()['id']}", json={"city": "Köln"}, headers=headers
    )

    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("name", "country", "region_code", "status")} == {
        "name": "BioCluster Rhein",
        "country": "DE",
        "region_code": "DE11",
        "status": "draft",
    }
    assert (edited.status_code, edited.json()["city"]) == (200, "Köln")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "Germany"}, "country"),
        ({"type": "castle"}, "type"),
        ({"name": "  "}, "name"),
        ({"name": None}, "name"),
        ({"website": "ftp://x"}, "website"),
        ({"description": "x" * 20_001}, "description"),
        ({"status": "published"}, "status"),
    ],
)
def test_create_rejects_bad_fields_by_name(client, create_user, auth, changes, field):
    body = {k: v for k, v in (ORG | changes).items() if v is not None}

    response = client.post("/api/organisations", json=body, headers=auth(create_user()))

    assert list(_errors(response)) == [field]


def test_update_rejects_bad_fields_by_name(client, create_user, create_org, auth):
    manager = create_user()
    organisation = create_org(manager)

    response = client.patch(
        f"/api/organisations/{organisation.id}",
        json={"website": "not a url", "colour": "red"},
        headers=auth(manager),
    )

    assert list(_errors(response)) == ["colour"]


def test_update_of_a_published_profile_records_a_version(client, create_user, create_org, auth):
    manager = create_user()
    organisation = create_org(manager, status="published")

    response = client.patch(
        f"/api/organisations/{organisation.id}", json={"name": "New"}, headers=auth(manager)
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["version"]) == ("published", 2)


def test_update_of_a_submitted_profile_is_refused(client, create_user, create_org, auth):
    manager = create_user()
    organisation = create_org(manager, status="submitted")

    response = client.patch(
        f"/api/organisations/{organisation.id}", json={"name": "New"}, headers=auth(manager)
    )

    assert list(_errors(response)) == ["status"]


def test_profile_lifecycle_submit_send_back_resubmit_publish(client, create_user, create_org, auth):
    manager, moderator = create_user(), create_user(moderator=True)
    organisation = create_org(manager)
    url = f"/api/organisations/{organisation.id}"
    as_manager, as_moderator = auth(manager), auth(moderator)

    submitted = client.post(f"{url}/submit", headers=as_manager)
    returned = client.post(
        f"{url}/send-back", json={"reason": "add a website"}, headers=as_moderator
    )
    fixed = client.patch(url, json={"website": "https://bio.example.org"}, headers=as_manager)
    resubmitted = client.post(f"{url}/submit", headers=as_manager)
    published = client.post(f"{url}/publish", headers=as_moderator)
    public = client.get(url)

    assert [r.status_code for r in (submitted, returned, fixed, resubmitted, published)] == [
        200
    ] * 5
    assert [
        r.json()["status"] for r in (submitted, returned, fixed, resubmitted, published, public)
    ] == ["submitted", "returned", "returned", "submitted", "published", "published"]
    assert returned.json()["return_reason"] == "add a website"
    assert public.json()["return_reason"] is None


@pytest.mark.parametrize(("path", "body"), [("submit", None), ("publish", None)])
def test_transition_from_the_wrong_status_is_422(client, create_user, create_org, auth, path, body):
    manager, moderator = create_user(), create_user(moderator=True)
    organisation = create_org(manager, status="published")
    headers = auth(manager if path == "submit" else moderator)

    response = client.post(f"/api/organisations/{organisation.id}/{path}", headers=headers)

    assert list(_errors(response)) == ["status"]


@pytest.mark.parametrize("body", [{"reason": "   "}, {}], ids=["blank", "missing"])
def test_send_back_needs_a_reason(client, create_user, create_org, auth, body):
    organisation = create_org(create_user(), status="submitted")

    response = client.post(
        f"/api/organisations/{organisation.id}/send-back",
        json=body,
        headers=auth(create_user(moderator=True)),
    )

    assert list(_errors(response)) == ["reason"]


def test_moderator_cannot_publish_own_profile(client, create_user, create_org, auth):
    moderator = create_user(moderator=True)
    organisation = create_org(moderator, status="submitted")

    response = client.post(f"/api/organisations/{organisation.id}/publish", headers=auth(moderator))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "only a moderator who does not manage it may publish a profile"
    }


@pytest.mark.parametrize(("method", "path", "body", "status"), WRITES, ids=WRITE_IDS)
def test_write_by_another_user_is_403(
    client, create_user, create_org, auth, method, path, body, status
):
    organisation = create_org(create_user(), status=status)
    intruder = create_user()

    response = client.request(
        method, path.format(id=organisation.id), json=body, headers=auth(intruder)
    )

    assert response.status_code == 403
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(("method", "path", "body", "status"), WRITES, ids=WRITE_IDS)
def test_write_by_a_visitor_is_401(client, create_user, create_org, method, path, body, status):
    organisation = create_org(create_user(), status=status)

    response = client.request(method, path.format(id=organisation.id), json=body)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "body", "status"), WRITES, ids=WRITE_IDS)
def test_write_on_unknown_id_is_404(client, create_user, auth, method, path, body, status):
    response = client.request(
        method, path.format(id=999_999), json=body, headers=auth(create_user(moderator=True))
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "no organisation with this id"}


def test_create_by_a_visitor_is_401(client):
    response = client.post("/api/organisations", json=ORG)

    assert response.status_code == 401


def test_failed_write_changes_nothing(client, create_user, create_org, auth):
    manager = create_user()
    organisation = create_org(manager, name="Kept")

    client.patch(
        f"/api/organisations/{organisation.id}",
        json={"name": "Changed", "country": "Germany"},
        headers=auth(manager),
    )
    after = client.get(f"/api/organisations/{organisation.id}", headers=auth(manager))

    assert after.json()["name"] == "Kept"


# ---- headers and OpenAPI ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/organisations"),
        ("GET", "/api/organisations/999999"),
        ("GET", "/api/organisations?limit=0"),
        ("POST", "/api/organisations"),
        ("GET", "/openapi.json"),
        ("GET", "/nowhere"),
    ],
)
def test_every_response_has_security_headers(client, method, path):
    response = client.request(method, path)

    assert {k: response.headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_openapi_documents_every_route_with_its_responses(client):
    document = client.get("/openapi.json").json()
    routes = {
        ("/api" + route.path, method.lower())
        for router in (auth_routes.router, organisation_routes.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    documented = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }

    assert routes <= documented  # other areas add their own routes
    assert len(routes) >= 14
    for path, method in routes:
        responses = document["paths"][path][method]["responses"]
        assert "422" in responses, (path, method)
        if method != "get" and not path.startswith("/api/auth"):
            assert {"401", "403", "422"} <= set(responses), (path, method)
        if "{organisation_id}" in path:
            assert "404" in responses, (path, method)
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_interactive_docs_are_off(client):
    assert client.get("/docs").status_code == 404
