"""``/api/export``: open data. Published profiles and the open posts of published
organisations, as CSV or JSON, for anyone (no token needed).

Only public fields are exported: never contacts, never drafts, submitted or returned profiles,
never links to such profiles. CSV is UTF-8 with a header row; lists are joined with ``"; "``
and a text cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is prefixed with an apostrophe. JSON is
``{"licence", "generated_at", "count", "data": [...]}``.

The rows are read in the route (the request's session closes when the route returns) and the
CSV text is streamed from them, a batch of rows at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from clusteratlas.collaboration.models import (
    LinkKind,
    Organisation,
    OrganisationLink,
    OrganisationSector,
    OrganisationStatus,
    OrganisationType,
    Post,
    PostCategory,
    PostKind,
    utcnow,
)
from clusteratlas.web.api.deps import SessionDep
from clusteratlas.web.api.errors import error_responses

__all__ = [
    "LICENCE",
    "ORGANISATION_COLUMNS",
    "POST_COLUMNS",
    "ExportLink",
    "ExportOrganisation",
    "ExportPost",
    "ExportSector",
    "OrganisationsExport",
    "PostsExport",
    "neutralise",
    "router",
]

router = APIRouter(prefix="/export", tags=["open data"])

#: the licence of the exported data
LICENCE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/): Cluster Atlas contributors"

#: characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: rows written per chunk of the streamed CSV
CHUNK_ROWS = 500


class ExportSector(BaseModel):
    scheme: str
    code: str
    title: str


class ExportLink(BaseModel):
    """This organisation is ``kind`` (member of / partner of) the published ``target_id``."""

    kind: LinkKind
    target_id: int
    target_name: str


class ExportOrganisation(BaseModel):
    """The public fields of a published profile (contacts are never exported)."""

    id: int
    name: str
    acronym: str | None
    type: OrganisationType
    country: str
    region_code: str | None
    city: str | None
    website: str | None
    description: str | None
    keywords: list[str]
    value_chains: list[str]
    emerging_industries: list[str]
    s3_priorities: list[str]
    sectors: list[ExportSector]
    members_sme: int | None
    members_large: int | None
    members_research: int | None
    members_university: int | None
    members_other: int | None
    staff_fte: float | None
    year_founded: int | None
    quality_label: str | None
    label_date: date | None
    label_expiry: date | None
    links: list[ExportLink]
    version: int
    published_at: datetime | None
    updated_at: datetime


class ExportPost(BaseModel):
    """An open offer or request of a published organisation (its author is not exported)."""

    id: int
    organisation_id: int
    organisation_name: str
    country: str
    kind: PostKind
    category: PostCategory
    title: str
    body: str
    keywords: list[str]
    created_at: datetime
    expires_at: datetime


class OrganisationsExport(BaseModel):
    licence: str
    generated_at: datetime
    count: int
    data: list[ExportOrganisation]


class PostsExport(BaseModel):
    licence: str
    generated_at: datetime
    count: int
    data: list[ExportPost]


#: CSV columns, in order (sectors and links are flattened to one text cell each)
ORGANISATION_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "acronym",
    "type",
    "country",
    "region_code",
    "city",
    "website",
    "description",
    "keywords",
    "value_chains",
    "emerging_industries",
    "s3_priorities",
    "sector_codes",
    "sector_titles",
    "members_sme",
    "members_large",
    "members_research",
    "members_university",
    "members_other",
    "staff_fte",
    "year_founded",
    "quality_label",
    "label_date",
    "label_expiry",
    "member_of",
    "partner_of",
    "version",
    "published_at",
    "updated_at",
)
POST_COLUMNS: tuple[str, ...] = tuple(ExportPost.model_fields)

Country = Annotated[
    str | None,
    Query(pattern=r"^[A-Za-z]{2}$", description="only this country (ISO 3166-1 alpha-2)"),
]
TypeFilter = Annotated[
    OrganisationType | None, Query(description="only organisations of this type")
]


def neutralise(value: str) -> str:
    """A text cell a spreadsheet shows as text: formula starts get a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return neutralise("; ".join(str(v) for v in value))
    return neutralise(str(getattr(value, "value", value)))


def _csv_stream(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for n, row in enumerate(rows, start=1):
        writer.writerow([_cell(row[column]) for column in columns])
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_response(
    columns: Sequence[str], rows: Iterable[dict[str, Any]], filename: str
) -> StreamingResponse:
    return StreamingResponse(
        _csv_stream(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


#: the exported columns of :class:`Organisation` (sectors and links come from their tables)
_ORGANISATION_FIELDS = tuple(
    name for name in ExportOrganisation.model_fields if name not in ("sectors", "links")
)


def published_organisations(
    session: Session,
    *,
    country: str | None,
    type: OrganisationType | None,  # noqa: A002
) -> list[ExportOrganisation]:
    """The published profiles (filtered), sorted by id, with their sectors and the links
    between published profiles. Plain column queries (no ORM objects): three queries for any
    number of profiles."""
    where = [Organisation.status == OrganisationStatus.published]
    if country is not None:
        where.append(Organisation.country == country.upper())
    if type is not None:
        where.append(Organisation.type == type)
    columns = [getattr(Organisation, name) for name in _ORGANISATION_FIELDS]
    rows = session.execute(select(*columns).where(*where).order_by(Organisation.id)).all()
    if not rows:
        return []
    sectors: dict[int, list[ExportSector]] = {}
    for organisation_id, scheme, code, title in session.execute(
        select(
            OrganisationSector.organisation_id,
            OrganisationSector.scheme,
            OrganisationSector.code,
            OrganisationSector.title,
        )
        .join(Organisation, Organisation.id == OrganisationSector.organisation_id)
        .where(*where)
        .order_by(
            OrganisationSector.organisation_id, OrganisationSector.scheme, OrganisationSector.code
        )
    ):
        sectors.setdefault(organisation_id, []).append(
            ExportSector.model_construct(scheme=scheme, code=code, title=title)
        )
    links: dict[int, list[ExportLink]] = {}
    target = aliased(Organisation)
    for source_id, kind, target_id, target_name in session.execute(
        select(OrganisationLink.source_id, OrganisationLink.kind, target.id, target.name)
        .join(Organisation, Organisation.id == OrganisationLink.source_id)
        .join(target, target.id == OrganisationLink.target_id)
        .where(*where, target.status == OrganisationStatus.published)
        .order_by(OrganisationLink.source_id, OrganisationLink.kind, target.id)
    ):
        links.setdefault(source_id, []).append(
            ExportLink.model_construct(kind=kind, target_id=target_id, target_name=target_name)
        )
    result = []
    for row in rows:
        values = row._asdict()
        for name in ("keywords", "value_chains", "emerging_industries", "s3_priorities"):
            values[name] = list(values[name] or [])
        label = values["quality_label"]
        values["quality_label"] = label.value if label is not None else None
        values["sectors"] = sectors.get(values["id"], [])
        values["links"] = links.get(values["id"], [])
        result.append(ExportOrganisation.model_construct(**values))
    return result


def open_posts(
    session: Session,
    *,
    country: str | None,
    type: OrganisationType | None,  # noqa: A002
    kind: PostKind | None,
    category: PostCategory | None,
) -> list[ExportPost]:
    """Open posts (not closed, not expired) of published organisations, sorted by id."""
    now = utcnow()
    query = (
        select(
            Post.id,
            Post.organisation_id,
            Organisation.name.label("organisation_name"),
            Organisation.country,
            Post.kind,
            Post.category,
            Post.title,
            Post.body,
            Post.keywords,
            Post.created_at,
            Post.expires_at,
        )
        .join(Organisation, Organisation.id == Post.organisation_id)
        .where(
            Organisation.status == OrganisationStatus.published,
            Post.closed_at.is_(None),
            Post.expires_at > now,
        )
        .order_by(Post.id)
    )
    if country is not None:
        query = query.where(Organisation.country == country.upper())
    if type is not None:
        query = query.where(Organisation.type == type)
    if kind is not None:
        query = query.where(Post.kind == kind)
    if category is not None:
        query = query.where(Post.category == category)
    result = []
    for row in session.execute(query):
        values = row._asdict()
        values["keywords"] = list(values["keywords"] or [])
        result.append(ExportPost.model_construct(**values))
    return result


def _organisation_row(o: ExportOrganisation) -> dict[str, Any]:
    row = o.model_dump(exclude={"sectors", "links"})
    row["sector_codes"] = [f"{s.scheme} {s.code}" for s in o.sectors]
    row["sector_titles"] = [s.title for s in o.sectors]
    row["member_of"] = [
        f"{link.target_id} {link.target_name}" for link in o.links if link.kind == "member_of"
    ]
    row["partner_of"] = [
        f"{link.target_id} {link.target_name}" for link in o.links if link.kind == "partner_of"
    ]
    return row


_CSV_ORGANISATIONS = {
    200: {
        "description": "One row per published profile; lists joined with `; `, sectors as "
        "`SCHEME CODE`, links as `ID NAME`",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
_CSV_POSTS = {
    200: {
        "description": "One row per open post; keywords joined with `; `",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/organisations.csv",
    response_class=StreamingResponse,
    responses=_CSV_ORGANISATIONS | error_responses(),
    summary="Published profiles as CSV",
)
def organisations_csv(
    session: SessionDep,
    country: Country = None,
    type: TypeFilter = None,  # noqa: A002
) -> StreamingResponse:
    """Every published profile (optionally of one country or type) as UTF-8 CSV with a header
    row. Contacts are never exported."""
    rows = [
        _organisation_row(o) for o in published_organisations(session, country=country, type=type)
    ]
    return _csv_response(ORGANISATION_COLUMNS, rows, "organisations.csv")


@router.get(
    "/organisations.json",
    responses=error_responses(),
    summary="Published profiles as JSON",
)
def organisations_json(
    session: SessionDep,
    country: Country = None,
    type: TypeFilter = None,  # noqa: A002
) -> OrganisationsExport:
    """Every published profile (optionally of one country or type), with the licence of the
    data and when it was generated. Contacts are never exported."""
    data = published_organisations(session, country=country, type=type)
    return OrganisationsExport(licence=LICENCE, generated_at=utcnow(), count=len(data), data=data)


@router.get(
    "/posts.csv",
    response_class=StreamingResponse,
    responses=_CSV_POSTS | error_responses(),
    summary="Open posts as CSV",
)
def posts_csv(
    session: SessionDep,
    country: Country = None,
    type: TypeFilter = None,  # noqa: A002
    kind: Annotated[PostKind | None, Query(description="offers or requests only")] = None,
    category: Annotated[PostCategory | None, Query()] = None,
) -> StreamingResponse:
    """Open offers and requests (not closed, not expired) of published organisations."""
    rows = [
        p.model_dump()
        for p in open_posts(session, country=country, type=type, kind=kind, category=category)
    ]
    return _csv_response(POST_COLUMNS, rows, "posts.csv")


@router.get("/posts.json", responses=error_responses(), summary="Open posts as JSON")
def posts_json(
    session: SessionDep,
    country: Country = None,
    type: TypeFilter = None,  # noqa: A002
    kind: Annotated[PostKind | None, Query(description="offers or requests only")] = None,
    category: Annotated[PostCategory | None, Query()] = None,
) -> PostsExport:
    """Open offers and requests (not closed, not expired) of published organisations, with
    the licence of the data and when it was generated."""
    data = open_posts(session, country=country, type=type, kind=kind, category=category)
    return PostsExport(licence=LICENCE, generated_at=utcnow(), count=len(data), data=data)
