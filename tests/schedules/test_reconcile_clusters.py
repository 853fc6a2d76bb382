"""An Aurora cluster is the scheduled unit: the reconciler stops and starts the cluster
(StopDBCluster / StartDBCluster), and never calls the cloud for a member instance on its own."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dbsnooze.analysis.idle import Thresholds
from dbsnooze.domain import Unit
from dbsnooze.metrics import NAMESPACE
from dbsnooze.schedules import reconcile
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store import schedules, thresholds
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Settings
from dbsnooze.store.thresholds import InstanceRule
from metricshelp import register
from reconhelp import REGION, World

AURORA = "aurora-postgresql"
NIGHTS = (Window(tuple(range(7)), time(19), time(7)),)
MINUTE = timedelta(minutes=1)


def _cluster(world: World) -> dict[str, int]:
    rds = world.moto.client("rds", REGION)
    rds.create_db_cluster(
        DBClusterIdentifier="shop",
        Engine=AURORA,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="shop-1",
        DBInstanceClass="db.r6g.large",
        Engine=AURORA,
        DBClusterIdentifier="shop",
    )
    url = world.proxy.url
    ids = register(world.ctx, url, ["shop-1"], engine=AURORA, cluster_id="shop")
    cluster = {"engine": AURORA, "unit": Unit.CLUSTER, "members": ("shop-1",)}
    ids.update(register(world.ctx, url, ["shop"], **cluster))
    return ids


def _cluster_calls(world: World) -> list[str]:
    return [
        f"{r.operation}:{r.params.get('DBClusterIdentifier', r.params.get('DBInstanceIdentifier'))}"
        for r in world.proxy.forwarded(
            "StopDBCluster", "StartDBCluster", "StopDBInstance", "StartDBInstance"
        )
    ]


def test_the_cluster_sleeps_and_wakes_and_its_member_is_never_called(world: World) -> None:
    ids = _cluster(world)
    settings = Settings(ScheduleSpec("UTC", NIGHTS), dry_run=False)
    with transaction(world.ctx.sessions) as session:
        schedules.create(
            session, "nights", settings, "user:ann", world.clock(), (ids["shop"], ids["shop-1"])
        )
    world.clock.now = datetime(2026, 11, 18, 19, 5, tzinfo=UTC)
    reconcile.run_pass(world.ctx, "w1")
    assert _cluster_calls(world) == ["StopDBCluster:shop"]
    member = world.actions(ids["shop-1"])
    assert [(a.kind, a.state) for a in member] == [("stop", "skipped")]
    assert "stop its cluster" in member[0].reason
    world.clock.now = datetime(2026, 11, 19, 7, 5, tzinfo=UTC)
    for _ in range(3):  # the layer's `stopping` is waited out, then it wakes at 07:00
        reconcile.run_pass(world.ctx, "w1")
        world.clock.now = world.clock.now.replace(minute=world.clock.now.minute + 5)
    assert _cluster_calls(world) == ["StopDBCluster:shop", "StartDBCluster:shop"]


def _rule(cpu: float, iops: float, floor: float, margin: float, iops_read: bool) -> InstanceRule:
    return InstanceRule(Thresholds(cpu, iops, floor, margin), iops_read)


def test_the_strictest_rule_takes_each_members_most_sensitive_threshold() -> None:
    pooled = _rule(cpu=8, iops=50, floor=10, margin=1, iops_read=False)
    touchy = _rule(cpu=2, iops=90, floor=3, margin=2, iops_read=True)

    found = thresholds.strictest([pooled, touchy])

    assert found == _rule(cpu=2, iops=90, floor=3, margin=2, iops_read=True)
    assert thresholds.strictest([pooled]) == pooled
    assert thresholds.strictest([]) == thresholds.DEFAULT


def test_a_cluster_is_judged_by_its_most_sensitive_members_thresholds(world: World) -> None:
    ids = _cluster(world)
    touchy = _rule(cpu=2, iops=20, floor=0, margin=1, iops_read=True)  # e.g. a tag on shop-1
    with transaction(world.ctx.sessions) as session:
        thresholds.save(session.connection(), {ids["shop-1"]: touchy})
        nights = Settings(ScheduleSpec("UTC", NIGHTS), dry_run=False, grace_minutes=30)
        schedules.create(session, "nights", nights, "user:ann", world.clock(), (ids["shop"],))
    start = datetime(2026, 11, 18, 18, 40, tzinfo=UTC)  # 3 % CPU: idle by the default 5 %
    dimension = [{"Name": "DBClusterIdentifier", "Value": "shop"}]
    world.moto.client("cloudwatch", REGION).put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": dimension,
                "Timestamp": start + m * MINUTE,
                "Value": v,
            }
            for m in range(30)
            for name, v in (
                ("CPUUtilization", 3.0),
                ("DatabaseConnections", 0.0),
                ("ReadIOPS", 1.0),
                ("WriteIOPS", 1.0),
            )
        ],
    )

    world.clock.now = datetime(2026, 11, 18, 19, 5, tzinfo=UTC)
    (outcome,) = reconcile.run_pass(world.ctx, "w1").outcomes

    assert (outcome.result, _cluster_calls(world)) == ("postponed", [])
    (action,) = world.actions(ids["shop"])
    assert action.reason == "postponed: active in the last 15 minutes (cpu)"
