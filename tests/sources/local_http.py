"""Helpers for the download tests: the network code is tested against recorded responses
served on 127.0.0.1, never against the live services. (Not a conftest, so that
`from conftest import …` keeps finding tests/conftest.py.)"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def local_server(
    handler: type[http.server.BaseHTTPRequestHandler] | object,
) -> Iterator[tuple[str, list[str]]]:
    """Serve with ``handler`` on 127.0.0.1 (a free port); yields the base URL and the list of
    requested paths (handlers append to ``self.server.requests``)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # type: ignore[arg-type]
    httpd.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.requests  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def point_cache(monkeypatch: pytest.MonkeyPatch, root: Path, base_url: str) -> Path:
    """Point the cache at ``root`` and downloads at ``base_url`` (for the test's duration)."""
    monkeypatch.setenv("CLUSTERATLAS_CACHE", str(root))
    monkeypatch.setenv("CLUSTERATLAS_FETCH_BASE", base_url)
    return root
