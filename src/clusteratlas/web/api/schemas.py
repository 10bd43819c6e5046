"""Request and response bodies of the JSON API (pydantic), separate from the ORM models.

Naming follows the FastAPI template: ``XCreate`` and ``XUpdate`` for input, ``XPublic`` for
output, ``XsPublic {data, count}`` for lists. Input models forbid unknown fields. The domain
checks lengths and formats (and answers with field messages); these models check types, and
refuse text that no database stores (NUL characters, lone surrogates), so such input is a 422
rather than a server error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from clusteratlas.collaboration.models import (
    LinkKind,
    OrganisationStatus,
    OrganisationType,
    QualityLabel,
)

__all__ = [
    "ContactIn",
    "ContactPublic",
    "EmailConfirm",
    "ErrorPublic",
    "LinkCreate",
    "LinkPublic",
    "ManagerCreate",
    "ManagerPublic",
    "OrganisationCreate",
    "OrganisationPublic",
    "OrganisationUpdate",
    "OrganisationsPublic",
    "SectorPublic",
    "VersionPublic",
    "VersionsPublic",
    "RegistrationPublic",
    "SendBack",
    "TokenCreate",
    "TokenPublic",
    "UserPublic",
    "UserRegister",
    "ValidationErrorPublic",
]

#: generous bounds on request strings; the domain has the real (smaller) limits per field
MAX_TEXT = 20_000
MAX_LINE = 1_000


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


#: text that both SQLite and PostgreSQL can store
Text = Annotated[str, AfterValidator(_storable), Field(max_length=MAX_TEXT)]
Line = Annotated[str, AfterValidator(_storable), Field(max_length=MAX_LINE)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorPublic(BaseModel):
    """Any refused request: 401, 403, 404."""

    detail: str


class ValidationErrorPublic(BaseModel):
    """422: what is wrong with each field (body, query or path parameter), by name."""

    detail: str
    errors: dict[str, str]


class UserRegister(_Input):
    email: Line
    password: Annotated[str, Field(max_length=MAX_LINE)]


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    confirmed_at: datetime | None
    created_at: datetime


class RegistrationPublic(BaseModel):
    """The new account. ``confirmation_token`` is given only in development and test; in
    production it will be e-mailed."""

    user: UserPublic
    confirmation_token: str | None = None


class EmailConfirm(_Input):
    token: Line


class TokenCreate(_Input):
    email: Line
    password: Annotated[str, Field(max_length=MAX_LINE)]
    name: Line = "API token"


class TokenPublic(BaseModel):
    """A new bearer token: send ``Authorization: Bearer <token>``. It is shown only once."""

    token: str
    token_type: Literal["bearer"] = "bearer"
    id: int
    name: str
    created_at: datetime


#: request bounds of the list fields; the domain has the real limits (30 items, 10 contacts)
MAX_ITEMS = 100
Items = Annotated[list[Line], Field(max_length=MAX_ITEMS)]
Count = Annotated[int, Field(description="at least 0")]


class ContactIn(_Input):
    """A contact person; ``name`` is required, ``email`` is checked."""

    name: Line
    role: Line | None = None
    email: Line | None = None
    phone: Line | None = None


class _ProfileFields(_Input):
    """The optional profile fields, shared by create and update."""

    acronym: Line | None = None
    region_code: Line | None = Field(
        default=None,
        description="NUTS (its first two letters must be the country's; EL for Greece) or"
        " another region code",
    )
    city: Line | None = None
    website: Line | None = None
    description: Text | None = Field(
        default=None,
        description="text or simple HTML (p, br, strong, em, ul, ol, li, a href); shown"
        " sanitised, see description_html",
    )
    keywords: Items | None = Field(default=None, description="technologies and keywords")
    value_chains: Items | None = None
    emerging_industries: Items | None = None
    s3_priorities: Items | None = Field(default=None, description="smart-specialisation priorities")
    members_sme: Count | None = None
    members_large: Count | None = None
    members_research: Count | None = None
    members_university: Count | None = None
    members_other: Count | None = None
    staff_fte: float | None = Field(default=None, description="staff in full-time equivalents")
    year_founded: int | None = None
    quality_label: QualityLabel | None = None
    label_date: date | None = Field(default=None, description="required with a label")
    label_expiry: date | None = None
    contacts: Annotated[list[ContactIn], Field(max_length=MAX_ITEMS)] | None = Field(
        default=None, description="at most 10; shown to signed-in members only"
    )
    nace: Items | None = Field(
        default=None,
        description="NACE Rev. 2 codes: C27, 27, C27.1 or 27.11 (stored as C27.11)",
    )
    naics: Items | None = Field(default=None, description="NAICS 2022 codes, 2 to 6 digits")


class OrganisationCreate(_ProfileFields):
    type: OrganisationType
    name: Line
    country: Line = Field(description="ISO 3166-1 alpha-2 code, e.g. DE")


class OrganisationUpdate(_ProfileFields):
    """The fields to change; fields left out keep their value (``null`` clears a field)."""

    type: OrganisationType | None = None
    name: Line | None = None
    country: Line | None = None


class SectorPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    scheme: Literal["NACE", "NAICS"]
    code: str
    title: str


class ContactPublic(BaseModel):
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""


class LinkPublic(BaseModel):
    """``direction`` ``outgoing``: this organisation is ``kind`` the other one; ``incoming``:
    the other one is ``kind`` this one."""

    direction: Literal["outgoing", "incoming"]
    kind: LinkKind
    organisation_id: int
    name: str


class OrganisationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: OrganisationType
    name: str
    acronym: str | None
    country: str
    region_code: str | None
    city: str | None
    website: str | None
    description: str | None
    description_html: str = Field(default="", description="the description, sanitised HTML")
    status: OrganisationStatus
    return_reason: str | None
    keywords: list[str] = []
    value_chains: list[str] = []
    emerging_industries: list[str] = []
    s3_priorities: list[str] = []
    members_sme: int | None = None
    members_large: int | None = None
    members_research: int | None = None
    members_university: int | None = None
    members_other: int | None = None
    staff_fte: float | None = None
    year_founded: int | None = None
    quality_label: QualityLabel | None = None
    label_date: date | None = None
    label_expiry: date | None = None
    sectors: list[SectorPublic] = []
    contacts: list[ContactPublic] | None = Field(
        default=None, description="null unless you are a signed-in member"
    )
    links: list[LinkPublic] | None = Field(
        default=None, description="on a single profile only (null in lists)"
    )
    version: int = Field(default=0, description="the latest published version (0: never)")
    published_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class OrganisationsPublic(BaseModel):
    data: list[OrganisationPublic]
    count: int = Field(description="how many organisations match in all pages")


class VersionPublic(BaseModel):
    version: int
    at: datetime
    by: str | None = Field(description="the e-mail address of who published or edited it")
    changes: dict[str, list[Any]] = Field(
        description="field → [old, new] since the previous version (empty for version 1)"
    )


class VersionsPublic(BaseModel):
    data: list[VersionPublic]
    count: int


class LinkCreate(_Input):
    target_id: int = Field(ge=1, le=2**31 - 1, description="a published organisation")
    kind: LinkKind


class ManagerCreate(_Input):
    email: Line


class ManagerPublic(BaseModel):
    organisation_id: int
    user_id: int
    email: str


class SendBack(_Input):
    reason: Text
