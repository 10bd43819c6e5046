"""Signed session cookies and CSRF tokens for the pages.

The session is a small dict (the signed-in user's id, a fingerprint of their password hash, the
CSRF token, flash messages) kept in one cookie, signed by itsdangerous with the secret key and
valid for :data:`MAX_AGE` seconds from when it was last written. The cookie is ``HttpOnly``,
``SameSite=Lax``, and ``Secure`` when the request came over https. It is written only when the
session changed, and removed when the session becomes empty.

The JSON API does not read the session: it is authenticated by bearer tokens only, so it needs
no CSRF protection.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clusteratlas.collaboration.models import User

__all__ = [
    "COOKIE_NAME",
    "CSRF_FIELD",
    "MAX_AGE",
    "SessionCookieMiddleware",
    "check_csrf",
    "csrf_token",
    "flash",
    "password_fingerprint",
    "pop_flashes",
    "sign_in",
    "sign_out",
]

COOKIE_NAME = "clusteratlas_session"
#: seconds a session cookie stays valid after it was last written (14 days)
MAX_AGE = 14 * 24 * 3600
#: the hidden form field carrying the CSRF token
CSRF_FIELD = "csrf_token"
_SALT = "clusteratlas.session"


class SessionCookieMiddleware:
    """Loads ``scope["session"]`` (``request.session``) from the signed cookie and writes it
    back when a route changed it. A forged, expired or unreadable cookie is an empty session
    (and is removed)."""

    def __init__(self, app: ASGIApp, *, secret_key: str, max_age: int = MAX_AGE) -> None:
        self.app = app
        self.max_age = max_age
        self.serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)

    def _load(self, raw: str | None) -> dict[str, Any]:
        if not raw:
            return {}
        try:
            data = self.serializer.loads(raw, max_age=self.max_age)
        except BadSignature:  # also SignatureExpired
            return {}
        return data if isinstance(data, dict) else {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = HTTPConnection(scope).cookies.get(COOKIE_NAME)
        initial = self._load(raw)
        scope["session"] = copy.deepcopy(initial)
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope["session"]
                attributes = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
                cookie = None
                if session and session != initial:
                    value = self.serializer.dumps(session)
                    cookie = f"{COOKIE_NAME}={value}; Max-Age={self.max_age}; {attributes}"
                elif not session and raw:
                    cookie = (
                        f"{COOKIE_NAME}=; Max-Age=0; "
                        f"Expires=Thu, 01 Jan 1970 00:00:00 GMT; {attributes}"
                    )
                if cookie is not None:
                    MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (so only pages with forms set a
    cookie for visitors)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> bool:
    """Whether ``submitted`` is this session's CSRF token (compared in constant time)."""
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def password_fingerprint(user: User) -> str:
    """Ties a session to the password it was opened with: changing it ends other sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def sign_in(request: Request, user: User) -> None:
    """A fresh session for ``user`` (new CSRF token: no session fixation)."""
    request.session.clear()
    request.session.update(
        uid=user.id, pw=password_fingerprint(user), csrf=secrets.token_urlsafe(32)
    )


def sign_out(request: Request) -> None:
    request.session.clear()


def flash(request: Request, message: str) -> None:
    """A message for the next page shown to this session."""
    request.session["flash"] = [*request.session.get("flash", []), message]


def pop_flashes(request: Request) -> list[str]:
    messages = request.session.pop("flash", None)
    return [str(m) for m in messages] if isinstance(messages, list) else []
