"""Saved searches: create (checked, limited, audited), delete (owner only), and e-mails of new
matches through the outbox to a real SMTP receiver, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.mail import send_pending
from clusteratlas.collaboration.models import OutboxEmail, SavedSearch, utcnow
from clusteratlas.collaboration.permissions import can_delete_saved_search, can_save_search
from clusteratlas.collaboration.saved_searches import (
    create_saved_search,
    delete_saved_search,
    normalise_query,
    notify_saved_searches,
    search_url,
)
from collaboration.search_data import add_org, add_post

pytestmark = pytest.mark.integration


def test_permission_predicates(create_user):
    owner, other, admin = create_user(), create_user(), create_user(admin=True)
    unconfirmed = create_user(confirmed=False)
    saved = SavedSearch(user_id=owner.id, name="x", query={})

    assert [can_save_search(u) for u in (None, unconfirmed, owner)] == [False, False, True]
    assert can_delete_saved_search(owner, saved)
    assert can_delete_saved_search(admin, saved)
    assert not can_delete_saved_search(other, saved)
    assert not can_delete_saved_search(None, saved)


def test_query_is_normalised_and_round_trips_to_a_url():
    query = normalise_query({"q": " battery ", "country": "de", "sector": ["C27", ""]})

    assert query == {
        "kind": "organisations",
        "q": "battery",
        "sort": "relevance",
        "country": ["de"],
        "sector": ["C27"],
    }
    assert search_url(query) == "/search?kind=organisations&q=battery&country=de&sector=C27"


def test_create_checks_permission_fields_and_records_audit(session, create_user):
    member, unconfirmed = create_user(), create_user(confirmed=False)

    with pytest.raises(PermissionDenied):
        create_saved_search(session, actor=unconfirmed, name="x", query={})
    with pytest.raises(ValidationError) as raised:
        create_saved_search(session, actor=member, name=" ", query={"type": "bank"})
    row = create_saved_search(session, actor=member, name="Batteries", query={"q": "battery"})

    assert set(raised.value.errors) == {"name", "type"}
    assert row.query["q"] == "battery"


def test_only_the_owner_deletes(session, create_user):
    owner, other = create_user(), create_user()
    row = create_saved_search(session, actor=owner, name="mine", query={})

    with pytest.raises(PermissionDenied):
        delete_saved_search(session, actor=other, saved_search=row)
    delete_saved_search(session, actor=owner, saved_search=row)

    assert session.get(SavedSearch, row.id) is None


def test_new_matches_are_emailed_once(session, create_user, settings, smtp_receiver):
    owner = create_user("ana@example.org")
    old = add_org(session, "Battery Old", published_at=utcnow() - timedelta(days=2))
    saved = create_saved_search(session, actor=owner, name="Batteries", query={"q": "battery"})
    saved.notified_at = utcnow() - timedelta(days=1)
    posts_saved = create_saved_search(
        session, actor=owner, name="Offers", query={"kind": "posts", "kind_": ["offer"]}
    )
    posts_saved.notified_at = utcnow() - timedelta(days=1)
    add_org(session, "Battery New", description="battery cells")
    add_org(session, "Battery Draft", status="draft")
    add_org(session, "Textile Hub", description="fabrics")
    add_post(session, old, "Battery testing offer")
    add_post(session, old, "A request", kind="request")
    session.flush()
    settings = settings.model_copy(
        update={
            "smtp_host": smtp_receiver.host,
            "smtp_port": smtp_receiver.port,
            "public_url": "https://atlas.example",
        }
    )

    queued = notify_saved_searches(session, settings=settings)
    again = notify_saved_searches(session, settings=settings)
    sessions = sessionmaker(bind=session.bind, join_transaction_mode="create_savepoint")
    sent, failed = send_pending(sessions, settings=settings)

    assert (queued, again) == (2, 0)
    assert (sent, failed) == (2, 0)
    messages = sorted(smtp_receiver.messages, key=lambda m: m["Subject"])
    assert [m["To"] for m in messages] == ["ana@example.org", "ana@example.org"]
    assert messages[0]["Subject"] == "1 new match for “Batteries”"
    first = messages[0].get_content()
    assert "Battery New (DE): https://atlas.example/organisations/" in first
    assert "Battery Old" not in first
    assert "Draft" not in first
    assert "https://atlas.example/search?kind=organisations&q=battery" in first
    assert messages[1]["Subject"] == "1 new match for “Offers”"
    assert "Battery testing offer (offer)" in messages[1].get_content()
    assert session.scalar(select(OutboxEmail.sent_at).limit(1)) is not None
