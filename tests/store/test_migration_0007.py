"""Migration 0007 on a store that already holds an instance: the stop facts arrive with safe
defaults, recommendations and prices can be stored, and the downgrade takes it all back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import inspect, select

from dbsnooze.store.db import downgrade, make_engine, upgrade
from dbsnooze.store.tables import InstanceRow
from dbsnooze.store.types import UTCDateTime

H = datetime(2026, 11, 18, 13, tzinfo=UTC)


def _table(name: str, *columns: str, moments: tuple[str, ...] = ()) -> Any:
    return sa.table(
        name, *(sa.column(c) for c in columns), *(sa.column(c, UTCDateTime()) for c in moments)
    )


ACCOUNTS = _table(
    "cloud_accounts", "id", "provider", "name", "auth_method", "auth_params", "regions",
    moments=("created_at", "updated_at"),
)  # fmt: skip
INSTANCES = _table(
    "instances", "id", "account_id", "provider", "region", "provider_id", "engine",
    "engine_version", "instance_class", "status", "tags", moments=("first_seen_at", "last_seen_at"),
)  # fmt: skip


def test_upgrade_keeps_instances_and_downgrade_removes_what_it_added(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            conn.execute(sa.insert(ACCOUNTS).values(
                id=1, provider="aws", name="main", auth_method="default", auth_params="{}",
                regions='["us-east-1"]', created_at=H, updated_at=H,
            ))  # fmt: skip
            conn.execute(sa.insert(INSTANCES).values(
                id=1, account_id=1, provider="aws", region="us-east-1", provider_id="db-1",
                engine="postgres", engine_version="16", instance_class="db.t3.micro",
                status="available", tags="{}", first_seen_at=H, last_seen_at=H,
            ))  # fmt: skip
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
