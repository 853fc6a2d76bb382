"""Prometheus metrics: cloud API requests and throttles, collector lag, jobs by state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from dbsnooze.store.tables import JobRow

if TYPE_CHECKING:
    from dbsnooze.context import Context

disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series are noise
THROTTLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
CLOUD_REQUESTS = Counter(
    "dbsnooze_cloud_requests_total",
    "HTTP requests sent to cloud APIs, retries included",
    ["service", "operation"],
)
CLOUD_THROTTLES = Counter(
    "dbsnooze_cloud_throttles_total",
    "Cloud API answers that said the caller was throttled",
    ["service", "operation"],
)
COLLECTOR_LAST_RUN = Gauge(
    "dbsnooze_collector_last_run_timestamp_seconds",
    "When this process last finished a live-collection pass",
)
ACTIONS = Counter(
    "dbsnooze_actions_total",
    "Stops and starts the reconciler decided, by outcome (done, failed, retry, dry_run, skipped)",
    ["kind", "outcome"],
)
JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")


def instrument(client: Any) -> None:
    """Count every HTTP attempt and every throttled answer of a boto3 client."""
    service = client.meta.service_model.service_name
    events = client.meta.events
    events.register("before-send", lambda event_name="", **_: _sent(service, event_name))
    events.register_first("needs-retry", lambda **kw: _maybe_throttled(service, **kw))


def _operation(event_name: str) -> str:
    return event_name.rsplit(".", 1)[-1] if "." in event_name else "unknown"


def _sent(service: str, event_name: str) -> None:
    CLOUD_REQUESTS.labels(service, _operation(event_name)).inc()


def _maybe_throttled(service: str, response: Any = None, event_name: str = "", **_: Any) -> None:
    if not isinstance(response, tuple) or len(response) < 2:
        return None
    code = (response[1] or {}).get("Error", {}).get("Code")
    if code in THROTTLE_CODES:
        CLOUD_THROTTLES.labels(service, _operation(event_name)).inc()
    return None


def count_request(service: str, operation: str, throttled: bool) -> None:
    """One HTTP attempt of a client without botocore's events (Google's REST calls)."""
    CLOUD_REQUESTS.labels(service, operation).inc()
    if throttled:
        CLOUD_THROTTLES.labels(service, operation).inc()


class _StoreCollector(Collector):
    """Figures read from the store at scrape time, so they hold across worker processes."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("dbsnooze_jobs", "Jobs by state", labels=["state"])
        with self.ctx.sessions() as session:
            query = select(JobRow.state, func.count()).group_by(JobRow.state)
            counts = {state: n for state, n in session.execute(query).tuples()}
        for state in JOB_STATES:
            jobs.add_metric([state], counts.get(state, 0))
        yield jobs
        last = COLLECTOR_LAST_RUN._value.get()
        lag = GaugeMetricFamily(
            "dbsnooze_collector_lag_seconds",
            "Seconds since this process last finished a live-collection pass (NaN: never)",
        )
        lag.add_metric([], time.time() - last if last else float("nan"))
        yield lag


def exposition(ctx: Context) -> bytes:
    registry = CollectorRegistry()
    registry.register(_StoreCollector(ctx))
    return generate_latest(REGISTRY) + generate_latest(registry)
