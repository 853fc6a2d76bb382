"""Aurora and Multi-AZ DB clusters stored as rows of their own (unit "cluster"), discovered from
moto over HTTP: listed with their members, never collected, backfilled or analysed themselves."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.discovery import discover
from dbsnooze.domain import Unit
from dbsnooze.errors import Unprocessable
from dbsnooze.jobs import backfill
from dbsnooze.jobs.targets import live_targets, targets_for
from dbsnooze.store import instances as instance_store
from dbsnooze.store import recommendations
from dbsnooze.store.tables import InstanceRow, JobRow, JobTargetRow
from metricshelp import NOW, app, client, connect, create_db, prepare


def _cluster(rds: Any, name: str, engine: str = "aurora-postgresql", **more: Any) -> None:
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine=engine,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        **more,
    )


def _member(rds: Any, name: str, cluster: str) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
        DBClusterIdentifier=cluster,
    )


def _rows(ctx: Context) -> dict[tuple[str, str], InstanceRow]:
    with ctx.sessions() as session:
        rows = session.scalars(select(InstanceRow))
        return {(row.unit, row.provider_id): row for row in rows}


@pytest.fixture()
def fleet(ctx: Context, moto: Emulator) -> dict[tuple[str, str], InstanceRow]:
    """An Aurora cluster "orders" with two members, a serverless v1 cluster, and an instance and
    a cluster both named "twin" (RDS keeps their names apart)."""
    prepare(ctx)
    rds = client(moto, "rds")
    _cluster(rds, "orders")
    _member(rds, "orders-1", "orders")
    _member(rds, "orders-2", "orders")
    _cluster(rds, "legacy", engine="aurora-mysql", EngineMode="serverless")
    _cluster(rds, "twin")
    create_db(moto, "twin")
    connect(ctx, moto.endpoint_url)
    return _rows(ctx)


def test_a_cluster_is_stored_as_its_own_unit_beside_its_members(
    ctx: Context, fleet: dict[tuple[str, str], InstanceRow]
) -> None:
    orders = fleet[("cluster", "orders")]
    assert (orders.engine, orders.status, orders.members) == (
        "aurora-postgresql",
        "available",
        ["orders-1", "orders-2"],
    )
    assert orders.engine_mode == "provisioned" and orders.cluster_id is None
    assert fleet[("instance", "orders-1")].cluster_id == "orders"
    assert fleet[("cluster", "legacy")].engine_mode == "serverless"
    assert fleet[("cluster", "twin")].id != fleet[("instance", "twin")].id
    assert len(fleet) == 6

    again = discover(ctx, "test")  # nothing changed: nothing updated, nothing new

    assert (again.totals()["new"], again.totals()["updated"], again.totals()["seen"]) == (0, 0, 6)


def test_clusters_are_never_collection_or_backfill_targets(
    ctx: Context, fleet: dict[tuple[str, str], InstanceRow]
) -> None:
    clusters = [row.id for (unit, _), row in fleet.items() if unit == Unit.CLUSTER]
    with ctx.sessions() as session:
        live = {t.instance_id for t in live_targets(session)}
        asked = targets_for(session, clusters)
        stale = recommendations.stale_instances(session, NOW)

    assert live == {row.id for (unit, _), row in fleet.items() if unit == Unit.INSTANCE}
    assert asked == [] and not set(clusters) & set(stale)
    with pytest.raises(Unprocessable) as caught:
        backfill.submit_instances(ctx, [fleet[("cluster", "orders")].id], 7, False, "test")
    assert caught.value.code == "cluster_has_no_history"
    assert "orders-1, orders-2" in caught.value.message
    job = backfill.submit_fleet(ctx, instance_store.InstanceFilter(), 7, False, "test")
    with ctx.sessions() as session:
        targeted = set(session.scalars(select(JobTargetRow.instance_id)))
    assert job.id and targeted == live


def test_a_new_cluster_starts_no_auto_backfill(ctx: Context, moto: Emulator) -> None:
    prepare(ctx, auto_backfill=True)
    rds = client(moto, "rds")
    _cluster(rds, "alone")

    connect(ctx, moto.endpoint_url)  # discovery finds it new

    with ctx.sessions() as session:
        assert session.scalars(select(JobRow)).all() == []


def test_a_removed_cluster_is_marked_deleted_and_its_member_too(
    ctx: Context, moto: Emulator, fleet: dict[tuple[str, str], InstanceRow]
) -> None:
    rds = client(moto, "rds")
    rds.delete_db_instance(DBInstanceIdentifier="orders-1")
    rds.delete_db_instance(DBInstanceIdentifier="orders-2")
    rds.delete_db_cluster(DBClusterIdentifier="orders")

    discover(ctx, "test")

    rows = _rows(ctx)
    assert rows[("cluster", "orders")].status == "deleted"
    assert rows[("instance", "orders-1")].status == "deleted"
    assert rows[("cluster", "twin")].deleted_at is None


def test_the_api_shows_a_cluster_with_its_members_and_why_it_cannot_stop(
    ctx: Context, fleet: dict[tuple[str, str], InstanceRow]
) -> None:
    orders = fleet[("cluster", "orders")]
    api: TestClient
    with app(ctx, run_worker=False) as api:
        one = api.get(f"/api/v1/instances/{orders.id}").json()
        listed = api.get("/api/v1/instances", params={"q": "orders"}).json()["data"]
        legacy = api.get(f"/api/v1/instances/{fleet[('cluster', 'legacy')].id}").json()
        member = api.get(f"/api/v1/instances/{fleet[('instance', 'orders-1')].id}").json()

    assert (one["unit"], one["engine"], one["status"], one["cannot_stop"]) == (
        "cluster",
        "aurora-postgresql",
        "available",
        None,
    )
    assert [(m["name"], m["id"], m["status"]) for m in one["members"]] == [
        ("orders-1", fleet[("instance", "orders-1")].id, "available"),
        ("orders-2", fleet[("instance", "orders-2")].id, "available"),
    ]
    assert next(i for i in listed if i["unit"] == "cluster")["members"] == one["members"]
    assert "Aurora Serverless v1" in legacy["cannot_stop"]
    assert member["cluster_id"] == "orders" and "stop its cluster orders" in member["cannot_stop"]


def test_the_instance_page_of_a_cluster_lists_its_members(
    ctx: Context, fleet: dict[tuple[str, str], InstanceRow]
) -> None:
    orders, member = fleet[("cluster", "orders")], fleet[("instance", "orders-1")]
    with app(ctx, run_worker=False) as api:
        page = api.get(f"/instances/{orders.id}").text
        member_page = api.get(f"/instances/{member.id}").text

    assert f'<a href="/instances/{member.id}">orders-1</a>' in page
    assert "keeps no history of its own" in page
    assert '<dd id="cluster">orders</dd>' in member_page
    assert "stop its cluster orders instead" in member_page
