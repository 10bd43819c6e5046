"""Events: create, edit, publish, sessions and slots, registration, approval, availability, marketplace items (issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
