"""Every Google Cloud API method dbsnooze calls and the IAM permission it needs, as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CallSite:
    """One REST method dbsnooze calls, and why."""

    service: str  # API host prefix: sqladmin, monitoring, iamcredentials
    method: str  # the method's name in Google's API reference
    permission: str  # IAM permission
    purpose: str
    on_source_identity: bool = False  # granted to the identity that impersonates
    changes_state: bool = False  # e.g. stopping an instance; left out of a read-only role


CALL_SITES: tuple[CallSite, ...] = (
    CallSite(
        "sqladmin",
        "sql.instances.list",
        "cloudsql.instances.list",
        "inventory every project; test the credentials",
    ),
    CallSite(
        "sqladmin",
        "sql.instances.get",
        "cloudsql.instances.get",
        "read one instance's state",
    ),
    CallSite(
        "sqladmin",
        "sql.operations.get",
        "cloudsql.instances.get",
        "follow the operation of a stop or start until it is done",
    ),
    CallSite(
        "sqladmin",
        "sql.instances.patch",
        "cloudsql.instances.update",
        "stop and start instances (settings.activationPolicy NEVER / ALWAYS)",
        changes_state=True,
    ),
    CallSite(
        "monitoring",
        "monitoring.projects.timeSeries.list",
        "monitoring.timeSeries.list",
        "hourly statistics of every instance of a project; test the credentials",
    ),
    CallSite(
        "iamcredentials",
        "iamcredentials.projects.serviceAccounts.generateAccessToken",
        "iam.serviceAccounts.getAccessToken",
        "impersonate the account's service account (only with the impersonation method)",
        on_source_identity=True,
    ),
)

_BY_METHOD: dict[str, CallSite] = {site.method: site for site in CALL_SITES}

INSTANCES_LIST = "sql.instances.list"
INSTANCES_GET = "sql.instances.get"
INSTANCES_PATCH = "sql.instances.patch"
TIME_SERIES_LIST = "monitoring.projects.timeSeries.list"
OPERATIONS_GET = "sql.operations.get"


def permission_for(method: str) -> str:
    """The IAM permission behind an API method, e.g. "sql.instances.list"."""
    return _BY_METHOD[method].permission


def required_permissions(
    *, on_source_identity: bool = False, read_only: bool = False
) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                site.permission
                for site in CALL_SITES
                if site.on_source_identity == on_source_identity
                and not (read_only and site.changes_state)
            }
        )
    )


def custom_role(*, read_only: bool = False) -> dict[str, Any]:
    """A least-privilege custom role (IAM roles.create body) with every permission dbsnooze uses.

    Grant it on each project; with impersonation, the source identity needs
    roles/iam.serviceAccountTokenCreator on the target service account instead.
    """
    return {
        "title": "dbsnooze",
        "description": "Cloud SQL inventory"
        + ("" if read_only else ", stop/start")
        + " and Cloud Monitoring reads for dbsnooze",
        "stage": "GA",
        "includedPermissions": list(required_permissions(read_only=read_only)),
    }
