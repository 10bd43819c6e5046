"""A small in-process sliding-window rate limiter (log-in, sign-up, password-reset requests).

:class:`RateLimiter` allows at most ``attempts`` hits per key within the last ``window``
seconds. A request usually names several keys (the client's address and the e-mail address
it is about): it is refused when any of them is full, and then counts for none (so a refused
client does not push its own wait further). The clock is injectable for tests; memory is
bounded (at most ``attempts`` timestamps per key and ``max_keys`` keys, the least recently
used dropped first). It is thread-safe.

The counts live in the process: with several worker processes (``clusteratlas serve
--workers N``) each keeps its own, so a client may get up to N times the limit. The web app
keeps one limiter per application (``app.state``), so tests that build fresh apps start from
zero.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

__all__ = ["DEFAULT_MAX_KEYS", "RateLimiter"]

#: keys remembered at most; beyond this the least recently used key is forgotten
DEFAULT_MAX_KEYS = 100_000


class RateLimiter:
    """At most ``attempts`` hits per key in any ``window`` seconds (a sliding window)."""

    def __init__(
        self,
        *,
        attempts: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if attempts < 1 or window <= 0 or max_keys < 1:
            raise ValueError("attempts and max_keys must be at least 1, window positive")
        self.attempts = attempts
        self.window = float(window)
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        """The key's timestamps within the window (expired ones dropped), or None."""
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def hit(self, keys: Iterable[str]) -> float | None:
        """Count one attempt for every key and return None, or, when a key is already at its
        limit, count nothing and return the seconds to wait until it has room again."""
        keys = list(dict.fromkeys(keys))
        with self._lock:
            now = self._clock()
            wait = 0.0
            for key in keys:
                hits = self._recent(key, now)
                if hits is not None and len(hits) >= self.attempts:
                    wait = max(wait, hits[0] + self.window - now)
            if wait > 0:
                return wait
            for key in keys:
                hits = self._hits.get(key)
                if hits is None:
                    hits = self._hits[key] = deque(maxlen=self.attempts)
                else:
                    self._hits.move_to_end(key)
                hits.append(now)
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return None

    def retry_after(self, keys: Iterable[str]) -> int:
        """Whole seconds until every key has room (0: now); counts nothing."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            for key in keys:
                hits = self._recent(key, now)
                if hits is not None and len(hits) >= self.attempts:
                    wait = max(wait, hits[0] + self.window - now)
            return math.ceil(wait)

    def reset(self, keys: Iterable[str] | None = None) -> None:
        """Forget ``keys`` (all keys when None)."""
        with self._lock:
            if keys is None:
                self._hits.clear()
            else:
                for key in keys:
                    self._hits.pop(key, None)

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._hits)
