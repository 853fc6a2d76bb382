"""Accounts and instances in the 0002 shape of their tables, for migration tests (the ORM
models are the newest shape, which an old schema does not have yet)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from dbsnooze.store.types import UTCDateTime

THEN = datetime(2026, 11, 18, 13, tzinfo=UTC)


def old_table(name: str, *columns: str, moments: tuple[str, ...] = ()) -> Any:
    return sa.table(
        name, *(sa.column(c) for c in columns), *(sa.column(c, UTCDateTime()) for c in moments)
    )


ACCOUNTS = old_table(
    "cloud_accounts", "id", "provider", "name", "auth_method", "auth_params", "regions",
    moments=("created_at", "updated_at"),
)  # fmt: skip
INSTANCES = old_table(
    "instances", "id", "account_id", "provider", "region", "provider_id", "engine",
    "engine_version", "instance_class", "status", "tags", moments=("first_seen_at", "last_seen_at"),
)  # fmt: skip

JOBS = old_table(
    "jobs", "id", "kind", "instance_id", "state", "params", "days_requested", "days", "capped",
    "hours_total", "hours_skipped", "hours_backfilled", "hours_empty", "api_calls", "errors",
    "cancel_requested", "created_by", moments=("created_at",),
)  # fmt: skip
JOB_TARGETS = old_table("job_targets", "job_id", "instance_id", "active")
SAMPLES = old_table(
    "metric_samples", "instance_id", "metric", "average", "maximum", "minimum", "sample_count",
    "source", moments=("hour", "fetched_at"),
)  # fmt: skip


def add_instances(conn: Connection, ids: list[int]) -> None:
    """Account 1 and instances `db-<id>` in it, as a 0002 store holds them."""
    conn.execute(sa.insert(ACCOUNTS).values(
        id=1, provider="aws", name="main", auth_method="default", auth_params="{}",
        regions='["us-east-1"]', created_at=THEN, updated_at=THEN,
    ))  # fmt: skip
    conn.execute(
        sa.insert(INSTANCES),
        [
            {
                "id": i,
                "account_id": 1,
                "provider": "aws",
                "region": "us-east-1",
                "provider_id": f"db-{i}",
                "engine": "postgres",
                "engine_version": "16",
                "instance_class": "db.t3.micro",
                "status": "available",
                "tags": "{}",
                "first_seen_at": THEN,
                "last_seen_at": THEN,
            }
            for i in ids
        ],
    )
