"""``clusteratlas db upgrade|downgrade`` (the Typer sub-app, on SQLite files)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from clusteratlas.cli.db import db_app
from clusteratlas.collaboration.db import make_engine

pytestmark = pytest.mark.integration


def _tables(url):
    engine = make_engine(url)
    try:
        return sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _head():
    from alembic.script import ScriptDirectory

    from clusteratlas.collaboration.db import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_db_upgrade_then_downgrade_to_base(tmp_path):
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    runner = CliRunner()

    up = runner.invoke(db_app, ["upgrade", "--url", url])
    tables_up = _tables(url)
    down = runner.invoke(db_app, ["downgrade", "--url", url, "--to", "base"])

    assert (up.exit_code, down.exit_code) == (0, 0)
    assert f"is at revision {_head()}" in up.output
    assert {"alembic_version", "organisations", "posts", "users"} <= set(tables_up)
    assert _tables(url) == ["alembic_version"]


def test_db_upgrade_uses_database_url_from_environment(tmp_path, monkeypatch):
    from clusteratlas.collaboration.settings import get_settings

    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("CLUSTERATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(db_app, ["upgrade"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0
    assert "users" in _tables(url)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["downgrade", "--to", "nosuchrevision"], "Can't locate revision"),
        (["upgrade", "--url", "nosuchdialect://x"], "is not a database URL"),
    ],
)
def test_db_commands_report_bad_input_with_status_3(tmp_path, args, message):
    if "--url" not in args:
        args = [*args, "--url", f"sqlite:///{tmp_path / 'atlas.db'}"]

    result = CliRunner().invoke(db_app, args)

    assert result.exit_code == 3
    assert message in result.output
