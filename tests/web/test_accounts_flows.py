"""Account e-mail flows on SQLite and PostgreSQL, with a real SMTP receiver: sign-up sends the
confirmation link (followed from the received e-mail), resend and forgotten password answer
the same whether or not the address has an account, a password reset ends the other sessions,
and log-in, sign-up, resend and forgot are rate-limited (pages and API: 429, Retry-After)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clusteratlas.collaboration.accounts import make_password_reset_token
from clusteratlas.collaboration.models import OutboxEmail, User
from clusteratlas.collaboration.ratelimit import RateLimiter
from clusteratlas.web.api.auth import FORGOT_ANSWER, RESEND_ANSWER
from web.test_pages import PASSWORD, csrf_of, h1, inline_code, log_in, post_form

pytestmark = pytest.mark.integration

NEW_PASSWORD = "a brand new password"
LINK = re.compile(r"(http://\S+)")


@pytest.fixture
def mail_settings(settings, smtp_receiver):
    return settings.model_copy(
        update={
            "smtp_host": smtp_receiver.host,
            "smtp_port": smtp_receiver.port,
            "public_url": "http://atlas.test",
        }
    )


@pytest.fixture
def mail_client(make_client, mail_settings) -> TestClient:
    return make_client(mail_settings)


def link_in(message) -> str:
    """The path and query of the (only) link in an e-mail."""
    found = LINK.findall(message.get_content())
    assert len(found) == 1, found
    assert found[0].startswith("http://atlas.test/")
    parts = urlsplit(found[0])
    return f"{parts.path}?{parts.query}"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# ---- sign-up and confirmation ------------------------------------------------------------


def test_signup_page_emails_the_link_that_confirms(mail_client, smtp_receiver):
    signup = post_form(mail_client, "/signup", {"email": "ana@example.org", "password": PASSWORD})
    (message,) = smtp_receiver.wait_for(1)
    path = link_in(message)
    before = post_form(mail_client, "/login", {"email": "ana@example.org", "password": PASSWORD})
    confirmed = mail_client.get(path)
    after = post_form(mail_client, "/login", {"email": "ana@example.org", "password": PASSWORD})

    assert signup.status_code == 200
    assert "We have sent a confirmation link" in signup.text
    assert 'href="/confirm/resend"' in signup.text
    assert message["To"] == "ana@example.org"
    assert message["Subject"] == "Confirm your e-mail address for Cluster Atlas"
    assert "Welcome to Cluster Atlas" in message.get_content()
    assert path.startswith("/confirm?token=")
    assert before.status_code == 400  # not confirmed yet
    assert (confirmed.status_code, h1(confirmed.text)) == (200, "Address confirmed")
    assert after.status_code == 303


def test_signup_page_shows_the_link_only_in_development_and_test(make_client, settings, session):
    production = settings.model_copy(update={"environment": "production"})
    shown = post_form(
        make_client(settings), "/signup", {"email": "a@example.org", "password": PASSWORD}
    )
    hidden = post_form(
        make_client(production), "/signup", {"email": "b@example.org", "password": PASSWORD}
    )
    queued = session.scalars(select(OutboxEmail.to).order_by(OutboxEmail.id)).all()

    assert 'class="confirm-link"' in shown.text
    assert 'class="confirm-link"' not in hidden.text
    assert "We have sent a confirmation link" in hidden.text
    assert queued == ["a@example.org", "b@example.org"]  # e-mailed in both


def test_signup_page_with_a_taken_address_answers_as_for_a_new_one(
    mail_client, smtp_receiver, session, create_user
):
    create_user("ana@example.org")  # confirmed
    production_like = post_form(
        mail_client, "/signup", {"email": "ANA@example.org", "password": PASSWORD}
    )
    (message,) = smtp_receiver.wait_for(1)
    accounts = session.scalars(select(User).where(User.email.ilike("ana@example.org"))).all()

    assert production_like.status_code == 200
    assert "We have sent a confirmation link" in production_like.text
    assert "exists" not in production_like.text
    assert len(accounts) == 1  # nothing created
    assert message["To"] == "ana@example.org"
    assert message["Subject"] == "Someone tried to sign up to Cluster Atlas with your address"
    assert "http://atlas.test/login" in message.get_content()
    assert "http://atlas.test/password/forgot" in message.get_content()
    assert "token=" not in message.get_content()


def test_signup_page_with_a_taken_address_and_a_short_password_shows_only_the_password(
    mail_client, smtp_receiver, create_user
):
    create_user("ana@example.org")

    answer = post_form(mail_client, "/signup", {"email": "ana@example.org", "password": "short"})

    assert answer.status_code == 400
    assert "at least" in answer.text
    assert "exists" not in answer.text
    assert smtp_receiver.messages == []


def test_signup_page_with_an_unconfirmed_taken_address_sends_a_new_confirmation(
    mail_client, smtp_receiver, create_user
):
    create_user("bo@example.org", confirmed=False)

    answer = post_form(mail_client, "/signup", {"email": "bo@example.org", "password": PASSWORD})
    (message,) = smtp_receiver.wait_for(1)

    assert answer.status_code == 200
    assert message["Subject"] == "Confirm your e-mail address for Cluster Atlas"
    assert link_in(message).startswith("/confirm?token=")


def test_api_register_emails_the_link_that_confirms(mail_client, smtp_receiver):
    registered = mail_client.post(
        "/api/auth/register", json={"email": "ana@example.org", "password": PASSWORD}
    )
    (message,) = smtp_receiver.wait_for(1)
    token = link_in(message).split("token=", 1)[1]
    confirmed = mail_client.post("/api/auth/confirm", json={"token": token})

    assert registered.status_code == 201
    assert registered.json()["confirmation_token"]  # test environment
    assert confirmed.status_code == 200
    assert confirmed.json()["confirmed_at"] is not None


def test_api_register_in_production_gives_no_token_but_emails_it(
    make_client, mail_settings, smtp_receiver
):
    client = make_client(mail_settings.model_copy(update={"environment": "production"}))

    registered = client.post(
        "/api/auth/register", json={"email": "ana@example.org", "password": PASSWORD}
    )

    assert registered.status_code == 201
    assert registered.json()["confirmation_token"] is None
    assert link_in(smtp_receiver.wait_for(1)[0]).startswith("/confirm?token=")


def test_mail_disabled_keeps_the_email_in_the_outbox(
    make_client, mail_settings, smtp_receiver, session
):
    client = make_client(mail_settings.model_copy(update={"mail_enabled": False}))

    registered = client.post(
        "/api/auth/register", json={"email": "ana@example.org", "password": PASSWORD}
    )
    row = session.scalars(select(OutboxEmail)).one()

    assert registered.status_code == 201
    assert smtp_receiver.wait_for(1, timeout=0.5) == []
    assert (row.to, row.sent_at, row.attempts) == ("ana@example.org", None, 0)


# ---- resend the confirmation -------------------------------------------------------------


def test_resend_page_answers_the_same_and_emails_only_unconfirmed(
    mail_client, smtp_receiver, session, create_user
):
    create_user("confirmed@example.org")
    create_user("waiting@example.org", confirmed=False)
    form = mail_client.get("/confirm/resend")

    answers = {
        email: post_form(mail_client, "/confirm/resend", {"email": email}, page="/confirm/resend")
        for email in ("confirmed@example.org", "waiting@example.org", "nobody@example.org")
    }
    received = smtp_receiver.wait_for(1)
    confirmed = mail_client.get(link_in(received[0]))

    assert (form.status_code, h1(form.text)) == (200, "Send the confirmation link again")
    assert {r.status_code for r in answers.values()} == {200}
    assert all(RESEND_ANSWER in r.text for r in answers.values())
    assert len({r.text for r in answers.values()}) == 1  # nothing tells them apart
    assert [m["To"] for m in smtp_receiver.wait_for(2, timeout=0.5)] == ["waiting@example.org"]
    assert confirmed.status_code == 200
    assert (
        session.scalars(select(User).where(User.email == "waiting@example.org")).one().confirmed_at
    )


def test_resend_page_without_address_is_a_field_error(client):
    response = post_form(client, "/confirm/resend", {"email": " "}, page="/confirm/resend")

    assert response.status_code == 400
    assert '<p class="field-error" id="error-email">enter your e-mail address</p>' in response.text


def test_api_resend_answers_the_same_and_emails_only_unconfirmed(
    mail_client, smtp_receiver, create_user
):
    create_user("confirmed@example.org")
    create_user("waiting@example.org", confirmed=False)

    answers = [
        mail_client.post("/api/auth/confirm/resend", json={"email": email})
        for email in ("confirmed@example.org", "waiting@example.org", "nobody@example.org")
    ]

    assert [r.status_code for r in answers] == [202, 202, 202]
    assert [r.json() for r in answers] == [{"detail": RESEND_ANSWER}] * 3
    assert [m["To"] for m in smtp_receiver.wait_for(2, timeout=0.5)] == ["waiting@example.org"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/confirm/resend", {}, "email"),
        ("/api/auth/confirm/resend", {"email": "a@b.org", "extra": 1}, "extra"),
        ("/api/auth/confirm/resend", {"email": "a\x00@b.org"}, "email"),
        ("/api/auth/password/forgot", {"email": 5}, "email"),
        ("/api/auth/password/forgot", {}, "email"),
        ("/api/auth/password/reset", {"password": NEW_PASSWORD}, "token"),
        ("/api/auth/password/reset", {"token": "x"}, "password"),
        (
            "/api/auth/password/reset",
            '{"token": "x", "password": "\\ud800abcdefghijk"}',
            "password",
        ),
    ],
)
def test_api_bad_bodies_are_422_with_field_messages(client, path, body, field):
    if isinstance(body, str):  # JSON text that httpx would not encode (a lone surrogate)
        response = client.post(path, content=body, headers={"content-type": "application/json"})
    else:
        response = client.post(path, json=body)

    assert response.status_code == 422
    assert response.json()["detail"] == "invalid input"
    assert field in response.json()["errors"]


# ---- forgotten password ------------------------------------------------------------------


def test_login_page_links_to_forgot_password(client):
    assert '<a href="/password/forgot">Forgot your password?</a>' in client.get("/login").text


def test_password_reset_journey_ends_other_sessions(
    mail_client, make_client, mail_settings, smtp_receiver, create_user
):
    user = create_user("ana@example.org")
    elsewhere = make_client(mail_settings)
    log_in(elsewhere, user)
    assert elsewhere.get("/inbox", follow_redirects=False).status_code == 200

    forgot = post_form(
        mail_client, "/password/forgot", {"email": "ANA@example.org"}, page="/password/forgot"
    )
    (message,) = smtp_receiver.wait_for(1)
    path = link_in(message)
    form = mail_client.get(path)
    token = path.split("token=", 1)[1]
    differ = mail_client.post(
        "/password/reset",
        data={
            "csrf_token": csrf_of(form.text),
            "token": token,
            "password": NEW_PASSWORD,
            "password2": "something else entirely",
        },
    )
    short = mail_client.post(
        "/password/reset",
        data={
            "csrf_token": csrf_of(form.text),
            "token": token,
            "password": "short",
            "password2": "short",
        },
    )
    done = mail_client.post(
        "/password/reset",
        data={
            "csrf_token": csrf_of(form.text),
            "token": token,
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    login_page = mail_client.get(done.headers["location"])
    old = post_form(mail_client, "/login", {"email": user.email, "password": PASSWORD})
    new = post_form(mail_client, "/login", {"email": user.email, "password": NEW_PASSWORD})
    ended = elsewhere.get("/inbox", follow_redirects=False)
    again = mail_client.get(path)

    assert forgot.status_code == 200
    assert FORGOT_ANSWER in forgot.text
    assert message["Subject"] == "Reset your Cluster Atlas password"
    assert path.startswith("/password/reset?token=")
    assert (form.status_code, h1(form.text)) == (200, "Choose a new password")
    assert "ana@example.org" in form.text
    assert differ.status_code == 400
    assert "the two passwords are not the same" in differ.text
    assert short.status_code == 400
    assert "use at least 10 characters" in short.text
    assert (done.status_code, done.headers["location"]) == (303, "/login")
    assert "Your password has been changed" in login_page.text
    assert (old.status_code, new.status_code) == (400, 303)
    assert ended.status_code == 303  # the other browser's session has ended
    assert ended.headers["location"].startswith("/login")
    assert again.status_code == 400  # the link works only once
    assert "has been used" in again.text


def test_forgot_page_answers_the_same_for_unknown_addresses(mail_client, smtp_receiver):
    response = post_form(
        mail_client, "/password/forgot", {"email": "nobody@example.org"}, page="/password/forgot"
    )

    assert response.status_code == 200
    assert FORGOT_ANSWER in response.text
    assert smtp_receiver.wait_for(1, timeout=0.5) == []


def test_forgot_page_without_address_is_a_field_error(client):
    response = post_form(client, "/password/forgot", {}, page="/password/forgot")

    assert response.status_code == 400
    assert "enter your e-mail address" in response.text


@pytest.mark.parametrize("token", ["", "forged", "x" * 2000])
def test_reset_page_with_bad_token_is_a_400_page(client, token):
    response = client.get("/password/reset", params={"token": token})

    assert response.status_code in (400, 404)  # an over-long query is no such page
    assert "Traceback" not in response.text


def test_reset_form_with_bad_token_is_a_400_page(client):
    response = post_form(
        client,
        "/password/reset",
        {"token": "forged", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 400
    assert "this link is not valid" in response.text


def test_reset_form_needs_the_csrf_token(client, create_user, settings):
    user = create_user()
    token = make_password_reset_token(user, settings=settings)

    response = client.post(
        "/password/reset",
        data={"token": token, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 403


def test_api_password_reset_flow(
    mail_client, make_client, mail_settings, smtp_receiver, create_user
):
    user = create_user("ana@example.org")
    browser = make_client(mail_settings)
    log_in(browser, user)

    forgot = mail_client.post("/api/auth/password/forgot", json={"email": "ana@example.org"})
    unknown = mail_client.post("/api/auth/password/forgot", json={"email": "no@example.org"})
    token = link_in(smtp_receiver.wait_for(1)[0]).split("token=", 1)[1]
    short = mail_client.post("/api/auth/password/reset", json={"token": token, "password": "short"})
    reset = mail_client.post(
        "/api/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    reused = mail_client.post(
        "/api/auth/password/reset", json={"token": token, "password": "another new password"}
    )
    new_token = mail_client.post(
        "/api/auth/tokens", json={"email": user.email, "password": NEW_PASSWORD}
    )

    assert (forgot.status_code, forgot.json()) == (202, {"detail": FORGOT_ANSWER})
    assert (unknown.status_code, unknown.json()) == (202, {"detail": FORGOT_ANSWER})
    assert len(smtp_receiver.wait_for(2, timeout=0.5)) == 1
    assert short.status_code == 422
    assert short.json()["errors"] == {"password": "use at least 10 characters"}
    assert (reset.status_code, reset.json()["email"]) == (200, "ana@example.org")
    assert reused.status_code == 422
    assert "token" in reused.json()["errors"]
    assert new_token.status_code == 201
    assert browser.get("/inbox", follow_redirects=False).status_code == 303  # session ended


# ---- rate limits -------------------------------------------------------------------------


@pytest.fixture
def limited(make_client, settings):
    """A client whose app allows 2 attempts a minute, on a clock that stands still."""
    client = make_client(settings)
    client.app.state.rate_limiter = RateLimiter(attempts=2, window=60, clock=Clock())
    return client


PAGE_FORMS = {
    "login": ("/login", {"email": "ana@example.org", "password": "wrong password!"}),
    "signup": ("/signup", {"email": "ana@example.org", "password": "short"}),
    "resend": ("/confirm/resend", {"email": "ana@example.org"}),
    "forgot": ("/password/forgot", {"email": "ana@example.org"}),
}


@pytest.mark.parametrize("action", sorted(PAGE_FORMS))
def test_pages_are_rate_limited(limited, action):
    path, data = PAGE_FORMS[action]
    token = csrf_of(limited.get("/signup").text)

    answers = [limited.post(path, data={"csrf_token": token, **data}) for _ in range(3)]

    assert [r.status_code for r in answers[:2]] != [429, 429]
    assert answers[2].status_code == 429
    assert h1(answers[2].text) == "Too many attempts"
    assert "try again in 60 seconds" in answers[2].text
    assert answers[2].headers["retry-after"] == "60"
    assert inline_code(answers[2].text) == []


API_CALLS = {
    "login": ("/api/auth/tokens", {"email": "ana@example.org", "password": "wrong password!"}),
    "signup": ("/api/auth/register", {"email": "ana@example.org", "password": "short"}),
    "resend": ("/api/auth/confirm/resend", {"email": "ana@example.org"}),
    "forgot": ("/api/auth/password/forgot", {"email": "ana@example.org"}),
}


@pytest.mark.parametrize("action", sorted(API_CALLS))
def test_api_is_rate_limited(limited, action):
    path, body = API_CALLS[action]

    answers = [limited.post(path, json=body) for _ in range(3)]

    assert answers[0].status_code in (202, 401, 422)
    assert answers[2].status_code == 429
    assert answers[2].json() == {"detail": "too many attempts: try again in 60 seconds"}
    assert answers[2].headers["retry-after"] == "60"


def test_limits_count_per_client_address_and_per_email_address(limited):
    other_address = TestClient(limited.app, client=("10.0.0.2", 40000))

    def login(client, email):
        return client.post("/api/auth/tokens", json={"email": email, "password": "wrong pw!!"})

    same_email = [login(limited, "ana@example.org"), login(other_address, "ana@example.org")]
    third_for_email = login(other_address, "ANA@example.org ")
    other_email = login(other_address, "bo@example.org")
    third_from_address = login(other_address, "cy@example.org")

    assert [r.status_code for r in same_email] == [401, 401]
    assert third_for_email.status_code == 429  # the address's limit, whatever the client
    assert other_email.status_code == 401
    assert third_from_address.status_code == 429  # the client's limit, whatever the address


def test_limit_lifts_when_the_window_has_passed(limited, create_user):
    clock = Clock()
    limited.app.state.rate_limiter = RateLimiter(attempts=2, window=60, clock=clock)
    user = create_user("ana@example.org")
    body = {"email": user.email, "password": PASSWORD}

    first = [limited.post("/api/auth/tokens", json=body).status_code for _ in range(3)]
    clock.now = 30
    still = limited.post("/api/auth/tokens", json=body)
    clock.now = 60.5
    lifted = limited.post("/api/auth/tokens", json=body)

    assert first == [201, 201, 429]
    assert (still.status_code, still.headers["retry-after"]) == (429, "30")
    assert lifted.status_code == 201


def test_each_app_keeps_its_own_limiter(make_client, settings):
    tight = settings.model_copy(update={"rate_limit_attempts": 1})
    one, two = make_client(tight), make_client(tight)
    body = {"email": "ana@example.org"}

    answers = [
        one.post("/api/auth/password/forgot", json=body).status_code,
        one.post("/api/auth/password/forgot", json=body).status_code,
        two.post("/api/auth/password/forgot", json=body).status_code,
    ]

    assert answers == [202, 429, 202]
    assert one.app.state.rate_limiter is not two.app.state.rate_limiter


# ---- the new pages have no inline code ---------------------------------------------------


def test_account_pages_have_no_inline_scripts_or_styles(client, create_user, settings):
    token = make_password_reset_token(create_user(), settings=settings)
    pages = {
        path: client.get(path)
        for path in ("/confirm/resend", "/password/forgot", f"/password/reset?token={token}")
    }
    pages["forgot sent"] = post_form(
        client, "/password/forgot", {"email": "x@example.org"}, page="/password/forgot"
    )

    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(pages, 200)
    assert {name: inline_code(r.text) for name, r in pages.items()} == dict.fromkeys(pages, [])
