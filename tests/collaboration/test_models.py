"""Invariants that live in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from clusteratlas.collaboration.models import (
    AuditLog,
    Organisation,
    OrganisationManager,
    OrganisationStatus,
    OrganisationType,
    User,
)

pytestmark = pytest.mark.integration


def _organisation(**values):
    fields = {"type": OrganisationType.cluster_organisation, "name": "BioCluster", "country": "DE"}
    return Organisation(**(fields | values))


def _insert(session, row):
    session.add(row)
    session.flush()


def test_user_email_is_unique_whatever_its_case(session, create_user):
    create_user("Ana@Example.org")

    with pytest.raises(IntegrityError), session.begin_nested():
        create_user("ana@example.ORG")


def test_organisation_status_outside_the_lifecycle_is_refused(session):
    organisation = _organisation()
    session.add(organisation)
    session.flush()

    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text("UPDATE organisations SET status = 'archived' WHERE id = :id"),
            {"id": organisation.id},
        )


def test_organisation_type_outside_the_list_is_refused(session):
    organisation = _organisation()
    session.add(organisation)
    session.flush()

    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text("UPDATE organisations SET type = 'club' WHERE id = :id"),
            {"id": organisation.id},
        )


def test_returned_organisation_needs_a_reason(session):
    with pytest.raises(IntegrityError), session.begin_nested():
        _insert(session, _organisation(status=OrganisationStatus.returned))


def test_manager_of_missing_organisation_is_refused(session, create_user):
    user = create_user()

    with pytest.raises(IntegrityError), session.begin_nested():
        _insert(session, OrganisationManager(organisation_id=999_999, user_id=user.id))


def test_organisation_defaults_and_enum_values_round_trip(session):
    organisation = _organisation(type=OrganisationType.public_authority)
    session.add(organisation)
    session.flush()
    session.expire_all()

    stored = session.get(Organisation, organisation.id)
    raw = session.execute(
        text("SELECT type, status FROM organisations WHERE id = :id"), {"id": organisation.id}
    ).one()

    assert (stored.type, stored.status) == (
        OrganisationType.public_authority,
        OrganisationStatus.draft,
    )
    assert tuple(raw) == ("public_authority", "draft")
    assert stored.type.label == "public authority or agency"


def test_datetimes_come_back_aware_in_utc(session, create_user):
    paris = timezone(timedelta(hours=2))
    user = create_user()
    user.confirmed_at = datetime(2025, 6, 1, 14, 30, tzinfo=paris)
    session.flush()
    session.expire_all()

    stored = session.get(User, user.id)

    assert stored.confirmed_at == datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
    assert stored.confirmed_at.tzinfo is UTC
    assert stored.created_at.tzinfo is UTC


def test_naive_datetimes_are_refused(session, create_user):
    user = create_user()
    user.confirmed_at = datetime(2025, 6, 1, 12, 30)  # noqa: DTZ001 - the point of the test

    with pytest.raises(StatementError, match="naive datetime"), session.begin_nested():
        session.flush()


def test_audit_changes_round_trip_as_json(session, create_user):
    user = create_user()
    session.add(
        AuditLog(
            actor_id=user.id,
            action="test.done",
            entity_type="user",
            entity_id=user.id,
            changes={"status": ["draft", "submitted"], "n": 1},
        )
    )
    session.flush()
    session.expire_all()

    row = session.scalars(select(AuditLog).where(AuditLog.action == "test.done")).one()

    assert row.changes == {"status": ["draft", "submitted"], "n": 1}
