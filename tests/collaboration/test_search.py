"""Full-text search with facets on SQLite (FTS5) and PostgreSQL (tsvector): the same results on
both, the indexes follow inserts, updates and deletes, hostile query text, visibility."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration.models import OrganisationSector, utcnow
from clusteratlas.collaboration.search import fts_words, search_organisations, search_posts
from collaboration.search_data import add_org, add_post

pytestmark = pytest.mark.integration


def names(page):
    return [item.name for item in page.items]


@pytest.fixture
def orgs(session):
    """Four published profiles and a draft."""
    return {
        "battery": add_org(
            session,
            "Battery Valley",
            country="DE",
            region_code="DE21",
            description="Lithium-ion battery recycling and cell production.",
            keywords=["batteries", "recycling"],
            quality_label="gold",
            sectors=[("C27.2", "Manufacture of batteries and accumulators")],
        ),
        "photonics": add_org(
            session,
            "Photonics Nord",
            country="FR",
            region_code="FRE1",
            type="company",
            description="Lasers for battery welding.",
            sectors=[("C26", "Manufacture of computer, electronic and optical products")],
        ),
        "zurich": add_org(
            session,
            "Zürich Robotics",
            country="CH",
            description="Service robots.",
            value_chains=["industrial automation"],
            sectors=[("C28.1", "General-purpose machinery")],
        ),
        "agri": add_org(
            session,
            "AgriFood Cluster",
            country="DE",
            region_code="DE21",
            type="company",
            s3_priorities=["sustainable food"],
            quality_label="bronze",
            sectors=[("C10", "Manufacture of food products"), ("3111", "Animal food (NAICS)")],
        ),
        "draft": add_org(session, "Battery Draft", status="draft", description="battery"),
    }


def test_words_are_letters_and_digits_only():
    assert fts_words('Li-ion "cells" NEAR(x) -foo* C27.1 l\'été') == [
        "li",
        "ion",
        "cells",
        "near",
        "x",
        "foo",
        "c27",
        "1",
        "l",
        "été",
    ]
    assert fts_words(" ".join(str(i) for i in range(40))) == [str(i) for i in range(12)]


def test_text_search_finds_words_in_every_field(session, orgs):
    found = {
        q: names(search_organisations(session, viewer=None, q=q, sort="name"))
        for q in ("battery", "recycling", "accumulators", "automation", "sustainable food", "nord")
    }

    assert found == {
        "battery": ["Battery Valley", "Photonics Nord"],  # the draft is not shown
        "recycling": ["Battery Valley"],  # keyword and description
        "accumulators": ["Battery Valley"],  # a sector's title
        "automation": ["Zürich Robotics"],  # a value chain
        "sustainable food": ["AgriFood Cluster"],  # an S3 priority
        "nord": ["Photonics Nord"],
    }


def test_last_word_matches_as_prefix_and_all_words_must_match(session, orgs):
    assert names(search_organisations(session, viewer=None, q="batt", sort="name")) == [
        "Battery Valley",
        "Photonics Nord",
    ]
    assert names(search_organisations(session, viewer=None, q="lasers batt")) == ["Photonics Nord"]
    assert names(search_organisations(session, viewer=None, q="lasers robots")) == []
    # accents are kept, case is not
    assert names(search_organisations(session, viewer=None, q="ZÜRICH")) == ["Zürich Robotics"]


def test_relevance_puts_name_matches_first_then_name_order(session, orgs):
    add_org(session, "Battery Alpha", description="battery battery")

    page = search_organisations(session, viewer=None, q="battery")

    # both names contain the word; the one mentioning it once in a description comes last
    assert names(page)[-1] == "Photonics Nord"
    assert set(names(page)[:2]) == {"Battery Alpha", "Battery Valley"}


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        "*",
        "NEAR",
        "NEAR(a b)",
        "-",
        "a OR b",
        "AND",
        "^x",
        ":",
        "'",
        "'; DROP",
        "\\",
        "a:*",
        "!!",
        "(",
        "col:battery",
        "{x}",
        "+",
        "\x00",
        "é" * 500,
        "ß" * 3,
    ],
)
def test_query_syntax_characters_are_harmless(session, orgs, q):
    page = search_organisations(session, viewer=None, q=q)
    posts = search_posts(session, viewer=None, q=q)

    assert page.total == len(page.items)
    assert posts.total == len(posts.items)


def test_empty_query_lists_all_visible_by_name(session, orgs):
    page = search_organisations(session, viewer=None)

    assert names(page) == [
        "AgriFood Cluster",
        "Battery Valley",
        "Photonics Nord",
        "Zürich Robotics",
    ]
    assert page.total == 4


def test_managers_and_moderators_also_find_drafts_they_may_see(session, orgs, create_user):
    manager = create_user()
    add_org(session, "Battery Mine", status="draft", manager=manager)
    moderator = create_user(moderator=True)

    mine = names(search_organisations(session, viewer=manager, q="battery", sort="name"))
    everything = names(search_organisations(session, viewer=moderator, q="battery", sort="name"))

    assert mine == ["Battery Mine", "Battery Valley", "Photonics Nord"]
    assert everything == ["Battery Draft", "Battery Mine", "Battery Valley", "Photonics Nord"]


def test_facets_count_matches_and_ignore_their_own_filter(session, orgs):
    page = search_organisations(session, viewer=None, country="DE")

    assert names(page) == ["AgriFood Cluster", "Battery Valley"]
    assert page.facets["country"] == [("DE", 2), ("CH", 1), ("FR", 1)]  # disjunctive
    assert page.facets["region"] == [("DE21", 2)]
    assert page.facets["type"] == [("cluster_organisation", 1), ("company", 1)]
    assert page.facets["sector"] == [("311", 1), ("C10", 1), ("C27", 1)]
    assert page.facets["label"] == [("bronze", 1), ("gold", 1)]


def test_several_values_of_a_facet_are_alternatives(session, orgs):
    page = search_organisations(session, viewer=None, country=["de", "FR"], type="company")

    assert names(page) == ["AgriFood Cluster", "Photonics Nord"]
    assert page.facets["type"] == [("cluster_organisation", 1), ("company", 2)][::-1]


def test_sector_filter_matches_by_prefix(session, orgs):
    assert names(search_organisations(session, viewer=None, sector="C27")) == ["Battery Valley"]
    assert names(search_organisations(session, viewer=None, sector="c2", sort="name")) == [
        "Battery Valley",
        "Photonics Nord",
        "Zürich Robotics",
    ]
    assert names(search_organisations(session, viewer=None, sector="C27.1")) == []
    assert names(search_organisations(session, viewer=None, sector="311")) == ["AgriFood Cluster"]


def test_label_and_region_filters(session, orgs):
    assert names(search_organisations(session, viewer=None, label="gold")) == ["Battery Valley"]
    assert names(search_organisations(session, viewer=None, region="FRE1")) == ["Photonics Nord"]


def test_sort_newest_and_pagination(session, orgs):
    now = utcnow()
    for i, org in enumerate(orgs.values()):
        org.published_at = now - timedelta(days=i)
    session.flush()

    first = search_organisations(session, viewer=None, sort="newest", limit=3)
    second = search_organisations(session, viewer=None, sort="newest", limit=3, offset=3)

    assert names(first) == ["Battery Valley", "Photonics Nord", "Zürich Robotics"]
    assert names(second) == ["AgriFood Cluster"]
    assert first.total == second.total == 4


def test_index_follows_updates_sector_changes_and_deletes(session, orgs):
    battery = orgs["battery"]
    battery.description = "Hydrogen storage."
    battery.keywords = ["hydrogen"]
    session.flush()
    after_update = names(search_organisations(session, viewer=None, q="recycling"))
    hydrogen = names(search_organisations(session, viewer=None, q="hydrogen"))
    session.execute(delete(OrganisationSector).where(OrganisationSector.code == "C27.2"))
    after_sector_delete = names(search_organisations(session, viewer=None, q="accumulators"))
    session.add(
        OrganisationSector(
            organisation_id=battery.id, scheme="NACE", code="D35", title="Electricity"
        )
    )
    session.flush()
    after_sector_insert = names(search_organisations(session, viewer=None, q="electricity"))
    session.delete(battery)
    session.flush()
    after_delete = names(search_organisations(session, viewer=None, q="hydrogen"))

    assert after_update == []
    assert hydrogen == ["Battery Valley"]
    assert after_sector_delete == []
    assert after_sector_insert == ["Battery Valley"]
    assert after_delete == []


def test_invalid_parameters_raise_field_errors(session):
    with pytest.raises(ValidationError) as raised:
        search_organisations(
            session,
            viewer=None,
            country="DEU",
            type="bank",
            sector="C27%",
            label="platinum",
            region="a b",
            sort="random",
        )

    assert set(raised.value.errors) == {"country", "type", "sector", "label", "region", "sort"}


# ---- posts ----------------------------------------------------------------------------------


@pytest.fixture
def posts(session, orgs):
    return {
        "offer": add_post(
            session,
            orgs["battery"],
            "Recycling of Li-ion cells",
            body="Hydrometallurgy.",
            keywords=["batteries"],
        ),
        "request": add_post(
            session,
            orgs["photonics"],
            "Partner for laser welding",
            kind="request",
            category="research_partner",
            body="Battery tabs.",
        ),
        "expired": add_post(session, orgs["battery"], "Old recycling offer", days=-1),
        "closed": add_post(session, orgs["agri"], "Closed recycling offer", closed_at=utcnow()),
        "draft": add_post(session, orgs["draft"], "Draft recycling offer"),
    }


def test_post_search_shows_open_posts_of_published_organisations(session, posts):
    page = search_posts(session, viewer=None, q="recycling")

    assert [p.title for p in page.items] == ["Recycling of Li-ion cells"]
    assert [p.title for p in search_posts(session, viewer=None, q="li ion").items] == [
        "Recycling of Li-ion cells"
    ]
    assert [p.title for p in search_posts(session, viewer=None, q="batteries").items] == [
        "Recycling of Li-ion cells"
    ]


def test_post_facets_and_filters(session, posts):
    page = search_posts(session, viewer=None, kind="request")

    assert [p.title for p in page.items] == ["Partner for laser welding"]
    assert page.facets["kind"] == [("offer", 1), ("request", 1)]
    assert page.facets["category"] == [("research_partner", 1)]
    assert page.facets["country"] == [("FR", 1)]
    assert search_posts(session, viewer=None, country="DE").total == 1


def test_post_sorts(session, posts):
    posts["offer"].expires_at = utcnow() + timedelta(days=90)
    session.flush()

    expiry = [p.title for p in search_posts(session, viewer=None, sort="expiry").items]

    assert expiry == ["Partner for laser welding", "Recycling of Li-ion cells"]
    with pytest.raises(ValidationError) as raised:
        search_posts(session, viewer=None, kind="gift", category="x", sort="name")
    assert set(raised.value.errors) == {"kind", "category", "sort"}


def test_naics_range_sector_is_one_facet_value_that_filters(session, orgs):
    add_org(
        session,
        "Mill Works",
        country="US",
        sectors=[("31-33", "Manufacturing (NAICS)")],
    )
    session.flush()

    facet = dict(search_organisations(session, viewer=None).facets["sector"])
    chosen = search_organisations(session, viewer=None, sector="31-33")

    assert facet["31-33"] == 1
    assert "31-" not in facet
    assert names(chosen) == ["Mill Works"]
