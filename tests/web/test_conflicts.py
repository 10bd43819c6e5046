"""A change that collides with another one made at the same moment (a unique key taken in the
meantime, a lock) answers 409 with a message, never 500, on the API and on pages; other
database errors stay server errors. The collisions are real: rows that break the database's
own constraints, found when the request's session commits, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from clusteratlas.collaboration.models import SearchGeneration
from clusteratlas.web.api.deps import SessionDep
from clusteratlas.web.api.errors import CONFLICT_MESSAGE, is_conflict

pytestmark = pytest.mark.integration


def _routes(client: TestClient) -> None:
    def taken(session: SessionDep) -> dict[str, str]:
        # the single row exists already: the primary key is taken, found at commit
        session.add(SearchGeneration(id=1, token="raced"))
        return {"status": "ok"}

    def broken(session: SessionDep) -> dict[str, str]:
        session.execute(text("SELECT * FROM no_such_table"))
        return {"status": "ok"}

    for prefix in ("/api/_test", "/_test"):
        client.app.add_api_route(f"{prefix}/taken", taken, methods=["POST"])
        client.app.add_api_route(f"{prefix}/broken", broken, methods=["POST"])


def test_a_key_taken_meanwhile_is_a_409_on_the_api(client):
    _routes(client)

    response = client.post("/api/_test/taken")

    assert response.status_code == 409
    assert response.json() == {"detail": CONFLICT_MESSAGE}


def test_a_key_taken_meanwhile_is_a_409_page(client):
    _routes(client)

    response = client.post("/_test/taken")

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("text/html")
    assert "Not saved" in response.text
    assert "Reload and try again." in response.text


def test_other_database_errors_stay_server_errors(make_client, settings):
    client = make_client(settings)
    _routes(client)
    client = TestClient(client.app, raise_server_exceptions=False)

    assert client.post("/api/_test/broken").status_code == 500
    assert client.post("/_test/broken").status_code == 500


def test_is_conflict_reads_sqlite_locks_and_postgresql_races():
    import sqlite3

    from psycopg import errors as pg
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    locked = sqlite3.OperationalError("database is locked")
    assert is_conflict(OperationalError("UPDATE", {}, locked))
    assert is_conflict(IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE")))
    assert is_conflict(OperationalError("UPDATE", {}, pg.SerializationFailure("no")))
    assert is_conflict(OperationalError("UPDATE", {}, pg.DeadlockDetected("no")))
    assert not is_conflict(OperationalError("SELECT", {}, sqlite3.OperationalError("no table")))
    assert not is_conflict(ProgrammingError("SELECT", {}, pg.UndefinedTable("no table")))
    assert not is_conflict(ValueError("not a database error"))
