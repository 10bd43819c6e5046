"""The JSON API under ``/api/``: schemas, dependencies, error handlers and thin routes that
call the domain verbs and queries of :mod:`clusteratlas.collaboration`."""

from __future__ import annotations

from fastapi import APIRouter

from clusteratlas.web.api.auth import router as auth_router
from clusteratlas.web.api.export import router as export_router
from clusteratlas.web.api.me import router as me_router
from clusteratlas.web.api.organisations import router as organisations_router
from clusteratlas.web.api.posts import router as posts_router
from clusteratlas.web.api.search import router as search_router

__all__ = ["api_router"]

api_router = APIRouter(prefix="/api")
api_router.include_router(auth_router)
api_router.include_router(me_router)
api_router.include_router(organisations_router)
api_router.include_router(posts_router)
api_router.include_router(search_router)
api_router.include_router(export_router)
