"""``/api/auth``: register, confirm the address (and ask for the e-mail again), get an API
token, reset a forgotten password.

Registering, asking for an API token (the API's log-in), resending the confirmation and asking
for a password reset are rate-limited per client address and per e-mail address
(:func:`check_rate`, shared with the pages): over the limit the answer is 429 with
``Retry-After``.
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from clusteratlas.collaboration.accounts import (
    MAX_EMAIL_LENGTH,
    authenticate,
    confirm_email,
    make_confirmation_token,
    queue_confirmation_email,
    register_user,
    request_password_reset,
    resend_confirmation,
    reset_password,
)
from clusteratlas.collaboration.ratelimit import RateLimiter
from clusteratlas.collaboration.tokens import create_api_token
from clusteratlas.web.api.deps import SessionDep, SettingsDep
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.api.schemas import (
    MAX_LINE,
    EmailConfirm,
    ErrorPublic,
    Line,
    RegistrationPublic,
    TokenCreate,
    TokenPublic,
    UserPublic,
    UserRegister,
)

__all__ = [
    "FORGOT_ANSWER",
    "RESEND_ANSWER",
    "SHOW_TOKEN_IN",
    "Action",
    "check_rate",
    "limiter",
    "router",
    "too_many_message",
]

router = APIRouter(prefix="/auth", tags=["auth"])

#: environments in which the registration answer carries the confirmation token
SHOW_TOKEN_IN = frozenset({"development", "test"})

#: the same answer whether or not an account has the address
FORGOT_ANSWER = (
    "If an account exists for this address, we have sent it an e-mail with a link to choose "
    "a new password."
)
RESEND_ANSWER = (
    "If an unconfirmed account exists for this address, we have sent it a new confirmation link."
)

#: what is rate-limited; each action counts separately
Action = Literal["login", "signup", "resend", "forgot"]

_limiter_lock = threading.Lock()

RATE_LIMITED = {
    429: {
        "model": ErrorPublic,
        "description": "Too many attempts from this address or for this e-mail address: "
        "wait the `Retry-After` seconds",
    }
}


def limiter(request: Request) -> RateLimiter:
    """The app's rate limiter (``app.state.rate_limiter``), made from the settings on first
    use: one per application, so each worker process and each test app counts alone."""
    state = request.app.state
    found = getattr(state, "rate_limiter", None)
    if found is None:
        with _limiter_lock:
            found = getattr(state, "rate_limiter", None)
            if found is None:
                settings = state.settings
                found = RateLimiter(
                    attempts=settings.rate_limit_attempts, window=settings.rate_limit_window
                )
                state.rate_limiter = found
    return found


def check_rate(request: Request, action: Action, email: str | None) -> int | None:
    """Count one ``action`` attempt by this client and for ``email``; None when allowed,
    else the whole seconds to wait (nothing is counted then)."""
    client = request.client.host if request.client is not None else "unknown"
    keys = [f"{action}:ip:{client}"]
    if email and email.strip():
        keys.append(f"{action}:email:{email.strip().lower()[:MAX_EMAIL_LENGTH]}")
    wait = limiter(request).hit(keys)
    return None if wait is None else max(1, int(-(-wait // 1)))


def too_many_message(wait: int) -> str:
    minutes = -(-wait // 60)
    when = f"{wait} seconds" if wait < 120 else f"{minutes} minutes"
    return f"too many attempts: try again in {when}"


def _limit(request: Request, action: Action, email: str | None) -> None:
    wait = check_rate(request, action, email)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=too_many_message(wait),
            headers={"Retry-After": str(wait)},
        )


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmailOnly(_Input):
    email: Line


class PasswordReset(_Input):
    token: Line
    password: Annotated[Line, Field(max_length=MAX_LINE)]


class Message(BaseModel):
    """A message for the user; the same whether or not an account has the address."""

    detail: str


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses() | RATE_LIMITED,
    summary="Create an account (unconfirmed); the confirmation link is e-mailed",
)
def register(
    body: UserRegister, request: Request, session: SessionDep, settings: SettingsDep
) -> RegistrationPublic:
    """Create an unconfirmed account and e-mail the confirmation link
    (``{public_url}/confirm?token=…``). In development and test the answer also carries the
    token; in production ``confirmation_token`` is null."""
    _limit(request, "signup", body.email)
    user = register_user(session, email=body.email, password=body.password)
    queue_confirmation_email(session, user=user, settings=settings)
    token = (
        make_confirmation_token(user, settings=settings)
        if settings.environment in SHOW_TOKEN_IN
        else None
    )
    return RegistrationPublic(user=UserPublic.model_validate(user), confirmation_token=token)


@router.post("/confirm", responses=error_responses(), summary="Confirm an e-mail address")
def confirm(body: EmailConfirm, session: SessionDep, settings: SettingsDep) -> UserPublic:
    """Confirm the address with the token from the e-mail. An expired, forged or used token
    is a 422 on ``token``."""
    user = confirm_email(session, token=body.token, settings=settings)
    return UserPublic.model_validate(user)


@router.post(
    "/confirm/resend",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses() | RATE_LIMITED,
    summary="E-mail the confirmation link again",
)
def resend(
    body: EmailOnly, request: Request, session: SessionDep, settings: SettingsDep
) -> Message:
    """Send a new confirmation link if an unconfirmed account has this address. The answer
    is the same either way."""
    _limit(request, "resend", body.email)
    resend_confirmation(session, email=body.email, settings=settings)
    return Message(detail=RESEND_ANSWER)


@router.post(
    "/password/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses() | RATE_LIMITED,
    summary="E-mail a link to reset the password",
)
def forgot_password(
    body: EmailOnly, request: Request, session: SessionDep, settings: SettingsDep
) -> Message:
    """E-mail a password-reset link (``{public_url}/password/reset?token=…``, valid for
    ``CLUSTERATLAS_PASSWORD_RESET_MAX_AGE`` seconds) if an account has this address. The
    answer is the same either way."""
    _limit(request, "forgot", body.email)
    request_password_reset(session, email=body.email, settings=settings)
    return Message(detail=FORGOT_ANSWER)


@router.post(
    "/password/reset",
    responses=error_responses(),
    summary="Set a new password with the token from the e-mail",
)
def password_reset(body: PasswordReset, session: SessionDep, settings: SettingsDep) -> UserPublic:
    """Set a new password. The token then stops working; sessions on the pages opened with
    the old password end (API tokens stay valid: revoke them separately). A bad, expired or
    used token is a 422 on ``token``, a short password a 422 on ``password``."""
    user = reset_password(session, token=body.token, new_password=body.password, settings=settings)
    return UserPublic.model_validate(user)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401) | RATE_LIMITED,
    summary="Get an API token",
)
def create_token(body: TokenCreate, request: Request, session: SessionDep) -> TokenPublic:
    """Exchange the e-mail address and password of a confirmed account for a bearer token.
    The token is shown only in this answer."""
    _limit(request, "login", body.email)
    user = authenticate(session, email=body.email, password=body.password)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="wrong e-mail address or password, or the address is not confirmed yet",
            headers={"WWW-Authenticate": "Bearer"},
        )
    plaintext, token = create_api_token(session, actor=user, name=body.name)
    return TokenPublic(token=plaintext, id=token.id, name=token.name, created_at=token.created_at)
