"""Dependencies of the API routes, as typed aliases: ``SessionDep``, ``SettingsDep``,
``OptionalUser``, ``CurrentUser`` and ``OrganisationDep``.

One session per request, from the session factory that :func:`~clusteratlas.web.app.
create_app` keeps in ``app.state.sessions``. It is committed when the route returns and before
the response is sent (``scope="function"``), rolled back when the route raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import BackgroundTasks, Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from clusteratlas.collaboration.mail import send_pending
from clusteratlas.collaboration.models import Organisation, User
from clusteratlas.collaboration.queries import get_organisation
from clusteratlas.collaboration.settings import Settings
from clusteratlas.collaboration.tokens import authenticate_api_token

__all__ = [
    "MAX_ID",
    "CurrentUser",
    "OptionalUser",
    "OrganisationId",
    "OrganisationDep",
    "SessionDep",
    "SettingsDep",
    "get_session",
]

#: ids are 32-bit integers on PostgreSQL: larger ones are a 422, not a database error
MAX_ID = 2**31 - 1


def get_session(request: Request, background: BackgroundTasks) -> Iterator[Session]:
    """The request's session; committed when the route returns. If the route queued e-mail
    (:mod:`clusteratlas.collaboration.mail`), the outbox is sent after the response."""
    sessions = request.app.state.sessions
    with sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()
        if session.info.pop("mail_queued", False):
            background.add_task(
                send_pending, request.app.state.sessions, settings=request.app.state.settings
            )


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `POST /api/auth/tokens`: `Authorization: Bearer <token>`.",
)


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def optional_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The user of the bearer token, None without an ``Authorization`` header; 401 for a
    header that is not a valid, active token."""
    if credentials is None:
        if "authorization" in request.headers:
            raise _unauthorised("send the token as `Authorization: Bearer <token>`")
        return None
    user = authenticate_api_token(session, credentials.credentials)
    if user is None:
        raise _unauthorised("this token is not valid or has been revoked")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


def current_user(user: OptionalUser) -> User:
    """The signed-in user; 401 for a visitor."""
    if user is None:
        raise _unauthorised("sign in: send `Authorization: Bearer <token>`")
    return user


CurrentUser = Annotated[User, Depends(current_user)]

OrganisationId = Annotated[int, Path(ge=1, le=MAX_ID, description="the organisation's id")]


def organisation_or_404(session: SessionDep, organisation_id: OrganisationId) -> Organisation:
    """The organisation named in the path, whoever may see it (the verbs check); 404 if none."""
    organisation = get_organisation(session, organisation_id)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no organisation with this id")
    return organisation


OrganisationDep = Annotated[Organisation, Depends(organisation_or_404)]
