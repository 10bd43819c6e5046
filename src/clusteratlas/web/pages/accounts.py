"""Account pages: sign up, confirm the address, log in, log out.

Thin routes: they call :mod:`clusteratlas.collaboration.accounts` and render templates. Until
e-mail is sent (later in #5), the sign-up page shows the confirmation link in development and
test; in production it asks the user to wait for the e-mail.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration.accounts import (
    authenticate,
    confirm_email,
    make_confirmation_token,
    register_user,
)
from clusteratlas.web.api.auth import SHOW_TOKEN_IN
from clusteratlas.web.api.deps import SessionDep, SettingsDep
from clusteratlas.web.pages.deps import FormDep, PageUser, render, safe_next
from clusteratlas.web.pages.sessions import flash, sign_in, sign_out

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

LOGIN_FAILED = "wrong e-mail address or password, or the address is not confirmed yet"


@router.get("/signup")
def signup_form(request: Request, user: PageUser) -> Response:
    return render(request, "accounts/signup.html", user=user, values={}, errors={})


@router.post("/signup")
def signup(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    email = form.get("email", "")
    try:
        account = register_user(session, email=email, password=form.get("password", ""))
    except ValidationError as exc:
        return render(
            request,
            "accounts/signup.html",
            user=user,
            status_code=status.HTTP_400_BAD_REQUEST,
            values={"email": email},
            errors=exc.errors,
        )
    link = None
    if settings.environment in SHOW_TOKEN_IN:
        token = make_confirmation_token(account, settings=settings)
        link = str(request.url_for("page_confirm").include_query_params(token=token))
    return render(
        request,
        "accounts/signup_done.html",
        user=user,
        email=account.email,
        link=link,
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
