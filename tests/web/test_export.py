"""Open data (``/api/export``) on SQLite and PostgreSQL: the exported rows are compared with
the rows the test inserts; drafts, returned profiles, contacts, closed and expired posts and
links to unpublished profiles never appear; the CSV parses back with the csv module and
spreadsheet formulas are neutralised."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from clusteratlas.collaboration.models import (
    LinkKind,
    Organisation,
    OrganisationLink,
    OrganisationManager,
    OrganisationSector,
    Post,
    PostCategory,
    PostKind,
    QualityLabel,
    utcnow,
)
from clusteratlas.web.api.export import ORGANISATION_COLUMNS, POST_COLUMNS, neutralise

pytestmark = pytest.mark.integration

SECRET = "secret.contact@example.org"


def _org(session, manager, status, **values):
    """An organisation row in ``status``, inserted directly (not through the verbs)."""
    fields = {"type": "cluster_organisation", "country": "DE"} | values
    organisation = Organisation(status=status, **fields)
    if status == "published":
        organisation.version, organisation.published_at = 1, utcnow()
    organisation.managers = [OrganisationManager(user_id=manager.id)]
    session.add(organisation)
    session.flush()
    return organisation


@pytest.fixture
def data(session, create_user):
    """Two published profiles (DE cluster, FR company), a draft, a returned profile; links
    between them; open, closed and expired posts, and a post of the draft."""
    manager = create_user()
    cluster = _org(session, manager, "published", name="BioCluster Rhein")
    company = _org(
        session, manager, "published", name="=HYPERLINK(evil)", country="FR", type="company"
    )
    draft = _org(session, manager, "draft", name="Secret Draft GmbH")
    _org(session, manager, "submitted", name="Submitted GmbH")
    _org(session, manager, "returned", name="Returned SA", return_reason="add a sector")
    cluster.keywords = ["battery", "hydrogen"]
    cluster.value_chains = ["Energy"]
    cluster.members_sme = 120
    cluster.members_large = 7
    cluster.quality_label = QualityLabel.gold
    cluster.label_date = date(2024, 5, 1)
    cluster.label_expiry = date(2026, 5, 1)
    cluster.region_code = "DEA2"
    cluster.contacts = [{"name": "Ana", "role": "manager", "email": SECRET, "phone": "+49 1"}]
    cluster.description = "+49 call us; semicolons; and, commas"
    cluster.sectors = [
        OrganisationSector(scheme="NACE", code="C27", title="Manufacture of electrical equipment"),
        OrganisationSector(scheme="NACE", code="C27.2", title="Manufacture of batteries"),
    ]
    company.keywords = ["@import", "-minus"]
    company.contacts = [{"name": "Bo", "email": SECRET}]
    session.flush()
    session.add_all(
        [
            OrganisationLink(source_id=company.id, target_id=cluster.id, kind=LinkKind.member_of),
            OrganisationLink(source_id=cluster.id, target_id=company.id, kind=LinkKind.partner_of),
            OrganisationLink(source_id=cluster.id, target_id=draft.id, kind=LinkKind.partner_of),
            OrganisationLink(source_id=draft.id, target_id=cluster.id, kind=LinkKind.member_of),
        ]
    )
    now = utcnow()

    def post(org, title, **values):
        row = Post(
            organisation_id=org.id,
            author_id=manager.id,
            kind=values.pop("kind", PostKind.offer),
            category=values.pop("category", PostCategory.technology),
            title=title,
            body=values.pop("body", "body"),
            keywords=values.pop("keywords", []),
            expires_at=values.pop("expires_at", now + timedelta(days=30)),
            **values,
        )
        session.add(row)
        return row

    offer = post(cluster, "Battery pilot line", keywords=["battery", "pilot"])
    request = post(
        company,
        "=cmd|' /C calc'!A0",
        kind=PostKind.request,
        category=PostCategory.research_partner,
        body="-2+3",
    )
    post(cluster, "Closed offer", closed_at=now - timedelta(days=1))
    post(cluster, "Expired offer", expires_at=now - timedelta(days=1))
    post(draft, "Offer of a draft")
    session.flush()
    return {
        "cluster": cluster,
        "company": company,
        "draft": draft,
        "offer": offer,
        "request": request,
    }


def _csv(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "charset=utf-8" in response.headers["content-type"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def test_organisations_json_holds_exactly_the_published_profiles(client, data):
    response = client.get("/api/export/organisations.json")
    body = response.json()
    cluster, company = data["cluster"], data["company"]

    assert response.status_code == 200
    assert body["licence"].startswith("CC BY 4.0")
    assert body["generated_at"]
    assert [row["id"] for row in body["data"]] == sorted([cluster.id, company.id])
    assert body["count"] == 2
    row = next(r for r in body["data"] if r["id"] == cluster.id)
    assert row["name"] == "BioCluster Rhein"
    assert (row["type"], row["country"], row["region_code"]) == (
        "cluster_organisation",
        "DE",
        "DEA2",
    )
    assert row["keywords"] == ["battery", "hydrogen"]
    assert row["value_chains"] == ["Energy"]
    assert (row["members_sme"], row["members_large"], row["members_research"]) == (120, 7, None)
    assert (row["quality_label"], row["label_date"], row["label_expiry"]) == (
        "gold",
        "2024-05-01",
        "2026-05-01",
    )
    assert row["sectors"] == [
        {"scheme": "NACE", "code": "C27", "title": "Manufacture of electrical equipment"},
        {"scheme": "NACE", "code": "C27.2", "title": "Manufacture of batteries"},
    ]
    # the link to the draft is left out
    assert row["links"] == [
        {"kind": "partner_of", "target_id": company.id, "target_name": "=HYPERLINK(evil)"}
    ]
    assert "contacts" not in row
    assert SECRET not in response.text
    assert "Secret Draft" not in response.text
    assert "Returned SA" not in response.text
    assert "Submitted GmbH" not in response.text


def test_organisations_csv_parses_back_with_the_same_rows(client, data):
    response = client.get("/api/export/organisations.csv")
    rows = _csv(response)
    cluster, company = data["cluster"], data["company"]

    assert list(rows[0]) == list(ORGANISATION_COLUMNS)
    assert [int(r["id"]) for r in rows] == sorted([cluster.id, company.id])
    row = next(r for r in rows if int(r["id"]) == cluster.id)
    assert row["keywords"] == "battery; hydrogen"
    assert row["sector_codes"] == "NACE C27; NACE C27.2"
    assert row["sector_titles"] == "Manufacture of electrical equipment; Manufacture of batteries"
    assert row["members_sme"] == "120"
    assert row["members_research"] == ""
    assert row["quality_label"] == "gold"
    assert row["label_expiry"] == "2026-05-01"
    assert row["partner_of"] == f"{company.id} =HYPERLINK(evil)"  # starts with a digit
    assert row["member_of"] == ""
    # commas, semicolons and a leading + survive the round trip, the + neutralised
    assert row["description"] == "'+49 call us; semicolons; and, commas"
    assert "attachment" in response.headers["content-disposition"]
    assert SECRET not in response.text
    assert "Secret Draft" not in response.text


def test_csv_neutralises_formula_injection(client, data):
    rows = _csv(client.get("/api/export/organisations.csv"))
    company = next(r for r in rows if int(r["id"]) == data["company"].id)
    posts = _csv(client.get("/api/export/posts.csv"))
    request = next(r for r in posts if int(r["id"]) == data["request"].id)

    assert company["name"] == "'=HYPERLINK(evil)"
    assert company["keywords"] == "'@import; -minus"
    assert company["member_of"] == f"{data['cluster'].id} BioCluster Rhein"
    assert request["title"] == "'=cmd|' /C calc'!A0"
    assert request["body"] == "'-2+3"
    assert request["organisation_name"] == "'=HYPERLINK(evil)"
    for row in rows + posts:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+49", "'+49"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_filters_by_country_and_type(client, data):
    german = client.get("/api/export/organisations.json", params={"country": "de"}).json()
    companies = _csv(client.get("/api/export/organisations.csv", params={"type": "company"}))
    none = client.get(
        "/api/export/organisations.json", params={"country": "FR", "type": "university"}
    ).json()

    assert [r["id"] for r in german["data"]] == [data["cluster"].id]
    assert [int(r["id"]) for r in companies] == [data["company"].id]
    assert none == none | {"count": 0, "data": []}


def test_posts_exports_only_open_posts_of_published_organisations(client, data):
    body = client.get("/api/export/posts.json").json()
    rows = _csv(client.get("/api/export/posts.csv"))
    offer = data["offer"]

    assert body["licence"].startswith("CC BY 4.0")
    assert [p["id"] for p in body["data"]] == sorted([offer.id, data["request"].id])
    first = next(p for p in body["data"] if p["id"] == offer.id)
    assert first | {"created_at": None, "expires_at": None} == {
        "id": offer.id,
        "organisation_id": data["cluster"].id,
        "organisation_name": "BioCluster Rhein",
        "country": "DE",
        "kind": "offer",
        "category": "technology",
        "title": "Battery pilot line",
        "body": "body",
        "keywords": ["battery", "pilot"],
        "created_at": None,
        "expires_at": None,
    }
    assert "author_id" not in first
    assert list(rows[0]) == list(POST_COLUMNS)
    assert [int(r["id"]) for r in rows] == [p["id"] for p in body["data"]]
    assert next(r for r in rows if int(r["id"]) == offer.id)["keywords"] == "battery; pilot"
    for title in ("Closed offer", "Expired offer", "Offer of a draft"):
        assert title not in str(body)
        assert all(r["title"] != title for r in rows)


def test_posts_filters(client, data):
    requests = client.get("/api/export/posts.json", params={"kind": "request"}).json()
    french = _csv(client.get("/api/export/posts.csv", params={"country": "FR"}))
    clusters = client.get(
        "/api/export/posts.json", params={"type": "cluster_organisation", "category": "technology"}
    ).json()

    assert [p["id"] for p in requests["data"]] == [data["request"].id]
    assert [int(r["id"]) for r in french] == [data["request"].id]
    assert [p["id"] for p in clusters["data"]] == [data["offer"].id]


def test_empty_export_is_a_header_row(client):
    rows = client.get("/api/export/organisations.csv")
    posts = client.get("/api/export/posts.json")

    assert rows.status_code == 200
    assert rows.text.strip() == ",".join(ORGANISATION_COLUMNS)
    assert posts.json()["data"] == []


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/export/organisations.csv", {"country": "Germany"}, "country"),
        ("/api/export/organisations.json", {"type": "spaceship"}, "type"),
        ("/api/export/posts.csv", {"kind": "gift"}, "kind"),
        ("/api/export/posts.json", {"category": "x"}, "category"),
    ],
)
def test_bad_filters_are_422_with_the_field(client, path, params, field):
    response = client.get(path, params=params)

    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_exports_are_documented_in_openapi(client):
    paths = client.get("/openapi.json").json()["paths"]

    for name in ("organisations", "posts"):
        csv_ok = paths[f"/api/export/{name}.csv"]["get"]["responses"]["200"]["content"]
        json_ok = paths[f"/api/export/{name}.json"]["get"]["responses"]["200"]["content"]
        assert list(csv_ok) == ["text/csv"]
        assert list(json_ok) == ["application/json"]


def test_large_export_streams_in_chunks(client, session):
    from clusteratlas.collaboration.demo import seed_synthetic

    seed_synthetic(session, organisations=1200, posts=0, seed=1)
    with client.stream("GET", "/api/export/organisations.csv") as response:
        chunks = list(response.iter_text())

    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert len(rows) == 1200
    assert len(chunks) >= 3  # 500 rows a chunk
    assert all(r["name"].endswith("(synthetic demo)") for r in rows)


def test_signed_in_members_and_moderators_get_the_same_public_export(
    client, data, create_user, auth
):
    anonymous = client.get("/api/export/organisations.json").json()
    moderator = create_user(moderator=True)
    as_moderator = client.get("/api/export/organisations.json", headers=auth(moderator)).json()
    as_manager_csv = client.get("/api/export/organisations.csv", headers=auth(create_user()))

    assert as_moderator["data"] == anonymous["data"]
    assert SECRET not in str(as_moderator)
    assert "Secret Draft" not in as_manager_csv.text
    assert SECRET not in as_manager_csv.text
