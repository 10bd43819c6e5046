"""The JSON API under ``/api/``: schemas, dependencies, error handlers and thin routes that
call the domain verbs and queries of :mod:`clusteratlas.collaboration`."""

from __future__ import annotations

from fastapi import APIRouter

from clusteratlas.web.api.auth import router as auth_router
from clusteratlas.web.api.organisations import router as organisations_router

__all__ = ["api_router"]

api_router = APIRouter(prefix="/api")
api_router.include_router(auth_router)
api_router.include_router(organisations_router)
