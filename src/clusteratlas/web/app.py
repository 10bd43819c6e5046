"""The application factory: ``create_app(settings)`` builds a FastAPI app with its own engine.

Nothing exists at import time. The engine and the session factory are built from the settings
when the app is created (``make_engine`` does not connect) and the engine is disposed when the
app shuts down (lifespan). Every response carries security headers; the OpenAPI document is at
``/openapi.json``. The interactive documentation pages of FastAPI are switched off: they load
scripts from a CDN, which the Content-Security-Policy forbids.

The server-rendered pages (``pages/``, Jinja2 templates in ``templates/``) share the app with
the JSON API. Static files are served under ``/static/`` (``vendor/htmx.min.js`` is copied
from npm by ``make static``). A signed session cookie carries the pages' sign-in and CSRF
token; the API ignores it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import orjson
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clusteratlas import __version__
from clusteratlas.collaboration import search_index
from clusteratlas.collaboration.db import engine_from_settings, session_factory
from clusteratlas.collaboration.settings import Settings, get_settings
from clusteratlas.sources.store import ObservatoryStore
from clusteratlas.web.api import api_router
from clusteratlas.web.api.errors import install_error_handlers
from clusteratlas.web.cache import PageCacheMiddleware, watch_writes
from clusteratlas.web.pages import pages_router
from clusteratlas.web.pages.errors import install_page_error_handlers
from clusteratlas.web.pages.sessions import SessionCookieMiddleware

__all__ = [
    "SECURITY_HEADERS",
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "SecurityHeadersMiddleware",
    "create_app",
]

#: our CSS (committed) and ``vendor/`` (htmx, copied from npm by ``make static``)
STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response (a header the route set wins)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self._headers if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _json_for_templates(value: Any) -> str:
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_SORT_KEYS
    return orjson.dumps(value, option=options).decode()


def _warm_search_index(sessions: sessionmaker[Session]) -> None:
    try:
        with sessions() as session:
            search_index.current_index(session)
    except SQLAlchemyError:  # not migrated yet: the first search after the upgrade builds it
        return


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web application for ``settings`` (default: :func:`get_settings`, the environment)."""
    settings = settings if settings is not None else get_settings()
    engine = engine_from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # the organisation search index, built now rather than by the first visitor's search
        await anyio.to_thread.run_sync(_warm_search_index, app.state.sessions)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Cluster Atlas",
        version=__version__,
        summary="Collaboration platform of Cluster Atlas: accounts and organisation profiles.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.observatory = ObservatoryStore.from_settings(settings)
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # outside development templates do not change: no file check on every render
        auto_reload=settings.environment == "development",
    )
    # `tojson` (chart and map data in pages) through orjson, which wrote 1,000 table rows ~30×
    # faster than json.dumps here, and writes NaN as null (json.dumps writes invalid NaN);
    # Jinja still escapes <, >, & and ' in the result
    environment.policies["json.dumps_function"] = _json_for_templates
    environment.policies["json.dumps_kwargs"] = {}
    app.state.templates = Jinja2Templates(env=environment)
    install_error_handlers(app)
    install_page_error_handlers(app)
    app.include_router(api_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SessionCookieMiddleware, secret_key=settings.secret_key.get_secret_value())
    watch_writes()
    app.add_middleware(PageCacheMiddleware, ttl=settings.page_cache_seconds)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
