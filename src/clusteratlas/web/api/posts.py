"""JSON API: issue 5 posts — cooperation offers and requests (being written)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/posts", tags=["posts"])
