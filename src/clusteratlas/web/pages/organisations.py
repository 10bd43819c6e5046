"""Organisation pages: the public list with its htmx filter, a profile, the create and edit
forms, and submitting a profile for review.

The list shows published profiles. When htmx asks (``HX-Request``, not a history restore) the
list route answers with the results fragment only (``organisations/_results.html``).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration import organisations as verbs
from clusteratlas.collaboration.models import Organisation, OrganisationStatus, OrganisationType
from clusteratlas.collaboration.permissions import can_edit_organisation
from clusteratlas.collaboration.queries import list_organisations, visible_organisation
from clusteratlas.web.api.deps import OrganisationId, SessionDep
from clusteratlas.web.pages.deps import FormDep, PageUser, SignedInUser, render
from clusteratlas.web.pages.sessions import flash

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter(prefix="/organisations", include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = 10_000
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
EDITABLE = (OrganisationStatus.draft, OrganisationStatus.returned)


def _is_htmx_fragment(request: Request) -> bool:
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


@router.get("")
def list_(
    request: Request,
    session: SessionDep,
    user: PageUser,
    country: Annotated[str, Query(max_length=100)] = "",
    type: Annotated[str, Query(max_length=100)] = "",  # noqa: A002 - the field's name
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Published profiles, sorted by name, filtered by country and type."""
    country, kind = country.strip(), type.strip()
    errors: dict[str, str] = {}
    if country and not _COUNTRY.match(country):
        errors["country"] = "enter a two-letter country code such as DE or FR"
    if kind and kind not in OrganisationType.__members__:
        errors["type"] = "choose a type from the list"
    rows: list[Organisation] = []
    count = 0
    if not errors:
        rows, count = list_organisations(
            session,
            viewer=None,
            status=OrganisationStatus.published,
            country=country or None,
            type=OrganisationType(kind) if kind else None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    context = {
        "organisations": rows,
        "count": count,
        "page": page,
        "pages": max(1, -(-count // PAGE_SIZE)),
        "filters": {"country": country, "type": kind},
        "errors": errors,
    }
    template = (
        "organisations/_results.html" if _is_htmx_fragment(request) else "organisations/list.html"
    )
    return render(request, template, user=user, headers={"Vary": "HX-Request"}, **context)


def _form_values(form: dict[str, str]) -> dict[str, str]:
    return {field: form.get(field, "") for field in verbs.EDITABLE_FIELDS}


@router.get("/new")
def new_form(request: Request, user: SignedInUser) -> Response:
    return render(
        request,
        "organisations/form.html",
        user=user,
        organisation=None,
        values={"type": OrganisationType.cluster_organisation.value},
        errors={},
    )


@router.post("/new")
def create(request: Request, form: FormDep, session: SessionDep, user: SignedInUser) -> Response:
    values = _form_values(form)
    try:
        organisation = verbs.create_organisation(session, actor=user, **values)
    except ValidationError as exc:
        return render(
            request,
            "organisations/form.html",
            user=user,
            status_code=status.HTTP_400_BAD_REQUEST,
            organisation=None,
            values=values,
            errors=exc.errors,
        )
    flash(request, "Draft saved. Submit it for review when it is complete.")
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)


def _visible_or_404(session: Session, user: PageUser, organisation_id: int) -> Organisation:
    organisation = visible_organisation(session, viewer=user, organisation_id=organisation_id)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such organisation.")
    return organisation


@router.get("/{organisation_id}")
def detail(
    request: Request, session: SessionDep, user: PageUser, organisation_id: OrganisationId
) -> Response:
    organisation = _visible_or_404(session, user, organisation_id)
    editable = can_edit_organisation(user, organisation, verbs.manager_ids(session, organisation))
    return render(
        request,
        "organisations/detail.html",
        user=user,
        organisation=organisation,
        can_edit=editable,
        can_submit=editable and organisation.status in EDITABLE,
    )


def _editable(session: Session, user: SignedInUser, organisation_id: int) -> Organisation:
    organisation = _visible_or_404(session, user, organisation_id)
    if not can_edit_organisation(user, organisation, verbs.manager_ids(session, organisation)):
        raise PermissionDenied("Only the organisation's managers may edit its profile.")
    return organisation


@router.get("/{organisation_id}/edit")
def edit_form(
    request: Request, session: SessionDep, user: SignedInUser, organisation_id: OrganisationId
) -> Response:
    organisation = _editable(session, user, organisation_id)
    values = {field: getattr(organisation, field) or "" for field in verbs.EDITABLE_FIELDS}
    return render(
        request,
        "organisations/form.html",
        user=user,
        organisation=organisation,
        values=values,
        errors={},
    )


@router.post("/{organisation_id}/edit")
def edit(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    organisation_id: OrganisationId,
) -> Response:
    organisation = _editable(session, user, organisation_id)
    values = _form_values(form)
    try:
        verbs.update_organisation(session, actor=user, organisation=organisation, **values)
    except ValidationError as exc:
        return render(
            request,
            "organisations/form.html",
            user=user,
            status_code=status.HTTP_400_BAD_REQUEST,
            organisation=organisation,
            values=values,
            errors=exc.errors,
        )
    flash(request, "Changes saved.")
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)


@router.post("/{organisation_id}/submit")
def submit(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    organisation_id: OrganisationId,
) -> Response:
    organisation = _editable(session, user, organisation_id)
    verbs.submit(session, actor=user, organisation=organisation)
    flash(request, "Submitted for review: a moderator will publish it or send it back.")
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)
