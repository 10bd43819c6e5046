"""The search, saved-search and recommendation routes of the JSON API, on SQLite and
PostgreSQL: results, validation errors (422 with field messages), refused access and other
users' ids."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import AuditLog, SavedSearch
from clusteratlas.collaboration.saved_searches import MAX_PER_USER
from collaboration.search_data import add_org, add_post

pytestmark = pytest.mark.integration


@pytest.fixture
def data(session, create_user):
    manager = create_user("mia@example.org")
    battery = add_org(
        session,
        "Battery Valley",
        description="Battery recycling <b>cluster</b>",
        keywords=["recycling"],
        sectors=[("C27.2", "Manufacture of batteries")],
        manager=manager,
    )
    photonics = add_org(session, "Photonics Nord", country="FR", description="laser recycling")
    add_post(session, battery, "battery recycling", kind="request")
    add_post(session, photonics, "Recycling of Li-ion cells", body="battery recycling plant")
    add_org(session, "Hidden Draft", status="draft", description="recycling")
    return {"manager": manager, "battery": battery, "photonics": photonics}


def test_search_organisations_with_facets(client, data):
    response = client.get("/api/search/organisations", params={"q": "recycling"})

    body = response.json()
    assert response.status_code == 200
    assert [o["name"] for o in body["data"]] == ["Battery Valley", "Photonics Nord"]
    assert body["count"] == 2
    assert body["facets"]["country"] == [{"value": "DE", "count": 1}, {"value": "FR", "count": 1}]
    assert body["facets"]["sector"] == [{"value": "C27", "count": 1}]


def test_search_organisations_repeated_facet_values(client, data):
    response = client.get(
        "/api/search/organisations", params=[("country", "FR"), ("country", "DE"), ("sort", "name")]
    )

    assert [o["name"] for o in response.json()["data"]] == ["Battery Valley", "Photonics Nord"]
    one = client.get("/api/search/organisations", params={"country": "fr"}).json()
    assert [o["name"] for o in one["data"]] == ["Photonics Nord"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"country": "DEU"}, "country"),
        ({"type": "bank"}, "type"),
        ({"sector": "C27%"}, "sector"),
        ({"label": "platinum"}, "label"),
        ({"sort": "random"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_search_organisations_invalid_parameters_are_422(client, params, field):
    response = client.get("/api/search/organisations", params=params)

    assert response.status_code == 422
    assert field in response.json()["errors"]


@pytest.mark.parametrize("q", ['"', "NEAR(", "*", "-x", "a:*", "'", "\\", "%", "é" * 200])
def test_search_query_syntax_is_no_error(client, data, q):
    assert client.get("/api/search/organisations", params={"q": q}).status_code == 200
    assert client.get("/api/search/posts", params={"q": q}).status_code == 200


def test_search_posts(client, data):
    response = client.get("/api/search/posts", params={"q": "recycling", "kind": "offer"})

    body = response.json()
    assert response.status_code == 200
    assert [p["title"] for p in body["data"]] == ["Recycling of Li-ion cells"]
    assert body["data"][0]["organisation_name"] == "Photonics Nord"
    assert body["facets"]["kind"] == [
        {"value": "offer", "count": 1},
        {"value": "request", "count": 1},
    ]
    bad = client.get("/api/search/posts", params={"kind": "gift", "category": "x"})
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"kind", "category"}


def test_bad_token_is_401(client):
    response = client.get("/api/search/organisations", headers={"Authorization": "Bearer nope"})

    assert response.status_code == 401


# ---- saved searches -------------------------------------------------------------------------


def test_saved_searches_create_list_delete(client, session, data, auth):
    headers = auth(data["manager"])

    created = client.post(
        "/api/saved-searches",
        json={"name": "Batteries in DE", "query": {"q": "battery", "country": ["DE"]}},
        headers=headers,
    )
    listed = client.get("/api/saved-searches", headers=headers)
    row_id = created.json()["id"]
    deleted = client.delete(f"/api/saved-searches/{row_id}", headers=headers)

    assert created.status_code == 201
    assert created.json()["url"] == "/search?kind=organisations&q=battery&country=DE"
    assert [s["name"] for s in listed.json()["data"]] == ["Batteries in DE"]
    assert deleted.status_code == 204
    assert session.get(SavedSearch, row_id) is None
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.entity_type == "saved_search")
    ).all()
    assert sorted(actions) == ["saved_search.created", "saved_search.deleted"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "query": {}}, "name"),
        ({"name": "x" * 201, "query": {}}, "name"),
        ({"name": "ok", "query": {"country": "DEU"}}, "country"),
        ({"name": "ok", "query": {"kind": "people"}}, "kind"),
        ({"name": "ok", "query": {"kind": "posts", "kind_": "gift"}}, "kind_"),
        ({"name": "ok", "query": {"q": "x" * 300}}, "q"),
        ({"name": "ok", "query": "country=DE"}, "query"),
        ({"name": "ok", "other": 1}, "other"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "ok", "query": {"q": "\x00"}}, "query"),
    ],
)
def test_saved_search_validation_is_422(client, data, auth, body, field):
    response = client.post("/api/saved-searches", json=body, headers=auth(data["manager"]))

    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_saved_search_name_must_be_storable_text(client, data, auth):
    response = client.post(
        "/api/saved-searches",
        content=b'{"name": "\\ud800"}',
        headers={**auth(data["manager"]), "Content-Type": "application/json"},
    )

    assert response.status_code == 422


def test_saved_searches_are_limited_per_user(client, data, auth):
    headers = auth(data["manager"])
    for i in range(MAX_PER_USER):
        assert (
            client.post("/api/saved-searches", json={"name": f"s{i}"}, headers=headers).status_code
            == 201
        )

    response = client.post("/api/saved-searches", json={"name": "one more"}, headers=headers)

    assert response.status_code == 422
    assert "delete one first" in response.json()["errors"]["name"]


def test_saved_searches_need_a_member_and_are_private(client, data, auth, create_user):
    owner_headers = auth(data["manager"])
    other = create_user("eve@example.org")
    row_id = client.post(
        "/api/saved-searches", json={"name": "mine"}, headers=owner_headers
    ).json()["id"]

    assert client.get("/api/saved-searches").status_code == 401
    assert client.post("/api/saved-searches", json={"name": "x"}).status_code == 401
    assert client.delete(f"/api/saved-searches/{row_id}").status_code == 401
    assert client.get("/api/saved-searches", headers=auth(other)).json()["data"] == []
    assert client.delete(f"/api/saved-searches/{row_id}", headers=auth(other)).status_code == 404
    assert client.delete("/api/saved-searches/999999", headers=owner_headers).status_code == 404
    assert client.delete("/api/saved-searches/0", headers=owner_headers).status_code == 422
    assert client.get("/api/saved-searches", headers=owner_headers).json()["count"] == 1


# ---- recommendations ------------------------------------------------------------------------


def test_recommendations_for_my_organisation(client, data, auth):
    response = client.get(
        "/api/recommendations",
        params={"organisation_id": data["battery"].id},
        headers=auth(data["manager"]),
    )

    body = response.json()
    assert response.status_code == 200
    assert [o["name"] for o in body["organisations"]] == ["Photonics Nord"]
    first = body["organisations"][0]
    assert set(first["components"]) == {"profile", "complement", "sectors"}
    assert (
        "your request 'battery recycling' matches their offer 'Recycling of Li-ion cells'"
        in first["explanation"]
    )
    assert [p["title"] for p in body["posts"]] == ["Recycling of Li-ion cells"]
    default = client.get("/api/recommendations", headers=auth(data["manager"])).json()
    assert default["organisation_id"] == data["battery"].id


def test_recommendations_only_for_managers(client, data, auth, create_user):
    other = create_user("eve@example.org")

    assert client.get("/api/recommendations").status_code == 401
    refused = client.get(
        "/api/recommendations",
        params={"organisation_id": data["battery"].id},
        headers=auth(other),
    )
    none = client.get("/api/recommendations", headers=auth(other))
    missing = client.get(
        "/api/recommendations", params={"organisation_id": 999999}, headers=auth(other)
    )

    assert refused.status_code == 403
    assert none.status_code == 422
    assert "organisation_id" in none.json()["errors"]
    assert missing.status_code == 404
