"""The outbox: e-mails queued in the caller's transaction and sent over real SMTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.db import session_factory
from clusteratlas.collaboration.mail import MAX_ATTEMPTS, notify, queue_email, send_pending
from clusteratlas.collaboration.models import Notification, OutboxEmail

pytestmark = pytest.mark.integration


@pytest.fixture
def sessions(engine):
    """Sessions on the test database that commit for real (the outbox is read in its own
    session); the rows are removed afterwards."""
    factory = session_factory(engine)
    yield factory
    with factory() as session:
        session.query(Notification).delete()
        session.query(OutboxEmail).delete()
        session.commit()


def _mail_settings(settings, receiver):
    return settings.model_copy(
        update={"smtp_host": receiver.host, "smtp_port": receiver.port, "mail_from": "a@b.org"}
    )


def test_queued_email_is_delivered_once(engine, sessions, settings, smtp_receiver):
    with sessions() as session:
        queue_email(session, to="ana@example.org", subject="Hello Ana", body="Grüße – ok")
        session.commit()
    mail_settings = _mail_settings(settings, smtp_receiver)

    first = send_pending(sessions, settings=mail_settings)
    second = send_pending(sessions, settings=mail_settings)
    received = smtp_receiver.wait_for(1)

    assert (first, second) == ((1, 0), (0, 0))
    assert len(received) == 1
    assert received[0]["Subject"] == "Hello Ana"
    assert received[0]["X-Envelope-To"] == "ana@example.org"
    assert received[0].get_content().strip() == "Grüße – ok"


def test_rolled_back_change_sends_nothing(sessions, settings, smtp_receiver):
    with sessions() as session:
        queue_email(session, to="ana@example.org", subject="x", body="y")
        session.rollback()

    assert send_pending(sessions, settings=_mail_settings(settings, smtp_receiver)) == (0, 0)
    assert smtp_receiver.messages == []


def test_unreachable_server_keeps_the_mail_with_its_error(sessions, settings, smtp_receiver):
    with sessions() as session:
        queue_email(session, to="ana@example.org", subject="x", body="y")
        session.commit()
    port = smtp_receiver.port
    smtp_receiver.stop()
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})

    result = send_pending(sessions, settings=down, timeout=2)

    with sessions() as session:
        row = session.scalars(select(OutboxEmail)).one()
    assert result == (0, 1)
    assert row.sent_at is None
    assert row.attempts == 1
    assert f"127.0.0.1:{port}" in row.last_error


def test_mail_that_failed_too_often_is_not_retried(sessions, settings, smtp_receiver):
    with sessions() as session:
        row = queue_email(session, to="ana@example.org", subject="x", body="y")
        row.attempts = MAX_ATTEMPTS
        session.commit()

    assert send_pending(sessions, settings=_mail_settings(settings, smtp_receiver)) == (0, 0)


def test_notify_writes_inbox_row_and_email_with_link(session, create_user):
    user = create_user("bo@example.org")

    notify(
        session,
        user=user,
        subject="Someone is interested",
        body="Ana is interested in your offer.",
        link="/posts/7",
        base_url="http://localhost:8000/",
    )
    session.flush()

    note = session.scalars(select(Notification).where(Notification.user_id == user.id)).one()
    mail = session.scalars(select(OutboxEmail).where(OutboxEmail.to == "bo@example.org")).one()
    assert (note.subject, note.link, note.read_at) == ("Someone is interested", "/posts/7", None)
    assert mail.body.endswith("http://localhost:8000/posts/7\n")
    assert mail.sent_at is None


def test_notify_without_email_queues_nothing(session, create_user):
    user = create_user("cy@example.org")

    notify(session, user=user, subject="s", body="b", email=False)
    session.flush()

    assert (
        session.scalars(select(OutboxEmail).where(OutboxEmail.to == "cy@example.org")).all() == []
    )
