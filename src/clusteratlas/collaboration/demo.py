"""Demo data for the collaboration platform: clearly labelled, deterministic, idempotent.

:func:`seed_demo` adds about 40 organisations in 15 EU countries (NUTS-2 regions), of every
type, with sectors (NACE Rev. 2), keywords, members, quality labels, contacts and links, about
60 offers and requests whose keywords overlap (so search and recommendations have something to
show), some interest, follows and inbox notifications, and the users to sign in with: an
administrator, a moderator, managers and a plain member, all with one known password
(:data:`DEMO_PASSWORD`, for development only). Every name and description says "(demo)" and
every address ends in ``@demo.invalid`` (a domain that can never receive mail). The content
comes from a seeded random generator, so two runs give the same data; running it on a
database that already holds the demo data changes nothing.

:func:`seed_synthetic` bulk-inserts N synthetic organisations and M posts quickly (the
benchmark seeds 10,000 and 20,000).

Rows are inserted directly through the ORM (not through the domain verbs), in the caller's
transaction: the functions flush, the caller commits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from clusteratlas.collaboration import audit
from clusteratlas.collaboration.accounts import hash_password
from clusteratlas.collaboration.demo_events import seed_demo_event
from clusteratlas.collaboration.models import (
    LinkKind,
    Notification,
    Organisation,
    OrganisationLink,
    OrganisationManager,
    OrganisationSector,
    OrganisationStatus,
    OrganisationType,
    Post,
    PostCategory,
    PostFollow,
    PostInterest,
    PostKind,
    QualityLabel,
    User,
    utcnow,
)

__all__ = [
    "ADMIN_EMAIL",
    "DEMO_DOMAIN",
    "DEMO_PASSWORD",
    "MEMBER_EMAIL",
    "MODERATOR_EMAIL",
    "DemoSeed",
    "demo_present",
    "seed_demo",
    "seed_synthetic",
]

#: the one password of every demo account (development only: printed by the CLI)
DEMO_PASSWORD = "demo-password-2024"
#: ``.invalid`` is reserved (RFC 2606): these addresses can never receive mail
DEMO_DOMAIN = "demo.invalid"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
MODERATOR_EMAIL = f"moderator@{DEMO_DOMAIN}"
MEMBER_EMAIL = f"member@{DEMO_DOMAIN}"
MANAGERS = 8


@dataclass(frozen=True)
class DemoSeed:
    """What :func:`seed_demo` did: the counts it added (zero when ``skipped``) and the
    log-ins (e-mail, role) with :data:`DEMO_PASSWORD`."""

    skipped: bool
    users: int = 0
    organisations: int = 0
    posts: int = 0
    links: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    password: str = DEMO_PASSWORD


#: (country, NUTS-2 region, city)
PLACES: tuple[tuple[str, str, str], ...] = (
    ("DE", "DE11", "Stuttgart"),
    ("DE", "DE21", "Munich"),
    ("DE", "DEA2", "Cologne"),
    ("FR", "FRK2", "Lyon"),
    ("FR", "FRJ2", "Toulouse"),
    ("IT", "ITC4", "Milan"),
    ("IT", "ITH5", "Bologna"),
    ("ES", "ES51", "Barcelona"),
    ("ES", "ES21", "Bilbao"),
    ("NL", "NL41", "Eindhoven"),
    ("PL", "PL21", "Kraków"),
    ("SE", "SE23", "Gothenburg"),
    ("AT", "AT22", "Graz"),
    ("BE", "BE23", "Ghent"),
    ("FI", "FI1B", "Helsinki"),
    ("DK", "DK01", "Copenhagen"),
    ("CZ", "CZ01", "Prague"),
    ("PT", "PT11", "Porto"),
    ("EL", "EL30", "Athens"),
    ("IE", "IE06", "Dublin"),
)


@dataclass(frozen=True)
class _Theme:
    short: str
    field: str
    keywords: tuple[str, ...]
    sectors: tuple[tuple[str, str], ...]  # NACE code, title
    value_chain: str
    emerging: str
    s3: str


THEMES: tuple[_Theme, ...] = (
    _Theme(
        "Battery",
        "battery technologies",
        ("battery", "battery recycling", "electric vehicles", "lithium-ion", "circular economy"),
        (
            ("C27", "Manufacture of electrical equipment"),
            ("C27.2", "Manufacture of batteries and accumulators"),
            ("C29", "Manufacture of motor vehicles, trailers and semi-trailers"),
        ),
        "Mobility-Transport-Automotive",
        "Mobility technologies",
        "Clean energy and e-mobility",
    ),
    _Theme(
        "Hydrogen",
        "hydrogen and energy systems",
        ("hydrogen", "electrolysers", "fuel cells", "renewable energy", "energy storage"),
        (
            ("D35", "Electricity, gas, steam and air conditioning supply"),
            ("C28", "Manufacture of machinery and equipment n.e.c."),
        ),
        "Energy-Renewables",
        "Environmental industries",
        "Clean energy and e-mobility",
    ),
    _Theme(
        "Digital",
        "artificial intelligence and data",
        (
            "artificial intelligence",
            "machine learning",
            "data analytics",
            "cybersecurity",
            "industry 4.0",
        ),
        (
            ("J62", "Computer programming, consultancy and related activities"),
            ("J63", "Information service activities"),
        ),
        "Digital",
        "Digital industries",
        "Digital transformation",
    ),
    _Theme(
        "Health",
        "life sciences",
        (
            "biotechnology",
            "medical devices",
            "diagnostics",
            "digital health",
            "machine learning",
        ),
        (
            ("C21", "Manufacture of basic pharmaceutical products and pharmaceutical preparations"),
            ("C32.5", "Manufacture of medical and dental instruments and supplies"),
            ("M72", "Scientific research and development"),
        ),
        "Health",
        "Biopharmaceuticals",
        "Health and life sciences",
    ),
    _Theme(
        "Agrifood",
        "food and agriculture",
        (
            "food processing",
            "precision agriculture",
            "alternative proteins",
            "sustainable packaging",
            "circular economy",
        ),
        (
            ("C10", "Manufacture of food products"),
            ("A01", "Crop and animal production, hunting and related service activities"),
        ),
        "Agri-food",
        "Advanced packaging",
        "Sustainable food systems",
    ),
    _Theme(
        "Materials",
        "advanced materials",
        (
            "advanced materials",
            "composites",
            "recycled textiles",
            "3D printing",
            "circular economy",
        ),
        (
            ("C13", "Manufacture of textiles"),
            ("C22", "Manufacture of rubber and plastic products"),
        ),
        "Textile",
        "Creative industries",
        "Advanced manufacturing",
    ),
    _Theme(
        "Aerospace",
        "aerospace and space data",
        ("aerospace", "drones", "composites", "satellite data", "industry 4.0"),
        (
            ("C30.3", "Manufacture of air and spacecraft and related machinery"),
            ("H52", "Warehousing and support activities for transportation"),
        ),
        "Aerospace & Defence",
        "Logistical services",
        "Advanced manufacturing",
    ),
)

#: organisation types of the 40 demo organisations, in order
_TYPES: tuple[OrganisationType, ...] = (
    (OrganisationType.cluster_organisation,) * 12
    + (OrganisationType.company,) * 14
    + (OrganisationType.research_organisation,) * 5
    + (OrganisationType.university,) * 4
    + (OrganisationType.public_authority,) * 3
    + (OrganisationType.investor,) * 1
    + (OrganisationType.other,) * 1
)
_COMPANY_STEMS = ("Volta", "Nordi", "Aero", "Vita", "Agri", "Fibra", "Helio", "Quanta", "Terra")
_COMPANY_ENDS = ("tec", "lytics", "works", "gen", "nova", "matics", "labs")
_LEGAL = {"DE": "GmbH", "AT": "GmbH", "FR": "SAS", "IT": "S.r.l.", "ES": "S.L.", "NL": "B.V."}
_FIRST = ("Anna", "Luca", "Marie", "Jonas", "Sofia", "Pavel", "Elena", "Mikkel", "Inês", "Niamh")
_LAST = ("Keller", "Moreau", "Rossi", "García", "de Vries", "Nowak", "Lindqvist", "Papadopoulou")
#: (kind, category, title template, body template): {field} and {keyword} are filled in
_POST_TEMPLATES: tuple[tuple[PostKind, PostCategory, str, str], ...] = (
    (
        PostKind.offer,
        PostCategory.technology,
        "Pilot line for {keyword} available (demo)",
        "We offer access to our pilot line and engineering team in {field}, for SMEs that "
        "want to test {keyword} at scale. Demo post.",
    ),
    (
        PostKind.request,
        PostCategory.research_partner,
        "Looking for a research partner in {keyword} (demo)",
        "We look for a research organisation or university with experience in {keyword} "
        "for a joint project in {field}. Demo post.",
    ),
    (
        PostKind.request,
        PostCategory.funding_consortium,
        "Horizon Europe consortium on {keyword} (demo)",
        "We are building a consortium on {keyword} and {field} and need two industrial "
        "partners and one end user. Demo post.",
    ),
    (
        PostKind.offer,
        PostCategory.business,
        "Distribution partner for {keyword} products (demo)",
        "We offer distribution and market access for {keyword} products in our region. Demo post.",
    ),
    (
        PostKind.request,
        PostCategory.technology,
        "Supplier wanted: {keyword} (demo)",
        "We need a supplier of {keyword} components or services for our {field} "
        "production. Demo post.",
    ),
    (
        PostKind.offer,
        PostCategory.event,
        "Matchmaking day on {keyword} (demo)",
        "Join our matchmaking day on {keyword}: short pitches and one-to-one meetings on "
        "{field}. Demo post.",
    ),
)
_RETURN_REASON = "Please add at least one sector and a description of your activities (demo)."


def demo_present(session: Session) -> bool:
    """Whether the demo data are already in the database (its administrator exists)."""
    found = session.scalar(select(User.id).where(func.lower(User.email) == ADMIN_EMAIL))
    return found is not None


def _name(kind: OrganisationType, theme: _Theme, city: str, country: str, n: int) -> str:
    if kind is OrganisationType.cluster_organisation:
        return f"{city} {theme.short} Cluster (demo)"
    if kind is OrganisationType.company:
        stem = _COMPANY_STEMS[n % len(_COMPANY_STEMS)] + _COMPANY_ENDS[n % len(_COMPANY_ENDS)]
        return f"{stem} {_LEGAL.get(country, 'Ltd')} (demo)"
    if kind is OrganisationType.research_organisation:
        return f"{city} Institute for {theme.field.capitalize()} (demo)"
    if kind is OrganisationType.university:
        return f"University of {city}, {theme.short} Lab (demo)"
    if kind is OrganisationType.public_authority:
        return f"{city} Regional Innovation Agency (demo)"
    if kind is OrganisationType.investor:
        return f"{theme.short} Ventures {city} (demo)"
    return f"{city} {theme.short} Network (demo)"


def _description(kind: OrganisationType, theme: _Theme, city: str) -> str:
    return (
        f"A demo {kind.label} in {city} working on {theme.field}: "
        f"{', '.join(theme.keywords[:3])}. This profile is demonstration data, not a real "
        "organisation."
    )


def _contact(rng: random.Random, n: int) -> dict[str, Any]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = f"{first}.{last}".lower().replace(" ", "").replace("ê", "e").replace("í", "i")
    local = local.replace("ç", "c").replace("ö", "o").replace("ä", "a")
    return {
        "name": f"{first} {last}",
        "role": rng.choice(("Cluster manager", "Innovation manager", "Project officer")),
        "email": f"{local}.{n}@{DEMO_DOMAIN}",
        "phone": f"+00 000 {n:04d}",
    }


def seed_demo(session: Session, *, seed: int = 2024) -> DemoSeed:
    """Add the demo data, or nothing if they are there already (``skipped``). Flushes; the
    caller commits."""
    if demo_present(session):
        return DemoSeed(skipped=True)
    rng = random.Random(seed)
    now = utcnow()
    today = now.date()
    password_hash = hash_password(DEMO_PASSWORD)

    def user(email: str, **roles: bool) -> User:
        row = User(email=email, password_hash=password_hash, confirmed_at=now, **roles)
        session.add(row)
        return row

    admin = user(ADMIN_EMAIL, is_admin=True)
    moderator = user(MODERATOR_EMAIL, is_moderator=True)
    managers = [user(f"manager{i}@{DEMO_DOMAIN}") for i in range(1, MANAGERS + 1)]
    member = user(MEMBER_EMAIL)
    session.flush()

    organisations: list[tuple[Organisation, _Theme]] = []
    statuses = {13: "submitted", 20: "submitted", 24: "draft", 29: "returned", 33: "returned"}
    for n, kind in enumerate(_TYPES):
        theme = THEMES[n % len(THEMES)]
        country, region, city = PLACES[(n * 7 + n // len(PLACES)) % len(PLACES)]
        status = OrganisationStatus(statuses.get(n, "published"))
        published = status is OrganisationStatus.published
        is_cluster = kind is OrganisationType.cluster_organisation
        keywords = sorted(rng.sample(theme.keywords, k=rng.randint(3, len(theme.keywords))))
        organisation = Organisation(
            type=kind,
            name=_name(kind, theme, city, country, n),
            acronym=f"{theme.short[:3].upper()}{n:02d}" if is_cluster else None,
            country=country,
            region_code=region,
            city=city,
            website=f"https://example.org/demo/{n}",
            description=_description(kind, theme, city),
            status=status,
            return_reason=_RETURN_REASON if status is OrganisationStatus.returned else None,
            keywords=keywords,
            value_chains=[theme.value_chain],
            emerging_industries=[theme.emerging],
            s3_priorities=[theme.s3],
            members_sme=rng.randint(20, 180) if is_cluster else None,
            members_large=rng.randint(2, 25) if is_cluster else None,
            members_research=rng.randint(1, 12) if is_cluster else None,
            members_university=rng.randint(1, 6) if is_cluster else None,
            members_other=rng.randint(0, 10) if is_cluster else None,
            staff_fte=float(rng.randint(2, 40)) / 2 if is_cluster else None,
            year_founded=rng.randint(1990, 2020),
            contacts=[_contact(rng, n)],
            version=1 if published else 0,
            published_at=now - timedelta(days=rng.randint(1, 400)) if published else None,
        )
        if is_cluster and n % 4 != 3:
            label = (QualityLabel.gold, QualityLabel.silver, QualityLabel.bronze)[n % 3]
            organisation.quality_label = label
            organisation.label_date = today - timedelta(days=rng.randint(30, 600))
            organisation.label_expiry = organisation.label_date + timedelta(days=730)
        organisation.sectors = [
            OrganisationSector(scheme="NACE", code=code, title=title)
            for code, title in theme.sectors
        ]
        organisation.managers = [OrganisationManager(user=managers[n % MANAGERS])]
        session.add(organisation)
        organisations.append((organisation, theme))
    session.flush()

    links = 0
    clusters = {
        id(o): o for o, _ in organisations if o.type is OrganisationType.cluster_organisation
    }
    by_theme: dict[str, list[Organisation]] = {}
    for o, theme in organisations:
        if id(o) in clusters:
            by_theme.setdefault(theme.short, []).append(o)
    for o, theme in organisations:
        same = by_theme.get(theme.short, [])
        if id(o) in clusters:
            targets = [(c, LinkKind.partner_of) for c in same if c is not o][:1]
        else:
            targets = [(c, LinkKind.member_of) for c in same[:1]]
        for target, kind in targets:
            session.add(OrganisationLink(source_id=o.id, target_id=target.id, kind=kind))
            links += 1

    published = [(o, t) for o, t in organisations if o.status is OrganisationStatus.published]
    posts = 0
    for n in range(60):
        organisation, theme = published[(n * 5) % len(published)]
        kind, category, title, body = _POST_TEMPLATES[n % len(_POST_TEMPLATES)]
        keyword = theme.keywords[(n // len(_POST_TEMPLATES)) % len(theme.keywords)]
        extra = rng.sample([k for k in theme.keywords if k != keyword], k=2)
        closed = n % 20 == 19  # three closed posts, so "open posts" filter something out
        session.add(
            Post(
                organisation_id=organisation.id,
                author_id=organisation.managers[0].user_id,
                kind=kind,
                category=category,
                title=title.format(keyword=keyword, field=theme.field),
                body=body.format(keyword=keyword, field=theme.field),
                keywords=[keyword, *extra],
                expires_at=now + timedelta(days=rng.randint(14, 180)),
                closed_at=now - timedelta(days=1) if closed else None,
                created_at=now - timedelta(days=rng.randint(0, 60), hours=n),
            )
        )
        posts += 1
    session.flush()
    _interest_and_follows(session, managers=managers, member=member, now=now)
    event = seed_demo_event(session, now=now)  # "Clusters meet Regions 2030"
    counts = {
        "users": 3 + MANAGERS + event.users,
        "organisations": len(organisations),
        "posts": posts,
        "links": links,
    }
    audit.record(
        session,
        actor=None,
        action="demo.seeded",
        entity_type="database",
        entity_id=0,
        changes=counts,
    )
    session.flush()
    logins = [
        (admin.email, "administrator"),
        (moderator.email, "moderator"),
        *((m.email, "organisation manager") for m in managers[:3]),
        (member.email, "member (manages nothing)"),
    ]
    return DemoSeed(skipped=False, logins=logins, **counts)


def _interest_and_follows(
    session: Session, *, managers: list[User], member: User, now: datetime
) -> None:
    """A little activity: managers express interest in the first open posts of others (the
    authors find it in their inbox) and the member follows three posts."""
    open_posts = session.scalars(
        select(Post).where(Post.closed_at.is_(None)).order_by(Post.id).limit(12)
    ).all()
    managed = {
        row.user_id: row.organisation_id
        for row in session.scalars(
            select(OrganisationManager).order_by(OrganisationManager.user_id)
        )
    }
    for n, post in enumerate(open_posts[:6]):
        who = managers[(n + 3) % MANAGERS]
        if who.id == post.author_id:
            continue
        session.add(
            PostInterest(
                post_id=post.id,
                user_id=who.id,
                organisation_id=managed.get(who.id),
                message=f"We would like to talk about this (demo message {n + 1}).",
                created_at=now - timedelta(hours=n + 1),
            )
        )
        if post.author_id is not None:
            session.add(
                Notification(
                    user_id=post.author_id,
                    subject=f"New interest in your post: {post.title}",
                    body=f"{who.email} is interested in your post (demo notification).",
                    link=f"/posts/{post.id}",
                    created_at=now - timedelta(hours=n + 1),
                )
            )
    for post in open_posts[6:9]:
        session.add(PostFollow(post_id=post.id, user_id=member.id, created_at=now))
    session.flush()


_VOCABULARY: tuple[str, ...] = tuple(
    sorted({keyword for theme in THEMES for keyword in theme.keywords})
)
_SECTORS: tuple[tuple[str, str], ...] = tuple(
    sorted({sector for theme in THEMES for sector in theme.sectors})
)


def seed_synthetic(
    session: Session, *, organisations: int, posts: int, seed: int = 0
) -> tuple[int, int]:
    """Bulk-insert ``organisations`` published synthetic profiles (each with one or two
    sectors) and ``posts`` open posts spread over them; returns the two counts. Names say
    "(synthetic demo)". Flushes; the caller commits."""
    if organisations < 0 or posts < 0:
        raise ValueError("the counts must not be negative")
    if posts and not organisations:
        raise ValueError("posts need at least one organisation")
    rng = random.Random(seed)
    now = utcnow()
    types = list(OrganisationType)
    rows: list[dict[str, Any]] = []
    for n in range(organisations):
        country, region, city = PLACES[rng.randrange(len(PLACES))]
        theme = THEMES[rng.randrange(len(THEMES))]
        keywords = rng.sample(_VOCABULARY, k=3) + [theme.keywords[n % len(theme.keywords)]]
        rows.append(
            {
                "type": types[rng.randrange(len(types))],
                "name": f"{city} {theme.short} organisation {n + 1} (synthetic demo)",
                "country": country,
                "region_code": region,
                "city": city,
                "description": f"Synthetic demo profile working on {theme.field}: "
                + ", ".join(keywords),
                "status": OrganisationStatus.published,
                "keywords": sorted(set(keywords)),
                "value_chains": [theme.value_chain],
                "emerging_industries": [theme.emerging],
                "s3_priorities": [theme.s3],
                "contacts": [],
                "version": 1,
                "published_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    ids: list[int] = []
    if rows:
        ids = list(
            session.scalars(
                insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True),
                rows,
            )
        )
        sectors = []
        for organisation_id in ids:
            for code, title in rng.sample(_SECTORS, k=rng.randint(1, 2)):
                sectors.append(
                    {
                        "organisation_id": organisation_id,
                        "scheme": "NACE",
                        "code": code,
                        "title": title,
                    }
                )
        session.execute(insert(OrganisationSector), sectors)
    post_rows: list[dict[str, Any]] = []
    kinds, categories = list(PostKind), list(PostCategory)
    for n in range(posts):
        keywords = rng.sample(_VOCABULARY, k=3)
        post_rows.append(
            {
                "organisation_id": ids[rng.randrange(len(ids))],
                "kind": kinds[n % 2],
                "category": categories[rng.randrange(len(categories))],
                "title": f"{keywords[0].capitalize()} {('offer', 'request')[n % 2]} {n + 1} "
                "(synthetic demo)",
                "body": "Synthetic demo post about " + ", ".join(keywords) + ".",
                "keywords": keywords,
                "expires_at": now + timedelta(days=rng.randint(7, 365)),
                "created_at": now - timedelta(minutes=n),
                "updated_at": now,
            }
        )
    if post_rows:
        session.execute(insert(Post), post_rows)
    session.flush()
    # fresh statistics after a bulk load: without them SQLite's planner scans by status (every
    # row matches) and sorting posts is twice as slow (measured in benchmarks/platform.py)
    session.execute(text("ANALYZE"))
    return len(rows), len(post_rows)
