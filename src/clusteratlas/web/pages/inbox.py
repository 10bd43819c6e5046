"""Pages: the inbox of the signed-in user (their notifications, newest first) and the form
marking them all read.

Only the user's own notifications are listed or changed (:func:`~clusteratlas.collaboration.
mail.list_notifications`, :func:`~clusteratlas.collaboration.mail.mark_read`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from clusteratlas.collaboration.mail import list_notifications, mark_read
from clusteratlas.web.api.deps import SessionDep
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


@router.post("/inbox/read")
def read_all(request: Request, _form: FormDep, session: SessionDep, user: SignedInUser) -> Response:
    """Mark every notification of the signed-in user read."""
    changed = mark_read(session, actor=user)
    flash(request, f"Marked {changed} notification{'s' if changed != 1 else ''} read.")
    return RedirectResponse("/inbox", status.HTTP_303_SEE_OTHER)
