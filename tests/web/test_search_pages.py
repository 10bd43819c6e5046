"""The search, saved-search and partners pages on SQLite and PostgreSQL: results and facets,
the htmx fragment, bad parameters (400 with messages), escaping, CSRF, other users' ids."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import SavedSearch
from collaboration.search_data import add_org, add_post
from web.test_pages import csrf_of, h1, log_in

pytestmark = pytest.mark.integration


def hits(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/(?:organisations|posts)/\d+">([^<]+)</a>', html)


@pytest.fixture
def data(session, create_user):
    manager = create_user("mia@example.org")
    battery = add_org(
        session,
        "Battery Valley",
        description="battery recycling",
        quality_label="gold",
        sectors=[("C27.2", "Manufacture of batteries")],
        manager=manager,
    )
    photonics = add_org(session, "Photonics Nord", country="FR", description="battery lasers")
    add_org(session, "<script>alert(1)</script> Battery", country="IT")
    add_post(session, battery, "battery recycling", kind="request")
    add_post(session, photonics, "Recycling of Li-ion cells", body="battery recycling")
    return {"manager": manager, "battery": battery}


def test_search_page_lists_results_and_facets(client, data):
    response = client.get("/search", params={"q": "battery", "sort": "name"})

    assert response.status_code == 200
    assert h1(response.text) == "Search"
    assert hits(response.text) == [
        "&lt;script&gt;alert(1)&lt;/script&gt; Battery",
        "Battery Valley",
        "Photonics Nord",
    ]
    assert "<script>alert(1)" not in response.text
    assert 'name="country" value="FR"' in response.text
    assert 'hx-push-url="true"' in response.text
    assert "3 results" in response.text


def test_facet_checkbox_filters_and_stays_checked(client, data):
    response = client.get("/search", params=[("q", "battery"), ("country", "FR")])

    assert hits(response.text) == ["Photonics Nord"]
    assert 'name="country" value="FR" checked' in response.text
    # the other countries are still offered, with their counts
    assert re.search(r'value="DE">\s*DE\s*<span class="facet-count">1</span>', response.text)


def test_htmx_request_gets_the_fragment_only(client, data):
    response = client.get("/search", params={"q": "lasers"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="search-results"')
    assert "<html" not in response.text
    assert hits(response.text) == ["Photonics Nord"]
    assert response.headers["vary"] == "HX-Request"


def test_posts_tab(client, data):
    response = client.get("/search", params={"kind": "posts", "q": "recycling", "kind_": "offer"})

    assert hits(response.text) == ["Recycling of Li-ion cells"]
    assert 'aria-current="page">Offers &amp; requests' in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"country": "DEU"},
        {"sector": "C27%"},
        {"sort": "random"},
        {"q": "x" * 300},
        {"kind": "posts", "category": "gift"},
    ],
)
def test_bad_parameters_are_400_with_messages(client, params):
    response = client.get("/search", params=params)

    assert response.status_code == 400
    assert 'class="form-error"' in response.text


@pytest.mark.parametrize("q", ['"', "NEAR(", "*", "-", "a:*", "'", "%"])
def test_query_syntax_characters_render(client, data, q):
    assert client.get("/search", params={"q": q}).status_code == 200


def test_pagination_links_keep_the_query(client, session, data):
    for i in range(25):
        add_org(session, f"Bulk {i:02d}", description="bulk")

    first = client.get("/search", params={"q": "bulk", "sort": "name"})
    link = re.search(r'<a href="([^"]+)">Next</a>', first.text)
    assert link is not None
    second = client.get(link.group(1).replace("&amp;", "&"))

    assert hits(second.text) == [f"Bulk {i:02d}" for i in range(20, 25)]
    assert parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["q"] == ["bulk"]


# ---- saved searches -------------------------------------------------------------------------


def test_save_list_and_delete_a_search(client, session, data):
    log_in(client, data["manager"])
    page = client.get("/search", params={"q": "battery", "country": "DE"})
    query = re.search(r'id="saved-query" name="query" value="([^"]+)"', page.text).group(1)

    saved = client.post(
        "/saved-searches",
        data={
            "csrf_token": csrf_of(page.text),
            "name": "Batteries",
            "query": query.replace("&amp;", "&"),
        },
        follow_redirects=False,
    )
    listing = client.get("/saved-searches")
    row = session.scalars(select(SavedSearch)).one()
    deleted = client.post(
        f"/saved-searches/{row.id}/delete",
        data={"csrf_token": csrf_of(listing.text)},
        follow_redirects=False,
    )

    assert saved.status_code == 303
    assert row.query["q"] == "battery"
    assert row.query["country"] == ["DE"]
    assert "Batteries" in listing.text
    assert 'href="/search?kind=organisations&amp;q=battery&amp;country=DE"' in listing.text
    assert deleted.status_code == 303
    assert session.scalars(select(SavedSearch)).all() == []


def test_save_search_errors_rerender_with_400(client, data):
    log_in(client, data["manager"])
    page = client.get("/saved-searches")

    response = client.post(
        "/saved-searches",
        data={"csrf_token": csrf_of(page.text), "name": "", "query": "country=XYZ"},
    )

    assert response.status_code == 400
    assert "give the search a name" in response.text
    assert "two-letter country codes" in response.text


def test_saved_searches_need_sign_in_csrf_and_ownership(client, session, data, create_user):
    other = create_user("eve@example.org")
    row = SavedSearch(user_id=data["manager"].id, name="Mine", query={"kind": "organisations"})
    session.add(row)
    session.flush()

    anonymous = client.get("/saved-searches", follow_redirects=False)
    log_in(client, other)
    listing = client.get("/saved-searches")
    no_csrf = client.post(
        f"/saved-searches/{row.id}/delete", data={"x": "1"}, follow_redirects=False
    )
    foreign = client.post(
        f"/saved-searches/{row.id}/delete",
        data={"csrf_token": csrf_of(listing.text)},
        follow_redirects=False,
    )

    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    assert "Mine" not in listing.text
    assert no_csrf.status_code == 403
    assert foreign.status_code == 404
    assert session.get(SavedSearch, row.id) is not None


# ---- partners for you -----------------------------------------------------------------------


def test_partners_page_explains_suggestions(client, data):
    log_in(client, data["manager"])

    response = client.get("/partners")

    assert response.status_code == 200
    assert h1(response.text) == "Partners for you"
    assert "Photonics Nord" in response.text
    assert (
        "your request &#39;battery recycling&#39; matches their offer "
        "&#39;Recycling of Li-ion cells&#39;" in response.text
    )


def test_partners_page_refuses_other_organisations(client, data, create_user):
    log_in(client, create_user("eve@example.org"))

    own = client.get("/partners")
    foreign = client.get("/partners", params={"organisation_id": data["battery"].id})

    assert own.status_code == 200
    assert "Create its profile" in own.text
    assert foreign.status_code == 403
    assert client.get("/partners", params={"organisation_id": "0"}).status_code in (400, 404, 422)
