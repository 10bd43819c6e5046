"""Accounts: registration, passwords, tokens and authentication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration.accounts import (
    InvalidToken,
    authenticate,
    confirm_email,
    hash_password,
    make_confirmation_token,
    make_password_reset_token,
    register_user,
    reset_password,
    verify_password,
)
from clusteratlas.collaboration.models import AuditLog
from clusteratlas.collaboration.settings import Settings

PASSWORD = "correct horse battery"


@pytest.mark.unit
def test_password_hash_is_argon2id_and_verifies():
    hashed = hash_password(PASSWORD)

    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, "wrong password")
    assert not verify_password("not a hash", PASSWORD)


@pytest.mark.integration
def test_register_user_creates_unconfirmed_account_with_audit_row(session):
    user = register_user(session, email="  Ana@Example.org ", password=PASSWORD)

    rows = session.scalars(select(AuditLog).where(AuditLog.entity_id == user.id)).all()
    assert (user.email, user.confirmed_at, user.is_admin) == ("Ana@Example.org", None, False)
    assert [(r.action, r.actor_id, r.changes) for r in rows] == [
        ("user.registered", user.id, {"email": "Ana@Example.org"})
    ]


@pytest.mark.integration
def test_register_user_refuses_taken_address_whatever_its_case(session):
    register_user(session, email="ana@example.org", password=PASSWORD)

    with pytest.raises(ValidationError) as caught:
        register_user(session, email="ANA@example.org", password=PASSWORD)

    assert caught.value.errors == {"email": "an account with this address exists already"}


@pytest.mark.integration
def test_register_user_reports_every_bad_field(session):
    with pytest.raises(ValidationError) as caught:
        register_user(session, email="not-an-address", password="short")

    assert sorted(caught.value.errors) == ["email", "password"]


@pytest.mark.integration
def test_authenticate_needs_confirmed_account_and_right_password(session, settings):
    user = register_user(session, email="ana@example.org", password=PASSWORD)

    before = authenticate(session, email="ana@example.org", password=PASSWORD)
    confirm_email(
        session, token=make_confirmation_token(user, settings=settings), settings=settings
    )

    assert before is None
    assert authenticate(session, email="ANA@example.org", password=PASSWORD) is user
    assert authenticate(session, email="ana@example.org", password="wrong password") is None
    assert authenticate(session, email="bob@example.org", password=PASSWORD) is None


@pytest.mark.integration
def test_confirm_email_sets_confirmed_at_and_audits(session, settings):
    user = register_user(session, email="ana@example.org", password=PASSWORD)
    token = make_confirmation_token(user, settings=settings)

    confirm_email(session, token=token, settings=settings)

    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_id == user.id)).all()
    assert user.confirmed_at is not None
    assert user.confirmed_at.tzinfo is not None
    assert sorted(actions) == ["user.confirmed", "user.registered"]


@pytest.mark.integration
def test_confirmation_token_expires(session, settings):
    user = register_user(session, email="ana@example.org", password=PASSWORD)
    token = make_confirmation_token(user, settings=settings)
    later = datetime.now(UTC) + timedelta(seconds=settings.confirmation_max_age + 5)

    with pytest.raises(InvalidToken, match="expired"):
        confirm_email(session, token=token, settings=settings, now=later)

    assert user.confirmed_at is None


@pytest.mark.integration
def test_tokens_are_bound_to_purpose_and_key(session, settings):
    user = register_user(session, email="ana@example.org", password=PASSWORD)
    reset_token = make_password_reset_token(user, settings=settings)
    other_key = Settings(
        environment="test", database_url="sqlite://", secret_key="another-secret-key-" * 3
    )

    with pytest.raises(InvalidToken):
        confirm_email(session, token=reset_token, settings=settings)
    with pytest.raises(InvalidToken):
        confirm_email(
            session, token=make_confirmation_token(user, settings=other_key), settings=settings
        )


@pytest.mark.integration
def test_reset_password_changes_hash_once(session, settings):
    user = register_user(session, email="ana@example.org", password=PASSWORD)
    token = make_password_reset_token(user, settings=settings)

    reset_password(session, token=token, new_password="a brand new password", settings=settings)

    assert authenticate(session, email="ana@example.org", password="a brand new password") is user
    with pytest.raises(InvalidToken, match="used"):
        reset_password(session, token=token, new_password="yet another password", settings=settings)


@pytest.mark.integration
def test_reset_token_expires(session, settings):
    user = register_user(session, email="ana@example.org", password=PASSWORD)
    token = make_password_reset_token(user, settings=settings)
    later = datetime.now(UTC) + timedelta(seconds=settings.password_reset_max_age + 5)

    with pytest.raises(InvalidToken, match="expired"):
        reset_password(
            session, token=token, new_password="a brand new password", settings=settings, now=later
        )
