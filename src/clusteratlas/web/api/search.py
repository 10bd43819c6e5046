"""JSON API: search, saved searches and recommendations (being written)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["search"])
