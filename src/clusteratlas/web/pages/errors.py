"""Errors on pages are HTML pages, on the API JSON (as before).

:func:`install_page_error_handlers` wraps the handlers the API installed: a request under
``/api/`` (or for ``/openapi.json``) still gets the JSON answer; any other path gets
``error.html`` with the same status, or a redirect to the log-in page for a visitor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from clusteratlas.collaboration import PermissionDenied, ValidationError
from clusteratlas.collaboration.accounts import InvalidToken
from clusteratlas.web.api.errors import CONFLICT_MESSAGE, is_conflict
from clusteratlas.web.pages.deps import CsrfFailed, LoginRequired, login_redirect, render

__all__ = ["error_page", "install_page_error_handlers", "is_api"]

Handler = Callable[[Request, Exception], Awaitable[Response]]

TITLES = {
    400: "This request cannot be handled",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    409: "Not saved",
    413: "Too large",
    415: "Not a form",
}
DEFAULTS = {
    404: "There is no page at this address.",
    405: "This page cannot be used that way.",
}
CSRF_MESSAGE = (
    "This form has expired or did not come from this site (its security token is missing or "
    "wrong). Go back, reload the page and send the form again."
)


def is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/") or path == "/openapi.json"


def error_page(request: Request, status_code: int, message: str) -> Response:
    return render(
        request,
        "error.html",
        user=getattr(request.state, "user", None),
        status_code=status_code,
        title=TITLES.get(status_code, "Something went wrong"),
        message=message,
        status=status_code,
    )


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail)
    if message == HTTPStatus(exc.status_code).phrase:  # Starlette's default detail
        message = DEFAULTS.get(exc.status_code, message)
    response = error_page(request, exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _request_validation(request: Request, _exc: Exception) -> Response:
    # only path and query parameters are validated by FastAPI on pages (forms are parsed by
    # the routes): a malformed id is an address that does not exist
    return error_page(request, status.HTTP_404_NOT_FOUND, "There is no page at this address.")


async def _permission_denied(request: Request, exc: Exception) -> Response:
    return error_page(request, status.HTTP_403_FORBIDDEN, str(exc) or "You may not do this.")


async def _domain_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    return error_page(request, status.HTTP_400_BAD_REQUEST, "; ".join(exc.errors.values()))


async def _invalid_token(request: Request, exc: Exception) -> Response:
    return error_page(request, status.HTTP_400_BAD_REQUEST, f"{exc}.")


async def _database_error(request: Request, exc: Exception) -> Response:
    if not is_conflict(exc):
        raise exc
    return error_page(request, status.HTTP_409_CONFLICT, CONFLICT_MESSAGE)


async def _login_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_redirect(exc.next_path), status.HTTP_303_SEE_OTHER)


async def _csrf_failed(request: Request, _exc: Exception) -> Response:
    return error_page(request, status.HTTP_403_FORBIDDEN, CSRF_MESSAGE)


def _either(api: Handler | None, page: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if api is not None and is_api(request):
            return await api(request, exc)
        return await page(request, exc)

    return handle


def install_page_error_handlers(app: FastAPI) -> None:
    """Call after the API's handlers are installed."""
    pages: dict[type[Exception], Handler] = {
        StarletteHTTPException: _http,
        RequestValidationError: _request_validation,
        PermissionDenied: _permission_denied,
        ValidationError: _domain_validation,
        InvalidToken: _invalid_token,
        DBAPIError: _database_error,
    }
    for kind, page in pages.items():
        api = app.exception_handlers.get(kind)
        app.add_exception_handler(kind, _either(api, page))  # type: ignore[arg-type]
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
