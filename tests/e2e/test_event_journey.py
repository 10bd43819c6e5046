"""A matchmaking event from end to end in a real browser (issue #6), with the same set-up as
``test_journey.py``: Debian's Chromium driven by Playwright against ``clusteratlas serve`` on a
free port, a freshly migrated SQLite file, and e-mail sent to a real SMTP server.

Olga creates an event whose only session started five minutes ago (so that on the day its
first slot is running), adds the session and publishes it. Ana signs up from scratch; Ben and
Carla already have accounts and organisations. All three register (the event needs approval:
Olga approves them), set their availability and publish a marketplace item. Ana browses the
"partners for you", asks Ben for a must-meet meeting and Carla for another; Ben accepts, Carla
declines. Olga runs the scheduler on the grid, reads its quality figures and publishes. Ana
sees her agenda and downloads the ICS file (checked: a VEVENT at the slot's UTC start with Ben's
name). Olga checks Ana and Ben in at the desk; Ana marks the meeting held and records an
outcome; Olga's dashboard draws its ECharts charts and shows the figures.

What users see is asserted at every step; the console must show no CSP violation or
JavaScript error and no request may fail; a full-page screenshot of each step goes to
``test-artifacts/e2e-events/``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from e2e.test_journey import (  # noqa: F401 - fixtures used by name
    PASSWORD,
    Visit,
    browser,
    log_in,
    mailbox,
    server,
    sign_up_and_confirm,
)

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e-events"
ZONE = ZoneInfo("Europe/Brussels")
TITLE = "Battery Matchmaking Day"


class EventVisit(Visit):
    """A :class:`Visit` whose screenshots go to ``test-artifacts/e2e-events/``."""

    shot = 0

    def snap(self, name: str) -> None:
        EventVisit.shot += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # a full-page shot while a number field has the focus leaves Chromium ignoring the
        # next click on a submit button: take the focus away first
        self.page.evaluate("() => document.activeElement && document.activeElement.blur()")
        path = ARTIFACTS / f"{EventVisit.shot:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=True)

    def main(self) -> str:
        return self.page.locator("main").inner_text()

    def submit(self, selector: str) -> None:
        """Click a submit button and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.click(selector)


def make_accounts(database_url: str) -> None:
    """Olga (a confirmed member who organises), and Ben and Carla: confirmed members who
    manage a published company in Germany and a research institute in France."""
    from clusteratlas.collaboration.accounts import register_user
    from clusteratlas.collaboration.db import make_engine, session_factory
    from clusteratlas.collaboration.models import utcnow
    from clusteratlas.collaboration.organisations import create_organisation, publish, submit

    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            moderator = register_user(session, email="mod@example.org", password=PASSWORD)
            moderator.is_moderator = True
            users = {}
            for email in ("olga@example.org", "ben@example.org", "carla@example.org"):
                users[email] = register_user(session, email=email, password=PASSWORD)
            for user in (moderator, *users.values()):
                user.confirmed_at = utcnow()
            session.flush()
            for email, kind, name, country, city, text in (
                (
                    "ben@example.org",
                    "company",
                    "Aero Nord",
                    "DE",
                    "Hamburg",
                    "Aircraft cabins and battery packs.",
                ),
                (
                    "carla@example.org",
                    "research_organisation",
                    "Lyon Energy Institute",
                    "FR",
                    "Lyon",
                    "Hydrogen and energy storage.",
                ),
            ):
                organisation = create_organisation(
                    session,
                    actor=users[email],
                    type=kind,
                    name=name,
                    country=country,
                    city=city,
                    description=text,
                )
                submit(session, actor=users[email], organisation=organisation)
                publish(session, actor=moderator, organisation=organisation)
    finally:
        engine.dispose()


def local_input(moment: datetime) -> str:
    """``moment`` as a ``datetime-local`` value in Brussels."""
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def hhmm(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%H:%M")


def create_event(olga: EventVisit, start: datetime) -> str:
    """Olga creates the draft, adds a session of four 20-minute slots, publishes; the event's
    path."""
    page = olga.page
    olga.goto("/events")
    olga.submit('main a:has-text("New event")')
    assert olga.h1() == "New event"
    page.fill("#field-title", TITLE)
    page.fill("#field-description", "One-to-one meetings on batteries and energy storage.")
    page.fill("#field-timezone", "Europe/Brussels")
    page.fill("#field-venue", "Square, Brussels")
    page.check('main input[name="requires_approval"]')
    page.fill("#field-max_meetings_per_participant", "4")
    olga.snap("new-event")
    olga.submit('main button:has-text("Create draft")')
    assert TITLE in olga.h1()
    path = re.sub(r"(/events/\d+).*", r"\1", page.url.removeprefix(olga.base))
    assert re.fullmatch(r"/events/\d+", path), page.url

    olga.goto(f"{path}/manage")
    assert "No sessions yet." in olga.main()
    page.fill("#field-name", "Morning meetings")
    page.fill("#field-starts_at", local_input(start))
    page.fill("#field-ends_at", local_input(start + timedelta(minutes=80)))
    page.fill("#field-slot_minutes", "20")
    page.fill("#field-tables", "3")
    olga.snap("add-session")
    olga.submit('main button:has-text("Add session")')
    olga.goto(f"{path}/manage")
    slots = page.locator("main table.slot-table tbody tr")
    assert slots.count() == 4
    first = f"{hhmm(start)}–{hhmm(start + timedelta(minutes=20))}"
    assert first in slots.first.inner_text()
    assert "1 (4 slots)" in olga.main()
    olga.submit('main button:has-text("Publish")')
    olga.goto(path)
    assert "A draft" not in olga.main()
    assert "registrations are approved by the organiser" in olga.main()
    olga.snap("event-published")
    return path


def register(visit: EventVisit, path: str, *, name: str, headline: str, organisation: str | None):
    page = visit.page
    visit.goto(path)
    visit.submit('main a:has-text("Register")')
    page.fill("#field-display_name", name)
    page.fill("#field-job_title", "Innovation manager")
    if organisation:
        page.select_option("#field-organisation_id", label=organisation)
    page.fill("#field-headline", headline)
    assert "The organiser approves registrations." in visit.main()
    visit.snap(f"register-{name.split()[0].lower()}")
    visit.submit('main button:has-text("Register")')
    visit.goto(f"{path}/me")
    assert "Status: waiting for the organiser's approval" in visit.main()


def add_item(visit: EventVisit, path: str, *, kind: str, title: str, keywords: str) -> None:
    page = visit.page
    visit.goto(f"{path}/me")
    page.select_option("#field-kind", kind)
    page.fill("#field-title", title)
    page.fill("#field-keywords", keywords)
    visit.submit('#items button:has-text("Add")')
    visit.goto(f"{path}/me")
    assert title in page.locator("#items").inner_text()


def test_event_journey_in_chromium(server, browser, mailbox):  # noqa: F811 - the fixtures
    base, database_url = server
    make_accounts(database_url)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=5)  # the first slot has started, the others are to come
    first_slot_end = start + timedelta(minutes=20)

    # ---- Olga creates, fills and publishes the event (each person logs in once: the log-in
    # ---- form is rate-limited per address)
    olga = EventVisit(browser, base)
    log_in(olga, "olga@example.org")
    path = create_event(olga, start)

    # ---- Ana signs up from scratch; Ana, Ben and Carla register and publish an item
    ana = EventVisit(browser, base)
    sign_up_and_confirm(ana, mailbox, "ana@example.org")
    log_in(ana, "ana@example.org")
    register(
        ana,
        path,
        name="Ana Alves",
        headline="We look for battery pack suppliers for electric boats.",
        organisation=None,
    )
    add_item(ana, path, kind="request", title="Supplier of battery packs", keywords="battery packs")
    ana.snap("ana-registration")

    ben = EventVisit(browser, base)
    log_in(ben, "ben@example.org")
    register(
        ben,
        path,
        name="Ben Berger",
        headline="We build battery packs for aircraft cabins.",
        organisation="Aero Nord",
    )
    add_item(ben, path, kind="offer", title="Battery pack assembly", keywords="battery packs")
    # Ben can only come for the first slot: the schedule must put Ana's meeting there
    page = ben.page
    boxes = page.locator("#availability input[type=checkbox]")
    assert boxes.count() == 4
    for n in range(1, 4):
        boxes.nth(n).uncheck()
    ben.snap("ben-availability")
    ben.submit('#availability button:has-text("Save availability")')
    ben.goto(f"{path}/me")
    checked = [boxes.nth(n).is_checked() for n in range(4)]
    assert checked == [True, False, False, False]

    carla = EventVisit(browser, base)
    log_in(carla, "carla@example.org")
    register(
        carla,
        path,
        name="Carla Costa",
        headline="Hydrogen storage projects in the Lyon region.",
        organisation="Lyon Energy Institute",
    )
    add_item(carla, path, kind="expertise", title="Hydrogen storage", keywords="hydrogen")

    # ---- Olga approves the three registrations
    page = olga.page
    olga.goto(f"{path}/manage")
    assert "3 pending" in olga.main()
    olga.snap("manage-pending")
    for _ in range(3):
        olga.submit('#registrations button:has-text("Approve")')
    olga.goto(f"{path}/manage")
    assert "0 pending" in olga.main()
    assert "3 approved" in olga.main()
    rows = page.locator("#registrations tbody").inner_text()
    assert "Ben Berger" in rows
    assert "Aero Nord (DE)" in rows
    olga.snap("manage-approved")

    # ---- Ana browses the partners for her and asks Ben (must meet) and Carla
    mailbox.clear()
    page = ana.page
    ana.goto(path)
    ana.submit('main nav.event-nav a:has-text("Find partners")')
    assert ana.h1() == f"Find partners at {TITLE}"
    cards = page.locator("#results .participant-card h2")
    assert cards.all_inner_texts()[0] == "Ben Berger"  # shares "battery packs" with Ana
    assert sorted(cards.all_inner_texts()) == ["Ben Berger", "Carla Costa"]
    ben_card = page.locator("#results .participant-card", has_text="Ben Berger")
    assert "Aero Nord" in ben_card.inner_text()
    assert "Battery pack assembly" in ben_card.inner_text()
    ana.snap("browse")
    ben_card.locator("summary").click()
    ben_card.locator("textarea").fill("Your packs would fit our boats: shall we meet?")
    ben_card.locator('input[name="must_meet"]').check()
    ana.snap("request-form")
    with page.expect_navigation():
        ben_card.locator('button:has-text("Send the request")').click()
    ana.goto(f"{path}/browse")
    carla_card = page.locator("#results .participant-card", has_text="Carla Costa")
    carla_card.locator("summary").click()
    carla_card.locator("textarea").fill("Could hydrogen complement our batteries?")
    with page.expect_navigation():
        carla_card.locator('button:has-text("Send the request")').click()
    ana.goto(f"{path}/requests")
    sent = page.locator("#sent").inner_text()
    assert "Ben Berger" in sent
    assert "must meet" in sent
    assert "Carla Costa" in sent
    assert "2 sent, waiting for an answer" in " ".join(
        page.locator(".request-counts").inner_text().split()
    )
    ana.snap("requests-sent")
    mailbox.wait_for(2)
    [to_ben] = mailbox.to("ben@example.org")
    assert "Ana Alves" in str(to_ben["Subject"]) + to_ben.get_content()

    # ---- Ben accepts, Carla declines
    page = ben.page
    ben.goto(f"{path}/requests")
    received = page.locator("#received").inner_text()
    assert "Ana Alves" in received
    assert "must meet" in received
    assert "Your packs would fit our boats" in received
    ben.snap("request-received")
    page.fill("#received input[name=message]", "Gladly!")
    ben.submit('#received button:has-text("Accept")')
    ben.goto(f"{path}/requests")
    assert "With Ana Alves" in page.locator("#meetings").inner_text()
    ben.snap("request-accepted")

    page = carla.page
    carla.goto(f"{path}/requests")
    page.locator('#received input[name="message"]').nth(1).fill("Our agenda is full, sorry.")
    carla.submit('#received button:has-text("Decline")')
    carla.goto(f"{path}/requests")
    assert "Declined" in page.locator("#received").inner_text()
    assert "No meeting yet." in page.locator("#meetings").inner_text()
    carla.snap("request-declined")

    # ---- Olga runs the scheduler, reads the quality, publishes
    page = olga.page
    olga.goto(path)
    olga.submit('main nav.event-nav a:has-text("Schedule")')
    assert olga.h1() == f"Schedule of {TITLE}"
    assert "Not published yet" in olga.main()
    olga.submit('main button:has-text("Run the scheduler")')
    quality = " ".join(page.locator(".schedule-quality").inner_text().split())
    assert "Meetings scheduled 1 of 1" in quality
    assert "Weight against the bound 3 of at most 3" in quality  # must meet: weight 3
    grid = page.locator("table.schedule-grid tbody tr")
    assert "Ana Alves – Ben Berger" in grid.first.inner_text()  # the only slot Ben can do
    assert "must meet" in grid.first.inner_text()
    assert "Every meeting has a slot." in olga.main()
    olga.snap("schedule-run")
    mailbox.clear()
    page.fill("#field-note", "See you at the venue!")
    olga.submit('.schedule-publish button:has-text("Publish")')
    olga.goto(f"{path}/schedule")
    assert "Version 1 was published" in olga.main()
    olga.snap("schedule-published")
    mailbox.wait_for(2)
    assert mailbox.to("ana@example.org")
    assert mailbox.to("ben@example.org")
    assert not mailbox.to("carla@example.org")  # no meeting, nothing changed for her

    # ---- Ana sees her agenda and downloads the ICS file
    page = ana.page
    ana.goto(path)
    ana.submit('main nav.event-nav a:has-text("My agenda")')
    assert ana.h1() == "Your agenda"
    agenda = page.locator("ol.agenda").inner_text()
    assert f"{hhmm(start)}–{hhmm(first_slot_end)}" in agenda
    assert "Ben Berger" in agenda
    assert "Aero Nord" in agenda
    assert "Table 1" in agenda
    ana.snap("agenda")
    with page.expect_download() as download:
        page.click('main a:has-text("Add to my calendar (ICS)")')
    ics = Path(download.value.path()).read_text(encoding="utf-8")
    unfolded = ics.replace("\r\n ", "").replace("\r\n", "\n")
    assert unfolded.count("BEGIN:VEVENT") == 1
    assert f"DTSTART:{start:%Y%m%dT%H%M%S}Z" in unfolded
    assert f"DTEND:{first_slot_end:%Y%m%dT%H%M%S}Z" in unfolded
    assert re.search(r"^SUMMARY:.*Ben Berger", unfolded, re.MULTILINE), unfolded

    # ---- on the day: Olga checks Ana and Ben in at the desk
    page = olga.page
    olga.goto(path)
    olga.submit('main nav.event-nav a:has-text("Check-in desk")')
    assert olga.h1() == "Check-in desk"
    assert "0 of 3 participants checked in." in olga.main()
    page.wait_for_function("() => window.htmx !== undefined")
    for name in ("Ana Alves", "Ben Berger"):
        row = page.locator("#checkin-list tbody tr", has_text=name)
        with page.expect_response(lambda r: "/checkin/" in r.url):
            row.locator('button:has-text("Check in")').click()
        page.locator("#checkin-list tbody tr", has_text=name).locator(
            'button:has-text("Undo")'
        ).wait_for()
    olga.goto(f"{path}/checkin")
    assert "2 of 3 participants checked in." in olga.main()
    running = page.locator("#checkin-list").inner_text()
    assert "Ana Alves – Ben Berger" in running  # the meeting running now
    olga.snap("checkin")

    # ---- Ana marks the meeting held and records its outcome
    page = ana.page
    ana.goto(path)
    ana.submit('main nav.event-nav a:has-text("On the day")')
    assert ana.h1() == f"Your day at {TITLE}"
    main = ana.main()
    assert "You checked in at" in main
    assert "Ben Berger (Aero Nord)" in main
    ana.snap("day-before-held")
    ana.submit('main button:has-text("We met")')
    assert "Held." in ana.main()
    ana.submit('main .outcomes button:has-text("Follow-up planned")')
    chosen = page.locator('main .outcomes button[aria-pressed="true"]')
    assert chosen.inner_text() == "Follow-up planned"
    ana.snap("day-outcome")

    # ---- Olga's dashboard
    page = olga.page
    olga.goto(path)
    olga.submit('main nav.event-nav a:has-text("Dashboard")')
    assert olga.h1() == "Dashboard"
    # ECharts draws with its SVG renderer (dashboard.js): one <svg> per chart
    page.wait_for_selector('[data-chart="registrations"] svg')
    charts = page.locator(".chart[data-chart]")
    assert charts.count() >= 2
    assert page.locator(".chart[data-chart] svg").count() == charts.count()

    def figure(name: str) -> str:
        return page.locator(f'[data-figure="{name}"]').inner_text().strip()

    assert figure("registrations-approved") == "3"
    assert (figure("requests-accepted"), figure("requests-declined")) == ("1", "1")
    assert figure("acceptance-rate") == "50.0 %"  # 1 accepted of 2 answered
    assert (figure("scheduled"), figure("held")) == ("1", "1")
    assert figure("outcome-follow_up") == "1"  # Ana's answer; Ben has not given his
    assert figure("bound") == "3 / 3"  # the must-meet weight, as published
    olga.snap("dashboard")
    for visit in (olga, ana, ben, carla):
        visit.close()
