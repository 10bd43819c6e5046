"""JSON API: full-text search with facets, saved searches and "partners for you".

| route | who |
| --- | --- |
| ``GET /api/search/organisations`` | anyone (what the caller may see) |
| ``GET /api/search/posts`` | anyone (open posts of visible organisations) |
| ``GET /api/saved-searches``, ``POST``, ``DELETE /api/saved-searches/{id}`` | members |
| ``GET /api/recommendations?organisation_id=`` | the organisation's managers, administrators |
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.models import Organisation, Post, SavedSearch
from clusteratlas.collaboration.organisations import manager_ids
from clusteratlas.collaboration.permissions import can_see_recommendations
from clusteratlas.collaboration.recommend import managed_organisations, recommend
from clusteratlas.collaboration.saved_searches import (
    create_saved_search,
    delete_saved_search,
    list_saved_searches,
    search_url,
)
from clusteratlas.collaboration.search import (
    ORGANISATION_SORTS,
    POST_SORTS,
    SearchPage,
    check_organisation_search,
    check_post_search,
    search_organisations,
    search_posts,
)
from clusteratlas.web.api.deps import MAX_ID, CurrentUser, OptionalUser, SessionDep
from clusteratlas.web.api.errors import error_responses

__all__ = ["router"]

router = APIRouter(tags=["search"])

MAX_Q = 200
Q = Annotated[str, Query(max_length=MAX_Q, description="words to find (the last as a prefix)")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Facet = Annotated[
    list[Annotated[str, Field(max_length=40)]] | None,
    Query(max_length=20, description="repeat for several values (any matches)"),
]


class FacetValue(BaseModel):
    value: str
    count: int


class OrganisationHit(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    acronym: str | None
    type: str
    country: str
    region_code: str | None
    city: str | None
    quality_label: str | None
    published_at: datetime | None


class OrganisationHits(BaseModel):
    data: list[OrganisationHit]
    count: int = Field(description="matches in all")
    facets: dict[str, list[FacetValue]]


class PostHit(BaseModel):
    id: int
    title: str
    kind: str
    category: str
    organisation_id: int
    organisation_name: str
    country: str
    created_at: datetime
    expires_at: datetime


class PostHits(BaseModel):
    data: list[PostHit]
    count: int
    facets: dict[str, list[FacetValue]]


def _facets(page: SearchPage) -> dict[str, list[FacetValue]]:
    return {
        name: [FacetValue(value=v, count=n) for v, n in pairs]
        for name, pairs in page.facets.items()
    }


def _organisation_hit(organisation: Organisation) -> OrganisationHit:
    label = organisation.quality_label
    return OrganisationHit(
        id=organisation.id,
        name=organisation.name,
        acronym=organisation.acronym,
        type=organisation.type.value,
        country=organisation.country,
        region_code=organisation.region_code,
        city=organisation.city,
        quality_label=label.value if label is not None else None,
        published_at=organisation.published_at,
    )


def _post_hit(post: Post) -> PostHit:
    return PostHit(
        id=post.id,
        title=post.title,
        kind=post.kind.value,
        category=post.category.value,
        organisation_id=post.organisation_id,
        organisation_name=post.organisation.name,
        country=post.organisation.country,
        created_at=post.created_at,
        expires_at=post.expires_at,
    )


@router.get(
    "/search/organisations", response_model=OrganisationHits, responses=error_responses(401)
)
def search_organisations_route(
    session: SessionDep,
    user: OptionalUser,
    q: Q = "",
    country: Facet = None,
    region: Facet = None,
    type: Facet = None,  # noqa: A002 - the facet's name
    sector: Facet = None,
    label: Facet = None,
    sort: Annotated[str, Query(description=" | ".join(ORGANISATION_SORTS))] = "relevance",
    limit: Limit = 20,
    offset: Offset = 0,
) -> OrganisationHits:
    """Organisations matching the words and the facet filters, with facet counts (each facet
    counted without its own filter)."""
    filters = {"country": country, "region": region, "type": type, "sector": sector}
    errors = check_organisation_search(**filters, label=label, sort=sort)
    if errors:
        raise ValidationError(errors)
    page = search_organisations(
        session,
        viewer=user,
        q=q,
        **filters,
        label=label,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return OrganisationHits(
        data=[_organisation_hit(o) for o in page.items], count=page.total, facets=_facets(page)
    )


@router.get("/search/posts", response_model=PostHits, responses=error_responses(401))
def search_posts_route(
    session: SessionDep,
    user: OptionalUser,
    q: Q = "",
    kind: Facet = None,
    category: Facet = None,
    country: Facet = None,
    sort: Annotated[str, Query(description=" | ".join(POST_SORTS))] = "relevance",
    limit: Limit = 20,
    offset: Offset = 0,
) -> PostHits:
    """Open posts matching the words and the filters, with facet counts."""
    errors = check_post_search(kind=kind, category=category, country=country, sort=sort)
    if errors:
        raise ValidationError(errors)
    page = search_posts(
        session,
        viewer=user,
        q=q,
        kind=kind,
        category=category,
        country=country,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return PostHits(data=[_post_hit(p) for p in page.items], count=page.total, facets=_facets(page))


# ---- saved searches -------------------------------------------------------------------------


class SavedSearchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    query: dict[str, str | list[Annotated[str, Field(max_length=40)]]] = Field(
        default_factory=dict,
        max_length=20,
        description="the search's parameters: kind (organisations or posts), q, sort and the "
        "facets (kind_ is the post kind)",
    )

    @field_validator("name")
    @classmethod
    def _storable_name(cls, value: str) -> str:
        return _storable(value)

    @field_validator("query")
    @classmethod
    def _storable_query(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            _storable(key)
            for text in item if isinstance(item, list) else [item]:
                _storable(text)
        return value


def _storable(value: str) -> str:
    """Text any database can store: no NUL, valid UTF-8 (no lone surrogates)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text") from None
    return value


class SavedSearchPublic(BaseModel):
    id: int
    name: str
    query: dict[str, Any]
    url: str
    created_at: datetime
    notified_at: datetime


class SavedSearchesPublic(BaseModel):
    data: list[SavedSearchPublic]
    count: int


def _saved_public(row: SavedSearch) -> SavedSearchPublic:
    return SavedSearchPublic(
        id=row.id,
        name=row.name,
        query=row.query,
        url=search_url(row.query),
        created_at=row.created_at,
        notified_at=row.notified_at,
    )


@router.get("/saved-searches", response_model=SavedSearchesPublic, responses=error_responses(401))
def saved_searches(session: SessionDep, user: CurrentUser) -> SavedSearchesPublic:
    """Your saved searches, newest first."""
    rows = list_saved_searches(session, user=user)
    return SavedSearchesPublic(data=[_saved_public(r) for r in rows], count=len(rows))


@router.post(
    "/saved-searches",
    response_model=SavedSearchPublic,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403),
)
def save_search(
    body: SavedSearchCreate, session: SessionDep, user: CurrentUser
) -> SavedSearchPublic:
    """Save a search; its new matches will be e-mailed to you (at most 20 saved searches)."""
    row = create_saved_search(session, actor=user, name=body.name, query=body.query)
    return _saved_public(row)


@router.delete(
    "/saved-searches/{saved_search_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
def unsave_search(
    session: SessionDep,
    user: CurrentUser,
    saved_search_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Delete one of your saved searches (another user's answers 404)."""
    row = session.get(SavedSearch, saved_search_id)
    if row is None or (row.user_id != user.id and not user.is_admin):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no saved search with this id")
    delete_saved_search(session, actor=user, saved_search=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- recommendations ------------------------------------------------------------------------


class Suggestion(BaseModel):
    id: int
    name: str
    score: float
    components: dict[str, float]
    explanation: str


class PostSuggestionPublic(BaseModel):
    id: int
    title: str
    kind: str
    organisation_id: int
    score: float
    components: dict[str, float]
    explanation: str


class RecommendationsPublic(BaseModel):
    organisation_id: int
    organisations: list[Suggestion]
    posts: list[PostSuggestionPublic]


@router.get(
    "/recommendations",
    response_model=RecommendationsPublic,
    responses=error_responses(401, 403, 404),
)
def recommendations(
    session: SessionDep,
    user: CurrentUser,
    organisation_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="one of your organisations (default: the first)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> RecommendationsPublic:
    """Organisations and open posts suggested for one of your organisations, with the score's
    components (profile, complement, sectors) and why."""
    if organisation_id is None:
        mine = managed_organisations(session, user)
        if not mine:
            raise ValidationError({"organisation_id": "you manage no organisation"})
        organisation = mine[0]
    else:
        found = session.get(Organisation, organisation_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no organisation with this id")
        organisation = found
    if not can_see_recommendations(user, manager_ids(session, organisation)):
        raise PermissionDenied("Suggestions are shown to the organisation's managers.")
    result = recommend(session, organisation=organisation, limit=limit)
    return RecommendationsPublic(
        organisation_id=organisation.id,
        organisations=[
            Suggestion(
                id=s.organisation_id,
                name=s.name,
                score=s.score,
                components=s.components,
                explanation=s.explanation,
            )
            for s in result.organisations
        ],
        posts=[
            PostSuggestionPublic(
                id=p.post_id,
                title=p.title,
                kind=p.kind,
                organisation_id=p.organisation_id,
                score=p.score,
                components=p.components,
                explanation=p.explanation,
            )
            for p in result.posts
        ],
    )
