"""The post pages on SQLite and PostgreSQL: the list with its htmx filter, a post with follow
and "I'm interested" (mail really delivered), the managers' list of interested people, the
create and edit forms with field errors (400), closing, CSRF, refused access and no inline
code."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from clusteratlas.collaboration.models import (
    AuditLog,
    Notification,
    Post,
    PostFollow,
    PostInterest,
    utcnow,
)
from clusteratlas.collaboration.posts import close_post, express_interest, follow
from web import posts_fixtures

pytestmark = pytest.mark.integration

make_org = posts_fixtures.make_org
make_post = posts_fixtures.make_post

PASSWORD = "correct horse battery"  # the password of the factory users (tests/collaboration)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


def log_in(client, user) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def titles_in(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/posts/\d+">([^<]+)</a>', html)


class _InlineCode(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "style":
            self.problems.append("<style>")
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        self.problems += [f"{name}= on <{tag}>" for name in names if name == "style"]
        self.problems += [f"{name}= on <{tag}>" for name in names if name.startswith("on")]


def assert_no_inline_code(html: str) -> None:
    parser = _InlineCode()
    parser.feed(html)
    assert parser.problems == []


@pytest.fixture
def world(session, create_user, make_org, make_post):
    """Ana manages Volta (DE) with an open offer; Ben manages Nord (FR); Cleo is a member."""
    ana, ben, cleo = create_user("ana@example.org"), create_user(), create_user()
    volta = make_org(ana)
    nord = make_org(ben, name="Nord Energie", country="FR")
    post = make_post(ana, volta)
    return ana, ben, cleo, volta, nord, post


# ---- list --------------------------------------------------------------------------------


def test_list_shows_open_posts_with_filters(client, session, world, make_post):
    ana, ben, _cleo, volta, nord, post = world
    make_post(ben, nord, kind="request", category="event", title="Matchmaking <day>")
    closed = make_post(ana, volta, title="Old offer")
    close_post(session, actor=ana, post=closed)

    page = client.get("/posts")
    assert page.status_code == 200
    assert titles_in(page.text) == ["Matchmaking &lt;day&gt;", "Battery recycling pilot line"]
    assert "2 posts" in page.text
    assert_no_inline_code(page.text)
    assert titles_in(client.get("/posts?kind=request").text) == ["Matchmaking &lt;day&gt;"]
    assert titles_in(client.get("/posts?country=de").text) == [post.title]
    assert titles_in(client.get("/posts?category=technology").text) == [post.title]
    assert titles_in(client.get(f"/posts?organisation={nord.id}").text) == [
        "Matchmaking &lt;day&gt;"
    ]


def test_profile_links_to_its_posts(client, world, make_org):
    volta, ana = world[3], world[0]
    page = client.get(f"/organisations/{volta.id}")
    assert page.status_code == 200
    assert f'href="/posts?organisation={volta.id}">Offers and requests of Volta Cells' in page.text
    log_in(client, ana)
    draft = make_org(ana, status="draft", name="Draft Co")
    assert "/posts?organisation=" not in client.get(f"/organisations/{draft.id}").text


def test_list_htmx_fragment_and_bad_filters(client, world):
    fragment = client.get("/posts?kind=offer", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith(("{#", "<section"))
    assert "<html" not in fragment.text
    assert fragment.headers["vary"] == "HX-Request"
    bad = client.get("/posts?kind=gift&country=DEU")
    assert bad.status_code == 200
    assert "choose offer or request" in bad.text
    assert "two-letter country code" in bad.text
    assert client.get("/posts?page=0").status_code == 404


def test_managers_may_list_their_closed_posts(client, session, world, make_post):
    ana, ben, _cleo, volta, _nord, _post = world
    closed = make_post(ana, volta, title="Old offer")
    close_post(session, actor=ana, post=closed)
    assert "Old offer" not in client.get("/posts?closed=1").text  # a visitor: ignored
    assert "New post for" not in client.get("/posts").text
    log_in(client, ana)
    assert "Old offer" in client.get("/posts?closed=1").text
    assert f'href="/organisations/{volta.id}/posts/new">New post for Volta Cells' in (
        client.get("/posts").text
    )
    by_org = client.get(f"/posts?organisation={volta.id}").text
    assert f'Posts of <a href="/organisations/{volta.id}">Volta Cells</a>' in by_org
    assert "Old offer" not in client.get("/posts").text


# ---- detail, follow, interest ------------------------------------------------------------


def test_visitor_sees_post_and_a_log_in_link(client, world):
    post = world[5]
    page = client.get(f"/posts/{post.id}")
    assert page.status_code == 200
    assert "<h1>Battery recycling pilot line</h1>" in page.text
    assert f'href="/login?next=/posts/{post.id}"' in page.text
    assert "Interested (" not in page.text
    assert_no_inline_code(page.text)


def test_member_follows_and_unfollows(client, session, world):
    cleo, post = world[2], world[5]
    log_in(client, cleo)
    page = client.get(f"/posts/{post.id}")
    assert "I&#39;m interested" in page.text or "I'm interested" in page.text
    token = csrf_of(page.text)
    followed = client.post(f"/posts/{post.id}/follow", data={"csrf_token": token})
    assert followed.status_code == 200  # after the redirect
    assert "You follow this post" in followed.text
    assert session.get(PostFollow, (post.id, cleo.id)) is not None
    unfollowed = client.post(f"/posts/{post.id}/unfollow", data={"csrf_token": token})
    assert "You no longer follow this post" in unfollowed.text
    assert session.get(PostFollow, (post.id, cleo.id)) is None


def test_interest_reaches_managers_by_mail_and_they_see_it(
    make_client, settings, smtp_receiver, session, world
):
    ana, ben, _cleo, _volta, nord, post = world
    client = make_client(
        settings.model_copy(
            update={"smtp_host": smtp_receiver.host, "smtp_port": smtp_receiver.port}
        )
    )
    log_in(client, ben)
    page = client.get(f"/posts/{post.id}")
    assert f'<option value="{nord.id}"' in page.text  # on behalf of his organisation
    sent = client.post(
        f"/posts/{post.id}/interest",
        data={
            "csrf_token": csrf_of(page.text),
            "message": "We recycle <script>cells</script>.",
            "organisation_id": str(nord.id),
        },
    )
    assert sent.status_code == 200
    assert "Your interest was sent" in sent.text
    assert "You expressed interest" in sent.text
    assert "We recycle &lt;script&gt;cells&lt;/script&gt;." in sent.text
    [mail] = smtp_receiver.wait_for(1)
    assert mail["To"] == "ana@example.org"
    assert f"{settings.public_url}/posts/{post.id}" in mail.get_content()

    client.post("/logout", data={"csrf_token": csrf_of(sent.text)})
    log_in(client, ana)
    own = client.get(f"/posts/{post.id}")
    assert "Interested (1)" in own.text
    assert ben.email in own.text
    assert "Nord Energie" in own.text
    assert "We recycle &lt;script&gt;cells&lt;/script&gt;." in own.text
    assert "<script>cells" not in own.text
    assert f'action="/posts/{post.id}/interest"' not in own.text  # not on one's own post
    assert_no_inline_code(own.text)
    inbox = session.scalars(select(Notification).where(Notification.user_id == ana.id)).one()
    assert inbox.link == f"/posts/{post.id}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"message": "   "}, "say what you offer or look for"),
        ({"message": "x" * 2001}, "use at most 2,000 characters"),
        ({"message": "hi", "organisation_id": "abc"}, "choose an organisation that you manage"),
        ({"message": "hi", "organisation_id": "999999"}, "choose an organisation that you manage"),
    ],
)
def test_bad_interest_re_renders_with_field_errors(client, session, world, data, message):
    cleo, post = world[2], world[5]
    log_in(client, cleo)
    token = csrf_of(client.get(f"/posts/{post.id}").text)
    response = client.post(f"/posts/{post.id}/interest", data={"csrf_token": token, **data})
    assert response.status_code == 400
    assert message in response.text
    assert 'class="field-error"' in response.text
    assert session.scalars(select(PostInterest)).all() == []


def test_second_interest_is_a_field_error(client, session, world):
    cleo, post = world[2], world[5]
    express_interest(session, actor=cleo, post=post, message="first")
    log_in(client, cleo)
    token = csrf_of(client.get(f"/posts/{post.id}").text)
    response = client.post(
        f"/posts/{post.id}/interest", data={"csrf_token": token, "message": "again"}
    )
    assert response.status_code == 400
    assert "already expressed interest" in response.text


# ---- create, edit, close -----------------------------------------------------------------


def _form(**values):
    expiry = (utcnow() + timedelta(days=60)).date().isoformat()
    return {
        "kind": "request",
        "category": "funding_consortium",
        "title": "Consortium for a battery call",
        "body": "We coordinate.",
        "keywords": "batteries\nfunding, Horizon Europe",
        "expires_at": expiry,
    } | values


def test_manager_creates_edits_and_closes_a_post(client, session, world):
    ana, _ben, cleo, volta, _nord, _post = world
    log_in(client, ana)
    form = client.get(f"/organisations/{volta.id}/posts/new")
    assert form.status_code == 200
    default = (utcnow() + timedelta(days=90)).date().isoformat()
    assert f'value="{default}"' in form.text
    assert_no_inline_code(form.text)
    created = client.post(
        f"/organisations/{volta.id}/posts/new",
        data={"csrf_token": csrf_of(form.text), **_form()},
        follow_redirects=False,
    )
    assert created.status_code == 303
    post = session.scalars(select(Post).where(Post.title == "Consortium for a battery call")).one()
    assert created.headers["location"] == f"/posts/{post.id}"
    assert post.keywords == ["batteries", "funding", "Horizon Europe"]
    assert post.expires_at.date().isoformat() == _form()["expires_at"]
    follow(session, actor=cleo, post=post)

    edit = client.get(f"/posts/{post.id}/edit")
    assert "Horizon Europe" in edit.text
    edited = client.post(
        f"/posts/{post.id}/edit",
        data={"csrf_token": csrf_of(edit.text), **_form(title="Consortium wanted")},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    session.refresh(post)
    assert post.title == "Consortium wanted"

    closed = client.post(f"/posts/{post.id}/close", data={"csrf_token": csrf_of(edit.text)})
    assert closed.status_code == 200
    assert "Closed on" in closed.text
    session.refresh(post)
    assert post.closed_at is not None
    subjects = session.scalars(
        select(Notification.subject).where(Notification.user_id == cleo.id)
    ).all()
    assert subjects == ["Changed: Consortium wanted", "Closed: Consortium wanted"]
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.entity_type == "post", AuditLog.entity_id == post.id)
    ).all()
    assert actions == ["post.created", "post.followed", "post.updated", "post.closed"]
    assert client.get(f"/posts/{post.id}/edit").status_code == 400


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"title": ""}, "title", "this field is required"),
        ({"title": "x" * 201}, "title", "use at most 200 characters"),
        ({"body": "x" * 10_001}, "body", "use at most 10,000 characters"),
        ({"kind": "gift"}, "kind", "choose offer or request"),
        ({"category": "sports"}, "category", "choose one of"),
        ({"keywords": ",".join(f"k{i}" for i in range(31))}, "keywords", "at most 30"),
        ({"expires_at": ""}, "expires_at", "give the date"),
        ({"expires_at": "31/12/2027"}, "expires_at", "enter a date such as"),
        ({"expires_at": "2020-01-01"}, "expires_at", "choose a date in the future"),
        ({"expires_at": "2099-01-01"}, "expires_at", "at most a year ahead"),
    ],
)
def test_bad_post_form_re_renders_with_values(client, session, world, values, field, message):
    ana, volta = world[0], world[3]
    log_in(client, ana)
    token = csrf_of(client.get(f"/organisations/{volta.id}/posts/new").text)
    data = _form(**values)
    response = client.post(
        f"/organisations/{volta.id}/posts/new", data={"csrf_token": token, **data}
    )
    assert response.status_code == 400
    assert f'id="error-{field}"' in response.text
    assert message in response.text
    assert "Consortium for a battery call" in response.text or field == "title"
    assert session.scalars(select(Post).where(Post.organisation_id == volta.id)).all() == [world[5]]


def test_bad_edit_re_renders(client, world):
    ana, post = world[0], world[5]
    log_in(client, ana)
    token = csrf_of(client.get(f"/posts/{post.id}/edit").text)
    response = client.post(f"/posts/{post.id}/edit", data={"csrf_token": token, **_form(title=" ")})
    assert response.status_code == 400
    assert 'id="error-title"' in response.text


# ---- refused access ----------------------------------------------------------------------


def test_visitor_is_sent_to_log_in(client, world):
    post, volta = world[5], world[3]
    for path in (f"/posts/{post.id}/edit", f"/organisations/{volta.id}/posts/new"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_other_users_cannot_change_a_post(client, session, world):
    _ana, ben, _cleo, volta, _nord, post = world
    log_in(client, ben)
    token = csrf_of(client.get(f"/posts/{post.id}").text)
    assert client.get(f"/posts/{post.id}/edit").status_code == 403
    assert client.get(f"/organisations/{volta.id}/posts/new").status_code == 403
    responses = [
        client.post(f"/posts/{post.id}/edit", data={"csrf_token": token, **_form()}),
        client.post(f"/posts/{post.id}/close", data={"csrf_token": token}),
        client.post(f"/organisations/{volta.id}/posts/new", data={"csrf_token": token, **_form()}),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    session.refresh(post)
    assert (post.title, post.closed_at) == ("Battery recycling pilot line", None)
    assert "Interested (" not in client.get(f"/posts/{post.id}").text


def test_own_post_cannot_be_followed_or_answered(client, session, world):
    ana, post = world[0], world[5]
    log_in(client, ana)
    token = csrf_of(client.get(f"/posts/{post.id}").text)
    assert client.post(f"/posts/{post.id}/follow", data={"csrf_token": token}).status_code == 403
    answer = client.post(f"/posts/{post.id}/interest", data={"csrf_token": token, "message": "x"})
    assert answer.status_code == 403


def test_closed_post_is_404_for_others_and_draft_cannot_post(client, session, world, make_org):
    ana, ben, _cleo, _volta, _nord, post = world
    close_post(session, actor=ana, post=post)
    assert client.get(f"/posts/{post.id}").status_code == 404
    log_in(client, ben)
    token = csrf_of(client.get("/posts").text)  # the log-out form
    assert client.post(f"/posts/{post.id}/follow", data={"csrf_token": token}).status_code == 404
    draft = make_org(ben, status="draft", name="Draft Co")
    assert client.get(f"/organisations/{draft.id}/posts/new").status_code == 400
    assert client.get("/posts/99999999").status_code == 404
    assert client.get("/posts/abc").status_code == 404


def test_forms_need_the_csrf_token(client, session, world):
    cleo, post = world[2], world[5]
    log_in(client, cleo)
    for path in ("follow", "interest", "close"):
        response = client.post(f"/posts/{post.id}/{path}", data={"message": "hi"})
        assert response.status_code == 403
        assert "security token" in response.text
    assert session.scalars(select(PostFollow)).all() == []
