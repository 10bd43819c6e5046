"""API tokens: create, revoke, and find the user behind a bearer token.

A token is ``ca_`` followed by 43 URL-safe characters (32 random bytes). Only its SHA-256 is
stored, so a copy of the database does not give access; the plaintext is returned once, by
:func:`create_api_token`. Verbs flush and write an audit row; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.models import ApiToken, User, utcnow
from clusteratlas.collaboration.permissions import is_member

__all__ = [
    "MAX_TOKEN_NAME",
    "TOKEN_PREFIX",
    "authenticate_api_token",
    "create_api_token",
    "hash_api_token",
    "revoke_api_token",
]

TOKEN_PREFIX = "ca_"
MAX_TOKEN_NAME = 100
MAX_TOKEN_LENGTH = 200  # longer strings are not tokens: no need to hash them
#: ``last_used_at`` is written at most this often per token, not on every request
LAST_USED_RESOLUTION = timedelta(minutes=1)
_ENTITY = "api_token"


def hash_api_token(token: str) -> str:
    """The hex SHA-256 of ``token``, as stored in ``api_tokens.token_hash``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, *, actor: User, name: str) -> tuple[str, ApiToken]:
    """A new token for ``actor``: its plaintext (shown once) and its row. Confirmed accounts
    only."""
    if not is_member(actor):
        raise PermissionDenied("confirm your e-mail address before creating an API token")
    text = name.strip()
    if not text:
        raise ValidationError({"name": "name the token, e.g. after the script that uses it"})
    if len(text) > MAX_TOKEN_NAME:
        raise ValidationError({"name": f"use at most {MAX_TOKEN_NAME} characters"})
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=text, token_hash=hash_api_token(plaintext))
    session.add(token)
    session.flush()
    record(
        session,
        actor=actor,
        action="api_token.created",
        entity_type=_ENTITY,
        entity_id=token.id,
        changes={"name": text},
    )
    session.flush()
    return plaintext, token


def revoke_api_token(session: Session, *, actor: User, token: ApiToken) -> ApiToken:
    """Revoke ``token`` (its owner or an administrator). Revoking twice changes nothing."""
    if actor.id != token.user_id and not (actor.is_admin and actor.confirmed_at is not None):
        raise PermissionDenied("only the token's owner may revoke it")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(
            session,
            actor=actor,
            action="api_token.revoked",
            entity_type=_ENTITY,
            entity_id=token.id,
            changes={"name": token.name},
        )
        session.flush()
    return token


def authenticate_api_token(
    session: Session, token: str, *, now: datetime | None = None
) -> User | None:
    """The confirmed user owning the active token ``token``, or None. Records when the token
    was last used (at most once per :data:`LAST_USED_RESOLUTION`)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.scalars(
        select(ApiToken).where(
            ApiToken.token_hash == hash_api_token(token), ApiToken.revoked_at.is_(None)
        )
    ).one_or_none()
    if row is None or row.user.confirmed_at is None:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.flush()
    return row.user
