""" "Partners for you": other published organisations and open posts ranked for one organisation.

Everything is compared in one TF-IDF space (scikit-learn ``TfidfVectorizer``: raw term counts,
smoothed idf ``ln((1 + n) / (1 + df)) + 1``, rows scaled to unit length, so a dot product is the
cosine) fitted on the profiles and the open posts. An organisation's score is

    0.5 · profile + 0.35 · complement + 0.15 · sectors

- ``profile``: cosine of the two profile texts (description, keywords, sectors with titles,
  value chains, emerging industries, smart-specialisation priorities);
- ``complement``: the best cosine between one of my requests and one of their offers, or one of
  my offers and one of their requests;
- ``sectors``: the share of my sector groups (NACE division / NAICS subsector: the code's first
  three characters) that they share.

A post's score is ``0.5 · cosine(my profile, the post) + 0.5 · complement`` (its best cosine
with my posts of the opposite kind). Each suggestion carries its components and an explanation.
The pure functions (:func:`fit_vectoriser`, :func:`rank_organisations`, :func:`rank_posts`)
need no database; :func:`recommend` loads the data and caches the fitted vectoriser and the
matrices per process, keyed by a cheap version of the data (counts and latest changes).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clusteratlas.collaboration.models import (
    Organisation,
    OrganisationManager,
    OrganisationSector,
    OrganisationStatus,
    Post,
    User,
    utcnow,
)

__all__ = [
    "WEIGHTS",
    "OrganisationSuggestion",
    "PostDoc",
    "PostSuggestion",
    "Profile",
    "Recommendations",
    "fit_vectoriser",
    "managed_organisations",
    "post_text",
    "profile_text",
    "rank_organisations",
    "rank_posts",
    "recommend",
]

WEIGHTS = {"profile": 0.5, "complement": 0.35, "sectors": 0.15}
POST_WEIGHTS = {"profile": 0.5, "complement": 0.5}
#: a complement or a shared word below this is not worth an explanation
MIN_EXPLAINED = 0.05


@dataclass(frozen=True)
class PostDoc:
    """A post as the recommender sees it."""

    id: int
    organisation_id: int
    kind: str  # offer or request
    title: str
    text: str


@dataclass(frozen=True)
class Profile:
    """An organisation as the recommender sees it: its text, sector codes and open posts."""

    id: int
    name: str
    text: str
    sectors: tuple[str, ...] = ()  # "NACE C27.1", "NAICS 3359"
    posts: tuple[PostDoc, ...] = ()


@dataclass
class OrganisationSuggestion:
    organisation_id: int
    name: str
    score: float
    components: dict[str, float]
    reasons: list[str] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class PostSuggestion:
    post_id: int
    organisation_id: int
    title: str
    kind: str
    score: float
    components: dict[str, float]
    reasons: list[str] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)


def profile_text(organisation: Organisation) -> str:
    """The text of a profile that is compared: description, keywords, sectors (codes and
    titles), value chains, emerging industries and S3 priorities."""
    return _text(
        organisation.description,
        [
            organisation.keywords,
            organisation.value_chains,
            organisation.emerging_industries,
            organisation.s3_priorities,
        ],
        [(s.code, s.title) for s in organisation.sectors],
    )


def _text(
    description: str | None,
    lists: Sequence[Sequence[str] | None],
    sectors: Sequence[tuple[str, str]],
) -> str:
    parts = [description or ""]
    for values in lists:
        parts.extend(values or [])
    parts.extend(f"{code} {title}" for code, title in sectors)
    return "\n".join(p for p in parts if p)


def post_text(post: Post) -> str:
    return "\n".join([post.title, post.body or "", *(post.keywords or [])])


def fit_vectoriser(texts: Sequence[str]) -> TfidfVectorizer:
    """A TF-IDF vectoriser fitted on ``texts`` (English stop words left out; words of letters
    and digits, at least two characters)."""
    vectoriser = TfidfVectorizer(stop_words="english", dtype=np.float64)
    documents = list(texts) if any(t.strip() for t in texts) else ["empty"]
    try:
        vectoriser.fit(documents)
    except ValueError:  # only stop words
        vectoriser.fit(["empty"])
    return vectoriser


def _fit_transform(texts: Sequence[str]) -> tuple[TfidfVectorizer, Any]:
    """:func:`fit_vectoriser` and the vectors of ``texts`` in one pass (None if no text)."""
    if not texts:
        return fit_vectoriser(texts), None
    vectoriser = TfidfVectorizer(stop_words="english", dtype=np.float64)
    try:
        return vectoriser, vectoriser.fit_transform(texts)
    except ValueError:  # no word but stop words
        vectoriser = fit_vectoriser(texts)
        return vectoriser, vectoriser.transform(texts)


def _groups(sectors: Sequence[str]) -> dict[str, str]:
    """Sector group (``NACE C27``) → one of the codes in it."""
    return dict(_groups_of(tuple(sectors)))


@lru_cache(maxsize=1 << 16)
def _groups_of(sectors: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    groups: dict[str, str] = {}
    for sector in sectors:
        scheme, _, code = sector.partition(" ")
        groups.setdefault(f"{scheme} {code[:3]}", sector)
    return tuple(groups.items())


def _cosines(vectoriser: TfidfVectorizer, left: Sequence[str], right: Sequence[str]) -> Any:
    if not left or not right:
        return np.zeros((len(left), len(right)))
    return (vectoriser.transform(left) @ vectoriser.transform(right).T).toarray()


def _shared_words(vectoriser: TfidfVectorizer, va: Any, vb: Any, n: int = 3) -> list[str]:
    """The ``n`` words that add most to the cosine of two (1-row) vectors."""
    product = va.multiply(vb).toarray()[0]
    best = [i for i in np.argsort(-product)[:n] if product[i] > 0]
    names = _feature_names(vectoriser)
    return [str(names[i]) for i in best]


def _feature_names(vectoriser: TfidfVectorizer) -> Any:
    """The vectoriser's vocabulary by column, built once per fitted vectoriser."""
    names = getattr(vectoriser, "_clusteratlas_names", None)
    if names is None:
        names = vectoriser.get_feature_names_out()
        vectoriser._clusteratlas_names = names  # noqa: SLF001 - a memo on our own object
    return names


def _top(scores: Any, rounded: list[float], limit: int) -> list[int]:
    """The indices of positive scores that can be among the best ``limit`` (every index tied
    with the ``limit``-th best score is kept, so ties are broken by the caller's key)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= limit:
        return positive.tolist()
    values = np.round(scores[positive], 12)
    cut = np.partition(values, len(values) - limit)[len(values) - limit]
    return [int(i) for i in positive[values >= cut] if rounded[i] >= cut]


def _complements(
    vectoriser: TfidfVectorizer,
    mine: Sequence[PostDoc],
    theirs: Sequence[PostDoc],
    theirs_matrix: Any = None,
) -> tuple[Any, Any]:
    """For each of ``theirs``: the best cosine with one of ``mine`` of the opposite kind (my
    request and their offer, or my offer and their request), and the index of that post of
    mine (-1 if none)."""
    best = np.zeros(len(theirs))
    which = np.full(len(theirs), -1)
    if not mine or not theirs:
        return best, which
    if theirs_matrix is None:
        theirs_matrix = vectoriser.transform([p.text for p in theirs])
    cosines = (vectoriser.transform([p.text for p in mine]) @ theirs_matrix.T).toarray()
    my_kinds = np.array([p.kind for p in mine])[:, None]
    opposite = my_kinds != np.array([p.kind for p in theirs])[None, :]
    cosines = np.where(opposite, cosines, 0.0)
    which = np.argmax(cosines, axis=0)
    best = cosines[which, np.arange(len(theirs))]
    which = np.where(best > 0, which, -1)
    return best, which


def rank_organisations(
    me: Profile,
    others: Sequence[Profile],
    vectoriser: TfidfVectorizer,
    *,
    limit: int = 10,
    profile_matrix: Any = None,
    post_matrix: Any = None,
) -> list[OrganisationSuggestion]:
    """``others`` (not ``me``) ranked by score, best first, ties by name then id; those with a
    zero score are left out. ``profile_matrix``: the vectors of ``others``' texts and
    ``post_matrix`` those of their posts (in order, organisation by organisation) if known."""
    if any(o.id == me.id for o in others):
        others = [o for o in others if o.id != me.id]
        profile_matrix = post_matrix = None
    if not others:
        return []
    matrix = (
        profile_matrix
        if profile_matrix is not None
        else vectoriser.transform([o.text for o in others])
    )
    my_vector = vectoriser.transform([me.text])
    profile = (matrix @ my_vector.T).toarray().ravel()
    # their posts, all at once: the best complement of each, then of each organisation
    their_posts = [(index, post) for index, other in enumerate(others) for post in other.posts]
    post_best, post_which = _complements(
        vectoriser, me.posts, [p for _, p in their_posts], post_matrix
    )
    complement = np.zeros(len(others))
    pairs: dict[int, tuple[PostDoc, PostDoc]] = {}
    for (index, post), value, mine in zip(their_posts, post_best, post_which, strict=True):
        if value > complement[index]:
            complement[index] = value
            pairs[index] = (me.posts[mine], post)
    my_groups = _groups(me.sectors)
    shared = [
        [g for g in my_groups if any(h == g for h, _ in _groups_of(tuple(o.sectors)))]
        if my_groups
        else []
        for o in others
    ]
    sectors = np.array([len(g) / len(my_groups) if my_groups else 0.0 for g in shared])
    scores = (
        WEIGHTS["profile"] * profile
        + WEIGHTS["complement"] * complement
        + WEIGHTS["sectors"] * sectors
    )
    rounded = np.round(scores, 12).tolist()
    order = sorted(
        _top(scores, rounded, limit),
        key=lambda i: (-rounded[i], others[i].name.lower(), others[i].id),
    )[:limit]
    suggestions = []
    for i in order:
        components = {
            "profile": float(profile[i]),
            "complement": float(complement[i]),
            "sectors": float(sectors[i]),
        }
        reasons = []
        if shared[i]:
            reasons.append("both in " + ", ".join(shared[i]))
        if i in pairs and complement[i] >= MIN_EXPLAINED:
            my_post, their_post = pairs[i]
            reasons.append(
                f"your {my_post.kind} '{my_post.title}' matches their "
                f"{their_post.kind} '{their_post.title}'"
            )
        if profile[i] >= MIN_EXPLAINED:
            words = _shared_words(vectoriser, my_vector, matrix[i])
            if words:
                reasons.append("similar profiles (" + ", ".join(words) + ")")
        suggestions.append(
            OrganisationSuggestion(
                others[i].id, others[i].name, float(scores[i]), components, reasons
            )
        )
    return suggestions


def rank_posts(
    me: Profile,
    posts: Sequence[PostDoc],
    vectoriser: TfidfVectorizer,
    *,
    limit: int = 10,
    post_matrix: Any = None,
) -> list[PostSuggestion]:
    """Open posts of other organisations ranked for ``me``, best first, ties by title then id;
    zero scores left out. ``post_matrix``: the vectors of the posts' texts if known."""
    if any(p.organisation_id == me.id for p in posts):
        posts = [p for p in posts if p.organisation_id != me.id]
        post_matrix = None
    if not posts:
        return []
    matrix = (
        post_matrix if post_matrix is not None else vectoriser.transform([p.text for p in posts])
    )
    my_vector = vectoriser.transform([me.text])
    profile = (matrix @ my_vector.T).toarray().ravel()
    complement, which = _complements(vectoriser, me.posts, posts, matrix)
    scores = POST_WEIGHTS["profile"] * profile + POST_WEIGHTS["complement"] * complement
    rounded = np.round(scores, 12).tolist()
    order = sorted(
        _top(scores, rounded, limit),
        key=lambda i: (-rounded[i], posts[i].title.lower(), posts[i].id),
    )[:limit]
    suggestions = []
    for i in order:
        post = posts[i]
        reasons = []
        if which[i] >= 0 and complement[i] >= MIN_EXPLAINED:
            mine = me.posts[which[i]]
            reasons.append(f"your {mine.kind} '{mine.title}' matches this {post.kind}")
        if profile[i] >= MIN_EXPLAINED:
            words = _shared_words(vectoriser, my_vector, matrix[i])
            if words:
                reasons.append("close to your profile (" + ", ".join(words) + ")")
        components = {"profile": float(profile[i]), "complement": float(complement[i])}
        suggestions.append(
            PostSuggestion(
                post.id,
                post.organisation_id,
                post.title,
                post.kind,
                float(scores[i]),
                components,
                reasons,
            )
        )
    return suggestions


# ---- from the database, with a per-process cache ----------------------------------------------


@dataclass
class Recommendations:
    organisation: Organisation
    organisations: list[OrganisationSuggestion]
    posts: list[PostSuggestion]


@dataclass
class _Corpus:
    vectoriser: TfidfVectorizer
    profiles: list[Profile]
    profile_matrix: Any
    posts: list[PostDoc]
    post_matrix: Any


_cache: dict[Any, _Corpus] = {}
_lock = threading.Lock()
CACHE_SIZE = 4


def managed_organisations(session: Session, user: User) -> list[Organisation]:
    """The organisations ``user`` manages, by name."""
    return list(
        session.scalars(
            select(Organisation)
            .join(OrganisationManager, OrganisationManager.organisation_id == Organisation.id)
            .where(OrganisationManager.user_id == user.id)
            .order_by(func.lower(Organisation.name), Organisation.id)
        )
    )


def _open_posts(now: datetime) -> Any:
    return (
        select(Post)
        .join(Organisation, Organisation.id == Post.organisation_id)
        .where(
            Organisation.status == OrganisationStatus.published,
            Post.closed_at.is_(None),
            Post.expires_at > now,
        )
    )


def _version(session: Session, now: datetime) -> tuple[Any, ...]:
    """A cheap version of the data: counts and latest changes of profiles and posts."""
    orgs = session.execute(
        select(func.count(), func.max(Organisation.updated_at)).where(
            Organisation.status == OrganisationStatus.published
        )
    ).one()
    posts = session.execute(select(func.count(), func.max(Post.updated_at))).one()
    bind = session.get_bind()
    url = getattr(bind, "engine", bind).url
    return (str(url), now.date(), *orgs, *posts)


def _doc(post: Post) -> PostDoc:
    return PostDoc(post.id, post.organisation_id, post.kind.value, post.title, post_text(post))


def _profile(organisation: Organisation, posts: Sequence[PostDoc] = ()) -> Profile:
    return Profile(
        id=organisation.id,
        name=organisation.name,
        text=profile_text(organisation),
        sectors=tuple(f"{s.scheme} {s.code}" for s in organisation.sectors),
        posts=tuple(posts),
    )


def _corpus(session: Session, now: datetime) -> _Corpus:
    key = _version(session, now)
    with _lock:
        if key in _cache:
            return _cache[key]
    posts = [_doc(p) for p in session.scalars(_open_posts(now).order_by(Post.id))]
    by_org: dict[int, list[PostDoc]] = {}
    for post in posts:
        by_org.setdefault(post.organisation_id, []).append(post)
    published = Organisation.status == OrganisationStatus.published
    sectors: dict[int, list[tuple[str, str, str]]] = {}
    for org_id, scheme, code, title in session.execute(
        select(
            OrganisationSector.organisation_id,
            OrganisationSector.scheme,
            OrganisationSector.code,
            OrganisationSector.title,
        )
        .join(Organisation, Organisation.id == OrganisationSector.organisation_id)
        .where(published)
        .order_by(OrganisationSector.scheme, OrganisationSector.code)
    ):
        sectors.setdefault(org_id, []).append((scheme, code, title))
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.description,
            Organisation.keywords,
            Organisation.value_chains,
            Organisation.emerging_industries,
            Organisation.s3_priorities,
        )
        .where(published)
        .order_by(Organisation.id)
    )
    profiles = [
        Profile(
            id=org_id,
            name=name,
            text=_text(description, lists, [(c, t) for _, c, t in sectors.get(org_id, [])]),
            sectors=tuple(f"{scheme} {code}" for scheme, code, _ in sectors.get(org_id, [])),
            posts=tuple(by_org.get(org_id, ())),
        )
        for org_id, name, description, *lists in rows
    ]
    texts = [p.text for p in profiles] + [p.text for p in posts]
    vectoriser, matrix = _fit_transform(texts)
    corpus = _Corpus(
        vectoriser=vectoriser,
        profiles=profiles,
        profile_matrix=matrix[: len(profiles)] if profiles else None,
        posts=posts,
        post_matrix=matrix[len(profiles) :] if posts else None,
    )
    with _lock:
        while len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = corpus
    return corpus


def recommend(
    session: Session,
    *,
    organisation: Organisation,
    limit: int = 10,
    now: datetime | None = None,
) -> Recommendations:
    """Published organisations and open posts ranked for ``organisation`` (the caller checks
    that the user manages it)."""
    now = now or utcnow()
    corpus = _corpus(session, now)
    my_posts = [
        _doc(p)
        for p in session.scalars(
            select(Post).where(
                Post.organisation_id == organisation.id,
                Post.closed_at.is_(None),
                Post.expires_at > now,
            )
        )
    ]
    me = _profile(organisation, my_posts)
    keep = [i for i, p in enumerate(corpus.profiles) if p.id != organisation.id]
    others = [corpus.profiles[i] for i in keep]
    row = {p.id: i for i, p in enumerate(corpus.posts)}
    their_rows = [row[p.id] for o in others for p in o.posts]
    ranked = rank_organisations(
        me,
        others,
        corpus.vectoriser,
        limit=limit,
        profile_matrix=corpus.profile_matrix[keep] if others else None,
        post_matrix=corpus.post_matrix[their_rows] if their_rows else None,
    )
    post_keep = [i for i, p in enumerate(corpus.posts) if p.organisation_id != organisation.id]
    posts = rank_posts(
        me,
        [corpus.posts[i] for i in post_keep],
        corpus.vectoriser,
        limit=limit,
        post_matrix=corpus.post_matrix[post_keep] if post_keep else None,
    )
    return Recommendations(organisation=organisation, organisations=ranked, posts=posts)
