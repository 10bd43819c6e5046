"""Organisation pages: the public list with its htmx filter, a profile (with its links,
managers and, for its managers, the eligibility checklist), the create and edit forms,
submitting a profile for review, the history of a published profile, and the small forms
that link organisations and add managers.

The list shows published profiles. When htmx asks (``HX-Request``, not a history restore) the
list route answers with the results fragment only (``organisations/_results.html``).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration import organisations as verbs
from clusteratlas.collaboration.models import (
    LinkKind,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    User,
    utcnow,
)
from clusteratlas.collaboration.permissions import can_edit_organisation, can_view_contacts
from clusteratlas.collaboration.queries import (
    get_organisation,
    list_organisations,
    organisation_links,
    organisation_versions,
    visible_organisation,
)
from clusteratlas.collaboration.settings import Settings
from clusteratlas.web.api.deps import MAX_ID, OrganisationId, SessionDep, SettingsDep
from clusteratlas.web.pages.deps import FormDep, PageUser, SignedInUser, render
from clusteratlas.web.pages.event_day import organisation_events_context
from clusteratlas.web.pages.sessions import flash

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter(prefix="/organisations", include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = 10_000
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
SUBMITTABLE = (OrganisationStatus.draft, OrganisationStatus.returned)
EDITABLE = (*SUBMITTABLE, OrganisationStatus.published)
_TARGET = re.compile(r"^(?:.*/organisations/)?(\d{1,10})/?$")

#: how the profile fields read on the pages (form labels, history)
LABELS: dict[str, str] = {
    "type": "Type",
    "name": "Name",
    "acronym": "Acronym",
    "country": "Country",
    "region_code": "Region code",
    "city": "City",
    "website": "Website",
    "description": "Description",
    "keywords": "Technologies and keywords",
    "value_chains": "Value chains",
    "emerging_industries": "Emerging industries",
    "s3_priorities": "Smart-specialisation priorities",
    "members_sme": "SMEs",
    "members_large": "Large companies",
    "members_research": "Research organisations",
    "members_university": "Universities",
    "members_other": "Other members",
    "staff_fte": "Staff (FTE)",
    "year_founded": "Year founded",
    "quality_label": "Quality label",
    "label_date": "Label awarded on",
    "label_expiry": "Label expires on",
    "contacts": "Contacts",
    "nace": "NACE Rev. 2 sectors",
    "naics": "NAICS sectors",
}
LINK_LABELS = {LinkKind.member_of: "member of", LinkKind.partner_of: "partner of"}


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


def _contacts_text(contacts: list[dict[str, str]] | None) -> str:
    return "\n".join(
        "; ".join(contact.get(key) or "" for key in verbs.CONTACT_KEYS).rstrip("; ")
        for contact in contacts or []
    )


def _values_of(organisation: Organisation) -> dict[str, str]:
    """The profile as the edit form shows it: lists one item per line."""
    values: dict[str, str] = {}
    for field in verbs.EDITABLE_FIELDS:
        if field in verbs.SECTOR_FIELDS:
            scheme = verbs.SECTOR_FIELDS[field]
            values[field] = "\n".join(s.code for s in organisation.sectors if s.scheme == scheme)
        elif field in verbs.LIST_FIELDS:
            values[field] = "\n".join(getattr(organisation, field) or [])
        elif field == "contacts":
            values[field] = _contacts_text(organisation.contacts)
        else:
            value = getattr(organisation, field)
            values[field] = "" if value is None else str(getattr(value, "value", value))
    if organisation.staff_fte is not None and organisation.staff_fte.is_integer():
        values["staff_fte"] = str(int(organisation.staff_fte))
    return values


def _form(
    request: Request,
    user: User,
    organisation: Organisation | None,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "organisations/form.html",
        user=user,
        status_code=status_code,
        organisation=organisation,
        values=values,
        errors=errors,
        labels=LABELS,
    )


@router.get("/new")
def new_form(request: Request, user: SignedInUser) -> Response:
    return _form(request, user, None, {"type": OrganisationType.cluster_organisation.value}, {})


@router.post("/new")
def create(request: Request, form: FormDep, session: SessionDep, user: SignedInUser) -> Response:
    values = _form_values(form)
    try:
        organisation = verbs.create_organisation(session, actor=user, **values)
    except ValidationError as exc:
        return _form(request, user, None, values, exc.errors, status_code=400)
    flash(request, "Draft saved. Submit it for review when it is complete.")
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)


def _visible_or_404(session: Session, user: User | None, organisation_id: int) -> Organisation:
    organisation = visible_organisation(session, viewer=user, organisation_id=organisation_id)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such organisation.")
    return organisation


def _detail(
    request: Request,
    session: Session,
    user: User | None,
    organisation: Organisation,
    settings: Settings,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The profile page; ``errors`` and ``values`` are those of its small forms (submit,
    link, add a manager)."""
    managers = verbs.manager_ids(session, organisation)
    editable = can_edit_organisation(user, organisation, managers)
    members = {field: getattr(organisation, field) for field in verbs.COUNT_FIELDS}
    label = organisation.quality_label
    expired = organisation.label_expiry is not None and organisation.label_expiry < utcnow().date()
    manager_emails = (
        sorted(session.scalars(select(User.email).where(User.id.in_(managers)))) if editable else []
    )
    return render(
        request,
        "organisations/detail.html",
        user=user,
        status_code=status_code,
        organisation=organisation,
        description=Markup(verbs.description_html(organisation.description)),  # noqa: S704 - sanitised
        can_edit=editable,
        can_submit=editable and organisation.status in SUBMITTABLE,
        can_change=editable and organisation.status in EDITABLE,
        show_contacts=can_view_contacts(user),
        checks=(
            _checks(organisation, settings)
            if editable and organisation.type == OrganisationType.cluster_organisation
            else None
        ),
        members=members if any(v is not None for v in members.values()) else None,
        members_total=sum(v or 0 for v in members.values()),
        label=label,
        label_expired=expired,
        links=organisation_links(session, organisation=organisation, viewer=user),
        link_kinds=LINK_LABELS,
        managers=manager_emails,
        labels=LABELS,
        errors=errors or {},
        values=values or {},
        **organisation_events_context(session, organisation.id),
    )


def _checks(organisation: Organisation, settings: Settings) -> list[tuple[bool, str]]:
    """The eligibility checklist of a cluster organisation: (met, requirement)."""
    counts = [getattr(organisation, field) or 0 for field in verbs.COUNT_FIELDS]
    total, kinds = sum(counts), sum(1 for count in counts if count > 0)
    need, need_kinds = settings.eligibility_min_members, settings.eligibility_min_member_types
    return [
        (total >= need, f"At least {need} members ({total} given)"),
        (kinds >= need_kinds, f"Members of at least {need_kinds} types ({kinds} given)"),
    ]


@router.get("/{organisation_id}")
def detail(
    request: Request,
    session: SessionDep,
    user: PageUser,
    settings: SettingsDep,
    organisation_id: OrganisationId,
) -> Response:
    organisation = _visible_or_404(session, user, organisation_id)
    return _detail(request, session, user, organisation, settings)


@router.get("/{organisation_id}/history")
def history(
    request: Request, session: SessionDep, user: PageUser, organisation_id: OrganisationId
) -> Response:
    """The published versions, newest first, with what changed in each."""
    organisation = _visible_or_404(session, user, organisation_id)
    versions = organisation_versions(session, organisation, with_contacts=can_view_contacts(user))
    return render(
        request,
        "organisations/history.html",
        user=user,
        organisation=organisation,
        versions=versions,
        labels=LABELS,
        show=_shown,
    )


def _shown(value: object) -> str:
    """A snapshot value as text on the history page."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, list):
        return "; ".join(
            ", ".join(str(v) for v in item.values() if v) if isinstance(item, dict) else str(item)
            for item in value
        )
    if isinstance(value, str) and len(value) > 300:
        return value[:300] + "…"
    return str(value)


def _editable(session: Session, user: User, organisation_id: int) -> Organisation:
    organisation = _visible_or_404(session, user, organisation_id)
    if not can_edit_organisation(user, organisation, verbs.manager_ids(session, organisation)):
        raise PermissionDenied("Only the organisation's managers may edit its profile.")
    return organisation


@router.get("/{organisation_id}/edit")
def edit_form(
    request: Request, session: SessionDep, user: SignedInUser, organisation_id: OrganisationId
) -> Response:
    organisation = _editable(session, user, organisation_id)
    return _form(request, user, organisation, _values_of(organisation), {})


@router.post("/{organisation_id}/edit")
def edit(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    settings: SettingsDep,
    organisation_id: OrganisationId,
) -> Response:
    organisation = _editable(session, user, organisation_id)
    values = _form_values(form)
    published = organisation.status == OrganisationStatus.published
    try:
        verbs.update_organisation(
            session, actor=user, organisation=organisation, settings=settings, **values
        )
    except ValidationError as exc:
        return _form(request, user, organisation, values, exc.errors, status_code=400)
    flash(
        request,
        f"Changes saved and published as version {organisation.version}."
        if published
        else "Changes saved.",
    )
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)


@router.post("/{organisation_id}/submit")
def submit(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    settings: SettingsDep,
    organisation_id: OrganisationId,
) -> Response:
    organisation = _editable(session, user, organisation_id)
    try:
        verbs.submit(session, actor=user, organisation=organisation, settings=settings)
    except ValidationError as exc:
        return _detail(
            request, session, user, organisation, settings, status_code=400, errors=exc.errors
        )
    flash(request, "Submitted for review: a moderator will publish it or send it back.")
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)


def _target_id(text: str) -> int | None:
    """An organisation id from ``42`` or a profile address ``…/organisations/42``."""
    match = _TARGET.match(text.strip())
    if match is None:
        return None
    number = int(match.group(1))
    return number if 1 <= number <= MAX_ID else None


@router.post("/{organisation_id}/links")
def add_link(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    settings: SettingsDep,
    organisation_id: OrganisationId,
) -> Response:
    organisation = _editable(session, user, organisation_id)
    values = {"target": form.get("target", ""), "kind": form.get("kind", "")}
    target_id = _target_id(values["target"])
    target = get_organisation(session, target_id) if target_id else None
    try:
        verbs.link(session, actor=user, source=organisation, target=target, kind=values["kind"])
    except ValidationError as exc:
        errors = {"target" if k == "target_id" else k: v for k, v in exc.errors.items()}
        return _detail(
            request,
            session,
            user,
            organisation,
            settings,
            status_code=400,
            errors=errors,
            values=values,
        )
    assert target is not None  # the verb refuses a missing target
    flash(request, f"Linked to {target.name}.")
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)


@router.post("/{organisation_id}/links/delete")
def remove_link(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    organisation_id: OrganisationId,
) -> Response:
    organisation = _editable(session, user, organisation_id)
    target_id = _target_id(form.get("target", ""))
    kind = form.get("kind", "")
    if target_id is None or not verbs.unlink(
        session, actor=user, source=organisation, target_id=target_id, kind=kind
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such link.")
    flash(request, "Link removed.")
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)


@router.post("/{organisation_id}/managers")
def add_manager(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    settings: SettingsDep,
    organisation_id: OrganisationId,
) -> Response:
    organisation = _editable(session, user, organisation_id)
    email = form.get("email", "")
    try:
        row = verbs.add_manager_by_email(
            session, actor=user, organisation=organisation, email=email
        )
    except ValidationError as exc:
        return _detail(
            request,
            session,
            user,
            organisation,
            settings,
            status_code=400,
            errors={"manager_email": exc.errors.get("email", str(exc))},
            values={"manager_email": email},
        )
    flash(request, f"{row.user.email} manages this profile too now.")
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)
