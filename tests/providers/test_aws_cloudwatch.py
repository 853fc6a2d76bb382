"""The CloudWatch edge against a real moto server over HTTP, with faults injected by a proxy."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.session import get_session

from dbsnooze.collect.plan import (
    DataCall,
    SeriesRequest,
    StatisticsCall,
    plan_data,
    plan_statistics,
)
from dbsnooze.collect.throttle import TokenBucket
from dbsnooze.config import Settings
from dbsnooze.demo.emulator import Emulator
from dbsnooze.domain import (
    HOUR,
    AuthMethod,
    CloudAccount,
    Credentials,
    HourlyStat,
    HourRange,
    Provider,
    ProviderError,
    Target,
)
from dbsnooze.metrics import DIMENSION, METRICS, NAMESPACE, STATISTICS
from dbsnooze.providers.aws.cloudwatch import CloudWatchSource, _data_params
from dbsnooze.providers.aws.session import ClientCache
from faultproxy import THROTTLE_MESSAGE, FaultProxy, Request, decode, throttling_answer

REGION = "us-east-1"
START = datetime(2026, 11, 10, tzinfo=UTC)
ALL_METRICS = tuple(METRICS)
KEYS = Credentials(AuthMethod.STATIC_KEYS, access_key_id="testing", secret_access_key="testing")


# --- what the cloud holds -------------------------------------------------------------------


def target(instance_id: int) -> Target:
    return Target(instance_id, 1, REGION, f"db-{instance_id}", "db.t3.micro", True)


def expected(instance_id: int, metric: str, hour: datetime) -> HourlyStat:
    """Distinct, exactly representable statistics for every (instance, metric, hour)."""
    step = (instance_id * 31 + ALL_METRICS.index(metric) * 7 + int((hour - START) / HOUR)) % 97
    average = 1.25 + 0.5 * step
    return HourlyStat(instance_id, metric, hour, average, average + 2.5, average - 1.0, 60.0)


@pytest.fixture(scope="module")
def cloudwatch(emulator: Emulator) -> Any:
    """A client straight to moto, for arranging data (the `moto` fixture empties it per test)."""
    return emulator.client("cloudwatch", REGION)


def put(client: Any, stats: Iterable[HourlyStat], targets: dict[int, Target]) -> None:
    """Hourly statistic sets, timestamped on the hour as CloudWatch reports RDS hours."""
    data = [_datum(stat, targets[stat.instance_id]) for stat in stats]
    for i in range(0, len(data), 500):
        client.put_metric_data(Namespace=NAMESPACE, MetricData=data[i : i + 500])


def _datum(stat: HourlyStat, where: Target) -> dict[str, Any]:
    return {
        "MetricName": METRICS[stat.metric].cloudwatch_name,
        "Dimensions": [{"Name": DIMENSION, "Value": where.provider_id}],
        "Timestamp": stat.hour,
        "StatisticValues": {
            "SampleCount": stat.sample_count,
            "Sum": stat.average * stat.sample_count,
            "Minimum": stat.minimum,
            "Maximum": stat.maximum,
        },
    }


def truth(targets: Iterable[Target], metrics: Iterable[str], span: HourRange) -> list[HourlyStat]:
    return [
        expected(t.instance_id, metric, hour)
        for t in targets
        for metric in metrics
        for hour in span
    ]


def seed(
    client: Any, targets: list[Target], metrics: Iterable[str], span: HourRange
) -> list[HourlyStat]:
    stats = truth(targets, metrics, span)
    put(client, stats, {t.instance_id: t for t in targets})
    return stats


def ordered(stats: Iterable[HourlyStat]) -> list[HourlyStat]:
    return sorted(stats, key=lambda s: (s.instance_id, s.metric, s.hour))


# --- the source under test ------------------------------------------------------------------


class CountingBucket(TokenBucket):
    """A real bucket (fast enough not to slow tests) that counts the tokens taken."""

    def __init__(self) -> None:
        super().__init__(rate=1000.0, burst=1000)
        self.taken = 0

    def acquire(self) -> float:
        self.taken += 1
        return super().acquire()


def make_source(endpoint_url: str, max_attempts: int = 3) -> tuple[CloudWatchSource, Any]:
    """A source built the way dbsnooze builds it: ClientCache and its botocore retry config."""
    settings = Settings(cloud_max_attempts=max_attempts, cloud_timeout_seconds=5)
    account = CloudAccount(1, Provider.AWS, "test", (REGION,), KEYS, endpoint_url)
    client = ClientCache(settings).client(account, REGION, "cloudwatch")
    return CloudWatchSource(client, CountingBucket()), client


def bucket_of(source: CloudWatchSource) -> CountingBucket:
    bucket = source._bucket
    assert isinstance(bucket, CountingBucket)
    return bucket


# --- happy paths ----------------------------------------------------------------------------


def test_statistics_return_exactly_the_put_numbers(moto: Emulator, cloudwatch: Any) -> None:
    span = HourRange(START, START + 6 * HOUR)
    stats = seed(cloudwatch, [target(1)], ["cpu"], span)
    outside = [expected(1, "cpu", START - HOUR), expected(1, "cpu", span.end)]
    put(cloudwatch, outside, {1: target(1)})
    source, _ = make_source(moto.endpoint_url)

    found = source.statistics(StatisticsCall(target(1), "cpu", span))

    assert found == stats
    assert source.api_calls == 1
    assert bucket_of(source).taken == 1


def test_statistics_keep_instances_and_metrics_apart(moto: Emulator, cloudwatch: Any) -> None:
    span = HourRange(START, START + 3 * HOUR)
    seed(cloudwatch, [target(1), target(2)], ["cpu", "connections"], span)
    source, _ = make_source(moto.endpoint_url)

    found = source.statistics(StatisticsCall(target(2), "connections", span))

    assert found == truth([target(2)], ["connections"], span)


def test_statistics_of_an_hour_with_no_data_is_an_empty_answer(
    moto: Emulator, cloudwatch: Any
) -> None:
    source, _ = make_source(moto.endpoint_url)
    assert source.statistics(StatisticsCall(target(1), "cpu", HourRange(START, START + HOUR))) == []
    assert source.api_calls == 1


def test_instance_week_all_metrics_in_five_calls(moto: Emulator, cloudwatch: Any) -> None:
    week = HourRange(START, START + 7 * 24 * HOUR)
    stats = seed(cloudwatch, [target(1)], ALL_METRICS, week)
    source, _ = make_source(moto.endpoint_url)

    calls = plan_statistics(SeriesRequest(target(1), metric, week) for metric in ALL_METRICS)
    found = [stat for call in calls for stat in source.statistics(call)]

    assert len(calls) == 5
    assert source.api_calls == 5
    assert ordered(found) == ordered(stats)


def test_data_returns_exactly_the_put_numbers(moto: Emulator, cloudwatch: Any) -> None:
    span = HourRange(START, START + 48 * HOUR)
    targets = [target(1), target(2)]
    stats = seed(cloudwatch, targets, ["cpu", "write_iops"], span)
    put(cloudwatch, [expected(1, "cpu", span.end)], {1: target(1)})  # outside: ignored
    source, _ = make_source(moto.endpoint_url)

    (call,) = plan_data(SeriesRequest(t, m, span) for t in targets for m in ["cpu", "write_iops"])
    found = source.data(call)

    assert found == ordered(stats)
    assert source.api_calls == 1


def test_fleet_data_in_ceil_queries_over_500_calls(moto: Emulator, cloudwatch: Any) -> None:
    # moto's GetMetricData is slow per datapoint in the window: a short span keeps this quick.
    span = HourRange(START, START + 2 * HOUR)
    targets = [target(i) for i in range(1, 27)]
    stats = seed(cloudwatch, targets, ALL_METRICS, span)
    source, _ = make_source(moto.endpoint_url)

    calls = plan_data(SeriesRequest(t, m, span) for t in targets for m in ALL_METRICS)
    found = [stat for call in calls for stat in source.data(call)]

    queries = sum(len(call.queries) for call in calls)
    assert queries == 26 * 5 * 4
    assert len(calls) == math.ceil(queries / 500) == 2
    assert source.api_calls == 2
    assert ordered(found) == ordered(stats)


# --- paging, partial and failed answers -----------------------------------------------------
# moto answers GetMetricData in one page (it ignores NextToken and MaxDatapoints), so these
# tests reshape moto's real answers with botocore's own event hooks, whatever the wire protocol.


def page_in_two(client: Any, first_page_hours: int) -> list[str | None]:
    """Make the answer to a request without NextToken its first page; returns tokens sent."""
    sent: list[str | None] = []

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["test_token"] = params.get("NextToken")
        sent.append(params.get("NextToken"))

    def split(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        first = context["test_token"] is None
        cut = slice(None, first_page_hours) if first else slice(first_page_hours, None)
        for result in parsed.get("MetricDataResults", []):
            result["Timestamps"] = result["Timestamps"][cut]
            result["Values"] = result["Values"][cut]
            result["StatusCode"] = "PartialData" if first else "Complete"
        if first:
            parsed["NextToken"] = "page-2"

    client.meta.events.register("provide-client-params.cloudwatch.GetMetricData", remember)
    client.meta.events.register("after-call.cloudwatch.GetMetricData", split)
    return sent


def edit_answer(client: Any, edit: Any) -> None:
    def hook(parsed: dict[str, Any], **_: Any) -> None:
        for result in parsed.get("MetricDataResults", []):
            edit(result)

    client.meta.events.register("after-call.cloudwatch.GetMetricData", hook)


def one_call(span: HourRange, metrics: Iterable[str] = ("cpu",)) -> DataCall:
    (call,) = plan_data(SeriesRequest(target(1), metric, span) for metric in metrics)
    return call


def test_data_follows_next_token_taking_a_token_per_page(moto: Emulator, cloudwatch: Any) -> None:
    span = HourRange(START, START + 10 * HOUR)
    stats = seed(cloudwatch, [target(1)], ["cpu", "read_iops"], span)
    source, client = make_source(moto.endpoint_url)
    sent = page_in_two(client, first_page_hours=4)

    found = source.data(one_call(span, ["cpu", "read_iops"]))

    assert sent == [None, "page-2"]
    assert source.api_calls == 2
    assert bucket_of(source).taken == 2
    assert found == ordered(stats)


def test_an_hour_missing_a_statistic_is_dropped_not_invented(
    moto: Emulator, cloudwatch: Any
) -> None:
    span = HourRange(START, START + 4 * HOUR)
    stats = seed(cloudwatch, [target(1)], ["cpu"], span)
    source, client = make_source(moto.endpoint_url)
    call = one_call(span)
    maximum = next(q.id for q in call.queries if q.stat == "Maximum")

    def drop_third_hour(result: dict[str, Any]) -> None:
        if result["Id"] == maximum:
            del result["Timestamps"][2], result["Values"][2]

    edit_answer(client, drop_third_hour)

    assert source.data(call) == [s for s in stats if s.hour != START + 2 * HOUR]


def test_a_forbidden_query_is_an_error_not_an_empty_answer(moto: Emulator, cloudwatch: Any) -> None:
    span = HourRange(START, START + 2 * HOUR)
    seed(cloudwatch, [target(1)], ["cpu"], span)
    source, client = make_source(moto.endpoint_url)

    def forbid(result: dict[str, Any]) -> None:
        result["StatusCode"] = "Forbidden"

    edit_answer(client, forbid)

    with pytest.raises(ProviderError) as caught:
        source.data(one_call(span))
    assert caught.value.code == "access_denied"
    assert "cloudwatch:GetMetricData" in caught.value.message
    assert "db-1" in caught.value.message


def test_a_next_token_that_never_changes_is_an_error_not_a_loop(
    moto: Emulator, cloudwatch: Any
) -> None:
    span = HourRange(START, START + 2 * HOUR)
    seed(cloudwatch, [target(1)], ["cpu"], span)
    source, client = make_source(moto.endpoint_url)

    def stuck(parsed: dict[str, Any], **_: Any) -> None:
        parsed["NextToken"] = "same"

    client.meta.events.register("after-call.cloudwatch.GetMetricData", stuck)

    with pytest.raises(ProviderError) as caught:
        source.data(one_call(span))
    assert caught.value.code == "cloud_error"
    assert source.api_calls == 2


# --- fault injection: a proxy in front of moto (tests/faultproxy.py) ------------------------


@pytest.fixture
def proxy_to(moto: Emulator) -> Iterator[Any]:
    proxies: list[FaultProxy] = []

    def make(*faults: str) -> FaultProxy:
        proxy = FaultProxy(moto.endpoint_url, faults).__enter__()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.__exit__()


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param(("503",), id="5xx"),
        pytest.param(("500", "502"), id="two-5xx"),
        pytest.param(("throttle",), id="throttling"),
    ],
)
def test_statistics_survive_faults_through_botocore_retries(
    moto: Emulator, cloudwatch: Any, proxy_to: Any, faults: tuple[str, ...]
) -> None:
    span = HourRange(START, START + 5 * HOUR)
    stats = seed(cloudwatch, [target(1)], ["cpu"], span)
    proxy = proxy_to(*faults)
    source, _ = make_source(proxy.url, max_attempts=3)

    found = source.statistics(StatisticsCall(target(1), "cpu", span))

    assert found == stats
    assert proxy.served_faults == len(faults)
    assert proxy.requests == len(faults) + 1  # botocore retried on the wire...
    assert source.api_calls == 1  # ...while dbsnooze made one logical call
    assert bucket_of(source).taken == 1


def test_data_pages_survive_a_throttle_and_a_5xx(
    moto: Emulator, cloudwatch: Any, proxy_to: Any
) -> None:
    span = HourRange(START, START + 6 * HOUR)
    stats = seed(cloudwatch, [target(1)], ["cpu", "connections"], span)
    proxy = proxy_to("throttle", "503")
    source, client = make_source(proxy.url, max_attempts=3)
    page_in_two(client, first_page_hours=3)

    found = source.data(one_call(span, ["cpu", "connections"]))

    assert found == ordered(stats)
    assert proxy.requests == 4  # page 1 after two faults, then page 2
    assert source.api_calls == 2


def attempts(client: Any) -> int:
    """Requests botocore makes for one call, first try included."""
    total: int = client.meta.config.retries["total_max_attempts"]
    return total


def test_a_fault_that_outlasts_the_retries_is_a_provider_error(proxy_to: Any) -> None:
    proxy = proxy_to(*["503"] * 10)
    source, client = make_source(proxy.url, max_attempts=2)

    with pytest.raises(ProviderError) as caught:
        source.statistics(StatisticsCall(target(1), "cpu", HourRange(START, START + HOUR)))

    assert proxy.requests == attempts(client)
    assert source.api_calls == 1
    assert "cloudwatch:GetMetricStatistics" in caught.value.message
    assert REGION in caught.value.message
    assert "testing" not in caught.value.message


def test_throttling_that_outlasts_the_retries_says_so(proxy_to: Any) -> None:
    proxy = proxy_to(*["throttle"] * 10)
    source, client = make_source(proxy.url, max_attempts=1)

    with pytest.raises(ProviderError) as caught:
        source.data(one_call(HourRange(START, START + HOUR)))

    assert caught.value.code == "throttled"
    assert proxy.requests == attempts(client)
    assert source.api_calls == 1
    assert "cloudwatch:GetMetricData" in caught.value.message
    assert THROTTLE_MESSAGE in caught.value.message


def test_an_unreachable_endpoint_is_a_provider_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed again before use
    source, _ = make_source(dead, max_attempts=2)

    with pytest.raises(ProviderError) as caught:
        source.statistics(StatisticsCall(target(1), "cpu", HourRange(START, START + HOUR)))

    assert caught.value.code == "endpoint_unreachable"
    assert source.api_calls == 1


@pytest.mark.parametrize("protocol", ["query", "json", "smithy-rpc-v2-cbor"])
def test_the_injected_throttle_reads_as_throttling_in_every_protocol(protocol: str) -> None:
    content_type = {
        "query": "application/x-www-form-urlencoded; charset=utf-8",
        "json": "application/x-amz-json-1.0",
        "smithy-rpc-v2-cbor": "application/cbor",
    }[protocol]
    headers, body = throttling_answer(content_type)
    model = get_session().get_service_model("cloudwatch").operation_model("GetMetricData")
    answer = {"status_code": 400, "headers": {k.lower(): v for k, v in headers.items()}}

    parsed = create_parser(protocol).parse(answer | {"body": body}, model.output_shape)

    assert parsed["Error"]["Code"] == "Throttling"
    assert parsed["Error"]["Message"] == THROTTLE_MESSAGE


def _wire_body(body: bytes | str | dict[str, Any]) -> bytes:
    if isinstance(body, dict):  # the query serializer leaves the form to the HTTP layer
        return urlencode(body).encode()
    return body if isinstance(body, bytes) else body.encode()


@pytest.mark.parametrize("protocol", ["query", "json", "smithy-rpc-v2-cbor"])
def test_the_proxy_reads_a_request_in_every_protocol(protocol: str) -> None:
    model = get_session().get_service_model("cloudwatch").operation_model("GetMetricData")
    (call,) = plan_data([SeriesRequest(target(7), "cpu", HourRange(START, START + 3 * HOUR))])
    wire = create_serializer(protocol).serialize_to_request(_data_params(call), model)

    operation, params = decode(wire["url_path"], wire["headers"], _wire_body(wire["body"]))
    request = Request(operation, params)

    assert operation == "GetMetricData"
    assert request.hours == [START, START + HOUR, START + 2 * HOUR]
    assert sorted(request.series) == [("db-7", "CPUUtilization", stat) for stat in STATISTICS]
