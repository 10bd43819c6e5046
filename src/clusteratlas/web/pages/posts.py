"""Pages of cooperation posts: the list with its htmx filter, a post (follow, "I'm interested",
and for the organisation's managers who is interested, edit and close), and the create and
edit forms.

Like the organisation pages, the list answers an htmx request (``HX-Request``, not a history
restore) with the results fragment only (``posts/_results.html``). Every form carries the
CSRF token; bad input re-renders the form with a message per field (400).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration import posts as verbs
from clusteratlas.collaboration.models import (
    Organisation,
    OrganisationManager,
    OrganisationStatus,
    Post,
    PostCategory,
    PostKind,
    User,
    utcnow,
)
from clusteratlas.collaboration.organisations import manager_ids
from clusteratlas.collaboration.permissions import can_follow_post, can_manage_posts
from clusteratlas.collaboration.queries import visible_organisation
from clusteratlas.web.api.deps import MAX_ID, OrganisationId, SessionDep, SettingsDep
from clusteratlas.web.pages.deps import FormDep, PageUser, SignedInUser, render
from clusteratlas.web.pages.sessions import flash

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = 10_000
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
FORM_FIELDS = ("kind", "category", "title", "body", "keywords", "expires_at")

PostId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _is_htmx_fragment(request: Request) -> bool:
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def _labels() -> dict[str, Any]:
    return {"kind_labels": verbs.KIND_LABELS, "category_labels": verbs.CATEGORY_LABELS}


@router.get("/posts")
def list_(
    request: Request,
    session: SessionDep,
    user: PageUser,
    kind: Annotated[str, Query(max_length=100)] = "",
    category: Annotated[str, Query(max_length=100)] = "",
    country: Annotated[str, Query(max_length=100)] = "",
    organisation: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    closed: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Open posts, newest first, filtered by kind, category, country and organisation; signed-in
    managers may include their own closed and expired posts."""
    kind, category, country = kind.strip(), category.strip(), country.strip()
    errors: dict[str, str] = {}
    if kind and kind not in PostKind.__members__:
        errors["kind"] = "choose offer or request"
    if category and category not in PostCategory.__members__:
        errors["category"] = "choose a category from the list"
    if country and not _COUNTRY.match(country):
        errors["country"] = "enter a two-letter country code such as DE or FR"
    include_closed = bool(closed) and user is not None
    rows: list[Post] = []
    count = 0
    if not errors:
        rows, count = verbs.list_posts(
            session,
            viewer=user,
            kind=PostKind(kind) if kind else None,
            category=PostCategory(category) if category else None,
            country=country or None,
            organisation_id=organisation,
            include_closed=include_closed,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    filters = {
        "kind": kind,
        "category": category,
        "country": country,
        "organisation": str(organisation) if organisation else "",
        "closed": "1" if include_closed else "",
    }
    context = {
        "posts": rows,
        "count": count,
        "page": page,
        "pages": max(1, -(-count // PAGE_SIZE)),
        "filters": filters,
        "errors": errors,
        "now": utcnow(),
        "organisation": (
            visible_organisation(session, viewer=user, organisation_id=organisation)
            if organisation
            else None
        ),
        "my_organisations": _my_organisations(session, user),
        **_labels(),
    }
    template = "posts/_results.html" if _is_htmx_fragment(request) else "posts/list.html"
    return render(request, template, user=user, headers={"Vary": "HX-Request"}, **context)


def _visible_or_404(session: Session, user: User | None, post_id: int) -> Post:
    post = verbs.visible_post(session, viewer=user, post_id=post_id)
    if post is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such post.")
    return post


def _my_organisations(session: Session, user: User | None) -> list[Organisation]:
    """The published organisations ``user`` manages (to express interest on behalf of)."""
    if user is None:
        return []
    return list(
        session.scalars(
            select(Organisation)
            .join(OrganisationManager, OrganisationManager.organisation_id == Organisation.id)
            .where(
                OrganisationManager.user_id == user.id,
                Organisation.status == OrganisationStatus.published,
            )
            .order_by(Organisation.name, Organisation.id)
        )
    )


def _detail(
    request: Request,
    session: Session,
    user: User | None,
    post: Post,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    managers = verbs.post_managers(session, post)
    manages = can_manage_posts(user, managers)
    open_ = verbs.is_open(post)
    return render(
        request,
        "posts/detail.html",
        user=user,
        status_code=status_code,
        post=post,
        organisation=post.organisation,
        is_open=open_,
        can_manage=manages,
        can_participate=open_ and can_follow_post(user, managers),
        own_post=user is not None and user.id in managers,
        following=verbs.is_following(session, user=user, post=post),
        my_interest=verbs.interest_of(session, user=user, post=post),
        interests=verbs.interests(session, actor=user, post=post) if manages else [],
        my_organisations=_my_organisations(session, user),
        values=values or {},
        errors=errors or {},
        **_labels(),
    )


@router.get("/posts/{post_id}")
def detail(request: Request, session: SessionDep, user: PageUser, post_id: PostId) -> Response:
    return _detail(request, session, user, _visible_or_404(session, user, post_id))


# ---- the form ----------------------------------------------------------------------------


def _form_values(form: dict[str, str]) -> dict[str, str]:
    return {field: form.get(field, "") for field in FORM_FIELDS}


def _parse(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The verb's arguments from the form's text, and the errors found here (the date)."""
    out: dict[str, Any] = {f: values[f] for f in ("kind", "category", "title", "body", "keywords")}
    errors: dict[str, str] = {}
    text = values["expires_at"].strip()
    if not text:
        errors["expires_at"] = "give the date the post expires"
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors["expires_at"] = "enter a date such as 2027-03-31"
        else:
            out["expires_at"] = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
    return out, errors


def _render_form(
    request: Request,
    user: User,
    *,
    organisation: Organisation,
    post: Post | None,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "posts/form.html",
        user=user,
        status_code=status_code,
        organisation=organisation,
        post=post,
        values=values,
        errors=errors,
        **_labels(),
    )


def _postable(session: Session, user: User, organisation_id: int) -> Organisation:
    organisation = visible_organisation(session, viewer=user, organisation_id=organisation_id)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such organisation.")
    if not can_manage_posts(user, manager_ids(session, organisation)):
        raise PermissionDenied("Only the organisation's managers may post for it.")
    if organisation.status != OrganisationStatus.published:
        raise ValidationError({"organisation_id": "The profile must be published first."})
    return organisation


@router.get("/organisations/{organisation_id}/posts/new")
def new_form(
    request: Request, session: SessionDep, user: SignedInUser, organisation_id: OrganisationId
) -> Response:
    organisation = _postable(session, user, organisation_id)
    expiry = (utcnow() + verbs.DEFAULT_EXPIRY).date().isoformat()
    values = {"kind": "offer", "category": "technology", "expires_at": expiry}
    return _render_form(
        request, user, organisation=organisation, post=None, values=values, errors={}
    )


@router.post("/organisations/{organisation_id}/posts/new")
def create(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    organisation_id: OrganisationId,
) -> Response:
    organisation = _postable(session, user, organisation_id)
    values = _form_values(form)
    arguments, errors = _parse(values)
    try:
        if errors:
            raise ValidationError(errors)
        post = verbs.create_post(session, actor=user, organisation=organisation, **arguments)
    except ValidationError as exc:
        return _render_form(
            request,
            user,
            organisation=organisation,
            post=None,
            values=values,
            errors=errors | exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "Your post is published.")
    return RedirectResponse(f"/posts/{post.id}", status.HTTP_303_SEE_OTHER)


def _editable(session: Session, user: User, post_id: int) -> Post:
    post = _visible_or_404(session, user, post_id)
    if not can_manage_posts(user, verbs.post_managers(session, post)):
        raise PermissionDenied("Only the organisation's managers may change its posts.")
    if post.closed_at is not None:
        raise ValidationError({"status": "A closed post cannot be changed."})
    return post


@router.get("/posts/{post_id}/edit")
def edit_form(
    request: Request, session: SessionDep, user: SignedInUser, post_id: PostId
) -> Response:
    post = _editable(session, user, post_id)
    values = {
        "kind": post.kind.value,
        "category": post.category.value,
        "title": post.title,
        "body": post.body,
        "keywords": "\n".join(post.keywords),
        "expires_at": post.expires_at.date().isoformat(),
    }
    return _render_form(
        request, user, organisation=post.organisation, post=post, values=values, errors={}
    )


@router.post("/posts/{post_id}/edit")
def edit(
    request: Request,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    post_id: PostId,
) -> Response:
    post = _editable(session, user, post_id)
    values = _form_values(form)
    arguments, errors = _parse(values)
    try:
        if errors:
            raise ValidationError(errors)
        if arguments["expires_at"].date() == post.expires_at.date():
            del arguments["expires_at"]  # the date was kept: keep the exact time too
        verbs.update_post(session, actor=user, post=post, base_url=settings.public_url, **arguments)
    except ValidationError as exc:
        return _render_form(
            request,
            user,
            organisation=post.organisation,
            post=post,
            values=values,
            errors=errors | exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "Changes saved.")
    return RedirectResponse(f"/posts/{post.id}", status.HTTP_303_SEE_OTHER)


@router.post("/posts/{post_id}/close")
def close(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    post_id: PostId,
) -> Response:
    post = _visible_or_404(session, user, post_id)
    verbs.close_post(session, actor=user, post=post, base_url=settings.public_url)
    flash(request, "The post is closed.")
    return RedirectResponse(f"/posts/{post.id}", status.HTTP_303_SEE_OTHER)


@router.post("/posts/{post_id}/follow")
def follow(
    request: Request, _form: FormDep, session: SessionDep, user: SignedInUser, post_id: PostId
) -> Response:
    post = _visible_or_404(session, user, post_id)
    verbs.follow(session, actor=user, post=post)
    flash(request, "You follow this post: you will be told when it changes or closes.")
    return RedirectResponse(f"/posts/{post.id}", status.HTTP_303_SEE_OTHER)


@router.post("/posts/{post_id}/unfollow")
def unfollow(
    request: Request, _form: FormDep, session: SessionDep, user: SignedInUser, post_id: PostId
) -> Response:
    post = _visible_or_404(session, user, post_id)
    verbs.unfollow(session, actor=user, post=post)
    flash(request, "You no longer follow this post.")
    return RedirectResponse(f"/posts/{post.id}", status.HTTP_303_SEE_OTHER)


@router.post("/posts/{post_id}/interest")
def express_interest(
    request: Request,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedInUser,
    post_id: PostId,
) -> Response:
    post = _visible_or_404(session, user, post_id)
    values = {
        "message": form.get("message", ""),
        "organisation_id": form.get("organisation_id", ""),
    }
    chosen = values["organisation_id"].strip()
    try:
        if chosen and not (chosen.isdigit() and 0 < int(chosen) <= MAX_ID):
            raise ValidationError({"organisation_id": "choose an organisation that you manage"})
        verbs.express_interest(
            session,
            actor=user,
            post=post,
            message=values["message"],
            organisation_id=int(chosen) if chosen else None,
            base_url=settings.public_url,
        )
    except ValidationError as exc:
        return _detail(
            request,
            session,
            user,
            post,
            values=values,
            errors=exc.errors,
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    flash(request, "Your interest was sent to the organisation's managers.")
    return RedirectResponse(f"/posts/{post.id}", status.HTTP_303_SEE_OTHER)
