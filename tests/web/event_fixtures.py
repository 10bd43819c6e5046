"""What the event tests of the web layer (issue 6) share: logging in through the login form,
the CSRF token of a page, the check that a page has no inline code (the CSP forbids it), and
the field errors of a 422."""

from __future__ import annotations

import re
from html.parser import HTMLParser

PASSWORD = "correct horse battery"  # the password of the factory users (tests/collaboration)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


def log_in(client, user) -> str:
    """Log ``user`` in; the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/inbox").text)  # the session's token after logging in


class _InlineCode(HTMLParser):
    """Inline scripts (JSON data blocks are data, not code), styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "style":
            self.problems.append("<style>")
        if tag == "script" and "src" not in values and values.get("type") != "application/json":
            self.problems.append("inline <script>")
        self.problems += [f"{n}= on <{tag}>" for n in values if n == "style" or n.startswith("on")]


def assert_no_inline_code(html: str) -> None:
    parser = _InlineCode()
    parser.feed(html)
    assert parser.problems == []


def errors_of(response) -> dict[str, str]:
    """The field errors of a 422 answer of the JSON API."""
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "invalid input"
    return response.json()["errors"]
