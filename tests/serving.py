"""A real server on a free loopback port, in a thread, for tests that talk HTTP to it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI

from dbsnooze.api.app import create_app
from dbsnooze.config import Settings
from dbsnooze.context import Context

START_TIMEOUT_S = 20.0


@dataclass
class Served:
    url: str
    app: FastAPI
    ctx: Context
    ids: dict[str, int] = field(default_factory=dict)


@contextmanager
def serve(settings: Settings, ctx: Context) -> Iterator[Served]:
    app = create_app(settings, ctx)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", app, ctx)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
