"""``/api/organisations``: list, read, create, edit, submit and moderate profiles.

Reads go through :mod:`clusteratlas.collaboration.queries` (scoped to what the viewer may
see); writes call the verbs of :mod:`clusteratlas.collaboration.organisations`, which check
permission (403) and input (422).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from clusteratlas.collaboration import organisations as verbs
from clusteratlas.collaboration.models import OrganisationStatus, OrganisationType
from clusteratlas.collaboration.queries import list_organisations, visible_organisation
from clusteratlas.web.api.deps import (
    CurrentUser,
    OptionalUser,
    OrganisationDep,
    OrganisationId,
    SessionDep,
)
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.api.schemas import (
    OrganisationCreate,
    OrganisationPublic,
    OrganisationsPublic,
    OrganisationUpdate,
    SendBack,
)

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "router"]

router = APIRouter(prefix="/organisations", tags=["organisations"])

MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
_WRITE = error_responses(401, 403, 404)


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
    return OrganisationsPublic(
        data=[OrganisationPublic.model_validate(row) for row in rows], count=count
    )


@router.get("/{organisation_id}", responses=error_responses(401, 404), summary="Read a profile")
def read(
    session: SessionDep, viewer: OptionalUser, organisation_id: OrganisationId
) -> OrganisationPublic:
    """A published profile, or one you manage, or any profile for moderators. Others are
    answered with 404, as if they did not exist."""
    organisation = visible_organisation(session, viewer=viewer, organisation_id=organisation_id)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no organisation with this id")
    return OrganisationPublic.model_validate(organisation)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403),
    summary="Create a draft profile",
)
def create(body: OrganisationCreate, session: SessionDep, user: CurrentUser) -> OrganisationPublic:
    """A draft profile; you become its first manager."""
    organisation = verbs.create_organisation(session, actor=user, **body.model_dump())
    return OrganisationPublic.model_validate(organisation)


@router.patch("/{organisation_id}", responses=_WRITE, summary="Edit a draft or returned profile")
def update(
    user: CurrentUser, organisation: OrganisationDep, body: OrganisationUpdate, session: SessionDep
) -> OrganisationPublic:
    """Change the fields given (by a manager or an administrator); drafts and returned
    profiles only."""
    changes = body.model_dump(exclude_unset=True)
    verbs.update_organisation(session, actor=user, organisation=organisation, **changes)
    return OrganisationPublic.model_validate(organisation)


@router.post("/{organisation_id}/submit", responses=_WRITE, summary="Submit for review")
def submit(
    user: CurrentUser, organisation: OrganisationDep, session: SessionDep
) -> OrganisationPublic:
    """A manager sends a draft or returned profile to the moderators."""
    verbs.submit(session, actor=user, organisation=organisation)
    return OrganisationPublic.model_validate(organisation)


@router.post("/{organisation_id}/publish", responses=_WRITE, summary="Publish (moderators)")
def publish(
    user: CurrentUser, organisation: OrganisationDep, session: SessionDep
) -> OrganisationPublic:
    """A moderator who does not manage the organisation publishes a submitted profile."""
    verbs.publish(session, actor=user, organisation=organisation)
    return OrganisationPublic.model_validate(organisation)


@router.post("/{organisation_id}/send-back", responses=_WRITE, summary="Send back with a reason")
def send_back(
    user: CurrentUser, organisation: OrganisationDep, body: SendBack, session: SessionDep
) -> OrganisationPublic:
    """A moderator returns a submitted profile to its managers, saying what to change."""
    verbs.send_back(session, actor=user, organisation=organisation, reason=body.reason)
    return OrganisationPublic.model_validate(organisation)
