"""A small stateful layer in front of moto's RDS that behaves as real RDS does where moto does not
(SPEC §13): a stop or start takes a while (`stopping` / `starting` by the injected clock), a unit
in transition refuses another stop or start, an Aurora member or a source of read replicas
refuses StopDBInstance, and a unit stopped for 7 days is started again by "the cloud".

It decodes requests with the fault proxy's protocol-agnostic `decode`, and rewrites answers in
whichever form moto gave them (query protocol XML, or JSON). Put a FaultProxy in front of it to
log requests or inject faults: product -> FaultProxy -> RdsLayer -> moto.
"""

from __future__ import annotations

import http.client
import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from dbsnooze.demo.emulator import make_client
from faultproxy import decode
from loopback import LoopbackServer

SEVEN_DAYS = timedelta(days=7)
RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"


@dataclass(frozen=True)
class _Kind:
    id_param: str
    element: str
    status_field: str
    state_error: str
    stop: str
    start: str


INSTANCE = _Kind(
    "DBInstanceIdentifier",
    "DBInstance",
    "DBInstanceStatus",
    "InvalidDBInstanceState",
    "StopDBInstance",
    "StartDBInstance",
)
CLUSTER = _Kind(
    "DBClusterIdentifier",
    "DBCluster",
    "Status",
    "InvalidDBClusterStateFault",
    "StopDBCluster",
    "StartDBCluster",
)
_BY_OPERATION = {
    op: (kind, op == kind.start) for kind in (INSTANCE, CLUSTER) for op in (kind.stop, kind.start)
}
_Key = tuple[str, str]  # (element, identifier)


@dataclass
class _Change:
    status: str  # stopping | starting
    until: datetime


class RdsLayer:
    def __init__(
        self,
        upstream: str,
        clock: Callable[[], datetime],
        region: str = "us-east-1",
        transition: timedelta = timedelta(minutes=4),
        auto_restart: bool = True,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.clock = clock
        self.transition = transition
        self.auto_restart = auto_restart
        self.restarted: list[str] = []  # identifiers the 7-day rule started
        self.refused: list[tuple[str, str]] = []  # (operation, identifier) answered with an error
        self._rds = make_client(upstream, "rds", region)
        self._lock = threading.Lock()
        self._changes: dict[_Key, _Change] = {}
        self._stopped_at: dict[_Key, datetime] = {}
        self._server = LoopbackServer(self._handler())

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> RdsLayer:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.__exit__(None, None, None)

    def stopped_by_someone_at(self, identifier: str, at: datetime, cluster: bool = False) -> None:
        """Record that a unit already stopped in moto was stopped at `at` (for the 7-day rule)."""
        with self._lock:
            self._stopped_at[((CLUSTER if cluster else INSTANCE).element, identifier)] = at

    def status(self, identifier: str, cluster: bool = False) -> str | None:
        """The transitional status shown for a unit now, if any."""
        with self._lock:
            self._advance()
            change = self._changes.get(((CLUSTER if cluster else INSTANCE).element, identifier))
            return change.status if change else None

    # --- the state ------------------------------------------------------------------------

    def _advance(self) -> None:
        now = self.clock()
        for key in [k for k, change in self._changes.items() if change.until <= now]:
            del self._changes[key]
        if not self.auto_restart:
            return
        for key, at in list(self._stopped_at.items()):
            if now - at >= SEVEN_DAYS:
                self._restart(key, now)

    def _restart(self, key: _Key, now: datetime) -> None:
        element, identifier = key
        if element == INSTANCE.element:
            self._rds.start_db_instance(DBInstanceIdentifier=identifier)
        else:
            self._rds.start_db_cluster(DBClusterIdentifier=identifier)
        del self._stopped_at[key]
        self._changes[key] = _Change("starting", now + self.transition)
        self.restarted.append(identifier)

    def _refusal(self, operation: str, params: dict[str, Any]) -> tuple[str, str] | None:
        """(error code, message) real RDS answers instead of acting, or None."""
        kind, _ = _BY_OPERATION[operation]
        identifier = str(params.get(kind.id_param, ""))
        change = self._changes.get((kind.element, identifier))
        if change is not None:
            return kind.state_error, f"{identifier} is {change.status}"
        if operation == INSTANCE.stop:
            return self._instance_refusal(identifier)
        return None

    def _instance_refusal(self, identifier: str) -> tuple[str, str] | None:
        try:
            (item,) = self._rds.describe_db_instances(DBInstanceIdentifier=identifier)[
                "DBInstances"
            ]
        except Exception:  # moto answers the not-found itself
            return None
        if item.get("DBClusterIdentifier"):
            return "InvalidDBInstanceState", f"{identifier} is a cluster member: stop the cluster"
        if item.get("ReadReplicaDBInstanceIdentifiers"):
            return "InvalidDBInstanceState", f"{identifier} has read replicas"
        return None

    def _acted(self, operation: str, params: dict[str, Any]) -> None:
        kind, start = _BY_OPERATION[operation]
        key = (kind.element, str(params.get(kind.id_param, "")))
        now = self.clock()
        self._changes[key] = _Change("starting" if start else "stopping", now + self.transition)
        if start:
            self._stopped_at.pop(key, None)
        else:
            self._stopped_at[key] = now

    # --- answers ----------------------------------------------------------------------------

    def _rewrite(self, body: bytes, content_type: str) -> bytes:
        if not self._changes:
            return body
        if "json" in content_type:
            data = json.loads(body or b"{}")
            self._rewrite_json(data)
            return json.dumps(data).encode()
        if not body.strip().startswith(b"<"):
            return body
        ET.register_namespace("", RDS_NS)
        root = ET.fromstring(body)
        for node in root.iter():
            kind = {INSTANCE.element: INSTANCE, CLUSTER.element: CLUSTER}.get(_local(node.tag))
            if kind is not None:
                self._rewrite_xml(node, kind)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    def _rewrite_xml(self, node: ET.Element, kind: _Kind) -> None:
        children = {_local(child.tag): child for child in node}
        identifier = children.get(kind.id_param)
        status = children.get(kind.status_field)
        if identifier is None or status is None:
            return
        change = self._changes.get((kind.element, identifier.text or ""))
        if change is not None:
            status.text = change.status

    def _rewrite_json(self, data: Any) -> None:
        if isinstance(data, list):
            for item in data:
                self._rewrite_json(item)
            return
        if not isinstance(data, dict):
            return
        for kind in (INSTANCE, CLUSTER):
            if kind.status_field in data and kind.id_param in data:
                change = self._changes.get((kind.element, str(data[kind.id_param])))
                if change is not None:
                    data[kind.status_field] = change.status
        for value in data.values():
            self._rewrite_json(value)

    def _forward(self, path: str, headers: dict[str, str], body: bytes) -> Any:
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request("POST", path, body=body, headers=headers)
            answer = conn.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            conn.close()

    def _handle(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        operation, params = decode(path, headers, body)
        with self._lock:
            self._advance()
            refusal = self._refusal(operation, params) if operation in _BY_OPERATION else None
            if refusal is not None:
                kind, _ = _BY_OPERATION[operation]
                self.refused.append((operation, str(params.get(kind.id_param, ""))))
                return _error(headers.get("Content-Type", ""), *refusal)
        status, answer_headers, answer = self._forward(path, headers, body)
        with self._lock:
            if status == 200 and operation in _BY_OPERATION:
                self._acted(operation, params)
            content_type = dict((k.lower(), v) for k, v in answer_headers).get("content-type", "")
            if status == 200:
                answer = self._rewrite(answer, content_type)
        return status, answer_headers, answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        layer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, headers, answer = layer._handle(self.path, dict(self.headers), body)
                skip = {"content-length", "transfer-encoding", "connection", "server", "date"}
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in skip:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _error(content_type: str, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """RDS's error answer in the protocol the request was spoken in."""
    if "json" in content_type:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("x-amzn-query-error", f"{code};Sender"),
        ]
        return 400, headers, body
    xml = (
        f'<ErrorResponse xmlns="{RDS_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>layer</RequestId></ErrorResponse>"
    )
    return 400, [("Content-Type", "text/xml")], xml.encode()
