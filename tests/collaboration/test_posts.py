"""Cooperation posts: verbs (permissions, lifecycle, fields, audit, notifications) and the
visibility-scoped reads, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.models import (
    AuditLog,
    Notification,
    Organisation,
    OrganisationManager,
    OrganisationStatus,
    OutboxEmail,
    PostFollow,
    utcnow,
)
from clusteratlas.collaboration.posts import (
    close_post,
    create_post,
    express_interest,
    follow,
    interests,
    is_open,
    list_posts,
    parse_keywords,
    unfollow,
    update_post,
    visible_post,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def make_org(session):
    """Factory: an organisation (published by default) managed by ``managers``, written
    directly (the profile lifecycle is tested elsewhere)."""

    def make(*managers, status="published", name="BioCluster Rhein", country="DE"):
        organisation = Organisation(
            type="company",
            name=name,
            country=country,
            status=OrganisationStatus(status),
            return_reason="add a website" if status == "returned" else None,
        )
        organisation.managers.extend(OrganisationManager(user_id=m.id) for m in managers)
        session.add(organisation)
        session.flush()
        return organisation

    return make


def _in(days: float) -> datetime:
    return utcnow() + timedelta(days=days)


@pytest.fixture
def make_post(session):
    def make(actor, organisation, **values):
        fields = {
            "kind": "offer",
            "category": "technology",
            "title": "Battery recycling pilot line",
            "body": "We offer access to our pilot line.",
            "keywords": ["batteries", "recycling"],
            "expires_at": _in(30),
        }
        return create_post(session, actor=actor, organisation=organisation, **(fields | values))

    return make


def _audit(session, post):
    rows = session.scalars(
        select(AuditLog)
        .where(AuditLog.entity_type == "post", AuditLog.entity_id == post.id)
        .order_by(AuditLog.id)
    )
    return [(row.action, row.actor_id) for row in rows]


def _inbox(session, user):
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)))


# ---- create ------------------------------------------------------------------------------


def test_manager_creates_post_with_audit(session, create_user, make_org, make_post):
    ana = create_user()
    organisation = make_org(ana)
    post = make_post(ana, organisation, keywords="Batteries, recycling\nbatteries,  ")
    assert post.id is not None
    assert post.author_id == ana.id
    assert post.keywords == ["Batteries", "recycling"]
    assert is_open(post)
    assert _audit(session, post) == [("post.created", ana.id)]


def test_administrator_may_post_for_any_organisation(create_user, make_org, make_post):
    organisation = make_org(create_user())
    post = make_post(create_user(admin=True), organisation)
    assert post.organisation_id == organisation.id


@pytest.mark.parametrize("kind", ["other", "unconfirmed", "moderator"])
def test_only_managers_post(create_user, make_org, make_post, kind):
    organisation = make_org(create_user())
    actor = {
        "other": lambda: create_user(),
        "unconfirmed": lambda: create_user(confirmed=False),
        "moderator": lambda: create_user(moderator=True),
    }[kind]()
    with pytest.raises(PermissionDenied):
        make_post(actor, organisation)


@pytest.mark.parametrize("status", ["draft", "submitted", "returned"])
def test_unpublished_organisation_cannot_post(create_user, make_org, make_post, status):
    ana = create_user()
    organisation = make_org(ana, status=status)
    with pytest.raises(ValidationError) as error:
        make_post(ana, organisation)
    assert "organisation_id" in error.value.errors


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": "x" * 10_001}, "body"),
        ({"kind": "gift"}, "kind"),
        ({"category": "sports"}, "category"),
        ({"keywords": [f"k{i}" for i in range(31)]}, "keywords"),
        ({"keywords": ["x" * 101]}, "keywords"),
        ({"keywords": [3]}, "keywords"),
        ({"expires_at": None}, "expires_at"),
        ({"expires_at": datetime(2030, 1, 1)}, "expires_at"),  # naive  # noqa: DTZ001
        ({"expires_at": _in(-1)}, "expires_at"),
        ({"expires_at": _in(367)}, "expires_at"),
    ],
)
def test_bad_fields_are_field_errors(create_user, make_org, make_post, values, field):
    ana = create_user()
    with pytest.raises(ValidationError) as error:
        make_post(ana, make_org(ana), **values)
    assert field in error.value.errors


def test_limits_are_inclusive(create_user, make_org, make_post):
    ana = create_user()
    post = make_post(
        ana,
        make_org(ana),
        title="x" * 200,
        body="y" * 10_000,
        keywords=[f"k{i}" for i in range(30)],
        expires_at=_in(365),
    )
    assert len(post.title) == 200
    assert len(post.keywords) == 30


def test_parse_keywords():
    assert parse_keywords(" a , b\nA,, c  d ") == ["a", "b", "c d"]
    assert parse_keywords(None) == []


# ---- update and close --------------------------------------------------------------------


def test_update_records_diff_and_tells_followers(session, create_user, make_org, make_post):
    ana, ben = create_user(), create_user()
    post = make_post(ana, make_org(ana))
    follow(session, actor=ben, post=post)
    update_post(session, actor=ana, post=post, title="New title", body=post.body)
    assert post.title == "New title"
    row = session.scalars(select(AuditLog).where(AuditLog.action == "post.updated")).one()
    assert row.changes == {"title": ["Battery recycling pilot line", "New title"]}
    [note] = _inbox(session, ben)
    assert note.subject == "Changed: New title"
    assert note.link == f"/posts/{post.id}"
    assert _inbox(session, ana) == []


def test_update_without_change_writes_nothing(session, create_user, make_org, make_post):
    ana = create_user()
    post = make_post(ana, make_org(ana))
    update_post(session, actor=ana, post=post, title=post.title)
    assert _audit(session, post) == [("post.created", ana.id)]


def test_update_checks_permission_fields_and_state(session, create_user, make_org, make_post):
    ana = create_user()
    post = make_post(ana, make_org(ana))
    with pytest.raises(PermissionDenied):
        update_post(session, actor=create_user(), post=post, title="Taken")
    with pytest.raises(ValidationError) as error:
        update_post(session, actor=ana, post=post, organisation_id=3)
    assert "organisation_id" in error.value.errors
    with pytest.raises(ValidationError) as error:
        update_post(session, actor=ana, post=post, expires_at=_in(400))
    assert "expires_at" in error.value.errors
    close_post(session, actor=ana, post=post)
    with pytest.raises(ValidationError) as error:
        update_post(session, actor=ana, post=post, title="Again")
    assert "status" in error.value.errors


def test_expired_post_can_be_given_a_new_expiry(session, create_user, make_org, make_post):
    ana = create_user()
    post = make_post(ana, make_org(ana))
    later = utcnow() + timedelta(days=40)
    assert not is_open(post, now=later)
    update_post(session, actor=ana, post=post, expires_at=later + timedelta(days=10), now=later)
    assert is_open(post, now=later)


def test_close_tells_followers_and_is_audited(session, create_user, make_org, make_post):
    ana, ben, cleo = create_user(), create_user(), create_user()
    post = make_post(ana, make_org(ana))
    follow(session, actor=ben, post=post)
    with pytest.raises(PermissionDenied):
        close_post(session, actor=cleo, post=post)
    close_post(session, actor=ana, post=post, base_url="https://atlas.example")
    assert not is_open(post)
    assert [n.subject for n in _inbox(session, ben)] == [f"Closed: {post.title}"]
    mail = session.scalars(select(OutboxEmail).where(OutboxEmail.to == ben.email)).one()
    assert f"https://atlas.example/posts/{post.id}" in mail.body
    assert _audit(session, post)[-1] == ("post.closed", ana.id)
    with pytest.raises(ValidationError):
        close_post(session, actor=ana, post=post)


# ---- follow and interest -----------------------------------------------------------------


def test_follow_and_unfollow(session, create_user, make_org, make_post):
    ana, ben = create_user(), create_user()
    post = make_post(ana, make_org(ana))
    assert follow(session, actor=ben, post=post) is True
    assert follow(session, actor=ben, post=post) is False
    assert session.get(PostFollow, (post.id, ben.id)) is not None
    assert unfollow(session, actor=ben, post=post) is True
    assert unfollow(session, actor=ben, post=post) is False
    assert session.get(PostFollow, (post.id, ben.id)) is None
    actions = [a for a, _ in _audit(session, post)]
    assert actions == ["post.created", "post.followed", "post.unfollowed"]


def test_own_organisation_cannot_follow_or_express_interest(
    session, create_user, make_org, make_post
):
    ana, unconfirmed = create_user(), create_user(confirmed=False)
    post = make_post(ana, make_org(ana))
    for actor in (ana, unconfirmed):
        with pytest.raises(PermissionDenied):
            follow(session, actor=actor, post=post)
        with pytest.raises(PermissionDenied):
            express_interest(session, actor=actor, post=post, message="hello")


def test_interest_notifies_every_manager(session, create_user, make_org, make_post):
    ana, bob, ben = create_user(), create_user(), create_user()
    post = make_post(ana, make_org(ana, bob))
    bens_org = make_org(ben, name="Ben's Batteries", country="FR")
    interest = express_interest(
        session, actor=ben, post=post, message="  We recycle cells.  ", base_url="http://x.test"
    )
    assert interest.message == "We recycle cells."
    assert interest.organisation_id == bens_org.id  # his published organisation by default
    for manager in (ana, bob):
        [note] = _inbox(session, manager)
        assert note.subject == f"Interest in your offer: {post.title}"
        assert ben.email in note.body
        assert "Ben's Batteries" in note.body
        mail = session.scalars(select(OutboxEmail).where(OutboxEmail.to == manager.email)).one()
        assert f"http://x.test/posts/{post.id}" in mail.body
    assert _audit(session, post)[-1] == ("post.interest_expressed", ben.id)
    [seen] = interests(session, actor=ana, post=post)
    assert seen.user.email == ben.email
    assert seen.organisation.name == "Ben's Batteries"


def test_interest_once_per_post_and_message_required(session, create_user, make_org, make_post):
    ana, ben = create_user(), create_user()
    post = make_post(ana, make_org(ana))
    with pytest.raises(ValidationError) as error:
        express_interest(session, actor=ben, post=post, message="   ")
    assert "message" in error.value.errors
    with pytest.raises(ValidationError) as error:
        express_interest(session, actor=ben, post=post, message="x" * 2001)
    assert "message" in error.value.errors
    express_interest(session, actor=ben, post=post, message="Count us in")
    with pytest.raises(ValidationError) as error:
        express_interest(session, actor=ben, post=post, message="Again")
    assert "already" in error.value.errors["message"]


def test_interest_on_behalf_of_an_organisation_one_manages_only(
    session, create_user, make_org, make_post
):
    ana, ben = create_user(), create_user()
    post = make_post(ana, make_org(ana))
    foreign = make_org(create_user(), name="Not Ben's")
    with pytest.raises(ValidationError) as error:
        express_interest(session, actor=ben, post=post, message="hi", organisation_id=foreign.id)
    assert "organisation_id" in error.value.errors
    interest = express_interest(session, actor=ben, post=post, message="hi")
    assert interest.organisation_id is None  # Ben manages no organisation


def test_no_interest_or_follow_on_closed_or_expired_posts(
    session, create_user, make_org, make_post
):
    ana, ben = create_user(), create_user()
    organisation = make_org(ana)
    closed = make_post(ana, organisation)
    close_post(session, actor=ana, post=closed)
    expiring = make_post(ana, organisation, expires_at=_in(1))
    later = utcnow() + timedelta(days=2)
    for post, now in ((closed, None), (expiring, later)):
        with pytest.raises(ValidationError) as error:
            express_interest(session, actor=ben, post=post, message="hi", now=now)
        assert "status" in error.value.errors
        with pytest.raises(ValidationError):
            follow(session, actor=ben, post=post, now=now)


def test_only_managers_see_interests(session, create_user, make_org, make_post):
    ana, ben = create_user(), create_user()
    post = make_post(ana, make_org(ana))
    express_interest(session, actor=ben, post=post, message="hi")
    assert len(interests(session, actor=create_user(admin=True), post=post)) == 1
    for viewer in (None, ben, create_user(moderator=True)):
        with pytest.raises(PermissionDenied):
            interests(session, actor=viewer, post=post)


# ---- reads -------------------------------------------------------------------------------


@pytest.fixture
def four_posts(session, create_user, make_org, make_post):
    """Ana's open request (DE), closed offer and expired-tomorrow offer; Ben's event (FR)."""
    ana, ben = create_user(), create_user()
    anas, bens = make_org(ana), make_org(ben, name="Ben", country="FR")
    open_request = make_post(ana, anas, kind="request", category="research_partner")
    closed = make_post(ana, anas)
    close_post(session, actor=ana, post=closed)
    expiring = make_post(ana, anas, expires_at=_in(1))
    event = make_post(ben, bens, category="event")
    return ana, ben, open_request, closed, expiring, event


def test_lists_open_posts_newest_first_with_filters(session, four_posts):
    ana, ben, open_request, _closed, expiring, event = four_posts
    rows, count = list_posts(session, viewer=None)
    assert [p.id for p in rows] == [event.id, expiring.id, open_request.id]
    assert count == 3
    assert list_posts(session, viewer=None, kind="request")[0] == [open_request]
    assert list_posts(session, viewer=None, category="event")[0] == [event]
    assert list_posts(session, viewer=None, country="fr")[0] == [event]
    by_org = list_posts(session, viewer=None, organisation_id=open_request.organisation_id)
    assert by_org[1] == 2
    page, total = list_posts(session, viewer=None, limit=1, offset=1)
    assert page == [expiring]
    assert total == 3
    later = utcnow() + timedelta(days=2)
    assert list_posts(session, viewer=None, now=later)[1] == 2  # expired drops out


def test_managers_also_list_their_closed_and_expired_posts(session, create_user, four_posts):
    ana, ben, open_request, closed, expiring, event = four_posts
    later = utcnow() + timedelta(days=2)
    mine = list_posts(session, viewer=ana, include_closed=True, now=later)[0]
    assert {p.id for p in mine} == {open_request.id, closed.id, expiring.id, event.id}
    theirs = list_posts(session, viewer=ben, include_closed=True, now=later)[0]
    assert {p.id for p in theirs} == {open_request.id, event.id}
    admin = create_user(admin=True)
    assert list_posts(session, viewer=admin, include_closed=True, now=later)[1] == 4
    assert list_posts(session, viewer=ana, now=later)[1] == 2  # not asked for


def test_visible_post(session, create_user, four_posts):
    ana, ben, open_request, closed, _expiring, _event = four_posts
    assert visible_post(session, viewer=None, post_id=open_request.id) is open_request
    assert visible_post(session, viewer=None, post_id=closed.id) is None
    assert visible_post(session, viewer=ben, post_id=closed.id) is None
    assert visible_post(session, viewer=ana, post_id=closed.id) is closed
    assert visible_post(session, viewer=create_user(admin=True), post_id=closed.id) is closed
    assert visible_post(session, viewer=ana, post_id=10**6) is None


def test_expiry_is_stored_in_utc(session, create_user, make_org, make_post):
    ana = create_user()
    local = datetime.now(UTC).astimezone().replace(microsecond=0) + timedelta(days=3)
    post = make_post(ana, make_org(ana), expires_at=local)
    session.expire(post)
    assert post.expires_at == local
    assert post.expires_at.tzinfo is not None
