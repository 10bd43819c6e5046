"""API tokens: creation, hashing, revocation, authentication and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.models import ApiToken, AuditLog, utcnow
from clusteratlas.collaboration.tokens import (
    authenticate_api_token,
    create_api_token,
    hash_api_token,
    revoke_api_token,
)

pytestmark = pytest.mark.integration


def test_create_stores_only_the_hash(session, create_user):
    user = create_user()

    plaintext, token = create_api_token(session, actor=user, name="  nightly export ")

    assert plaintext.startswith("ca_")
    assert len(plaintext) == 46
    assert token.token_hash == hash_api_token(plaintext)
    assert plaintext not in token.token_hash
    assert (token.name, token.user_id, token.revoked_at) == ("nightly export", user.id, None)
    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "api_token"))
    assert list(actions) == ["api_token.created"]


def test_create_refused_for_unconfirmed_account(session, create_user):
    with pytest.raises(PermissionDenied):
        create_api_token(session, actor=create_user(confirmed=False), name="x")


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_create_checks_the_name(session, create_user, name):
    with pytest.raises(ValidationError) as caught:
        create_api_token(session, actor=create_user(), name=name)

    assert list(caught.value.errors) == ["name"]


def test_authenticate_returns_owner_and_records_use(session, create_user):
    user = create_user()
    plaintext, token = create_api_token(session, actor=user, name="x")
    now = utcnow()

    found = authenticate_api_token(session, plaintext, now=now)
    again = authenticate_api_token(session, plaintext, now=now + timedelta(seconds=5))

    assert (found, again) == (user, user)
    assert token.last_used_at == now  # not rewritten within a minute


@pytest.mark.parametrize("token", ["", "ca_unknown", "no-prefix", "ca_" + "x" * 300])
def test_authenticate_rejects_unknown_tokens(session, token):
    assert authenticate_api_token(session, token) is None


def test_revoked_token_no_longer_authenticates(session, create_user):
    user = create_user()
    plaintext, token = create_api_token(session, actor=user, name="x")

    revoke_api_token(session, actor=user, token=token)
    revoke_api_token(session, actor=user, token=token)  # twice: no change

    assert authenticate_api_token(session, plaintext) is None
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.entity_id == token.id).order_by(AuditLog.id)
    )
    assert list(actions) == ["api_token.created", "api_token.revoked"]


def test_revoke_by_owner_or_admin_only(session, create_user):
    owner, other, admin = create_user(), create_user(), create_user(admin=True)
    _, token = create_api_token(session, actor=owner, name="x")

    with pytest.raises(PermissionDenied):
        revoke_api_token(session, actor=other, token=token)
    revoke_api_token(session, actor=admin, token=token)

    assert token.revoked_at is not None


def test_token_of_unconfirmed_user_does_not_authenticate(session, create_user):
    user = create_user()
    plaintext, _ = create_api_token(session, actor=user, name="x")
    user.confirmed_at = None
    session.flush()

    assert authenticate_api_token(session, plaintext) is None


def test_token_hash_is_unique(session, create_user):
    user = create_user()
    _, token = create_api_token(session, actor=user, name="x")

    session.add(ApiToken(user_id=user.id, name="y", token_hash=token.token_hash))

    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()
