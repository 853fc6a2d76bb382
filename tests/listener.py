"""A loopback HTTP listener that records every request it receives and answers 403.

It stands for a stranger's server: a test points an account at it and reads what reached it.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback import LOOPBACK, LoopbackServer


class Listener(LoopbackServer):
    def __init__(self, host: str = LOOPBACK) -> None:
        self.received: list[dict[str, str]] = []  # the headers of each request, lower-case names
        super().__init__(self._handler(), host)

    def authorizations(self) -> list[str]:
        return [headers.get("authorization", "") for headers in self.received]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                received.append({name.lower(): value for name, value in self.headers.items()})
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
