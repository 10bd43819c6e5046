"""Accounts: registration, argon2 passwords, signed e-mail tokens, authentication.

Verbs take the session and keyword-only arguments, flush (they never commit: the caller owns
the transaction) and write an audit row. Tokens are signed with the settings' secret key by
itsdangerous; they name their purpose, expire (``max_age`` in the settings, checked against an
explicit ``now`` when given) and stop working once used: a confirmation token names the
address it confirms, a reset token a fingerprint of the password it replaces.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.mail import queue_email
from clusteratlas.collaboration.models import User, utcnow

if TYPE_CHECKING:
    from argon2 import PasswordHasher
    from itsdangerous import URLSafeTimedSerializer

    from clusteratlas.collaboration.settings import Settings

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "InvalidToken",
    "authenticate",
    "confirm_email",
    "find_user_by_email",
    "hash_password",
    "make_confirmation_token",
    "make_password_reset_token",
    "password_reset_user",
    "queue_account_exists_email",
    "queue_confirmation_email",
    "register_user",
    "request_password_reset",
    "resend_confirmation",
    "reset_password",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this bounds the work per request
MAX_EMAIL_LENGTH = 254
#: one @, no spaces, a dot in the domain: deliverability is proven by the confirmation e-mail
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

_CONFIRM = "clusteratlas.confirm-email"
_RESET = "clusteratlas.reset-password"


class InvalidToken(ValueError):  # noqa: N818 - reads as the condition, like itsdangerous' BadSignature
    """A token that is forged, for another purpose, expired or already used."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's (RFC 9106) defaults


def hash_password(password: str) -> str:
    """An argon2id hash (with its salt and parameters) of ``password``."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a malformed hash too."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _normalise_email(email: str) -> str:
    return email.strip()


def _check_password(password: str, errors: dict[str, str]) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"use at least {MIN_PASSWORD_LENGTH} characters"
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors["password"] = f"use at most {MAX_PASSWORD_LENGTH} characters"


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this address, whatever its case."""
    key = _normalise_email(email).lower()
    return session.scalars(select(User).where(func.lower(User.email) == key)).one_or_none()


def register_user(session: Session, *, email: str, password: str) -> User:
    """Create an unconfirmed account (the caller e-mails :func:`make_confirmation_token`).

    Raises :class:`ValidationError` for a malformed or taken address or a short password.
    """
    email = _normalise_email(email)
    errors: dict[str, str] = {}
    if len(email) > MAX_EMAIL_LENGTH:
        errors["email"] = f"use at most {MAX_EMAIL_LENGTH} characters"
    elif not _EMAIL.match(email):
        errors["email"] = "enter an e-mail address such as name@example.org"
    elif find_user_by_email(session, email) is not None:
        errors["email"] = "an account with this address exists already"
    _check_password(password, errors)
    if errors:
        raise ValidationError(errors)
    user = User(email=email, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record(
        session,
        actor=user,
        action="user.registered",
        entity_type="user",
        entity_id=user.id,
        changes={"email": email},
    )
    session.flush()
    return user


def authenticate(
    session: Session, *, email: str, password: str, require_confirmed: bool = True
) -> User | None:
    """The user with these credentials, or None (unknown address, wrong password, or not yet
    confirmed when ``require_confirmed``). Unknown addresses cost a hash too, so timing does
    not tell which addresses have accounts. A hash with outdated parameters is renewed."""
    user = find_user_by_email(session, email)
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if require_confirmed and user.confirmed_at is None:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not a password of anyone")


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=purpose)


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_confirmation_token(user: User, *, settings: Settings) -> str:
    """A URL-safe token confirming ``user``'s current address, valid for
    ``settings.confirmation_max_age`` seconds."""
    return _serializer(settings, _CONFIRM).dumps({"u": user.id, "e": user.email.lower()})


def make_password_reset_token(user: User, *, settings: Settings) -> str:
    """A URL-safe token to set a new password, valid for ``settings.password_reset_max_age``
    seconds and only until the password changes."""
    return _serializer(settings, _RESET).dumps(
        {"u": user.id, "p": _fingerprint(user.password_hash)}
    )


def _load(
    token: str, *, settings: Settings, purpose: str, max_age: int, now: datetime | None
) -> dict[str, Any]:
    from itsdangerous import BadSignature

    try:
        payload, signed_at = _serializer(settings, purpose).loads(token, return_timestamp=True)
    except BadSignature:
        raise InvalidToken("this link is not valid") from None
    now = now if now is not None else datetime.now(UTC)
    if now - signed_at > timedelta(seconds=max_age):
        raise InvalidToken("this link has expired")
    if not isinstance(payload, dict):
        raise InvalidToken("this link is not valid")
    return payload


def confirm_email(
    session: Session, *, token: str, settings: Settings, now: datetime | None = None
) -> User:
    """Mark the address named by ``token`` confirmed. Raises :class:`InvalidToken`."""
    data = _load(
        token,
        settings=settings,
        purpose=_CONFIRM,
        max_age=settings.confirmation_max_age,
        now=now,
    )
    user = session.get(User, data.get("u"))
    if user is None or user.email.lower() != data.get("e"):
        raise InvalidToken("this link is not valid")
    if user.confirmed_at is None:
        user.confirmed_at = now or utcnow()
        record(
            session,
            actor=user,
            action="user.confirmed",
            entity_type="user",
            entity_id=user.id,
            changes={"email": user.email},
        )
        session.flush()
    return user


def reset_password(
    session: Session,
    *,
    token: str,
    new_password: str,
    settings: Settings,
    now: datetime | None = None,
) -> User:
    """Set a new password with a reset token (which then stops working). Raises
    :class:`InvalidToken` or :class:`ValidationError`. Following the link proves the address,
    so an unconfirmed account becomes confirmed."""
    user = password_reset_user(session, token=token, settings=settings, now=now)
    errors: dict[str, str] = {}
    _check_password(new_password, errors)
    if errors:
        raise ValidationError(errors)
    user.password_hash = hash_password(new_password)
    if user.confirmed_at is None:
        user.confirmed_at = now or utcnow()
    record(session, actor=user, action="user.password_reset", entity_type="user", entity_id=user.id)
    session.flush()
    return user


def password_reset_user(
    session: Session, *, token: str, settings: Settings, now: datetime | None = None
) -> User:
    """The user whose password ``token`` may reset (nothing is changed). Raises
    :class:`InvalidToken` for a forged, expired or used token."""
    data = _load(
        token,
        settings=settings,
        purpose=_RESET,
        max_age=settings.password_reset_max_age,
        now=now,
    )
    uid = data.get("u")
    user = session.get(User, uid) if isinstance(uid, int) else None
    if user is None or _fingerprint(user.password_hash) != data.get("p"):
        raise InvalidToken("this link is not valid or has been used")
    return user


# ---- e-mails -----------------------------------------------------------------------------


def _link(settings: Settings, path: str, token: str | None) -> str:
    base = f"{settings.public_url.rstrip('/')}{path}"
    return base if token is None else f"{base}?token={token}"


def queue_confirmation_email(session: Session, *, user: User, settings: Settings) -> str:
    """Queue the e-mail with the link confirming ``user``'s address; the link."""
    link = _link(settings, "/confirm", make_confirmation_token(user, settings=settings))
    days = max(1, settings.confirmation_max_age // 86400)
    queue_email(
        session,
        to=user.email,
        subject="Confirm your e-mail address for Cluster Atlas",
        body=(
            f"Hello,\n\n"
            f"Welcome to Cluster Atlas! Please confirm that {user.email} is your address by "
            f"opening this link:\n\n{link}\n\n"
            f"The link works for {days} day{'s' if days != 1 else ''}. If you did not sign up, "
            f"you can ignore this e-mail: the account stays unconfirmed.\n\n"
            f"-- Cluster Atlas\n"
        ),
    )
    return link


def queue_account_exists_email(session: Session, *, user: User, settings: Settings) -> None:
    """Someone signed up with the address of an existing account: tell its owner by e-mail
    (the sign-up page answers as for a new account, so it does not reveal who has one)."""
    if user.confirmed_at is None:  # not confirmed yet: a new confirmation link is the help
        queue_confirmation_email(session, user=user, settings=settings)
        return
    queue_email(
        session,
        to=user.email,
        subject="Someone tried to sign up to Cluster Atlas with your address",
        body=(
            f"Hello,\n\n"
            f"Someone, perhaps you, tried to create an account with {user.email}, which already "
            f"has one. If it was you, log in here:\n\n{_link(settings, '/login', None)}\n\n"
            f"Forgot your password? Ask for a new one here:\n\n"
            f"{_link(settings, '/password/forgot', None)}\n\n"
            f"If it was not you, you can ignore this e-mail: nothing has changed.\n\n"
            f"-- Cluster Atlas\n"
        ),
    )


def resend_confirmation(session: Session, *, email: str, settings: Settings) -> bool:
    """Queue a new confirmation e-mail if an unconfirmed account has this address. Whether
    one was queued (tell the user the same either way, so addresses are not revealed)."""
    user = find_user_by_email(session, email) if len(email) <= MAX_EMAIL_LENGTH else None
    if user is None or user.confirmed_at is not None:
        return False
    queue_confirmation_email(session, user=user, settings=settings)
    return True


def request_password_reset(session: Session, *, email: str, settings: Settings) -> bool:
    """Queue an e-mail with a password-reset link if an account has this address, with an
    audit row. Whether one was queued (tell the user the same either way)."""
    user = find_user_by_email(session, email) if len(email) <= MAX_EMAIL_LENGTH else None
    if user is None:
        return False
    link = _link(settings, "/password/reset", make_password_reset_token(user, settings=settings))
    minutes = max(1, settings.password_reset_max_age // 60)
    queue_email(
        session,
        to=user.email,
        subject="Reset your Cluster Atlas password",
        body=(
            f"Hello,\n\n"
            f"Someone (we hope you) asked to reset the password of the Cluster Atlas account "
            f"{user.email}. To choose a new password, open this link:\n\n{link}\n\n"
            f"The link works for {minutes} minutes and only once. Setting a new password logs "
            f"out every other session. If you did not ask for this, ignore this e-mail: your "
            f"password stays as it is.\n\n"
            f"-- Cluster Atlas\n"
        ),
    )
    record(
        session,
        actor=None,
        action="user.password_reset_requested",
        entity_type="user",
        entity_id=user.id,
    )
    session.flush()
    return True
