"""On the day and after: check-in, held or absent, standby, outcomes, the organiser's dashboard (issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["events"])
