"""Cloud SQL power: states read per project, stop and start by the activation policy, and the
activity of the last minutes for the stop guard.

A Cloud SQL instance is stopped by PATCHing `settings.activationPolicy` to NEVER and started by
ALWAYS; the answer is an Operation, polled until DONE (a bounded number of polls: past it the
change goes on in the cloud and the caller may try again later). An instance RUNNABLE with the
policy NEVER is asleep (Cloud SQL says RUNNABLE even for an instance its owner stopped).

Cloud SQL runs one operation at a time per instance: while a backup, maintenance or an earlier
change runs, the PATCH is refused (409 `operationInProgress`), a `busy` ProviderError the
reconciler waits out. The power reading does not look for running operations: operations.list
has no status filter (only `instance`, `maxResults`, `pageToken`), so finding the running ones
means paging a project's whole operation history or one request per instance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dbsnooze.domain import Power, PowerReading, PowerUnit, ProviderError
from dbsnooze.providers.gcp.client import GcpClient
from dbsnooze.providers.gcp.inventory import PAGE_SIZE, instances_path
from dbsnooze.providers.gcp.metrics import GCP_METRICS, INSTANCE_LABEL, RESOURCE_TYPE, StatQuery
from dbsnooze.providers.gcp.monitoring import project_of, time_series_path
from dbsnooze.providers.gcp.permissions import (
    INSTANCES_GET,
    INSTANCES_LIST,
    INSTANCES_PATCH,
    OPERATIONS_GET,
    TIME_SERIES_LIST,
)
from dbsnooze.providers.gcp.wire import rfc3339, typed_value

ASLEEP_POLICY = "NEVER"
AWAKE_POLICY = "ALWAYS"
# SqlInstanceState -> power; RUNNABLE depends on the activation policy (reading below).
STATE_POWER: dict[str, Power] = {
    "STOPPED": Power.ASLEEP,
    "SUSPENDED": Power.ASLEEP,  # suspended by Google (billing, abuse): not running either
    "PENDING_CREATE": Power.BUSY,
    "MAINTENANCE": Power.BUSY,
    "ONLINE_MAINTENANCE": Power.BUSY,
    "REPAIRING": Power.BUSY,
    "FAILED": Power.BUSY,
    "PENDING_DELETE": Power.BUSY,
}
POLICY_POWER: dict[str, Power] = {
    ASLEEP_POLICY: Power.ASLEEP,
    AWAKE_POLICY: Power.AWAKE,
    "ON_DEMAND": Power.AWAKE,  # legacy first generation: runs when connected to
}
# What the stop guard reads: the stored metric keys, each from GCP_METRICS' average query.
ACTIVITY_METRICS = ("cpu", "connections", "read_iops", "write_iops")


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How long a stop or start's operation is followed: max_polls x interval_seconds."""

    interval_seconds: float = 3.0
    max_polls: int = 100


DEFAULT_POLL = PollPolicy()


def reading(item: Mapping[str, Any]) -> PowerReading:
    """An instances.list / get item's power, with the cloud's words (state/policy) as status."""
    state = str(item.get("state", ""))
    policy = str((item.get("settings") or {}).get("activationPolicy", ""))
    status = f"{state}/{policy}" if policy else state
    if state == "RUNNABLE":
        return PowerReading(POLICY_POWER.get(policy, Power.BUSY), status)
    return PowerReading(STATE_POWER.get(state, Power.BUSY), status)


def read_power(
    client: GcpClient, project: str, units: Sequence[PowerUnit]
) -> dict[PowerUnit, PowerReading]:
    """One instances.list of the project (paged) answers for every unit; unlisted is GONE."""
    pages = client.pages(
        INSTANCES_LIST, project, instances_path(project), {"maxResults": PAGE_SIZE}
    )
    listed = {
        f"{item.get('project') or project}:{item['name']}": reading(item)
        for page in pages
        for item in page.get("items", [])
    }
    gone = PowerReading(Power.GONE, "not listed")
    return {unit: listed.get(unit.provider_id, gone) for unit in units}


def set_power(
    client: GcpClient,
    unit: PowerUnit,
    awake: bool,
    poll: PollPolicy,
    sleep: Callable[[float], None],
) -> PowerReading:
    """PATCH the activation policy, follow the operation to DONE, then read the instance."""
    if unit.cluster:
        raise ProviderError("unit_invalid", "Cloud SQL has no clusters to stop or start")
    project, name = _split(unit.provider_id)
    path = f"{instances_path(project)}/{name}"
    policy = AWAKE_POLICY if awake else ASLEEP_POLICY
    what = f"{'starting' if awake else 'stopping'} {name}"
    try:
        operation = client.patch(
            INSTANCES_PATCH, project, path, {"settings": {"activationPolicy": policy}}
        )
    except ProviderError as exc:
        if exc.busy:  # a backup, maintenance or an earlier change: wait it out
            raise ProviderError(exc.code, f"{what}: {exc.message}", busy=True) from None
        raise
    _wait(client, project, operation, poll, sleep, what)
    return reading(client.get(INSTANCES_GET, project, path))


def _wait(
    client: GcpClient,
    project: str,
    operation: Mapping[str, Any],
    poll: PollPolicy,
    sleep: Callable[[float], None],
    what: str,
) -> None:
    name = str(operation.get("name", ""))
    path = f"/v1/projects/{project}/operations/{name}"
    for _ in range(poll.max_polls):
        if operation.get("status") == "DONE":
            _raise_failed(operation, what)
            return
        sleep(poll.interval_seconds)
        operation = client.get(OPERATIONS_GET, project, path)
    if operation.get("status") == "DONE":
        _raise_failed(operation, what)
        return
    raise ProviderError(
        "operation_pending",
        f"{what}: operation {name} is still {operation.get('status', 'unknown')} after "
        f"{poll.max_polls} polls; it goes on in Cloud SQL",
        retryable=True,
    )


def _raise_failed(operation: Mapping[str, Any], what: str) -> None:
    found = (operation.get("error") or {}).get("errors") or []
    if found:
        reasons = "; ".join(str(e.get("message") or e.get("code", "")) for e in found)
        raise ProviderError("operation_failed", f"{what} failed in Cloud SQL: {reasons}")


def recent_activity(
    client: GcpClient,
    project: str,
    units: Sequence[PowerUnit],
    minutes: int,
    now: datetime,
) -> dict[PowerUnit, dict[str, float]]:
    """Each unit's average of the activity metrics over the last `minutes`: one aligned period
    per series, one timeSeries.list per metric source for the whole project."""
    wanted = {unit.provider_id: unit for unit in units if not unit.cluster}
    found: dict[str, dict[str, float]] = {}
    for key in ACTIVITY_METRICS:
        for source in GCP_METRICS[key].sources:
            query = next(q for q in source.queries if q.statistic == "average")
            params = _activity_params(source.metric_type, query, minutes, now)
            averages = _averages(client, project, params, query.scale)
            missing = {
                i: v for i, v in averages.items() if i in wanted and key not in found.get(i, {})
            }
            for provider_id, value in missing.items():
                found.setdefault(provider_id, {})[key] = value
    return {wanted[i]: values for i, values in found.items()}


def _activity_params(
    metric_type: str, query: StatQuery, minutes: int, now: datetime
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "filter": f'metric.type = "{metric_type}" AND resource.type = "{RESOURCE_TYPE}"',
        "interval.startTime": rfc3339(now - timedelta(minutes=minutes)),
        "interval.endTime": rfc3339(now),
        "aggregation.alignmentPeriod": f"{minutes * 60}s",
        "aggregation.perSeriesAligner": query.aligner,
        "view": "FULL",
    }
    if query.reducer is not None:
        params["aggregation.crossSeriesReducer"] = query.reducer
        params["aggregation.groupByFields"] = INSTANCE_LABEL
    return params


def _averages(
    client: GcpClient, project: str, params: Mapping[str, Any], scale: float
) -> dict[str, float]:
    """database_id -> the mean of its aligned points (one, or two when the span straddles)."""
    values: dict[str, list[float]] = {}
    for page in client.pages(TIME_SERIES_LIST, project, time_series_path(project), params):
        for series in page.get("timeSeries", []):
            database_id = (series.get("resource", {}).get("labels") or {}).get("database_id")
            points = [typed_value(p["value"]) * scale for p in series.get("points", [])]
            if database_id and points:
                values.setdefault(database_id, []).extend(points)
    return {i: sum(v) / len(v) for i, v in values.items()}


def _split(provider_id: str) -> tuple[str, str]:
    project = project_of(provider_id)
    return project, provider_id.split(":", 1)[1]
