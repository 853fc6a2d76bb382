"""Browser-test helpers: console capture, API calls, screenshots; the server: `liveserver`."""

from __future__ import annotations

import http.server
import json
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dbsnooze.config import Settings
from liveserver import Served as Served  # the browser tests' server, shared with others
from liveserver import serve as serve
from loopback import LoopbackServer

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
TIMEZONE = "America/New_York"  # not UTC, so a page that ignored the viewer's zone would show
TOKEN = "browser-test-token-7f3a9c"


def web_settings(directory: Path, **extra: object) -> Settings:
    """A served store in `directory`: no scheduler or collector, quick cloud retries."""
    return Settings(
        database_url=f"sqlite:///{directory / 'store.db'}",
        secret_key_file=directory / "dbsnooze.key",
        run_scheduler=False,
        run_collector=False,
        auto_backfill=False,
        backfill_max_days=14,
        backfill_default_days=7,
        cloud_max_attempts=3,
        cloud_timeout_seconds=5,
        **extra,
    )


class Console:
    """Console errors and uncaught exceptions of a page; some tests expect a few by pattern."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.expected: list[re.Pattern[str]] = []

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected)]


@contextmanager
def foreign_site(html: str) -> Iterator[str]:
    """Another origin on loopback (its own port) whose only page is `html`: the attacker's."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with LoopbackServer(Page) as site:
        yield f"{site.url}/"


def screenshot_path(name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")


def call(served: Served, method: str, path: str, token: str | None = None) -> Any:
    """The JSON answer of one API call to a served app."""
    request = urllib.request.Request(served.url + path, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def backfilled(served: Served, name: str, days: int = 7) -> int:
    """The instance's id, once a backfill of it has finished (a no-op when already done)."""
    instance_id = served.ids[name]
    path = f"/api/v1/instances/{instance_id}/metrics/backfill?days={days}&wait=true"
    answer = call(served, "POST", path)
    assert answer["state"] == "succeeded", answer
    return instance_id
