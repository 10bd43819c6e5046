"""JSON API: the signed-in user: notifications (being written)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/me", tags=["me"])
