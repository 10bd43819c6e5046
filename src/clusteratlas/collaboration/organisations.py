"""Organisation profiles: create, edit, submit, and moderation (publish or send back).

Every verb takes the acting user explicitly (``actor``), checks permission with a predicate of
:mod:`clusteratlas.collaboration.permissions` (raising
:class:`~clusteratlas.collaboration.PermissionDenied`), checks the lifecycle
(draft → submitted → published, or submitted → returned with a reason → submitted …) and the
fields (raising :class:`~clusteratlas.collaboration.ValidationError` with one message per
field), writes an audit row and flushes. The caller commits.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.models import (
    Organisation,
    OrganisationManager,
    OrganisationStatus,
    OrganisationType,
    User,
)
from clusteratlas.collaboration.permissions import (
    can_create_organisation,
    can_edit_organisation,
    can_manage_managers,
    can_review_organisation,
)

__all__ = [
    "EDITABLE_FIELDS",
    "add_manager",
    "create_organisation",
    "manager_ids",
    "publish",
    "send_back",
    "submit",
    "update_organisation",
]

#: field → maximum length
LIMITS = {
    "name": 300,
    "acronym": 50,
    "region_code": 16,
    "city": 120,
    "website": 500,
    "description": 10_000,
}
MAX_REASON = 2_000
EDITABLE_FIELDS = (
    "type",
    "name",
    "acronym",
    "country",
    "region_code",
    "city",
    "website",
    "description",
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[A-Za-z0-9_-]+$")
_WEBSITE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_ENTITY = "organisation"


def manager_ids(session: Session, organisation: Organisation) -> set[int]:
    """The ids of the users who manage ``organisation``."""
    rows = session.scalars(
        select(OrganisationManager.user_id).where(
            OrganisationManager.organisation_id == organisation.id
        )
    )
    return set(rows)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Trimmed, checked values; blank optional fields become None."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field == "type":
            try:
                out[field] = OrganisationType(value)
            except ValueError:
                allowed = ", ".join(t.value for t in OrganisationType)
                errors[field] = f"choose one of {allowed}"
            continue
        text = value.strip() if isinstance(value, str) else value
        if text == "":
            text = None
        if text is not None and not isinstance(text, str):
            errors[field] = "enter text"
            continue
        if field in ("name", "country") and text is None:
            errors[field] = "this field is required"
            continue
        if text is not None and len(text) > LIMITS.get(field, 2):
            errors[field] = f"use at most {LIMITS.get(field, 2)} characters"
            continue
        if field == "country" and text is not None:
            text = text.upper()
            if not _COUNTRY.match(text):
                errors[field] = "enter a two-letter country code such as DE or FR"
                continue
        if field == "region_code" and text is not None:
            text = text.upper()
            if not _REGION.match(text):
                errors[field] = "enter a region code such as DE11 (letters, digits, - or _)"
                continue
        if field == "website" and text is not None and not _WEBSITE.match(text):
            errors[field] = "enter an address starting with http:// or https://"
            continue
        out[field] = text
    if errors:
        raise ValidationError(errors)
    return out


def create_organisation(
    session: Session,
    *,
    actor: User,
    type: OrganisationType | str,  # noqa: A002 - the profile's field name
    name: str,
    country: str,
    acronym: str | None = None,
    region_code: str | None = None,
    city: str | None = None,
    website: str | None = None,
    description: str | None = None,
) -> Organisation:
    """A draft profile, managed by ``actor``."""
    if not can_create_organisation(actor):
        raise PermissionDenied("confirm your e-mail address before creating a profile")
    values = _clean(
        {
            "type": type,
            "name": name,
            "acronym": acronym,
            "country": country,
            "region_code": region_code,
            "city": city,
            "website": website,
            "description": description,
        }
    )
    organisation = Organisation(**values, status=OrganisationStatus.draft)
    organisation.managers.append(OrganisationManager(user_id=actor.id))
    session.add(organisation)
    session.flush()
    record(
        session,
        actor=actor,
        action="organisation.created",
        entity_type=_ENTITY,
        entity_id=organisation.id,
        changes=values,
    )
    session.flush()
    return organisation


def update_organisation(
    session: Session, *, actor: User, organisation: Organisation, **changes: Any
) -> Organisation:
    """Change fields of a draft or returned profile (keywords among :data:`EDITABLE_FIELDS`).
    The audit row holds ``[old, new]`` for each field that changed. Published profiles keep a
    history of edits: that comes with the profile history (issue 5, later)."""
    if not can_edit_organisation(actor, organisation, manager_ids(session, organisation)):
        raise PermissionDenied("only the organisation's managers may edit its profile")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "this field cannot be changed"))
    if organisation.status not in (OrganisationStatus.draft, OrganisationStatus.returned):
        raise ValidationError({"status": f"a {organisation.status.value} profile cannot be edited"})
    values = _clean(changes)
    diff = {}
    for field, new in values.items():
        old = getattr(organisation, field)
        if old != new:
            diff[field] = [old, new]
            setattr(organisation, field, new)
    if diff:
        record(
            session,
            actor=actor,
            action="organisation.updated",
            entity_type=_ENTITY,
            entity_id=organisation.id,
            changes=diff,
        )
        session.flush()
    return organisation


def _transition(
    session: Session,
    *,
    actor: User,
    organisation: Organisation,
    allowed_from: tuple[OrganisationStatus, ...],
    to: OrganisationStatus,
    action: str,
    reason: str | None = None,
) -> Organisation:
    if organisation.status not in allowed_from:
        raise ValidationError(
            {"status": f"a {organisation.status.value} profile cannot become {to.value}"}
        )
    old = organisation.status
    organisation.status = to
    organisation.return_reason = reason
    changes: dict[str, Any] = {"status": [old, to]}
    if reason is not None:
        changes["reason"] = reason
    record(
        session,
        actor=actor,
        action=action,
        entity_type=_ENTITY,
        entity_id=organisation.id,
        changes=changes,
    )
    session.flush()
    return organisation


def submit(session: Session, *, actor: User, organisation: Organisation) -> Organisation:
    """Send a draft or returned profile to the moderators."""
    if not can_edit_organisation(actor, organisation, manager_ids(session, organisation)):
        raise PermissionDenied("only the organisation's managers may submit its profile")
    return _transition(
        session,
        actor=actor,
        organisation=organisation,
        allowed_from=(OrganisationStatus.draft, OrganisationStatus.returned),
        to=OrganisationStatus.submitted,
        action="organisation.submitted",
    )


def publish(session: Session, *, actor: User, organisation: Organisation) -> Organisation:
    """A moderator publishes a submitted profile."""
    if not can_review_organisation(actor, organisation, manager_ids(session, organisation)):
        raise PermissionDenied("only a moderator who does not manage it may publish a profile")
    return _transition(
        session,
        actor=actor,
        organisation=organisation,
        allowed_from=(OrganisationStatus.submitted,),
        to=OrganisationStatus.published,
        action="organisation.published",
    )


def send_back(
    session: Session, *, actor: User, organisation: Organisation, reason: str
) -> Organisation:
    """A moderator returns a submitted profile to its managers with a reason."""
    if not can_review_organisation(actor, organisation, manager_ids(session, organisation)):
        raise PermissionDenied("only a moderator who does not manage it may send a profile back")
    text = reason.strip()
    if not text:
        raise ValidationError({"reason": "say what the managers should change"})
    if len(text) > MAX_REASON:
        raise ValidationError({"reason": f"use at most {MAX_REASON} characters"})
    return _transition(
        session,
        actor=actor,
        organisation=organisation,
        allowed_from=(OrganisationStatus.submitted,),
        to=OrganisationStatus.returned,
        action="organisation.sent_back",
        reason=text,
    )


def add_manager(
    session: Session, *, actor: User, organisation: Organisation, user: User
) -> OrganisationManager:
    """Make ``user`` a manager of ``organisation`` too."""
    managers = manager_ids(session, organisation)
    if not can_manage_managers(actor, organisation, managers):
        raise PermissionDenied("only the organisation's managers may add managers")
    if user.id in managers:
        raise ValidationError({"user": f"{user.email} manages this organisation already"})
    if user.confirmed_at is None:
        raise ValidationError({"user": f"{user.email} has not confirmed their address yet"})
    link = OrganisationManager(organisation_id=organisation.id, user_id=user.id)
    session.add(link)
    session.flush()
    record(
        session,
        actor=actor,
        action="organisation.manager_added",
        entity_type=_ENTITY,
        entity_id=organisation.id,
        changes={"user_id": user.id, "email": user.email},
    )
    session.flush()
    return link
