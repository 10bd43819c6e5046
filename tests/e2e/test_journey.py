"""The journey in a real browser: Debian's Chromium driven by Playwright against
``clusteratlas serve`` on a free port of 127.0.0.1, on a freshly migrated SQLite file.

Sign up → follow the confirmation link shown on the page → log in → create a cluster
organisation → submit; a moderator (made one in the database) publishes it from the queue; an
anonymous visitor filters the list by country with htmx and opens the profile. Every page is
checked for content, the console must show no CSP violation or JavaScript error, and a
full-page screenshot of each step goes to ``test-artifacts/e2e/``.

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


def wait_until_answering(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"clusteratlas serve ended early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail(f"clusteratlas serve did not answer within 20 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
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
        "CLUSTERATLAS_ENVIRONMENT": "test",  # the sign-up page shows the confirmation link
        "CLUSTERATLAS_DATABASE_URL": database_url,
        "CLUSTERATLAS_SECRET_KEY": SECRET,
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
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # the app has no icon yet; Chromium asks for one on every page
        if message.type == "error" or "Content Security Policy" in text:
            self.problems.append(f"console {message.type}: {text} ({message.location})")

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


def make_moderator_and_other_profile(database_url: str) -> None:
    """A confirmed moderator, and a published profile in Germany (so the filter filters)."""
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
            manager = register_user(session, email="ben@example.org", password=PASSWORD)
            manager.confirmed_at = utcnow()
            session.flush()
            other = create_organisation(
                session, actor=manager, type="company", name="Aero Nord", country="DE"
            )
            submit(session, actor=manager, organisation=other)
            publish(session, actor=moderator, organisation=other)
    finally:
        engine.dispose()


def test_journey_in_chromium(server, browser):
    base, database_url = server

    # ---- a new member: sign up, confirm, log in, create, submit
    ana = Visit(browser, base)
    page = ana.page
    ana.goto("/signup")
    assert ana.h1() == "Sign up"
    ana.snap("signup")
    page.fill('main input[name="email"]', "ana@example.org")
    page.fill('main input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('main button:has-text("Create account")')
    assert ana.h1() == "Confirm your address"
    assert "E-mail is not sent yet" in page.locator("main").inner_text()
    ana.snap("signup-done")
    link = page.locator("a.confirm-link")
    assert link.get_attribute("href").startswith(f"{base}/confirm?token=")
    with page.expect_navigation():
        link.click()
    assert ana.h1() == "Address confirmed"
    ana.snap("confirmed")

    log_in(ana, "ana@example.org")
    assert page.url == f"{base}/organisations"
    ana.goto("/organisations/new")
    assert ana.h1() == "New organisation profile"
    page.select_option('main select[name="type"]', "cluster_organisation")
    page.fill('main input[name="name"]', "Photonics Valley")
    page.fill('main input[name="country"]', "fr")
    page.fill('main input[name="city"]', "Bordeaux")
    page.fill('main textarea[name="description"]', "Lasers and optics around Bordeaux.")
    ana.snap("new-profile")
    with page.expect_navigation():
        page.click('main button:has-text("Save draft")')
    assert re.fullmatch(rf"{re.escape(base)}/organisations/\d+", page.url)
    profile_path = page.url.removeprefix(base)
    assert ana.h1() == "Photonics Valley"
    assert "Draft saved." in page.locator("main .flash").inner_text()
    assert page.locator("main .status").inner_text() == "Status: draft"
    ana.snap("draft")
    with page.expect_navigation():
        page.click('main button:has-text("Submit for review")')
    assert page.locator("main .status").inner_text() == "Status: submitted"
    assert "Waiting for a moderator." in page.locator("main").inner_text()
    ana.snap("submitted")
    ana.close()

    # ---- a moderator (made one in the database) publishes it
    make_moderator_and_other_profile(database_url)
    mo = Visit(browser, base)
    page = mo.page
    log_in(mo, "mo@example.org")
    mo.goto("/moderation")
    assert mo.h1() == "Moderation queue"
    cards = page.locator("main article.review h2")
    assert cards.all_inner_texts() == ["Photonics Valley"]
    assert "Lasers and optics around Bordeaux." in page.locator("main article.review").inner_text()
    mo.snap("moderation-queue")
    with page.expect_navigation():
        page.click('main article.review button:has-text("Publish")')
    assert page.url == f"{base}/moderation"
    assert "Published Photonics Valley." in page.locator("main .flash").inner_text()
    assert "Nothing to review." in page.locator("main").inner_text()
    mo.snap("published")
    mo.close()

    # ---- an anonymous visitor filters by country with htmx and opens the profile
    visitor = Visit(browser, base)
    page = visitor.page
    visitor.goto("/organisations")
    assert visitor.h1() == "Organisations"
    assert page.locator("#results h2 a").all_inner_texts() == ["Aero Nord", "Photonics Valley"]
    assert page.locator("nav").get_by_role("link", name="Log in").count() == 1
    visitor.snap("organisations")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.notReloaded = true; }")
    with page.expect_response(lambda r: "/organisations?" in r.url and "country=FR" in r.url) as r:
        page.fill('main input[name="country"]', "FR")
        page.press('main input[name="country"]', "Tab")  # change → htmx swaps #results
    assert r.value.request.headers.get("hx-request") == "true"
    page.wait_for_function(
        "() => document.querySelectorAll('#results h2 a').length === 1", timeout=5000
    )
    assert page.evaluate("() => window.notReloaded") is True  # swapped, not reloaded
    assert "country=FR" in page.url  # hx-push-url
    assert page.locator("#results h2 a").all_inner_texts() == ["Photonics Valley"]
    assert page.locator("#results .muted").first.inner_text() == "1 organisation"
    assert "Cluster organisation · FR · Bordeaux" in page.locator("#results").inner_text()
    visitor.snap("organisations-fr")
    with page.expect_navigation():
        page.click('#results a:has-text("Photonics Valley")')
    assert page.url == base + profile_path
    assert visitor.h1() == "Photonics Valley"
    facts = page.locator("main dl.facts").inner_text()
    assert "Cluster organisation" in facts
    assert "Bordeaux" in facts
    assert page.locator("main .status").count() == 0  # published: no status line
    assert page.locator("main button:has-text('Submit for review')").count() == 0
    visitor.snap("profile")
    visitor.close()
