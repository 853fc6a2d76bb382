"""The store itself: private SQLite files, ids never handed out twice, and migration 0003
keeping every row while it rebuilds SQLite's tables."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, column, delete, func, insert, select, table, text

from dbsnooze.config import Settings
from dbsnooze.context import Context, build_context
from dbsnooze.store.db import make_engine, session_factory, transaction, upgrade
from dbsnooze.store.tables import (
    AccountRow,
    Base,
    EventRow,
    InstanceRow,
    JobRow,
    JobTargetRow,
    SampleRow,
)
from metricshelp import register

NOW = datetime(2026, 11, 18, 14, tzinfo=UTC)

# The 0002 shape of the tables the migration test fills (the ORM models are the newest shape).
JOBS_0002 = table(
    "jobs", *(column(name) for name in (
        "id", "kind", "instance_id", "state", "params", "days_requested", "days", "capped",
        "hours_total", "hours_skipped", "hours_backfilled", "hours_empty", "api_calls", "errors",
        "cancel_requested", "created_by", "created_at",
    ))
)  # fmt: skip
JOB_0002 = dict(
    kind="backfill", state="queued", params="{}", days_requested=0, days=0, capped=False,
    hours_total=0, hours_skipped=0, hours_backfilled=0, hours_empty=0, api_calls=0, errors="[]",
    cancel_requested=False, created_by="test", created_at=NOW,
)  # fmt: skip
SAMPLE_0002 = dict(
    metric="cpu", hour=NOW, average=1.0, maximum=2.0, minimum=0.5, sample_count=60.0,
    source="backfill", fetched_at=NOW,
)  # fmt: skip
JOB_TARGETS_0002 = table("job_targets", column("job_id"), column("instance_id"), column("active"))
SAMPLES_0002 = table("metric_samples", *(column(name) for name in (
    "instance_id", "metric", "hour", "average", "maximum", "minimum", "sample_count", "source",
    "fetched_at",
)))  # fmt: skip
ACCOUNTS_0002 = table("cloud_accounts", *(column(name) for name in (
    "id", "provider", "name", "auth_method", "auth_params", "regions", "created_at", "updated_at",
)))  # fmt: skip
INSTANCES_0002 = table("instances", *(column(name) for name in (
    "id", "account_id", "provider", "region", "provider_id", "engine", "engine_version",
    "instance_class", "status", "tags", "first_seen_at", "last_seen_at",
)))  # fmt: skip
NO_ENDPOINT = "http://127.0.0.1:9"  # the cloud is never asked here
INSTANCE_0002 = dict(
    provider="aws", region="us-east-1", engine="postgres", engine_version="16.3",
    instance_class="db.t3.micro", status="available", tags="{}", first_seen_at=NOW,
    last_seen_at=NOW,
)  # fmt: skip


@pytest.fixture()
def usual_umask() -> Iterator[None]:
    """The umask most systems run with, under which SQLite would create 0644 files."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_store_and_its_wal_files_are_created_0600(
    tmp_path: Path, usual_umask: None
) -> None:
    store = tmp_path / "store.db"
    ctx = build_context(Settings(database_url=f"sqlite:///{store}", secret_key_file=tmp_path / "k"))
    try:
        upgrade(ctx.engine)
        with transaction(ctx.sessions) as session:
            session.add(account_row("main"))
        with ctx.engine.connect() as conn:  # while a connection is open the WAL files exist
            conn.execute(text("SELECT count(*) FROM cloud_accounts"))
            modes = {p.name: mode(p) for p in tmp_path.glob("store.db*")}
    finally:
        ctx.close()

    assert modes == {"store.db": 0o600, "store.db-wal": 0o600, "store.db-shm": 0o600}


def test_an_existing_store_readable_by_others_is_made_private(
    tmp_path: Path, usual_umask: None
) -> None:
    store = tmp_path / "store.db"
    store.touch(0o644)
    engine = make_engine(f"sqlite:///{store}")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()

    assert mode(store) == 0o600


# --- ids never reused ---------------------------------------------------------------------------


def account_row(name: str) -> AccountRow:
    return AccountRow(
        provider="aws",
        name=name,
        auth_method="default",
        auth_params={},
        regions=["us-east-1"],
        created_at=NOW,
        updated_at=NOW,
    )


def job_row(instance_id: int | None) -> JobRow:
    return JobRow(
        kind="backfill", instance_id=instance_id, state="queued", created_at=NOW, errors=[]
    )


def event_row(action: str) -> EventRow:
    return EventRow(at=NOW, actor="test", action=action, detail={})


def _added(ctx: Context, row: Base) -> int:
    with transaction(ctx.sessions) as session:
        session.add(row)
        session.flush()
        return int(row.id)  # type: ignore[attr-defined]


def _instance(ctx: Context, n: int) -> int:
    return register(ctx, NO_ENDPOINT, [f"db-{n}"])[f"db-{n}"]


MAKERS: dict[str, tuple[type[Base], Callable[[Context, int], int]]] = {
    "cloud_accounts": (AccountRow, lambda ctx, n: _added(ctx, account_row(f"account-{n}"))),
    "instances": (InstanceRow, _instance),
    "jobs": (JobRow, lambda ctx, _n: _added(ctx, job_row(None))),
    "events": (EventRow, lambda ctx, n: _added(ctx, event_row(f"test.{n}"))),
}


@pytest.mark.parametrize("table", list(MAKERS))
def test_deleting_the_newest_row_never_gives_its_id_to_the_next(ctx: Context, table: str) -> None:
    model, create = MAKERS[table]
    create(ctx, 1)
    newest = create(ctx, 2)
    with transaction(ctx.sessions) as session:
        session.delete(session.get(model, newest))
    again = create(ctx, 3)

    assert again > newest


# --- migration 0003 rebuilds SQLite's tables and loses nothing -----------------------------------


def _count(engine: Engine, model: type[Base]) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_migration_0003_keeps_every_row_and_every_foreign_key(settings: Settings) -> None:
    ctx = build_context(settings)
    engine = ctx.engine
    try:
        upgrade(engine, "0002")
        with engine.begin() as conn:  # the 0002 schema: later columns do not exist yet
            account_id = conn.execute(
                insert(ACCOUNTS_0002)
                .values(provider="aws", name="main", auth_method="default", auth_params="{}",
                        regions='["us-east-1"]', created_at=NOW, updated_at=NOW)
                .returning(ACCOUNTS_0002.c.id)
            ).scalar_one()  # fmt: skip
            instances = [
                conn.execute(
                    insert(INSTANCES_0002)
                    .values(INSTANCE_0002 | {"account_id": account_id, "provider_id": f"db-{n}"})
                    .returning(INSTANCES_0002.c.id)
                ).scalar_one()
                for n in range(3)
            ]
            job_id = conn.execute(
                insert(JOBS_0002)
                .values(JOB_0002 | {"instance_id": instances[0]})
                .returning(JOBS_0002.c.id)
            ).scalar_one()
            conn.execute(
                insert(JOB_TARGETS_0002).values(
                    job_id=job_id, instance_id=instances[0], active=True
                )
            )
            conn.execute(
                insert(SAMPLES_0002), [SAMPLE_0002 | {"instance_id": i} for i in instances]
            )
        before = {m.__name__: _count(engine, m) for m in (InstanceRow, JobTargetRow, SampleRow)}
        upgrade(engine)
        after = {m.__name__: _count(engine, m) for m in (InstanceRow, JobTargetRow, SampleRow)}
        with transaction(ctx.sessions) as session:  # foreign keys still hold
            session.execute(delete(AccountRow))
        with ctx.sessions() as session:
            kept_job = session.get(JobRow, job_id)
            assert kept_job is not None
            orphaned = kept_job.instance_id
        left = {m.__name__: _count(engine, m) for m in (InstanceRow, JobTargetRow, SampleRow)}
    finally:
        ctx.close()

    assert before == after == {"InstanceRow": 3, "JobTargetRow": 1, "SampleRow": 3}
    assert left == {"InstanceRow": 0, "JobTargetRow": 0, "SampleRow": 0}
    assert orphaned is None  # the job outlives its instance
