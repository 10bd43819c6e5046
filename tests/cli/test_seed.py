"""``clusteratlas seed-demo`` on a temporary SQLite file: counts, idempotence, the printed
log-ins, and a clear error on a database that was not migrated."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app

pytestmark = pytest.mark.integration


def _counts(path):
    with sqlite3.connect(path) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("users", "organisations", "posts", "organisation_sectors")
        }


def test_seed_demo_twice_on_a_migrated_file(tmp_path):
    path = tmp_path / "demo.db"
    url = f"sqlite:///{path}"
    runner = CliRunner()

    upgraded = runner.invoke(app, ["db", "upgrade", "--url", url])
    first = runner.invoke(app, ["seed-demo", "--url", url])
    after_first = _counts(path)
    second = runner.invoke(app, ["seed-demo", "--url", url])

    assert upgraded.exit_code == 0, upgraded.output
    assert first.exit_code == 0, first.output
    assert "DEMO DATA" in first.stderr
    assert "40 organisations, 60 posts, 27 users" in first.stderr
    assert "admin@demo.invalid" in first.stderr
    assert "demo-password-2024" in first.stderr
    assert after_first["users"] == 27  # 16 attend the demo event
    assert after_first["organisations"] == 40
    assert after_first["posts"] == 60
    assert second.exit_code == 0, second.output
    assert "nothing added" in second.stderr
    assert _counts(path) == after_first


def test_seed_demo_with_synthetic_rows_uses_the_environment_url(tmp_path, monkeypatch):
    from clusteratlas.collaboration.settings import get_settings

    path = tmp_path / "env.db"
    monkeypatch.setenv("CLUSTERATLAS_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        runner.invoke(app, ["db", "upgrade"])
        result = runner.invoke(
            app, ["seed-demo", "--synthetic-organisations", "50", "--synthetic-posts", "80"]
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "50 synthetic organisations, 80 posts" in result.stderr
    counts = _counts(path)
    assert (counts["organisations"], counts["posts"]) == (90, 140)


def test_seed_demo_on_an_unmigrated_database_says_so(tmp_path):
    result = CliRunner().invoke(app, ["seed-demo", "--url", f"sqlite:///{tmp_path / 'x.db'}"])

    assert result.exit_code == 3
    assert "clusteratlas db upgrade" in result.stderr
    assert "Traceback" not in result.output


def test_seed_demo_synthetic_posts_need_organisations(tmp_path):
    url = f"sqlite:///{tmp_path / 'y.db'}"
    runner = CliRunner()
    runner.invoke(app, ["db", "upgrade", "--url", url])
    result = runner.invoke(app, ["seed-demo", "--url", url, "--synthetic-posts", "3"])

    assert result.exit_code == 3
    assert "--synthetic-organisations" in result.stderr
