"""Migration 0012 on a store that already holds schedules: one an applied recommendation made
("sleep: <instance>", assigned to it) gets that instance as its origin, one made by hand none;
an origin instance that goes away leaves the schedule with no origin; the downgrade drops the
column and keeps the schedules."""

from __future__ import annotations

import sqlalchemy as sa
from shapes import THEN, add_instances, old_table
from sqlalchemy import inspect

from dbsnooze.store.db import downgrade, make_engine, upgrade

SCHEDULES = old_table(
    "schedules", "id", "name", "timezone", "windows", "skip_dates", "enabled", "dry_run",
    "enforce", "guard_grace_minutes", "selector", "created_by",
    moments=("created_at", "updated_at"),
)  # fmt: skip
ASSIGNMENTS = old_table("schedule_assignments", "instance_id", "schedule_id")


def _schedule(schedule_id: int, name: str) -> dict[str, object]:
    return {
        "id": schedule_id, "name": name, "timezone": "UTC", "windows": "[]", "skip_dates": "[]",
        "enabled": True, "dry_run": True, "enforce": False, "guard_grace_minutes": 30,
        "selector": "{}", "created_by": "user:ann", "created_at": THEN, "updated_at": THEN,
    }  # fmt: skip


def _origins(engine: sa.Engine) -> dict[str, int | None]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, origin_instance_id FROM schedules"))
        return {name: origin for name, origin in rows}


def test_upgrade_finds_origins_and_downgrade_drops_them(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            add_instances(conn, [1, 2])  # as a store of that age holds them
        upgrade(engine, "0011")
        with engine.begin() as conn:
            conn.execute(sa.insert(SCHEDULES), [_schedule(1, "sleep: db-1"), _schedule(2, "team")])
            conn.execute(
                sa.insert(ASSIGNMENTS),
                [{"instance_id": 1, "schedule_id": 1}, {"instance_id": 2, "schedule_id": 2}],
            )
        upgrade(engine, "0012")
        migrated = _origins(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM instances WHERE id = 1"))
        assert migrated == {"sleep: db-1": 1, "team": None}
        assert _origins(engine) == {"sleep: db-1": None, "team": None}  # ON DELETE SET NULL

        downgrade(engine, "0011")
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("schedules")}
        assert "origin_instance_id" not in columns
        upgrade(engine)  # and up again, on what the downgrade left
        assert _origins(engine) == {"sleep: db-1": None, "team": None}
    finally:
        engine.dispose()
