"""The server-rendered pages on SQLite and PostgreSQL: each page renders, the main journey
(sign up → confirm → log in → create → submit → a moderator publishes → the public list),
sessions and CSRF, redirects to the log-in page, refused access, the htmx fragment, the
Content-Security-Policy (no inline scripts or styles) and the static files."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from clusteratlas.collaboration.models import Organisation
from clusteratlas.collaboration.organisations import send_back
from clusteratlas.web.app import STATIC_DIR
from clusteratlas.web.pages.sessions import COOKIE_NAME

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"  # the password of the factory users (tests/collaboration)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = STATIC_DIR / "vendor" / "htmx.min.js"


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


def post_form(client, path: str, data: dict[str, str], *, page: str | None = None):
    """POST ``data`` with the CSRF token of ``page`` (default: a page with a form)."""
    token = csrf_of(client.get(page or "/signup").text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def log_in(client, user) -> None:
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 303, response.text


def h1(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match is not None
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).split("(")[0].strip()


def names_in(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/organisations/\d+">([^<]+)</a>', html)


# ---- every page renders ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/", "Cluster Atlas"),
        ("/signup", "Sign up"),
        ("/login", "Log in"),
        ("/organisations", "Organisations"),
    ],
)
def test_public_page_renders_for_visitor(client, path, title):
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert h1(response.text) == title
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in response.text
    assert '<a href="/login">Log in</a>' in response.text


def test_pages_for_signed_in_users_render(client, create_user, create_org):
    manager = create_user("ana@example.org", moderator=True)
    draft = create_org(manager, name="Photonics Valley")
    other = create_org(create_user(), status="submitted", name="Aero Nord")
    log_in(client, manager)

    pages = {
        path: client.get(path)
        for path in (
            "/organisations/new",
            f"/organisations/{draft.id}",
            f"/organisations/{draft.id}/edit",
            "/moderation",
        )
    }

    assert {path: r.status_code for path, r in pages.items()} == dict.fromkeys(pages, 200)
    assert h1(pages["/organisations/new"].text) == "New organisation profile"
    assert h1(pages[f"/organisations/{draft.id}"].text) == "Photonics Valley"
    assert "Submit for review" in pages[f"/organisations/{draft.id}"].text
    assert 'value="Photonics Valley"' in pages[f"/organisations/{draft.id}/edit"].text
    assert names_in(pages["/moderation"].text) == [other.name]
    assert "ana@example.org" in pages["/moderation"].text
    assert '<a href="/moderation">Moderation</a>' in pages["/moderation"].text


def test_published_profile_renders_for_visitor(client, create_user, create_org):
    organisation = create_org(
        create_user(), status="published", city="Köln", website="https://bio.example.org"
    )

    response = client.get(f"/organisations/{organisation.id}")

    assert response.status_code == 200
    assert h1(response.text) == "BioCluster Rhein"
    assert "Köln" in response.text
    assert 'href="https://bio.example.org"' in response.text
    assert "Submit for review" not in response.text


@pytest.mark.parametrize("path", ["/organisations/999999", "/organisations/99999999999", "/nope"])
def test_unknown_page_is_a_404_page(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert h1(response.text) == "Page not found"
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_api_errors_stay_json(client):
    response = client.get("/api/organisations/999999")

    assert response.status_code == 404
    assert response.json() == {"detail": "no organisation with this id"}


# ---- the journey -------------------------------------------------------------------------


def test_journey_signup_confirm_login_create_submit_publish_listed(
    client, make_client, settings, create_user
):
    signup = post_form(client, "/signup", {"email": "ana@example.org", "password": PASSWORD})
    link = re.search(r'<a class="confirm-link" href="([^"]+)"', signup.text).group(1)
    confirmed = client.get(link.replace("&amp;", "&"))
    logged_in = post_form(client, "/login", {"email": "ana@example.org", "password": PASSWORD})
    form = client.get("/organisations/new")
    created = client.post(
        "/organisations/new",
        data={
            "csrf_token": csrf_of(form.text),
            "type": "cluster_organisation",
            "name": "Photonics Valley",
            "country": "fr",
            "city": "Bordeaux",
            "members_sme": "12",
            "members_research": "3",
        },
        follow_redirects=False,
    )
    profile_path = created.headers["location"]
    profile = client.get(profile_path)
    submitted = client.post(
        f"{profile_path}/submit",
        data={"csrf_token": csrf_of(profile.text)},
        follow_redirects=False,
    )
    after_submit = client.get(profile_path)
    moderator = create_user("mo@example.org", moderator=True)
    moderation = make_client(settings)
    log_in(moderation, moderator)
    queue = moderation.get("/moderation")
    organisation_id = int(profile_path.rsplit("/", 1)[1])
    published = moderation.post(
        f"/moderation/{organisation_id}/publish",
        data={"csrf_token": csrf_of(queue.text)},
        follow_redirects=False,
    )
    after_publish = moderation.get("/moderation")
    public = make_client(settings).get("/organisations")

    assert signup.status_code == 200
    assert "confirmation link" in signup.text
    assert urlsplit(link).path == "/confirm"
    assert confirmed.status_code == 200
    assert h1(confirmed.text) == "Address confirmed"
    assert (logged_in.status_code, logged_in.headers["location"]) == (303, "/organisations")
    assert created.status_code == 303
    assert re.fullmatch(r"/organisations/\d+", profile_path)
    assert "Draft saved." in profile.text
    assert "Status: draft" in profile.text
    assert (submitted.status_code, submitted.headers["location"]) == (303, profile_path)
    assert "Status: submitted" in after_submit.text
    assert names_in(queue.text) == ["Photonics Valley"]
    assert (published.status_code, published.headers["location"]) == (303, "/moderation")
    assert "Published Photonics Valley." in after_publish.text
    assert "Nothing to review." in after_publish.text
    assert names_in(public.text) == ["Photonics Valley"]
    assert "Cluster organisation · FR · Bordeaux" in public.text


def test_moderator_sends_back_with_reason(client, session, create_user, create_org):
    organisation = create_org(create_user(), status="submitted")
    log_in(client, create_user(moderator=True))
    queue = client.get("/moderation")

    empty = client.post(
        f"/moderation/{organisation.id}/send-back",
        data={"csrf_token": csrf_of(queue.text), "reason": "  "},
    )
    sent = client.post(
        f"/moderation/{organisation.id}/send-back",
        data={"csrf_token": csrf_of(queue.text), "reason": "add a website"},
        follow_redirects=False,
    )
    session.refresh(organisation)

    assert empty.status_code == 400
    assert 'id="reason-error-' in empty.text
    assert "say what the managers should change" in empty.text
    assert sent.status_code == 303
    assert (organisation.status, organisation.return_reason) == ("returned", "add a website")


# ---- forms: errors, values kept ----------------------------------------------------------


def test_signup_with_bad_fields_redisplays_form_with_errors_and_values(client):
    response = post_form(client, "/signup", {"email": "ana@example", "password": "short"})

    assert response.status_code == 400
    assert h1(response.text) == "Sign up"
    assert 'value="ana@example"' in response.text
    assert "short" not in response.text  # the password is never sent back
    errors = dict(re.findall(r'<p class="field-error" id="error-(\w+)">([^<]+)</p>', response.text))
    assert errors == {
        "email": "enter an e-mail address such as name@example.org",
        "password": "use at least 10 characters",
    }


def test_create_organisation_with_bad_fields_keeps_values(client, create_user):
    log_in(client, create_user())

    response = post_form(
        client,
        "/organisations/new",
        {"type": "company", "name": "Aero Nord", "country": "France", "website": "aero.fr"},
        page="/organisations/new",
    )

    assert response.status_code == 400
    assert 'value="Aero Nord"' in response.text
    assert '<option value="company" selected>' in response.text
    errors = dict(re.findall(r'<p class="field-error" id="error-(\w+)">([^<]+)</p>', response.text))
    assert errors == {
        "country": "use at most 2 characters",
        "website": "enter an address starting with http:// or https://",
    }


def test_login_with_wrong_password_is_refused(client, create_user):
    user = create_user()

    response = post_form(client, "/login", {"email": user.email, "password": "wrong password"})

    assert response.status_code == 400
    assert "wrong e-mail address or password" in response.text
    assert f'value="{user.email}"' in response.text


def test_login_redirects_only_within_the_site(client, create_user):
    user = create_user()
    token = csrf_of(client.get("/login").text)
    data = {"csrf_token": token, "email": user.email, "password": PASSWORD}

    response = client.post("/login", data=data | {"next": "//evil.example"}, follow_redirects=False)

    assert response.headers["location"] == "/organisations"


def test_confirm_with_bad_token_is_a_400_page(client):
    response = client.get("/confirm?token=forged")

    assert response.status_code == 400
    assert "this link is not valid" in response.text


# ---- sessions and CSRF -------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client):
    response = client.get("/signup")

    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert attributes == {"max-age", "path", "httponly", "samesite"}
    assert "SameSite=Lax" in cookie


def test_session_cookie_is_secure_over_https(make_client, settings):
    client = make_client(settings)
    client.base_url = client.base_url.copy_with(scheme="https")

    response = client.get("/signup")

    assert "; Secure" in response.headers["set-cookie"]


def test_public_list_sets_no_cookie(client):
    response = client.get("/organisations")

    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "data",
    [{}, {"csrf_token": "wrong"}, {"csrf_token": ""}],
    ids=["missing", "wrong", "empty"],
)
def test_form_without_valid_csrf_token_is_refused(client, data):
    client.get("/signup")  # the session has a token, the form does not send it

    response = client.post(
        "/signup", data={**data, "email": "ana@example.org", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert h1(response.text) == "Not allowed"
    assert "security token is missing or wrong" in response.text


def test_csrf_token_of_another_session_is_refused(client, make_client, settings):
    other = make_client(settings)
    token = csrf_of(other.get("/signup").text)
    client.get("/signup")

    response = client.post("/signup", data={"csrf_token": token, "email": "a@example.org"})

    assert response.status_code == 403


def test_tampered_session_cookie_is_a_visitor(client, create_user):
    log_in(client, create_user())
    value = client.cookies[COOKIE_NAME]
    client.cookies.delete(COOKIE_NAME)  # (set alone may add a second cookie beside it)
    client.cookies.set(COOKIE_NAME, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))

    response = client.get("/organisations/new", follow_redirects=False)

    assert response.status_code == 303


def test_logout_ends_the_session(client, create_user):
    log_in(client, create_user())

    response = post_form(client, "/logout", {}, page="/organisations/new")
    after = client.get("/organisations/new", follow_redirects=False)

    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert after.status_code == 303


def test_api_ignores_the_session_cookie(client, create_user):
    log_in(client, create_user())

    response = client.post(
        "/api/organisations", json={"type": "company", "name": "X", "country": "DE"}
    )

    assert response.status_code == 401


def test_form_as_json_is_refused(client):
    token = csrf_of(client.get("/signup").text)

    response = client.post("/signup", json={"csrf_token": token})

    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in response.text


# ---- access ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/organisations/new", "/moderation", "/organisations/{id}/edit"])
def test_visitor_is_sent_to_log_in(client, create_user, create_org, path):
    organisation = create_org(create_user(), status="published")
    path = path.format(id=organisation.id)

    response = client.get(path, follow_redirects=False)
    login = client.get(response.headers["location"])

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"
    assert f'name="next" value="{path}"' in login.text


def test_login_returns_to_the_page_asked_for(client, create_user):
    user = create_user()
    page = client.get("/login?next=/moderation")

    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "next": "/moderation",
            "email": user.email,
            "password": PASSWORD,
        },
        follow_redirects=False,
    )

    assert response.headers["location"] == "/moderation"


def test_another_user_cannot_edit_an_organisation(client, session, create_user, create_org):
    owner = create_user()
    organisation = create_org(owner, status="submitted")
    send_back(
        session,
        actor=create_user(moderator=True),
        organisation=organisation,
        reason="add a city",
    )
    published = create_org(owner, status="published", name="Aero Nord")
    log_in(client, create_user(moderator=True))  # sees every profile, manages none
    token = csrf_of(client.get("/organisations/new").text)

    pages = [
        client.get(f"/organisations/{organisation.id}/edit"),
        client.post(
            f"/organisations/{organisation.id}/edit",
            data={"csrf_token": token, "name": "Taken over", "type": "company", "country": "DE"},
        ),
        client.post(f"/organisations/{organisation.id}/submit", data={"csrf_token": token}),
        client.get(f"/organisations/{published.id}/edit"),
    ]
    session.refresh(organisation)

    assert [page.status_code for page in pages] == [403, 403, 403, 403]
    assert all(h1(page.text) == "Not allowed" for page in pages)
    assert "Only the organisation&#39;s managers may edit its profile." in pages[0].text
    assert (organisation.name, organisation.status) == ("BioCluster Rhein", "returned")


def test_draft_of_another_user_is_not_found(client, create_user, create_org):
    organisation = create_org(create_user())
    log_in(client, create_user())

    response = client.get(f"/organisations/{organisation.id}")

    assert response.status_code == 404


def test_member_cannot_moderate(client, create_user, create_org):
    organisation = create_org(create_user(), status="submitted")
    log_in(client, create_user())
    token = csrf_of(client.get("/organisations/new").text)

    queue = client.get("/moderation")
    publish = client.post(f"/moderation/{organisation.id}/publish", data={"csrf_token": token})

    assert (queue.status_code, publish.status_code) == (403, 403)
    assert "Only moderators may review profiles." in publish.text
    assert '<a href="/moderation">' not in queue.text


# ---- the list and its htmx fragment ------------------------------------------------------


@pytest.fixture
def three_published(create_user, create_org) -> list[Organisation]:
    manager = create_user()
    return [
        create_org(manager, status="published", name="Aero Nord", country="FR", type="company"),
        create_org(manager, status="published", name="BioCluster Rhein", country="DE"),
        create_org(manager, status="published", name="Cleantech Lyon", country="FR"),
    ]


def test_list_filters_by_country_and_type(client, three_published, create_user, create_org):
    create_org(create_user(), status="submitted", name="Not yet", country="FR")

    every = client.get("/organisations")
    french = client.get("/organisations?country=fr")
    french_clusters = client.get("/organisations?country=FR&type=cluster_organisation")

    assert names_in(every.text) == ["Aero Nord", "BioCluster Rhein", "Cleantech Lyon"]
    assert names_in(french.text) == ["Aero Nord", "Cleantech Lyon"]
    assert names_in(french_clusters.text) == ["Cleantech Lyon"]
    assert 'value="FR"' in french_clusters.text
    assert '<option value="cluster_organisation" selected>' in french_clusters.text


def test_list_with_bad_filters_says_so(client, three_published):
    response = client.get("/organisations?country=France&type=spaceship")

    assert response.status_code == 200
    assert names_in(response.text) == []
    assert "enter a two-letter country code such as DE or FR" in response.text
    assert "choose a type from the list" in response.text


def test_htmx_request_gets_only_the_results_fragment(client, three_published):
    response = client.get("/organisations?country=FR", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="results"')
    assert response.text.rstrip().endswith("</section>")
    assert "<html" not in response.text
    assert names_in(response.text) == ["Aero Nord", "Cleantech Lyon"]
    assert response.headers["vary"] == "HX-Request"


def test_htmx_history_restore_gets_the_whole_page(client, three_published):
    response = client.get(
        "/organisations",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert "<html" in response.text


def test_list_form_is_wired_to_htmx(client):
    html = client.get("/organisations").text

    assert 'hx-get="/organisations"' in html
    assert 'hx-target="#results"' in html
    assert '<section id="results"' in html


# ---- Content-Security-Policy: no inline script or style ----------------------------------


class InlineFinder(HTMLParser):
    """Collects what a ``default-src 'self'`` policy would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if not attributes.get("src"):
                self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")
            external = value and value.startswith(("http:", "https:", "//"))
            if tag in ("script", "link") and name in ("src", "href") and external:
                self.found.append(f"{tag} from {value}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append("inline script text")


def inline_code(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def test_no_page_has_inline_scripts_or_styles(
    client, make_client, settings, create_user, create_org
):
    manager = create_user(moderator=True)
    draft = create_org(manager, name="Photonics Valley", description="<script>x</script>")
    create_org(create_user(), status="submitted", name="Aero Nord")
    create_org(create_user(), status="published", name="Cleantech Lyon")
    visitor = make_client(settings)
    signed_in = client
    log_in(signed_in, manager)
    pages = {
        f"visitor {path}": visitor.get(path)
        for path in ("/", "/signup", "/login", "/organisations", "/confirm?token=x", "/nope")
    }
    pages["visitor signup errors"] = post_form(visitor, "/signup", {"email": "x"})
    pages["visitor csrf"] = visitor.post("/signup", data={})
    pages["htmx fragment"] = visitor.get("/organisations", headers={"HX-Request": "true"})
    for path in (
        "/organisations",
        "/organisations/new",
        f"/organisations/{draft.id}",
        f"/organisations/{draft.id}/edit",
        f"/organisations/{draft.id}/history",
        "/moderation",
    ):
        pages[f"member {path}"] = signed_in.get(path)

    found = {name: inline_code(page.text) for name, page in pages.items()}

    assert found == dict.fromkeys(pages, [])
    assert "<script>x" not in pages[f"member /organisations/{draft.id}"].text  # sanitised away
    assert all(
        page.headers["content-security-policy"].startswith("default-src 'self'")
        for page in pages.values()
    )


# ---- static files ------------------------------------------------------------------------


def test_our_css_is_served(client):
    response = client.get("/static/css/app.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ".field-error" in response.text


def test_htmx_is_served_when_built(client):
    if not HTMX.is_file():
        pytest.skip(
            f"{HTMX.relative_to(STATIC_DIR.parents[3])} is not built: run `make static` "
            "(npm ci, then copies htmx from node_modules)"
        )

    response = client.get("/static/vendor/htmx.min.js")

    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.content == HTMX.read_bytes()


def test_missing_static_file_is_404(client):
    response = client.get("/static/vendor/nothing.js")

    assert response.status_code == 404
