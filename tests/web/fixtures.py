"""The web test fixtures (imported by ``conftest.py``): an app per test whose request sessions
join the test's transaction, API-token headers, and organisations in any status."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from clusteratlas.collaboration.models import Organisation, User
from clusteratlas.collaboration.organisations import create_organisation, publish, submit
from clusteratlas.collaboration.settings import Settings
from clusteratlas.collaboration.tokens import create_api_token
from clusteratlas.web.app import create_app

#: the members the ``create_org`` factory gives cluster organisations unless told otherwise
ELIGIBLE_MEMBERS = {"members_sme": 12, "members_research": 3}


@pytest.fixture
def make_client(session: Session) -> Iterator[Callable[[Settings], TestClient]]:
    """Factory: a started test client of ``create_app(settings)`` whose request sessions are
    SAVEPOINTs inside the test's transaction (so they see the test's data and are rolled back
    with it)."""
    clients: list[TestClient] = []

    def make(settings: Settings) -> TestClient:
        app: FastAPI = create_app(settings)
        app.state.sessions = sessionmaker(
            bind=session.bind,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )
        client = TestClient(app)
        client.__enter__()  # runs the lifespan
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[[Settings], TestClient], settings: Settings) -> TestClient:
    return make_client(settings)


@pytest.fixture
def auth(session: Session) -> Callable[[User], dict[str, str]]:
    """Factory: the ``Authorization`` header of a new API token of ``user``."""

    def headers(user: User) -> dict[str, str]:
        plaintext, _ = create_api_token(session, actor=user, name="tests")
        return {"Authorization": f"Bearer {plaintext}"}

    return headers


@pytest.fixture
def create_org(session: Session, create_user: Callable[..., User]) -> Callable[..., Organisation]:
    """Factory: ``create_org(manager, status="published", name=…)`` through the domain verbs.
    Cluster organisations get :data:`ELIGIBLE_MEMBERS` unless a ``members_*`` field is given."""
    moderators: list[User] = []

    def create(manager: User, *, status: str = "draft", **values: Any) -> Organisation:
        fields: dict[str, Any] = {
            "type": "cluster_organisation",
            "name": "BioCluster Rhein",
            "country": "DE",
        }
        if values.get("type", fields["type"]) == "cluster_organisation" and not any(
            name.startswith("members_") for name in values
        ):
            fields |= ELIGIBLE_MEMBERS  # enough members of enough types to be submitted
        organisation = create_organisation(session, actor=manager, **(fields | values))
        if status in ("submitted", "published"):
            submit(session, actor=manager, organisation=organisation)
        if status == "published":
            if not moderators:
                moderators.append(create_user(moderator=True))
            publish(session, actor=moderators[0], organisation=organisation)
        return organisation

    return create
