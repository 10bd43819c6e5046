"""JSON errors: the domain's and pydantic's validation errors become 422 with one message per
field, :class:`PermissionDenied` a 403, an invalid e-mail token a 422 on ``token``, and a
change that collided with another one made at the same moment a 409 (:func:`is_conflict`:
a unique key taken meanwhile, SQLite's "database is locked" after the busy timeout, a
PostgreSQL serialization failure or deadlock); nothing of the request is kept.

Every error body has ``detail``; 422 bodies also have ``errors`` (field → message), whether the
field is in the body, the query or the path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.accounts import InvalidToken
from clusteratlas.web.api.schemas import ErrorPublic, ValidationErrorPublic

__all__ = [
    "CONFLICT_MESSAGE",
    "RESPONSES",
    "error_responses",
    "install_error_handlers",
    "is_conflict",
]

CONFLICT_MESSAGE = (
    "Someone else changed the same thing at the same moment, so nothing was saved. "
    "Reload and try again."
)
#: SQLSTATEs of PostgreSQL for a transaction that lost a race: serialization failure, deadlock
_RACES = {"40001", "40P01"}

RESPONSES: dict[int, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "Not signed in, or the token is not valid"},
    403: {"model": ErrorPublic, "description": "Signed in, but not allowed to do this"},
    404: {"model": ErrorPublic, "description": "No such organisation (or not visible to you)"},
    422: {"model": ValidationErrorPublic, "description": "Invalid input: a message per field"},
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route for these error statuses (422 is always included)."""
    return {code: RESPONSES[code] for code in sorted({*codes, 422})}


def _field(error: Mapping[str, Any]) -> str:
    location: Sequence[int | str] = error.get("loc", ())
    if error.get("type") == "json_invalid" or len(location) < 2:
        return str(location[0]) if location else "body"
    return ".".join(str(part) for part in location[1:])


def _invalid(errors: Mapping[str, str]) -> JSONResponse:
    body = ValidationErrorPublic(detail="invalid input", errors=dict(errors))
    return JSONResponse(body.model_dump(), status_code=422)


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: dict[str, str] = {}
    for error in exc.errors():
        errors.setdefault(_field(error), str(error.get("msg", "invalid value")))
    return _invalid(errors)


async def _domain_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    return _invalid(exc.errors)


async def _invalid_token(_request: Request, exc: Exception) -> JSONResponse:
    return _invalid({"token": str(exc)})


async def _permission_denied(_request: Request, exc: Exception) -> JSONResponse:
    body = ErrorPublic(detail=str(exc) or "you may not do this")
    return JSONResponse(body.model_dump(), status_code=status.HTTP_403_FORBIDDEN)


def is_conflict(exc: BaseException) -> bool:
    """Whether a database error means the request collided with another one (see above)."""
    if isinstance(exc, IntegrityError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return code in _RACES or "database is locked" in str(original).lower()


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    if not is_conflict(exc):
        raise exc  # a real server error: the server's error handling answers 500
    body = ErrorPublic(detail=CONFLICT_MESSAGE)
    return JSONResponse(body.model_dump(), status_code=status.HTTP_409_CONFLICT)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(ValidationError, _domain_validation)
    app.add_exception_handler(InvalidToken, _invalid_token)
    app.add_exception_handler(PermissionDenied, _permission_denied)
