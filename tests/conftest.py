"""Shared test fixtures and constants."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: public reference data beside the checkout (see ../shared/data/README.md); never copied here
SHARED_DATA = ROOT.parent / "shared" / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"

#: tolerances for comparisons with published values (published files round to ~8 digits)
RTOL_PUBLISHED = 1e-6
#: tolerances for comparisons with independent computations in double precision
RTOL = 1e-9


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public reference data not found at {SHARED_DATA} (see DEVELOPERS.md)")
    return SHARED_DATA


@pytest.fixture
def smtp_receiver():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) for this test: point the settings'
    ``smtp_host``/``smtp_port`` at ``smtp_receiver.host``/``.port`` and read ``.messages``."""
    from smtp_receiver import SmtpReceiver

    receiver = SmtpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()
