"""Meeting requests at a matchmaking event (issue 6): browse the other participants with filters
and a "partners for you" ranking restricted to the event, request a meeting, accept, decline or
cancel it, cancel an accepted meeting, and the expiry of unanswered requests at the deadline.

Only approved participants of a published event take part. Verbs take the acting user
explicitly (``actor``), raise :class:`~clusteratlas.collaboration.PermissionDenied` for the
wrong person and :class:`~clusteratlas.collaboration.ValidationError` (one message per field)
for a refusal, write an audit row, notify through :func:`~clusteratlas.collaboration.mail.
notify` and flush; the caller commits.

Rules of a request (:func:`send_request`): not to myself, only to an approved participant of the
same event, no second request while a pending request or a live meeting joins the two (either
way), not after the event's ``requests_deadline`` nor once the event has ended or is cancelled,
at most ``event.max_outstanding_requests`` pending requests sent, and not to someone who already
has their cap of meetings (the smaller of ``Participant.max_meetings`` and
``event.max_meetings_per_participant``). A recipient with ``auto_accept`` accepts at once.

Accepting makes the :class:`~clusteratlas.collaboration.models.Meeting`: ``a`` = requester,
``b`` = recipient, ``weight`` = ``event.must_meet_weight`` for a "must meet" request (else 1),
``origin`` = request. Cancelling a meeting (either side, before the event starts) sets its
``cancelled_at``; the request stays accepted, and the two may ask each other again.

Pending requests expire (:func:`expire_due_requests`) once the deadline has passed: the event's
``requests_deadline``, or its end when it has none. The listing verbs (:func:`browse`,
:func:`my_requests`) expire due requests of their event first, so nobody sees a stale one.

The ranking (:func:`rank_participants`) is pure: one TF-IDF space (the platform's
:func:`~clusteratlas.collaboration.recommend.fit_vectoriser`) fitted on the event's texts; a
participant's score is ``0.5 · profile + 0.5 · complement`` where ``profile`` is the cosine of
the two participants' texts (headline, items, organisation description and keywords) and
``complement`` the best cosine between one of my ``request`` items and one of their ``offer`` or
``expertise`` items, or the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.audit import record
from clusteratlas.collaboration.event_access import (
    is_organiser,
    local_time,
    participation,
    require_participant,
)
from clusteratlas.collaboration.mail import notify
from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    EventStatus,
    ItemKind,
    Meeting,
    MeetingOrigin,
    MeetingRequest,
    Organisation,
    OrganisationType,
    Participant,
    ParticipantStatus,
    RequestStatus,
    User,
    UTCDateTime,
    utcnow,
)
from clusteratlas.collaboration.permissions import is_member
from clusteratlas.collaboration.recommend import MIN_EXPLAINED, fit_vectoriser

__all__ = [
    "MAX_MESSAGE",
    "SORTS",
    "WEIGHTS",
    "BrowseEntry",
    "BrowseResult",
    "MyRequests",
    "ParticipantDoc",
    "Suggestion",
    "accept_request",
    "browse",
    "cancel_meeting",
    "cancel_request",
    "decline_request",
    "expire_due_requests",
    "meeting_cap",
    "my_requests",
    "participant_text",
    "rank_participants",
    "request_deadline",
    "requests_open",
    "send_request",
]

MAX_MESSAGE = 2_000
MAX_QUERY = 200
#: "partners" ("partners for you", the default for a participant) or "name"
SORTS = ("partners", "name")
WEIGHTS = {"profile": 0.5, "complement": 0.5}
#: item kinds that answer a request
_ANSWERS = (ItemKind.offer.value, ItemKind.expertise.value)
_ENTITY = "meeting_request"


# ---- the ranking (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class ItemDoc:
    """A marketplace item as the ranking sees it."""

    kind: str  # offer, request or expertise
    title: str
    text: str


@dataclass(frozen=True)
class ParticipantDoc:
    """A participant as the ranking sees it: their whole text and their items."""

    id: int
    name: str
    text: str
    items: tuple[ItemDoc, ...] = ()


@dataclass
class Suggestion:
    participant_id: int
    score: float
    components: dict[str, float]
    reasons: list[str] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)


def _complement_reason(mine: ItemDoc, theirs: ItemDoc) -> str:
    if mine.kind == ItemKind.request.value:
        verb = "offer" if theirs.kind == ItemKind.offer.value else "have expertise in"
        return f"you ask for '{mine.title}', they {verb} '{theirs.title}'"
    verb = "offer" if mine.kind == ItemKind.offer.value else "have expertise in"
    return f"they ask for '{theirs.title}', you {verb} '{mine.title}'"


def _matches(mine: ItemDoc, theirs: ItemDoc) -> bool:
    """One asks for what the other offers or knows."""
    return (mine.kind == ItemKind.request.value and theirs.kind in _ANSWERS) or (
        mine.kind in _ANSWERS and theirs.kind == ItemKind.request.value
    )


def rank_participants(me: ParticipantDoc, others: Sequence[ParticipantDoc]) -> list[Suggestion]:
    """Every one of ``others`` (``me`` left out) with a score, best first; ties by name, then id.

    The vectoriser is fitted on the texts of ``me``, ``others`` and all their items, so the
    ranking depends on the event only."""
    others = [o for o in others if o.id != me.id]
    if not others:
        return []
    my_items = list(me.items)
    their_items = [(index, item) for index, o in enumerate(others) for item in o.items]
    texts = [me.text, *(o.text for o in others)]
    item_texts = [i.text for i in my_items] + [i.text for _, i in their_items]
    vectoriser = fit_vectoriser(texts + item_texts)
    vectors = vectoriser.transform(texts)
    mine, theirs = vectors[0], vectors[1:]
    profile = (theirs @ mine.T).toarray().ravel()
    complement = np.zeros(len(others))
    pairs: dict[int, tuple[ItemDoc, ItemDoc]] = {}
    if my_items and their_items:
        cosines = (
            vectoriser.transform([i.text for i in my_items])
            @ vectoriser.transform([i.text for _, i in their_items]).T
        ).toarray()
        for column, (index, item) in enumerate(their_items):
            for row, my_item in enumerate(my_items):
                value = float(cosines[row, column])
                if value > complement[index] and _matches(my_item, item):
                    complement[index] = value
                    pairs[index] = (my_item, item)
    scores = WEIGHTS["profile"] * profile + WEIGHTS["complement"] * complement
    rounded = np.round(scores, 12).tolist()
    order = sorted(
        range(len(others)), key=lambda i: (-rounded[i], others[i].name.casefold(), others[i].id)
    )
    names = vectoriser.get_feature_names_out()
    out = []
    for i in order:
        reasons = []
        if i in pairs and complement[i] >= MIN_EXPLAINED:
            reasons.append(_complement_reason(*pairs[i]))
        if profile[i] >= MIN_EXPLAINED:
            product = mine.multiply(theirs[i]).toarray()[0]
            words = [str(names[k]) for k in np.argsort(-product, kind="stable")[:3] if product[k]]
            if words:
                reasons.append("shared words: " + ", ".join(words))
        out.append(
            Suggestion(
                participant_id=others[i].id,
                score=float(scores[i]),
                components={"profile": float(profile[i]), "complement": float(complement[i])},
                reasons=reasons,
            )
        )
    return out


def item_text(item: EventItem) -> str:
    return "\n".join([item.title, item.body or "", *(item.keywords or [])])


def participant_text(participant: Participant, items: Sequence[EventItem]) -> str:
    """What is compared: headline, job title, items, the organisation's description and
    keywords."""
    parts = [participant.headline or "", participant.job_title or ""]
    parts += [item_text(i) for i in items]
    organisation = participant.organisation
    if organisation is not None:
        parts += [organisation.description or "", *(organisation.keywords or [])]
    return "\n".join(p for p in parts if p)


def _doc(participant: Participant, items: Sequence[EventItem]) -> ParticipantDoc:
    return ParticipantDoc(
        id=participant.id,
        name=participant.display_name,
        text=participant_text(participant, items),
        items=tuple(ItemDoc(i.kind.value, i.title, item_text(i)) for i in items),
    )


# ---- shared checks -----------------------------------------------------------------------


def request_deadline(event: Event) -> datetime | None:
    """When requests close: the event's ``requests_deadline``, else its end (None: never)."""
    return event.requests_deadline or event.ends_at


def meeting_cap(event: Event, participant: Participant) -> int | None:
    """The most meetings ``participant`` may have: the smaller of their own cap and the
    event's (None: no cap)."""
    own, shared = participant.max_meetings, event.max_meetings_per_participant
    caps = [c for c in (own, shared) if c is not None]
    return min(caps) if caps else None


def _live_meetings(session: Session, participant: Participant) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Meeting)
            .where(
                Meeting.event_id == participant.event_id,
                Meeting.cancelled_at.is_(None),
                or_(Meeting.a_id == participant.id, Meeting.b_id == participant.id),
            )
        )
        or 0
    )


def _pending_sent(session: Session, participant: Participant) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(MeetingRequest)
            .where(
                MeetingRequest.requester_id == participant.id,
                MeetingRequest.status == RequestStatus.pending,
            )
        )
        or 0
    )


def _check_open(event: Event, now: datetime) -> None:
    """Requests (and answers) only while the event is published, not over, before the
    deadline."""
    if event.status == EventStatus.cancelled:
        raise ValidationError({"event": "this event is cancelled"})
    if event.status != EventStatus.published:
        raise ValidationError({"event": "this event is not published"})
    if event.ends_at is not None and now >= event.ends_at:
        raise ValidationError({"event": "this event has ended"})
    if event.requests_deadline is not None and now > event.requests_deadline:
        when = local_time(event, event.requests_deadline).strftime("%Y-%m-%d %H:%M %Z")
        raise ValidationError({"event": f"meeting requests closed on {when}"})


def requests_open(event: Event, *, now: datetime | None = None) -> bool:
    """Whether requests may be sent and answered now (published, not over, before the
    deadline)."""
    try:
        _check_open(event, now or utcnow())
    except ValidationError:
        return False
    return True


def _between(a: Participant, b: Participant, left: Any, right: Any) -> Any:
    return or_(and_(left == a.id, right == b.id), and_(left == b.id, right == a.id))


def _joined(session: Session, a: Participant, b: Participant) -> str | None:
    """Why ``a`` may not ask ``b`` again: a pending request or a live meeting either way."""
    pending = session.scalar(
        select(MeetingRequest.id).where(
            MeetingRequest.status == RequestStatus.pending,
            _between(a, b, MeetingRequest.requester_id, MeetingRequest.recipient_id),
        )
    )
    if pending is not None:
        return f"a request between you and {b.display_name} is waiting for an answer"
    meeting = session.scalar(
        select(Meeting.id).where(
            Meeting.cancelled_at.is_(None), _between(a, b, Meeting.a_id, Meeting.b_id)
        )
    )
    accepted = session.scalar(
        select(MeetingRequest.id)
        .outerjoin(Meeting, Meeting.request_id == MeetingRequest.id)
        .where(
            MeetingRequest.status == RequestStatus.accepted,
            _between(a, b, MeetingRequest.requester_id, MeetingRequest.recipient_id),
            Meeting.cancelled_at.is_(None),  # no meeting row, or one that is not cancelled
        )
    )
    if meeting is not None or accepted is not None:
        return f"you already have a meeting with {b.display_name}"
    return None


def _full(session: Session, event: Event, participant: Participant) -> int | None:
    """``participant``'s cap if they already have that many live meetings, else None."""
    cap = meeting_cap(event, participant)
    if cap is not None and _live_meetings(session, participant) >= cap:
        return cap
    return None


def _clean_message(value: str | None) -> str:
    text = (value or "").strip()
    if len(text) > MAX_MESSAGE:
        raise ValidationError({"message": f"use at most {MAX_MESSAGE:,} characters"})
    return text


def _link(event: Event) -> str:
    return f"/events/{event.id}/requests"


def _quoted(text: str | None) -> str:
    return f"\n\n{text}" if text else ""


# ---- verbs -------------------------------------------------------------------------------


def send_request(
    session: Session,
    *,
    actor: User,
    event: Event,
    recipient_id: int,
    message: str | None = "",
    must_meet: bool = False,
    base_url: str = "",
    now: datetime | None = None,
) -> MeetingRequest:
    """Ask another approved participant of ``event`` for a meeting (see the module's rules).
    The recipient is notified; with their ``auto_accept`` the request is accepted at once and
    the meeting made (both are notified)."""
    now = now or utcnow()
    me = require_participant(session, event, actor)
    expire_due_requests(session, now=now, event=event, base_url=base_url)
    _check_open(event, now)
    text = _clean_message(message)
    recipient = session.get(Participant, recipient_id)
    if recipient is None or recipient.event_id != event.id:
        raise ValidationError({"recipient_id": "no participant with this id at this event"})
    if recipient.id == me.id:
        raise ValidationError({"recipient_id": "you cannot request a meeting with yourself"})
    if recipient.status != ParticipantStatus.approved:
        raise ValidationError(
            {"recipient_id": f"{recipient.display_name} is not an approved participant"}
        )
    joined = _joined(session, me, recipient)
    if joined:
        raise ValidationError({"recipient_id": joined})
    limit = event.max_outstanding_requests
    pending = _pending_sent(session, me)
    if limit is not None and pending >= limit:
        raise ValidationError(
            {
                "requests": f"you have {pending} pending requests and this event allows at most "
                f"{limit}: wait for answers or cancel one"
            }
        )
    cap = _full(session, event, recipient)
    if cap is not None:
        raise ValidationError(
            {
                "recipient_id": f"{recipient.display_name} already has {cap} meetings, the most "
                "they can take"
            }
        )
    cap = _full(session, event, me)
    if cap is not None:
        raise ValidationError({"requests": f"you already have {cap} meetings, the most you can"})
    request = MeetingRequest(
        event_id=event.id,
        requester_id=me.id,
        recipient_id=recipient.id,
        message=text,
        must_meet=bool(must_meet),
        status=RequestStatus.pending,
        created_at=now,
    )
    session.add(request)
    session.flush()
    record(
        session,
        actor=actor,
        action="meeting_request.sent",
        entity_type=_ENTITY,
        entity_id=request.id,
        changes={"event_id": event.id, "recipient_id": recipient.id, "must_meet": must_meet},
    )
    if recipient.auto_accept:
        _accept(session, actor=None, event=event, request=request, message=None, now=now)
        notify(
            session,
            user=recipient.user,
            subject=f"New meeting at {event.title}: {me.display_name}",
            body=f"{me.display_name} asked to meet you at {event.title}; your registration "
            f"accepts requests automatically, so the meeting is made.{_quoted(text)}",
            link=_link(event),
            base_url=base_url,
        )
        notify(
            session,
            user=actor,
            subject=f"Meeting accepted: {recipient.display_name}",
            body=f"{recipient.display_name} accepts meeting requests at {event.title} "
            "automatically: your meeting is made.",
            link=_link(event),
            base_url=base_url,
        )
    else:
        flag = " (marked must meet)" if must_meet else ""
        notify(
            session,
            user=recipient.user,
            subject=f"Meeting request at {event.title}: {me.display_name}",
            body=f"{me.display_name} asks to meet you at {event.title}{flag}. Accept or decline "
            f"it on your requests page.{_quoted(text)}",
            link=_link(event),
            base_url=base_url,
        )
    session.flush()
    return request


def _accept(
    session: Session,
    *,
    actor: User | None,
    event: Event,
    request: MeetingRequest,
    message: str | None,
    now: datetime,
) -> Meeting:
    request.status = RequestStatus.accepted
    request.response_message = message or None
    request.responded_at = now
    meeting = Meeting(
        event_id=event.id,
        request_id=request.id,
        origin=MeetingOrigin.request,
        a_id=request.requester_id,
        b_id=request.recipient_id,
        weight=event.must_meet_weight if request.must_meet else 1,
    )
    session.add(meeting)
    session.flush()
    record(
        session,
        actor=actor,
        action="meeting_request.accepted",
        entity_type=_ENTITY,
        entity_id=request.id,
        changes={"meeting_id": meeting.id, "weight": meeting.weight},
    )
    return meeting


def _as_recipient(session: Session, actor: User, event: Event, request: MeetingRequest) -> None:
    me = participation(session, event, actor)
    if request.event_id != event.id or me is None or request.recipient_id != me.id:
        raise PermissionDenied("only the recipient of a request may answer it")
    require_participant(session, event, actor)


def _check_pending(request: MeetingRequest) -> None:
    if request.status != RequestStatus.pending:
        raise ValidationError({"status": f"this request is {request.status.value} already"})


def accept_request(
    session: Session,
    *,
    actor: User,
    event: Event,
    request: MeetingRequest,
    message: str | None = None,
    base_url: str = "",
    now: datetime | None = None,
) -> Meeting:
    """The recipient accepts a pending request: the meeting is made and the requester told.
    Refused if either side already has their cap of meetings."""
    now = now or utcnow()
    _as_recipient(session, actor, event, request)
    expire_due_requests(session, now=now, event=event, base_url=base_url)
    _check_pending(request)
    _check_open(event, now)
    text = _clean_message(message)
    requester = request.requester
    if requester.status != ParticipantStatus.approved:
        raise ValidationError({"status": f"{requester.display_name} no longer takes part"})
    cap = _full(session, event, request.recipient)
    if cap is not None:
        raise ValidationError({"status": f"you already have {cap} meetings, the most you can"})
    cap = _full(session, event, requester)
    if cap is not None:
        raise ValidationError(
            {"status": f"{requester.display_name} already has {cap} meetings, the most they can"}
        )
    meeting = _accept(session, actor=actor, event=event, request=request, message=text, now=now)
    notify(
        session,
        user=requester.user,
        subject=f"Meeting accepted: {request.recipient.display_name}",
        body=f"{request.recipient.display_name} accepted your meeting request at "
        f"{event.title}.{_quoted(text)}",
        link=_link(event),
        base_url=base_url,
    )
    session.flush()
    return meeting


def decline_request(
    session: Session,
    *,
    actor: User,
    event: Event,
    request: MeetingRequest,
    message: str | None = None,
    base_url: str = "",
    now: datetime | None = None,
) -> MeetingRequest:
    """The recipient declines a pending request; the requester is told."""
    now = now or utcnow()
    _as_recipient(session, actor, event, request)
    expire_due_requests(session, now=now, event=event, base_url=base_url)
    _check_pending(request)
    text = _clean_message(message)
    request.status = RequestStatus.declined
    request.response_message = text or None
    request.responded_at = now
    record(
        session,
        actor=actor,
        action="meeting_request.declined",
        entity_type=_ENTITY,
        entity_id=request.id,
    )
    notify(
        session,
        user=request.requester.user,
        subject=f"Meeting request declined: {request.recipient.display_name}",
        body=f"{request.recipient.display_name} declined your meeting request at "
        f"{event.title}.{_quoted(text)}",
        link=_link(event),
        base_url=base_url,
    )
    session.flush()
    return request


def cancel_request(
    session: Session,
    *,
    actor: User,
    event: Event,
    request: MeetingRequest,
    base_url: str = "",
    now: datetime | None = None,
) -> MeetingRequest:
    """The requester withdraws a pending request (the recipient is told on the site)."""
    now = now or utcnow()
    me = participation(session, event, actor)
    if request.event_id != event.id or me is None or request.requester_id != me.id:
        raise PermissionDenied("only the sender of a request may cancel it")
    expire_due_requests(session, now=now, event=event, base_url=base_url)
    _check_pending(request)
    request.status = RequestStatus.cancelled
    request.responded_at = now
    record(
        session,
        actor=actor,
        action="meeting_request.cancelled",
        entity_type=_ENTITY,
        entity_id=request.id,
    )
    notify(
        session,
        user=request.recipient.user,
        subject=f"Meeting request withdrawn: {me.display_name}",
        body=f"{me.display_name} withdrew their meeting request at {event.title}.",
        link=_link(event),
        email=False,
        base_url=base_url,
    )
    session.flush()
    return request


def cancel_meeting(
    session: Session,
    *,
    actor: User,
    event: Event,
    meeting: Meeting,
    base_url: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Either side cancels an accepted meeting before the event starts; the other is told."""
    now = now or utcnow()
    me = participation(session, event, actor)
    if meeting.event_id != event.id or me is None or me.id not in (meeting.a_id, meeting.b_id):
        raise PermissionDenied("only the two participants of a meeting may cancel it")
    if meeting.cancelled_at is not None:
        raise ValidationError({"status": "this meeting is cancelled already"})
    if event.starts_at is not None and now >= event.starts_at:
        raise ValidationError(
            {"status": "the event has started: meetings can only be cancelled before"}
        )
    meeting.cancelled_at = now
    record(
        session,
        actor=actor,
        action="meeting.cancelled",
        entity_type="meeting",
        entity_id=meeting.id,
        changes={"event_id": event.id},
    )
    other = meeting.b if meeting.a_id == me.id else meeting.a
    notify(
        session,
        user=other.user,
        subject=f"Meeting cancelled: {me.display_name}",
        body=f"{me.display_name} cancelled your meeting at {event.title}.",
        link=_link(event),
        base_url=base_url,
    )
    session.flush()
    return meeting


def expire_due_requests(
    session: Session,
    *,
    now: datetime | None = None,
    event: Event | None = None,
    base_url: str = "",
) -> int:
    """Mark ``expired`` the pending requests whose deadline (:func:`request_deadline`) has
    passed, of ``event`` or of every event; each requester is told. The number expired."""
    now = now or utcnow()
    deadline = func.coalesce(Event.requests_deadline, Event.ends_at, type_=UTCDateTime())
    query = (
        select(MeetingRequest)
        .join(Event, Event.id == MeetingRequest.event_id)
        .where(MeetingRequest.status == RequestStatus.pending, deadline < now)
        .options(
            selectinload(MeetingRequest.requester).selectinload(Participant.user),
            selectinload(MeetingRequest.recipient),
        )
        .order_by(MeetingRequest.id)
    )
    if event is not None:
        if (request_deadline(event) or now) >= now:  # nothing can be due: no query
            return 0
        query = query.where(MeetingRequest.event_id == event.id)
    rows = list(session.scalars(query))
    titles: dict[int, str] = {}
    for request in rows:
        request.status = RequestStatus.expired
        request.responded_at = now
        record(
            session,
            actor=None,
            action="meeting_request.expired",
            entity_type=_ENTITY,
            entity_id=request.id,
        )
        if request.event_id not in titles:
            titles[request.event_id] = session.get(Event, request.event_id).title  # type: ignore[union-attr]
        notify(
            session,
            user=request.requester.user,
            subject=f"Meeting request expired: {request.recipient.display_name}",
            body=f"{request.recipient.display_name} did not answer your meeting request at "
            f"{titles[request.event_id]} before the deadline.",
            link=f"/events/{request.event_id}/requests",
            base_url=base_url,
        )
    if rows:
        session.flush()
    return len(rows)


# ---- reads -------------------------------------------------------------------------------


@dataclass
class BrowseEntry:
    participant: Participant
    organisation: Organisation | None
    items: list[EventItem]
    score: float | None = None
    components: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    #: between me and them: "pending_sent", "pending_received", "meeting" or None
    relation: str | None = None

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class BrowseResult:
    event: Event
    me: Participant | None
    entries: list[BrowseEntry]
    count: int
    sort: str


def _check_filters(
    q: str, country: str | None, organisation_type: str | None, item_kind: str | None, sort: str
) -> None:
    errors: dict[str, str] = {}
    if len(q) > MAX_QUERY:
        errors["q"] = f"use at most {MAX_QUERY} characters"
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        errors["country"] = "enter a two-letter country code such as DE or FR"
    if organisation_type and organisation_type not in OrganisationType.__members__:
        errors["organisation_type"] = "choose one of " + ", ".join(OrganisationType)
    if item_kind and item_kind not in ItemKind.__members__:
        errors["item_kind"] = "choose offer, request or expertise"
    if sort not in SORTS:
        errors["sort"] = "choose partners or name"
    if errors:
        raise ValidationError(errors)


def _haystack(participant: Participant, items: Sequence[EventItem]) -> str:
    organisation = participant.organisation
    parts = [participant.display_name, participant.headline or "", participant.job_title or ""]
    if organisation is not None:
        parts += [organisation.name, organisation.acronym or ""]
    for item in items:
        parts += [item.title, item.body or "", *(item.keywords or [])]
    return " ".join(parts).casefold()


def _relations(session: Session, me: Participant) -> dict[int, str]:
    out: dict[int, str] = {}
    rows = session.execute(
        select(MeetingRequest.requester_id, MeetingRequest.recipient_id).where(
            MeetingRequest.status == RequestStatus.pending,
            or_(MeetingRequest.requester_id == me.id, MeetingRequest.recipient_id == me.id),
        )
    )
    for requester, recipient in rows:
        if requester == me.id:
            out[recipient] = "pending_sent"
        else:
            out[requester] = "pending_received"
    rows = session.execute(
        select(Meeting.a_id, Meeting.b_id).where(
            Meeting.cancelled_at.is_(None), or_(Meeting.a_id == me.id, Meeting.b_id == me.id)
        )
    )
    for a, b in rows:
        out[b if a == me.id else a] = "meeting"
    return out


def browse(
    session: Session,
    *,
    actor: User | None,
    event: Event,
    q: str = "",
    country: str | None = None,
    organisation_type: str | None = None,
    item_kind: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    base_url: str = "",
    now: datetime | None = None,
) -> BrowseResult:
    """The approved participants of ``event`` other than ``actor``, with their organisation and
    items, filtered (``q``: every word in the name, organisation, headline or items;
    ``country`` and ``organisation_type`` of the organisation; ``item_kind``: has such an
    item) and sorted by "partners for you" (the default for a participant) or by name.

    For the event's approved participants and its organisers (who get the name order)."""
    now = now or utcnow()
    me = participation(session, event, actor)
    if me is None or me.status != ParticipantStatus.approved:
        if not is_organiser(actor, event):
            if not is_member(actor):
                raise PermissionDenied("sign in with a confirmed address")
            require_participant(session, event, actor)  # raises, saying why
        me = None
    q = (q or "").strip()
    sort = sort or ("partners" if me is not None else "name")
    _check_filters(q, country, organisation_type, item_kind, sort)
    expire_due_requests(session, now=now, event=event, base_url=base_url)
    participants = list(
        session.scalars(
            select(Participant)
            .where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.approved,
            )
            .options(selectinload(Participant.organisation))
            .order_by(Participant.id)
        )
    )
    items: dict[int, list[EventItem]] = {p.id: [] for p in participants}
    for item in session.scalars(
        select(EventItem).where(EventItem.event_id == event.id).order_by(EventItem.id)
    ):
        if item.participant_id in items:
            items[item.participant_id].append(item)
    others = [p for p in participants if me is None or p.id != me.id]
    suggestions: dict[int, Suggestion] = {}
    if sort == "partners" and me is not None:
        ranked = rank_participants(
            _doc(me, items.get(me.id, [])), [_doc(p, items[p.id]) for p in others]
        )
        suggestions = {s.participant_id: s for s in ranked}
        position = {s.participant_id: n for n, s in enumerate(ranked)}
        others.sort(key=lambda p: position[p.id])
    else:
        others.sort(key=lambda p: (p.display_name.casefold(), p.id))
    words = q.casefold().split()
    kept = []
    for p in others:
        organisation = p.organisation
        if words:
            haystack = _haystack(p, items[p.id])
            if not all(w in haystack for w in words):
                continue
        if country and (organisation is None or organisation.country.upper() != country.upper()):
            continue
        if organisation_type and (
            organisation is None or organisation.type.value != organisation_type
        ):
            continue
        if item_kind and not any(i.kind.value == item_kind for i in items[p.id]):
            continue
        kept.append(p)
    relations = _relations(session, me) if me is not None else {}
    page = kept[offset : offset + limit if limit is not None else None]
    entries = []
    for p in page:
        suggestion = suggestions.get(p.id)
        entries.append(
            BrowseEntry(
                participant=p,
                organisation=p.organisation,
                items=items[p.id],
                score=suggestion.score if suggestion else None,
                components=suggestion.components if suggestion else {},
                reasons=suggestion.reasons if suggestion else [],
                relation=relations.get(p.id),
            )
        )
    return BrowseResult(event=event, me=me, entries=entries, count=len(kept), sort=sort)


@dataclass
class MyRequests:
    event: Event
    me: Participant
    #: received requests: pending first (oldest first), then the others (newest first)
    received: list[MeetingRequest]
    #: sent requests, pending first (oldest first), then the others (newest first)
    sent: list[MeetingRequest]
    #: live meetings (not cancelled), oldest first
    meetings: list[Meeting]
    pending_sent: int
    pending_received: int
    #: the event's limit on pending sent requests (None: no limit)
    max_outstanding: int | None
    meeting_cap: int | None
    #: whether requests may still be sent and answered
    open: bool

    @property
    def remaining(self) -> int | None:
        """How many more requests may be sent now (None: no limit)."""
        if self.max_outstanding is None:
            return None
        return max(0, self.max_outstanding - self.pending_sent)

    def partner(self, meeting: Meeting) -> Participant:
        return meeting.b if meeting.a_id == self.me.id else meeting.a


def _pending_first(rows: Sequence[MeetingRequest]) -> list[MeetingRequest]:
    pending = [r for r in rows if r.status == RequestStatus.pending]
    others = [r for r in rows if r.status != RequestStatus.pending]
    pending.sort(key=lambda r: (r.created_at, r.id))
    others.sort(key=lambda r: (r.responded_at or r.created_at, r.id), reverse=True)
    return pending + others


def my_requests(
    session: Session,
    *,
    actor: User,
    event: Event,
    base_url: str = "",
    now: datetime | None = None,
) -> MyRequests:
    """``actor``'s requests at ``event`` (received and sent), their live meetings, the counts and
    the remaining allowance of pending requests. For approved participants."""
    now = now or utcnow()
    me = require_participant(session, event, actor)
    expire_due_requests(session, now=now, event=event, base_url=base_url)
    people = (
        selectinload(MeetingRequest.requester).selectinload(Participant.organisation),
        selectinload(MeetingRequest.recipient).selectinload(Participant.organisation),
    )
    received = list(
        session.scalars(
            select(MeetingRequest).where(MeetingRequest.recipient_id == me.id).options(*people)
        )
    )
    sent = list(
        session.scalars(
            select(MeetingRequest).where(MeetingRequest.requester_id == me.id).options(*people)
        )
    )
    meetings = list(
        session.scalars(
            select(Meeting)
            .where(
                Meeting.event_id == event.id,
                Meeting.cancelled_at.is_(None),
                or_(Meeting.a_id == me.id, Meeting.b_id == me.id),
            )
            .options(
                selectinload(Meeting.a).selectinload(Participant.organisation),
                selectinload(Meeting.b).selectinload(Participant.organisation),
            )
            .order_by(Meeting.created_at, Meeting.id)
        )
    )
    return MyRequests(
        event=event,
        me=me,
        received=_pending_first(received),
        sent=_pending_first(sent),
        meetings=meetings,
        pending_sent=sum(r.status == RequestStatus.pending for r in sent),
        pending_received=sum(r.status == RequestStatus.pending for r in received),
        max_outstanding=event.max_outstanding_requests,
        meeting_cap=meeting_cap(event, me),
        open=requests_open(event, now=now),
    )
