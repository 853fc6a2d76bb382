"""GetMetricData answered from memory: real moto responses, recorded once, replayed at fleet scale.

moto's GetMetricData does work in (queries x periods x every datapoint in the window), so a fleet of
1,000 instances cannot be answered by it in a benchmark's time (SPEC §11). Instead:

1. `record` asks a real moto server over HTTP, once per template instance and window, for all
   20 queries of that instance (5 metrics x 4 statistics), and keeps each result exactly as moto
   encoded it (timestamps, values, label, status).
2. `Replayer` hooks a boto3 client's `before-send` event for GetMetricData. For each request it
   reads the queries botocore serialized, maps each one to the recorded result of the same
   metric and statistic of a template instance (chosen by a stable hash of the instance id), puts
   the request's own query Id on it and answers an HTTP 200 with the assembled body. botocore then
   parses those bytes exactly as it would parse CloudWatch's: parsing, planning and writing are
   what gets measured, and none of dbsnooze's code is patched.

CloudWatch's results carry the caller's query Ids, not instance ids, so the Id is all that needs
rewriting. The recorded wire format is whatever botocore spoke to moto; replay supports the JSON
protocol (what botocore 1.44 uses for CloudWatch) and refuses any other loudly.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol

from botocore.awsrequest import AWSResponse

from dbsnooze.metrics import DIMENSION, METRICS, NAMESPACE, STATISTICS

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
_PLACEHOLDER = "\x00query-id\x00"
_EVENT = "before-send.cloudwatch.GetMetricData"
# (window start, window end) in epoch seconds, as the JSON protocol carries timestamps.
SpanKey = tuple[int, int]


class Span(Protocol):
    """A window asked of CloudWatch: an HourRange, or any other start and end."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


@dataclass(frozen=True)
class Recording:
    """Per window and template instance, moto's result for each (metric name, statistic)."""

    templates: tuple[str, ...]
    results: dict[SpanKey, list[dict[str, dict[str, Any]]]]  # [template][f"{metric}/{stat}"]
    headers: dict[str, str]
    moto_seconds: float

    def save(self, path: Path) -> None:
        data = {
            "templates": list(self.templates),
            "results": [
                {"start": start, "end": end, "templates": per_template}
                for (start, end), per_template in self.results.items()
            ],
            "headers": self.headers,
            "moto_seconds": self.moto_seconds,
        }
        path.write_text(json.dumps(data))

    @classmethod
    def load(cls, path: Path) -> Recording:
        data = json.loads(path.read_text())
        results = {(item["start"], item["end"]): item["templates"] for item in data["results"]}
        return cls(tuple(data["templates"]), results, data["headers"], data["moto_seconds"])


def span_key(span: Span) -> SpanKey:
    return (int(span.start.timestamp()), int(span.end.timestamp()))


def record(
    sources: Sequence[tuple[Any, str]], spans: Sequence[Span], period: int = 3600
) -> Recording:
    """Ask moto, for each (client, template instance), every metric and statistic per window,
    in points of `period` seconds.

    Give each template its own region: moto's work per query grows with every datapoint of the
    region, so one instance per region keeps recording to seconds.
    """
    results: dict[SpanKey, list[dict[str, dict[str, Any]]]] = {span_key(span): [] for span in spans}
    headers: dict[str, str] = {}
    moto_seconds = 0.0
    for cloudwatch, identifier in sources:
        with _Capture(cloudwatch) as captured:
            for span in spans:
                started = time.perf_counter()
                answer = _ask(cloudwatch, captured, identifier, span, period)
                moto_seconds += time.perf_counter() - started
                results[span_key(span)].append(answer)
            headers = captured.headers
    templates = tuple(identifier for _, identifier in sources)
    return Recording(templates, results, replay_headers(headers), moto_seconds)


def _ask(
    cloudwatch: Any, captured: _Capture, identifier: str, span: Span, period: int
) -> dict[str, dict[str, Any]]:
    queries = _queries(identifier, period)
    cloudwatch.get_metric_data(
        MetricDataQueries=[query for query, _ in queries],
        StartTime=span.start,
        EndTime=span.end,
        ScanBy="TimestampAscending",
    )
    by_id = {query["Id"]: key for query, key in queries}
    return {by_id[r["Id"]]: r for r in json.loads(captured.body)["MetricDataResults"]}


class _Capture:
    """Keeps the raw body of the last GetMetricData answer; refuses a protocol it cannot replay."""

    def __init__(self, cloudwatch: Any) -> None:
        self.events = cloudwatch.meta.events
        self.body = b""
        self.headers: dict[str, str] = {}

    def __enter__(self) -> _Capture:
        self.events.register("after-call.cloudwatch.GetMetricData", self._keep)
        self.events.register(_EVENT, self._check)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.events.unregister("after-call.cloudwatch.GetMetricData", self._keep)
        self.events.unregister(_EVENT, self._check)

    def _keep(self, http_response: Any = None, **_: Any) -> None:
        self.body = http_response.content
        self.headers = dict(http_response.headers)

    def _check(self, request: Any = None, **_: Any) -> None:
        content_type = request.headers.get("Content-Type", b"")
        if isinstance(content_type, bytes):
            content_type = content_type.decode()
        if content_type != JSON_CONTENT_TYPE:
            raise RuntimeError(
                f"botocore spoke {content_type!r} to CloudWatch; the replayer speaks only "
                f"{JSON_CONTENT_TYPE} (awsJson1_0)"
            )


def _queries(identifier: str, period: int) -> list[tuple[dict[str, Any], str]]:
    pairs = [(spec.cloudwatch_name, stat) for spec in METRICS.values() for stat in STATISTICS]
    return [
        (
            {
                "Id": f"r{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": name,
                        "Dimensions": [{"Name": DIMENSION, "Value": identifier}],
                    },
                    "Period": period,
                    "Stat": stat,
                },
                "ReturnData": True,
            },
            f"{name}/{stat}",
        )
        for index, (name, stat) in enumerate(pairs)
    ]


def replay_headers(headers: dict[str, str]) -> dict[str, str]:
    dropped = {"content-length", "date", "connection", "server"}
    return {k: v for k, v in headers.items() if k.lower() not in dropped}


class Body(BytesIO):
    """A recorded answer's body as botocore reads a streamed one."""

    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


class Replayer:
    """Answers a client's GetMetricData requests from a Recording; counts what it answered."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.calls = 0
        self.queries = 0
        self._lock = threading.Lock()
        self._fragments: dict[tuple[SpanKey, int, str], tuple[bytes, bytes]] = {
            (span, index, key): _fragment(result)
            for span, per_template in recording.results.items()
            for index, results in enumerate(per_template)
            for key, result in results.items()
        }

    def attach(self, client: Any) -> None:
        client.meta.events.register(_EVENT, self._answer)

    def _answer(self, request: Any = None, **_: Any) -> AWSResponse:
        asked = json.loads(request.body)
        span = (int(asked["StartTime"]), int(asked["EndTime"]))
        if (span, 0, _key(asked["MetricDataQueries"][0])) not in self._fragments:
            raise KeyError(f"no recording for the window {_span_text(span)}")
        pieces = [self._piece(span, query) for query in asked["MetricDataQueries"]]
        body = b'{"MetricDataResults": [' + b", ".join(pieces) + b'], "Messages": []}'
        with self._lock:
            self.calls += 1
            self.queries += len(pieces)
        return AWSResponse(request.url, 200, dict(self.recording.headers), Body(body))

    def _piece(self, span: SpanKey, query: dict[str, Any]) -> bytes:
        identifier = query["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
        template = zlib.crc32(identifier.encode()) % len(self.recording.templates)
        head, tail = self._fragments[(span, template, _key(query))]
        query_id: str = query["Id"]
        return head + query_id.encode() + tail


def _key(query: dict[str, Any]) -> str:
    stat = query["MetricStat"]
    return f"{stat['Metric']['MetricName']}/{stat['Stat']}"


def _fragment(result: dict[str, Any]) -> tuple[bytes, bytes]:
    encoded = json.dumps({**result, "Id": _PLACEHOLDER}).encode()
    head, tail = encoded.split(json.dumps(_PLACEHOLDER).encode())
    return head + b'"', b'"' + tail


def _span_text(span: SpanKey) -> str:
    start, end = (datetime.fromtimestamp(moment, UTC).isoformat() for moment in span)
    return f"{start}..{end}"
