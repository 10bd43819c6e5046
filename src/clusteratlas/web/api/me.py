"""``/api/me``: the signed-in user (roles, managed organisations) and their notifications.

Every route needs a bearer token (401 without); a user only ever reads or marks their own
notifications: an id of someone else's is refused like an unknown one (422 on ``ids``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from clusteratlas.collaboration.mail import list_notifications, mark_read, unread_count
from clusteratlas.collaboration.models import OrganisationManager
from clusteratlas.collaboration.permissions import can_moderate, is_member
from clusteratlas.web.api.deps import MAX_ID, CurrentUser, SessionDep
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.api.schemas import UserPublic

__all__ = ["router"]

router = APIRouter(prefix="/me", tags=["me"])

Role = Literal["administrator", "moderator", "member"]


class MePublic(BaseModel):
    """The signed-in user, their roles and the ids of the organisations they manage."""

    user: UserPublic
    roles: list[Role]
    managed_organisations: list[int]
    unread_notifications: int


class NotificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject: str
    body: str
    link: str | None = Field(description="a path on this site")
    created_at: datetime
    read_at: datetime | None


class NotificationsPublic(BaseModel):
    """A page of notifications, newest first; ``count`` of all that match, ``unread`` of all
    unread ones."""

    data: list[NotificationPublic]
    count: int
    unread: int


class NotificationsRead(BaseModel):
    """Which notifications to mark read: ``ids``, or all when it is null or left out."""

    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=1000)] | None = (
        None
    )


class NotificationsReadPublic(BaseModel):
    marked: int
    unread: int


@router.get("", responses=error_responses(401), summary="The signed-in user")
def me(user: CurrentUser, session: SessionDep) -> MePublic:
    """The user of the token, their roles (``administrator``, ``moderator``, ``member``) and
    the ids of the organisations they manage."""
    roles: list[Role] = []
    if user.is_admin:
        roles.append("administrator")
    if can_moderate(user):
        roles.append("moderator")
    if is_member(user):
        roles.append("member")
    managed = session.scalars(
        select(OrganisationManager.organisation_id)
        .where(OrganisationManager.user_id == user.id)
        .order_by(OrganisationManager.organisation_id)
    ).all()
    return MePublic(
        user=UserPublic.model_validate(user),
        roles=roles,
        managed_organisations=list(managed),
        unread_notifications=unread_count(session, user),
    )


@router.get(
    "/notifications", responses=error_responses(401), summary="Your notifications, newest first"
)
def notifications(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    unread: Annotated[bool, Query(description="only the unread ones")] = False,
) -> NotificationsPublic:
    rows, total = list_notifications(session, user, limit=limit, offset=offset, unread_only=unread)
    return NotificationsPublic(
        data=[NotificationPublic.model_validate(row) for row in rows],
        count=total,
        unread=unread_count(session, user),
    )


@router.post(
    "/notifications/read",
    responses=error_responses(401),
    summary="Mark your notifications read",
)
def read(
    user: CurrentUser, session: SessionDep, body: NotificationsRead | None = None
) -> NotificationsReadPublic:
    """Mark the notifications in ``ids`` read (all of yours when ``ids`` is null or there is
    no body). An id that is not one of your notifications is a 422 on ``ids``."""
    ids = body.ids if body is not None else None
    marked = mark_read(session, actor=user, ids=ids)
    return NotificationsReadPublic(marked=marked, unread=unread_count(session, user))
