"""The event pages on SQLite and PostgreSQL: the list, the create and edit forms (times typed
in the event's time zone, stored in UTC), the organiser's page (sessions, slots, approvals),
registration, "my registration" (profile, availability, items), the marketplace and the
directory; field errors re-render the form (400) keeping the input; refused access; CSRF; no
inline code."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.events import event_slots
from clusteratlas.collaboration.models import (
    Event,
    EventItem,
    EventStatus,
    Notification,
    OrganisationType,
    Participant,
    ParticipantStatus,
)
from collaboration.event_fixtures import add_meeting, add_participant, make_event, make_organisation
from web.event_fixtures import assert_no_inline_code, csrf_of, log_in

pytestmark = pytest.mark.integration


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def signed_in(make_client, settings):
    """Factory: a new client with ``user`` logged in."""

    def make(user):
        client = make_client(settings)
        log_in(client, user)
        return client

    return make


def post_form(client, path, data, *, page=None):
    """POST ``data`` with the CSRF token of ``page`` (default: the form's own page)."""
    token = csrf_of(client.get(page or "/events").text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


EVENT_FORM = {
    "title": "Clusters meet Regions",
    "description": "Bilateral meetings.",
    "timezone": "Europe/Brussels",
    "venue": "Square, Brussels",
    "virtual_link_template": "",
    "organisation_id": "",
    "registration_opens_at": "",
    "registration_closes_at": "2030-05-01T18:00",
    "requests_deadline": "2030-01-10T12:00",
    "max_meetings_per_participant": "8",
    "max_outstanding_requests": "10",
    "must_meet_weight": "3",
}


# ---- list and create ---------------------------------------------------------------------


def test_list_shows_upcoming_published_events_and_mine(client, session, create_user, signed_in):
    ana, ben = create_user(), create_user()
    make_event(session, ana, title="Open <day>")
    make_event(session, ana, title="Secret draft", status=EventStatus.draft)
    event = make_event(session, ana, title="Later day", start=utc(2031, 1, 1, 8))
    add_participant(session, event, ben)

    public = client.get("/events")
    mine = signed_in(ben).get("/events").text

    assert public.status_code == 200
    assert "Open &lt;day&gt;" in public.text
    assert "Secret draft" not in public.text
    assert "New event" not in public.text
    assert_no_inline_code(public.text)
    assert 'href="/events/new"' in mine
    assert mine.index("Your events") < mine.index("Later day") < mine.index("Upcoming events")


def test_create_event_converts_local_times_to_utc(session, create_user, signed_in):
    ana = create_user()
    client = signed_in(ana)

    response = post_form(client, "/events/new", EVENT_FORM, page="/events/new")

    assert response.status_code == 303
    event = session.scalars(select(Event)).one()
    assert response.headers["location"] == f"/events/{event.id}/manage"
    assert event.status == EventStatus.draft
    assert event.organiser_id == ana.id
    # 18:00 in Brussels in May (UTC+2) and 12:00 in January (UTC+1)
    assert event.registration_closes_at == utc(2030, 5, 1, 16, 0)
    assert event.requests_deadline == utc(2030, 1, 10, 11, 0)
    assert event.max_meetings_per_participant == 8
    edit = client.get(f"/events/{event.id}/edit").text
    assert 'value="2030-05-01T18:00"' in edit
    assert 'value="2030-01-10T12:00"' in edit
    assert_no_inline_code(edit)


def test_create_event_errors_keep_the_input(session, create_user, signed_in):
    client = signed_in(create_user())
    data = EVENT_FORM | {
        "title": "Kept title",
        "timezone": "Europe/Atlantis",
        "max_meetings_per_participant": "many",
    }

    response = post_form(client, "/events/new", data, page="/events/new")
    link = post_form(
        client,
        "/events/new",
        EVENT_FORM | {"virtual_link_template": "https://meet.example.org/x"},
        page="/events/new",
    )
    skipped = post_form(
        client,
        "/events/new",
        EVENT_FORM | {"registration_closes_at": "2030-03-31T02:30"},
        page="/events/new",
    )

    assert response.status_code == 400
    assert "choose a time zone by its IANA name" in response.text
    assert "enter a whole number" in response.text
    assert 'value="Kept title"' in response.text
    assert link.status_code == 400
    assert "put {meeting} where each meeting" in link.text
    assert skipped.status_code == 400
    assert "does not exist in Europe/Brussels" in skipped.text
    assert session.scalars(select(Event)).all() == []


def test_new_event_needs_sign_in_and_csrf(client, session, create_user, signed_in):
    redirect = client.get("/events/new", follow_redirects=False)
    member = signed_in(create_user())
    no_token = member.post("/events/new", data=EVENT_FORM, follow_redirects=False)

    assert redirect.status_code == 303
    assert redirect.headers["location"].startswith("/login?next=/events/new")
    assert no_token.status_code == 403
    assert session.scalars(select(Event)).all() == []


# ---- the event page ----------------------------------------------------------------------


def test_event_page_shows_local_times_with_the_zone(client, session, create_user):
    ana = create_user()
    event = make_event(session, ana, slots=2)  # 07:00 UTC on 14 May 2030 = 09:00 in Brussels
    winter = make_event(session, ana, title="Winter", slots=1, start=utc(2030, 1, 15, 8, 0))

    page = client.get(f"/events/{event.id}").text
    winter_page = client.get(f"/events/{winter.id}").text

    assert "Tue 14 May 2030, 09:00 – 10:00" in page
    assert "09:00–09:30" in page
    assert "09:30–10:00" in page
    assert "Europe/Brussels" in page
    assert 'href="/static/css/events.css"' in page.split("</head>")[0]
    assert f'href="/events/{event.id}/register"' in page
    assert "09:00–09:30" in winter_page  # 08:00 UTC in January
    assert_no_inline_code(page)


def test_drafts_are_404_for_others_and_manage_403(client, session, create_user, signed_in):
    ana, ben = create_user(), create_user()
    draft = make_event(session, ana, status=EventStatus.draft)
    published = make_event(session, ana)

    assert client.get(f"/events/{draft.id}").status_code == 404
    assert signed_in(ben).get(f"/events/{draft.id}").status_code == 404
    assert signed_in(ana).get(f"/events/{draft.id}").status_code == 200
    assert signed_in(ben).get(f"/events/{published.id}/manage").status_code == 403
    assert signed_in(ben).get(f"/events/{published.id}/edit").status_code == 403
    assert client.get("/events/99999").status_code == 404


def test_publish_and_cancel_from_the_page(session, create_user, signed_in):
    ana, ben = create_user(), create_user()
    event = make_event(session, ana, status=EventStatus.draft)
    client = signed_in(ana)
    page = f"/events/{event.id}"

    published = post_form(client, f"/events/{event.id}/publish", {}, page=page)
    session.refresh(event)
    assert published.status_code == 303
    assert event.status == EventStatus.published
    add_participant(session, event, ben)
    not_allowed = post_form(signed_in(ben), f"/events/{event.id}/cancel", {}, page=page)
    cancelled = post_form(client, f"/events/{event.id}/cancel", {}, page=page)

    session.refresh(event)
    assert not_allowed.status_code == 403
    assert cancelled.status_code == 303
    assert event.status == EventStatus.cancelled
    assert session.scalars(select(Notification.user_id)).all() == [ben.id]
    assert "This event is cancelled" in client.get(page).text


# ---- the organiser's page ----------------------------------------------------------------


def test_add_session_from_the_manage_page(session, create_user, signed_in):
    ana = create_user()
    event = Event(title="Winter day", timezone="Europe/Brussels", organiser_id=ana.id)
    session.add(event)
    session.flush()
    client = signed_in(ana)
    manage = f"/events/{event.id}/manage"

    response = post_form(
        client,
        f"/events/{event.id}/sessions",
        {
            "name": "Winter morning",
            "starts_at": "2030-01-15T09:00",
            "ends_at": "2030-01-15T10:40",
            "slot_minutes": "25",
            "break_minutes": "5",
            "tables": "6",
        },
        page=manage,
    )

    assert response.status_code == 303
    slots = event_slots(session, event)
    # 09:00 in Brussels in January is 08:00 UTC; slots at 09:00, 09:30, 10:00 local time
    assert [(s.starts_at, s.ends_at) for s in slots] == [
        (utc(2030, 1, 15, 8, 0), utc(2030, 1, 15, 8, 25)),
        (utc(2030, 1, 15, 8, 30), utc(2030, 1, 15, 8, 55)),
        (utc(2030, 1, 15, 9, 0), utc(2030, 1, 15, 9, 25)),
    ]
    page = client.get(manage).text
    assert "10:00–10:25" in page
    assert_no_inline_code(page)


def test_manage_page_errors_overlap_and_delete_refused(session, create_user, signed_in):
    ana, ben, cleo = create_user(), create_user(), create_user()
    event = make_event(session, ana)  # 09:00-11:00 in Brussels
    pb, pc = add_participant(session, event, ben), add_participant(session, event, cleo)
    add_meeting(session, pb, pc, slot=event_slots(session, event)[0], table=1)
    client = signed_in(ana)
    manage = f"/events/{event.id}/manage"

    overlap = post_form(
        client,
        f"/events/{event.id}/sessions",
        {
            "name": "Kept name",
            "starts_at": "2030-05-14T10:00",
            "ends_at": "2030-05-14T12:00",
            "slot_minutes": "30",
            "tables": "3",
        },
        page=manage,
    )
    bad_time = post_form(
        client,
        f"/events/{event.id}/sessions",
        {"name": "x", "starts_at": "soon", "ends_at": "", "slot_minutes": "30", "tables": "3"},
        page=manage,
    )
    refused = post_form(
        client, f"/events/{event.id}/sessions/{event.sessions[0].id}/delete", {}, page=manage
    )
    tables = post_form(
        client,
        f"/events/{event.id}/slots/{event_slots(session, event)[1].id}",
        {"tables": "2"},
        page=manage,
    )

    assert overlap.status_code == 400
    assert "this session overlaps &#34;Morning meetings&#34;" in overlap.text
    assert 'value="Kept name"' in overlap.text
    assert bad_time.status_code == 400
    assert "enter a date and time such as" in bad_time.text
    assert refused.status_code == 400
    assert "1 meeting(s) are scheduled in this session" in refused.text
    assert tables.status_code == 303
    assert event_slots(session, event)[1].tables == 2


def test_approve_and_decline_from_the_manage_page(session, create_user, signed_in):
    ana = create_user()
    ben, cleo = create_user("ben@example.org"), create_user("cleo@example.org")
    event = make_event(session, ana, requires_approval=True)
    pb = add_participant(session, event, ben, name="Ben", status=ParticipantStatus.pending)
    pc = add_participant(session, event, cleo, name="Cleo", status=ParticipantStatus.pending)
    client = signed_in(ana)
    manage = f"/events/{event.id}/manage"

    page = client.get(manage).text
    post_form(client, f"/events/{event.id}/participants/{pb.id}/approve", {}, page=manage)
    post_form(client, f"/events/{event.id}/participants/{pc.id}/decline", {}, page=manage)
    by_ben = post_form(
        signed_in(ben), f"/events/{event.id}/participants/{pc.id}/approve", {}, page="/events"
    )

    assert "2 pending" in page
    session.refresh(pb)
    session.refresh(pc)
    assert (pb.status, pc.status) == (ParticipantStatus.approved, ParticipantStatus.declined)
    assert by_ben.status_code == 403
    subjects = dict(session.execute(select(Notification.user_id, Notification.subject)).all())
    assert subjects == {
        ben.id: "You are in: Clusters meet Regions",
        cleo.id: "Registration declined: Clusters meet Regions",
    }


# ---- registration and my registration ----------------------------------------------------


def test_register_from_the_page(session, create_user, signed_in):
    ana, ben = create_user(), create_user("ben.de-vries@example.org")
    event = make_event(session, ana, max_meetings=6)
    client = signed_in(ben)
    form_page = f"/events/{event.id}/register"

    form = client.get(form_page).text
    too_many = post_form(
        client, form_page, {"display_name": "Ben", "max_meetings": "7"}, page=form_page
    )
    done = post_form(
        client,
        form_page,
        {"display_name": "Ben", "headline": "Batteries", "max_meetings": "4", "auto_accept": "1"},
        page=form_page,
    )

    assert 'value="Ben De Vries"' in form
    assert too_many.status_code == 400
    assert "from 0 to 6 (the event&#39;s limit)" in too_many.text
    assert done.status_code == 303
    assert done.headers["location"] == f"/events/{event.id}/me"
    participant = session.scalars(select(Participant)).one()
    assert (participant.status, participant.max_meetings, participant.auto_accept) == (
        ParticipantStatus.approved,
        4,
        True,
    )
    assert client.get(form_page, follow_redirects=False).status_code == 303
    again = post_form(client, form_page, {"display_name": "Ben"}, page=f"/events/{event.id}")
    assert again.status_code == 400
    assert "you are already registered" in again.text


def test_a_session_crossing_midnight_shows_the_date_of_its_end(client, session, create_user):
    # 23:00 in Brussels (UTC+1 in March), four 30-minute slots: ends at 01:00 the next day
    start = datetime(2030, 3, 10, 22, 0, tzinfo=UTC)
    event = make_event(session, create_user(), start=start, slots=4)

    page = client.get(f"/events/{event.id}").text

    assert "Sun 10 Mar 2030, 23:00 – Mon 11 Mar 2030, 01:00" in page
    assert "23:30–Mon 11 Mar 2030, 00:00" in page  # the slot that ends at midnight
    assert "00:30–01:00" in page  # a slot within the next day


def test_the_organiser_is_not_offered_to_register(session, create_user, signed_in):
    olga, ben = create_user(), create_user()
    event = make_event(session, olga)

    own = signed_in(olga).get(f"/events/{event.id}").text
    other = signed_in(ben).get(f"/events/{event.id}").text

    assert "You organise this event" in own
    assert f'href="/events/{event.id}/register"' not in own
    assert f'href="/events/{event.id}/register"' in other
    assert "You organise this event" not in other


def test_register_closed_shows_it(session, create_user, signed_in):
    event = make_event(session, create_user(), registration_closes_at=utc(2020, 1, 1))
    client = signed_in(create_user())

    page = client.get(f"/events/{event.id}/register").text
    refused = post_form(
        client, f"/events/{event.id}/register", {"display_name": "Ben"}, page="/events"
    )

    assert "Registration for this event is closed" in page
    assert refused.status_code == 400
    assert "registration for this event is closed" in refused.text


def test_availability_checkboxes(session, create_user, signed_in):
    ana, ben = create_user(), create_user()
    event = make_event(session, ana)
    participant = add_participant(session, event, ben)
    s1, _s2, s3, _s4 = (slot.id for slot in event_slots(session, event))
    client = signed_in(ben)
    me = f"/events/{event.id}/me"

    page = client.get(me).text
    saved = post_form(
        client,
        f"/events/{event.id}/me/availability",
        {"availability": "1", f"slot-{s1}": "1", f"slot-{s3}": "1"},
        page=me,
    )
    after = client.get(me).text
    unknown = post_form(
        client,
        f"/events/{event.id}/me/availability",
        {"availability": "1", "slot-999999": "1"},
        page=me,
    )

    assert page.count('type="checkbox" name="slot-') == 4
    assert page.count("checked") >= 4
    assert saved.status_code == 303
    session.refresh(participant)
    assert participant.available_slot_ids == [s1, s3]
    assert re.search(rf'name="slot-{s1}" value="1" checked', after)
    assert not re.search(rf'name="slot-{s1 + 1}" value="1" checked', after)
    assert unknown.status_code == 400
    assert "not slots of this event: 999999" in unknown.text
    assert_no_inline_code(after)


def test_availability_of_an_event_with_many_slots(session, create_user, signed_in):
    """One checkbox per slot: 150 slots (5-minute slots over 12.5 hours) are more than the
    100 fields other forms may have."""
    ana, ben = create_user(), create_user()
    event = make_event(session, ana, slots=150, slot_minutes=5)
    participant = add_participant(session, event, ben)
    slots = [slot.id for slot in event_slots(session, event)]
    client = signed_in(ben)
    me = f"/events/{event.id}/me"

    saved = post_form(
        client,
        f"/events/{event.id}/me/availability",
        {"availability": "1", **{f"slot-{s}": "1" for s in slots[:140]}},
        page=me,
    )
    too_many = post_form(
        client,
        f"/events/{event.id}/me/availability",
        {"availability": "1", **{f"slot-{k}": "1" for k in range(1, 5_001)}},
        page=me,
    )

    assert len(slots) == 150
    assert saved.status_code == 303
    session.refresh(participant)
    assert participant.available_slot_ids == slots[:140]
    assert too_many.status_code in (400, 413)
    assert "too many fields" in too_many.text or "too large" in too_many.text


def test_profile_update_and_withdraw(session, create_user, signed_in):
    ana, ben = create_user(), create_user()
    event = make_event(session, ana)
    participant = add_participant(session, event, ben, name="Ben")
    client = signed_in(ben)
    me = f"/events/{event.id}/me"

    bad = post_form(client, me, {"display_name": " ", "job_title": "Kept"}, page=me)
    good = post_form(client, me, {"display_name": "Ben B", "job_title": "CTO"}, page=me)
    withdrawn = post_form(client, f"/events/{event.id}/me/withdraw", {}, page=me)

    assert bad.status_code == 400
    assert "this field is required" in bad.text
    assert 'value="Kept"' in bad.text
    assert good.status_code == 303
    session.refresh(participant)
    assert (participant.display_name, participant.job_title) == ("Ben B", "CTO")
    assert withdrawn.status_code == 303
    assert participant.status == ParticipantStatus.withdrawn
    assert signed_in(create_user()).get(me).status_code == 404


def test_items_from_my_page(session, create_user, signed_in):
    ana, ben = create_user(), create_user()
    event = make_event(session, ana)
    add_participant(session, event, ben, name="Ben")
    client = signed_in(ben)
    me = f"/events/{event.id}/me"

    bad = post_form(client, f"/events/{event.id}/items", {"kind": "gift", "title": ""}, page=me)
    added = post_form(
        client,
        f"/events/{event.id}/items",
        {"kind": "offer", "title": "Pilot line <access>", "body": "", "keywords": "a, b"},
        page=me,
    )
    item = session.scalars(select(EventItem)).one()
    edit_page = f"/events/{event.id}/items/{item.id}/edit"
    form = client.get(edit_page).text
    assert 'value="Pilot line &lt;access&gt;"' in form
    assert_no_inline_code(form)
    edited = post_form(
        client, edit_page, {"kind": "expertise", "title": "Pilot line", "keywords": ""}, page=me
    )
    other = signed_in(create_user()).get(edit_page)
    public = signed_in(create_user()).get(f"/events/{event.id}").text

    assert bad.status_code == 400
    assert "choose offer, request or expertise" in bad.text
    assert added.status_code == 303
    assert edited.status_code == 303
    session.refresh(item)
    assert (item.kind.value, item.title, item.keywords) == ("expertise", "Pilot line", [])
    assert other.status_code == 403
    assert "Pilot line" in public
    market = client.get(f"/events/{event.id}/items?kind=expertise").text
    assert "Pilot line" in market
    assert "Ben" in market.split("<h2>Marketplace</h2>")[-1]  # participants see names
    assert "Pilot line" not in client.get(f"/events/{event.id}/items?kind=offer").text
    assert "Ben" not in public.split("Marketplace")[-1]  # no names for non-participants
    deleted = post_form(client, f"/events/{event.id}/items/{item.id}/delete", {}, page=me)
    assert deleted.status_code == 303
    assert session.scalars(select(EventItem)).all() == []


# ---- the directory -----------------------------------------------------------------------


def test_participant_directory_with_filters_and_access(client, session, create_user, signed_in):
    ana, ben, cleo, dan = create_user(), create_user(), create_user(), create_user()
    event = make_event(session, ana)
    volta = make_organisation(session, "Volta Cells", country="DE")
    nord = make_organisation(session, "Nord Energie", country="FR")
    nord.type = OrganisationType.university
    add_participant(session, event, ben, name="Ben", organisation=volta, headline="Batteries")
    add_participant(session, event, cleo, name="Cleo", organisation=nord)
    add_participant(session, event, dan, name="Dan", status=ParticipantStatus.pending)
    path = f"/events/{event.id}/participants"
    as_ben = signed_in(ben)

    def names(query=""):
        return re.findall(r"<h3>([^<]+)</h3>", as_ben.get(path + query).text)

    assert names() == ["Ben", "Cleo"]
    assert names("?country=fr") == ["Cleo"]
    assert names("?text=batter") == ["Ben"]
    assert names("?type=university") == ["Cleo"]
    bad = as_ben.get(path + "?country=France")
    assert bad.status_code == 400
    assert "two-letter country code" in bad.text
    assert signed_in(dan).get(path).status_code == 403
    assert client.get(path, follow_redirects=False).status_code == 303
    assert_no_inline_code(as_ben.get(path).text)


def test_pages_in_every_state_render(session, create_user, signed_in):
    ana, ben, cleo = create_user(), create_user(), create_user()
    event = make_event(
        session,
        ana,
        requires_approval=True,
        virtual_link_template="https://meet.example.org/{meeting}",
        registration_opens_at=utc(2030, 4, 1),
        requests_deadline=utc(2030, 5, 10),
    )
    add_participant(session, event, ben, status=ParticipantStatus.pending)
    add_participant(session, event, cleo, status=ParticipantStatus.withdrawn)
    as_ana, as_ben, as_cleo = signed_in(ana), signed_in(ben), signed_in(cleo)
    base = f"/events/{event.id}"

    pending = as_ben.get(base).text
    withdrawn = as_cleo.get(base + "/me").text
    manage = as_ana.get(base + "/manage").text
    event.status = EventStatus.cancelled
    session.flush()
    cancelled = as_ana.get(base + "/manage").text
    cancelled_me = as_ben.get(base + "/me")

    assert "waiting for the organiser" in pending
    assert "Registration opens" in pending
    assert "Withdraw from this event" not in withdrawn
    assert "1 pending" in manage
    assert "1 withdrawn" in manage
    assert "Add a session" in manage
    assert "Add a session" not in cancelled
    assert cancelled_me.status_code == 200
    assert "Save availability" not in cancelled_me.text
    for html in (pending, withdrawn, manage, cancelled, cancelled_me.text):
        assert_no_inline_code(html)
