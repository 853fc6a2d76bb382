"""RDS inventory: DescribeDBInstances pages become DiscoveredInstance values at this edge."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from botocore import xform_name

from dbsnooze.domain import CloudAccount, DiscoveredInstance, ProviderError, RegionResult, Unit
from dbsnooze.providers.aws.errors import (
    ACCESS_DENIED,
    AWS_ERRORS,
    credential_secrets,
    to_provider_error,
)
from dbsnooze.providers.aws.permissions import action_for
from dbsnooze.providers.aws.session import ClientCache

logger = logging.getLogger(__name__)

DESCRIBE_PAGE_SIZE = 100  # DescribeDBInstances' MaxRecords ceiling
PROBE_PAGE_SIZE = 20  # ... and its floor: a credentials test needs no more
MAX_PARALLEL_REGIONS = 8


def list_instances(client: Any, region: str) -> tuple[DiscoveredInstance, ...]:
    """Every DB instance in the client's region, following Marker through all pages."""
    paginator = client.get_paginator("describe_db_instances")
    pages = paginator.paginate(PaginationConfig={"PageSize": DESCRIBE_PAGE_SIZE})
    return tuple(
        _to_instance(item, region) for page in pages for item in page.get("DBInstances", [])
    )


def list_clusters(client: Any, region: str) -> tuple[DiscoveredInstance, ...]:
    """Every Aurora and Multi-AZ DB cluster in the client's region, through all pages (the
    same call also lists Neptune and DocumentDB clusters, which are not dbsnooze's)."""
    paginator = client.get_paginator("describe_db_clusters")
    pages = paginator.paginate(PaginationConfig={"PageSize": DESCRIBE_PAGE_SIZE})
    return tuple(
        _to_cluster(item, region)
        for page in pages
        for item in page.get("DBClusters", [])
        if item.get("Engine", "").startswith(CLUSTER_ENGINES)
    )


# Aurora clusters, and Multi-AZ DB clusters (engine mysql or postgres)
CLUSTER_ENGINES = ("aurora", "mysql", "postgres")


def _to_cluster(item: dict[str, Any], region: str) -> DiscoveredInstance:
    members = tuple(m["DBInstanceIdentifier"] for m in item.get("DBClusterMembers", []))
    source = item.get("ReplicationSourceIdentifier") or None
    return DiscoveredInstance(
        provider_id=item["DBClusterIdentifier"],
        region=region,
        engine=item.get("Engine", ""),
        engine_version=item.get("EngineVersion", ""),
        instance_class=item.get("DBClusterInstanceClass", ""),  # Multi-AZ DB clusters only
        status=item.get("Status", "unknown"),
        tags={tag["Key"]: tag.get("Value", "") for tag in item.get("TagList", [])},
        created_at=_utc(item.get("ClusterCreateTime")),
        arn=item.get("DBClusterArn"),
        replica=source is not None,
        replica_source=source,
        read_replicas=tuple(item.get("ReadReplicaIdentifiers", ())),
        multi_az=bool(item.get("MultiAZ", False)),
        unit=Unit.CLUSTER,
        members=members,
        engine_mode=item.get("EngineMode") or None,
        global_cluster=_global_name(item.get("GlobalClusterIdentifier")),
    )


def _global_name(value: str | None) -> str | None:
    # RDS may name the global database by identifier or by ARN (…:global-cluster:NAME)
    return value.rsplit(":", 1)[-1] if value else None


def _to_instance(item: dict[str, Any], region: str) -> DiscoveredInstance:
    return DiscoveredInstance(
        provider_id=item["DBInstanceIdentifier"],
        region=region,
        engine=item.get("Engine", ""),
        engine_version=item.get("EngineVersion", ""),
        instance_class=item.get("DBInstanceClass", ""),
        status=item.get("DBInstanceStatus", "unknown"),
        tags={tag["Key"]: tag.get("Value", "") for tag in item.get("TagList", [])},
        created_at=_utc(item.get("InstanceCreateTime")),
        arn=item.get("DBInstanceArn"),
        replica=bool(item.get("ReadReplicaSourceDBInstanceIdentifier")),
        replica_source=item.get("ReadReplicaSourceDBInstanceIdentifier") or None,
        read_replicas=tuple(item.get("ReadReplicaDBInstanceIdentifiers", ())),
        multi_az=bool(item.get("MultiAZ", False)),
        cluster_id=item.get("DBClusterIdentifier") or None,
    )


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def scan_account(cache: ClientCache, account: CloudAccount) -> list[RegionResult]:
    """One result per configured region; a failed region is an outcome, not a stop."""
    if not account.regions:
        return []
    workers = min(len(account.regions), MAX_PARALLEL_REGIONS)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dbsnooze-scan") as pool:
        return list(pool.map(lambda region: _scan_region(cache, account, region), account.regions))


def _scan_region(cache: ClientCache, account: CloudAccount, region: str) -> RegionResult:
    try:
        client = cache.client(account, region, "rds")
        instances = list_instances(client, region)
    except Exception as exc:  # any failure is this region's outcome, never the others'
        error = _provider_error(exc, account, region, "DescribeDBInstances")
        return _failed(account, region, error)
    try:
        clusters = list_clusters(client, region)
    except Exception as exc:
        error = _provider_error(exc, account, region, "DescribeDBClusters")
        if error.code != ACCESS_DENIED:
            return _failed(account, region, error)
        # A policy from before clusters were listed: the instances still count, and stored
        # clusters are not listed rather than gone.
        logger.warning("inventory of account %s in %s: %s", account.id, region, error.message)
        return RegionResult(
            account.id,
            region,
            instances,
            unlisted=frozenset({Unit.CLUSTER}),
            warnings=(clusters_denied([region]),),
        )
    return RegionResult(account_id=account.id, region=region, instances=instances + clusters)


def clusters_denied(regions: Sequence[str]) -> str:
    """The warning when DescribeDBClusters is refused: instances work, clusters wait."""
    action = action_for("rds", "DescribeDBClusters")
    return (
        f"{action} is denied in {', '.join(regions)}: DB clusters (Aurora, Multi-AZ) are not "
        f"listed or scheduled there until the policy allows {action}; clusters found before "
        "are kept, not marked deleted"
    )


def _failed(account: CloudAccount, region: str, error: ProviderError) -> RegionResult:
    # The scrubbed message only: a raw traceback could echo a key.
    logger.warning(
        "inventory of account %s in %s failed [%s]: %s",
        account.id,
        region,
        error.code,
        error.message,
    )
    return RegionResult(account_id=account.id, region=region, error=error.message)


def check_credentials(cache: ClientCache, account: CloudAccount) -> tuple[str, ...]:
    """Raise ProviderError saying what failed, unless the account can list RDS in every region;
    the warnings of what works only in part (clusters refused, instances listed).

    For an account not saved yet, pass ClientCache.for_probe(settings) so a bad endpoint or
    key fails in seconds.
    """
    if not account.regions:
        raise ProviderError("region_invalid", "the account has no regions to scan")
    _call(cache, account, account.regions[0], "sts", "GetCallerIdentity")
    denied: list[str] = []
    for region in account.regions:
        _call(cache, account, region, "rds", "DescribeDBInstances", MaxRecords=PROBE_PAGE_SIZE)
        try:
            _call(cache, account, region, "rds", "DescribeDBClusters", MaxRecords=PROBE_PAGE_SIZE)
        except ProviderError as exc:
            if exc.code != ACCESS_DENIED:
                raise
            denied.append(region)
    return (clusters_denied(denied),) if denied else ()


def _call(
    cache: ClientCache,
    account: CloudAccount,
    region: str,
    service: str,
    operation: str,
    **params: Any,
) -> Any:
    try:
        client = cache.client(account, region, service)
        return getattr(client, xform_name(operation))(**params)
    except AWS_ERRORS as exc:
        raise _provider_error(exc, account, region, operation, service) from None


def _provider_error(
    exc: Exception, account: CloudAccount, region: str, operation: str, service: str = "rds"
) -> ProviderError:
    return to_provider_error(
        exc,
        action=action_for(service, operation),
        region=region,
        secrets=credential_secrets(account.credentials),
    )
