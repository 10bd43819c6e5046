"""Collaboration platform: accounts, organisation profiles and their moderation (issue 5).

Layers inside this package (pretalx style): ``settings`` and ``db`` (configuration and
engines, nothing built at import), ``models`` (SQLAlchemy 2 tables, no logic), ``permissions``
(pure predicates), ``accounts`` and ``organisations`` (domain verbs taking the acting user
explicitly), ``audit`` (the audit-log writer) and ``migrations`` (Alembic).

The two errors below are what the domain raises on purpose; importing this package does not
import SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["PermissionDenied", "ValidationError"]


class PermissionDenied(Exception):  # noqa: N818 - the name used by Django, pretalx and Indico
    """The acting user may not do this."""


class ValidationError(ValueError):
    """Input that cannot be accepted, with one message per field (``errors``)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in self.errors.items()))
