"""The platform's main journeys in a real browser: Debian's Chromium driven by Playwright
against ``clusteratlas serve`` on a free port of 127.0.0.1, on a freshly migrated SQLite file,
sending its e-mail to a real SMTP server (aiosmtpd) that the test reads.

Ana signs up and confirms with the link from the e-mail she received → creates a cluster
profile (sectors, members, keywords) → submits; a moderator publishes it from the queue; Ana
posts an offer; Ben, a second member, finds the profile by search and a country facet (htmx,
URL pushed), opens the offer and says he is interested; Ana gets the e-mail and the inbox
notification and sees Ben among the interested. An anonymous visitor filters the directory by
country. Every page is checked for content, the console must show no CSP violation or
JavaScript error and no request may fail; a full-page screenshot of each step goes to
``test-artifacts/e2e/``.

Needs ``/usr/bin/chromium`` (``make system``) and Playwright (the ``dev`` extra); Playwright's
own browser download is never used.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PASSWORD = "correct horse battery"
SECRET = "e2e-secret-key-that-is-long-enough-0123456789"

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (`make system`, as root)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is missing: pip install -e '.[dev]'"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(
    url: str, process: subprocess.Popen, log: Path, seconds: float = 20
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"clusteratlas serve ended early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail(f"clusteratlas serve did not answer within {seconds:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def mailbox() -> Iterator[object]:
    from smtp_receiver import SmtpReceiver

    receiver = SmtpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mailbox) -> Iterator[tuple[str, str]]:
    """``(base URL, database URL)`` of ``clusteratlas serve`` on a migrated SQLite file."""
    from clusteratlas.collaboration.db import make_engine, upgrade

    folder = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite:///{folder / 'atlas.db'}"
    engine = make_engine(database_url)
    upgrade(engine)  # what `clusteratlas db upgrade` runs
    engine.dispose()

    port = free_port()
    env = {
        **os.environ,
        "CLUSTERATLAS_ENVIRONMENT": "test",
        "CLUSTERATLAS_DATABASE_URL": database_url,
        "CLUSTERATLAS_SECRET_KEY": SECRET,
        "CLUSTERATLAS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CLUSTERATLAS_SMTP_HOST": mailbox.host,
        "CLUSTERATLAS_SMTP_PORT": str(mailbox.port),
        "CLUSTERATLAS_MAIL_ENABLED": "true",
    }
    log = folder / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from clusteratlas.cli import main; main()",
                "serve",
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base}/", process, log)
        yield base, database_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Visit:
    """A browser context with its console watched and a numbered screenshot per page."""

    shot = 0

    def __init__(self, browser, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1100, "height": 800})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message) -> None:
        text = message.text
        if message.type == "error" or "Content Security Policy" in text:
            self.problems.append(f"console {message.type} on {self.page.url}: {text[:300]}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status} {response.url}")

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None
        assert response.status == 200, (path, response.status)

    def snap(self, name: str) -> None:
        Visit.shot += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{Visit.shot:02d}-{name}.png", full_page=True)

    def h1(self) -> str:
        return self.page.locator("main h1").inner_text().strip()

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], self.problems


def log_in(visit: Visit, email: str) -> None:
    page = visit.page
    visit.goto("/login")
    assert visit.h1() == "Log in"
    visit.snap(f"login-{email.split('@')[0]}")
    page.fill('main input[name="email"]', email)
    page.fill('main input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('main button:has-text("Log in")')
    assert page.locator("nav .nav-user").inner_text() == email


def link_in(message, base: str, path: str) -> str:
    """The first link to ``base + path`` in the text of an e-mail."""
    body = message.get_content()
    found = re.search(rf"{re.escape(base + path)}\S*", body)
    assert found, body
    return found.group(0)


def make_moderator_and_ben(database_url: str) -> None:
    """A confirmed moderator, and Ben: a confirmed member managing a published company in
    Germany (so that the country facet and the directory filter have something to filter)."""
    from clusteratlas.collaboration.accounts import register_user
    from clusteratlas.collaboration.db import make_engine, session_factory
    from clusteratlas.collaboration.models import utcnow
    from clusteratlas.collaboration.organisations import create_organisation, publish, submit

    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            moderator = register_user(session, email="mo@example.org", password=PASSWORD)
            moderator.confirmed_at = utcnow()
            moderator.is_moderator = True
            ben = register_user(session, email="ben@example.org", password=PASSWORD)
            ben.confirmed_at = utcnow()
            session.flush()
            other = create_organisation(
                session,
                actor=ben,
                type="company",
                name="Aero Nord",
                country="DE",
                city="Hamburg",
                description="Aircraft cabins and battery packs.",
            )
            submit(session, actor=ben, organisation=other)
            publish(session, actor=moderator, organisation=other)
    finally:
        engine.dispose()


def sign_up_and_confirm(visit: Visit, mailbox, email: str) -> None:
    page = visit.page
    visit.goto("/signup")
    assert visit.h1() == "Sign up"
    visit.snap("signup")
    page.fill('main input[name="email"]', email)
    page.fill('main input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('main button:has-text("Create account")')
    assert visit.h1() == "Confirm your address"
    assert "We have sent a confirmation link" in page.locator("main").inner_text()
    visit.snap("signup-done")
    mailbox.wait_for(1)
    [message] = mailbox.to(email)
    link = link_in(message, visit.base, "/confirm?token=")
    visit.page.goto(link)  # what the reader of the e-mail does
    assert visit.h1() == "Address confirmed"
    visit.snap("confirmed")


def create_cluster_profile(visit: Visit) -> str:
    page = visit.page
    visit.goto("/organisations/new")
    assert visit.h1() == "New organisation profile"
    page.select_option("#field-type", "cluster_organisation")
    page.fill("#field-name", "Photonics Valley")
    page.fill("#field-country", "fr")
    page.fill("#field-region_code", "FRI1")
    page.fill("#field-city", "Bordeaux")
    page.fill(
        "#field-description",
        "Lasers and optics around <strong>Bordeaux</strong>.<script>alert(1)</script>",
    )
    page.fill("#field-nace", "C26.7")
    page.fill("#field-keywords", "lasers, optics, photonics")
    page.fill("#field-members_sme", "12")
    page.fill("#field-members_research", "3")
    visit.snap("new-profile")
    with page.expect_navigation():
        page.click('main button:has-text("Save draft")')
    assert re.fullmatch(rf"{re.escape(visit.base)}/organisations/\d+", page.url)
    assert visit.h1() == "Photonics Valley"
    assert "Draft saved." in page.locator("main .flash").inner_text()
    main = page.locator("main").inner_text()
    assert "C26.7" in main
    assert "optical instruments" in main.lower()  # the NACE title looked up for the code
    assert page.locator("main strong", has_text="Bordeaux").count() == 1  # sanitised, kept
    assert page.locator("main script").count() == 0  # …and the script dropped
    visit.snap("draft")
    with page.expect_navigation():
        page.click('main button:has-text("Submit for review")')
    assert "Status: submitted" in page.locator("main .status").inner_text()
    visit.snap("submitted")
    return page.url.removeprefix(visit.base)


def test_main_journeys_in_chromium(server, browser, mailbox):
    base, database_url = server

    # ---- Ana signs up, confirms from the e-mail, creates and submits a cluster profile
    ana = Visit(browser, base)
    sign_up_and_confirm(ana, mailbox, "ana@example.org")
    log_in(ana, "ana@example.org")
    profile_path = create_cluster_profile(ana)
    organisation_id = int(profile_path.rsplit("/", 1)[1])
    ana.close()

    # ---- a moderator publishes it from the queue
    make_moderator_and_ben(database_url)
    mo = Visit(browser, base)
    page = mo.page
    log_in(mo, "mo@example.org")
    mo.goto("/moderation")
    assert mo.h1() == "Moderation queue"
    assert page.locator("main article.review h2").all_inner_texts() == ["Photonics Valley"]
    mo.snap("moderation-queue")
    with page.expect_navigation():
        page.click('main article.review button:has-text("Publish")')
    assert "Published Photonics Valley." in page.locator("main .flash").inner_text()
    assert "Nothing to review." in page.locator("main").inner_text()
    mo.snap("published")
    mo.close()

    # ---- Ana posts an offer for her published organisation
    ana = Visit(browser, base)
    page = ana.page
    log_in(ana, "ana@example.org")
    ana.goto(f"/organisations/{organisation_id}/posts/new")
    assert ana.h1() == "New offer or request"
    page.select_option("#field-kind", "offer")
    page.select_option("#field-category", "technology")
    page.fill("#field-title", "Laser welding for battery packs")
    page.fill("#field-body", "Our members weld battery cells with fibre lasers.")
    page.fill("#field-keywords", "laser welding, batteries")
    ana.snap("new-post")
    with page.expect_navigation():
        page.click('main button:has-text("Publish post")')
    assert re.fullmatch(rf"{re.escape(base)}/posts/\d+", page.url)
    post_path = page.url.removeprefix(base)
    assert ana.h1() == "Laser welding for battery packs"
    assert "No one has expressed interest yet." in page.locator("main").inner_text()
    ana.snap("post")
    ana.close()

    # ---- Ben finds the cluster by search and facet, and is interested in its offer
    mailbox.clear()
    ben = Visit(browser, base)
    page = ben.page
    log_in(ben, "ben@example.org")
    ben.goto("/search")
    assert ben.h1() == "Search"
    hits = page.locator("#search-results .hits h2 a")
    assert sorted(hits.all_inner_texts()) == ["Aero Nord", "Photonics Valley"]
    ben.snap("search")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.notReloaded = true; }")
    with page.expect_response(lambda r: "/search?" in r.url and "country=FR" in r.url):
        page.check('#search-results input[name="country"][value="FR"]')
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results .hits h2 a').length === 1"
    )
    assert page.evaluate("() => window.notReloaded") is True  # swapped by htmx
    assert "country=FR" in page.url  # the URL is shareable
    assert hits.all_inner_texts() == ["Photonics Valley"]
    ben.snap("search-facet-fr")
    page.fill("#field-q", "photonics")
    with page.expect_response(lambda r: "/search?" in r.url and "q=photonics" in r.url):
        page.press("#field-q", "Enter")
    page.wait_for_function("() => location.search.includes('q=photonics')")
    assert hits.all_inner_texts() == ["Photonics Valley"]
    ben.snap("search-words")
    with page.expect_navigation():
        hits.first.click()
    assert page.url == base + profile_path
    assert ben.h1() == "Photonics Valley"
    ben.snap("profile-seen-by-ben")
    ben.goto(post_path)
    page.fill("#field-message", "We build battery packs in Hamburg: let's talk.")
    ben.snap("interest-form")
    with page.expect_navigation():
        page.click('main .post-interest-form button:has-text("Send")')
    assert "You expressed interest" in page.locator("main").inner_text()
    ben.snap("interest-sent")
    ben.close()

    # ---- Ana is told by e-mail and in her inbox, and sees Ben among the interested
    mailbox.wait_for(1)
    [message] = mailbox.to("ana@example.org")
    assert "Laser welding for battery packs" in message.get_content() + str(message["Subject"])
    assert link_in(message, base, post_path).startswith(base + post_path)
    ana = Visit(browser, base)
    page = ana.page
    log_in(ana, "ana@example.org")
    assert page.locator("nav .badge").inner_text() == "1"  # one unread notification
    ana.goto("/inbox")
    assert ana.h1() == "Inbox"
    assert "Laser welding for battery packs" in page.locator("main").inner_text()
    ana.snap("inbox")
    with page.expect_navigation():
        page.click('main .inbox-item a:has-text("Laser welding for battery packs")')
    assert page.url == base + post_path  # opened from the inbox, which marks it read
    assert page.locator("nav .badge").count() == 0
    interested = page.locator("main .post-interests").inner_text()
    assert "Interested (1)" in interested
    assert "ben@example.org" in interested
    assert "Aero Nord" in interested
    assert "We build battery packs in Hamburg" in interested
    ana.snap("post-interested")
    ana.close()

    # ---- an anonymous visitor filters the directory by country with htmx
    visitor = Visit(browser, base)
    page = visitor.page
    visitor.goto("/organisations")
    assert visitor.h1() == "Organisations"
    assert page.locator("#results h2 a").all_inner_texts() == ["Aero Nord", "Photonics Valley"]
    visitor.snap("organisations")
    page.wait_for_function("() => window.htmx !== undefined")
    with page.expect_response(lambda r: "/organisations?" in r.url and "country=FR" in r.url) as r:
        page.fill('main input[name="country"]', "FR")
        page.press('main input[name="country"]', "Tab")  # change → htmx swaps #results
    assert r.value.request.headers.get("hx-request") == "true"
    page.wait_for_function("() => document.querySelectorAll('#results h2 a').length === 1")
    assert page.locator("#results h2 a").all_inner_texts() == ["Photonics Valley"]
    visitor.snap("organisations-fr")
    with page.expect_navigation():
        page.click('#results a:has-text("Photonics Valley")')
    assert visitor.h1() == "Photonics Valley"
    assert "log in to see contacts" in page.locator("main").inner_text().lower()
    visitor.snap("profile-anonymous")
    visitor.close()
