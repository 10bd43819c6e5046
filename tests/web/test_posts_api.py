"""``/api/posts`` on SQLite and PostgreSQL: every route for success, 422 with the field
named, 401 for visitors, 403 for other users' posts, 404 for posts one may not see; e-mail to
the managers really delivered over SMTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import Notification, OrganisationManager, Post, utcnow
from clusteratlas.collaboration.posts import close_post, express_interest, follow
from web import posts_fixtures

pytestmark = pytest.mark.integration

make_org = posts_fixtures.make_org
make_post = posts_fixtures.make_post


def _expiry(days: float = 30) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()


def _errors(response):
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "invalid input"
    return response.json()["errors"]


@pytest.fixture
def world(session, create_user, make_org, make_post):
    """Ana manages Volta (DE) with an open offer; Ben manages Nord (FR); Cleo is a member."""
    ana, ben, cleo = create_user("ana@example.org"), create_user(), create_user()
    volta = make_org(ana)
    nord = make_org(ben, name="Nord Energie", country="FR")
    post = make_post(ana, volta)
    return ana, ben, cleo, volta, nord, post


# ---- reads -------------------------------------------------------------------------------


def test_list_and_read_for_visitors(client, session, world, make_post):
    ana, ben, _cleo, volta, nord, post = world
    request = make_post(ben, nord, kind="request", category="event", title="Matchmaking day")
    closed = make_post(ana, volta, title="Old offer")
    close_post(session, actor=ana, post=closed)

    listed = client.get("/api/posts")
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 2
    assert [p["id"] for p in body["data"]] == [request.id, post.id]
    first = body["data"][1]
    assert first["organisation"] == {"id": volta.id, "name": "Volta Cells", "country": "DE"}
    assert first["is_open"] is True
    assert first["keywords"] == ["batteries", "recycling"]

    filtered = client.get("/api/posts", params={"kind": "request", "country": "fr"}).json()
    assert [p["id"] for p in filtered["data"]] == [request.id]
    assert client.get("/api/posts", params={"category": "event"}).json()["count"] == 1
    by_org = client.get("/api/posts", params={"organisation_id": volta.id}).json()
    assert [p["id"] for p in by_org["data"]] == [post.id]
    paged = client.get("/api/posts", params={"limit": 1, "offset": 1}).json()
    assert (paged["count"], [p["id"] for p in paged["data"]]) == (2, [post.id])

    read = client.get(f"/api/posts/{post.id}")
    assert read.status_code == 200
    assert read.json()["title"] == "Battery recycling pilot line"
    assert client.get(f"/api/posts/{closed.id}").status_code == 404


def test_managers_list_and_read_their_closed_posts(client, session, auth, world, make_post):
    ana, ben, _cleo, volta, _nord, _post = world
    closed = make_post(ana, volta, title="Old offer")
    close_post(session, actor=ana, post=closed)
    mine = client.get("/api/posts?include_closed=true", headers=auth(ana)).json()
    assert closed.id in [p["id"] for p in mine["data"]]
    assert client.get(f"/api/posts/{closed.id}", headers=auth(ana)).json()["is_open"] is False
    theirs = client.get("/api/posts?include_closed=true", headers=auth(ben)).json()
    assert closed.id not in [p["id"] for p in theirs["data"]]
    assert client.get(f"/api/posts/{closed.id}", headers=auth(ben)).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
        ("kind=gift", "kind"),
        ("category=sports", "category"),
        ("country=DEU", "country"),
        ("organisation_id=0", "organisation_id"),
        ("organisation_id=99999999999", "organisation_id"),
        ("include_closed=maybe", "include_closed"),
    ],
)
def test_list_bad_query_is_422(client, query, field):
    assert field in _errors(client.get(f"/api/posts?{query}"))


@pytest.mark.parametrize("post_id", ["0", "abc", "99999999999"])
def test_bad_post_id_is_422(client, post_id):
    assert "post_id" in _errors(client.get(f"/api/posts/{post_id}"))


def test_unknown_post_is_404(client):
    response = client.get("/api/posts/123456")
    assert response.status_code == 404
    assert response.json() == {"detail": "no post with this id"}


# ---- create, update, close ---------------------------------------------------------------


def _new(organisation, **values):
    body = {
        "organisation_id": organisation,
        "kind": "request",
        "category": "research_partner",
        "title": "Partner for solid-state electrolytes",
        "body": "Horizon Europe call; we need a university partner.",
        "keywords": ["electrolytes", " solid-state ", "Electrolytes"],
        "expires_at": _expiry(),
    }
    return body | values


def test_create_update_close(client, session, auth, world):
    ana, _ben, cleo, volta, _nord, _post = world
    headers = auth(ana)
    created = client.post("/api/posts", json=_new(volta.id), headers=headers)
    assert created.status_code == 201, created.text
    post = created.json()
    assert post["keywords"] == ["electrolytes", "solid-state"]
    assert (post["kind"], post["is_open"]) == ("request", True)

    follow(session, actor=cleo, post=session.get(Post, post["id"]))
    updated = client.patch(
        f"/api/posts/{post['id']}", json={"title": "Partner for electrolytes"}, headers=headers
    )
    assert updated.status_code == 200
    assert updated.json()["title"] == "Partner for electrolytes"

    closed = client.post(f"/api/posts/{post['id']}/close", headers=headers)
    assert closed.status_code == 200
    assert closed.json()["closed_at"] is not None
    assert closed.json()["is_open"] is False
    subjects = session.scalars(
        select(Notification.subject).where(Notification.user_id == cleo.id)
    ).all()
    assert subjects == ["Changed: Partner for electrolytes", "Closed: Partner for electrolytes"]
    again = client.post(f"/api/posts/{post['id']}/close", headers=headers)
    assert "status" in _errors(again)
    patched = client.patch(f"/api/posts/{post['id']}", json={"title": "x"}, headers=headers)
    assert "status" in _errors(patched)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": "  "}, "title"),
        ({"body": "x" * 10_001}, "body"),
        ({"kind": "gift"}, "kind"),
        ({"category": "sports"}, "category"),
        ({"keywords": [f"k{i}" for i in range(31)]}, "keywords"),
        ({"keywords": "not a list"}, "keywords"),
        ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),  # no time zone
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"expires_at": _expiry(-1)}, "expires_at"),
        ({"expires_at": _expiry(400)}, "expires_at"),
        ({"title": "a\x00b"}, "title"),
        ({"surprise": 1}, "surprise"),
        ({"organisation_id": 123456}, "organisation_id"),
        ({"organisation_id": "x"}, "organisation_id"),
    ],
)
def test_create_bad_input_is_422(client, auth, world, values, field):
    ana, volta = world[0], world[3]
    response = client.post("/api/posts", json=_new(volta.id, **values), headers=auth(ana))
    assert field in _errors(response)


def test_create_for_unpublished_organisation_is_422(client, auth, world, make_org):
    ana, ben = world[0], world[1]
    draft = make_org(ana, status="draft", name="Draft Co")
    own = _errors(client.post("/api/posts", json=_new(draft.id), headers=auth(ana)))
    assert own["organisation_id"] == "the profile must be published before it can post"
    other = _errors(client.post("/api/posts", json=_new(draft.id), headers=auth(ben)))
    assert other["organisation_id"] == "no organisation with this id"


def test_malformed_json_is_422(client, auth, world):
    response = client.post(
        "/api/posts",
        content=b"{not json",
        headers=auth(world[0]) | {"content-type": "application/json"},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": None}, "title"),
        ({"expires_at": _expiry(-2)}, "expires_at"),
        ({"keywords": ["x" * 101]}, "keywords"),
        ({"organisation_id": 3}, "organisation_id"),
    ],
)
def test_update_bad_input_is_422(client, auth, world, values, field):
    ana, post = world[0], world[5]
    assert field in _errors(client.patch(f"/api/posts/{post.id}", json=values, headers=auth(ana)))


# ---- follow and interest -----------------------------------------------------------------


def test_follow_and_unfollow(client, session, auth, world):
    cleo, post = world[2], world[5]
    headers = auth(cleo)
    followed = client.post(f"/api/posts/{post.id}/follow", headers=headers)
    assert followed.status_code == 200
    assert followed.json() == {"post_id": post.id, "following": True}
    assert client.post(f"/api/posts/{post.id}/follow", headers=headers).status_code == 200
    unfollowed = client.delete(f"/api/posts/{post.id}/follow", headers=headers)
    assert unfollowed.status_code == 204
    assert client.delete(f"/api/posts/{post.id}/follow", headers=headers).status_code == 204


def test_interest_is_delivered_by_email_and_listed_for_managers(
    make_client, settings, smtp_receiver, session, auth, world, create_user
):
    ana, ben, cleo, volta, nord, post = world
    bob = create_user("bob@example.org")
    volta.managers.append(OrganisationManager(user_id=bob.id))
    session.flush()
    client = make_client(
        settings.model_copy(
            update={
                "smtp_host": smtp_receiver.host,
                "smtp_port": smtp_receiver.port,
                "public_url": "https://atlas.example",
            }
        )
    )
    response = client.post(
        f"/api/posts/{post.id}/interest",
        json={"message": "We recycle <b>cells</b>.", "organisation_id": nord.id},
        headers=auth(ben),
    )
    assert response.status_code == 201, response.text
    interest = response.json()
    assert interest["user_email"] == ben.email
    assert (interest["organisation_id"], interest["organisation_name"]) == (nord.id, "Nord Energie")

    received = smtp_receiver.wait_for(2)
    assert sorted(m["To"] for m in received) == ["ana@example.org", "bob@example.org"]
    for message in received:
        assert message["Subject"] == "Interest in your offer: Battery recycling pilot line"
        text = message.get_content()
        assert f"https://atlas.example/posts/{post.id}" in text
        assert ben.email in text
        assert "We recycle <b>cells</b>." in text

    listed = client.get(f"/api/posts/{post.id}/interests", headers=auth(ana))
    assert listed.status_code == 200
    assert [i["user_email"] for i in listed.json()["data"]] == [ben.email]
    for other in (ben, cleo):
        assert client.get(f"/api/posts/{post.id}/interests", headers=auth(other)).status_code == 403

    again = client.post(
        f"/api/posts/{post.id}/interest", json={"message": "again"}, headers=auth(ben)
    )
    assert "already" in _errors(again)["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": "  "}, "message"),
        ({"message": "x" * 2001}, "message"),
        ({"message": "hi", "organisation_id": 0}, "organisation_id"),
        ({"message": "hi", "extra": True}, "extra"),
    ],
)
def test_interest_bad_input_is_422(client, auth, world, body, field):
    cleo, post = world[2], world[5]
    response = client.post(f"/api/posts/{post.id}/interest", json=body, headers=auth(cleo))
    assert field in _errors(response)


def test_interest_for_an_organisation_one_does_not_manage_is_422(client, auth, world):
    cleo, volta, post = world[2], world[3], world[5]
    response = client.post(
        f"/api/posts/{post.id}/interest",
        json={"message": "hi", "organisation_id": volta.id},
        headers=auth(cleo),
    )
    assert "organisation_id" in _errors(response)


def test_expired_post_takes_no_interest_and_is_hidden(client, session, auth, world, make_post):
    ana, _ben, cleo, volta, _nord, _post = world
    expiring = make_post(ana, volta, expires_at=utcnow() + timedelta(seconds=1))
    expiring.expires_at = utcnow() - timedelta(seconds=1)  # as if time had passed
    session.flush()
    response = client.post(
        f"/api/posts/{expiring.id}/interest", json={"message": "hi"}, headers=auth(cleo)
    )
    assert response.status_code == 404
    assert client.get(f"/api/posts/{expiring.id}", headers=auth(ana)).status_code == 200


# ---- refused access ----------------------------------------------------------------------

#: every write route: method, path, body
WRITES = [
    ("PATCH", "/api/posts/{id}", {"title": "Taken over"}),
    ("POST", "/api/posts/{id}/close", None),
    ("GET", "/api/posts/{id}/interests", None),
]
PARTICIPATION = [
    ("POST", "/api/posts/{id}/follow", None),
    ("POST", "/api/posts/{id}/interest", {"message": "hi"}),
]
ALL = [*WRITES, *PARTICIPATION, ("DELETE", "/api/posts/{id}/follow", None)]


def _call(client, method, path, body, headers=None):
    return client.request(method, path, json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "path", "body"), ALL)
def test_visitor_is_401(client, world, method, path, body):
    response = _call(client, method, path.format(id=world[5].id), body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_create_as_visitor_is_401(client, world):
    assert client.post("/api/posts", json=_new(world[3].id)).status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_other_users_post_is_403(client, session, auth, world, method, path, body):
    ana, ben, _cleo, _volta, _nord, post = world
    response = _call(client, method, path.format(id=post.id), body, auth(ben))
    assert response.status_code == 403, response.text
    session.refresh(post)
    assert post.title == "Battery recycling pilot line"
    assert post.closed_at is None


@pytest.mark.parametrize(("method", "path", "body"), PARTICIPATION)
def test_own_post_participation_is_403(client, auth, world, method, path, body):
    ana, post = world[0], world[5]
    assert _call(client, method, path.format(id=post.id), body, auth(ana)).status_code == 403


def test_create_for_other_users_organisation_is_403(client, auth, world):
    ben, volta = world[1], world[3]
    assert client.post("/api/posts", json=_new(volta.id), headers=auth(ben)).status_code == 403


def test_administrator_may_edit_any_post(client, auth, world, create_user):
    post = world[5]
    admin = create_user(admin=True)
    response = client.patch(f"/api/posts/{post.id}", json={"title": "Edited"}, headers=auth(admin))
    assert response.status_code == 200
    assert response.json()["title"] == "Edited"


@pytest.mark.parametrize(("method", "path", "body"), ALL)
def test_invisible_post_is_404_on_every_route(client, session, auth, world, method, path, body):
    ana, ben, _cleo, _volta, _nord, post = world
    close_post(session, actor=ana, post=post)
    response = _call(client, method, path.format(id=post.id), body, auth(ben))
    assert response.status_code == 404
    unknown = _call(client, method, path.format(id=987654), body, auth(ben))
    assert unknown.status_code == 404


def test_interest_in_closed_post_by_manager_view_keeps_list(client, session, auth, world):
    ana, _ben, cleo, _volta, _nord, post = world
    express_interest(session, actor=cleo, post=post, message="hello")
    close_post(session, actor=ana, post=post)
    listed = client.get(f"/api/posts/{post.id}/interests", headers=auth(ana))
    assert listed.json()["count"] == 1


def test_openapi_documents_the_post_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/posts"])
    assert {"get", "patch"} <= set(paths["/api/posts/{post_id}"])
    assert {"post", "delete"} <= set(paths["/api/posts/{post_id}/follow"])
    assert "403" in paths["/api/posts/{post_id}/close"]["post"]["responses"]
