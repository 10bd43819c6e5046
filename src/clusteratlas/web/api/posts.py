"""``/api/posts``: cooperation offers and requests: list, read, create, edit, close, follow,
express interest, and (for the organisation's managers) who is interested.

Reads are scoped by :func:`~clusteratlas.collaboration.posts.visible_post` and
:func:`~clusteratlas.collaboration.posts.list_posts`: a post you may not see answers 404, like
an unknown id. Writes call the verbs of :mod:`clusteratlas.collaboration.posts`, which check
permission (403) and input (422). The request and response bodies are defined here, with the
conventions of :mod:`clusteratlas.web.api.schemas`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration import posts as verbs
from clusteratlas.collaboration.models import Post, PostCategory, PostInterest, PostKind, User
from clusteratlas.collaboration.queries import visible_organisation
from clusteratlas.web.api.deps import MAX_ID, CurrentUser, OptionalUser, SessionDep, SettingsDep
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.api.schemas import Line, Text

__all__ = [
    "InterestCreate",
    "InterestPublic",
    "InterestsPublic",
    "PostCreate",
    "PostPublic",
    "PostUpdate",
    "PostsPublic",
    "router",
]

router = APIRouter(prefix="/posts", tags=["posts"])

MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
_WRITE = error_responses(401, 403, 404)

PostId = Annotated[int, Path(ge=1, le=MAX_ID, description="the post's id")]
Keywords = Annotated[list[Line], Field(max_length=100, description="at most 30 are accepted")]


# ---- schemas -----------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PostCreate(_Input):
    organisation_id: int = Field(ge=1, le=MAX_ID, description="a published profile you manage")
    kind: PostKind
    category: PostCategory
    title: Line = Field(description="at most 200 characters")
    body: Text = Field(default="", description="at most 10,000 characters")
    keywords: Keywords = []
    expires_at: AwareDatetime = Field(description="in the future, at most a year ahead")


class PostUpdate(_Input):
    """The fields to change; fields left out keep their value."""

    kind: PostKind | None = None
    category: PostCategory | None = None
    title: Line | None = None
    body: Text | None = None
    keywords: Keywords | None = None
    expires_at: AwareDatetime | None = None


class PostOrganisation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    country: str


class PostPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation: PostOrganisation
    kind: PostKind
    category: PostCategory
    title: str
    body: str
    keywords: list[str]
    expires_at: datetime
    closed_at: datetime | None
    is_open: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, post: Post) -> PostPublic:
        return cls.model_validate(
            {
                **{name: getattr(post, name) for name in cls.model_fields if name != "is_open"},
                "organisation": PostOrganisation.model_validate(post.organisation),
                "is_open": verbs.is_open(post),
            }
        )


class PostsPublic(BaseModel):
    data: list[PostPublic]
    count: int = Field(description="how many posts match in all pages")


class InterestCreate(_Input):
    message: Text = Field(description="what you offer or look for (at most 2,000 characters)")
    organisation_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="an organisation you manage (default: your first published one)",
    )


class InterestPublic(BaseModel):
    id: int
    post_id: int
    user_email: str
    organisation_id: int | None
    organisation_name: str | None
    message: str
    created_at: datetime

    @classmethod
    def of(cls, interest: PostInterest) -> InterestPublic:
        organisation = interest.organisation
        return cls(
            id=interest.id,
            post_id=interest.post_id,
            user_email=interest.user.email,
            organisation_id=organisation.id if organisation is not None else None,
            organisation_name=organisation.name if organisation is not None else None,
            message=interest.message,
            created_at=interest.created_at,
        )


class InterestsPublic(BaseModel):
    data: list[InterestPublic]
    count: int


class FollowPublic(BaseModel):
    post_id: int
    following: bool


# ---- routes ------------------------------------------------------------------------------


def _post_or_404(session: Session, viewer: User | None, post_id: int) -> Post:
    post = verbs.visible_post(session, viewer=viewer, post_id=post_id)
    if post is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no post with this id")
    return post


@router.get("", responses=error_responses(401), summary="List posts")
def list_(
    session: SessionDep,
    viewer: OptionalUser,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")] = 0,
    kind: Annotated[PostKind | None, Query()] = None,
    category: Annotated[PostCategory | None, Query()] = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="the organisation's country, e.g. DE"),
    ] = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    include_closed: Annotated[
        bool, Query(description="also the closed and expired posts of organisations you manage")
    ] = False,
) -> PostsPublic:
    """Open posts of published organisations, newest first."""
    rows, count = verbs.list_posts(
        session,
        viewer=viewer,
        kind=kind,
        category=category,
        country=country,
        organisation_id=organisation_id,
        include_closed=include_closed,
        limit=limit,
        offset=offset,
    )
    return PostsPublic(data=[PostPublic.of(row) for row in rows], count=count)


@router.get("/{post_id}", responses=error_responses(401, 404), summary="Read a post")
def read(session: SessionDep, viewer: OptionalUser, post_id: PostId) -> PostPublic:
    """An open post of a published organisation; closed and expired posts for the
    organisation's managers only (404 for others)."""
    return PostPublic.of(_post_or_404(session, viewer, post_id))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403),
    summary="Create an offer or a request",
)
def create(body: PostCreate, session: SessionDep, user: CurrentUser) -> PostPublic:
    """For a published organisation you manage (administrators: any)."""
    organisation = visible_organisation(session, viewer=user, organisation_id=body.organisation_id)
    if organisation is None:  # unknown, or a draft of someone else: not revealed
        raise ValidationError({"organisation_id": "no organisation with this id"})
    values = body.model_dump(exclude={"organisation_id"})
    post = verbs.create_post(session, actor=user, organisation=organisation, **values)
    return PostPublic.of(post)


@router.patch("/{post_id}", responses=_WRITE, summary="Edit a post")
def update(
    user: CurrentUser,
    post_id: PostId,
    body: PostUpdate,
    session: SessionDep,
    settings: SettingsDep,
) -> PostPublic:
    """Change the fields given (managers of the organisation, administrators); not on closed
    posts. Followers are notified."""
    post = _post_or_404(session, user, post_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("kind", "category", "title", "body", "keywords", "expires_at"):
        if field in changes and changes[field] is None:
            raise ValidationError({field: "give a value or leave the field out"})
    verbs.update_post(session, actor=user, post=post, base_url=settings.public_url, **changes)
    return PostPublic.of(post)


@router.post("/{post_id}/close", responses=_WRITE, summary="Close a post")
def close(
    user: CurrentUser, post_id: PostId, session: SessionDep, settings: SettingsDep
) -> PostPublic:
    """The post is no longer open; followers are notified."""
    post = _post_or_404(session, user, post_id)
    verbs.close_post(session, actor=user, post=post, base_url=settings.public_url)
    return PostPublic.of(post)


@router.post("/{post_id}/follow", responses=_WRITE, summary="Follow a post")
def follow(user: CurrentUser, post_id: PostId, session: SessionDep) -> FollowPublic:
    """Be told when the post changes or closes (members; not your own organisation's)."""
    post = _post_or_404(session, user, post_id)
    verbs.follow(session, actor=user, post=post)
    return FollowPublic(post_id=post.id, following=True)


@router.delete(
    "/{post_id}/follow",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_WRITE,
    summary="Stop following a post",
)
def unfollow(user: CurrentUser, post_id: PostId, session: SessionDep) -> Response:
    post = _post_or_404(session, user, post_id)
    verbs.unfollow(session, actor=user, post=post)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{post_id}/interest",
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
    summary="Express interest in a post",
)
def express_interest(
    user: CurrentUser,
    post_id: PostId,
    body: InterestCreate,
    session: SessionDep,
    settings: SettingsDep,
) -> InterestPublic:
    """Once per post, on open posts of other organisations. The organisation's managers get a
    notification and an e-mail."""
    post = _post_or_404(session, user, post_id)
    interest = verbs.express_interest(
        session,
        actor=user,
        post=post,
        message=body.message,
        organisation_id=body.organisation_id,
        base_url=settings.public_url,
    )
    return InterestPublic.of(interest)


@router.get("/{post_id}/interests", responses=_WRITE, summary="Who is interested (managers)")
def list_interests(user: CurrentUser, post_id: PostId, session: SessionDep) -> InterestsPublic:
    """The people who expressed interest, oldest first: for the organisation's managers and
    administrators only."""
    post = _post_or_404(session, user, post_id)
    rows = verbs.interests(session, actor=user, post=post)
    return InterestsPublic(data=[InterestPublic.of(row) for row in rows], count=len(rows))
