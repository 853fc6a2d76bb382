"""A loopback HTTP proxy in front of moto: injects faults, holds requests, logs what it forwards.

It reads a request in whichever protocol botocore speaks (query, JSON or smithy CBOR), so no test
depends on the protocol a botocore version picks (SPEC §11).
"""

from __future__ import annotations

import http.client
import io
import json
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from botocore.parsers import RpcV2CBORParser

THROTTLE_MESSAGE = "Rate exceeded"
HOLD_LIMIT_SECONDS = 60.0  # a held request is let go at the latest after this, so nothing hangs
HOUR = timedelta(hours=1)


# --- what a request asked for ----------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request that reached the proxy: its operation and parameters, decoded."""

    operation: str
    params: dict[str, Any] = field(repr=False)
    fault: str | None = None  # the fault answered instead of forwarding it, if any

    @property
    def start(self) -> datetime:
        return as_time(self.params["StartTime"])

    @property
    def end(self) -> datetime:
        return as_time(self.params["EndTime"])

    @property
    def hours(self) -> list[datetime]:
        count = int((self.end - self.start) / HOUR)
        return [self.start + i * HOUR for i in range(count)]

    @property
    def series(self) -> list[tuple[str, str, str]]:
        """(instance identifier, CloudWatch metric name, statistic) for every statistic asked."""
        if self.operation == "GetMetricStatistics":
            return [
                (_identifier(self.params), self.params["MetricName"], stat)
                for stat in self.params["Statistics"]
            ]
        found = []
        for query in self.params["MetricDataQueries"]:
            stat = query["MetricStat"]
            found.append((_identifier(stat["Metric"]), stat["Metric"]["MetricName"], stat["Stat"]))
        return found

    def points(self) -> list[tuple[str, str, str, datetime]]:
        """Every (identifier, metric, statistic, hour) this request asked the cloud for."""
        return [(*one, hour) for one in self.series for hour in self.hours]


def _identifier(metric: Mapping[str, Any]) -> str:
    (dimension,) = metric["Dimensions"]
    return str(dimension["Value"])


def as_time(value: Any) -> datetime:
    """A timestamp as the protocols carry it (CBOR datetime, JSON epoch, query ISO 8601)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def decode(path: str, headers: Message | Mapping[str, str], body: bytes) -> tuple[str, Any]:
    """(operation, parameters) of a botocore request, whatever its protocol."""
    if "/operation/" in path:  # smithy-rpc-v2-cbor: /service/<service>/operation/<operation>
        stream = io.BufferedReader(io.BytesIO(body))  # type: ignore[arg-type]
        return path.rsplit("/", 1)[-1], RpcV2CBORParser().parse_data_item(stream) if body else {}
    target = headers.get("X-Amz-Target")
    if target:  # JSON: X-Amz-Target: <service>.<operation>
        return str(target).rsplit(".", 1)[-1], json.loads(body or b"{}")
    form = dict(parse_qsl(body.decode(), keep_blank_values=True))  # query: Action=<operation>
    return form.pop("Action", "?"), _unflatten(form)


def _unflatten(form: Mapping[str, str]) -> Any:
    """Query-protocol keys (A.member.1.B=...) back into nested dicts and lists."""
    root: dict[Any, Any] = {}
    for key, value in form.items():
        parts = [int(p) if p.isdigit() else p for p in key.split(".") if p != "member"]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(isinstance(key, int) for key in items):
        return [items[key] for key in sorted(items)]
    return items


# --- faults -----------------------------------------------------------------------------------


def _cbor_text(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 256
    return (bytes([0x60 + len(raw)]) if len(raw) < 24 else bytes([0x78, len(raw)])) + raw


def _cbor_map(pairs: dict[str, str]) -> bytes:
    assert len(pairs) < 24
    return bytes([0xA0 + len(pairs)]) + b"".join(
        _cbor_text(key) + _cbor_text(value) for key, value in pairs.items()
    )


def throttling_answer(content_type: str) -> tuple[dict[str, str], bytes]:
    """CloudWatch's Throttling error in whichever protocol the request was spoken in."""
    return error_answer(content_type, "Throttling", THROTTLE_MESSAGE)


def error_answer(content_type: str, code: str, message: str) -> tuple[dict[str, str], bytes]:
    """An AWS error (a Sender's) in whichever protocol the request was spoken in."""
    query_error = {"x-amzn-query-error": f"{code};Sender", "x-amzn-requestid": "fault"}
    if "cbor" in content_type:
        body = _cbor_map({"__type": code, "message": message})
        return {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"} | (
            query_error
        ), body
    if "json" in content_type:
        body = json.dumps({"__type": code, "message": message}).encode()
        return {"Content-Type": "application/x-amz-json-1.0"} | query_error, body
    body = (  # the query protocol's parser ignores the namespace: any service's will do
        '<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}"
        "</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
    ).encode()
    return {"Content-Type": "text/xml"}, body


# --- the proxy --------------------------------------------------------------------------------


@dataclass
class _Hold:
    operations: Collection[str] | None
    after: int  # matching requests still let through before holding starts
    count: int | None  # matching requests still to hold; None: all of them


class FaultProxy:
    """Loopback HTTP proxy to moto.

    - `faults` (or `inject`): the next requests are answered with these instead of being
      forwarded: "throttle" (CloudWatch's Throttling error), an HTTP status such as "503",
      or None to let that one request through;
    - `refuse`: every request of an operation is answered with an AWS error, e.g. AccessDenied
      as for a policy without it (before and apart from `faults`);
    - `hold`: matching requests wait until `release` (forwarded) or `release(drop=True)`
      (the connection is closed unanswered);
    - `log`: every request, decoded; `forwarded(...)` those that reached moto.
    """

    def __init__(self, upstream: str, faults: Iterable[str | None] = ()) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults = list(faults)
        self.requests = 0
        self.served_faults = 0
        self.log: list[Request] = []
        self.held = 0
        self.refusals: dict[str, str] = {}  # operation -> AWS error code
        self._hold: _Hold | None = None
        self._drop = False
        self._releases = 0
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    endpoint_url = url

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release(drop=True)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def inject(self, *faults: str | None) -> None:
        with self._changed:
            self.faults.extend(faults)

    def refuse(self, operation: str, code: str = "AccessDenied") -> None:
        """Answer every request of `operation` with this AWS error until `allow`."""
        with self._changed:
            self.refusals[operation] = code

    def allow(self, operation: str) -> None:
        with self._changed:
            self.refusals.pop(operation, None)

    def hold(
        self, operations: Collection[str] | None = None, after: int = 0, count: int | None = None
    ) -> None:
        """Hold requests of these operations (all: None), after letting `after` of them pass."""
        with self._changed:
            self._hold = _Hold(operations, after, count)

    def release(self, drop: bool = False) -> None:
        """Stop holding; held requests go on to moto, or are closed unanswered with `drop`."""
        with self._changed:
            self._hold = None
            self._drop = drop
            self._releases += 1
            self._changed.notify_all()

    def pass_held(self) -> None:
        """Let the requests held now go on to moto, and keep holding those that come after."""
        with self._changed:
            self._drop = False
            self._releases += 1
            self._changed.notify_all()

    def wait_held(self, count: int = 1, timeout: float = 30.0) -> None:
        """Block until `count` requests are being held (a bounded wait, never a fixed sleep)."""
        self.wait_for(lambda: self.held >= count, timeout, f"{count} held request(s)")

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; log: {self.log}")
                self._changed.wait(left)

    def forwarded(self, *operations: str) -> list[Request]:
        """Requests that reached moto, of these operations (any, when none are named)."""
        with self._changed:
            return [
                r
                for r in self.log
                if r.fault is None and (not operations or r.operation in operations)
            ]

    def _admit(self, request: Request) -> str | None:
        """The fault to answer, "drop" to close unanswered, or None to forward."""
        with self._changed:
            self.requests += 1
            if request.operation in self.refusals:
                self._record(Request(request.operation, request.params, "refuse"))
                return "refuse"
            fault = self.faults.pop(0) if self.faults else None
            if fault is not None:
                self.served_faults += 1
                self._record(Request(request.operation, request.params, fault))
                return fault
            if self._holds(request.operation):
                return self._wait_for_release(request)
            self._record(request)
            return None

    def _holds(self, operation: str) -> bool:
        hold = self._hold
        if hold is None or (hold.operations is not None and operation not in hold.operations):
            return False
        if hold.after > 0:
            hold.after -= 1
            return False
        if hold.count is not None:
            if hold.count == 0:
                return False
            hold.count -= 1
        return True

    def _wait_for_release(self, request: Request) -> str | None:
        self.held += 1
        self._changed.notify_all()
        releases = self._releases
        self._changed.wait_for(lambda: self._releases != releases, HOLD_LIMIT_SECONDS)
        self.held -= 1
        if self._drop:
            return "drop"
        self._record(request)
        return None

    def _record(self, request: Request) -> None:
        self.log.append(request)
        self._changed.notify_all()

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            conn.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation, params = decode(self.path, self.headers, body)
                fault = proxy._admit(Request(operation, params))
                if fault is None:
                    self._relay(*proxy._forward("POST", self.path, dict(self.headers), body))
                elif fault == "drop":
                    self.close_connection = True
                elif fault == "throttle":
                    headers, payload = throttling_answer(self.headers.get("Content-Type", ""))
                    self._answer(400, list(headers.items()), payload)
                elif fault == "refuse":
                    self._refuse(operation)
                else:
                    self._answer(int(fault), [("Content-Type", "text/html")], b"<h1>oops</h1>")

            def _refuse(self, operation: str) -> None:
                code = proxy.refusals.get(operation, "AccessDenied")
                message = f"not authorized to perform {operation} (refused by the fault proxy)"
                headers, payload = error_answer(self.headers.get("Content-Type", ""), code, message)
                self._answer(403, list(headers.items()), payload)

            def _relay(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                skip = {"content-length", "transfer-encoding", "connection", "server", "date"}
                self._answer(status, [(k, v) for k, v in headers if k.lower() not in skip], body)

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                try:
                    self.send_response(status)
                    for key, value in headers:
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client went away (e.g. a worker killed mid-request)
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
