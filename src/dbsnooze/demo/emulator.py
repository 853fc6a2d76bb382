"""A moto server on loopback, and boto3 clients that talk only to it.

moto keeps its state in process-wide backends: every emulator in one process serves the same
data, and `reset()` (or leaving a `mock_aws` block) wipes it for all of them.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import urllib.request
from types import TracebackType
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from moto.server import ThreadedMotoServer

LOOPBACK = "127.0.0.1"
DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
_SESSION_LOCK = threading.Lock()
_RESET_PATH = "/moto-api/reset"
_RESET_TIMEOUT_S = 10.0
# Every botocore setting loses its config-file and environment sources and the shared files
# become empty, so a user's AWS_PROFILE or ~/.aws can never leak into the demo.
_EMPTY_FILES = {"config_file": os.devnull, "credentials_file": os.devnull}


def _sealed_session_vars() -> dict[str, tuple[Any, Any, Any, Any]]:
    defaults = botocore.session.Session.SESSION_VARIABLES
    return {
        name: (None, None, _EMPTY_FILES.get(name, default), convert)
        for name, (_, _, default, convert) in defaults.items()
    }


@functools.cache
def _sealed_session() -> boto3.session.Session:
    sealed = botocore.session.Session(session_vars=_sealed_session_vars())
    return boto3.session.Session(botocore_session=sealed)


def make_client(endpoint_url: str, service: str, region: str, config: Config | None = None) -> Any:
    """A boto3 client for `service` in `region` at `endpoint_url`, with dummy credentials."""
    # One shared session loads each service model once (a fresh session costs ~100 ms per
    # client); sessions are not thread-safe, so clients are made one at a time.
    with _SESSION_LOCK:
        return _sealed_session().client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            config=config,
            **DUMMY_CREDENTIALS,
        )


def _ensure_port_free(host: str, port: int) -> None:
    # ThreadedMotoServer.start() waits forever if its thread cannot bind, so fail here instead.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, port))


def _quiet_request_log() -> None:
    # werkzeug logs every request at INFO unless the application configured its logger.
    werkzeug_logger = logging.getLogger("werkzeug")
    if werkzeug_logger.level == logging.NOTSET:
        werkzeug_logger.setLevel(logging.WARNING)


class Emulator:
    """A moto server bound to loopback; `port=0` picks a free port."""

    def __init__(self, host: str = LOOPBACK, port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: ThreadedMotoServer | None = None
        self._endpoint_url: str | None = None

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._endpoint_url

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        if self._server is not None:
            return self.endpoint_url
        _ensure_port_free(self._host, self._port)
        _quiet_request_log()
        server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self._endpoint_url = f"http://{host}:{port}"
        return self._endpoint_url

    def stop(self) -> None:
        """Stop serving; werkzeug closes the listening socket when its loop ends."""
        server, self._server, self._endpoint_url = self._server, None, None
        if server is not None:
            server.stop()

    def client(self, service: str, region: str, config: Config | None = None) -> Any:
        return make_client(self.endpoint_url, service, region, config)

    def reset(self) -> None:
        """Forget every resource and datapoint (in all of this process's moto backends)."""
        request = urllib.request.Request(self.endpoint_url + _RESET_PATH, method="POST")
        with urllib.request.urlopen(request, timeout=_RESET_TIMEOUT_S):
            pass

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
