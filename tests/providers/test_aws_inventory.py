from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

import boto3
import pytest

from dbsnooze.config import Settings
from dbsnooze.domain import AuthMethod, CloudAccount, Credentials, ProviderError, Unit
from dbsnooze.providers.aws.errors import scrub
from dbsnooze.providers.aws.inventory import (
    check_credentials,
    list_clusters,
    list_instances,
    scan_account,
)
from dbsnooze.providers.aws.session import ClientCache
from faultproxy import FaultProxy

MakeAccount = Callable[..., CloudAccount]
MakeUser = Callable[..., dict[str, str]]
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz"


def _create_instances(endpoint: str, region: str, names: list[str]) -> None:
    rds = boto3.client("rds", region_name=region, endpoint_url=endpoint)

    def create(name: str) -> None:
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="admin_user",
            MasterUserPassword="not-a-real-password",
            Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": name}],
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, names))


def _static(key_id: str, secret: str) -> Credentials:
    return Credentials(AuthMethod.STATIC_KEYS, access_key_id=key_id, secret_access_key=secret)


def _quick_cache() -> ClientCache:
    return ClientCache(Settings(cloud_max_attempts=1, cloud_timeout_seconds=2))


def test_list_instances_pages_past_100_and_converts_at_the_edge(moto_endpoint: str) -> None:
    names = [f"db-{number:03d}" for number in range(130)]
    _create_instances(moto_endpoint, "us-east-1", names)
    rds = boto3.client("rds", region_name="us-east-1", endpoint_url=moto_endpoint)

    instances = list_instances(rds, "us-east-1")

    assert sorted(instance.provider_id for instance in instances) == names
    first = next(instance for instance in instances if instance.provider_id == "db-000")
    assert (first.region, first.engine, first.instance_class) == (
        "us-east-1",
        "postgres",
        "db.t3.micro",
    )
    assert first.status == "available"
    assert first.engine_version
    assert first.tags == {"env": "dev", "team": "db-000"}
    assert first.created_at is not None and first.created_at.tzinfo is UTC
    assert first.arn == "arn:aws:rds:us-east-1:123456789012:db:db-000"


def test_scan_account_covers_every_region_in_order(
    moto_endpoint: str, make_account: MakeAccount
) -> None:
    _create_instances(moto_endpoint, "us-east-1", ["east-a", "east-b"])
    _create_instances(moto_endpoint, "eu-west-1", ["west-a"])
    account = make_account(regions=("us-east-1", "eu-west-1", "ap-southeast-2"))

    results = scan_account(_quick_cache(), account)

    assert [result.region for result in results] == ["us-east-1", "eu-west-1", "ap-southeast-2"]
    assert all(result.ok and result.account_id == account.id for result in results)
    found = [sorted(i.provider_id for i in result.instances) for result in results]
    assert found == [["east-a", "east-b"], ["west-a"], []]


def test_a_failing_region_does_not_stop_the_others(
    moto_endpoint: str, make_account: MakeAccount
) -> None:
    _create_instances(moto_endpoint, "eu-west-1", ["west-a"])
    account = make_account(regions=("us-east-1", "not a region", "eu-west-1"))

    east, broken, west = scan_account(_quick_cache(), account)

    assert east.ok and east.instances == ()
    assert not broken.ok and broken.instances == ()
    assert broken.error is not None and "not a region" in broken.error
    assert west.ok and [i.provider_id for i in west.instances] == ["west-a"]


def test_scan_of_an_unreachable_endpoint_reports_every_region(
    make_account: MakeAccount, closed_endpoint: str
) -> None:
    account = make_account(regions=("us-east-1", "eu-west-1"), endpoint=closed_endpoint)

    results = scan_account(_quick_cache(), account)

    assert [result.ok for result in results] == [False, False]
    assert all("could not reach" in (result.error or "") for result in results)


def test_check_credentials_passes_for_a_working_account(make_account: MakeAccount) -> None:
    check_credentials(_quick_cache(), make_account(regions=("us-east-1", "eu-west-1")))


def test_unknown_key_is_credentials_invalid(
    make_account: MakeAccount, enforce_iam: Callable[[], None]
) -> None:
    enforce_iam()
    account = make_account(_static("AKIAUNKNOWN000000001", SECRET))

    with pytest.raises(ProviderError) as caught:
        check_credentials(_quick_cache(), account)

    assert caught.value.code == "credentials_invalid"
    assert "sts:GetCallerIdentity" in caught.value.message
    assert "InvalidClientTokenId" in caught.value.message


def test_wrong_secret_is_credentials_invalid(
    make_account: MakeAccount, make_user: MakeUser, enforce_iam: Callable[[], None]
) -> None:
    key = make_user("alice", ("rds:DescribeDBInstances",))
    enforce_iam()

    with pytest.raises(ProviderError) as caught:
        check_credentials(_quick_cache(), make_account(_static(key["id"], SECRET)))

    assert caught.value.code == "credentials_invalid"
    assert "SignatureDoesNotMatch" in caught.value.message


def test_no_credentials_anywhere_is_credentials_invalid(
    make_account: MakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(ProviderError) as caught:
        check_credentials(_quick_cache(), make_account())

    assert caught.value.code == "credentials_invalid"
    assert "Unable to locate credentials" in caught.value.message


def test_missing_permission_is_access_denied_naming_the_action(
    make_account: MakeAccount, make_user: MakeUser, enforce_iam: Callable[[], None]
) -> None:
    key = make_user("bob")  # no policy: GetCallerIdentity works, DescribeDBInstances does not
    enforce_iam()

    with pytest.raises(ProviderError) as caught:
        check_credentials(_quick_cache(), make_account(_static(key["id"], key["secret"])))

    assert caught.value.code == "access_denied"
    assert caught.value.message.startswith("access denied for rds:DescribeDBInstances in us-east-1")


def test_granted_permission_passes_with_iam_enforced(
    make_account: MakeAccount, make_user: MakeUser, enforce_iam: Callable[[], None]
) -> None:
    key = make_user("carol", ("rds:DescribeDBInstances", "rds:DescribeDBClusters"))
    enforce_iam()

    check_credentials(_quick_cache(), make_account(_static(key["id"], key["secret"])))


def test_a_policy_without_describe_clusters_lists_instances_and_warns(
    moto_endpoint: str,
    make_account: MakeAccount,
    make_user: MakeUser,
    enforce_iam: Callable[[], None],
) -> None:
    """The read-only policy from before clusters were listed: instances work as they did."""
    _create_instances(moto_endpoint, "eu-west-1", ["west-a"])
    key = make_user("erin", ("rds:DescribeDBInstances",))
    enforce_iam()
    account = make_account(_static(key["id"], key["secret"]), regions=("us-east-1", "eu-west-1"))

    warnings = check_credentials(_quick_cache(), account)
    east, west = scan_account(_quick_cache(), account)

    assert warnings == (
        "rds:DescribeDBClusters is denied in us-east-1, eu-west-1: DB clusters (Aurora, "
        "Multi-AZ) are not listed or scheduled there until the policy allows "
        "rds:DescribeDBClusters; clusters found before are kept, not marked deleted",
    )
    assert east.ok and west.ok
    assert [i.provider_id for i in west.instances] == ["west-a"]
    assert west.unlisted == {Unit.CLUSTER}
    assert west.warnings == (warnings[0].replace("us-east-1, ", ""),)


def test_describe_clusters_failing_past_retries_still_fails_the_region(
    moto_endpoint: str, make_account: MakeAccount
) -> None:
    _create_instances(moto_endpoint, "us-east-1", ["east-a"])
    cache = ClientCache(Settings(cloud_max_attempts=2, cloud_timeout_seconds=2))
    # DescribeDBInstances passes; both attempts at DescribeDBClusters get a 503
    with FaultProxy(moto_endpoint, [None, "503", "503"]) as proxy:
        [scanned] = scan_account(cache, make_account(endpoint=proxy.url))

    assert not scanned.ok and scanned.instances == () and not scanned.warnings
    assert scanned.error is not None
    assert scanned.error.startswith("rds:DescribeDBClusters failed in us-east-1")
    assert [r.fault for r in proxy.log if r.operation == "DescribeDBClusters"] == ["503", "503"]


def test_closed_port_is_endpoint_unreachable(
    make_account: MakeAccount, closed_endpoint: str
) -> None:
    account = make_account(endpoint=closed_endpoint)

    with pytest.raises(ProviderError) as caught:
        check_credentials(ClientCache.for_probe(Settings()), account)

    assert caught.value.code == "endpoint_unreachable"
    assert "sts:GetCallerIdentity in us-east-1" in caught.value.message


def test_malformed_region_is_region_invalid(make_account: MakeAccount) -> None:
    account = make_account(regions=("us-east-1", "mars central"))

    with pytest.raises(ProviderError) as caught:
        check_credentials(_quick_cache(), account)

    assert caught.value.code == "region_invalid"
    assert "'mars central'" in caught.value.message


def test_no_secret_in_errors_or_logs(
    make_account: MakeAccount,
    make_user: MakeUser,
    enforce_iam: Callable[[], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = make_user("dave")
    enforce_iam()
    caplog.set_level(logging.DEBUG)  # from here on, botocore's own debug logging included
    wrong = make_account(_static(key["id"], SECRET), regions=("us-east-1", "eu-west-1"))
    denied = make_account(_static(key["id"], key["secret"]), account_id=2)
    messages: list[str] = []

    for account in (wrong, denied):
        with pytest.raises(ProviderError) as caught:
            check_credentials(_quick_cache(), account)
        messages.append(caught.value.message)
        messages.extend(result.error or "" for result in scan_account(_quick_cache(), account))

    assert caplog.text
    for secret in (SECRET, key["secret"]):
        assert secret not in caplog.text
        assert all(secret not in message for message in messages)
    assert all(key["id"] not in message for message in messages)


def test_scrub_masks_key_shaped_text_and_known_secrets() -> None:
    text = f"key AKIAIOSFODNN7EXAMPLE secret {SECRET} token tok-123456"

    scrubbed = scrub(text, secrets=("tok-123456", None))

    assert scrubbed == "key AKIA**** secret **** token ****"


def test_the_facts_that_decide_whether_an_instance_can_stop(moto_endpoint: str) -> None:
    """Read replicas, their sources and Multi-AZ come through the edge (SPEC §11): the moto
    emulator stops what real RDS refuses to, so dbsnooze must know them itself."""
    rds = boto3.client("rds", region_name="us-east-1", endpoint_url=moto_endpoint)
    _create_instances(moto_endpoint, "us-east-1", ["source-db"])
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="replica-db", SourceDBInstanceIdentifier="source-db"
    )
    rds.create_db_instance(
        DBInstanceIdentifier="mssql-maz",
        DBInstanceClass="db.m5.large",
        Engine="sqlserver-se",
        AllocatedStorage=20,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        MultiAZ=True,
        LicenseModel="license-included",
    )

    found = {i.provider_id: i for i in list_instances(rds, "us-east-1")}

    assert found["source-db"].read_replicas == ("replica-db",)
    assert found["source-db"].replica_source is None and not found["source-db"].replica
    assert found["replica-db"].replica and found["replica-db"].replica_source == "source-db"
    assert found["mssql-maz"].multi_az and found["mssql-maz"].cluster_id is None


def _create_cluster(rds: Any, name: str, engine: str = "aurora-postgresql", **more: Any) -> None:
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine=engine,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        **more,
    )


def test_clusters_are_listed_as_units_with_their_members_and_stop_facts(
    moto_endpoint: str, make_account: MakeAccount
) -> None:
    rds = boto3.client("rds", region_name="us-east-1", endpoint_url=moto_endpoint)
    _create_cluster(rds, "orders", Tags=[{"Key": "env", "Value": "prod"}])
    for member in ("orders-1", "orders-2"):
        rds.create_db_instance(
            DBInstanceIdentifier=member,
            DBInstanceClass="db.r6g.large",
            Engine="aurora-postgresql",
            DBClusterIdentifier="orders",
        )
    _create_cluster(rds, "legacy", engine="aurora-mysql", EngineMode="serverless")
    _create_cluster(
        rds,
        "maz",
        engine="postgres",
        DBClusterInstanceClass="db.m6gd.large",
        AllocatedStorage=100,
        StorageType="io1",
        Iops=1000,
    )
    arn = rds.describe_db_clusters(DBClusterIdentifier="orders")["DBClusters"][0]["DBClusterArn"]
    _create_cluster(rds, "world", engine="aurora-mysql")
    world = rds.describe_db_clusters(DBClusterIdentifier="world")["DBClusters"][0]
    rds.create_global_cluster(
        GlobalClusterIdentifier="glob", SourceDBClusterIdentifier=world["DBClusterArn"]
    )

    clusters = {c.provider_id: c for c in list_clusters(rds, "us-east-1")}
    [region] = scan_account(_quick_cache(), make_account())

    orders = clusters["orders"]
    assert orders.unit is Unit.CLUSTER and orders.arn == arn
    assert (orders.engine, orders.status, orders.tags) == (
        "aurora-postgresql",
        "available",
        {"env": "prod"},
    )
    assert orders.members == ("orders-1", "orders-2")
    assert orders.engine_mode == "provisioned" and orders.global_cluster is None
    assert orders.created_at is not None and orders.created_at.tzinfo is UTC
    assert clusters["legacy"].engine_mode == "serverless"
    assert (
        clusters["maz"].engine == "postgres" and clusters["maz"].instance_class == "db.m6gd.large"
    )
    assert clusters["world"].global_cluster == "glob"
    units = {(i.unit, i.provider_id) for i in region.instances}
    assert (Unit.CLUSTER, "orders") in units and (Unit.INSTANCE, "orders-1") in units
    member = next(i for i in region.instances if i.provider_id == "orders-1")
    assert member.cluster_id == "orders" and member.unit is Unit.INSTANCE
