"""Cooperation posts: offers and requests of published organisations, with an expiry; members
follow them or express interest, which notifies the organisation's managers.

Verbs take the acting user explicitly (``actor``), check permission with the predicates of
:mod:`clusteratlas.collaboration.permissions` (raising
:class:`~clusteratlas.collaboration.PermissionDenied`), then the lifecycle and the fields
(raising :class:`~clusteratlas.collaboration.ValidationError`), write an audit row and flush.
Notifications (:func:`~clusteratlas.collaboration.mail.notify`) are added in the same
transaction. The caller commits.

A post is *open* until it is closed or its expiry has passed. Reads (:func:`list_posts`,
:func:`visible_post`) show open posts of published organisations to everyone, and also the
closed and expired posts of the organisations a user manages (administrators: all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session, joinedload

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.mail import notify
from clusteratlas.collaboration.models import (
    Organisation,
    OrganisationManager,
    OrganisationStatus,
    Post,
    PostCategory,
    PostFollow,
    PostInterest,
    PostKind,
    User,
    utcnow,
)
from clusteratlas.collaboration.organisations import manager_ids
from clusteratlas.collaboration.permissions import (
    can_follow_post,
    can_manage_posts,
    can_view_post,
    is_member,
)

__all__ = [
    "CATEGORY_LABELS",
    "DEFAULT_EXPIRY",
    "EDITABLE_FIELDS",
    "KIND_LABELS",
    "MAX_AHEAD",
    "close_post",
    "create_post",
    "express_interest",
    "follow",
    "interest_of",
    "interests",
    "is_following",
    "is_open",
    "list_posts",
    "parse_keywords",
    "post_managers",
    "unfollow",
    "update_post",
    "visible_post",
]

MAX_TITLE = 200
MAX_BODY = 10_000
MAX_MESSAGE = 2_000
MAX_KEYWORDS = 30
MAX_KEYWORD = 100
#: the latest expiry: a year ahead (366 days, so that a date a year from today is accepted)
MAX_AHEAD = timedelta(days=366)
#: the expiry the page form proposes
DEFAULT_EXPIRY = timedelta(days=90)
EDITABLE_FIELDS = ("kind", "category", "title", "body", "keywords", "expires_at")
_ENTITY = "post"

KIND_LABELS: dict[str, str] = {PostKind.offer: "Offer", PostKind.request: "Request"}
CATEGORY_LABELS: dict[str, str] = {
    PostCategory.technology: "Technology",
    PostCategory.business: "Business",
    PostCategory.research_partner: "Research partner",
    PostCategory.funding_consortium: "Funding consortium",
    PostCategory.event: "Event",
}


def is_open(post: Post, *, now: datetime | None = None) -> bool:
    """Not closed and not expired."""
    return post.closed_at is None and post.expires_at > (now or utcnow())


def post_managers(session: Session, post: Post) -> set[int]:
    """The ids of the managers of the post's organisation."""
    return manager_ids(session, post.organisation)


# ---- field checks ------------------------------------------------------------------------


def parse_keywords(value: str | Iterable[str] | None) -> list[str]:
    """Keywords from a list, or from text with one per line or separated by commas: trimmed,
    blanks dropped, duplicates (whatever their case) dropped."""
    if value is None:
        return []
    items = value.replace("\n", ",").split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            raise ValidationError({"keywords": "give keywords as text"})
        text = " ".join(item.split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def _clean(values: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field == "kind":
            try:
                out[field] = PostKind(value)
            except ValueError:
                errors[field] = "choose offer or request"
        elif field == "category":
            try:
                out[field] = PostCategory(value)
            except ValueError:
                errors[field] = "choose one of " + ", ".join(c.value for c in PostCategory)
        elif field == "title":
            text = value.strip() if isinstance(value, str) else ""
            if not text:
                errors[field] = "this field is required"
            elif len(text) > MAX_TITLE:
                errors[field] = f"use at most {MAX_TITLE} characters"
            else:
                out[field] = text
        elif field == "body":
            text = (value or "").strip() if isinstance(value, str | None) else None
            if text is None:
                errors[field] = "enter text"
            elif len(text) > MAX_BODY:
                errors[field] = f"use at most {MAX_BODY:,} characters"
            else:
                out[field] = text
        elif field == "keywords":
            try:
                keywords = parse_keywords(value)
            except ValidationError as exc:
                errors.update(exc.errors)
                continue
            if len(keywords) > MAX_KEYWORDS:
                errors[field] = f"give at most {MAX_KEYWORDS} keywords"
            elif any(len(k) > MAX_KEYWORD for k in keywords):
                errors[field] = f"use at most {MAX_KEYWORD} characters per keyword"
            else:
                out[field] = keywords
        elif field == "expires_at":
            if not isinstance(value, datetime):
                errors[field] = "give the date the post expires"
            elif value.tzinfo is None or value.utcoffset() is None:
                errors[field] = "give a date and time with a time zone"
            elif value <= now:
                errors[field] = "choose a date in the future"
            elif value > now + MAX_AHEAD:
                errors[field] = "choose a date at most a year ahead"
            else:
                out[field] = value
    if errors:
        raise ValidationError(errors)
    return out


def _notify_followers(
    session: Session, *, actor: User, post: Post, subject: str, body: str, base_url: str
) -> None:
    followers = session.scalars(
        select(User)
        .join(PostFollow, PostFollow.user_id == User.id)
        .where(PostFollow.post_id == post.id, User.id != actor.id)
        .order_by(User.id)
    )
    for user in followers:
        notify(
            session,
            user=user,
            subject=subject,
            body=body,
            link=f"/posts/{post.id}",
            base_url=base_url,
        )


# ---- verbs -------------------------------------------------------------------------------


def create_post(
    session: Session,
    *,
    actor: User,
    organisation: Organisation,
    kind: PostKind | str,
    category: PostCategory | str,
    title: str,
    expires_at: datetime | None,
    body: str | None = "",
    keywords: str | Sequence[str] | None = (),
    now: datetime | None = None,
) -> Post:
    """An open offer or request of a published ``organisation``, by one of its managers or an
    administrator."""
    if not can_manage_posts(actor, manager_ids(session, organisation)):
        raise PermissionDenied("only the organisation's managers may post for it")
    if organisation.status != OrganisationStatus.published:
        raise ValidationError(
            {"organisation_id": "the profile must be published before it can post"}
        )
    values = _clean(
        {
            "kind": kind,
            "category": category,
            "title": title,
            "body": body,
            "keywords": keywords,
            "expires_at": expires_at,
        },
        now=now or utcnow(),
    )
    post = Post(organisation=organisation, author_id=actor.id, **values)
    session.add(post)
    session.flush()
    record(
        session,
        actor=actor,
        action="post.created",
        entity_type=_ENTITY,
        entity_id=post.id,
        changes={"organisation_id": organisation.id, **values},
    )
    session.flush()
    return post


def update_post(
    session: Session,
    *,
    actor: User,
    post: Post,
    base_url: str = "",
    now: datetime | None = None,
    **changes: Any,
) -> Post:
    """Change fields of a post that is not closed (an expired post may be given a new expiry).
    Followers are told what changed. The audit row holds ``[old, new]`` per changed field."""
    if not can_manage_posts(actor, post_managers(session, post)):
        raise PermissionDenied("only the organisation's managers may edit its posts")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "this field cannot be changed"))
    if post.closed_at is not None:
        raise ValidationError({"status": "a closed post cannot be edited"})
    values = _clean(changes, now=now or utcnow())
    diff: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(post, field)
        if old != new:
            diff[field] = [old, new]
            setattr(post, field, new)
    if diff:
        record(
            session,
            actor=actor,
            action="post.updated",
            entity_type=_ENTITY,
            entity_id=post.id,
            changes=diff,
        )
        names = ", ".join(field.replace("_", " ") for field in diff)
        _notify_followers(
            session,
            actor=actor,
            post=post,
            subject=f"Changed: {post.title}",
            body=f'The {post.kind.value} "{post.title}" that you follow was changed ({names}).',
            base_url=base_url,
        )
        session.flush()
    return post


def close_post(
    session: Session, *, actor: User, post: Post, base_url: str = "", now: datetime | None = None
) -> Post:
    """Close a post (it is no longer open); followers are told."""
    if not can_manage_posts(actor, post_managers(session, post)):
        raise PermissionDenied("only the organisation's managers may close its posts")
    if post.closed_at is not None:
        raise ValidationError({"status": "this post is closed already"})
    post.closed_at = now or utcnow()
    record(
        session,
        actor=actor,
        action="post.closed",
        entity_type=_ENTITY,
        entity_id=post.id,
        changes={"closed_at": post.closed_at},
    )
    _notify_followers(
        session,
        actor=actor,
        post=post,
        subject=f"Closed: {post.title}",
        body=f'The {post.kind.value} "{post.title}" that you follow was closed by '
        f"{post.organisation.name}.",
        base_url=base_url,
    )
    session.flush()
    return post


def _check_participation(session: Session, *, actor: User, post: Post, what: str) -> None:
    if not can_follow_post(actor, post_managers(session, post)):
        if is_member(actor):
            raise PermissionDenied(f"you cannot {what} a post of your own organisation")
        raise PermissionDenied(f"confirm your e-mail address before you {what} a post")


def is_following(session: Session, *, user: User | None, post: Post) -> bool:
    if user is None:
        return False
    return session.get(PostFollow, (post.id, user.id)) is not None


def follow(session: Session, *, actor: User, post: Post, now: datetime | None = None) -> bool:
    """Follow an open post (to be told when it changes or closes); False if already
    following."""
    _check_participation(session, actor=actor, post=post, what="follow")
    if is_following(session, user=actor, post=post):
        return False
    if not is_open(post, now=now):
        raise ValidationError({"status": "this post is closed or expired"})
    session.add(PostFollow(post_id=post.id, user_id=actor.id))
    record(session, actor=actor, action="post.followed", entity_type=_ENTITY, entity_id=post.id)
    session.flush()
    return True


def unfollow(session: Session, *, actor: User, post: Post) -> bool:
    """Stop following; False if not following."""
    if not is_member(actor):
        raise PermissionDenied("sign in with a confirmed address")
    row = session.get(PostFollow, (post.id, actor.id))
    if row is None:
        return False
    session.delete(row)
    record(session, actor=actor, action="post.unfollowed", entity_type=_ENTITY, entity_id=post.id)
    session.flush()
    return True


def interest_of(session: Session, *, user: User | None, post: Post) -> PostInterest | None:
    """``user``'s expression of interest in ``post``, if any."""
    if user is None:
        return None
    return session.scalars(
        select(PostInterest).where(PostInterest.post_id == post.id, PostInterest.user_id == user.id)
    ).one_or_none()


def express_interest(
    session: Session,
    *,
    actor: User,
    post: Post,
    message: str | None,
    organisation_id: int | None = None,
    base_url: str = "",
    now: datetime | None = None,
) -> PostInterest:
    """Tell the post's organisation that ``actor`` is interested (once per post), on behalf of
    one of the organisations they manage (``organisation_id``; default: the first published
    one, if any). Every manager of the post's organisation gets a notification and an e-mail
    linking to the post."""
    _check_participation(session, actor=actor, post=post, what="express interest in")
    if not is_open(post, now=now):
        raise ValidationError({"status": "this post is closed or expired"})
    errors: dict[str, str] = {}
    text = (message or "").strip()
    if not text:
        errors["message"] = "say what you offer or look for"
    elif len(text) > MAX_MESSAGE:
        errors["message"] = f"use at most {MAX_MESSAGE:,} characters"
    if interest_of(session, user=actor, post=post) is not None:
        errors["message"] = "you have already expressed interest in this post"
    managed = select(OrganisationManager.organisation_id).where(
        OrganisationManager.user_id == actor.id
    )
    own: Organisation | None = None
    if organisation_id is not None:
        own = session.scalars(
            select(Organisation).where(
                Organisation.id == organisation_id, Organisation.id.in_(managed)
            )
        ).one_or_none()
        if own is None:
            errors["organisation_id"] = "choose an organisation that you manage"
    else:
        own = session.scalars(
            select(Organisation)
            .where(
                Organisation.id.in_(managed), Organisation.status == OrganisationStatus.published
            )
            .order_by(Organisation.id)
            .limit(1)
        ).one_or_none()
    if errors:
        raise ValidationError(errors)
    interest = PostInterest(
        post_id=post.id,
        user_id=actor.id,
        organisation_id=own.id if own is not None else None,
        message=text,
    )
    session.add(interest)
    session.flush()
    record(
        session,
        actor=actor,
        action="post.interest_expressed",
        entity_type=_ENTITY,
        entity_id=post.id,
        changes={"interest_id": interest.id, "organisation_id": interest.organisation_id},
    )
    who = actor.email + (f" ({own.name})" if own is not None else "")
    managers = session.scalars(
        select(User)
        .join(OrganisationManager, OrganisationManager.user_id == User.id)
        .where(OrganisationManager.organisation_id == post.organisation_id)
        .order_by(User.id)
    )
    for manager in managers:
        notify(
            session,
            user=manager,
            subject=f"Interest in your {post.kind.value}: {post.title}",
            body=f'{who} is interested in "{post.title}":\n\n{text}',
            link=f"/posts/{post.id}",
            base_url=base_url,
        )
    session.flush()
    return interest


# ---- reads -------------------------------------------------------------------------------


def interests(session: Session, *, actor: User | None, post: Post) -> list[PostInterest]:
    """Who is interested in ``post``, oldest first: for its organisation's managers and
    administrators only."""
    if not can_manage_posts(actor, post_managers(session, post)):
        raise PermissionDenied("only the organisation's managers see who is interested")
    return list(
        session.scalars(
            select(PostInterest)
            .where(PostInterest.post_id == post.id)
            .options(joinedload(PostInterest.user), joinedload(PostInterest.organisation))
            .order_by(PostInterest.created_at, PostInterest.id)
        )
    )


def _open_clause(now: datetime) -> ColumnElement[bool]:
    return and_(Post.closed_at.is_(None), Post.expires_at > now)


def _managed_clause(viewer: User | None) -> ColumnElement[bool] | None:
    """Posts whose organisation ``viewer`` manages (all for administrators), or None."""
    if viewer is None or not is_member(viewer):
        return None
    if viewer.is_admin:
        return true()
    managed = select(OrganisationManager.organisation_id).where(
        OrganisationManager.user_id == viewer.id
    )
    return Post.organisation_id.in_(managed)


def visible_post(
    session: Session, *, viewer: User | None, post_id: int, now: datetime | None = None
) -> Post | None:
    """The post with this id if ``viewer`` may see it (:func:`~clusteratlas.collaboration.
    permissions.can_view_post`), else None."""
    post = session.get(Post, post_id)
    if post is None:
        return None
    managers = post_managers(session, post)
    if not can_view_post(viewer, post.organisation, managers, is_open=is_open(post, now=now)):
        return None
    return post


def list_posts(
    session: Session,
    *,
    viewer: User | None,
    kind: PostKind | None = None,
    category: PostCategory | None = None,
    country: str | None = None,
    organisation_id: int | None = None,
    include_closed: bool = False,
    limit: int = 20,
    offset: int = 0,
    now: datetime | None = None,
) -> tuple[list[Post], int]:
    """One page of posts, newest first, and how many match in all: open posts of published
    organisations; with ``include_closed`` also the closed and expired posts of the
    organisations ``viewer`` manages (administrators: of all)."""
    now = now or utcnow()
    public = and_(_open_clause(now), Organisation.status == OrganisationStatus.published)
    managed = _managed_clause(viewer) if include_closed else None
    scope = public if managed is None else or_(public, managed)
    query = select(Post).join(Post.organisation).where(scope)
    if kind is not None:
        query = query.where(Post.kind == kind)
    if category is not None:
        query = query.where(Post.category == category)
    if country is not None:
        query = query.where(Organisation.country == country.upper())
    if organisation_id is not None:
        query = query.where(Post.organisation_id == organisation_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(joinedload(Post.organisation))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
