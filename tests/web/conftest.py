"""Fixtures of the web tests.

The database fixtures (``engine`` on SQLite and on a PostgreSQL server the tests start,
``session`` rolled back after each test, ``settings``, ``create_user``) are those of
``tests/collaboration``, imported here so the API tests run on both backends too; the web
fixtures are in ``fixtures.py``.
"""

from collaboration.conftest import (  # noqa: F401 - fixtures shared with the domain tests
    create_user,
    engine,
    password_hash,
    postgres_server,
    session,
    settings,
)
from web.fixtures import auth, client, create_org, make_client  # noqa: F401 - fixtures
