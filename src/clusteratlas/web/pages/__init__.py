"""Server-rendered pages (Jinja2 templates in ``web/templates/``, htmx from ``/static/``).

Routes are thin: they call the domain verbs and queries of :mod:`clusteratlas.collaboration`
and render templates. Sessions and CSRF are in ``sessions.py``, the dependencies in
``deps.py``, the HTML error pages in ``errors.py``.
"""

from __future__ import annotations

from fastapi import APIRouter

from clusteratlas.web.pages.accounts import router as accounts_router
from clusteratlas.web.pages.event_day import router as event_day_router
from clusteratlas.web.pages.events import router as events_router
from clusteratlas.web.pages.inbox import router as inbox_router
from clusteratlas.web.pages.meeting_requests import router as meeting_requests_router
from clusteratlas.web.pages.moderation import router as moderation_router
from clusteratlas.web.pages.observatory import router as observatory_router
from clusteratlas.web.pages.organisations import router as organisations_router
from clusteratlas.web.pages.posts import router as posts_router
from clusteratlas.web.pages.schedules import router as schedules_router
from clusteratlas.web.pages.search import router as search_router

__all__ = ["pages_router"]

pages_router = APIRouter(include_in_schema=False)
pages_router.include_router(accounts_router)
pages_router.include_router(organisations_router)
pages_router.include_router(moderation_router)
pages_router.include_router(posts_router)
pages_router.include_router(search_router)
pages_router.include_router(inbox_router)
pages_router.include_router(events_router)
pages_router.include_router(meeting_requests_router)
pages_router.include_router(schedules_router)
pages_router.include_router(event_day_router)
pages_router.include_router(observatory_router)
