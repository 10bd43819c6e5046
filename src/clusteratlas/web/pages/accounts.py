"""Account pages: sign up, confirm the address (and ask for the link again), log in, log out,
forgotten password.

Thin routes: they call :mod:`clusteratlas.collaboration.accounts` and render templates. The
confirmation and password-reset links are e-mailed (through the outbox); in development and
test the page after sign-up shows the confirmation link too. Log-in, sign-up, resending the
confirmation and asking for a reset are rate-limited like the API (429 page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration.accounts import (
    authenticate,
    confirm_email,
    find_user_by_email,
    password_reset_user,
    queue_account_exists_email,
    queue_confirmation_email,
    register_user,
    request_password_reset,
    resend_confirmation,
    reset_password,
)
from clusteratlas.collaboration.models import User
from clusteratlas.web.api.auth import (
    FORGOT_ANSWER,
    RESEND_ANSWER,
    SHOW_TOKEN_IN,
    Action,
    check_rate,
    too_many_message,
)
from clusteratlas.web.api.deps import SessionDep, SettingsDep
from clusteratlas.web.pages.deps import FormDep, PageUser, render, safe_next
from clusteratlas.web.pages.sessions import flash, sign_in, sign_out

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

LOGIN_FAILED = "wrong e-mail address or password, or the address is not confirmed yet"
PASSWORDS_DIFFER = "the two passwords are not the same"
RESET_DONE = (
    "Your password has been changed and your other sessions have ended. Log in with the new "
    "password."
)


def _rate_limited(request: Request, action: Action, email: str | None) -> Response | None:
    """The 429 page when this attempt is over the limit, else None (the attempt counted)."""
    wait = check_rate(request, action, email)
    if wait is None:
        return None
    message = too_many_message(wait)
    return render(
        request,
        "error.html",
        user=getattr(request.state, "user", None),
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(wait)},
        title="Too many attempts",
        message=f"There were too many attempts from your network or for this e-mail address; "
        f"{message}.",
        status=429,
    )


@router.get("/signup")
def signup_form(request: Request, user: PageUser) -> Response:
    return render(request, "accounts/signup.html", user=user, values={}, errors={})


@router.post("/signup")
def signup(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    email = form.get("email", "")
    if (refused := _rate_limited(request, "signup", email)) is not None:
        return refused
    try:
        account = register_user(session, email=email, password=form.get("password", ""))
    except ValidationError as exc:
        # an address that has an account is answered as a new one (its owner is told by
        # e-mail), so that the form does not reveal who has an account
        errors = dict(exc.errors)
        existing = find_user_by_email(session, email) if "email" in errors else None
        if existing is not None:
            errors.pop("email")
        if errors:
            return render(
                request,
                "accounts/signup.html",
                user=user,
                status_code=status.HTTP_400_BAD_REQUEST,
                values={"email": email},
                errors=errors,
            )
        assert existing is not None
        queue_account_exists_email(session, user=existing, settings=settings)
        return render(
            request,
            "accounts/signup_done.html",
            user=user,
            email=email.strip(),
            link=None,
            environment=settings.environment,
        )
    link = queue_confirmation_email(session, user=account, settings=settings)
    return render(
        request,
        "accounts/signup_done.html",
        user=user,
        email=account.email,
        link=link if settings.environment in SHOW_TOKEN_IN else None,
        environment=settings.environment,
    )


@router.get("/confirm", name="page_confirm")
def confirm(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    token: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    """Following the link confirms the address (confirming twice does no harm)."""
    account = confirm_email(session, token=token, settings=settings)  # InvalidToken: 400 page
    return render(request, "accounts/confirmed.html", user=user, email=account.email)


@router.get("/confirm/resend")
def resend_form(request: Request, user: PageUser) -> Response:
    return render(request, "accounts/resend.html", user=user, values={}, errors={}, sent=None)


def _mail_a_link(
    request: Request,
    form: dict[str, str],
    user: User | None,
    *,
    template: str,
    action: str,
    send: Callable[[str], object],
    answer: str,
) -> Response:
    """The resend and forgot forms: an address in, a link e-mailed by ``send`` if an account
    fits, and the same ``answer`` either way (the form does not tell who has an account)."""
    email = form.get("email", "").strip()
    if not email:
        return render(
            request,
            template,
            user=user,
            status_code=status.HTTP_400_BAD_REQUEST,
            values={},
            errors={"email": "enter your e-mail address"},
            sent=None,
        )
    if (refused := _rate_limited(request, action, email)) is not None:
        return refused
    send(email)
    return render(request, template, user=user, values={}, errors={}, sent=answer)


@router.post("/confirm/resend")
def resend(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    """The same answer whether or not an unconfirmed account has the address."""
    return _mail_a_link(
        request,
        form,
        user,
        template="accounts/resend.html",
        action="resend",
        send=lambda email: resend_confirmation(session, email=email, settings=settings),
        answer=RESEND_ANSWER,
    )


@router.get("/password/forgot")
def forgot_form(request: Request, user: PageUser) -> Response:
    return render(request, "accounts/forgot.html", user=user, values={}, errors={}, sent=None)


@router.post("/password/forgot")
def forgot(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    """The same answer whether or not an account has the address."""
    return _mail_a_link(
        request,
        form,
        user,
        template="accounts/forgot.html",
        action="forgot",
        send=lambda email: request_password_reset(session, email=email, settings=settings),
        answer=FORGOT_ANSWER,
    )


@router.get("/password/reset")
def reset_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    token: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    """The new-password form; a bad, expired or used link is a 400 page."""
    account = password_reset_user(session, token=token, settings=settings)
    return render(
        request, "accounts/reset.html", user=user, token=token, email=account.email, errors={}
    )


@router.post("/password/reset")
def reset(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    """Set the new password (typed twice), then the log-in page with a message."""
    token = form.get("token", "")[:1000]
    account = password_reset_user(session, token=token, settings=settings)  # 400 page
    password = form.get("password", "")
    errors: dict[str, str] = {}
    if password != form.get("password2", ""):
        errors["password2"] = PASSWORDS_DIFFER
    else:
        try:
            reset_password(session, token=token, new_password=password, settings=settings)
        except ValidationError as exc:
            errors = exc.errors
    if errors:
        return render(
            request,
            "accounts/reset.html",
            user=user,
            status_code=status.HTTP_400_BAD_REQUEST,
            token=token,
            email=account.email,
            errors=errors,
        )
    sign_out(request)
    flash(request, RESET_DONE)
    return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)


@router.get("/login")
def login_form(
    request: Request, user: PageUser, next: Annotated[str, Query(max_length=2000)] = ""
) -> Response:
    return render(
        request, "accounts/login.html", user=user, values={}, error=None, next=safe_next(next)
    )


@router.post("/login")
def login(request: Request, form: FormDep, session: SessionDep, user: PageUser) -> Response:
    email = form.get("email", "")
    target = safe_next(form.get("next"))
    if (refused := _rate_limited(request, "login", email)) is not None:
        return refused
    account = authenticate(session, email=email, password=form.get("password", ""))
    if account is None:
        return render(
            request,
            "accounts/login.html",
            user=user,
            status_code=status.HTTP_400_BAD_REQUEST,
            values={"email": email},
            error=LOGIN_FAILED,
            next=target,
        )
    sign_in(request, account)
    flash(request, f"Signed in as {account.email}.")
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.post("/logout")
def logout(request: Request, _form: FormDep) -> Response:
    sign_out(request)
    return RedirectResponse("/", status.HTTP_303_SEE_OTHER)


@router.get("/")
def home(request: Request, user: PageUser) -> Response:
    return render(request, "home.html", user=user)
