"""Every AWS call dbsnooze makes and the IAM action it needs: least privilege as data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CallSite:
    """One AWS API operation dbsnooze calls, and why."""

    service: str  # boto3 client name
    operation: str  # botocore operation name
    action: str  # IAM action
    purpose: str
    needs_permission: bool = True
    on_source_identity: bool = False  # granted to the identity that assumes the role
    changes_state: bool = False  # e.g. stopping an instance; left out of a read-only policy


CALL_SITES: tuple[CallSite, ...] = (
    CallSite(
        "sts",
        "GetCallerIdentity",
        "sts:GetCallerIdentity",
        "test that the credentials work; AWS allows it for every identity, no policy needed",
        needs_permission=False,
    ),
    CallSite(
        "sts",
        "AssumeRole",
        "sts:AssumeRole",
        "assume the account's role (only with the assume-role auth method)",
        on_source_identity=True,
    ),
    CallSite("rds", "DescribeDBInstances", "rds:DescribeDBInstances", "inventory every region"),
    CallSite(
        "rds",
        "DescribeDBClusters",
        "rds:DescribeDBClusters",
        "inventory Aurora and Multi-AZ DB clusters; read a cluster's power state",
    ),
    CallSite(
        "rds",
        "StopDBInstance",
        "rds:StopDBInstance",
        "put an instance to sleep on its schedule",
        changes_state=True,
    ),
    CallSite(
        "rds",
        "StartDBInstance",
        "rds:StartDBInstance",
        "wake an instance on its schedule",
        changes_state=True,
    ),
    CallSite(
        "rds",
        "StopDBCluster",
        "rds:StopDBCluster",
        "put an Aurora cluster (the scheduled unit) to sleep",
        changes_state=True,
    ),
    CallSite(
        "rds",
        "StartDBCluster",
        "rds:StartDBCluster",
        "wake an Aurora cluster",
        changes_state=True,
    ),
    CallSite(
        "cloudwatch",
        "GetMetricStatistics",
        "cloudwatch:GetMetricStatistics",
        "hourly statistics for one instance and metric",
    ),
    CallSite(
        "cloudwatch",
        "GetMetricData",
        "cloudwatch:GetMetricData",
        "hourly statistics for many instances in batched calls",
    ),
    CallSite(
        "pricing",
        "GetProducts",
        "pricing:GetProducts",
        "on-demand prices for predicted savings (`dbsnooze prices refresh`; optional)",
    ),
)

_BY_OPERATION: dict[tuple[str, str], CallSite] = {
    (site.service, site.operation): site for site in CALL_SITES
}


def action_for(service: str, operation: str) -> str:
    """The IAM action behind a boto3 call, e.g. ("rds", "DescribeDBInstances")."""
    site = _BY_OPERATION.get((service, operation))
    return site.action if site is not None else f"{service}:{operation}"


def required_actions(
    *, on_source_identity: bool = False, sites: Iterable[CallSite] = CALL_SITES
) -> tuple[str, ...]:
    return tuple(
        sorted(
            site.action
            for site in sites
            if site.needs_permission and site.on_source_identity == on_source_identity
        )
    )


def least_privilege_policy(
    *,
    include_assume_role: bool = False,
    read_only: bool = False,
    sites: Iterable[CallSite] = CALL_SITES,
) -> dict[str, Any]:
    """The IAM policy document dbsnooze needs: every action listed in CALL_SITES, nothing more.

    Reads and state changes are separate statements; read_only leaves the changes out. With
    include_assume_role the document also lets the source identity assume a role; put that
    statement on the user or role that holds the base credentials, the rest on the assumed role.
    """
    wanted = [site for site in sites if not (read_only and site.changes_state)]
    reads = [site for site in wanted if not site.changes_state]
    changes = [site for site in wanted if site.changes_state]
    statements = [
        _statement(sid, required_actions(sites=group))
        for sid, group in (("DbsnoozeRead", reads), ("DbsnoozeChange", changes))
        if required_actions(sites=group)
    ]
    if include_assume_role:
        source_actions = required_actions(on_source_identity=True, sites=wanted)
        statements.append(_statement("DbsnoozeAssumeRole", source_actions))
    return {"Version": "2012-10-17", "Statement": statements}


def _statement(sid: str, actions: tuple[str, ...]) -> dict[str, Any]:
    # RDS Describe* and CloudWatch metric reads do not support resource-level scoping.
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": "*"}
