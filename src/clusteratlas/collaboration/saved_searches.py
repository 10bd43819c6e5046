"""Saved searches: a member saves the parameters of a search and is e-mailed its new matches.

The parameters are those of the search page's query string: ``kind`` (``organisations`` or
``posts``), ``q`` and the facet filters (lists of values) and ``sort``. They are checked like
a search's, so a saved search always runs. :func:`notify_saved_searches` e-mails each owner
the profiles published (or posts created) after the search's ``notified_at`` and moves it on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clusteratlas.collaboration import PermissionDenied, ValidationError, audit
from clusteratlas.collaboration.mail import queue_email
from clusteratlas.collaboration.models import SavedSearch, User, utcnow
from clusteratlas.collaboration.permissions import can_delete_saved_search, can_save_search
from clusteratlas.collaboration.search import (
    check_organisation_search,
    check_post_search,
    search_organisations,
    search_posts,
)

__all__ = [
    "MAX_NAME",
    "MAX_PER_USER",
    "create_saved_search",
    "delete_saved_search",
    "list_saved_searches",
    "normalise_query",
    "notify_saved_searches",
    "search_url",
]

MAX_PER_USER = 20
MAX_NAME = 200
MAX_Q = 200
#: new matches listed in one e-mail at most
MAX_LISTED = 20
KINDS = ("organisations", "posts")
LIST_PARAMS = {
    "organisations": ("country", "region", "type", "sector", "label"),
    "posts": ("kind_", "category", "country"),
}


def normalise_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """The checked parameters of a search (``kind``, ``q``, ``sort`` and lists of facet
    values); raises :class:`ValidationError` with a message per field."""
    kind = str(params.get("kind") or "organisations")
    if kind not in KINDS:
        raise ValidationError({"kind": "choose organisations or posts"})
    q = str(params.get("q") or "").strip()
    errors: dict[str, str] = {}
    if len(q) > MAX_Q:
        errors["q"] = f"at most {MAX_Q} characters"
    query: dict[str, Any] = {"kind": kind, "q": q, "sort": str(params.get("sort") or "relevance")}
    for name in LIST_PARAMS[kind]:
        value = params.get(name)
        values = [value] if isinstance(value, str) else list(value or [])
        values = [str(v).strip() for v in values if str(v).strip()]
        if len(values) > 20:
            errors[name] = "at most 20 values"
        if values:
            query[name] = values
    if kind == "organisations":
        errors |= check_organisation_search(
            **{k: query.get(k) for k in LIST_PARAMS["organisations"]}, sort=query["sort"]
        )
    else:
        errors |= check_post_search(
            kind=query.get("kind_"),
            category=query.get("category"),
            country=query.get("country"),
            sort=query["sort"],
        )
        if "kind" in errors:  # the post kind is ``kind_`` here (``kind`` is the tab)
            errors["kind_"] = errors.pop("kind")
    if errors:
        raise ValidationError(errors)
    return query


def search_url(query: Mapping[str, Any]) -> str:
    """The search page's path and query string of saved parameters."""
    pairs: list[tuple[str, str]] = []
    kind = query.get("kind") if query.get("kind") in KINDS else "organisations"
    names = ["kind", "q", *LIST_PARAMS[str(kind)], "sort"]  # a stable order (JSONB sorts keys)
    for name in names:
        value = query.get(name)
        if not value or (name == "sort" and value == "relevance"):
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, str(item)))
    return "/search?" + urlencode(pairs) if pairs else "/search"


def list_saved_searches(session: Session, *, user: User) -> list[SavedSearch]:
    """``user``'s saved searches, newest first."""
    return list(
        session.scalars(
            select(SavedSearch)
            .where(SavedSearch.user_id == user.id)
            .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())
        )
    )


def create_saved_search(
    session: Session, *, actor: User, name: str, query: Mapping[str, Any]
) -> SavedSearch:
    """Save a search for ``actor`` (a member), at most :data:`MAX_PER_USER` each."""
    if not can_save_search(actor):
        raise PermissionDenied("Only members with a confirmed address may save searches.")
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "give the search a name"
    elif len(name) > MAX_NAME:
        errors["name"] = f"at most {MAX_NAME} characters"
    try:
        checked = normalise_query(query)
    except ValidationError as exc:
        errors |= exc.errors
        checked = {}
    count = session.scalar(
        select(func.count()).select_from(SavedSearch).where(SavedSearch.user_id == actor.id)
    )
    if (count or 0) >= MAX_PER_USER:
        errors["name"] = f"you have {MAX_PER_USER} saved searches: delete one first"
    if errors:
        raise ValidationError(errors)
    row = SavedSearch(user_id=actor.id, name=name, query=checked, notified_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="saved_search.created",
        entity_type="saved_search",
        entity_id=row.id,
        changes={"name": name, "query": checked},
    )
    session.flush()
    return row


def delete_saved_search(session: Session, *, actor: User, saved_search: SavedSearch) -> None:
    """Delete a saved search: its owner or an administrator."""
    if not can_delete_saved_search(actor, saved_search):
        raise PermissionDenied("This saved search is not yours.")
    audit.record(
        session,
        actor=actor,
        action="saved_search.deleted",
        entity_type="saved_search",
        entity_id=saved_search.id,
        changes={"name": saved_search.name},
    )
    session.delete(saved_search)
    session.flush()


def _new_matches(session: Session, saved: SavedSearch, since: datetime) -> tuple[list[str], int]:
    query = dict(saved.query)
    if query.get("kind") == "posts":
        page = search_posts(
            session,
            viewer=None,
            q=query.get("q", ""),
            kind=query.get("kind_"),
            category=query.get("category"),
            country=query.get("country"),
            sort="newest",
            limit=MAX_LISTED,
            created_after=since,
            facets=False,
        )
        return [f"{p.title} ({p.kind.value}): /posts/{p.id}" for p in page.items], page.total
    page = search_organisations(
        session,
        viewer=None,
        q=query.get("q", ""),
        **{k: query.get(k) for k in LIST_PARAMS["organisations"]},
        sort="newest",
        limit=MAX_LISTED,
        published_after=since,
        facets=False,
    )
    return [f"{o.name} ({o.country}): /organisations/{o.id}" for o in page.items], page.total


def notify_saved_searches(session: Session, *, settings: Any, now: datetime | None = None) -> int:
    """E-mail each owner of a saved search its new public matches since ``notified_at``
    (profiles published, posts created after it) and move ``notified_at`` to ``now``. Returns
    the number of e-mails queued (the caller commits and sends the outbox)."""
    now = now or utcnow()
    base_url = str(getattr(settings, "public_url", "") or "").rstrip("/")
    queued = 0
    rows = session.scalars(
        select(SavedSearch).join(User, User.id == SavedSearch.user_id).order_by(SavedSearch.id)
    )
    for saved in list(rows):
        owner = session.get(User, saved.user_id)
        if owner is None or owner.confirmed_at is None:
            continue
        try:
            lines, total = _new_matches(session, saved, saved.notified_at)
        except ValidationError:  # saved before the rules changed: skip, never fail the run
            continue
        if total:
            listed = "\n".join(f"- {line.replace(': /', ': ' + base_url + '/')}" for line in lines)
            more = f"\n… and {total - len(lines)} more." if total > len(lines) else ""
            queue_email(
                session,
                to=owner.email,
                subject=f"{total} new match{'es' if total != 1 else ''} for “{saved.name}”",
                body=(
                    f"New matches for your saved search “{saved.name}”:\n\n{listed}{more}\n\n"
                    f"See them all: {base_url}{search_url(saved.query)}\n"
                ),
            )
            queued += 1
        saved.notified_at = now
    session.flush()
    return queued
