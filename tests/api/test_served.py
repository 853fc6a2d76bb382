"""`dbsnooze serve` as a process on a loopback port (issue 8 items 1, 3 and 8): what it refuses
at start, what its access log shows, and what it answers to oversized or malformed requests."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dbsnooze.api.server import MAX_HEAD_BYTES, MAX_TARGET_BYTES

TOKEN = "served-test-token-3e9b41f0c7"
START_TIMEOUT_S = 30.0


@dataclass
class Process:
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _environment(directory: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBSNOOZE_", "AWS_"))}
    env.update(
        DBSNOOZE_DATABASE_URL=f"sqlite:///{directory / 'store.db'}",
        DBSNOOZE_SECRET_KEY_FILE=str(directory / "dbsnooze.key"),
        DBSNOOZE_RUN_WORKER="false",
        DBSNOOZE_RUN_COLLECTOR="false",
        DBSNOOZE_RUN_SCHEDULER="false",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update({f"DBSNOOZE_{name.upper()}": value for name, value in settings.items()})
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(*args: str, env: dict[str, str], **run: Any) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "dbsnooze", "serve", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, **run)


def _wait_until_up(process: subprocess.Popen[bytes], served: Process) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(served.url("/healthz"), timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not start: {served.log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    directory = tmp_path_factory.mktemp("served")
    served = Process(_free_port(), directory / "server.log")
    env = _environment(directory, api_token=TOKEN, port=str(served.port), max_body_bytes="4096")
    with served.log.open("wb") as log:
        command = [sys.executable, "-m", "dbsnooze", "serve"]
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(process, served)
            yield served
        finally:
            process.terminate()
            process.wait(30)


def _raw(served: Process, request: bytes) -> tuple[int, dict[str, str], Any]:
    """One request over a plain socket; the status, headers and JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        # the server may close before all of an oversized request is sent
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


# --- 1. token rules at start ------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "   ", "too-short-token"])
def test_serve_refuses_an_unusable_token_with_a_message_and_no_traceback(
    tmp_path: Path, token: str
) -> None:
    env = _environment(tmp_path, api_token=token)
    done = _serve("--host", "0.0.0.0", "--port", str(_free_port()), env=env)
    assert done.returncode != 0
    assert "DBSNOOZE_API_TOKEN" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert token.strip() == "" or token not in done.stdout + done.stderr


# --- 8. the access log ------------------------------------------------------------------------


def test_tokens_in_query_strings_never_reach_the_access_log(server: Process) -> None:
    secrets = ["q-secret-0a1b2c3d", "q-secret-4e5f6a7b", "q-secret-8c9d0e1f"]
    paths = [
        f"/api/v1/instances?token={TOKEN}",
        f"/api/v1/instances?limit=5&access_token={secrets[0]}",
        f"/api/v1/instances?api_token={secrets[1]}&limit=5",
        f"/healthz?X-Amz-Security-Token={secrets[2]}",
        f"/api/v1/instances?q={TOKEN}",  # not a credential's name, but this server's own token
        f"/api/v1/jobs/{TOKEN}",
    ]
    for path in paths:
        try:
            urllib.request.urlopen(server.url(path), timeout=30).close()
        except urllib.error.HTTPError as answer:
            assert answer.code in (401, 404, 422)
    marker = "/healthz?after=redaction"
    urllib.request.urlopen(server.url(marker), timeout=30).close()
    log = _log_through(server, marker)
    assert "/api/v1/instances?token=[redacted]" in log
    assert "/api/v1/instances?limit=5&access_token=[redacted]" in log
    assert "?api_token=[redacted]&limit=5" in log
    assert "/api/v1/jobs/[redacted]" in log
    for secret in [TOKEN, *secrets]:
        assert secret not in log


def _log_through(served: Process, marker: str) -> str:
    """The server's log once it holds `marker` (the access log is written after the answer)."""
    deadline = time.monotonic() + 30
    while marker not in (text := served.log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return text


# --- 8. oversized and malformed request heads -------------------------------------------------


def test_an_oversized_request_target_gets_414_in_the_error_shape(server: Process) -> None:
    path = "/api/v1/instances?q=" + "a" * MAX_TARGET_BYTES
    status, headers, body = _raw(server, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert status == 414
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] == "uri_too_long"


def test_oversized_headers_get_431_in_the_error_shape(server: Process) -> None:
    filler = "".join(f"X-Filler-{i}: {'b' * 1000}\r\n" for i in range(MAX_HEAD_BYTES // 1000 + 2))
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n{filler}\r\n".encode()
    status, _, body = _raw(server, request)
    assert status == 431
    assert body["error"]["code"] == "headers_too_large"


def test_one_huge_header_is_refused_before_it_ends(server: Process) -> None:
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {'c' * 4 * MAX_HEAD_BYTES}"
    status, _, body = _raw(server, request.encode())  # never finished: no CRLF CRLF
    assert status == 431 and body["error"]["code"] == "headers_too_large"


def test_a_malformed_request_gets_400_in_the_error_shape(server: Process) -> None:
    status, headers, body = _raw(server, b"NOT AN HTTP REQUEST\r\n\r\n")
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] == "bad_request"


def test_a_normal_request_on_the_guarded_protocol(server: Process) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert _raw(server, request)[0] == 200


# --- 3. bodies over real HTTP -----------------------------------------------------------------


def test_an_unauthenticated_body_is_refused_before_it_is_sent(server: Process) -> None:
    """The head promises 100 MB and the body never comes: the answer cannot have waited for it."""
    request = (
        "POST /api/v1/cloud-accounts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    )
    status, headers, body = _raw(server, request.encode())
    assert status == 413 and body["error"]["code"] == "body_too_large"
    small = request.replace("100000000", "4000")
    status, headers, body = _raw(server, small.encode())
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert headers["connection"] == "close"


def test_a_chunked_body_over_the_limit_gets_413(server: Process) -> None:
    chunk = b'{"name": "' + b"x" * 1000
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6)) + b"0\r\n\r\n"
    head = (
        "POST /api/v1/cloud-accounts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    status, _, body = _raw(server, head.encode() + chunks)
    assert status == 413 and body["error"]["code"] == "body_too_large"
