"""Full-text search of organisations and posts, with facets, sorting and pagination.

The text indexes are kept by the database (migration ``f7ebce1c3bff``): FTS5 tables on SQLite,
``tsvector`` tables with a GIN index on PostgreSQL, both filled by triggers. The user's text is
never handed to either query language as is: it is cut into words (letters and digits), each
word is quoted, all words must match and the last one matches as a prefix (``batt`` finds
*battery*), so ``"``, ``*``, ``NEAR``, ``-`` or ``:`` are just separators.

Facets are *disjunctive*: the counts of a facet are computed over the matches of the query and
of every other facet's filter, ignoring that facet's own filter, so that choosing ``country=DE``
still shows how many results the other countries would give. Each facet filter takes one or
more values (any of them matches). The sector facet groups codes by their first three
characters (NACE division ``C27``, NAICS subsector ``335``; NAICS range sectors such as
``31-33`` whole), and a sector filter matches codes by prefix (``C27`` matches ``C27`` and
``C27.1``).

Visibility is :func:`~clusteratlas.collaboration.queries.visible_to`; posts are shown while open
(not closed, not expired) and when their organisation is visible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    case,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, load_only

from clusteratlas.collaboration import ValidationError, search_index
from clusteratlas.collaboration.models import (
    Organisation,
    OrganisationSector,
    OrganisationStatus,
    OrganisationType,
    Post,
    PostCategory,
    PostKind,
    QualityLabel,
    User,
    utcnow,
)
from clusteratlas.collaboration.queries import visible_to

__all__ = [
    "MAX_FACET_VALUES",
    "MAX_WORDS",
    "ORGANISATION_FACETS",
    "ORGANISATION_SORTS",
    "POST_FACETS",
    "POST_SORTS",
    "SECTOR_CODE",
    "SearchPage",
    "check_organisation_search",
    "check_post_search",
    "fts_words",
    "open_posts",
    "search_organisations",
    "search_posts",
]

#: words of a query used at most (more are ignored), and their length
MAX_WORDS = 12
MAX_WORD_LENGTH = 60
#: values shown per facet (the most frequent)
MAX_FACET_VALUES = 30
ORGANISATION_FACETS = ("country", "region", "type", "sector", "label")
POST_FACETS = ("kind", "category", "country")
ORGANISATION_SORTS = ("relevance", "name", "newest")
POST_SORTS = ("relevance", "newest", "expiry")
#: a NACE code (``C``, ``C27``, ``C27.1``) or a NAICS code (``3359``), for the sector filter
SECTOR_CODE = re.compile(r"^(?:[A-Z]?[0-9]{0,6}(\.[0-9]{1,3}){0,2}|[0-9]{2}-[0-9]{2})$")
_WORD = re.compile(r"[^\W_]+")

OrgSort = Literal["relevance", "name", "newest"]
PostSort = Literal["relevance", "newest", "expiry"]
Values = str | Sequence[str] | None


@dataclass
class SearchPage:
    """One page of results: ``items`` (organisations or posts), ``total`` matches in all and
    ``facets``: facet → ``[(value, count)]``, most frequent first."""

    items: list[Any]
    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def fts_words(q: str) -> list[str]:
    """The words of a query: lower-cased runs of letters and digits, at most :data:`MAX_WORDS`
    (only these ever reach the text index)."""
    words = [w[:MAX_WORD_LENGTH] for w in _WORD.findall(q.lower())]
    return words[:MAX_WORDS]


def _values(values: Values) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [v for v in dict.fromkeys(v.strip() for v in values) if v]


def _match(session: Session, table: str, words: list[str], weights: str) -> Any:
    """A subquery ``(id, score)`` of the rows of ``table`` (an ``*_fts`` index) whose document
    has every word (the last as a prefix); a higher score is a better match."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        expression = " ".join(f'"{w}"' for w in words) + "*"
        statement = text(
            f"SELECT rowid AS id, -bm25({table}, {weights}) AS score "
            f"FROM {table} WHERE {table} MATCH :q"
        ).bindparams(q=expression)
    else:
        expression = " & ".join(f"'{w}'" for w in words) + ":*"
        statement = text(
            f"SELECT t.id AS id, ts_rank(t.document, query) AS score "
            f"FROM {table} t, to_tsquery('simple', :q) query WHERE t.document @@ query"
        ).bindparams(q=expression)
    return statement.columns(id=Integer, score=Float).subquery("matches")


def _match_ids(session: Session, table: str, words: list[str]) -> Any:
    """The ids of the rows of ``table`` whose document has every word (no score: cheaper)."""
    if session.get_bind().dialect.name == "sqlite":
        expression = " ".join(f'"{w}"' for w in words) + "*"
        statement = text(f"SELECT rowid AS id FROM {table} WHERE {table} MATCH :q")
    else:
        expression = " & ".join(f"'{w}'" for w in words) + ":*"
        statement = text(f"SELECT id FROM {table} WHERE document @@ to_tsquery('simple', :q)")
    return statement.bindparams(q=expression).columns(id=Integer)


# ---- organisations --------------------------------------------------------------------------


def _sector_filter(codes: list[str]) -> ColumnElement[bool]:
    return exists().where(
        OrganisationSector.organisation_id == Organisation.id,
        or_(*(OrganisationSector.code.startswith(code, autoescape=True) for code in codes)),
    )


def _organisation_filters(
    *,
    country: list[str],
    region: list[str],
    type: list[str],  # noqa: A002 - the facet's name
    sector: list[str],
    label: list[str],
) -> dict[str, ColumnElement[bool]]:
    filters: dict[str, ColumnElement[bool]] = {}
    if country:
        filters["country"] = Organisation.country.in_([c.upper() for c in country])
    if region:
        filters["region"] = Organisation.region_code.in_(region)
    if type:
        filters["type"] = Organisation.type.in_([OrganisationType(t) for t in type])
    if sector:
        filters["sector"] = _sector_filter([s.upper() for s in sector])
    if label:
        filters["label"] = Organisation.quality_label.in_([QualityLabel(v) for v in label])
    return filters


#: the facets counted from the organisations' own columns (the sector facet has its query)
_ORG_COLUMNS = {
    "country": Organisation.country,
    "region": Organisation.region_code,
    "type": Organisation.type,
    "label": Organisation.quality_label,
}


def _sorted_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    pairs = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return pairs[:MAX_FACET_VALUES]


def _grouped_counts(
    session: Session, conditions: list[ColumnElement[bool]]
) -> tuple[dict[str, dict[str, int]], int]:
    """Counts per value of every column facet, in one grouped query, and the total."""
    columns = list(_ORG_COLUMNS.values())
    rows = session.execute(
        select(*columns, func.count()).where(*conditions).group_by(*columns)
    ).all()
    counts: dict[str, dict[str, int]] = {facet: {} for facet in _ORG_COLUMNS}
    total = 0
    for *values, n in rows:
        total += n
        for facet, value in zip(_ORG_COLUMNS, values, strict=True):
            if value is not None:
                key = str(getattr(value, "value", value))
                counts[facet][key] = counts[facet].get(key, 0) + n
    return counts, total


def _sector_counts(session: Session, conditions: list[ColumnElement[bool]]) -> dict[str, int]:
    # NAICS sectors that are ranges ("31-33") stay whole; other codes by their first three
    # characters (NACE division C27, NAICS subsector 335)
    code = OrganisationSector.code
    value = case((code.like("__-%"), code), else_=func.substr(code, 1, 3))
    rows = session.execute(
        select(value, func.count(func.distinct(OrganisationSector.organisation_id)))
        .join(Organisation, Organisation.id == OrganisationSector.organisation_id)
        .where(*conditions)
        .group_by(value)
    ).all()
    return {str(v): int(n) for v, n in rows if v is not None}


def check_organisation_search(
    *,
    country: Values = None,
    region: Values = None,
    type: Values = None,  # noqa: A002 - the facet's name
    sector: Values = None,
    label: Values = None,
    sort: str = "relevance",
) -> dict[str, str]:
    """Messages for the parameters that are not valid (field → message); empty if all are."""
    errors: dict[str, str] = {}
    if any(not re.fullmatch(r"[A-Za-z]{2}", c) for c in _values(country)):
        errors["country"] = "give two-letter country codes such as DE or FR"
    if any(len(r) > 16 or not re.fullmatch(r"[A-Za-z0-9_.-]+", r) for r in _values(region)):
        errors["region"] = "give region codes such as DE21 (letters, digits, at most 16)"
    if any(t not in OrganisationType.__members__ for t in _values(type)):
        errors["type"] = "choose types from: " + ", ".join(OrganisationType.__members__)
    if any(len(s) > 16 or not SECTOR_CODE.match(s.upper()) for s in _values(sector)):
        errors["sector"] = "give NACE or NAICS codes such as C27, C27.1 or 3359"
    if any(v not in QualityLabel.__members__ for v in _values(label)):
        errors["label"] = "choose labels from: bronze, silver, gold"
    if sort not in ORGANISATION_SORTS:
        errors["sort"] = "sort by relevance, name or newest"
    return errors


def search_organisations(
    session: Session,
    *,
    viewer: User | None,
    q: str = "",
    country: Values = None,
    region: Values = None,
    type: Values = None,  # noqa: A002 - the facet's name
    sector: Values = None,
    label: Values = None,
    sort: OrgSort | str = "relevance",
    limit: int = 20,
    offset: int = 0,
    published_after: datetime | None = None,
    facets: bool = True,
    in_memory: bool = True,
) -> SearchPage:
    """Organisations ``viewer`` may see that match the words of ``q`` and the facet filters.
    ``sort``: relevance (the best text match first; by name without words), name or newest
    (latest published first). Ties are broken by name then id. ``published_after`` keeps the
    profiles published later (saved-search notifications). Invalid parameters raise
    ``ValueError`` (check them with :func:`check_organisation_search` first).

    Filters, facet counts and sorting use the process's in-memory index
    (:mod:`~clusteratlas.collaboration.search_index`); ``in_memory=False`` asks the database
    for all of it instead (the reference the index is tested against; also used with
    ``published_after``)."""
    errors = check_organisation_search(
        country=country, region=region, type=type, sector=sector, label=label, sort=sort
    )
    if errors:
        raise ValidationError(errors)
    words = fts_words(q)
    if in_memory and published_after is None:
        index = search_index.current_index(session)
        if index is not None:
            return _search_indexed(
                session,
                index,
                viewer=viewer,
                words=words,
                values={
                    "country": [c.upper() for c in _values(country)],
                    "region": _values(region),
                    "type": [OrganisationType(t).value for t in _values(type)],
                    "sector": [s.upper() for s in _values(sector)],
                    "label": [QualityLabel(v).value for v in _values(label)],
                },
                sort=sort,
                limit=limit,
                offset=offset,
                facets=facets,
            )
    filters = _organisation_filters(
        country=_values(country),
        region=_values(region),
        type=_values(type),
        sector=_values(sector),
        label=_values(label),
    )
    conditions: list[ColumnElement[bool]] = [visible_to(viewer)]
    if published_after is not None:
        conditions += [
            Organisation.status == OrganisationStatus.published,
            Organisation.published_at > published_after,
        ]
    matches = None
    if words:
        matches = _match(session, "organisations_fts", words, "10.0, 4.0, 2.0, 1.0")
        conditions.append(Organisation.id.in_(_match_ids(session, "organisations_fts", words)))
    every = [*conditions, *filters.values()]
    counted, total = _grouped_counts(session, every)
    name_order = (func.lower(Organisation.name), Organisation.id)
    query = select(Organisation).where(*every)
    if sort == "name" or (sort == "relevance" and matches is None):
        order: tuple[Any, ...] = name_order
    elif sort == "newest":
        order = (
            Organisation.published_at.is_(None),
            Organisation.published_at.desc(),
            *name_order,
        )
    else:
        assert matches is not None
        query = query.join(matches, matches.c.id == Organisation.id)
        order = (matches.c.score.desc(), *name_order)
    items = list(session.scalars(query.order_by(*order).limit(limit).offset(offset)))
    counts: dict[str, list[tuple[str, int]]] = {}
    if facets:
        for facet in ORGANISATION_FACETS:
            others = [*conditions, *(f for name, f in filters.items() if name != facet)]
            if facet == "sector":
                counts[facet] = _sorted_counts(_sector_counts(session, others))
            elif facet in filters:  # counted without its own filter
                counts[facet] = _sorted_counts(_grouped_counts(session, others)[0][facet])
            else:
                counts[facet] = _sorted_counts(counted[facet])
    return SearchPage(items=items, total=total, facets=counts)


#: the columns a result list shows (others, such as descriptions, load when read)
_LISTED = (
    Organisation.name,
    Organisation.acronym,
    Organisation.type,
    Organisation.country,
    Organisation.region_code,
    Organisation.city,
    Organisation.status,
    Organisation.quality_label,
    Organisation.published_at,
)


def _match_rows(
    session: Session, table: str, words: list[str], weights: str | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The ids of the rows of ``table`` matching ``words`` and, given ``weights``, their
    scores as :func:`_match` computes them."""
    if weights is None:
        ids = session.execute(_match_ids(session, table, words)).scalars().all()
        return np.asarray(ids, dtype=np.int64), None
    rows = session.execute(select(_match(session, table, words, weights))).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    scores = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    return ids, scores


def _search_indexed(
    session: Session,
    index: search_index.OrganisationIndex,
    *,
    viewer: User | None,
    words: list[str],
    values: dict[str, list[str]],
    sort: str,
    limit: int,
    offset: int,
    facets: bool,
) -> SearchPage:
    matches = None
    if words:
        weights = "10.0, 4.0, 2.0, 1.0" if sort == "relevance" else None
        matches = index.matches(
            (tuple(words), weights),
            lambda: _match_rows(session, "organisations_fts", words, weights),
        )
    result = search_index.search(
        session,
        index,
        viewer=viewer,
        matches=matches,
        filters={facet: wanted for facet, wanted in values.items() if wanted},
        sort=sort,
        limit=limit,
        offset=offset,
        facets=ORGANISATION_FACETS if facets else (),
    )
    listed = (
        select(Organisation).options(load_only(*_LISTED)).where(Organisation.id.in_(result.ids))
    )
    found = {o.id: o for o in session.scalars(listed)}
    return SearchPage(
        items=[found[i] for i in result.ids if i in found],
        total=result.total,
        facets={facet: _sorted_counts(c) for facet, c in result.counts.items()},
    )


# ---- posts ----------------------------------------------------------------------------------


def check_post_search(
    *,
    kind: Values = None,
    category: Values = None,
    country: Values = None,
    sort: str = "relevance",
) -> dict[str, str]:
    """Messages for the parameters that are not valid (field → message); empty if all are."""
    errors: dict[str, str] = {}
    if any(k not in PostKind.__members__ for k in _values(kind)):
        errors["kind"] = "choose offer or request"
    if any(c not in PostCategory.__members__ for c in _values(category)):
        errors["category"] = "choose categories from: " + ", ".join(PostCategory.__members__)
    if any(not re.fullmatch(r"[A-Za-z]{2}", c) for c in _values(country)):
        errors["country"] = "give two-letter country codes such as DE or FR"
    if sort not in POST_SORTS:
        errors["sort"] = "sort by relevance, newest or expiry"
    return errors


def _open_post_conditions(
    viewer: User | None, now: datetime | None = None
) -> tuple[ColumnElement[bool], ...]:
    return (visible_to(viewer), Post.closed_at.is_(None), Post.expires_at > (now or utcnow()))


def open_posts(viewer: User | None, now: datetime | None = None) -> Select[tuple[Post]]:
    """Open posts (not closed, not expired) of the organisations ``viewer`` may see."""
    return (
        select(Post)
        .join(Organisation, Organisation.id == Post.organisation_id)
        .where(*_open_post_conditions(viewer, now))
    )


def search_posts(
    session: Session,
    *,
    viewer: User | None,
    q: str = "",
    kind: Values = None,
    category: Values = None,
    country: Values = None,
    sort: PostSort | str = "relevance",
    limit: int = 20,
    offset: int = 0,
    created_after: datetime | None = None,
    now: datetime | None = None,
    facets: bool = True,
) -> SearchPage:
    """Open posts ``viewer`` may see that match the words of ``q`` and the filters (kind,
    category, the organisation's country). ``sort``: relevance (newest without words),
    newest or expiry (soonest first). Ties by title then id."""
    errors = check_post_search(kind=kind, category=category, country=country, sort=sort)
    if errors:
        raise ValidationError(errors)
    words = fts_words(q)
    filters: dict[str, ColumnElement[bool]] = {}
    if kinds := _values(kind):
        filters["kind"] = Post.kind.in_([PostKind(k) for k in kinds])
    if categories := _values(category):
        filters["category"] = Post.category.in_([PostCategory(c) for c in categories])
    if countries := _values(country):
        filters["country"] = Organisation.country.in_([c.upper() for c in countries])
    conditions = list(_open_post_conditions(viewer, now))
    if created_after is not None:
        conditions.append(Post.created_at > created_after)
    matches = None
    if words:
        matches = _match(session, "posts_fts", words, "10.0, 4.0, 1.0")
        conditions.append(Post.id.in_(_match_ids(session, "posts_fts", words)))
    every = [*conditions, *filters.values()]
    counted, total = _grouped_post_counts(session, every)
    title_order = (func.lower(Post.title), Post.id)
    query = select(Post).join(Organisation, Organisation.id == Post.organisation_id).where(*every)
    if sort == "expiry":
        order: tuple[Any, ...] = (Post.expires_at, *title_order)
    elif sort == "newest" or matches is None:
        order = (Post.created_at.desc(), *title_order)
    else:
        query = query.join(matches, matches.c.id == Post.id)
        order = (matches.c.score.desc(), *title_order)
    items = list(session.scalars(query.order_by(*order).limit(limit).offset(offset)))
    counts: dict[str, list[tuple[str, int]]] = {}
    if facets:
        for facet in POST_FACETS:
            if facet in filters:  # counted without its own filter
                others = [*conditions, *(f for name, f in filters.items() if name != facet)]
                counts[facet] = _sorted_counts(_grouped_post_counts(session, others)[0][facet])
            else:
                counts[facet] = _sorted_counts(counted[facet])
    return SearchPage(items=items, total=total, facets=counts)


_POST_COLUMNS = {"kind": Post.kind, "category": Post.category, "country": Organisation.country}


def _grouped_post_counts(
    session: Session, conditions: list[ColumnElement[bool]]
) -> tuple[dict[str, dict[str, int]], int]:
    columns = list(_POST_COLUMNS.values())
    rows = session.execute(
        select(*columns, func.count())
        .select_from(Post)
        .join(Organisation, Organisation.id == Post.organisation_id)
        .where(*conditions)
        .group_by(*columns)
    ).all()
    counts: dict[str, dict[str, int]] = {facet: {} for facet in _POST_COLUMNS}
    total = 0
    for *values, n in rows:
        total += n
        for facet, value in zip(_POST_COLUMNS, values, strict=True):
            key = str(getattr(value, "value", value))
            counts[facet][key] = counts[facet].get(key, 0) + n
    return counts, total
