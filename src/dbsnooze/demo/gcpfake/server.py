"""The fake's HTTP face: a loopback server routing Google's REST paths to the fake's parts.

Every API request passes fault injection first, then needs a bearer token the token endpoint
issued, then the IAM permission Google documents for the method on that project.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from dbsnooze.demo.gcpfake.auth import OAuthError
from dbsnooze.demo.gcpfake.errors import GoogleError, invalid, not_found
from dbsnooze.demo.gcpfake.faults import Logged

if TYPE_CHECKING:
    from dbsnooze.demo.gcpfake import GcpFake

MAX_BODY_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Call:
    """One authorized API request, as a handler sees it."""

    caller: str
    path: re.Match[str]
    query: Mapping[str, list[str]]
    body: Any

    @property
    def project(self) -> str:
        return self.path["project"]


def _instances(fake: GcpFake, call: Call) -> Any:
    query = call.query
    return fake.sql.list_page(call.project, _int(query, "maxResults"), _first(query, "pageToken"))


def _instance(fake: GcpFake, call: Call) -> Any:
    return fake.sql.get(call.project, call.path["instance"])


def _operation(fake: GcpFake, call: Call) -> Any:
    return fake.sql.operation(call.project, call.path["operation"])


def _time_series(fake: GcpFake, call: Call) -> Any:
    return fake.monitoring.list(call.project, call.query)


def _patch(fake: GcpFake, call: Call) -> Any:
    if not isinstance(call.body, dict):
        raise invalid("The request body must be a DatabaseInstance JSON object.")
    return fake.sql.patch(call.project, call.path["instance"], call.body, call.caller)


def _impersonate(fake: GcpFake, call: Call) -> Any:
    return fake.identities.impersonate(call.caller, unquote(call.path["account"]))


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: re.Pattern[str]
    permission: str | None  # the IAM permission Google checks on the project; None: no project
    handle: Callable[[GcpFake, Call], Any]


def _path(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/?#]+)", template))


ROUTES: tuple[Route, ...] = (
    Route("GET", _path("/v1/projects/{project}/instances"), "cloudsql.instances.list", _instances),
    Route(
        "GET",
        _path("/v1/projects/{project}/instances/{instance}"),
        "cloudsql.instances.get",
        _instance,
    ),
    Route(
        "PATCH",
        _path("/v1/projects/{project}/instances/{instance}"),
        "cloudsql.instances.update",
        _patch,
    ),
    Route(
        "GET",
        _path("/v1/projects/{project}/operations/{operation}"),
        "cloudsql.instances.get",
        _operation,
    ),
    Route(
        "GET",
        _path("/v3/projects/{project}/timeSeries"),
        "monitoring.timeSeries.list",
        _time_series,
    ),
    Route(
        "POST",
        _path("/v1/projects/-/serviceAccounts/{account}:generateAccessToken"),
        None,  # the IAM check is on the target account, inside impersonate()
        _impersonate,
    ),
)

TOKEN_PATH = "/token"


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _int(query: Mapping[str, list[str]], name: str) -> int | None:
    text = _first(query, name)
    if text is None:
        return None
    if not text.isdigit():
        raise invalid(f"Invalid value for {name}: {text!r}")
    return int(text)


def make_server(fake: GcpFake, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body leave in two writes: without this, Nagle's algorithm holds the body
        # until the client's delayed ACK of the headers (tens of milliseconds per request)
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            body = self._body()
            try:
                fault = fake.faults.admit(Logged(method, parts.path, query))
            except ConnectionAbortedError:
                self.close_connection = True
                return
            if fault is not None:
                self._json(fault.http_status, fault.body())
            elif method == "POST" and parts.path == TOKEN_PATH:
                self._token(body)
            else:
                self._api(method, parts.path, query, body)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(min(length, MAX_BODY_BYTES)) if length else b""

        def _token(self, body: bytes) -> None:
            form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
            try:
                self._json(200, fake.identities.exchange(form))
            except OAuthError as error:
                self._json(400, error.body())

        def _api(self, method: str, path: str, query: Mapping[str, list[str]], body: bytes) -> None:
            try:
                answer = _dispatch(
                    fake, method, path, query, self.headers.get("Authorization"), body
                )
            except GoogleError as error:
                self._json(error.http_status, error.body())
                return
            self._json(200, answer)

        def _json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (e.g. its timeout fired)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def _dispatch(
    fake: GcpFake,
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    authorization: str | None,
    body: bytes,
) -> Any:
    for route in ROUTES:
        match = route.path.fullmatch(path)
        if match and route.method == method:
            call = Call(fake.identities.caller(authorization), match, query, _json_body(body))
            if route.permission is not None:
                fake.identities.require(call.caller, call.project, route.permission)
            return route.handle(fake, call)
    raise not_found(f"The requested URL {path} was not found on this server.")


def _json_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None
