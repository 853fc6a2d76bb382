"""Migration 0010 on a store that already holds an instance: it becomes a unit "instance", a
cluster may then share its name, and the downgrade takes the clusters and the columns back."""

from __future__ import annotations

import sqlalchemy as sa
from shapes import add_instances
from sqlalchemy import inspect, select

from dbsnooze.store.db import downgrade, make_engine, upgrade
from dbsnooze.store.tables import InstanceRow

NEW_COLUMNS = {"unit", "members", "engine_mode", "global_cluster"}


def test_upgrade_keeps_instances_and_downgrade_removes_clusters(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            add_instances(conn, [1])  # as a store of that age holds them
        upgrade(engine, "0010")
        with engine.begin() as conn:
            row = conn.execute(select(InstanceRow.provider_id, InstanceRow.unit)).one()
            old = conn.execute(select(InstanceRow.__table__)).mappings().one()
            twin = {k: v for k, v in old.items() if k not in ("id", "unit")}
            conn.execute(sa.insert(InstanceRow.__table__).values(**twin, id=2, unit="cluster"))
        assert tuple(row) == ("db-1", "instance")
        downgrade(engine, "0009")
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("instances")}
            names = list(conn.scalars(sa.text("SELECT provider_id FROM instances")))
        assert not NEW_COLUMNS & columns
        assert names == ["db-1"]
    finally:
        engine.dispose()
