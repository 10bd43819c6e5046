"""JSON API: open data exports of public profiles (being written)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/export", tags=["open data"])
