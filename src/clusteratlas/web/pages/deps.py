"""Dependencies and helpers of the pages: the signed-in user from the session cookie, form
bodies checked for their CSRF token, and :func:`render`.

Forms are ``application/x-www-form-urlencoded`` and parsed here (no file uploads yet), with a
size limit; text that no database can store (invalid UTF-8, NUL characters) is refused with
400 before it reaches the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import object_session
from starlette.responses import Response

from clusteratlas.collaboration.mail import unread_count
from clusteratlas.collaboration.models import OrganisationType, User
from clusteratlas.collaboration.permissions import can_moderate
from clusteratlas.web.api.deps import SessionDep
from clusteratlas.web.pages.sessions import (
    CSRF_FIELD,
    check_csrf,
    csrf_token,
    password_fingerprint,
    pop_flashes,
)

__all__ = [
    "MAX_FORM_BYTES",
    "TYPE_LABELS",
    "CsrfFailed",
    "FormDep",
    "LoginRequired",
    "NavUser",
    "PageUser",
    "SignedInUser",
    "login_redirect",
    "read_form",
    "render",
    "safe_next",
]

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 100
#: fields of the forms that list one checkbox per item of something large (an event's slots)
MAX_LIST_FORM_FIELDS = 5_000

#: how organisation types read on the pages
TYPE_LABELS: dict[str, str] = {
    OrganisationType.cluster_organisation: "Cluster organisation",
    OrganisationType.company: "Company",
    OrganisationType.research_organisation: "Research organisation",
    OrganisationType.university: "University",
    OrganisationType.public_authority: "Public authority or agency",
    OrganisationType.investor: "Investor",
    OrganisationType.other: "Other",
}


@dataclass(frozen=True)
class NavUser:
    """What the layout shows of the signed-in user: a snapshot, so error pages rendered after
    the request's database session has closed can show it too."""

    email: str
    moderator: bool
    #: unread notifications, shown beside *Inbox*
    unread: int = 0

    @classmethod
    def of(cls, user: User | NavUser | None) -> NavUser | None:
        if user is None or isinstance(user, NavUser):
            return user
        session = object_session(user)
        unread = unread_count(session, user) if session is not None else 0
        return cls(email=user.email, moderator=can_moderate(user), unread=unread)


class LoginRequired(Exception):  # noqa: N818 - reads as the condition
    """A page for signed-in users was asked for by a visitor: redirect to the log-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path
        super().__init__(next_path)


class CsrfFailed(Exception):  # noqa: N818 - reads as the condition
    """A form came without this session's CSRF token: 403."""


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/organisations`` (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/organisations"


def page_user(request: Request, session: SessionDep) -> User | None:
    """The user of the session cookie, or None. A session whose user is gone, unconfirmed or
    has changed password since is ended."""
    uid = request.session.get("uid")
    user = session.get(User, uid) if isinstance(uid, int) else None
    if user is not None and (
        user.confirmed_at is None or request.session.get("pw") != password_fingerprint(user)
    ):
        user = None
    if user is None and "uid" in request.session:
        request.session.pop("uid", None)
        request.session.pop("pw", None)
    request.state.user = NavUser.of(user)
    return user


PageUser = Annotated[User | None, Depends(page_user)]


def signed_in_user(request: Request, user: PageUser) -> User:
    """The signed-in user; a visitor is sent to the log-in page (and back afterwards)."""
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path if request.method == "GET" else request.url.path)
    return user


SignedInUser = Annotated[User, Depends(signed_in_user)]


async def read_form(request: Request, max_fields: int = MAX_FORM_FIELDS) -> dict[str, str]:
    """The fields of a URL-encoded form (the first value of each name); at most
    ``max_fields`` of them and :data:`MAX_FORM_BYTES`."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="send the form as application/x-www-form-urlencoded",
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                detail=f"this form is too large (at most {MAX_FORM_BYTES // 1024} KiB)",
            )
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=max_fields,
        )
    except ValueError as exc:  # UnicodeDecodeError too
        detail = "this form is not valid"
        if "Max number of fields exceeded" in str(exc):
            detail = f"this form has too many fields (at most {max_fields:,})"
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=detail) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, detail="the form contains NUL characters"
            )
        form.setdefault(name, value)
    return form


async def csrf_form(request: Request) -> dict[str, str]:
    """The submitted form, once its CSRF token is this session's."""
    form = await read_form(request)
    if not check_csrf(request, form.get(CSRF_FIELD)):
        raise CsrfFailed()
    return form


FormDep = Annotated[dict[str, str], Depends(csrf_form)]


async def csrf_list_form(request: Request) -> dict[str, str]:
    """:func:`csrf_form` for forms with one field per item of a long list (up to
    :data:`MAX_LIST_FORM_FIELDS` fields): an event's availability, one checkbox per slot."""
    form = await read_form(request, max_fields=MAX_LIST_FORM_FIELDS)
    if not check_csrf(request, form.get(CSRF_FIELD)):
        raise CsrfFailed()
    return form


ListFormDep = Annotated[dict[str, str], Depends(csrf_list_form)]


def render(
    request: Request,
    template: str,
    *,
    user: User | NavUser | None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Response:
    """``template`` with the layout's context: the user, the CSRF token (made on demand),
    the flash messages and the labels of organisation types."""
    templates: Jinja2Templates = request.app.state.templates
    nav = NavUser.of(user)
    base = {
        "user": nav,
        "can_moderate": nav is not None and nav.moderator,
        "csrf_token": partial(csrf_token, request),
        "csrf_field": CSRF_FIELD,
        "flashes": pop_flashes(request),
        "type_labels": TYPE_LABELS,
    }
    return templates.TemplateResponse(
        request, template, base | context, status_code=status_code, headers=headers
    )


def login_redirect(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='/')}"
