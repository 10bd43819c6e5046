"""``clusteratlas serve`` (on a Typer app of its own: registering it is ``cli/__init__``'s job)
and ``create_app``, which builds nothing at import."""

from __future__ import annotations

import importlib

import pytest
import typer
from fastapi import FastAPI
from typer.testing import CliRunner

from clusteratlas.cli.serve import serve
from clusteratlas.collaboration.db import make_engine, upgrade
from clusteratlas.collaboration.settings import Settings, get_settings
from clusteratlas.web.app import create_app

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


def test_serve_with_workers_gives_uvicorn_the_app_factory(cli, database_url, uvicorn_calls):
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()

    result = CliRunner().invoke(cli, ["--workers", "2"])

    assert result.exit_code == 0, result.output
    [(app, options)] = uvicorn_calls
    assert app == "clusteratlas.web.app:create_app"
    assert (options["factory"], options["workers"]) == (True, 2)
    module, name = app.split(":")
    assert getattr(importlib.import_module(module), name) is create_app


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
