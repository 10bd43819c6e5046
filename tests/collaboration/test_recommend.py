""" "Partners for you": the pure scoring on a tiny corpus against values computed by hand with
numpy (scikit-learn's smoothed idf and unit rows), and the database wrapper with its cache."""

from __future__ import annotations

import math

import numpy as np
import pytest

from clusteratlas.collaboration import recommend as rec
from clusteratlas.collaboration.recommend import (
    PostDoc,
    Profile,
    fit_vectoriser,
    rank_organisations,
    rank_posts,
    recommend,
)
from collaboration.search_data import add_org, add_post

# idf = ln((1 + n) / (1 + df)) + 1 with n = 3 documents
A = math.log(4 / 3) + 1  # "battery": in two documents
B = math.log(2) + 1  # every other word: in one
CORPUS = ["battery recycling", "battery cells", "laser welding"]


def cos(u, v):
    u, v = np.asarray(u, float), np.asarray(v, float)
    return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


@pytest.fixture
def profiles():
    me = Profile(
        1,
        "Me",
        "battery recycling",
        sectors=("NACE C27.2",),
        posts=(PostDoc(10, 1, "request", "recycling", "recycling"),),
    )
    cells = Profile(
        2,
        "Cells Co",
        "battery cells",
        sectors=("NACE C27.1",),
        posts=(PostDoc(20, 2, "request", "Recycling too", "recycling"),),
    )
    welding = Profile(
        3,
        "Welding Co",
        "laser welding",
        sectors=("NAICS 3359",),
        posts=(PostDoc(30, 3, "offer", "Welding and recycling", "recycling welding"),),
    )
    return me, cells, welding


def test_vectoriser_is_scikit_learn_tfidf():
    vectoriser = fit_vectoriser(CORPUS)
    row = vectoriser.transform(["battery recycling"]).toarray()[0]
    words = list(vectoriser.get_feature_names_out())

    assert words == ["battery", "cells", "laser", "recycling", "welding"]
    expected = np.array([A, 0, 0, B, 0]) / math.hypot(A, B)
    np.testing.assert_allclose(row, expected, rtol=1e-12)


def test_rank_organisations_components_and_order(profiles):
    me, cells, welding = profiles
    vectoriser = fit_vectoriser(CORPUS)

    ranked = rank_organisations(me, [welding, cells, me], vectoriser)

    assert [s.name for s in ranked] == ["Cells Co", "Welding Co"]
    first, second = ranked
    # cells: cosine of (A, B) and (A, B') sharing only "battery"; same NACE division C27; its
    # request does not complement my request
    assert first.components["profile"] == pytest.approx(A * A / (A * A + B * B), rel=1e-12)
    assert first.components["complement"] == 0
    assert first.components["sectors"] == 1.0
    assert first.score == pytest.approx(0.5 * A * A / (A * A + B * B) + 0.15, rel=1e-12)
    assert first.explanation == "both in NACE C27; similar profiles (battery)"
    # welding: only its offer matches my request: cos((1, 0), (1, 1)) = 1/√2
    assert second.components == pytest.approx(
        {"profile": 0.0, "complement": cos([1, 0], [1, 1]), "sectors": 0.0}, rel=1e-12
    )
    assert second.score == pytest.approx(0.35 / math.sqrt(2), rel=1e-12)
    assert second.explanation == (
        "your request 'recycling' matches their offer 'Welding and recycling'"
    )


def test_rank_posts_scores_by_hand(profiles):
    me, cells, welding = profiles
    vectoriser = fit_vectoriser(CORPUS)
    posts = [*cells.posts, *welding.posts, *me.posts]

    ranked = rank_posts(me, posts, vectoriser)

    by_id = {s.post_id: s for s in ranked}
    assert set(by_id) == {20, 30}  # never my own post
    offer = by_id[30]
    assert offer.components["profile"] == pytest.approx(cos([A, B, 0], [0, B, B]), rel=1e-12)
    assert offer.components["complement"] == pytest.approx(1 / math.sqrt(2), rel=1e-12)
    request = by_id[20]
    assert request.components == pytest.approx(
        {"profile": cos([A, B], [0, B]), "complement": 0.0}, rel=1e-12
    )
    assert [s.post_id for s in ranked] == [30, 20]
    assert offer.explanation.startswith("your request 'recycling' matches this offer")


def test_nothing_in_common_gives_no_suggestion():
    vectoriser = fit_vectoriser(CORPUS)
    me = Profile(1, "Me", "battery")
    other = Profile(2, "Other", "laser welding")

    assert rank_organisations(me, [other], vectoriser) == []
    assert rank_organisations(me, [], vectoriser) == []
    assert rank_posts(me, [], vectoriser) == []


@pytest.mark.integration
def test_recommend_from_the_database_uses_its_cache(session):
    mine = add_org(
        session,
        "Battery Valley",
        description="battery recycling",
        sectors=[("C27.2", "Manufacture of batteries")],
    )
    other = add_org(session, "Photonics Nord", description="battery lasers")
    add_org(session, "Draft Battery", status="draft", description="battery recycling")
    add_post(session, mine, "battery recycling", kind="request")
    add_post(session, other, "Recycling of Li-ion cells", body="battery recycling")
    rec._cache.clear()

    first = recommend(session, organisation=mine)
    cached = len(rec._cache)
    second = recommend(session, organisation=mine)
    add_org(session, "Battery Twin", description="battery recycling")
    third = recommend(session, organisation=mine)

    assert [s.name for s in first.organisations] == ["Photonics Nord"]
    assert "matches their offer 'Recycling of Li-ion cells'" in first.organisations[0].explanation
    assert [p.title for p in first.posts] == ["Recycling of Li-ion cells"]
    assert cached == 1
    assert [s.name for s in second.organisations] == ["Photonics Nord"]
    assert len(rec._cache) == 2  # a new profile is a new version
    assert sorted(s.name for s in third.organisations) == ["Battery Twin", "Photonics Nord"]
