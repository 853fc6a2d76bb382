"""RDS power: read whether instances and Aurora clusters run, stop and start them, and read their
last minutes of activity for the stop guard.

Describe calls are batched (a filter with many identifiers per call, every page followed);
throttled and 5xx answers are retried by botocore (standard mode, session.py), so no retry loop
lives here: what still fails becomes a ProviderError saying whether trying later may help.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from dbsnooze.domain import CloudAccount, Power, PowerReading, PowerUnit, ProviderError
from dbsnooze.metrics import METRICS, NAMESPACE
from dbsnooze.providers.aws.errors import AWS_ERRORS, credential_secrets, to_provider_error
from dbsnooze.providers.aws.permissions import action_for
from dbsnooze.providers.aws.session import ClientCache

# DescribeDBInstances / DescribeDBClusters: identifiers per filter, records per page.
IDS_PER_CALL = 100
PAGE_SIZE = 100
ACTIVITY_PERIOD_SECONDS = 60
ACTIVITY_METRICS = ("cpu", "connections", "read_iops", "write_iops")

STATUS_POWER: Mapping[str, Power] = {
    "available": Power.AWAKE,
    "stopped": Power.ASLEEP,
    "stopping": Power.STOPPING,
    "starting": Power.STARTING,
}

# The cloud refused because of the unit's current state: a later try may pass.
_STATE_CODES = frozenset({"InvalidDBInstanceState", "InvalidDBClusterStateFault"})
_NOT_FOUND_CODES = frozenset(
    {"DBInstanceNotFound", "DBInstanceNotFoundFault", "DBClusterNotFoundFault"}
)
_RETRYABLE_CODES = frozenset({"throttled", "endpoint_unreachable"})


@dataclass(frozen=True, slots=True)
class _Kind:
    """How one kind of unit (instance or cluster) is described, stopped and started."""

    describe: str
    filter_name: str
    items: str
    id_field: str
    status_field: str
    stop: str
    start: str
    id_param: str
    answer: str
    dimension: str


INSTANCE = _Kind(
    "DescribeDBInstances",
    "db-instance-id",
    "DBInstances",
    "DBInstanceIdentifier",
    "DBInstanceStatus",
    "StopDBInstance",
    "StartDBInstance",
    "DBInstanceIdentifier",
    "DBInstance",
    "DBInstanceIdentifier",
)
CLUSTER = _Kind(
    "DescribeDBClusters",
    "db-cluster-id",
    "DBClusters",
    "DBClusterIdentifier",
    "Status",
    "StopDBCluster",
    "StartDBCluster",
    "DBClusterIdentifier",
    "DBCluster",
    "DBClusterIdentifier",
)


def kind_of(unit: PowerUnit) -> _Kind:
    return CLUSTER if unit.cluster else INSTANCE


def reading(status: str) -> PowerReading:
    return PowerReading(STATUS_POWER.get(status, Power.BUSY), status)


GONE = PowerReading(Power.GONE, "not found")


def read_power(
    cache: ClientCache, account: CloudAccount, region: str, units: Sequence[PowerUnit]
) -> dict[PowerUnit, PowerReading]:
    """Every unit's state, in one filtered describe per 100 identifiers (and kind)."""
    found: dict[PowerUnit, PowerReading] = dict.fromkeys(units, GONE)
    for kind in (INSTANCE, CLUSTER):
        wanted = {u.provider_id: u for u in units if kind_of(u) is kind}
        for status_of in _describe(cache, account, region, kind, sorted(wanted)):
            for provider_id, status in status_of.items():
                if provider_id in wanted:
                    found[wanted[provider_id]] = reading(status)
    return found


def _describe(
    cache: ClientCache, account: CloudAccount, region: str, kind: _Kind, ids: list[str]
) -> Iterator[dict[str, str]]:
    for start in range(0, len(ids), IDS_PER_CALL):
        chunk = ids[start : start + IDS_PER_CALL]
        params: dict[str, Any] = {
            "Filters": [{"Name": kind.filter_name, "Values": chunk}],
            "MaxRecords": PAGE_SIZE,
        }
        while True:
            page = _call(cache, account, region, kind.describe, params)
            yield {
                item[kind.id_field]: item.get(kind.status_field, "")
                for item in page.get(kind.items, [])
            }
            marker = page.get("Marker")
            if not marker or marker == params.get("Marker"):
                break
            params = {**params, "Marker": marker}


def set_power(
    cache: ClientCache, account: CloudAccount, unit: PowerUnit, awake: bool
) -> PowerReading:
    """One StartDB*/StopDB* request; the status the answer reports."""
    kind = kind_of(unit)
    operation = kind.start if awake else kind.stop
    answer = _call(cache, account, unit.scope, operation, {kind.id_param: unit.provider_id})
    status = str(answer.get(kind.answer, {}).get(kind.status_field, ""))
    return reading(status)


def recent_activity(
    cache: ClientCache,
    account: CloudAccount,
    region: str,
    units: Sequence[PowerUnit],
    minutes: int,
    now: datetime,
) -> dict[PowerUnit, dict[str, float]]:
    """Each unit's average per metric over the last `minutes` whole minutes (1-minute points);
    a cluster is read by its DBClusterIdentifier dimension. Units without data are absent."""
    end = now.replace(second=0, microsecond=0)
    start = end - timedelta(minutes=minutes)
    queries = [(unit, metric) for unit in units for metric in ACTIVITY_METRICS]
    found: dict[PowerUnit, dict[str, float]] = {}
    for offset in range(0, len(queries), 500):  # GetMetricData's queries per call
        batch = queries[offset : offset + 500]
        params: dict[str, Any] = {
            "MetricDataQueries": [_activity_query(i, *query) for i, query in enumerate(batch)],
            "StartTime": start,
            "EndTime": end,
        }
        for result in _metric_results(cache, account, region, params):
            unit, metric = batch[int(str(result["Id"])[1:])]
            values = [float(v) for v in result.get("Values", [])]
            if values:
                found.setdefault(unit, {})[metric] = sum(values) / len(values)
    return found


def _activity_query(index: int, unit: PowerUnit, metric: str) -> dict[str, Any]:
    dimension = {"Name": kind_of(unit).dimension, "Value": unit.provider_id}
    stat = {
        "Metric": {
            "Namespace": NAMESPACE,
            "MetricName": METRICS[metric].cloudwatch_name,
            "Dimensions": [dimension],
        },
        "Period": ACTIVITY_PERIOD_SECONDS,
        "Stat": "Average",
    }
    return {"Id": f"q{index}", "MetricStat": stat, "ReturnData": True}


def _metric_results(
    cache: ClientCache, account: CloudAccount, region: str, params: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    while True:
        page = _call(cache, account, region, "GetMetricData", params, service="cloudwatch")
        for result in page.get("MetricDataResults", []):
            into = merged.setdefault(str(result["Id"]), {"Id": result["Id"], "Values": []})
            into["Values"].extend(result.get("Values", []))
        token = page.get("NextToken")
        if not token or token == params.get("NextToken"):
            break
        params = {**params, "NextToken": token}
    yield from merged.values()


def _call(
    cache: ClientCache,
    account: CloudAccount,
    region: str,
    operation: str,
    params: dict[str, Any],
    service: str = "rds",
) -> dict[str, Any]:
    try:
        client = cache.client(account, region, service)
        answer: dict[str, Any] = getattr(client, xform_name(operation))(**params)
    except AWS_ERRORS as exc:
        raise power_error(exc, account, region, service, operation) from None
    return answer


def power_error(
    exc: Exception, account: CloudAccount, region: str, service: str, operation: str
) -> ProviderError:
    """The failure as an outcome: a refused state or a not-found are named, and whether a later
    try may help (a state that will pass, throttling or a 5xx left after retries) is said."""
    error = to_provider_error(
        exc,
        action=action_for(service, operation),
        region=region,
        secrets=credential_secrets(account.credentials),
    )
    aws_code = _aws_code(exc)
    if aws_code in _STATE_CODES:
        return ProviderError("invalid_state", error.message, retryable=True)
    if aws_code in _NOT_FOUND_CODES:
        return ProviderError("not_found", error.message)
    retryable = error.code in _RETRYABLE_CODES or _server_error(exc)
    return ProviderError(error.code, error.message, retryable=retryable)


def _aws_code(exc: Exception) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return None


def _server_error(exc: Exception) -> bool:
    if isinstance(exc, ResponseParserError):  # an HTML 5xx page from a proxy or the emulator
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status) >= 500
    return False
