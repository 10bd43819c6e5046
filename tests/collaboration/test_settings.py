"""Settings: defaults, the environment, and refused secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from clusteratlas.collaboration.settings import DEFAULT_SECRET_KEY, Settings, get_settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in (
        "CLUSTERATLAS_ENVIRONMENT",
        "CLUSTERATLAS_DATABASE_URL",
        "CLUSTERATLAS_SECRET_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_default_database_is_sqlite_file_in_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    assert settings.database_url == f"sqlite:///{Path(tmp_path) / 'clusteratlas.db'}"
    assert settings.secret_key.get_secret_value() == DEFAULT_SECRET_KEY


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("CLUSTERATLAS_DATABASE_URL", "postgresql://atlas@db/atlas")
    monkeypatch.setenv("CLUSTERATLAS_SMTP_PORT", "587")

    settings = get_settings()

    assert (settings.database_url, settings.smtp_port) == ("postgresql://atlas@db/atlas", 587)
    assert get_settings() is settings


@pytest.mark.parametrize("environment", ["test", "production"])
def test_default_secret_is_refused_outside_development(environment):
    with pytest.raises(ValidationError, match="CLUSTERATLAS_SECRET_KEY must be set"):
        Settings(environment=environment)


def test_short_secret_is_refused_in_production():
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(environment="production", secret_key="too-short")


def test_settings_are_frozen():
    settings = Settings(environment="production", secret_key="x" * 40)

    with pytest.raises(ValidationError):
        settings.smtp_host = "mail.example.org"
