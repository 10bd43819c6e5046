"""The moderation queue: submitted profiles, each with a publish form and a send-back form
(with the reason). Moderators and administrators only; the verbs check who may review."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.responses import Response

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration import organisations as verbs
from clusteratlas.collaboration.models import Organisation, OrganisationStatus, User
from clusteratlas.collaboration.permissions import can_moderate
from clusteratlas.collaboration.queries import get_organisation, list_organisations
from clusteratlas.web.api.deps import OrganisationId, SessionDep
from clusteratlas.web.pages.deps import FormDep, SignedInUser, render
from clusteratlas.web.pages.sessions import flash

__all__ = ["QUEUE_SIZE", "router"]

router = APIRouter(prefix="/moderation", include_in_schema=False)

QUEUE_SIZE = 100


def _moderator(user: User) -> User:
    if not can_moderate(user):
        raise PermissionDenied("Only moderators may review profiles.")
    return user


def _queue(
    request: Request,
    session: Session,
    user: User,
    *,
    status_code: int = 200,
    errors: dict[int, str] | None = None,
    reasons: dict[int, str] | None = None,
) -> Response:
    rows, count = list_organisations(
        session, viewer=user, status=OrganisationStatus.submitted, limit=QUEUE_SIZE
    )
    return render(
        request,
        "moderation/queue.html",
        user=user,
        status_code=status_code,
        organisations=rows,
        descriptions={
            row.id: Markup(verbs.description_html(row.description))  # noqa: S704 - sanitised
            for row in rows
        },
        count=count,
        errors=errors or {},
        reasons=reasons or {},
    )


def _submitted(session: Session, organisation_id: int) -> Organisation:
    organisation = get_organisation(session, organisation_id)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such organisation.")
    return organisation


@router.get("")
def queue(request: Request, session: SessionDep, user: SignedInUser) -> Response:
    return _queue(request, session, _moderator(user))


@router.post("/{organisation_id}/publish")
def publish(
    request: Request,
    _form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    organisation_id: OrganisationId,
) -> Response:
    moderator = _moderator(user)
    organisation = _submitted(session, organisation_id)
    verbs.publish(session, actor=moderator, organisation=organisation)
    flash(request, f"Published {organisation.name}.")
    return RedirectResponse("/moderation", status.HTTP_303_SEE_OTHER)


@router.post("/{organisation_id}/send-back")
def send_back(
    request: Request,
    form: FormDep,
    session: SessionDep,
    user: SignedInUser,
    organisation_id: OrganisationId,
) -> Response:
    moderator = _moderator(user)
    organisation = _submitted(session, organisation_id)
    reason = form.get("reason", "")
    try:
        verbs.send_back(session, actor=moderator, organisation=organisation, reason=reason)
    except ValidationError as exc:
        if "reason" not in exc.errors:
            raise
        return _queue(
            request,
            session,
            user,
            status_code=status.HTTP_400_BAD_REQUEST,
            errors={organisation.id: exc.errors["reason"]},
            reasons={organisation.id: reason},
        )
    flash(request, f"Sent {organisation.name} back to its managers.")
    return RedirectResponse("/moderation", status.HTTP_303_SEE_OTHER)
