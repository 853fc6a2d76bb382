"""uvicorn as dbsnooze runs it: a bounded request head, and protocol errors in the error shape.

uvicorn's httptools protocol puts no limit on the request line or the headers, and answers a
malformed request with a plain-text 400. Here the target (path and query) is capped at
MAX_TARGET_BYTES (414) and the whole head at MAX_HEAD_BYTES (431), and every such refusal is
the JSON `{"error": {...}}` the app itself uses. These answers are written by the protocol
before any ASGI app exists for the request, so no middleware could give them.
"""

from __future__ import annotations

import http
import json
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dbsnooze.api.errors import error_body
from dbsnooze.config import Settings

MAX_TARGET_BYTES = 8 * 1024
MAX_HEAD_BYTES = 64 * 1024
# After refusing, what the client still sends is read and dropped for this long: closing with
# unread data makes the kernel reset the connection, and the client would lose our answer.
LINGER_SECONDS = 2.0
HEAD_TOO_LARGE = (431, "headers_too_large", f"the request head passes {MAX_HEAD_BYTES} bytes")


class _HeadTooLarge(Exception):
    """Raised from a parser callback; httptools turns it into a parser error."""


class GuardedHttpTools(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = 0  # bytes received since the last complete head
        self._in_body = False
        self._refusal: tuple[int, str, str] | None = None
        self._answered = False

    def data_received(self, data: bytes) -> None:
        if self._answered:
            return
        self._pending += len(data)
        super().data_received(data)
        if not self._in_body and self._pending > MAX_HEAD_BYTES and not self._answered:
            self._answer(*HEAD_TOO_LARGE)  # a head still coming: what arrived is already too much

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_TARGET_BYTES:
            message = f"the request target passes {MAX_TARGET_BYTES} bytes"
            self._refusal = (414, "uri_too_long", message)
            raise _HeadTooLarge

    def on_headers_complete(self) -> None:
        self._pending, self._in_body = 0, True
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > MAX_HEAD_BYTES:  # a whole head that arrived in one read
            self._refusal = HEAD_TOO_LARGE
            raise _HeadTooLarge
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._pending, self._in_body = 0, False
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to anything the parser rejects, ours included."""
        self._answer(*(self._refusal or (400, "bad_request", "the HTTP request is malformed")))

    def _answer(self, status: int, code: str, message: str) -> None:
        body = json.dumps(error_body(code, message)).encode()
        head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}".encode()]
        head += [name + b": " + value for name, value in self.server_state.default_headers]
        head += [
            b"content-type: application/json",
            b"content-length: " + str(len(body)).encode(),
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self._answered = True
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the answer, then FIN; closed when the client closes
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def server_config(app: ASGIApp, settings: Settings, **overrides: Any) -> uvicorn.Config:
    options: dict[str, Any] = {"host": settings.host, "port": settings.port, "log_config": None}
    return uvicorn.Config(app, http=GuardedHttpTools, **(options | overrides))
