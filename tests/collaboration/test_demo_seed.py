"""The demo seed on SQLite and PostgreSQL: labelled, varied, deterministic, idempotent; and the
fast synthetic bulk seed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from clusteratlas.collaboration.accounts import authenticate
from clusteratlas.collaboration.demo import (
    DEMO_PASSWORD,
    demo_present,
    seed_demo,
    seed_synthetic,
)
from clusteratlas.collaboration.models import (
    AuditLog,
    Notification,
    Organisation,
    OrganisationLink,
    OrganisationManager,
    OrganisationSector,
    OrganisationStatus,
    Post,
    PostFollow,
    PostInterest,
    User,
)

pytestmark = pytest.mark.integration


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_seed_demo_adds_labelled_varied_data(session):
    result = seed_demo(session)
    organisations = session.scalars(select(Organisation)).all()
    users = session.scalars(select(User)).all()
    posts = session.scalars(select(Post)).all()

    assert not result.skipped
    # 11 accounts of the platform and 16 attendees of the demo event (test_demo_events.py)
    assert (result.organisations, result.posts, result.users) == (40, 60, 27)
    assert (len(organisations), len(posts), len(users)) == (40, 60, 27)
    assert all(o.name.endswith("(demo)") and "demo" in o.description for o in organisations)
    assert all(u.email.endswith("@demo.invalid") and u.is_confirmed for u in users)
    assert all(c["email"].endswith("@demo.invalid") for o in organisations for c in o.contacts)
    assert all(p.title.endswith("(demo)") for p in posts)
    assert len({o.country for o in organisations}) >= 10
    assert len({o.region_code for o in organisations}) >= 15
    assert len({o.type for o in organisations}) == 7
    statuses = {s: sum(o.status == s for o in organisations) for s in OrganisationStatus}
    assert statuses[OrganisationStatus.published] == 35
    assert all(statuses[s] >= 1 for s in OrganisationStatus)
    assert all(o.return_reason for o in organisations if o.status == "returned")
    assert all(o.sectors and o.keywords for o in organisations)
    assert sum(o.quality_label is not None for o in organisations) >= 5
    assert sum(o.members_sme is not None for o in organisations) == 12
    assert _count(session, OrganisationLink) == result.links > 0
    assert _count(session, OrganisationManager) == 40 + 16  # the event's attendees too
    # offers and requests share keywords, so search and recommendations find matches
    offers = {k for p in posts if p.kind == "offer" for k in p.keywords}
    requests = {k for p in posts if p.kind == "request" for k in p.keywords}
    assert len(offers & requests) >= 10
    assert {p.kind for p in posts} == {"offer", "request"}
    assert sum(p.closed_at is None for p in posts) == 57
    published = {o.id for o in organisations if o.status == "published"}
    assert all(p.organisation_id in published for p in posts)
    assert session.scalar(select(func.count()).where(AuditLog.action == "demo.seeded")) == 1


def test_seed_demo_adds_some_activity(session):
    seed_demo(session)
    interests = session.scalars(select(PostInterest)).all()
    notifications = session.scalars(
        select(Notification).where(Notification.link.like("/posts/%"))
    ).all()  # the demo event's notifications are tested in test_demo_events.py
    follows = session.scalars(select(PostFollow)).all()
    posts = {p.id: p for p in session.scalars(select(Post))}
    member = session.scalars(select(User).where(User.email == "member@demo.invalid")).one()

    assert len(interests) >= 4
    assert all(i.user_id != posts[i.post_id].author_id for i in interests)
    assert all(posts[i.post_id].closed_at is None for i in interests)
    assert len(notifications) == len(interests)
    assert {n.user_id for n in notifications} == {posts[i.post_id].author_id for i in interests}
    assert all(n.link.startswith("/posts/") and n.read_at is None for n in notifications)
    assert [f.user_id for f in follows] == [member.id] * 3


def test_demo_roles_and_password(session):
    result = seed_demo(session)
    admin = authenticate(session, email="admin@demo.invalid", password=DEMO_PASSWORD)
    moderator = authenticate(session, email="moderator@demo.invalid", password=DEMO_PASSWORD)
    wrong = authenticate(session, email="admin@demo.invalid", password="not the password")

    assert admin is not None
    assert admin.is_admin
    assert moderator is not None
    assert (moderator.is_moderator, moderator.is_admin) == (True, False)
    assert wrong is None
    assert ("admin@demo.invalid", "administrator") in result.logins
    assert result.password == DEMO_PASSWORD


def test_seed_demo_is_idempotent(session):
    seed_demo(session)
    again = seed_demo(session)

    assert again.skipped
    assert (again.organisations, again.posts, again.users) == (0, 0, 0)
    assert _count(session, Organisation) == 40
    assert _count(session, User) == 27
    assert demo_present(session)


def _content(session):
    organisations = session.scalars(select(Organisation).order_by(Organisation.id)).all()
    posts = session.scalars(select(Post).order_by(Post.id)).all()
    return (
        [
            (o.name, o.type, o.country, o.region_code, o.keywords, o.members_sme, o.contacts)
            for o in organisations
        ],
        [(p.title, p.kind, p.category, p.keywords, p.closed_at is None) for p in posts],
    )


def test_seed_demo_is_deterministic(engine):
    """Two fresh seeds (each rolled back) give the same content."""
    from sqlalchemy.orm import Session

    contents = []
    for _ in range(2):
        with engine.connect() as connection:
            transaction = connection.begin()
            session = Session(bind=connection, join_transaction_mode="create_savepoint")
            seed_demo(session, seed=7)
            contents.append(_content(session))
            session.close()
            transaction.rollback()

    assert contents[0] == contents[1]
    assert len(contents[0][0]) == 40


def test_seed_synthetic_bulk(session):
    counts = seed_synthetic(session, organisations=300, posts=700, seed=3)

    assert counts == (300, 700)
    assert _count(session, Organisation) == 300
    assert _count(session, Post) == 700
    assert 300 <= _count(session, OrganisationSector) <= 600
    assert (
        session.scalar(
            select(func.count()).where(Organisation.status == OrganisationStatus.published)
        )
        == 300
    )
    names = session.scalars(select(Organisation.name)).all()
    assert all(name.endswith("(synthetic demo)") for name in names)
    # every post belongs to one of the new organisations
    orphans = session.scalar(
        select(func.count())
        .select_from(Post)
        .where(Post.organisation_id.not_in(select(Organisation.id)))
    )
    assert orphans == 0


@pytest.mark.parametrize(("organisations", "posts"), [(-1, 0), (0, 5)])
def test_seed_synthetic_refuses_bad_counts(session, organisations, posts):
    with pytest.raises(ValueError, match="count|organisation"):
        seed_synthetic(session, organisations=organisations, posts=posts)
