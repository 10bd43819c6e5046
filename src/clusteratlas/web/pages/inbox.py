"""Pages: the inbox of the signed-in user (their notifications, newest first), opening one
(which marks it read and goes to what it is about) and the form marking them all read.

Only the user's own notifications are listed or changed (:func:`~clusteratlas.collaboration.
mail.list_notifications`, :func:`~clusteratlas.collaboration.mail.mark_read`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from clusteratlas.collaboration.mail import can_read_notification, list_notifications, mark_read
from clusteratlas.collaboration.models import Notification
from clusteratlas.web.api.deps import MAX_ID, SessionDep
from clusteratlas.web.pages.deps import FormDep, SignedInUser, render
from clusteratlas.web.pages.sessions import flash

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter(include_in_schema=False)

#: notifications per page
PAGE_SIZE = 30


@router.get("/inbox")
def inbox(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    notifications, total = list_notifications(
        session, user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        "inbox/inbox.html",
        user=user,
        notifications=notifications,
        total=total,
        page=page,
        pages=pages,
    )


def site_path(link: str | None) -> str | None:
    """``link`` if it is a path on this site (never another host), else None."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return None


@router.get("/inbox/{notification_id}")
def open_notification(
    session: SessionDep,
    user: SignedInUser,
    notification_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Mark one of the user's notifications read and go to what it is about (or back to the
    inbox when it links nowhere). Someone else's notification is a 404, as if it did not
    exist."""
    note = session.get(Notification, notification_id)
    if note is None or not can_read_notification(user, note.user_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="There is no such notification.")
    if note.read_at is None:
        mark_read(session, actor=user, ids=[note.id])
    return RedirectResponse(site_path(note.link) or "/inbox", status.HTTP_303_SEE_OTHER)


@router.post("/inbox/read")
def read_all(request: Request, _form: FormDep, session: SessionDep, user: SignedInUser) -> Response:
    """Mark every notification of the signed-in user read."""
    changed = mark_read(session, actor=user)
    flash(request, f"Marked {changed} notification{'s' if changed != 1 else ''} read.")
    return RedirectResponse("/inbox", status.HTTP_303_SEE_OTHER)
