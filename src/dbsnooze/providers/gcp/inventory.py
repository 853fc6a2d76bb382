"""Cloud SQL inventory: instances.list pages become DiscoveredInstance values at this edge.

Each instance's provider id is "project:instance", the `database_id` Cloud Monitoring labels its
series with, so one id serves inventory and history. For GCP the unit of a scan is a project:
each RegionResult's `region` names the project scanned; each instance carries its own region.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from dbsnooze.domain import CloudAccount, DiscoveredInstance, ProviderError, RegionResult
from dbsnooze.providers.gcp.client import GcpClient
from dbsnooze.providers.gcp.permissions import INSTANCES_LIST, TIME_SERIES_LIST
from dbsnooze.providers.gcp.wire import parse_time, rfc3339

logger = logging.getLogger(__name__)

PAGE_SIZE = 500  # instances.list's default page; its maximum is 1,000
PROBE_PAGE_SIZE = 1
PROBE_METRIC = "cloudsql.googleapis.com/database/up"
PROBE_WINDOW = timedelta(minutes=10)
STOPPED = "stopped"
# SqlInstanceState -> dbsnooze status; RUNNABLE depends on the activation policy (below).
_STATES: dict[str, str] = {
    "RUNNABLE": "available",
    "PENDING_CREATE": "creating",
    "MAINTENANCE": "maintenance",
    "SUSPENDED": "suspended",
    "FAILED": "failed",
    "PENDING_DELETE": "deleting",
    "REPAIRING": "repairing",
}
_ENGINES: dict[str, str] = {"POSTGRES": "postgres", "MYSQL": "mysql", "SQLSERVER": "sqlserver"}
REPLICA_TYPES = frozenset({"READ_REPLICA_INSTANCE", "READ_POOL_INSTANCE"})


def instances_path(project: str) -> str:
    return f"/v1/projects/{project}/instances"


def list_instances(
    client: GcpClient, project: str, page_size: int = PAGE_SIZE
) -> tuple[DiscoveredInstance, ...]:
    """Every Cloud SQL instance of a project, following nextPageToken through all pages."""
    pages = client.pages(
        INSTANCES_LIST, project, instances_path(project), {"maxResults": page_size}
    )
    return tuple(to_instance(item, project) for page in pages for item in page.get("items", []))


def to_instance(item: Mapping[str, Any], project: str) -> DiscoveredInstance:
    settings = item.get("settings") or {}
    engine, version = engine_and_version(str(item.get("databaseVersion", "")))
    return DiscoveredInstance(
        provider_id=f"{item.get('project') or project}:{item['name']}",
        region=str(item.get("region", "")),
        engine=engine,
        engine_version=version,
        instance_class=str(settings.get("tier", "")),
        status=status(item),
        tags={str(k): str(v) for k, v in (settings.get("userLabels") or {}).items()},
        created_at=parse_time(item["createTime"]) if item.get("createTime") else None,
        replica=item.get("instanceType") in REPLICA_TYPES,
        replica_source=str(item["masterInstanceName"]) if item.get("masterInstanceName") else None,
    )


def status(item: Mapping[str, Any]) -> str:
    """RUNNABLE with activationPolicy NEVER is an instance its owner stopped."""
    state = str(item.get("state", ""))
    policy = (item.get("settings") or {}).get("activationPolicy")
    if state == "RUNNABLE" and policy == "NEVER":
        return STOPPED
    return _STATES.get(state, "unknown")


def engine_and_version(database_version: str) -> tuple[str, str]:
    """("postgres", "15") from POSTGRES_15; ("mysql", "8.0.31") from MYSQL_8_0_31;
    ("sqlserver", "2019-standard") from SQLSERVER_2019_STANDARD."""
    family, _, rest = database_version.partition("_")
    parts = rest.split("_") if rest else []
    numbers = [p for p in parts if p.isdigit()]
    words = [p.lower() for p in parts if not p.isdigit()]
    version = "-".join(filter(None, [".".join(numbers), *words]))
    return _ENGINES.get(family, family.lower()), version


def scan_account(client: GcpClient, account: CloudAccount) -> list[RegionResult]:
    """One result per project; a failed project is an outcome, never the others' stop."""
    return [_scan_project(client, account, project) for project in account.projects]


def _scan_project(client: GcpClient, account: CloudAccount, project: str) -> RegionResult:
    try:
        instances = list_instances(client, project)
    except ProviderError as error:
        logger.warning(
            "inventory of account %s in project %s failed [%s]: %s",
            account.id,
            project,
            error.code,
            error.message,
        )
        return RegionResult(account_id=account.id, region=project, error=error.message)
    return RegionResult(account_id=account.id, region=project, instances=instances)


def check_credentials(client: GcpClient, account: CloudAccount, now: datetime) -> None:
    """Raise ProviderError saying what failed, unless the account can list Cloud SQL instances
    and read Cloud Monitoring in every project.

    For an account not saved yet, build the client from GcpSessions.for_probe(settings), so a bad
    endpoint or key fails in seconds.
    """
    if not account.projects:
        raise ProviderError("project_invalid", "the account has no GCP project to scan")
    for project in account.projects:
        client.get(
            INSTANCES_LIST, project, instances_path(project), {"maxResults": PROBE_PAGE_SIZE}
        )
        client.get(TIME_SERIES_LIST, project, f"/v3/projects/{project}/timeSeries", _probe(now))


def _probe(now: datetime) -> dict[str, Any]:
    """The smallest timeSeries.list: one metric, ten minutes, headers only, one series."""
    return {
        "filter": f'metric.type = "{PROBE_METRIC}" AND resource.type = "cloudsql_database"',
        "interval.startTime": rfc3339(now - PROBE_WINDOW),
        "interval.endTime": rfc3339(now),
        "view": "HEADERS",
        "pageSize": 1,
    }
