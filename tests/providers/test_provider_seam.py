"""The provider seam with plain values: each provider's planner, its metrics, stop facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dbsnooze.analysis.eligibility import StopFacts, why_not_stoppable
from dbsnooze.collect.plan import SeriesRequest, plan
from dbsnooze.config import Settings
from dbsnooze.domain import DiscoveredInstance, HourRange, Provider, Target
from dbsnooze.providers.aws.provider import AwsProvider
from dbsnooze.providers.aws.session import ClientCache
from dbsnooze.providers.gcp.plan import MonitoringCall
from dbsnooze.providers.gcp.provider import GcpProvider
from dbsnooze.providers.gcp.session import GcpSessions

H = datetime(2026, 11, 18, tzinfo=UTC)
HOUR = timedelta(hours=1)
SETTINGS = Settings()


def _aws() -> AwsProvider:
    return AwsProvider(ClientCache(SETTINGS), SETTINGS)


def _gcp() -> GcpProvider:
    return GcpProvider(GcpSessions.from_settings(SETTINGS), SETTINGS, lambda: H)


def _target(instance_id: int, name: str, account_id: int = 1) -> Target:
    return Target(instance_id, account_id, "us-central1", name, "db-f1-micro", True,
                  provider=Provider.GCP)  # fmt: skip


def _run(first: int, last: int) -> HourRange:
    return HourRange(H + first * HOUR, H + last * HOUR)


def test_aws_plans_as_before_the_seam() -> None:
    targets = [Target(i, 1, "us-east-1", f"db-{i}", "db.t3.micro", True) for i in (1, 2)]
    one = [SeriesRequest(targets[0], "cpu", _run(0, 24))]
    many = [SeriesRequest(t, m, _run(0, 24)) for t in targets for m in ("cpu", "connections")]

    assert _aws().plan(one, single=True) == plan(one, instances=1)
    assert _aws().plan(many, single=False) == plan(many, instances=2)
    assert _aws().metrics(SETTINGS.metrics) == SETTINGS.metrics


def test_gcp_reads_one_metric_of_a_whole_project_per_call_over_touching_runs() -> None:
    a, b, c = _target(1, "p1:a"), _target(2, "p1:b"), _target(3, "p2:c")
    other_account = _target(4, "p1:d", account_id=2)
    requests = [
        SeriesRequest(a, "cpu", _run(0, 10)),
        SeriesRequest(b, "cpu", _run(10, 20)),  # touches a's run: one call over both
        SeriesRequest(a, "cpu", _run(30, 40)),  # a gap: another call
        SeriesRequest(b, "connections", _run(0, 10)),  # another metric
        SeriesRequest(c, "cpu", _run(0, 10)),  # another project
        SeriesRequest(other_account, "cpu", _run(0, 10)),  # another account
    ]

    calls = _gcp().plan(requests, single=False)

    described = sorted((c.scope, c.metric, c.span, [t.instance_id for t in c.history.targets])
                       for c in calls)  # fmt: skip
    assert described == sorted([
        ((1, "p1"), "cpu", _run(0, 20), [1, 2]),
        ((1, "p1"), "cpu", _run(30, 40), [1]),
        ((1, "p1"), "connections", _run(0, 10), [2]),
        ((1, "p2"), "cpu", _run(0, 10), [3]),
        ((2, "p1"), "cpu", _run(0, 10), [4]),
    ])  # fmt: skip
    merged = next(c for c in calls if c.span == _run(0, 20))
    assert isinstance(merged, MonitoringCall)
    assert set(merged.asked()) == {(1, "cpu", h) for h in _run(0, 10)} | {
        (2, "cpu", h) for h in _run(10, 20)
    }  # what each instance asked for, not the hull
    estimate = _gcp().estimate(requests, calls)
    assert (estimate.monitoring_calls, estimate.monitoring_requests) == (5, 4 * 4 + 8)
    assert (estimate.statistics_calls, estimate.data_calls, estimate.data_cost_usd) == (0, 0, 0.0)


def test_gcp_stores_memory_used_percent_for_freeable_memory() -> None:
    assert _gcp().metrics(SETTINGS.metrics) == (
        "cpu", "connections", "memory_used_percent", "read_iops", "write_iops",
    )  # fmt: skip
    assert _gcp().reads_whole_scope and not _aws().reads_whole_scope


def _instance(engine: str, replica: bool = False) -> DiscoveredInstance:
    return DiscoveredInstance("db", "r", engine, "1", "c", "available", {}, None, replica=replica)


def test_what_can_never_be_stopped_is_the_one_rule_set_for_every_provider() -> None:
    assert _aws().stop_blocker(_instance("postgres")) is None
    assert "read replica" in (_aws().stop_blocker(_instance("mysql", replica=True)) or "")
    assert "cluster" in (_aws().stop_blocker(_instance("aurora-postgresql")) or "")
    assert _gcp().stop_blocker(_instance("postgres")) is None
    assert "read replica" in (_gcp().stop_blocker(_instance("postgres", replica=True)) or "")
    for item in (_instance("mysql", replica=True), _instance("aurora-mysql")):
        assert _aws().stop_blocker(item) == _gcp().stop_blocker(item)
        assert _aws().stop_blocker(item) == why_not_stoppable(StopFacts.of(item))


def test_a_stop_or_start_is_given_as_long_as_its_calls_may_take() -> None:
    request = SETTINGS.cloud_timeout_seconds * SETTINGS.cloud_max_attempts
    poll = _gcp().poll
    assert _aws().power_call_seconds == request  # one call, every retry botocore may make
    # Cloud SQL answers with an operation that is followed to DONE: the lease outlasts it
    assert _gcp().power_call_seconds >= 2 * request + poll.max_polls * poll.interval_seconds
