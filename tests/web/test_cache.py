"""The page cache: anonymous GETs of public pages served from memory until a change or the
time limit; nothing personal stored."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from clusteratlas.collaboration import organisations as verbs
from clusteratlas.web import cache as web_cache
from clusteratlas.web.cache import PageCacheMiddleware, data_version

pytestmark = pytest.mark.integration


@pytest.fixture
def cached(make_client, settings):
    """A client without cookies of an app whose cache keeps answers for 60 s."""
    client = make_client(settings.model_copy(update={"page_cache_seconds": 60}))
    client.cookies.clear()
    return client


def test_second_anonymous_profile_read_is_a_hit_with_the_same_body(cached, create_user, create_org):
    org = create_org(create_user(), status="published", name="Laser Cluster Aquitaine")

    first = cached.get(f"/organisations/{org.id}")
    second = cached.get(f"/organisations/{org.id}")

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.text == first.text
    assert "Laser Cluster Aquitaine" in second.text
    assert second.headers["content-security-policy"].startswith("default-src 'self'")


def test_a_change_committed_in_this_process_is_seen_at_once(
    cached, session, create_user, create_org
):
    manager = create_user()
    org = create_org(manager, status="published", name="Old Name Cluster")
    cached.get(f"/organisations/{org.id}")
    before = data_version()

    verbs.update_organisation(session, actor=manager, organisation=org, name="New Name Cluster")
    session.flush()
    again = cached.get(f"/organisations/{org.id}")

    assert data_version() > before
    assert again.headers["x-cache"] == "miss"
    assert "New Name Cluster" in again.text
    assert "Old Name Cluster" not in again.text


def test_signed_in_and_token_requests_are_never_cached(cached, create_user, create_org, auth):
    user = create_user()
    org = create_org(user, status="published")
    headers = auth(user)

    api = [cached.get(f"/api/organisations/{org.id}", headers=headers) for _ in range(2)]
    cookie = [cached.get(f"/organisations/{org.id}", headers={"Cookie": "x=1"}) for _ in range(2)]

    assert [r.status_code for r in api + cookie] == [200] * 4
    assert all("x-cache" not in r.headers for r in api + cookie)


def test_errors_and_other_paths_are_not_cached(cached):
    missing = [cached.get("/organisations/999999") for _ in range(2)]
    login = [cached.get("/login") for _ in range(2)]

    assert [r.status_code for r in missing] == [404, 404]
    assert [r.headers.get("x-cache") for r in missing] == ["miss", "miss"]
    assert all("x-cache" not in r.headers for r in login)


def test_htmx_fragments_and_full_pages_are_kept_apart(cached, create_user, create_org):
    create_org(create_user(), status="published")

    page = cached.get("/organisations")
    fragment = cached.get("/organisations", headers={"HX-Request": "true"})
    page_again = cached.get("/organisations")

    assert fragment.headers["x-cache"] == "miss"
    assert "<html" in page_again.text
    assert "<html" not in fragment.text
    assert page_again.headers["x-cache"] == "hit"
    assert page.text == page_again.text


def test_zero_seconds_switches_the_cache_off(make_client, settings, create_user, create_org):
    client = make_client(settings.model_copy(update={"page_cache_seconds": 0}))
    org = create_org(create_user(), status="published")

    answers = [client.get(f"/organisations/{org.id}") for _ in range(2)]

    assert all("x-cache" not in r.headers for r in answers)


# -- the middleware alone, on a counting ASGI app ------------------------------------------


def _counting_app(calls, *, status=200, cookie=False):
    async def app(scope, receive, send):
        calls.append(scope["path"])
        headers = [(b"content-type", b"text/plain")]
        if cookie:
            headers.append((b"set-cookie", b"s=1"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": f"n={len(calls)}".encode()})

    return app


def _get(middleware, path):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    asyncio.run(middleware(scope, receive, send))
    return sent[-1]["body"], dict(sent[0]["headers"]).get(b"x-cache")


def test_entries_expire_after_the_time_limit(monkeypatch):
    # the cache's clock is set by the test (a real one made this test fail on a loaded machine,
    # where two requests could be more than the time limit apart)
    now = [1000.0]
    monkeypatch.setattr(web_cache, "time", SimpleNamespace(monotonic=lambda: now[0]))
    calls = []
    cache = PageCacheMiddleware(_counting_app(calls), ttl=30)

    first, second = _get(cache, "/posts"), _get(cache, "/posts")
    now[0] += 30.5
    third = _get(cache, "/posts")

    assert [first, second, third] == [(b"n=1", b"miss"), (b"n=1", b"hit"), (b"n=2", b"miss")]


def test_least_recently_used_entries_are_dropped_beyond_the_bound():
    calls = []
    cache = PageCacheMiddleware(_counting_app(calls), ttl=60, max_entries=2)

    for path in ("/posts/1", "/posts/2", "/posts/1", "/posts/3", "/posts/2", "/posts/1"):
        _get(cache, path)

    # /posts/2 was dropped when /posts/3 came (1 had just been used); then 1 was dropped for 2
    assert calls == ["/posts/1", "/posts/2", "/posts/3", "/posts/2", "/posts/1"]


def test_answers_that_set_a_cookie_are_not_stored():
    calls = []
    cache = PageCacheMiddleware(_counting_app(calls, cookie=True), ttl=60)

    _get(cache, "/search")
    _get(cache, "/search")

    assert calls == ["/search", "/search"]
