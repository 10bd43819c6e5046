"""The JSON API under ``/api/``: schemas, dependencies, error handlers and thin routes that
call the domain verbs and queries of :mod:`clusteratlas.collaboration`."""

from __future__ import annotations

from fastapi import APIRouter

from clusteratlas.web.api.auth import router as auth_router
from clusteratlas.web.api.event_day import router as event_day_router
from clusteratlas.web.api.events import router as events_router
from clusteratlas.web.api.export import router as export_router
from clusteratlas.web.api.me import router as me_router
from clusteratlas.web.api.meeting_requests import router as meeting_requests_router
from clusteratlas.web.api.observatory import router as observatory_router
from clusteratlas.web.api.organisations import router as organisations_router
from clusteratlas.web.api.posts import router as posts_router
from clusteratlas.web.api.schedules import router as schedules_router
from clusteratlas.web.api.search import router as search_router

__all__ = ["api_router"]

api_router = APIRouter(prefix="/api")
api_router.include_router(auth_router)
api_router.include_router(me_router)
api_router.include_router(organisations_router)
api_router.include_router(posts_router)
api_router.include_router(search_router)
api_router.include_router(export_router)
api_router.include_router(events_router)
api_router.include_router(meeting_requests_router)
api_router.include_router(schedules_router)
api_router.include_router(event_day_router)
api_router.include_router(observatory_router)
