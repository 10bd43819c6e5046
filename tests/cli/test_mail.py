"""``clusteratlas mail send|list`` on a migrated SQLite file, with a real SMTP receiver:
what waits is sent once, failures are listed and give exit status 1, ``list`` shows each
row's status, and ``send`` works when the web app's sending is switched off."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app
from clusteratlas.collaboration.db import make_engine, session_factory, upgrade
from clusteratlas.collaboration.mail import queue_email
from clusteratlas.collaboration.models import OutboxEmail, utcnow
from clusteratlas.collaboration.settings import get_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A migrated SQLite file named by ``CLUSTERATLAS_DATABASE_URL``; its session factory."""
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    engine = make_engine(url)
    upgrade(engine)
    monkeypatch.setenv("CLUSTERATLAS_DATABASE_URL", url)
    monkeypatch.setenv("CLUSTERATLAS_MAIL_FROM", "atlas@example.org")
    get_settings.cache_clear()
    yield session_factory(engine)
    get_settings.cache_clear()
    engine.dispose()


def _queue(sessions, *addresses: str) -> None:
    with sessions() as session:
        for i, to in enumerate(addresses):
            row = queue_email(session, to=to, subject=f"Hello {i + 1}", body="Hi")
            row.created_at = utcnow() - timedelta(minutes=len(addresses) - i)
        session.commit()


def _smtp(monkeypatch, host: str, port: int) -> None:
    monkeypatch.setenv("CLUSTERATLAS_SMTP_HOST", host)
    monkeypatch.setenv("CLUSTERATLAS_SMTP_PORT", str(port))
    get_settings.cache_clear()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def invoke(*args: str):
    return CliRunner().invoke(app, ["mail", *args])


def test_send_delivers_what_waits_once(database, monkeypatch, smtp_receiver):
    _queue(database, "ana@example.org", "bo@example.org")
    _smtp(monkeypatch, smtp_receiver.host, smtp_receiver.port)

    first = invoke("send")
    second = invoke("send")
    received = smtp_receiver.wait_for(2)

    assert first.exit_code == 0, first.output
    assert "sent 2, failed 0" in first.output
    assert second.exit_code == 0
    assert "nothing to send" in second.output
    assert [m["To"] for m in received] == ["ana@example.org", "bo@example.org"]
    assert received[0]["From"] == "atlas@example.org"


def test_send_sends_even_when_the_web_app_does_not(database, monkeypatch, smtp_receiver):
    _queue(database, "ana@example.org")
    _smtp(monkeypatch, smtp_receiver.host, smtp_receiver.port)
    monkeypatch.setenv("CLUSTERATLAS_MAIL_ENABLED", "false")
    get_settings.cache_clear()

    result = invoke("send")

    assert result.exit_code == 0, result.output
    assert len(smtp_receiver.wait_for(1)) == 1


def test_send_failure_lists_the_rows_and_exits_1(database, monkeypatch):
    _queue(database, "ana@example.org")
    port = _closed_port()
    _smtp(monkeypatch, "127.0.0.1", port)

    result = invoke("send")
    with database() as session:
        row = session.query(OutboxEmail).one()

    assert result.exit_code == 1
    assert "sent 0, failed 1" in result.output
    assert f"127.0.0.1:{port}" in result.output
    assert "Not sent" in result.output
    assert "ana@example.org" in result.output
    assert (row.sent_at, row.attempts) == (None, 1)
    assert "cannot connect" in row.last_error


def test_list_shows_the_latest_rows_with_their_status(database, monkeypatch, smtp_receiver):
    _queue(database, "ana@example.org")
    _smtp(monkeypatch, smtp_receiver.host, smtp_receiver.port)
    invoke("send")
    _queue(database, "bo@example.org")
    _smtp(monkeypatch, "127.0.0.1", _closed_port())
    invoke("send")
    _queue(database, "cy@example.org")

    everything = invoke("list")
    waiting = invoke("list", "--waiting")
    latest = invoke("list", "-n", "1")

    assert everything.exit_code == 0, everything.output
    lines = everything.output.splitlines()
    row = {to: next(line for line in lines if to in line) for to in ("ana@", "bo@", "cy@")}
    assert "sent" in row["ana@"]
    assert "failed 1x" in row["bo@"]
    assert "waiting" in row["cy@"]
    assert everything.output.index("cy@") < everything.output.index("ana@")  # newest first
    assert "3 e-mails in the outbox, 2 not sent" in everything.output
    assert "ana@" not in waiting.output
    assert "bo@" in waiting.output
    assert "cy@" in latest.output
    assert "bo@" not in latest.output


def test_list_of_an_empty_outbox(database):
    result = invoke("list")

    assert result.exit_code == 0
    assert "0 e-mails in the outbox, 0 not sent" in result.output


@pytest.mark.parametrize("command", ["send", "list"])
def test_unmigrated_database_is_an_error_with_status_3(tmp_path, command):
    result = invoke(command, "--url", f"sqlite:///{tmp_path / 'empty.db'}")

    assert result.exit_code == 3
    assert "error:" in result.output
    assert "outbox" in result.output


@pytest.mark.parametrize("args", [["send", "--limit", "0"], ["list", "-n", "0"]])
def test_bad_options_are_usage_errors(args):
    result = invoke(*args)

    assert result.exit_code == 2
