"""Migration 0007 on a store that already holds an instance: the stop facts arrive with safe
defaults, recommendations and prices can be stored, and the downgrade takes it all back."""

from __future__ import annotations

import sqlalchemy as sa
from shapes import add_instances
from sqlalchemy import inspect, select

from dbsnooze.store.db import downgrade, make_engine, upgrade
from dbsnooze.store.tables import InstanceRow


def test_upgrade_keeps_instances_and_downgrade_removes_what_it_added(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            add_instances(conn, [1])
        upgrade(engine, "0007")
        with engine.connect() as conn:
            row = conn.execute(
                select(
                    InstanceRow.provider_id,
                    InstanceRow.multi_az,
                    InstanceRow.replica_source,
                    InstanceRow.cluster_id,
                )
            ).one()
            tables = set(inspect(conn).get_table_names())
        assert tuple(row) == ("db-1", False, None, None)
        assert {"recommendations", "prices"} <= tables
        downgrade(engine, "0004")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            columns = {c["name"] for c in inspect(conn).get_columns("instances")}
            count = conn.scalar(sa.text("SELECT count(*) FROM instances"))
        assert not {"recommendations", "prices"} & tables
        assert not {"multi_az", "replica_source", "read_replicas", "cluster_id"} & columns
        assert count == 1
    finally:
        engine.dispose()
