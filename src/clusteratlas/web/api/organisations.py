"""``/api/organisations``: list, read, create, edit, submit and moderate profiles; their
history, links and managers.

Reads go through :mod:`clusteratlas.collaboration.queries` (scoped to what the viewer may
see); writes call the verbs of :mod:`clusteratlas.collaboration.organisations`, which check
permission (403) and input (422).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy.orm import Session

from clusteratlas.collaboration import organisations as verbs
from clusteratlas.collaboration.models import (
    LinkKind,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    User,
)
from clusteratlas.collaboration.permissions import can_view_contacts
from clusteratlas.collaboration.queries import (
    get_organisation,
    list_organisations,
    organisation_links,
    organisation_versions,
    visible_organisation,
)
from clusteratlas.web.api.deps import (
    MAX_ID,
    CurrentUser,
    OptionalUser,
    OrganisationDep,
    OrganisationId,
    SessionDep,
    SettingsDep,
)
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.api.schemas import (
    LinkCreate,
    LinkPublic,
    ManagerCreate,
    ManagerPublic,
    OrganisationCreate,
    OrganisationPublic,
    OrganisationsPublic,
    OrganisationUpdate,
    SendBack,
    VersionPublic,
    VersionsPublic,
)

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "router"]

router = APIRouter(prefix="/organisations", tags=["organisations"])

MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
_WRITE = error_responses(401, 403, 404)


def public(
    organisation: Organisation, viewer: User | None, *, links: list[LinkPublic] | None = None
) -> OrganisationPublic:
    """The API view of a profile: contacts for signed-in members only (else null), the
    description also as sanitised HTML."""
    out = OrganisationPublic.model_validate(organisation)
    return out.model_copy(
        update={
            "description_html": verbs.description_html(organisation.description),
            "contacts": out.contacts if can_view_contacts(viewer) else None,
            "links": links,
        }
    )


def _links(session: Session, organisation: Organisation, viewer: User | None) -> list[LinkPublic]:
    found = organisation_links(session, organisation=organisation, viewer=viewer)
    return [
        LinkPublic(
            direction=direction,
            kind=link.kind,
            organisation_id=link.organisation.id,
            name=link.organisation.name,
        )
        for direction, side in (("outgoing", found.outgoing), ("incoming", found.incoming))
        for link in side
    ]


@router.get("", responses=error_responses(401), summary="List organisations")
def list_(
    session: SessionDep,
    viewer: OptionalUser,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")] = 0,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2, e.g. DE")
    ] = None,
    type: Annotated[OrganisationType | None, Query()] = None,  # noqa: A002 - the field's name
    status: Annotated[OrganisationStatus | None, Query()] = None,
) -> OrganisationsPublic:
    """Published profiles for everyone; with a token also the profiles you manage, and every
    profile for moderators (``status=submitted`` is the moderation queue). Sorted by name."""
    rows, count = list_organisations(
        session,
        viewer=viewer,
        country=country,
        type=type,
        status=status,
        limit=limit,
        offset=offset,
    )
    return OrganisationsPublic(data=[public(row, viewer) for row in rows], count=count)


@router.get("/{organisation_id}", responses=error_responses(401, 404), summary="Read a profile")
def read(
    session: SessionDep, viewer: OptionalUser, organisation_id: OrganisationId
) -> OrganisationPublic:
    """A published profile, or one you manage, or any profile for moderators. Others are
    answered with 404, as if they did not exist."""
    organisation = visible_organisation(session, viewer=viewer, organisation_id=organisation_id)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no organisation with this id")
    return public(organisation, viewer, links=_links(session, organisation, viewer))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403),
    summary="Create a draft profile",
)
def create(body: OrganisationCreate, session: SessionDep, user: CurrentUser) -> OrganisationPublic:
    """A draft profile; you become its first manager."""
    organisation = verbs.create_organisation(session, actor=user, **body.model_dump())
    return public(organisation, user)


@router.patch("/{organisation_id}", responses=_WRITE, summary="Edit a profile")
def update(
    user: CurrentUser,
    organisation: OrganisationDep,
    body: OrganisationUpdate,
    session: SessionDep,
    settings: SettingsDep,
) -> OrganisationPublic:
    """Change the fields given (by a manager or an administrator): drafts, returned and
    published profiles (a submitted one waits for its moderator). An edit of a published
    profile keeps it published and records a new version."""
    changes = body.model_dump(exclude_unset=True)
    verbs.update_organisation(
        session, actor=user, organisation=organisation, settings=settings, **changes
    )
    return public(organisation, user)


@router.post("/{organisation_id}/submit", responses=_WRITE, summary="Submit for review")
def submit(
    user: CurrentUser, organisation: OrganisationDep, session: SessionDep, settings: SettingsDep
) -> OrganisationPublic:
    """A manager sends a draft or returned profile to the moderators. A cluster organisation
    must be eligible (enough members of enough types; 422 on ``members`` otherwise)."""
    verbs.submit(session, actor=user, organisation=organisation, settings=settings)
    return public(organisation, user)


@router.post("/{organisation_id}/publish", responses=_WRITE, summary="Publish (moderators)")
def publish(
    user: CurrentUser, organisation: OrganisationDep, session: SessionDep
) -> OrganisationPublic:
    """A moderator who does not manage the organisation publishes a submitted profile."""
    verbs.publish(session, actor=user, organisation=organisation)
    return public(organisation, user)


@router.post("/{organisation_id}/send-back", responses=_WRITE, summary="Send back with a reason")
def send_back(
    user: CurrentUser, organisation: OrganisationDep, body: SendBack, session: SessionDep
) -> OrganisationPublic:
    """A moderator returns a submitted profile to its managers, saying what to change."""
    verbs.send_back(session, actor=user, organisation=organisation, reason=body.reason)
    return public(organisation, user)


@router.get(
    "/{organisation_id}/versions",
    responses=error_responses(401, 404),
    summary="A profile's published versions",
)
def versions(
    session: SessionDep, viewer: OptionalUser, organisation_id: OrganisationId
) -> VersionsPublic:
    """Newest first, each with the fields that changed since the version before (contacts
    only for signed-in members)."""
    organisation = visible_organisation(session, viewer=viewer, organisation_id=organisation_id)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no organisation with this id")
    rows = organisation_versions(session, organisation, with_contacts=can_view_contacts(viewer))
    return VersionsPublic(
        data=[
            VersionPublic(version=v.version, at=v.at, by=v.actor_email, changes=v.changes)
            for v in rows
        ],
        count=len(rows),
    )


@router.post(
    "/{organisation_id}/links",
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
    summary="Link to another organisation",
)
def add_link(
    user: CurrentUser, organisation: OrganisationDep, body: LinkCreate, session: SessionDep
) -> LinkPublic:
    """This organisation is a member (``member_of``) or partner (``partner_of``) of a
    published organisation. By this organisation's managers."""
    target = get_organisation(session, body.target_id)
    verbs.link(session, actor=user, source=organisation, target=target, kind=body.kind)
    assert target is not None  # the verb refuses a missing target
    return LinkPublic(
        direction="outgoing", kind=body.kind, organisation_id=target.id, name=target.name
    )


@router.delete(
    "/{organisation_id}/links",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_WRITE,
    summary="Remove a link",
)
def remove_link(
    user: CurrentUser,
    organisation: OrganisationDep,
    session: SessionDep,
    target_id: Annotated[int, Query(ge=1, le=MAX_ID, description="the linked organisation")],
    kind: Annotated[LinkKind, Query()],
) -> Response:
    """Remove a link of this organisation (by its managers); 404 if there is no such link."""
    if not verbs.unlink(session, actor=user, source=organisation, target_id=target_id, kind=kind):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such link")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{organisation_id}/managers",
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
    summary="Add a manager",
)
def add_manager(
    user: CurrentUser, organisation: OrganisationDep, body: ManagerCreate, session: SessionDep
) -> ManagerPublic:
    """Make the confirmed account with this address a manager too (by a manager)."""
    row = verbs.add_manager_by_email(
        session, actor=user, organisation=organisation, email=body.email
    )
    return ManagerPublic(organisation_id=organisation.id, user_id=row.user_id, email=row.user.email)
