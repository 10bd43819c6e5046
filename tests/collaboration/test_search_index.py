"""The in-memory search index answers exactly as the database does.

``search_organisations`` filters, counts facets and sorts with the index of
``collaboration/search_index.py``; with ``in_memory=False`` the database does all of it in SQL
(grouped counts per facet, ORDER BY in the query). Hypothesis generates organisations (names
that tie whatever their case, missing regions and labels, several sectors, drafts, NAICS range
sectors) and searches (words, several facet filters, sorts, pages, viewers), and both answers
must be equal: the page's ids in order, the total and every facet's counts. Also: the index
follows inserts, edits, sector changes and deletes, and a rolled-back change is not kept.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from clusteratlas.collaboration import search_index
from clusteratlas.collaboration.models import (
    Organisation,
    OrganisationManager,
    OrganisationSector,
    utcnow,
)
from clusteratlas.collaboration.search import search_organisations
from collaboration.search_data import add_org

NAMES = ["Alpha", "alpha", "Beta Battery", "battery works", "Gamma", "Ölwerk", "delta", "Zeta"]
WORDS = ["battery", "bat", "alpha", "works", "gamma", "zzz", "hydrogen"]
SECTORS = [("C27", ""), ("C27.1", ""), ("C28", ""), ("31-33", ""), ("3359", ""), ("M72.1", "")]

organisations = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(NAMES),
            "country": st.sampled_from(["DE", "FR", "BE"]),
            "region_code": st.sampled_from([None, "DE21", "FR10", "BE10"]),
            "type": st.sampled_from(["cluster_organisation", "company", "university"]),
            "status": st.sampled_from(["published", "published", "draft", "submitted"]),
            "quality_label": st.sampled_from([None, "gold", "silver"]),
            "description": st.sampled_from(["", "hydrogen and battery", "works on gamma"]),
            "sectors": st.lists(st.sampled_from(SECTORS), max_size=3, unique=True),
            "age": st.sampled_from([None, 1, 2, 3]),
        }
    ),
    min_size=0,
    max_size=16,
)


def _sometimes(*values):
    """None (no filter) most of the time, else one of ``values``: filters combine, and all of
    them at once would leave nothing to compare."""
    return st.sampled_from([None, None, None, None, *values])


searches = st.fixed_dictionaries(
    {
        "q": st.sampled_from(["", "", "", *WORDS, "battery works", "al"]),
        "country": _sometimes("DE", ["de", "FR"], "XX"),
        "region": _sometimes("DE21", ["FR10", "BE10"]),
        "type": _sometimes("company", ["company", "university"]),
        "sector": _sometimes("C27", "c", ["31-33", "M72"], "3"),
        "label": _sometimes("gold", ["gold", "silver"]),
        "sort": st.sampled_from(["relevance", "name", "newest"]),
        "limit": st.sampled_from([1, 3, 20]),
        "offset": st.sampled_from([0, 0, 2]),
        "viewer": st.sampled_from(["anonymous", "member", "manager", "moderator"]),
    }
)


def _answer(session, in_memory, viewer, search):
    page = search_organisations(session, viewer=viewer, in_memory=in_memory, **search)
    return [o.id for o in page.items], page.total, page.facets


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=organisations, queries=st.lists(searches, min_size=1, max_size=4))
def test_index_answers_as_the_database(session, create_user, rows, queries):
    nested = session.begin_nested()
    try:
        users = {
            "anonymous": None,
            "member": create_user(),
            "manager": create_user(),
            "moderator": create_user(moderator=True),
        }
        now = utcnow()
        for k, row in enumerate(rows):
            row = dict(row)
            age = row.pop("age")
            published = row["status"] == "published"
            add_org(
                session,
                row.pop("name"),
                manager=users["manager"] if k % 3 == 0 else None,
                published_at=(now - timedelta(days=age)) if published and age else None,
                **row,
            )
        session.flush()
        for query in queries:
            query = dict(query)
            viewer = users[query.pop("viewer")]
            assert _answer(session, True, viewer, query) == _answer(session, False, viewer, query)
    finally:
        nested.rollback()


def test_index_follows_writes(session):
    first = add_org(session, "Battery Alpha", country="DE", sectors=[("C27", "")])
    session.flush()
    assert search_organisations(session, viewer=None, q="battery").total == 1
    built = search_index.current_index(session)
    assert built is not None

    add_org(session, "Battery Beta", country="FR")
    session.flush()
    page = search_organisations(session, viewer=None, q="battery", country="FR")
    assert page.total == 1
    assert search_index.current_index(session) is not built  # rebuilt after the insert

    first.country = "FR"
    session.flush()
    assert search_organisations(session, viewer=None, country="FR").total == 2

    session.add(OrganisationSector(organisation_id=first.id, scheme="NACE", code="C28.1"))
    session.flush()
    facets = search_organisations(session, viewer=None).facets["sector"]
    assert dict(facets) == {"C27": 1, "C28": 1}

    session.execute(delete(OrganisationManager))
    session.delete(first)
    session.flush()
    assert [o.name for o in search_organisations(session, viewer=None).items] == ["Battery Beta"]


def test_rolled_back_change_is_not_kept(session):
    add_org(session, "Kept", country="DE")
    session.flush()
    nested = session.begin_nested()
    add_org(session, "Rolled back", country="DE")
    session.flush()
    assert search_organisations(session, viewer=None, country="DE").total == 2
    nested.rollback()
    assert [o.name for o in search_organisations(session, viewer=None, country="DE").items] == [
        "Kept"
    ]


def test_token_changes_with_every_writing_transaction(session):
    token = search_index._token(session)
    add_org(session, "One")
    session.flush()
    after_insert = search_index._token(session)
    assert after_insert not in (None, token)
    org = session.scalars(select(Organisation)).first()
    org.city = "Gent"
    session.flush()
    assert search_index._token(session) != after_insert


@pytest.mark.parametrize(
    ("code", "group"), [("C27.1", "C27"), ("31-33", "31-33"), ("3359", "335"), ("C", "C")]
)
def test_sector_group(code, group):
    assert search_index.sector_group(code) == group


def test_match_cache_keeps_recent_queries_within_its_row_budget(session, monkeypatch):
    add_org(session, "Battery Alpha")
    session.flush()
    index = search_index.current_index(session)
    monkeypatch.setattr(search_index, "MATCH_CACHE_ROWS", 5)
    calls = []

    def rows(key, n):
        def compute():
            calls.append(key)
            return (np.arange(n), None)

        return index.matches(key, compute)

    rows("a", 2)
    rows("b", 2)
    rows("a", 2)  # kept: not computed again, and now the most recent
    assert calls == ["a", "b"]
    rows("c", 2)  # 6 rows > 5: the least recent ("b") goes
    rows("a", 2)
    rows("b", 2)
    assert calls == ["a", "b", "c", "b"]
    rows("big", 9)  # alone over the budget: kept (the last one always is), others dropped
    rows("big", 9)
    assert calls == ["a", "b", "c", "b", "big"]
