"""``clusteratlas serve`` (on a Typer app of its own: registering it is ``cli/__init__``'s job)
and ``create_app``, which builds nothing at import; ``serve --workers`` as a real server."""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import anyio.to_thread
import pytest
import typer
from fastapi import FastAPI
from typer.testing import CliRunner

from clusteratlas.cli.serve import serve
from clusteratlas.collaboration import search_index
from clusteratlas.collaboration.db import make_engine, upgrade
from clusteratlas.collaboration.settings import Settings, get_settings
from clusteratlas.web.app import create_app
from clusteratlas.web.serve import APP_FACTORY, bind_reuseport

pytestmark = pytest.mark.integration


@pytest.fixture
def cli():
    app = typer.Typer()
    app.command()(serve)
    return app


@pytest.fixture
def database_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    monkeypatch.setenv("CLUSTERATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def uvicorn_calls(monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    return calls


def test_serve_runs_uvicorn_on_a_migrated_database(cli, database_url, uvicorn_calls):
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()

    result = CliRunner().invoke(cli, ["--port", "8123"])

    assert result.exit_code == 0, result.output
    [(app, options)] = uvicorn_calls
    assert isinstance(app, FastAPI)
    assert (options["host"], options["port"]) == ("127.0.0.1", 8123)
    assert "http://127.0.0.1:8123/" in result.output


def test_serve_refuses_an_unmigrated_database(cli, database_url, uvicorn_calls):
    result = CliRunner().invoke(cli, [])

    assert result.exit_code == 3
    assert "run `clusteratlas db upgrade` first" in result.output
    assert uvicorn_calls == []


def test_serve_rejects_a_bad_port(cli, database_url, uvicorn_calls):
    result = CliRunner().invoke(cli, ["--port", "70000"])

    assert result.exit_code == 2
    assert uvicorn_calls == []


def test_app_module_builds_nothing_at_import():
    module = importlib.import_module("clusteratlas.web.app")

    assert not [name for name, value in vars(module).items() if isinstance(value, FastAPI)]


def test_create_app_uses_the_given_settings(tmp_path):
    settings = Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'a.db'}",
        secret_key="a-test-secret-key-that-is-long-enough-0123",
    )

    app = create_app(settings)

    assert app.state.settings is settings
    assert app.state.engine.url.database == str(tmp_path / "a.db")


def test_app_factory_names_create_app():
    module, name = APP_FACTORY.split(":")

    assert getattr(importlib.import_module(module), name) is create_app


SECRET = "a-test-secret-key-that-is-long-enough-0123"


def _migrated_database(tmp_path: Path) -> str:
    """The URL of a new SQLite database at the latest migration."""
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_the_app_sets_its_thread_pool_and_builds_the_search_index_at_start(tmp_path):
    url = _migrated_database(tmp_path)
    settings = Settings(environment="test", database_url=url, secret_key=SECRET, worker_threads=3)
    app = create_app(settings)
    from fastapi.testclient import TestClient

    assert app.state.engine not in search_index._indexes  # noqa: SLF001
    with TestClient(app) as client:
        tokens = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
        assert tokens == 3
        assert app.state.engine in search_index._indexes  # noqa: SLF001


# ---- serve --workers: real processes --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    """The worker processes of ``pid`` (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def _sockets(pid: int, port: int, state: str) -> int:
    """Sockets on local ``port`` in ``state`` (01: established, 0A: listening) that process
    ``pid`` holds: its file descriptors matched with /proc/net/tcp."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == state and fields[9] in inodes:
            count += 1
    return count


@pytest.fixture
def migrated(tmp_path):
    """The environment of a server on a migrated SQLite database."""
    return dict(
        os.environ,
        CLUSTERATLAS_DATABASE_URL=_migrated_database(tmp_path),
        CLUSTERATLAS_ENVIRONMENT="test",
        CLUSTERATLAS_SECRET_KEY=SECRET,
        CLUSTERATLAS_MAIL_ENABLED="false",
    )


@pytest.fixture
def workers(migrated):
    """``clusteratlas serve --workers 2`` on a free port, once both workers listen: (the
    supervisor's process, the port); killed afterwards if a test left it running."""
    port = _free_port()
    command = [sys.executable, "-m", "clusteratlas", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", "2", "--no-access-log"],
        env=migrated,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not _listening(server.pid, port) or not _answers(port):
            assert server.poll() is None, server.stderr.read().decode()
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        yield server, port
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stderr.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_workers_share_the_connections_and_stop_on_sigterm(workers):
    server, port = workers
    # 40 keep-alive connections opened together, each answered
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
    for sock in connections:
        sock.sendall(b"GET /api/search/organisations HTTP/1.1\r\nHost: x\r\n\r\n")
    for sock in connections:
        assert sock.recv(64).startswith(b"HTTP/1.1 200")
    pids = _children(server.pid)
    held = [_sockets(pid, port, "01") for pid in pids]
    assert len(pids) == 2
    assert sum(held) == 40
    # a fair split of 40 by hash is below 5 on one side with probability ~1e-7
    assert min(held) >= 5, held
    for sock in connections:
        sock.close()

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_workers_stop_when_the_supervisor_is_killed(workers):
    server, _ = workers
    pids = _children(server.pid)

    server.kill()  # SIGKILL: no chance to stop the workers itself
    server.wait()

    deadline = time.monotonic() + 30
    while [pid for pid in pids if _alive(pid)]:
        assert time.monotonic() < deadline, "workers outlived their supervisor"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _listening(pid: int, port: int) -> bool:
    """Whether ``pid`` has two workers, each listening on ``port``."""
    workers = _children(pid)
    return len(workers) == 2 and all(_sockets(w, port, "0A") for w in workers)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_serve_workers_says_when_the_address_is_taken(migrated):
    with socket.socket() as taken:  # a listener without SO_REUSEPORT
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "clusteratlas", "serve", "--port", str(port), "--workers", "2"],
            env=migrated,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_bind_reuseport_lets_two_sockets_share_a_port():
    first = bind_reuseport("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        second = bind_reuseport("127.0.0.1", port)
        second.close()
    finally:
        first.close()
