"""An Aurora cluster is the scheduled unit: the reconciler stops and starts the cluster
(StopDBCluster / StartDBCluster), and never calls the cloud for a member instance on its own."""

from __future__ import annotations

from datetime import UTC, datetime, time

from dbsnooze.domain import Unit
from dbsnooze.schedules import reconcile
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store import schedules
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Settings
from metricshelp import register
from reconhelp import REGION, World

AURORA = "aurora-postgresql"
NIGHTS = (Window(tuple(range(7)), time(19), time(7)),)


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
