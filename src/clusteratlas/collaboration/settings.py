"""Settings of the collaboration platform, read from ``CLUSTERATLAS_*`` environment variables.

Nothing is read at import: build a :class:`Settings` (tests pass values explicitly) or call the
cached :func:`get_settings`. Outside development the secret key must be set and long.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_SECRET_KEY", "Settings", "get_settings"]

#: the development secret; refused when ``CLUSTERATLAS_ENVIRONMENT`` is not ``development``
DEFAULT_SECRET_KEY = "changethis-development-only"
MIN_SECRET_LENGTH = 32


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'clusteratlas.db'}"


class Settings(BaseSettings):
    """Configuration; every field is read from ``CLUSTERATLAS_<FIELD>`` (e.g.
    ``CLUSTERATLAS_DATABASE_URL``)."""

    model_config = SettingsConfigDict(env_prefix="CLUSTERATLAS_", frozen=True, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    #: SQLAlchemy URL; ``postgresql://`` uses psycopg 3. Default: ``clusteratlas.db`` in the
    #: working directory (resolved when the settings are built).
    database_url: str = Field(default_factory=_default_database_url)
    #: signs e-mail confirmation and password-reset tokens (and, later, session cookies)
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    #: how long the links in e-mails stay valid, in seconds
    confirmation_max_age: int = Field(default=3 * 24 * 3600, gt=0)
    password_reset_max_age: int = Field(default=3600, gt=0)

    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str = "Cluster Atlas <noreply@localhost>"
    #: when false the web app leaves e-mails in the outbox instead of sending them over SMTP
    #: (the demo; ``clusteratlas mail list`` shows them, ``clusteratlas mail send`` sends them)
    mail_enabled: bool = True
    #: the site's address as users reach it, for the links in e-mails
    public_url: str = "http://127.0.0.1:8000"

    #: rate limits: at most ``rate_limit_attempts`` log-in / sign-up / password-reset requests
    #: per client address and per e-mail address within ``rate_limit_window`` seconds
    rate_limit_attempts: int = Field(default=10, gt=0)
    rate_limit_window: int = Field(default=300, gt=0)

    #: seconds that anonymous answers of search, directory, profile and post pages may be
    #: served from memory (changes made in the same process drop them at once); 0: no cache
    page_cache_seconds: float = Field(default=30.0, ge=0, le=3600)

    #: threads per worker process that run the routes: more let slow requests (a scheduler
    #: run, a slow mail server) overlap, but short CPU-bound ones then contend for the
    #: interpreter lock. Two measured best on 2 cores (benchmarks/platform.py: ~1.4× the
    #: requests/s of 40, the default of Starlette's thread pool); raise it for slow databases
    worker_threads: int = Field(default=2, ge=1, le=1000)

    #: eligibility of cluster organisations for publication: at least this many members, of
    #: at least this many member types (SMEs, large companies, research, universities, other)
    eligibility_min_members: int = Field(default=15, ge=0)
    eligibility_min_member_types: int = Field(default=2, ge=0, le=5)

    #: folder of the observatory store (one DuckDB file per loaded dataset, plus region
    #: geometry); default: ``observatory`` beside the SQLite database file (the working
    #: directory for other databases)
    observatory_dir: Path | None = None

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.smtp_ssl and self.smtp_starttls:
            raise ValueError(
                "CLUSTERATLAS_SMTP_SSL and CLUSTERATLAS_SMTP_STARTTLS exclude each other"
            )
        if self.environment == "development":
            return self
        secret = self.secret_key.get_secret_value()
        if secret == DEFAULT_SECRET_KEY or secret.startswith("changethis"):
            raise ValueError(
                f"CLUSTERATLAS_SECRET_KEY must be set when CLUSTERATLAS_ENVIRONMENT is "
                f"{self.environment!r} (the default is for development only); generate one with "
                f'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"CLUSTERATLAS_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters "
                f"outside development (it has {len(secret)})"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, built once (``get_settings.cache_clear()`` in tests)."""
    return Settings()
