"""The inbox on SQLite and PostgreSQL: the domain reads (own notifications only, newest first,
the unread count), the `/inbox` page with its unread count in the nav and the mark-all-read
form, and `/api/me`, `/api/me/notifications`, `/api/me/notifications/read` (every write tried
with another user's ids)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration import ValidationError
from clusteratlas.collaboration.mail import (
    can_read_notification,
    list_notifications,
    mark_read,
    notify,
    unread_count,
)
from clusteratlas.collaboration.models import AuditLog, Notification, User, utcnow
from web.test_pages import csrf_of, h1, inline_code, log_in

pytestmark = pytest.mark.integration


@pytest.fixture
def inbox_of(session):
    """Factory: ``inbox_of(user, 3)`` adds 3 notifications, the last the newest; returns them."""

    def add(user: User, n: int, *, read: int = 0, **fields: str) -> list[Notification]:
        start = utcnow() - timedelta(hours=n)
        rows = []
        for i in range(n):
            row = notify(
                session,
                user=user,
                subject=fields.get("subject", f"Message {i + 1}"),
                body=fields.get("body", f"Body {i + 1}"),
                link=fields.get("link", f"/posts/{i + 1}"),
                email=False,
            )
            row.created_at = start + timedelta(hours=i)
            if i < read:
                row.read_at = utcnow()
            rows.append(row)
        session.flush()
        session.info.pop("unread_notifications", None)
        return rows

    return add


# ---- domain ------------------------------------------------------------------------------


@pytest.mark.unit
def test_only_the_addressee_may_read_a_notification():
    ana, admin = User(id=1, email="a@x.org"), User(id=2, email="b@x.org", is_admin=True)

    assert can_read_notification(ana, 1)
    assert not can_read_notification(admin, 1)
    assert not can_read_notification(None, 1)


def test_list_is_newest_first_and_only_the_users_own(session, create_user, inbox_of):
    ana, bo = create_user(), create_user()
    inbox_of(ana, 3, read=1)
    inbox_of(bo, 2)

    rows, total = list_notifications(session, ana, limit=2)
    unread_rows, unread_total = list_notifications(session, ana, unread_only=True)

    assert [r.subject for r in rows] == ["Message 3", "Message 2"]
    assert total == 3
    assert (unread_total, [r.subject for r in unread_rows]) == (2, ["Message 3", "Message 2"])
    assert (unread_count(session, ana), unread_count(session, bo)) == (2, 2)


def test_mark_read_all_or_some_and_audit(session, create_user, inbox_of):
    ana = create_user()
    first, second, third = inbox_of(ana, 3)

    some = mark_read(session, actor=ana, ids=[first.id])
    after_some = unread_count(session, ana)
    rest = mark_read(session, actor=ana)
    again = mark_read(session, actor=ana)
    audits = session.scalars(select(AuditLog).where(AuditLog.action == "notifications.read")).all()

    assert (some, after_some, rest, again) == (1, 2, 2, 0)
    assert unread_count(session, ana) == 0
    assert [a.changes["notifications"] for a in audits] == [[first.id], [second.id, third.id]]


def test_mark_read_refuses_another_users_ids_and_changes_nothing(session, create_user, inbox_of):
    ana, bo = create_user(), create_user()
    (mine,) = inbox_of(ana, 1)
    (theirs,) = inbox_of(bo, 1)

    with pytest.raises(ValidationError) as refused:
        mark_read(session, actor=ana, ids=[mine.id, theirs.id, 999_999])

    assert refused.value.errors == {"ids": f"no such notification of yours: {theirs.id}, 999999"}
    session.refresh(mine)
    session.refresh(theirs)
    assert (mine.read_at, theirs.read_at) == (None, None)


# ---- page --------------------------------------------------------------------------------


def test_visitor_is_sent_to_log_in(client):
    response = client.get("/inbox", follow_redirects=False)

    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/inbox")


def test_inbox_lists_own_notifications_newest_first_with_unread_count(
    client, create_user, inbox_of
):
    ana, bo = create_user(), create_user()
    inbox_of(ana, 3, read=1)
    inbox_of(bo, 1, subject="Not for Ana")
    log_in(client, ana)

    page = client.get("/inbox")
    subjects = [s.strip() for s in re.findall(r'<a href="/inbox/\d+">([^<]+)</a>', page.text)]

    assert (page.status_code, h1(page.text)) == (200, "Inbox")
    assert subjects == ["Message 3", "Message 2", "Message 1"]
    assert "Not for Ana" not in page.text
    assert page.text.count('class="inbox-item unread"') == 2
    assert (
        '<a href="/inbox">Inbox <span class="badge" title="unread notifications">2</span></a>'
        in page.text
    )
    assert "3 notifications, 2 unread." in page.text
    assert inline_code(page.text) == []


def test_mark_all_read_form(client, create_user, inbox_of):
    ana = create_user()
    inbox_of(ana, 2)
    log_in(client, ana)
    page = client.get("/inbox")

    marked = client.post(
        "/inbox/read", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    after = client.get("/inbox")

    assert (marked.status_code, marked.headers["location"]) == (303, "/inbox")
    assert "Marked 2 notifications read." in after.text
    assert 'class="badge"' not in after.text
    assert "unread" not in after.text.split("<main>", 1)[1].split("</main>")[0].replace(
        "inbox-item", ""
    )
    assert "Mark all read" not in after.text


def test_mark_all_read_needs_the_csrf_token_and_a_signed_in_user(
    client, make_client, settings, create_user, inbox_of
):
    ana = create_user()
    inbox_of(ana, 1)
    log_in(client, ana)
    visitor = make_client(settings)
    token = csrf_of(visitor.get("/login").text)

    forged = client.post("/inbox/read", data={"csrf_token": "wrong"})
    anonymous = visitor.post("/inbox/read", data={"csrf_token": token}, follow_redirects=False)

    assert forged.status_code == 403
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    assert "1 notification, 1 unread." in client.get("/inbox").text


def test_mark_all_read_only_touches_the_users_own(client, session, create_user, inbox_of):
    ana, bo = create_user(), create_user()
    inbox_of(ana, 1)
    (theirs,) = inbox_of(bo, 1)
    log_in(client, ana)

    client.post("/inbox/read", data={"csrf_token": csrf_of(client.get("/inbox").text)})
    session.refresh(theirs)

    assert theirs.read_at is None


def test_empty_inbox_and_escaped_text(client, create_user, inbox_of):
    ana = create_user()
    log_in(client, ana)
    empty = client.get("/inbox")
    inbox_of(ana, 1, subject="<b>bold</b>", body="<script>x</script>", link="javascript:alert(1)")

    page = client.get("/inbox")

    assert "Nothing here yet." in empty.text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text
    assert "javascript:" not in page.text  # only paths on this site become links
    assert inline_code(page.text) == []


def test_inbox_paginates(client, create_user, inbox_of):
    ana = create_user()
    inbox_of(ana, 31)
    log_in(client, ana)

    first, second = client.get("/inbox"), client.get("/inbox?page=2")
    bad = client.get("/inbox?page=0")

    assert "Message 31" in first.text
    assert "Message 1<" not in first.text
    assert 'href="/inbox?page=2"' in first.text
    assert "Message 1<" in second.text
    assert "Page 2 of 2" in second.text
    assert bad.status_code == 404


# ---- API ---------------------------------------------------------------------------------


def test_api_me(client, auth, create_user, create_org):
    ana = create_user("ana@example.org", moderator=True)
    draft = create_org(ana, name="Photonics Valley")
    create_org(create_user(), name="Not Ana's")

    response = client.get("/api/me", headers=auth(ana))

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == "ana@example.org"
    assert body["roles"] == ["moderator", "member"]
    assert body["managed_organisations"] == [draft.id]
    assert body["unread_notifications"] == 0


def test_api_me_roles_of_an_administrator(client, auth, create_user):
    response = client.get("/api/me", headers=auth(create_user(admin=True)))

    assert response.json()["roles"] == ["administrator", "moderator", "member"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/me"),
        ("get", "/api/me/notifications"),
        ("post", "/api/me/notifications/read"),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer ca_not-a-token"}])
def test_api_me_routes_need_a_token(client, method, path, headers):
    response = getattr(client, method)(path, headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_api_notifications_paginated_newest_first(client, auth, create_user, inbox_of):
    ana, bo = create_user(), create_user()
    inbox_of(ana, 5, read=2)
    inbox_of(bo, 2)
    headers = auth(ana)

    page = client.get("/api/me/notifications?limit=2&offset=1", headers=headers)
    unread = client.get("/api/me/notifications?unread=true", headers=headers)

    assert page.status_code == 200
    assert [n["subject"] for n in page.json()["data"]] == ["Message 4", "Message 3"]
    assert (page.json()["count"], page.json()["unread"]) == (5, 3)
    assert page.json()["data"][0]["link"] == "/posts/4"
    assert page.json()["data"][0]["read_at"] is None
    assert [n["subject"] for n in unread.json()["data"]] == ["Message 5", "Message 4", "Message 3"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
        ("unread=maybe", "unread"),
    ],
)
def test_api_notifications_bad_query_is_422(client, auth, create_user, query, field):
    response = client.get(f"/api/me/notifications?{query}", headers=auth(create_user()))

    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_api_mark_read_some_then_all(client, auth, create_user, inbox_of):
    ana = create_user()
    first, *_ = inbox_of(ana, 3)
    headers = auth(ana)

    some = client.post("/api/me/notifications/read", json={"ids": [first.id]}, headers=headers)
    rest = client.post("/api/me/notifications/read", headers=headers)
    none_left = client.post("/api/me/notifications/read", json={"ids": None}, headers=headers)

    assert (some.status_code, some.json()) == (200, {"marked": 1, "unread": 2})
    assert rest.json() == {"marked": 2, "unread": 0}
    assert none_left.json() == {"marked": 0, "unread": 0}


def test_api_mark_read_with_another_users_ids_is_refused(
    client, auth, session, create_user, inbox_of
):
    ana, bo = create_user(), create_user()
    (theirs,) = inbox_of(bo, 1)

    response = client.post(
        "/api/me/notifications/read", json={"ids": [theirs.id]}, headers=auth(ana)
    )
    session.refresh(theirs)

    assert response.status_code == 422
    assert response.json()["errors"] == {"ids": f"no such notification of yours: {theirs.id}"}
    assert theirs.read_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": ["x"]}, "ids.0"),
        ({"ids": [0]}, "ids.0"),
        ({"ids": [2**40]}, "ids.0"),
        ({"ids": 5}, "ids"),
        ({"ids": [], "all": True}, "all"),
        ({"ids": list(range(1, 1002))}, "ids"),
    ],
)
def test_api_mark_read_bad_body_is_422(client, auth, create_user, body, field):
    response = client.post("/api/me/notifications/read", json=body, headers=auth(create_user()))

    assert response.status_code == 422
    assert field in response.json()["errors"]


# ---- opening one notification -------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(
    client, session, create_user, inbox_of
):
    ana = create_user()
    first, second = inbox_of(ana, 2)
    log_in(client, ana)

    opened = client.get(f"/inbox/{first.id}", follow_redirects=False)
    session.refresh(first)
    session.refresh(second)
    page = client.get("/inbox")

    assert (opened.status_code, opened.headers["location"]) == (303, "/posts/1")
    assert first.read_at is not None
    assert second.read_at is None
    assert page.text.count('class="inbox-item unread"') == 1


def test_someone_elses_notification_is_not_found_and_stays_unread(
    client, session, create_user, inbox_of
):
    ana, bo = create_user(), create_user()
    [theirs] = inbox_of(bo, 1)
    log_in(client, ana)

    answer = client.get(f"/inbox/{theirs.id}", follow_redirects=False)
    missing = client.get("/inbox/999999", follow_redirects=False)
    session.refresh(theirs)

    assert (answer.status_code, missing.status_code) == (404, 404)
    assert theirs.read_at is None


def test_a_notification_linking_elsewhere_goes_back_to_the_inbox(client, create_user, inbox_of):
    ana = create_user()
    [note] = inbox_of(ana, 1, link="//evil.example/phish")
    log_in(client, ana)

    opened = client.get(f"/inbox/{note.id}", follow_redirects=False)

    assert (opened.status_code, opened.headers["location"]) == (303, "/inbox")


def test_a_visitor_opening_a_notification_is_sent_to_log_in(client, create_user, inbox_of):
    [note] = inbox_of(create_user(), 1)

    answer = client.get(f"/inbox/{note.id}", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/inbox/")
