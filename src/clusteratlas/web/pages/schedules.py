"""Schedules of events: run the scheduler, the organiser's grid, lock and move, publish, agendas and ICS (issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
