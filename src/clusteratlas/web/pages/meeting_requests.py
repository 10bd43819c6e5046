"""Meeting requests at events: browse participants, request, accept, decline, cancel (issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
