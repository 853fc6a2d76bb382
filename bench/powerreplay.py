"""RDS power answered from memory: moto's answers for one instance, replayed for thousands.

moto renders every described instance through a template (about 1 ms each) and takes about 9 ms
to create one, so a fleet of 3,000 would measure moto more than dbsnooze. Instead, as
`bench.replay` does for CloudWatch:

1. `record` creates one template instance in a real moto server over HTTP, and keeps moto's XML
   for it described while available and while stopped, and for a StopDBInstance and a
   StartDBInstance of it.
2. `PowerReplayer` hooks the RDS client's `before-send` event. It holds the fleet's statuses
   (what the cloud would say of each instance); it answers a DescribeDBInstances by reading the
   identifiers botocore put in the filter and joining one recorded fragment per instance the
   fleet knows, in the status it is in, with its own identifier; a StopDBInstance or
   StartDBInstance changes the status and answers moto's recorded XML. botocore then parses
   those bytes as it would parse RDS's: serializing, parsing and dbsnooze's work are what gets
   measured; moto's rendering, the loopback HTTP and AWS's latency are not.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from botocore.awsrequest import AWSResponse

from bench.harness import MotoServer
from bench.replay import Body, replay_headers

TEMPLATE = "bench-template-0000"
_EVENT = "before-send.rds"
_FRAGMENT = re.compile(rb"<DBInstance>.*?</DBInstance>", re.DOTALL)
_DESCRIBE = re.compile(rb"^(.*<DBInstances>).*(</DBInstances>.*)$", re.DOTALL)
_IDS = re.compile(r"^Filters\.Filter\.1\.Values\.Value\.\d+$")
AVAILABLE, STOPPED = "available", "stopped"


@dataclass(frozen=True)
class PowerRecording:
    """moto's XML, split where the template's identifier stood."""

    head: bytes  # a DescribeDBInstances answer up to its list of instances ...
    tail: bytes  # ... and after it
    fragments: dict[str, list[bytes]]  # status -> one <DBInstance> element, split on the id
    answers: dict[str, list[bytes]]  # StopDBInstance / StartDBInstance -> whole answer, split
    headers: dict[str, str]


def record(cloud: MotoServer, region: str) -> PowerRecording:
    rds = cloud.client("rds", region)
    bodies: dict[str, bytes] = {}
    headers: dict[str, str] = {}

    def keep(http_response: Any = None, model: Any = None, **_: Any) -> None:
        bodies[model.name] = http_response.content
        headers.update(http_response.headers)

    rds.meta.events.register("after-call.rds", keep)
    rds.create_db_instance(
        DBInstanceIdentifier=TEMPLATE,
        DBInstanceClass="db.r6g.large",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="bench_user",
        MasterUserPassword="not-a-real-password",
    )
    described: dict[str, bytes] = {}
    for status, operation in ((AVAILABLE, "stop_db_instance"), (STOPPED, "start_db_instance")):
        rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [TEMPLATE]}])
        described[status] = bodies["DescribeDBInstances"]
        getattr(rds, operation)(DBInstanceIdentifier=TEMPLATE)
    rds.meta.events.unregister("after-call.rds", keep)
    outer = _DESCRIBE.match(described[AVAILABLE])
    if outer is None:
        raise RuntimeError("moto's DescribeDBInstances answer has no <DBInstances> list")
    return PowerRecording(
        head=outer.group(1),
        tail=outer.group(2),
        fragments={status: _split(_one_fragment(body)) for status, body in described.items()},
        answers={op: _split(bodies[op]) for op in ("StopDBInstance", "StartDBInstance")},
        headers=replay_headers(headers),
    )


def _one_fragment(body: bytes) -> bytes:
    found: list[bytes] = _FRAGMENT.findall(body)
    (fragment,) = found
    return fragment


def _split(body: bytes) -> list[bytes]:
    return body.split(TEMPLATE.encode())


class PowerReplayer:
    """A fleet's RDS: statuses by identifier, answered from a PowerRecording; counts calls."""

    def __init__(self, recording: PowerRecording, identifiers: Iterable[str]) -> None:
        self.recording = recording
        self.status = dict.fromkeys(identifiers, AVAILABLE)
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        client.meta.events.register(_EVENT, self._answer)

    def set_all(self, status: str) -> None:
        self.status = dict.fromkeys(self.status, status)

    def _answer(self, request: Any = None, event_name: str = "", **_: Any) -> AWSResponse:
        operation = event_name.rsplit(".", 1)[-1]
        asked = parse_qs(request.body.decode() if isinstance(request.body, bytes) else request.body)
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            if operation == "DescribeDBInstances":
                body = self._describe(asked)
            elif operation in ("StopDBInstance", "StartDBInstance"):
                body = self._power(operation, asked["DBInstanceIdentifier"][0])
            else:
                raise RuntimeError(f"the power replayer does not answer {operation}")
        return AWSResponse(request.url, 200, dict(self.recording.headers), Body(body))

    def _describe(self, asked: dict[str, list[str]]) -> bytes:
        if asked.get("Filters.Filter.1.Name") != ["db-instance-id"] or "Marker" in asked:
            raise RuntimeError(f"the power replayer answers one id filter, not {sorted(asked)}")
        ids = [value for key, values in asked.items() if _IDS.match(key) for value in values]
        if len(ids) > int(asked.get("MaxRecords", ["100"])[0]):
            raise RuntimeError("more identifiers than a page holds: the replayer does not page")
        fragments = self.recording.fragments
        found = [
            identifier.encode().join(fragments[self.status[identifier]])
            for identifier in ids
            if identifier in self.status
        ]
        return self.recording.head + b"".join(found) + self.recording.tail

    def _power(self, operation: str, identifier: str) -> bytes:
        if identifier not in self.status:
            raise RuntimeError(f"{operation} of {identifier}, which the fleet does not hold")
        self.status[identifier] = STOPPED if operation == "StopDBInstance" else AVAILABLE
        return identifier.encode().join(self.recording.answers[operation])
