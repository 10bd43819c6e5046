"""The audit log writer used by every domain verb: who changed what, with the values."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from clusteratlas.collaboration.models import AuditLog, User

__all__ = ["record"]


def _json_safe(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    return value


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: int,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Add one audit row (``actor`` None: the system). Enums and datetimes in ``changes`` are
    stored as their values and ISO strings."""
    row = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=_json_safe(changes or {}),
    )
    session.add(row)
    return row
