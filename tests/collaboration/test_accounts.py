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
    password_reset_user,
    queue_confirmation_email,
    register_user,
    request_password_reset,
    resend_confirmation,
    reset_password,
    verify_password,
)
from clusteratlas.collaboration.models import AuditLog, OutboxEmail
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


# ---- e-mails: confirmation, resend, password reset ---------------------------------------


def _outbox(session) -> list[OutboxEmail]:
    return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


@pytest.mark.integration
def test_confirmation_email_carries_a_working_link(session, settings):
    settings = settings.model_copy(update={"public_url": "https://atlas.example.org/"})
    user = register_user(session, email="ana@example.org", password=PASSWORD)

    link = queue_confirmation_email(session, user=user, settings=settings)
    session.flush()
    (mail,) = _outbox(session)
    token = link.split("token=", 1)[1]

    assert link.startswith("https://atlas.example.org/confirm?token=")
    assert mail.to == "ana@example.org"
    assert mail.subject == "Confirm your e-mail address for Cluster Atlas"
    assert link in mail.body
    assert "Welcome to Cluster Atlas" in mail.body
    assert confirm_email(session, token=token, settings=settings).confirmed_at is not None


@pytest.mark.integration
def test_resend_confirmation_only_for_unconfirmed_accounts(session, settings, create_user):
    register_user(session, email="ana@example.org", password=PASSWORD)
    create_user("bo@example.org")  # confirmed already

    sent = {
        email: resend_confirmation(session, email=email, settings=settings)
        for email in ("ANA@example.org ", "bo@example.org", "nobody@example.org", "x" * 300)
    }
    session.flush()

    assert sent == {
        "ANA@example.org ": True,
        "bo@example.org": False,
        "nobody@example.org": False,
        "x" * 300: False,
    }
    assert [m.to for m in _outbox(session)] == ["ana@example.org"]


@pytest.mark.integration
def test_request_password_reset_emails_a_link_and_audits(session, settings, create_user):
    user = create_user("ana@example.org")

    known = request_password_reset(session, email="Ana@Example.org", settings=settings)
    unknown = request_password_reset(session, email="nobody@example.org", settings=settings)
    session.flush()
    (mail,) = _outbox(session)
    token = mail.body.split("/password/reset?token=", 1)[1].split()[0]
    audit = session.scalars(
        select(AuditLog).where(AuditLog.action == "user.password_reset_requested")
    ).one()

    assert (known, unknown) == (True, False)
    assert mail.to == "ana@example.org"
    assert mail.subject == "Reset your Cluster Atlas password"
    assert f"{settings.public_url}/password/reset?token=" in mail.body
    assert password_reset_user(session, token=token, settings=settings) is user
    assert (audit.entity_id, audit.actor_id) == (user.id, None)


@pytest.mark.integration
def test_password_reset_user_refuses_used_forged_and_expired_tokens(session, settings):
    user = register_user(session, email="ana@example.org", password=PASSWORD)
    token = make_password_reset_token(user, settings=settings)
    later = datetime.now(UTC) + timedelta(seconds=settings.password_reset_max_age + 5)

    with pytest.raises(InvalidToken, match="expired"):
        password_reset_user(session, token=token, settings=settings, now=later)
    with pytest.raises(InvalidToken, match="not valid"):
        password_reset_user(session, token=token + "x", settings=settings)
    with pytest.raises(InvalidToken, match="not valid"):  # a confirmation token is no reset token
        password_reset_user(
            session, token=make_confirmation_token(user, settings=settings), settings=settings
        )
    reset_password(session, token=token, new_password="a brand new password", settings=settings)
    with pytest.raises(InvalidToken, match="used"):
        password_reset_user(session, token=token, settings=settings)


@pytest.mark.integration
def test_reset_password_keeps_the_token_valid_after_a_short_password(session, settings):
    user = register_user(session, email="ana@example.org", password=PASSWORD)
    token = make_password_reset_token(user, settings=settings)

    with pytest.raises(ValidationError) as refused:
        reset_password(session, token=token, new_password="short", settings=settings)

    assert refused.value.errors == {"password": "use at least 10 characters"}
    assert password_reset_user(session, token=token, settings=settings) is user
