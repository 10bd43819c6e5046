"""Pages: search with facets (``/search``), saved searches (``/saved-searches``) and
"partners for you" (``/partners``).

The search page is a GET form: without JavaScript every change is a plain request; with htmx
a change swaps only ``#search-results`` (``search/_results.html``) and pushes the URL, so any
state of the page is a shareable link. Facets are checkboxes with their counts.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.models import PostCategory, SavedSearch
from clusteratlas.collaboration.organisations import manager_ids
from clusteratlas.collaboration.permissions import can_see_recommendations
from clusteratlas.collaboration.recommend import managed_organisations, recommend
from clusteratlas.collaboration.saved_searches import (
    MAX_PER_USER,
    create_saved_search,
    delete_saved_search,
    list_saved_searches,
    search_url,
)
from clusteratlas.collaboration.search import (
    check_organisation_search,
    check_post_search,
    search_organisations,
    search_posts,
)
from clusteratlas.web.api.deps import MAX_ID, SessionDep
from clusteratlas.web.pages.deps import FormDep, PageUser, SignedInUser, render
from clusteratlas.web.pages.sessions import flash

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = 500
Values = Annotated[list[str], Query()]
LABELS = {
    "country": "Country",
    "region": "Region",
    "type": "Type",
    "sector": "Sector",
    "label": "Quality label",
    "kind_": "Offer or request",
    "category": "Category",
}
CATEGORY_LABELS = {c.value: c.value.replace("_", " ").capitalize() for c in PostCategory}
SORTS = {
    "organisations": [("relevance", "Relevance"), ("name", "Name"), ("newest", "Newest")],
    "posts": [("relevance", "Relevance"), ("newest", "Newest"), ("expiry", "Expiring soon")],
}


def _is_htmx_fragment(request: Request) -> bool:
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def _clean(values: list[str]) -> list[str]:
    return [v.strip() for v in values[:20] if v.strip()]


@router.get("/search")
def search_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    q: Annotated[str, Query(max_length=1000)] = "",
    kind: Annotated[str, Query(max_length=20)] = "organisations",
    sort: Annotated[str, Query(max_length=20)] = "relevance",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    country: Values = [],  # noqa: B006 - FastAPI copies defaults
    region: Values = [],  # noqa: B006
    type: Values = [],  # noqa: A002, B006 - the facet's name
    sector: Values = [],  # noqa: B006
    label: Values = [],  # noqa: B006
    kind_: Values = [],  # noqa: B006
    category: Values = [],  # noqa: B006
) -> Response:
    """Search organisations or posts; facets narrow the results."""
    q = q.strip()
    kind = kind if kind in SORTS else "organisations"
    errors: dict[str, str] = {}
    if len(q) > 200:
        errors["q"] = "at most 200 characters"
    if kind == "organisations":
        selected = {
            "country": _clean(country),
            "region": _clean(region),
            "type": _clean(type),
            "sector": _clean(sector),
            "label": _clean(label),
        }
        errors |= check_organisation_search(**selected, sort=sort)
    else:
        selected = {
            "kind_": _clean(kind_),
            "category": _clean(category),
            "country": _clean(country),
        }
        errors |= check_post_search(
            kind=selected["kind_"],
            category=selected["category"],
            country=selected["country"],
            sort=sort,
        )
        if "kind" in errors:
            errors["kind_"] = errors.pop("kind")
    result = None
    if not errors:
        offset = (page - 1) * PAGE_SIZE
        if kind == "organisations":
            result = search_organisations(
                session, viewer=user, q=q, sort=sort, limit=PAGE_SIZE, offset=offset, **selected
            )
        else:
            result = search_posts(
                session,
                viewer=user,
                q=q,
                kind=selected["kind_"],
                category=selected["category"],
                country=selected["country"],
                sort=sort,
                limit=PAGE_SIZE,
                offset=offset,
            )
    fragment = _is_htmx_fragment(request)
    query: dict[str, Any] = {"kind": kind, "q": q, "sort": sort, **selected}
    total = result.total if result is not None else 0
    context = {
        "q": q,
        "kind": kind,
        "sort": sort,
        "sorts": SORTS[kind],
        "selected": selected,
        "result": result,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "errors": errors,
        "fragment": fragment,
        "facet_labels": LABELS,
        "category_labels": CATEGORY_LABELS,
        "url": search_url(query),
        "query_string": urlencode(
            [(k, v) for k, vs in query.items() for v in (vs if isinstance(vs, list) else [vs])]
        ),
        "page_url": lambda n: (
            search_url(query) + ("&" if "?" in search_url(query) else "?") + f"page={n}"
        ),
        "tab_url": lambda k: search_url({"kind": k, "q": q}),
    }
    template = "search/_results.html" if fragment else "search/page.html"
    return render(
        request,
        template,
        user=user,
        status_code=status.HTTP_400_BAD_REQUEST if errors else status.HTTP_200_OK,
        headers={"Vary": "HX-Request"},
        **context,
    )


# ---- saved searches -------------------------------------------------------------------------


def _saved_page(request: Request, session: SessionDep, user: Any, **context: Any) -> Response:
    rows = list_saved_searches(session, user=user)
    return render(
        request,
        "search/saved.html",
        user=user,
        saved=[(row, search_url(row.query)) for row in rows],
        limit=MAX_PER_USER,
        **({"errors": {}, "values": {}} | context),
    )


@router.get("/saved-searches")
def saved_searches(request: Request, session: SessionDep, user: SignedInUser) -> Response:
    """The signed-in user's saved searches."""
    return _saved_page(request, session, user)


@router.post("/saved-searches")
def save_search(
    request: Request, form: FormDep, session: SessionDep, user: SignedInUser
) -> Response:
    """Save the search whose query string is in the ``query`` field."""
    raw = form.get("query", "")[:4000]
    params: dict[str, Any] = {}
    for name, values in parse_qs(raw, keep_blank_values=False).items():
        if name in ("kind", "q", "sort"):
            params[name] = values[0]
        elif name in LABELS:
            params[name] = values
    try:
        create_saved_search(session, actor=user, name=form.get("name", ""), query=params)
    except ValidationError as exc:
        return _saved_error(request, session, user, exc.errors, form, raw)
    flash(request, "Search saved: new matches will be e-mailed to you.")
    return RedirectResponse("/saved-searches", status.HTTP_303_SEE_OTHER)


def _saved_error(
    request: Request,
    session: SessionDep,
    user: Any,
    errors: dict[str, str],
    form: dict[str, str],
    raw: str,
) -> Response:
    rows = list_saved_searches(session, user=user)
    return render(
        request,
        "search/saved.html",
        user=user,
        status_code=status.HTTP_400_BAD_REQUEST,
        saved=[(row, search_url(row.query)) for row in rows],
        limit=MAX_PER_USER,
        errors=errors,
        values={"name": form.get("name", ""), "query": raw},
    )


@router.post("/saved-searches/{saved_search_id}/delete")
def delete_search(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    saved_search_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Delete one of your saved searches (another user's is a 404)."""
    row = session.get(SavedSearch, saved_search_id)
    if row is None or (row.user_id != user.id and not user.is_admin):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such saved search.")
    delete_saved_search(session, actor=user, saved_search=row)
    flash(request, f"Deleted “{row.name}”.")
    return RedirectResponse("/saved-searches", status.HTTP_303_SEE_OTHER)


# ---- partners for you -----------------------------------------------------------------------


@router.get("/partners")
def partners(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Organisations and posts suggested for one of the user's organisations, and why."""
    mine = managed_organisations(session, user)
    organisation = None
    if organisation_id is not None:
        organisation = next((o for o in mine if o.id == organisation_id), None)
        if organisation is None:
            raise PermissionDenied("You can see suggestions for your own organisations only.")
    elif mine:
        organisation = mine[0]
    result = None
    if organisation is not None and can_see_recommendations(
        user, manager_ids(session, organisation)
    ):
        result = recommend(session, organisation=organisation)
    return render(
        request,
        "search/partners.html",
        user=user,
        mine=mine,
        organisation=organisation,
        result=result,
    )
