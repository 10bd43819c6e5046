"""A short-lived cache of the public pages and JSON that visitors read most: search, the
directory, profiles and posts.

Only anonymous ``GET`` requests are cached (no ``Cookie`` and no ``Authorization`` header), and
only complete ``200`` answers that set no cookie, so nothing personal is ever stored or
replayed. An entry lives :attr:`~clusteratlas.collaboration.settings.Settings.page_cache_seconds`
seconds at most, and every entry of this process is dropped as soon as a session of this
process commits a change to organisations, their sectors, links or managers, or posts (a
SQLAlchemy event, :func:`watch_writes`). Other worker processes keep serving their entries until
they expire: a visitor may see a change up to that many seconds late. ``0`` switches the cache
off. Answers carry ``X-Cache: hit`` or ``miss``.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CACHEABLE", "PageCacheMiddleware", "data_version", "watch_writes"]

#: the paths whose anonymous GET answers are cached
CACHEABLE = re.compile(
    r"^/(?:search|organisations(?:/\d+)?|posts(?:/\d+)?"
    r"|api/search/(?:organisations|posts)|api/organisations(?:/\d+)?|api/posts(?:/\d+)?)$"
)
#: the tables whose changes make cached answers stale
WATCHED = frozenset(
    {
        "organisations",
        "organisation_sectors",
        "organisation_links",
        "organisation_managers",
        "organisation_versions",
        "posts",
    }
)
MAX_BODY = 1 << 20  # larger answers are not kept

_version = 0
_version_lock = threading.Lock()


def data_version() -> int:
    """A number that changes whenever this process commits a change to a watched table."""
    return _version


def _bump() -> None:
    global _version  # noqa: PLW0603 - one counter per process, shared by every app
    with _version_lock:
        _version += 1


def _after_flush(session: Session, _context: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__tablename__", None)
        if table in WATCHED:
            session.info["cache_stale"] = True
            _bump()  # now, so no answer read from before the change is stored as current
            return


def _after_commit(session: Session) -> None:
    if session.info.pop("cache_stale", False):
        _bump()  # again: an answer computed while the transaction was open is stale too


def _after_rollback(session: Session) -> None:
    session.info.pop("cache_stale", None)


def watch_writes() -> None:
    """Make every SQLAlchemy session of this process bump :func:`data_version` when it
    changes a watched table (registered once, by ``create_app``)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))


@dataclass(frozen=True)
class _Entry:
    version: int
    at: float
    start: Message
    body: bytes


class PageCacheMiddleware:
    """Serves repeated anonymous GETs of :data:`CACHEABLE` paths from memory (LRU, at most
    ``max_entries`` answers of up to 1 MiB each)."""

    def __init__(self, app: ASGIApp, *, ttl: float, max_entries: int = 2048) -> None:
        self.app = app
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, scope: Scope) -> tuple[Any, ...] | None:
        if self.ttl <= 0 or scope["type"] != "http" or scope["method"] != "GET":
            return None
        if not CACHEABLE.match(scope["path"]):
            return None
        headers = dict(scope["headers"])
        if b"cookie" in headers or b"authorization" in headers:
            return None
        return (
            scope["path"],
            scope["query_string"],
            headers.get(b"hx-request"),
            headers.get(b"hx-history-restore-request"),
        )

    def _get(self, key: tuple[Any, ...]) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != data_version() or time.monotonic() - entry.at > self.ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def _put(self, key: tuple[Any, ...], entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        entry = self._get(key)
        if entry is not None:
            start = dict(entry.start)
            start["headers"] = [*entry.start["headers"], (b"x-cache", b"hit")]
            await send(start)
            await send({"type": "http.response.body", "body": entry.body})
            return

        version, began = data_version(), time.monotonic()
        start_message: Message | None = None
        chunks: list[bytes] = []
        size = 0
        keep = True

        async def capture(message: Message) -> None:
            nonlocal start_message, size, keep
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                start_message = {**message, "headers": headers}
                keep = message["status"] == 200 and not any(
                    name.lower() == b"set-cookie" for name, _ in headers
                )
                message = {**message, "headers": [*headers, (b"x-cache", b"miss")]}
            elif message["type"] == "http.response.body" and keep:
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY:
                    keep = False
                else:
                    chunks.append(chunk)
                if not message.get("more_body", False) and keep and start_message is not None:
                    self._put(key, _Entry(version, began, start_message, b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, capture)
