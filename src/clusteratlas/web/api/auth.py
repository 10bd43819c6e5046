"""``/api/auth``: register, confirm the address, get an API token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from clusteratlas.collaboration.accounts import (
    authenticate,
    confirm_email,
    make_confirmation_token,
    register_user,
)
from clusteratlas.collaboration.tokens import create_api_token
from clusteratlas.web.api.deps import SessionDep, SettingsDep
from clusteratlas.web.api.errors import error_responses
from clusteratlas.web.api.schemas import (
    EmailConfirm,
    RegistrationPublic,
    TokenCreate,
    TokenPublic,
    UserPublic,
    UserRegister,
)

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])

#: environments in which the registration answer carries the confirmation token
SHOW_TOKEN_IN = frozenset({"development", "test"})


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(),
    summary="Create an account (unconfirmed)",
)
def register(body: UserRegister, session: SessionDep, settings: SettingsDep) -> RegistrationPublic:
    """Create an unconfirmed account. In development and test the answer carries the
    confirmation token; in production it will be sent by e-mail (not yet implemented), and
    ``confirmation_token`` is null."""
    user = register_user(session, email=body.email, password=body.password)
    token = (
        make_confirmation_token(user, settings=settings)
        if settings.environment in SHOW_TOKEN_IN
        else None
    )
    return RegistrationPublic(user=UserPublic.model_validate(user), confirmation_token=token)


@router.post("/confirm", responses=error_responses(), summary="Confirm an e-mail address")
def confirm(body: EmailConfirm, session: SessionDep, settings: SettingsDep) -> UserPublic:
    """Confirm the address with the token from registration. An expired, forged or used token
    is a 422 on ``token``."""
    user = confirm_email(session, token=body.token, settings=settings)
    return UserPublic.model_validate(user)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401),
    summary="Get an API token",
)
def create_token(body: TokenCreate, session: SessionDep) -> TokenPublic:
    """Exchange the e-mail address and password of a confirmed account for a bearer token.
    The token is shown only in this answer."""
    user = authenticate(session, email=body.email, password=body.password)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="wrong e-mail address or password, or the address is not confirmed yet",
            headers={"WWW-Authenticate": "Bearer"},
        )
    plaintext, token = create_api_token(session, actor=user, name=body.name)
    return TokenPublic(token=plaintext, id=token.id, name=token.name, created_at=token.created_at)
