"""Request and response bodies of the JSON API (pydantic), separate from the ORM models.

Naming follows the FastAPI template: ``XCreate`` and ``XUpdate`` for input, ``XPublic`` for
output, ``XsPublic {data, count}`` for lists. Input models forbid unknown fields. The domain
checks lengths and formats (and answers with field messages); these models check types, and
refuse text that no database stores (NUL characters, lone surrogates), so such input is a 422
rather than a server error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from clusteratlas.collaboration.models import OrganisationStatus, OrganisationType

__all__ = [
    "EmailConfirm",
    "ErrorPublic",
    "OrganisationCreate",
    "OrganisationPublic",
    "OrganisationUpdate",
    "OrganisationsPublic",
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


class OrganisationCreate(_Input):
    type: OrganisationType
    name: Line
    country: Line = Field(description="ISO 3166-1 alpha-2 code, e.g. DE")
    acronym: Line | None = None
    region_code: Line | None = Field(default=None, description="NUTS or another region code")
    city: Line | None = None
    website: Line | None = None
    description: Text | None = None


class OrganisationUpdate(_Input):
    """The fields to change; fields left out keep their value."""

    type: OrganisationType | None = None
    name: Line | None = None
    country: Line | None = None
    acronym: Line | None = None
    region_code: Line | None = None
    city: Line | None = None
    website: Line | None = None
    description: Text | None = None


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
    status: OrganisationStatus
    return_reason: str | None
    created_at: datetime
    updated_at: datetime


class OrganisationsPublic(BaseModel):
    data: list[OrganisationPublic]
    count: int = Field(description="how many organisations match in all pages")


class SendBack(_Input):
    reason: Text
