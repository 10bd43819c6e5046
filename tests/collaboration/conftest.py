"""Databases for the collaboration tests: SQLite and a PostgreSQL server the tests start.

The PostgreSQL server is started once per test process (each xdist worker has its own) with
the ``initdb`` and ``pg_ctl`` of the installed server (``/usr/lib/postgresql/*/bin`` on Debian,
else on PATH), in a temporary data directory, listening on a free port of 127.0.0.1 only, with
durability switched off for speed; it is stopped and removed at the end. Those programs refuse
to run as root, so as root they run as the ``postgres`` user. Without PostgreSQL the
``postgresql`` tests are skipped with a message (``make system`` installs it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from clusteratlas.collaboration.accounts import hash_password
from clusteratlas.collaboration.db import downgrade, make_engine, upgrade
from clusteratlas.collaboration.models import User, utcnow
from clusteratlas.collaboration.settings import Settings

BACKENDS = ["sqlite", "postgresql"]


def _find_pg_bin() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        reverse=True,
    )
    found = candidates[0] if candidates else shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server; ``url(name)`` of a database, ``create_database(name)`` for a new one."""

    port: int
    user: str = "postgres"
    _counter: Iterator[int] = field(default_factory=lambda: count(1), repr=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database; its URL."""
        name = name or f"test_{next(self._counter)}"
        engine = make_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            engine.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _find_pg_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on "
            "PATH): run `make system` as root, or apt-get install postgresql"
        )
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    owner = None
    if as_root:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run PostgreSQL as")
        runuser = shutil.which("runuser")
        prefix = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-c"]
    base = Path(tempfile.mkdtemp(prefix="clusteratlas-pg-"))
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, log = base / "data", base / "server.log"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in args]
        if prefix and prefix[-1] == "-c":  # `su postgres -c 'one string'`
            command = [*prefix, shlex.join(command)]
        else:
            command = [*prefix, *command]
        return subprocess.run(command, capture_output=True, text=True, check=False, cwd=base)

    done = run(
        bindir / "initdb",
        "-D",
        data,
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
    )
    if done.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{done.stdout}\n{done.stderr}")
    started = None
    for _attempt in range(3):  # another process may take the free port first
        port = _free_port()
        options = (
            f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=40"
        )
        done = run(
            bindir / "pg_ctl",
            "-D",
            data,
            "-l",
            log,
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode == 0:
            started = port
            break
    if started is None:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start:\n{done.stdout}\n{done.stderr}\n{text}")
    try:
        yield PostgresServer(port=started)
    finally:
        run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def fresh_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The URL of a new, empty database on ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database on each backend: upgrade head → downgrade base → upgrade head."""
    url = fresh_database_url(request.param, request, tmp_path_factory)
    engine = make_engine(url)
    upgrade(engine, "head")
    downgrade(engine, "base")
    upgrade(engine, "head")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (``commit`` only releases a
    SAVEPOINT inside the outer transaction)."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        environment="test",
        database_url="sqlite://",
        secret_key="a-test-secret-key-that-is-long-enough-0123",
    )


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One argon2 hash for factory users (hashing is deliberately slow)."""
    return hash_password("correct horse battery")


@pytest.fixture
def create_user(session: Session, password_hash: str) -> Callable[..., User]:
    """Factory: ``create_user("ana@example.org", moderator=True)`` → a confirmed user."""
    numbers = count(1)

    def create(
        email: str | None = None,
        *,
        confirmed: bool = True,
        moderator: bool = False,
        admin: bool = False,
    ) -> User:
        user = User(
            email=email or f"user{next(numbers)}@example.org",
            password_hash=password_hash,
            confirmed_at=utcnow() if confirmed else None,
            is_moderator=moderator,
            is_admin=admin,
        )
        session.add(user)
        session.flush()
        return user

    return create
