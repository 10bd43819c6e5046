"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port), keeping what it
receives as parsed messages. Used through the ``smtp_receiver`` fixture of ``conftest.py``."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class _Handler:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        parsed["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """``host``/``port`` to put in the settings; ``messages`` received so far (oldest
    first); :meth:`wait_for` polls until ``n`` messages arrived; :meth:`clear` forgets them."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname=self.host, port=self.port)

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop the server (stopping twice does nothing)."""
        if self._controller._thread is not None:  # noqa: SLF001 - aiosmtpd has no public flag
            self._controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self._handler.messages)

    def clear(self) -> None:
        self._handler.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        """The messages sent to ``address``."""
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, n: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self._handler.messages) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages
