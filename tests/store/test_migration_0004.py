"""Migration 0004 on a store that already holds samples and jobs: live samples fetched before
their hour was final become provisional; finished jobs get a progress that says what they did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from shapes import add_instances, old_table
from sqlalchemy import select

from dbsnooze.store.db import make_engine, upgrade
from dbsnooze.store.tables import JobRow, SampleRow

H = datetime(2026, 11, 18, 13, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


SAMPLES = old_table(
    "metric_samples", "instance_id", "metric", "hour", "average", "maximum", "minimum",
    "sample_count", "source", moments=("hour", "fetched_at"),
)  # fmt: skip
JOBS = old_table(
    "jobs", "id", "kind", "params", "state", "days_requested", "days", "capped", "hours_total",
    "hours_skipped", "hours_backfilled", "hours_empty", "api_calls", "errors", "cancel_requested",
    "created_by", moments=("created_at",),
)  # fmt: skip


def _sample(hour: datetime, fetched_at: datetime, source: str = "live") -> dict[str, Any]:
    values = {"average": 1.0, "maximum": 2.0, "minimum": 0.5, "sample_count": 60.0}
    return {"instance_id": 1, "metric": "cpu", "hour": hour, "source": source,
            "fetched_at": fetched_at, **values}  # fmt: skip


def _job(job_id: int, state: str, done: int) -> dict[str, Any]:
    return {"id": job_id, "kind": "backfill", "params": "{}", "state": state, "days_requested": 1,
            "days": 1, "capped": False, "hours_total": 24, "hours_skipped": 0,
            "hours_backfilled": done, "hours_empty": 0, "api_calls": 1, "errors": "[]",
            "cancel_requested": False, "created_by": "test", "created_at": H}  # fmt: skip


def test_upgrade_marks_early_live_samples_provisional_and_gives_jobs_a_progress(
    store_url: str,
) -> None:
    engine = make_engine(store_url)
    try:
        upgrade(engine, "0002")
        with engine.begin() as conn:
            add_instances(conn, [1])
            end = H + timedelta(hours=1)
            conn.execute(sa.insert(SAMPLES), [
                _sample(H, H + 30 * MINUTE),  # mid-hour
                _sample(H - timedelta(hours=1), end - timedelta(hours=1) + 10 * MINUTE),  # exact
                _sample(H - timedelta(hours=2), end - timedelta(hours=2) + 11 * MINUTE),
                _sample(H - timedelta(hours=3), H, "backfill"),
            ])  # fmt: skip
            conn.execute(sa.insert(JOBS), [_job(1, "succeeded", 20), _job(2, "failed", 6)])
        upgrade(engine)
        with engine.connect() as conn:
            final = dict(conn.execute(select(SampleRow.hour, SampleRow.final)).tuples().all())
            jobs = conn.execute(select(JobRow.id, JobRow.progress, JobRow.hours_refetched)).all()
    finally:
        engine.dispose()

    assert {hour: bool(flag) for hour, flag in final.items()} == {
        H: False,
        H - timedelta(hours=1): False,
        H - timedelta(hours=2): True,
        H - timedelta(hours=3): True,
    }
    assert sorted(tuple(job) for job in jobs) == [(1, 1.0, 0), (2, 0.25, 0)]
