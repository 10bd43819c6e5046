"""Meeting requests at an event: browse (filters, "partners for you"), send with every refusal,
auto-accept, accept / decline / cancel, meeting cancellation, expiry at the deadline, the
notifications (inbox and outbox) and "my requests", on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.meeting_requests import (
    ItemDoc,
    ParticipantDoc,
    accept_request,
    browse,
    cancel_meeting,
    cancel_request,
    decline_request,
    expire_due_requests,
    my_requests,
    rank_participants,
    send_request,
)
from clusteratlas.collaboration.models import (
    AuditLog,
    EventItem,
    EventStatus,
    ItemKind,
    Meeting,
    MeetingOrigin,
    MeetingRequest,
    Notification,
    OrganisationType,
    OutboxEmail,
    ParticipantStatus,
    RequestStatus,
    User,
)
from collaboration.event_fixtures import (
    DAY,
    add_meeting,
    add_participant,
    add_request,
    make_event,
    make_organisation,
)

pytestmark = pytest.mark.integration

#: two weeks before the event day: requests are open
BEFORE = DAY - timedelta(days=14)


def _item(session, participant, kind, title, body="", keywords=()):
    item = EventItem(
        event_id=participant.event_id,
        participant_id=participant.id,
        kind=ItemKind(kind),
        title=title,
        body=body,
        keywords=list(keywords),
    )
    session.add(item)
    session.flush()
    return item


def _inbox(session, user):
    return list(
        session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def _mail(session, user):
    return list(
        session.scalars(
            select(OutboxEmail).where(OutboxEmail.to == user.email).order_by(OutboxEmail.id)
        )
    )


@pytest.fixture
def world(session, create_user):
    """An event organised by Olga; Ana, Ben and Cleo are approved, Dan is still pending."""
    olga = create_user("olga@example.org")
    event = make_event(session, olga)
    users = {n: create_user(f"{n}@example.org") for n in ("ana", "ben", "cleo", "dan")}
    people = {
        n: add_participant(session, event, users[n], name=n.title()) for n in ("ana", "ben", "cleo")
    }
    people["dan"] = add_participant(
        session, event, users["dan"], name="Dan", status=ParticipantStatus.pending
    )
    return event, users, people


def _errors(call):
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.errors


# ---- send --------------------------------------------------------------------------------


def test_send_request_notifies_the_recipient(session, world):
    event, users, people = world

    request = send_request(
        session,
        actor=users["ana"],
        event=event,
        recipient_id=people["ben"].id,
        message="  Let us talk batteries.  ",
        base_url="https://atlas.example",
        now=BEFORE,
    )

    assert (request.requester_id, request.recipient_id) == (people["ana"].id, people["ben"].id)
    assert (request.status, request.message, request.must_meet) == (
        RequestStatus.pending,
        "Let us talk batteries.",
        False,
    )
    [note] = _inbox(session, users["ben"])
    assert note.subject == "Meeting request at Clusters meet Regions: Ana"
    assert note.link == f"/events/{event.id}/requests"
    assert "Let us talk batteries." in note.body
    [mail] = _mail(session, users["ben"])
    assert mail.subject == note.subject
    assert f"https://atlas.example/events/{event.id}/requests" in mail.body
    assert _inbox(session, users["ana"]) == []
    assert session.scalars(select(Meeting)).all() == []
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "meeting_request.sent")).one()
    assert (audit.actor_id, audit.entity_id) == (users["ana"].id, request.id)


def test_send_request_refuses_myself_unknown_and_unapproved(session, world, create_user):
    event, users, people = world
    other = make_event(session, create_user(), title="Another event")
    stranger = add_participant(session, other, create_user(), name="Stranger")

    def send(recipient_id):
        return lambda: send_request(
            session, actor=users["ana"], event=event, recipient_id=recipient_id, now=BEFORE
        )

    assert _errors(send(people["ana"].id)) == {
        "recipient_id": "you cannot request a meeting with yourself"
    }
    assert _errors(send(people["dan"].id)) == {"recipient_id": "Dan is not an approved participant"}
    assert _errors(send(stranger.id)) == {
        "recipient_id": "no participant with this id at this event"
    }
    assert _errors(send(10**9)) == {"recipient_id": "no participant with this id at this event"}
    assert session.scalars(select(MeetingRequest)).all() == []


def test_send_request_refuses_someone_not_approved_as_actor(session, world):
    event, users, people = world

    with pytest.raises(PermissionDenied, match="pending, not approved"):
        send_request(
            session, actor=users["dan"], event=event, recipient_id=people["ana"].id, now=BEFORE
        )


def test_send_request_refuses_duplicates_either_way(session, world):
    event, users, people = world
    add_request(session, people["ben"], people["ana"])  # Ben asked Ana: pending
    meeting = add_meeting(session, people["ana"], people["cleo"])  # accepted, live

    to_ben = _errors(
        lambda: send_request(
            session, actor=users["ana"], event=event, recipient_id=people["ben"].id, now=BEFORE
        )
    )
    to_cleo = _errors(
        lambda: send_request(
            session, actor=users["cleo"], event=event, recipient_id=people["ana"].id, now=BEFORE
        )
    )

    assert to_ben == {"recipient_id": "a request between you and Ben is waiting for an answer"}
    assert to_cleo == {"recipient_id": "you already have a meeting with Ana"}

    meeting.cancelled_at = BEFORE  # a cancelled meeting: they may ask again
    again = send_request(
        session, actor=users["cleo"], event=event, recipient_id=people["ana"].id, now=BEFORE
    )
    assert again.status == RequestStatus.pending


def test_send_request_after_a_declined_request_is_allowed(session, world):
    event, users, people = world
    add_request(session, people["ana"], people["ben"], status=RequestStatus.declined)

    request = send_request(
        session, actor=users["ana"], event=event, recipient_id=people["ben"].id, now=BEFORE
    )

    assert request.status == RequestStatus.pending


def test_send_request_refused_after_the_deadline_or_end_or_cancellation(session, world):
    event, users, people = world
    event.requests_deadline = DAY - timedelta(days=2)  # 2030-05-12 07:00 UTC, 09:00 Brussels

    def send(now):
        return _errors(
            lambda: send_request(
                session, actor=users["ana"], event=event, recipient_id=people["ben"].id, now=now
            )
        )

    assert send(DAY - timedelta(days=1)) == {
        "event": "meeting requests closed on 2030-05-12 09:00 CEST"
    }
    event.requests_deadline = None
    assert send(DAY + timedelta(hours=3)) == {"event": "this event has ended"}
    event.status = EventStatus.cancelled
    assert send(BEFORE) == {"event": "this event is cancelled"}
    assert session.scalars(select(MeetingRequest)).all() == []


def test_send_request_refused_at_the_outstanding_limit(session, world, create_user):
    event, users, people = world
    event.max_outstanding_requests = 2
    eve = add_participant(session, event, create_user(), name="Eve")
    add_request(session, people["ana"], people["ben"])
    add_request(session, people["ana"], people["cleo"])
    add_request(session, people["ana"], people["dan"], status=RequestStatus.declined)

    errors = _errors(
        lambda: send_request(
            session, actor=users["ana"], event=event, recipient_id=eve.id, now=BEFORE
        )
    )

    assert errors == {
        "requests": "you have 2 pending requests and this event allows at most 2: wait for "
        "answers or cancel one"
    }
    event.max_outstanding_requests = 3
    assert send_request(
        session, actor=users["ana"], event=event, recipient_id=eve.id, now=BEFORE
    ).id


def test_send_request_refused_when_the_recipient_is_full(session, world, create_user):
    event, users, people = world
    people["ben"].max_meetings = 1
    add_meeting(session, people["ben"], people["cleo"])

    errors = _errors(
        lambda: send_request(
            session, actor=users["ana"], event=event, recipient_id=people["ben"].id, now=BEFORE
        )
    )

    assert errors == {"recipient_id": "Ben already has 1 meetings, the most they can take"}
    # the event's cap counts too, and the smaller cap wins
    people["ben"].max_meetings = 5
    event.max_meetings_per_participant = 2
    eve = add_participant(session, event, create_user(), name="Eve")
    add_meeting(session, people["ben"], eve)
    assert _errors(
        lambda: send_request(
            session, actor=users["ana"], event=event, recipient_id=people["ben"].id, now=BEFORE
        )
    ) == {"recipient_id": "Ben already has 2 meetings, the most they can take"}


def test_send_request_auto_accepted(session, world):
    event, users, people = world
    people["ben"].auto_accept = True

    request = send_request(
        session,
        actor=users["ana"],
        event=event,
        recipient_id=people["ben"].id,
        must_meet=True,
        now=BEFORE,
    )

    assert request.status == RequestStatus.accepted
    assert request.responded_at == BEFORE
    meeting = session.scalars(select(Meeting)).one()
    assert (meeting.a_id, meeting.b_id, meeting.weight, meeting.origin, meeting.request_id) == (
        people["ana"].id,
        people["ben"].id,
        3,
        MeetingOrigin.request,
        request.id,
    )
    assert [n.subject for n in _inbox(session, users["ben"])] == [
        "New meeting at Clusters meet Regions: Ana"
    ]
    assert [n.subject for n in _inbox(session, users["ana"])] == ["Meeting accepted: Ben"]
    assert len(_mail(session, users["ana"])) == len(_mail(session, users["ben"])) == 1


def test_send_request_message_too_long(session, world):
    event, users, people = world

    errors = _errors(
        lambda: send_request(
            session,
            actor=users["ana"],
            event=event,
            recipient_id=people["ben"].id,
            message="x" * 2001,
            now=BEFORE,
        )
    )

    assert errors == {"message": "use at most 2,000 characters"}


# ---- answer ------------------------------------------------------------------------------


@pytest.mark.parametrize(("must_meet", "weight"), [(False, 1), (True, 7)])
def test_accept_request_makes_the_meeting(session, world, must_meet, weight):
    event, users, people = world
    event.must_meet_weight = 7
    request = add_request(session, people["ana"], people["ben"], must_meet=must_meet)

    meeting = accept_request(
        session,
        actor=users["ben"],
        event=event,
        request=request,
        message="See you there",
        now=BEFORE,
    )

    assert (meeting.a_id, meeting.b_id, meeting.weight) == (
        people["ana"].id,
        people["ben"].id,
        weight,
    )
    assert (meeting.origin, meeting.request_id, meeting.cancelled_at) == (
        MeetingOrigin.request,
        request.id,
        None,
    )
    assert (request.status, request.response_message, request.responded_at) == (
        RequestStatus.accepted,
        "See you there",
        BEFORE,
    )
    [note] = _inbox(session, users["ana"])
    assert note.subject == "Meeting accepted: Ben"
    assert "See you there" in note.body
    assert [m.subject for m in _mail(session, users["ana"])] == ["Meeting accepted: Ben"]


def test_only_the_recipient_answers(session, world):
    event, users, people = world
    request = add_request(session, people["ana"], people["ben"])

    for actor in (users["ana"], users["cleo"]):
        with pytest.raises(PermissionDenied):
            accept_request(session, actor=actor, event=event, request=request, now=BEFORE)
        with pytest.raises(PermissionDenied):
            decline_request(session, actor=actor, event=event, request=request, now=BEFORE)
    with pytest.raises(PermissionDenied):
        cancel_request(session, actor=users["ben"], event=event, request=request, now=BEFORE)
    assert request.status == RequestStatus.pending


def test_answering_a_request_that_is_not_pending(session, world):
    event, users, people = world
    request = add_request(session, people["ana"], people["ben"], status=RequestStatus.cancelled)

    errors = _errors(
        lambda: accept_request(
            session, actor=users["ben"], event=event, request=request, now=BEFORE
        )
    )

    assert errors == {"status": "this request is cancelled already"}
    assert session.scalars(select(Meeting)).all() == []


def test_accept_refused_when_either_side_is_full(session, world, create_user):
    event, users, people = world
    event.max_meetings_per_participant = 1
    request = add_request(session, people["ana"], people["ben"])
    add_meeting(session, people["ana"], people["cleo"])

    errors = _errors(
        lambda: accept_request(
            session, actor=users["ben"], event=event, request=request, now=BEFORE
        )
    )

    assert errors == {"status": "Ana already has 1 meetings, the most they can"}
    assert request.status == RequestStatus.pending


def test_decline_request_tells_the_requester(session, world):
    event, users, people = world
    request = add_request(session, people["ana"], people["ben"])

    decline_request(
        session, actor=users["ben"], event=event, request=request, message="Fully booked"
    )

    assert (request.status, request.response_message) == (RequestStatus.declined, "Fully booked")
    [note] = _inbox(session, users["ana"])
    assert note.subject == "Meeting request declined: Ben"
    assert note.body.endswith("Fully booked")
    assert len(_mail(session, users["ana"])) == 1


def test_cancel_request_by_the_requester(session, world):
    event, users, people = world
    request = add_request(session, people["ana"], people["ben"])

    cancel_request(session, actor=users["ana"], event=event, request=request, now=BEFORE)

    assert request.status == RequestStatus.cancelled
    assert [n.subject for n in _inbox(session, users["ben"])] == ["Meeting request withdrawn: Ana"]
    assert _mail(session, users["ben"]) == []  # on the site only
    assert _errors(
        lambda: cancel_request(session, actor=users["ana"], event=event, request=request)
    ) == {"status": "this request is cancelled already"}


def test_cancel_meeting_either_side_before_the_event(session, world):
    event, users, people = world
    first = add_meeting(session, people["ana"], people["ben"])
    second = add_meeting(session, people["cleo"], people["ana"])

    cancel_meeting(session, actor=users["ana"], event=event, meeting=first, now=BEFORE)
    cancel_meeting(session, actor=users["ana"], event=event, meeting=second, now=BEFORE)

    assert first.cancelled_at == second.cancelled_at == BEFORE
    assert [n.subject for n in _inbox(session, users["ben"])] == ["Meeting cancelled: Ana"]
    assert [n.subject for n in _inbox(session, users["cleo"])] == ["Meeting cancelled: Ana"]
    assert [m.to for m in _mail(session, users["ben"])] == ["ben@example.org"]
    assert _errors(
        lambda: cancel_meeting(session, actor=users["ben"], event=event, meeting=first)
    ) == {"status": "this meeting is cancelled already"}


def test_cancel_meeting_refused_for_others_and_once_started(session, world):
    event, users, people = world
    meeting = add_meeting(session, people["ana"], people["ben"])

    with pytest.raises(PermissionDenied):
        cancel_meeting(session, actor=users["cleo"], event=event, meeting=meeting, now=BEFORE)
    assert _errors(
        lambda: cancel_meeting(session, actor=users["ben"], event=event, meeting=meeting, now=DAY)
    ) == {"status": "the event has started: meetings can only be cancelled before"}
    assert meeting.cancelled_at is None


# ---- expiry ------------------------------------------------------------------------------


def test_expire_due_requests_after_the_deadline(session, world):
    event, users, people = world
    deadline = DAY - timedelta(days=3)
    event.requests_deadline = deadline
    late = add_request(session, people["ana"], people["ben"])
    other = add_request(session, people["cleo"], people["ben"])
    answered = add_request(session, people["ben"], people["cleo"], status=RequestStatus.declined)

    assert expire_due_requests(session, now=deadline) == 0  # at the deadline: still pending
    assert late.status == RequestStatus.pending

    assert expire_due_requests(session, now=deadline + timedelta(minutes=1)) == 2

    assert (late.status, other.status, answered.status) == (
        RequestStatus.expired,
        RequestStatus.expired,
        RequestStatus.declined,
    )
    assert [n.subject for n in _inbox(session, users["ana"])] == ["Meeting request expired: Ben"]
    assert len(_mail(session, users["cleo"])) == 1
    assert _inbox(session, users["ben"]) == []
    assert expire_due_requests(session, now=deadline + timedelta(days=1)) == 0


def test_requests_without_a_deadline_expire_at_the_end(session, world):
    event, users, people = world
    request = add_request(session, people["ana"], people["ben"])

    assert expire_due_requests(session, now=event.ends_at - timedelta(minutes=1)) == 0
    assert expire_due_requests(session, now=event.ends_at + timedelta(minutes=1)) == 1
    assert request.status == RequestStatus.expired


def test_my_requests_expires_lazily(session, world):
    event, users, people = world
    event.requests_deadline = DAY - timedelta(days=3)
    request = add_request(session, people["ana"], people["ben"])

    mine = my_requests(session, actor=users["ben"], event=event, now=DAY - timedelta(days=1))

    assert request.status == RequestStatus.expired
    assert mine.pending_received == 0
    assert [r.status for r in mine.received] == [RequestStatus.expired]
    assert mine.open is False


# ---- my requests -------------------------------------------------------------------------


def test_my_requests_lists_and_counts(session, world, create_user):
    event, users, people = world
    event.max_outstanding_requests = 5
    eve = add_participant(session, event, create_user(), name="Eve")
    declined = add_request(session, people["cleo"], people["ana"], status=RequestStatus.declined)
    first = add_request(session, people["ben"], people["ana"])
    second = add_request(session, eve, people["ana"])
    sent = add_request(session, people["ana"], people["dan"])
    meeting = add_meeting(session, people["ana"], people["cleo"])
    cancelled = add_meeting(session, eve, people["ana"])
    cancelled.cancelled_at = BEFORE

    mine = my_requests(session, actor=users["ana"], event=event, now=BEFORE)

    # pending oldest first, then the answered ones newest first
    assert [r.id for r in mine.received] == [
        first.id,
        second.id,
        cancelled.request_id,
        declined.id,
    ]
    assert [r.id for r in mine.sent] == [sent.id, meeting.request_id]
    assert [m.id for m in mine.meetings] == [meeting.id]
    assert mine.partner(meeting).display_name == "Cleo"
    assert (mine.pending_sent, mine.pending_received) == (1, 2)
    assert (mine.max_outstanding, mine.remaining) == (5, 4)
    assert mine.open is True


def test_my_requests_for_participants_only(session, world, create_user):
    event, users, _people = world

    with pytest.raises(PermissionDenied, match="register for the event first"):
        my_requests(session, actor=create_user(), event=event)


# ---- browse and the ranking -------------------------------------------------------------


@pytest.fixture
def market(session, create_user):
    """Ana asks for battery recycling. Ben offers exactly that; Eve asks for the same (same
    text as Ben's offer, so the same words, but no complement); Cleo sells tourism; Finn
    (a university in France) has expertise in lithium chemistry."""
    event = make_event(session, create_user())
    volta = make_organisation(session, "Volta Cells", country="DE")
    nord = make_organisation(session, "Nord Recycling", country="FR")
    uni = make_organisation(session, "Université de Lille", country="FR")
    uni.type = OrganisationType.university
    sea = make_organisation(session, "Seaside Tours", country="ES")
    users = {n: create_user(f"{n}@example.org") for n in ("ana", "ben", "cleo", "eve", "finn")}
    ana = add_participant(session, event, users["ana"], name="Ana", organisation=volta)
    ben = add_participant(session, event, users["ben"], name="Ben", organisation=nord)
    cleo = add_participant(session, event, users["cleo"], name="Cleo", organisation=sea)
    eve = add_participant(session, event, users["eve"], name="Eve")
    finn = add_participant(session, event, users["finn"], name="Finn", organisation=uni)
    for org in (volta, nord, uni, sea):
        org.description = ""  # only the items speak
    _item(session, ana, "request", "Battery recycling partner", "Recycle lithium battery cells")
    text = ("Battery recycling pilot line", "Recycle lithium battery cells at scale")
    _item(session, ben, "offer", *text)
    _item(session, eve, "request", *text)
    _item(session, cleo, "offer", "Guided coastal tours", "Holidays by the sea")
    _item(session, finn, "expertise", "Lithium chemistry", "Electrolyte analysis")
    people = {"ana": ana, "ben": ben, "cleo": cleo, "eve": eve, "finn": finn}
    return event, users, people


def _names(result):
    return [e.participant.display_name for e in result.entries]


def test_browse_partners_for_you_puts_the_complementary_offer_first(session, market):
    event, users, _people = market

    result = browse(session, actor=users["ana"], event=event, now=BEFORE)

    assert result.sort == "partners"
    names = _names(result)
    assert names[0] == "Ben"
    assert names.index("Ben") < names.index("Eve")  # same words, but Eve asks too
    assert names[-1] == "Cleo"  # nothing in common
    ben, cleo = result.entries[0], result.entries[-1]
    assert ben.explanation.startswith(
        "you ask for 'Battery recycling partner', they offer 'Battery recycling pilot line'"
    )
    assert "shared words:" in ben.explanation
    assert cleo.score == 0.0
    assert cleo.explanation == ""
    eve = result.entries[names.index("Eve")]
    assert eve.components["complement"] == 0.0
    assert eve.components["profile"] == pytest.approx(ben.components["profile"])
    finn = result.entries[names.index("Finn")]
    assert finn.explanation.startswith(
        "you ask for 'Battery recycling partner', they have expertise in 'Lithium chemistry'"
    )


def test_browse_filters(session, market):
    event, users, _people = market

    def names(**filters):
        return _names(browse(session, actor=users["ana"], event=event, sort="name", **filters))

    assert names() == ["Ben", "Cleo", "Eve", "Finn"]
    assert names(q="coastal") == ["Cleo"]  # an item's title
    assert names(q="nord") == ["Ben"]  # the organisation
    assert names(q="lithium cells") == ["Ben", "Eve"]  # every word
    assert names(q="FINN") == ["Finn"]  # the name, any case
    assert names(country="fr") == ["Ben", "Finn"]
    assert names(organisation_type="university") == ["Finn"]
    assert names(item_kind="request") == ["Eve"]
    assert names(item_kind="offer", country="FR") == ["Ben"]


def test_browse_paging_counts_all_matches(session, market):
    event, users, _people = market

    result = browse(session, actor=users["ana"], event=event, sort="name", limit=2, offset=1)

    assert (result.count, _names(result)) == (4, ["Cleo", "Eve"])


def test_browse_bad_filters(session, market):
    event, users, _people = market

    errors = _errors(
        lambda: browse(
            session,
            actor=users["ana"],
            event=event,
            country="France",
            organisation_type="pirates",
            item_kind="gift",
            sort="random",
        )
    )

    assert sorted(errors) == ["country", "item_kind", "organisation_type", "sort"]


def test_browse_shows_approved_others_and_relations(session, market, create_user):
    event, users, people = market
    add_participant(
        session, event, create_user(), name="Pending Pete", status=ParticipantStatus.pending
    )
    add_request(session, people["ana"], people["ben"])
    add_request(session, people["eve"], people["ana"])
    add_meeting(session, people["cleo"], people["ana"])

    result = browse(session, actor=users["ana"], event=event, sort="name")

    assert {e.participant.display_name: e.relation for e in result.entries} == {
        "Ben": "pending_sent",
        "Cleo": "meeting",
        "Eve": "pending_received",
        "Finn": None,
    }


def test_browse_for_the_organiser_and_refused_to_others(session, market, create_user):
    event, _users, _people = market
    organiser = session.get(User, event.organiser_id)

    result = browse(session, actor=organiser, event=event)

    assert (result.sort, _names(result)) == ("name", ["Ana", "Ben", "Cleo", "Eve", "Finn"])
    with pytest.raises(PermissionDenied):
        browse(session, actor=create_user(), event=event)
    with pytest.raises(PermissionDenied):
        browse(session, actor=None, event=event)


def test_rank_participants_pure():
    me = ParticipantDoc(1, "Me", "solar panels", (ItemDoc("offer", "Solar panels", "solar"),))
    others = [
        ParticipantDoc(2, "Zed", "wind turbines"),
        ParticipantDoc(3, "Amy", "wind turbines"),
        ParticipantDoc(4, "Bob", "solar", (ItemDoc("request", "Need solar", "solar"),)),
        me,
    ]

    ranked = rank_participants(me, others)

    assert [s.participant_id for s in ranked] == [4, 3, 2]  # ties by name: Amy before Zed
    assert ranked[0].reasons[0] == "they ask for 'Need solar', you offer 'Solar panels'"
    assert ranked[1].score == ranked[2].score == 0.0
    assert rank_participants(me, [me]) == []


def test_browse_without_now_uses_the_clock(session, market):
    event, users, _people = market

    result = browse(session, actor=users["ana"], event=event)

    assert (result.count, result.sort) == (4, "partners")
