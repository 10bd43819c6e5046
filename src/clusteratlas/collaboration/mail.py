"""E-mail and site notifications, through an outbox.

A verb that must tell someone something calls :func:`queue_email` (an e-mail) or
:func:`notify` (a notification in the user's inbox on the site, plus an e-mail). Both only add
rows in the caller's transaction, so an e-mail exists if and only if the change that caused it
was committed. :func:`send_pending` sends what is waiting over SMTP (the web app calls it after
each request that queued mail; ``clusteratlas mail send`` retries what failed) and records
failures on the row instead of losing the message. With ``CLUSTERATLAS_MAIL_ENABLED=false``
the web app does not try SMTP: e-mails stay in the outbox until ``clusteratlas mail send``.

The inbox on the site reads and marks notifications through :func:`list_notifications`,
:func:`unread_count` and :func:`mark_read`; a user only ever sees their own
(:func:`can_read_notification`).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.models import Notification, OutboxEmail, User, utcnow

if TYPE_CHECKING:
    from clusteratlas.collaboration.settings import Settings

__all__ = [
    "MAX_ATTEMPTS",
    "build_message",
    "can_read_notification",
    "list_notifications",
    "mark_read",
    "notify",
    "queue_email",
    "send_pending",
    "unread_count",
]

#: an e-mail that failed this many times is left for an administrator to look at
MAX_ATTEMPTS = 5
MAX_SUBJECT = 300


def queue_email(session: Session, *, to: str, subject: str, body: str) -> OutboxEmail:
    """Add an e-mail to the outbox, in the caller's transaction (sent after commit)."""
    row = OutboxEmail(to=to, subject=subject[:MAX_SUBJECT], body=body)
    session.add(row)
    session.info["mail_queued"] = True  # the web app sends after this session commits
    return row


def notify(
    session: Session,
    *,
    user: User,
    subject: str,
    body: str,
    link: str | None = None,
    email: bool = True,
    base_url: str = "",
) -> Notification:
    """A notification in ``user``'s inbox on the site and, if ``email``, the same by e-mail
    (``link``, a path on this site, is appended to the e-mail after ``base_url``)."""
    row = Notification(user_id=user.id, subject=subject[:MAX_SUBJECT], body=body, link=link)
    session.add(row)
    if email:
        text = body if link is None else f"{body}\n\n{base_url.rstrip('/')}{link}\n"
        queue_email(session, to=user.email, subject=subject, body=text)
    return row


def build_message(row: OutboxEmail, *, settings: Settings) -> EmailMessage:
    """The MIME message of an outbox row (plain text, UTF-8)."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to
    message["Subject"] = row.subject
    message["Date"] = formatdate(row.created_at.timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain="clusteratlas")
    message.set_content(row.body)
    return message


def _connect(settings: Settings, timeout: float) -> smtplib.SMTP:
    if settings.smtp_ssl:
        return smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    if settings.smtp_starttls:
        smtp.starttls(context=ssl.create_default_context())
    return smtp


def send_pending(
    sessions: Callable[[], Session],
    *,
    settings: Settings,
    limit: int = 100,
    timeout: float = 10.0,
    force: bool = False,
) -> tuple[int, int]:
    """Send up to ``limit`` unsent e-mails (oldest first, fewer than :data:`MAX_ATTEMPTS`
    failures) over one SMTP connection; ``(sent, failed)``. A failure is recorded on the row
    (``attempts``, ``last_error``) and the row stays in the outbox. When
    ``settings.mail_enabled`` is false nothing is sent unless ``force`` (the CLI)."""
    if not settings.mail_enabled and not force:
        return 0, 0
    with sessions() as session:
        rows = list(
            session.scalars(
                select(OutboxEmail)
                .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS)
                .order_by(OutboxEmail.id)
                .limit(limit)
            )
        )
        if not rows:
            return 0, 0
        sent = failed = 0
        try:
            smtp = _connect(settings, timeout)
        except (OSError, smtplib.SMTPException) as exc:
            for row in rows:
                row.attempts += 1
                row.last_error = (
                    f"cannot connect to {settings.smtp_host}:{settings.smtp_port}: {exc}"
                )
            session.commit()
            return 0, len(rows)
        try:
            if settings.smtp_user:
                password = settings.smtp_password
                smtp.login(settings.smtp_user, password.get_secret_value() if password else "")
            for row in rows:
                try:
                    smtp.send_message(build_message(row, settings=settings))
                except (OSError, smtplib.SMTPException) as exc:
                    row.attempts += 1
                    row.last_error = str(exc)[:2000]
                    failed += 1
                else:
                    row.attempts += 1
                    row.sent_at = utcnow()
                    row.last_error = None
                    sent += 1
        except (OSError, smtplib.SMTPException) as exc:  # login failed
            for row in rows:
                if row.sent_at is None:
                    row.attempts += 1
                    row.last_error = str(exc)[:2000]
            failed = sum(row.sent_at is None for row in rows)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        session.commit()
        return sent, failed


# ---- the inbox ---------------------------------------------------------------------------

#: the ``session.info`` key caching the unread count of a user for one request
_UNREAD_KEY = "unread_notifications"


def can_read_notification(user: User | None, owner_id: int) -> bool:
    """Whether ``user`` may read (and mark read) a notification of user ``owner_id``: only
    its own addressee, even an administrator may not (pure predicate)."""
    return user is not None and user.id == owner_id


def unread_count(session: Session, user: User) -> int:
    """How many of ``user``'s notifications are unread (one COUNT, cached for the session
    until :func:`mark_read`)."""
    cache: dict[int, int] = session.info.setdefault(_UNREAD_KEY, {})
    if user.id not in cache:
        cache[user.id] = (
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            )
            or 0
        )
    return cache[user.id]


def list_notifications(
    session: Session, user: User, *, limit: int = 50, offset: int = 0, unread_only: bool = False
) -> tuple[list[Notification], int]:
    """``user``'s notifications, newest first, and how many there are in all."""
    where = [Notification.user_id == user.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    rows = session.scalars(
        select(Notification)
        .where(*where)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def mark_read(session: Session, *, actor: User, ids: list[int] | None = None) -> int:
    """Mark ``actor``'s notifications read: those in ``ids``, or all when None. How many
    changed. An id that is not one of the actor's notifications is a :class:`ValidationError`
    on ``ids`` (whether it exists or belongs to someone else is not told)."""
    where = [Notification.user_id == actor.id, Notification.read_at.is_(None)]
    if ids is not None:
        wanted = set(ids)
        owners = dict(
            session.execute(
                select(Notification.id, Notification.user_id).where(Notification.id.in_(wanted))
            ).all()
        )
        refused = sorted(i for i in wanted if not can_read_notification(actor, owners.get(i, -1)))
        if refused:
            shown = ", ".join(str(i) for i in refused[:10])
            raise ValidationError({"ids": f"no such notification of yours: {shown}"})
        where.append(Notification.id.in_(wanted))
    changed = session.scalars(select(Notification.id).where(*where)).all()
    if changed:
        session.execute(
            update(Notification)
            .where(Notification.id.in_(changed))
            .values(read_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
        record(
            session,
            actor=actor,
            action="notifications.read",
            entity_type="user",
            entity_id=actor.id,
            changes={"notifications": list(changed)},
        )
        session.flush()
    session.info.get(_UNREAD_KEY, {}).pop(actor.id, None)
    return len(changed)
