"""``clusteratlas saved-searches notify`` on an SQLite file, sending to a real SMTP receiver."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from clusteratlas.cli import app
from clusteratlas.collaboration.db import make_engine, upgrade
from clusteratlas.collaboration.models import Organisation, SavedSearch, User, utcnow
from clusteratlas.collaboration.settings import get_settings

pytestmark = pytest.mark.integration


def test_notify_emails_new_matches_then_nothing(tmp_path, monkeypatch, smtp_receiver):
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        user = User(email="ana@example.org", password_hash="x", confirmed_at=utcnow())
        session.add(user)
        session.flush()
        session.add(
            SavedSearch(
                user_id=user.id,
                name="Lasers",
                query={"kind": "organisations", "q": "laser"},
                notified_at=utcnow() - timedelta(hours=1),
            )
        )
        session.add(
            Organisation(
                name="Laser Valley",
                country="FR",
                type="cluster_organisation",
                status="published",
                published_at=utcnow(),
                description="lasers",
            )
        )
        session.commit()
    engine.dispose()
    monkeypatch.setenv("CLUSTERATLAS_SMTP_HOST", smtp_receiver.host)
    monkeypatch.setenv("CLUSTERATLAS_SMTP_PORT", str(smtp_receiver.port))
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(app, ["saved-searches", "notify", "--url", url])
        second = CliRunner().invoke(app, ["saved-searches", "notify", "--url", url])
    finally:
        get_settings.cache_clear()

    assert first.exit_code == 0, first.output
    assert "1 e-mail(s) queued, 1 sent, 0 failed" in first.output
    assert "0 e-mail(s) queued" in second.output
    assert [m["Subject"] for m in smtp_receiver.messages] == ["1 new match for “Lasers”"]
    assert "Laser Valley (FR)" in smtp_receiver.messages[0].get_content()


def test_notify_bad_url_is_an_error(tmp_path):
    result = CliRunner().invoke(app, ["saved-searches", "notify", "--url", "nosuchdb://x"])

    assert result.exit_code == 3
    assert "error" in result.output
