"""Organisation profiles: create, edit, submit, moderation (publish or send back), the
profile history, links between organisations and managers.

Every verb takes the acting user explicitly (``actor``), checks permission with a predicate of
:mod:`clusteratlas.collaboration.permissions` (raising
:class:`~clusteratlas.collaboration.PermissionDenied`), checks the lifecycle
(draft → submitted → published, or submitted → returned with a reason → submitted …) and the
fields (raising :class:`~clusteratlas.collaboration.ValidationError` with one message per
field), writes an audit row and flushes. The caller commits.

Publishing a profile, and every edit of a published profile, records a numbered snapshot
(:class:`OrganisationVersion`): the profile's history. Descriptions are stored as given and
sanitised when shown (:func:`description_html`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import nh3
from sqlalchemy import select
from sqlalchemy.orm import Session

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration import sectors as sector_codes
from clusteratlas.collaboration.accounts import find_user_by_email
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.models import (
    LinkKind,
    Organisation,
    OrganisationLink,
    OrganisationManager,
    OrganisationSector,
    OrganisationStatus,
    OrganisationType,
    OrganisationVersion,
    QualityLabel,
    User,
    utcnow,
)
from clusteratlas.collaboration.permissions import (
    can_create_organisation,
    can_edit_organisation,
    can_link_organisation,
    can_manage_managers,
    can_review_organisation,
)
from clusteratlas.collaboration.settings import Settings

__all__ = [
    "COUNT_FIELDS",
    "EDITABLE_FIELDS",
    "LIST_FIELDS",
    "MAX_CONTACTS",
    "MAX_LIST_ITEMS",
    "add_manager",
    "add_manager_by_email",
    "create_organisation",
    "description_html",
    "eligibility",
    "link",
    "manager_ids",
    "publish",
    "send_back",
    "snapshot",
    "submit",
    "unlink",
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
TEXT_FIELDS = ("name", "acronym", "country", "region_code", "city", "website", "description")
#: free-text lists: at most MAX_LIST_ITEMS items of at most MAX_ITEM characters
LIST_FIELDS = ("keywords", "value_chains", "emerging_industries", "s3_priorities")
MAX_LIST_ITEMS = 30
MAX_ITEM = 100
#: members by type (cluster organisations)
COUNT_FIELDS = (
    "members_sme",
    "members_large",
    "members_research",
    "members_university",
    "members_other",
)
MAX_COUNT = 1_000_000
MAX_STAFF = 1_000_000.0
FIRST_YEAR = 1800
#: sector codes by scheme: the keyword argument holds a list of codes
SECTOR_FIELDS = {"nace": sector_codes.NACE, "naics": sector_codes.NAICS}
MAX_SECTORS = 30
MAX_CONTACTS = 10
CONTACT_KEYS = ("name", "role", "email", "phone")
MAX_CONTACT_TEXT = 200
EDITABLE_FIELDS = (
    "type",
    *TEXT_FIELDS,
    *LIST_FIELDS,
    *COUNT_FIELDS,
    "staff_fte",
    "year_founded",
    "quality_label",
    "label_date",
    "label_expiry",
    "contacts",
    *SECTOR_FIELDS,
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[A-Za-z0-9_-]+$")
#: two letters and up to three letters or digits: read as a NUTS code (DE, DEA, DE11, FRK26)
_NUTS = re.compile(r"^([A-Z]{2})[0-9A-Z]{0,3}$")
#: NUTS prefixes that differ from ISO 3166-1 alpha-2
_NUTS_COUNTRY = {"EL": {"EL", "GR"}, "UK": {"UK", "GB"}}
_WEBSITE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{4,40}$")
_SPLIT = re.compile(r"[\n,;]")
_ENTITY = "organisation"

#: the HTML a description may carry
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!]")


def manager_ids(session: Session, organisation: Organisation) -> set[int]:
    """The ids of the users who manage ``organisation``."""
    rows = session.scalars(
        select(OrganisationManager.user_id).where(
            OrganisationManager.organisation_id == organisation.id
        )
    )
    return set(rows)


def description_html(text: str | None) -> str:
    """The description as safe HTML: the tags of :data:`ALLOWED_TAGS` (links with ``href``
    only, http, https or mailto, given ``rel="noopener"``); everything else is removed. Plain
    text becomes paragraphs (blank lines) and line breaks."""
    if not text:
        return ""
    if not _TAG.search(text):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        text = "".join(
            "<p>" + "<br>".join(html.escape(line) for line in p.splitlines()) + "</p>"
            for p in paragraphs
        )
    return nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        link_rel="noopener",
        url_schemes={"http", "https", "mailto"},
    )


# ---- checking fields -------------------------------------------------------------------


def _text(field: str, value: Any) -> str | None:
    text = value.strip() if isinstance(value, str) else value
    if text is None or text == "":
        if field in ("name", "country"):
            raise ValueError("this field is required")
        return None
    if not isinstance(text, str):
        raise ValueError("enter text")
    limit = LIMITS.get(field, 2)
    if len(text) > limit:
        raise ValueError(f"use at most {limit} characters")
    if field == "country":
        text = text.upper()
        if not _COUNTRY.match(text):
            raise ValueError("enter a two-letter country code such as DE or FR")
    if field == "region_code":
        text = text.upper()
        if not _REGION.match(text):
            raise ValueError("enter a region code such as DE11 (letters, digits, - or _)")
    if field == "website" and not _WEBSITE.match(text):
        raise ValueError("enter an address starting with http:// or https://")
    return text


def _items(value: Any) -> list[str]:
    """A list from a list, or from text with one item per line or separated by commas."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in _SPLIT.split(value) if item.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError("give a list of texts")
    return [item.strip() for item in value if item.strip()]


def _list(value: Any) -> list[str]:
    items = list(dict.fromkeys(_items(value)))
    if len(items) > MAX_LIST_ITEMS:
        raise ValueError(f"give at most {MAX_LIST_ITEMS} items")
    long = next((item for item in items if len(item) > MAX_ITEM), None)
    if long is not None:
        raise ValueError(f"use at most {MAX_ITEM} characters per item ('{long[:20]}…')")
    return items


def _number(value: Any, *, integer: bool, low: float, high: float) -> int | float | None:
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
        try:
            value = int(value) if integer else float(value.replace(",", "."))
        except ValueError:
            raise ValueError("enter a whole number" if integer else "enter a number") from None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("enter a whole number" if integer else "enter a number")
    if integer and isinstance(value, float):
        if not value.is_integer():
            raise ValueError("enter a whole number")
        value = int(value)
    if value != value or not low <= value <= high:  # NaN too
        shown = int(high) if float(high).is_integer() else high
        raise ValueError(f"enter a number from {int(low)} to {shown}")
    return value if integer else float(value)


def _date(value: Any) -> date | None:
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("enter a date as YYYY-MM-DD") from None
    if value is None or isinstance(value, date):
        return value
    raise ValueError("enter a date as YYYY-MM-DD")


def _label(value: Any) -> QualityLabel | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        return QualityLabel(value.strip() if isinstance(value, str) else value)
    except ValueError:
        raise ValueError("choose bronze, silver or gold") from None


def _contacts(value: Any) -> list[dict[str, str]]:
    """Contacts from a list of mappings, or from text: one per line, ``name; role; e-mail;
    phone``."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [
            dict(zip(CONTACT_KEYS, (part.strip() for part in line.split(";")), strict=False))
            for line in value.splitlines()
            if line.strip()
        ]
    if not isinstance(value, list | tuple):
        raise ValueError("give a list of contacts")
    if len(value) > MAX_CONTACTS:
        raise ValueError(f"give at most {MAX_CONTACTS} contacts")
    contacts = []
    for number, contact in enumerate(value, start=1):
        if not isinstance(contact, Mapping) or not set(contact) <= set(CONTACT_KEYS):
            raise ValueError(f"contact {number}: give name, role, email and phone only")
        clean: dict[str, str] = {}
        for key in CONTACT_KEYS:
            text = contact.get(key)
            text = text.strip() if isinstance(text, str) else text
            if text is not None and not isinstance(text, str):
                raise ValueError(f"contact {number}: enter text as the {key}")
            if text and len(text) > MAX_CONTACT_TEXT:
                raise ValueError(f"contact {number}: use at most {MAX_CONTACT_TEXT} characters")
            clean[key] = text or ""
        if not clean["name"]:
            raise ValueError(f"contact {number}: enter a name")
        if clean["email"] and not _EMAIL.match(clean["email"]):
            raise ValueError(f"contact {number}: enter a valid e-mail address")
        if clean["phone"] and not _PHONE.match(clean["phone"]):
            raise ValueError(f"contact {number}: enter a phone number (digits, +, spaces)")
        contacts.append(clean)
    return contacts


def _sectors(scheme: str, value: Any) -> list[tuple[str, str]]:
    codes = list(dict.fromkeys(_items(value)))
    if len(codes) > MAX_SECTORS:
        raise ValueError(f"give at most {MAX_SECTORS} codes")
    found: dict[str, str] = {}
    for code in codes:
        normalised, title = sector_codes.lookup(scheme, code[:20])
        found.setdefault(normalised, title)
    return sorted(found.items())


def _clean_one(field: str, value: Any) -> Any:
    if field == "type":
        try:
            return OrganisationType(value)
        except ValueError:
            allowed = ", ".join(t.value for t in OrganisationType)
            raise ValueError(f"choose one of {allowed}") from None
    if field in TEXT_FIELDS:
        return _text(field, value)
    if field in LIST_FIELDS:
        return _list(value)
    if field in COUNT_FIELDS:
        return _number(value, integer=True, low=0, high=MAX_COUNT)
    if field == "staff_fte":
        return _number(value, integer=False, low=0, high=MAX_STAFF)
    if field == "year_founded":
        return _number(value, integer=True, low=FIRST_YEAR, high=utcnow().year)
    if field == "quality_label":
        return _label(value)
    if field in ("label_date", "label_expiry"):
        return _date(value)
    if field == "contacts":
        return _contacts(value)
    if field in SECTOR_FIELDS:
        return _sectors(SECTOR_FIELDS[field], value)
    raise ValueError("this field cannot be changed")


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Trimmed, checked values; blank optional fields become None (lists: empty)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, value in values.items():
        try:
            out[field] = _clean_one(field, value)
        except ValueError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError(errors)
    return out


def _check_together(profile: Mapping[str, Any]) -> None:
    """Rules across fields, on the profile as it would be after the change."""
    errors: dict[str, str] = {}
    label, given, expiry = (profile.get(f) for f in ("quality_label", "label_date", "label_expiry"))
    if label is not None and given is None:
        errors["label_date"] = "give the date the label was awarded"
    if label is None and (given is not None or expiry is not None):
        errors["quality_label"] = "choose the label these dates belong to"
    if given is not None and expiry is not None and given > expiry:
        errors["label_expiry"] = "the label cannot expire before it was awarded"
    region, country = profile.get("region_code"), profile.get("country")
    match = _NUTS.match(region) if region else None
    if match and country and country not in _NUTS_COUNTRY.get(match.group(1), {match.group(1)}):
        errors["region_code"] = (
            f"the NUTS region {region} is not in {country}: its code starts with the country"
        )
    if errors:
        raise ValidationError(errors)


def _current(organisation: Organisation) -> dict[str, Any]:
    """The profile's editable values (sectors as ``(code, title)`` lists by field)."""
    values = {
        field: getattr(organisation, field)
        for field in EDITABLE_FIELDS
        if field not in SECTOR_FIELDS
    }
    for field, scheme in SECTOR_FIELDS.items():
        values[field] = sorted(
            (s.code, s.title) for s in organisation.sectors if s.scheme == scheme
        )
    return values


def _set_sectors(organisation: Organisation, scheme: str, wanted: list[tuple[str, str]]) -> None:
    codes = {code for code, _ in wanted}
    for row in [s for s in organisation.sectors if s.scheme == scheme and s.code not in codes]:
        organisation.sectors.remove(row)
    have = {s.code for s in organisation.sectors if s.scheme == scheme}
    for code, title in wanted:
        if code not in have:
            organisation.sectors.append(OrganisationSector(scheme=scheme, code=code, title=title))


def _apply(organisation: Organisation, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set the changed values; the ``{field: [old, new]}`` of what changed."""
    current = _current(organisation)
    diff: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = current[field]
        if old == new:
            continue
        if field in SECTOR_FIELDS:
            _set_sectors(organisation, SECTOR_FIELDS[field], new)
            diff[field] = [[c for c, _ in old], [c for c, _ in new]]
        else:
            setattr(organisation, field, new)
            diff[field] = [old, new]
    return diff


# ---- eligibility and history ---------------------------------------------------------------


def eligibility(organisation: Organisation, settings: Settings) -> list[str]:
    """What keeps a cluster organisation from being eligible for publication (empty: nothing,
    and always empty for other types): at least ``settings.eligibility_min_members`` members
    of at least ``settings.eligibility_min_member_types`` types."""
    if organisation.type != OrganisationType.cluster_organisation:
        return []
    counts = [getattr(organisation, field) or 0 for field in COUNT_FIELDS]
    total, types = sum(counts), sum(1 for count in counts if count > 0)
    problems = []
    if total < settings.eligibility_min_members:
        problems.append(
            f"a cluster organisation needs at least {settings.eligibility_min_members} members"
            f" ({total} given)"
        )
    if types < settings.eligibility_min_member_types:
        problems.append(
            f"a cluster organisation needs members of at least"
            f" {settings.eligibility_min_member_types} types ({types} given)"
        )
    return problems


def _eligible_or_raise(organisation: Organisation, settings: Settings | None) -> None:
    problems = eligibility(organisation, settings or Settings.model_construct())
    if problems:
        raise ValidationError({"members": "; ".join(problems)})


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, OrganisationType | QualityLabel):
        return value.value
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def snapshot(organisation: Organisation) -> dict[str, Any]:
    """The profile's editable fields as JSON values (sectors as their codes), for history."""
    values = _current(organisation)
    for field in SECTOR_FIELDS:
        values[field] = [code for code, _ in values[field]]
    return {field: _json_value(value) for field, value in values.items()}


def _record_version(session: Session, *, actor: User, organisation: Organisation) -> int:
    organisation.version = (organisation.version or 0) + 1
    organisation.published_at = utcnow()
    session.add(
        OrganisationVersion(
            organisation_id=organisation.id,
            version=organisation.version,
            data=snapshot(organisation),
            actor_id=actor.id,
            at=organisation.published_at,
        )
    )
    return organisation.version


# ---- verbs -------------------------------------------------------------------------------


def create_organisation(
    session: Session,
    *,
    actor: User,
    type: OrganisationType | str,  # noqa: A002 - the profile's field name
    name: str,
    country: str,
    **fields: Any,
) -> Organisation:
    """A draft profile, managed by ``actor``; ``fields`` are any of :data:`EDITABLE_FIELDS`."""
    if not can_create_organisation(actor):
        raise PermissionDenied("confirm your e-mail address before creating a profile")
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "this field cannot be changed"))
    values = _clean({"type": type, "name": name, "country": country, **fields})
    _check_together(values)
    organisation = Organisation(
        status=OrganisationStatus.draft, contacts=[], **{f: [] for f in LIST_FIELDS}
    )
    _apply(organisation, values)
    organisation.managers.append(OrganisationManager(user_id=actor.id))
    session.add(organisation)
    session.flush()
    changes = {k: v for k, v in values.items() if v not in (None, [])}
    for field in SECTOR_FIELDS:
        if field in changes:
            changes[field] = [code for code, _ in changes[field]]
    record(
        session,
        actor=actor,
        action="organisation.created",
        entity_type=_ENTITY,
        entity_id=organisation.id,
        changes=changes,
    )
    session.flush()
    return organisation


def update_organisation(
    session: Session,
    *,
    actor: User,
    organisation: Organisation,
    settings: Settings | None = None,
    **changes: Any,
) -> Organisation:
    """Change fields (keywords among :data:`EDITABLE_FIELDS`) of a draft, returned or
    published profile; a submitted one waits for its moderator. The audit row holds
    ``[old, new]`` for each field that changed. Editing a published profile keeps it published
    and records a new version; a cluster organisation must stay eligible (``settings``,
    default: the default settings)."""
    if not can_edit_organisation(actor, organisation, manager_ids(session, organisation)):
        raise PermissionDenied("only the organisation's managers may edit its profile")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "this field cannot be changed"))
    if organisation.status == OrganisationStatus.submitted:
        raise ValidationError(
            {"status": "a submitted profile cannot be edited until a moderator has reviewed it"}
        )
    values = _clean(changes)
    after = _current(organisation) | values
    _check_together(after)
    if organisation.status == OrganisationStatus.published:
        counted = ("type", *COUNT_FIELDS)
        _eligible_or_raise(Organisation(**{f: after[f] for f in counted}), settings)
    diff = _apply(organisation, values)
    if not diff:
        return organisation
    audit_changes: dict[str, Any] = dict(diff)
    if organisation.status == OrganisationStatus.published:
        session.flush()
        audit_changes["version"] = _record_version(session, actor=actor, organisation=organisation)
    record(
        session,
        actor=actor,
        action="organisation.updated",
        entity_type=_ENTITY,
        entity_id=organisation.id,
        changes=audit_changes,
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
    if to == OrganisationStatus.published:
        changes["version"] = _record_version(session, actor=actor, organisation=organisation)
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


def submit(
    session: Session,
    *,
    actor: User,
    organisation: Organisation,
    settings: Settings | None = None,
) -> Organisation:
    """Send a draft or returned profile to the moderators. A cluster organisation must be
    eligible (:func:`eligibility` with ``settings``, default: the default settings)."""
    if not can_edit_organisation(actor, organisation, manager_ids(session, organisation)):
        raise PermissionDenied("only the organisation's managers may submit its profile")
    if organisation.status in (OrganisationStatus.draft, OrganisationStatus.returned):
        _eligible_or_raise(organisation, settings)
    return _transition(
        session,
        actor=actor,
        organisation=organisation,
        allowed_from=(OrganisationStatus.draft, OrganisationStatus.returned),
        to=OrganisationStatus.submitted,
        action="organisation.submitted",
    )


def publish(session: Session, *, actor: User, organisation: Organisation) -> Organisation:
    """A moderator publishes a submitted profile: version 1, or the next version."""
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


def add_manager_by_email(
    session: Session, *, actor: User, organisation: Organisation, email: str
) -> OrganisationManager:
    """Make the confirmed account with this address (whatever its case) a manager too. Errors
    are reported on ``email``."""
    if not can_manage_managers(actor, organisation, manager_ids(session, organisation)):
        raise PermissionDenied("only the organisation's managers may add managers")
    text = email.strip() if isinstance(email, str) else ""
    user = find_user_by_email(session, text) if 0 < len(text) <= 254 else None
    if user is None:
        raise ValidationError({"email": "there is no account with this address"})
    try:
        return add_manager(session, actor=actor, organisation=organisation, user=user)
    except ValidationError as exc:
        raise ValidationError({"email": exc.errors.get("user", str(exc))}) from None


# ---- links between organisations -----------------------------------------------------------


def _kind(kind: LinkKind | str) -> LinkKind:
    try:
        return LinkKind(kind)
    except ValueError:
        raise ValidationError({"kind": "choose member_of or partner_of"}) from None


def link(
    session: Session,
    *,
    actor: User,
    source: Organisation,
    target: Organisation | None,
    kind: LinkKind | str,
) -> OrganisationLink:
    """``source`` is a member (``member_of``) or partner (``partner_of``) of ``target``, a
    published profile (None: not found). By the source organisation's managers."""
    if not can_link_organisation(actor, source, manager_ids(session, source)):
        raise PermissionDenied("only the organisation's managers may link it to others")
    kind = _kind(kind)
    if target is None or target.status != OrganisationStatus.published:
        raise ValidationError({"target_id": "there is no published organisation with this id"})
    if target.id == source.id:
        raise ValidationError({"target_id": "an organisation cannot be linked to itself"})
    if session.get(OrganisationLink, (source.id, target.id, kind)) is not None:
        raise ValidationError({"target_id": f"{source.name} is linked to {target.name} already"})
    row = OrganisationLink(source_id=source.id, target_id=target.id, kind=kind)
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="organisation.linked",
        entity_type=_ENTITY,
        entity_id=source.id,
        changes={"target_id": target.id, "kind": kind},
    )
    session.flush()
    return row


def unlink(
    session: Session,
    *,
    actor: User,
    source: Organisation,
    target_id: int,
    kind: LinkKind | str,
) -> bool:
    """Remove the link from ``source`` to ``target_id``; False if there was none."""
    if not can_link_organisation(actor, source, manager_ids(session, source)):
        raise PermissionDenied("only the organisation's managers may remove its links")
    kind = _kind(kind)
    row = session.get(OrganisationLink, (source.id, target_id, kind))
    if row is None:
        return False
    session.delete(row)
    record(
        session,
        actor=actor,
        action="organisation.unlinked",
        entity_type=_ENTITY,
        entity_id=source.id,
        changes={"target_id": target_id, "kind": kind},
    )
    session.flush()
    return True
