"""AWS power against moto over HTTP, behind the stateful RDS layer (transitions, refusals) and the
fault proxy (request log, faults)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from dbsnooze.config import Settings
from dbsnooze.domain import CloudAccount, Power, PowerUnit, ProviderError
from dbsnooze.metrics import NAMESPACE
from dbsnooze.providers.aws.provider import AwsProvider
from dbsnooze.providers.aws.session import ClientCache
from faultproxy import FaultProxy
from rdslayer import RdsLayer

REGION = "us-east-1"
NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def layer(moto_endpoint: str, clock: Clock) -> Iterator[RdsLayer]:
    with RdsLayer(moto_endpoint, clock) as rds_layer:
        yield rds_layer


@pytest.fixture
def proxy(layer: RdsLayer) -> Iterator[FaultProxy]:
    with FaultProxy(layer.url) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def aws(clock: Clock) -> AwsProvider:
    settings = Settings(cloud_max_attempts=2, cloud_timeout_seconds=5)
    return AwsProvider(ClientCache(settings), settings, clock)


@pytest.fixture
def account(make_account: Callable[..., CloudAccount], proxy: FaultProxy) -> CloudAccount:
    return make_account(endpoint=proxy.url)


def _rds(endpoint: str) -> object:
    return boto3.client("rds", region_name=REGION, endpoint_url=endpoint)


def _instances(endpoint: str, names: list[str]) -> None:
    rds = boto3.client("rds", region_name=REGION, endpoint_url=endpoint)

    def create(name: str) -> None:
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="admin_user",
            MasterUserPassword="not-a-real-password",
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, names))


def _cluster(endpoint: str, name: str) -> None:
    rds = boto3.client("rds", region_name=REGION, endpoint_url=endpoint)
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
    )


def _unit(name: str, cluster: bool = False) -> PowerUnit:
    return PowerUnit(REGION, name, cluster)


def test_read_power_batches_many_ids_per_describe_and_reads_missing_as_gone(
    moto_endpoint: str, aws: AwsProvider, account: CloudAccount, proxy: FaultProxy
) -> None:
    names = [f"db-{n:03d}" for n in range(130)]
    _instances(moto_endpoint, names)
    _cluster(moto_endpoint, "aurora-a")
    boto3.client("rds", region_name=REGION, endpoint_url=moto_endpoint).stop_db_instance(
        DBInstanceIdentifier="db-007"
    )
    units = [_unit(n) for n in names] + [_unit("aurora-a", True), _unit("vanished")]

    found = aws.read_power(account, REGION, units)

    assert found[_unit("db-000")].state is Power.AWAKE
    assert found[_unit("db-007")].state is Power.ASLEEP
    assert found[_unit("aurora-a", True)].state is Power.AWAKE
    assert found[_unit("vanished")].state is Power.GONE
    assert len(proxy.forwarded("DescribeDBInstances")) == 2  # 131 ids: 100 + 31
    assert len(proxy.forwarded("DescribeDBClusters")) == 1
    asked = _first_filter(proxy.forwarded("DescribeDBInstances")[0].params)
    assert asked["Name"] == "db-instance-id" and len(_values(asked)) == 100


def _first_filter(params: dict[str, Any]) -> dict[str, Any]:
    # query protocol wraps list members in their member name (Filters.Filter.1...); JSON does not
    filters = params["Filters"]
    found: dict[str, Any] = (filters.get("Filter") if isinstance(filters, dict) else filters)[0]
    return found


def _values(one: dict[str, Any]) -> list[str]:
    values = one["Values"]
    return list(values.get("Value") if isinstance(values, dict) else values)


def test_stop_is_transitional_then_asleep_and_a_start_meanwhile_is_retryable(
    moto_endpoint: str, aws: AwsProvider, account: CloudAccount, clock: Clock
) -> None:
    _instances(moto_endpoint, ["app"])

    answer = aws.set_power(account, _unit("app"), awake=False)

    assert answer.state is Power.STOPPING
    assert aws.read_power(account, REGION, [_unit("app")])[_unit("app")].state is Power.STOPPING
    with pytest.raises(ProviderError) as refused:
        aws.set_power(account, _unit("app"), awake=True)
    assert refused.value.code == "invalid_state" and refused.value.retryable
    clock.now += timedelta(minutes=5)
    assert aws.read_power(account, REGION, [_unit("app")])[_unit("app")].state is Power.ASLEEP
    assert aws.set_power(account, _unit("app"), awake=True).state is Power.STARTING
    clock.now += timedelta(minutes=5)
    assert aws.read_power(account, REGION, [_unit("app")])[_unit("app")].state is Power.AWAKE


def test_an_aurora_cluster_is_stopped_and_started_as_a_cluster(
    moto_endpoint: str, aws: AwsProvider, account: CloudAccount, proxy: FaultProxy, clock: Clock
) -> None:
    _cluster(moto_endpoint, "aurora-a")
    unit = _unit("aurora-a", cluster=True)

    assert aws.set_power(account, unit, awake=False).state is Power.STOPPING
    clock.now += timedelta(minutes=5)
    assert aws.read_power(account, REGION, [unit])[unit].state is Power.ASLEEP
    assert aws.set_power(account, unit, awake=True).state is Power.STARTING
    assert [r.operation for r in proxy.forwarded("StopDBCluster", "StartDBCluster")] == [
        "StopDBCluster",
        "StartDBCluster",
    ]


def test_stopping_a_missing_instance_is_not_found_and_not_retryable(
    aws: AwsProvider, account: CloudAccount
) -> None:
    with pytest.raises(ProviderError) as failed:
        aws.set_power(account, _unit("nothing-here"), awake=False)
    assert failed.value.code == "not_found" and not failed.value.retryable


def test_a_5xx_left_after_retries_is_retryable_and_a_throttle_is_retried(
    moto_endpoint: str, aws: AwsProvider, account: CloudAccount, proxy: FaultProxy
) -> None:
    _instances(moto_endpoint, ["app"])
    proxy.inject("503", "503")  # both of the two attempts

    with pytest.raises(ProviderError) as failed:
        aws.set_power(account, _unit("app"), awake=False)

    assert failed.value.retryable
    proxy.inject("throttle")
    assert aws.set_power(account, _unit("app"), awake=False).state is Power.STOPPING
    assert len(proxy.forwarded("StopDBInstance")) == 1


def test_an_endpoint_outside_the_allow_list_is_refused_before_any_request(
    make_account: Callable[..., CloudAccount], clock: Clock
) -> None:
    settings = Settings(cloud_max_attempts=1, allowed_endpoints=("*.amazonaws.com",))
    aws = AwsProvider(ClientCache(settings), settings, clock)
    account = make_account(endpoint="http://127.0.0.1:9")

    with pytest.raises(ProviderError):
        aws.read_power(account, REGION, [_unit("app")])


def test_recent_activity_averages_the_last_minutes_per_metric(
    moto_endpoint: str, aws: AwsProvider, account: CloudAccount
) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=moto_endpoint)
    minute = NOW.replace(second=0)
    data = [
        {
            "MetricName": name,
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "app"}],
            "Timestamp": minute - timedelta(minutes=ago),
            "Value": value + ago,
        }
        for ago in range(1, 11)
        for name, value in (("CPUUtilization", 10.0), ("DatabaseConnections", 0.0))
    ]
    old = {**data[0], "Timestamp": minute - timedelta(minutes=40), "Value": 1000.0}
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=[*data, old])

    found = aws.recent_activity(account, REGION, [_unit("app"), _unit("quiet")], minutes=15)

    assert found[_unit("app")]["cpu"] == pytest.approx(15.5)  # 11..20
    assert found[_unit("app")]["connections"] == pytest.approx(5.5)
    assert _unit("quiet") not in found


def test_recent_activity_reads_an_aurora_cluster_by_its_cluster_dimension(
    moto_endpoint: str, aws: AwsProvider, account: CloudAccount
) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=moto_endpoint)
    minute = NOW.replace(second=0)
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": "aurora-a"}],
                "Timestamp": minute - timedelta(minutes=ago),
                "Value": 30.0,
            }
            for ago in range(1, 6)
        ],
    )
    unit = _unit("aurora-a", cluster=True)

    found = aws.recent_activity(account, REGION, [unit, _unit("aurora-a")], minutes=15)

    assert found == {unit: {"cpu": 30.0}}  # the instance of the same name has no data
