"""Backfill of one instance: the seed's hour-by-hour algorithm against dbsnooze, same moto data.

Both write into a fresh SQLite store (the default store) through the same upsert. Each side is
timed end to end: the seed's loop; dbsnooze's submit_instance plus one Worker.run_one (job
bookkeeping, the gap query, the planned calls, the writes). CloudWatch calls are counted on the
botocore client, store statements with a `before_cursor_execute` listener.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bench.harness import (
    REGION,
    CallCounter,
    FrozenClock,
    MotoServer,
    Report,
    StatementCounter,
    add_fleet,
    bench_context,
    median,
    profiled,
    profiling,
)
from bench.seed_algorithm import seed_backfill
from dbsnooze.context import Context
from dbsnooze.demo.fleet import FLEET, METRICS, build_fleet, put_hourly_stats
from dbsnooze.domain import Target
from dbsnooze.jobs import backfill
from dbsnooze.jobs.queue import JobState
from dbsnooze.jobs.targets import load_accounts, targets_for
from dbsnooze.jobs.worker import Worker
from dbsnooze.store.tables import JobRow, SampleRow

DAYS = (1, 7, 30)
INSTANCE = FLEET[0]  # orders-prod: a busy production database, data every hour
STORE = "sqlite"


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    calls: int
    statements: int
    rows: int


@dataclass(frozen=True, slots=True)
class Plan:
    """How many timed runs of each side, per depth."""

    seed_runs: dict[int, int]
    dbsnooze_runs: int

    @classmethod
    def full(cls) -> Plan:
        # The seed sleeps 100 ms per hour: 721 hours is ~2 minutes a run, so 30 days runs once.
        return cls({1: 3, 7: 3, 30: 1}, 5)

    @classmethod
    def quick(cls) -> Plan:
        return cls({1: 3, 7: 1, 30: 0}, 3)


def seed_cloud(cloud: MotoServer, clock: FrozenClock, days: int) -> None:
    """One instance's hourly history in moto: every hour of `days` days before now's hour."""
    fleet = build_fleet(clock(), days, (INSTANCE,))
    cloudwatch = cloud.client("cloudwatch", REGION)
    for shape in METRICS:
        series = fleet.series[(INSTANCE.identifier, shape.name)]
        put_hourly_stats(cloudwatch, INSTANCE.identifier, shape.name, shape.unit, series)


def run(cloud: MotoServer, clock: FrozenClock, plan: Plan) -> Report:
    seed_cloud(cloud, clock, max(DAYS) + 1)
    report = Report(
        "backfill_vs_seed",
        "Backfill of one instance: the seed's algorithm vs dbsnooze (moto over HTTP, SQLite)",
        [
            ("days", "days"),
            ("seed_calls", "seed calls"),
            ("seed_statements", "seed stmts"),
            ("seed_seconds", "seed wall s"),
            ("seed_runs", "seed runs"),
            ("calls", "dbsnooze calls"),
            ("statements", "dbsnooze stmts"),
            ("seconds", "dbsnooze wall s"),
            ("runs", "runs"),
            ("speedup", "speed-up"),
        ],
    )
    seed_per_hour: float | None = None
    for days in DAYS:
        ours = [_timed(cloud, clock, days, _dbsnooze) for _ in range(plan.dbsnooze_runs)]
        theirs = [_timed(cloud, clock, days, _seed) for _ in range(plan.seed_runs[days])]
        row = _row(days, ours, theirs, seed_per_hour)
        if theirs:
            seed_per_hour = median([r.seconds for r in theirs]) / (days * 24 + 1)
        report.rows.append(row)
    _judge(report)
    report.notes += [
        "both sides ask one moto server (its own process) holding identical data, and write "
        "through the same upsert into a fresh SQLite store per run",
        "seed: hour by hour back from the current hour (days*24+1 hours), an existence check "
        "per hour, 5 GetMetricStatistics per hour, 100 ms pause per fetched hour",
        "dbsnooze: submit_instance + Worker.run_one (job bookkeeping included); the boto3 client "
        "is built before timing, as a running server has it cached",
        "30 days: the seed is measured once (about 2 minutes a run); all other cells are medians",
    ]
    if profiling():
        with profiled("backfill-dbsnooze-7d"):
            _timed(cloud, clock, 7, _dbsnooze)
    return report


def _row(
    days: int, ours: list[Run], theirs: list[Run], seed_per_hour: float | None
) -> dict[str, Any]:
    wall = median([r.seconds for r in ours])
    row: dict[str, Any] = {
        "days": days,
        "calls": ours[0].calls,
        "statements": ours[0].statements,
        "seconds": round(wall, 3),
        "runs": len(ours),
        "rows_stored": ours[0].rows,
        "seconds_each": [round(r.seconds, 3) for r in ours],
    }
    if theirs:
        seed_wall = median([r.seconds for r in theirs])
        row |= {
            "seed_calls": theirs[0].calls,
            "seed_statements": theirs[0].statements,
            "seed_seconds": round(seed_wall, 2),
            "seed_runs": f"{len(theirs)} measured",
            "seed_rows_stored": theirs[0].rows,
            "seed_seconds_each": [round(r.seconds, 2) for r in theirs],
        }
    elif seed_per_hour is not None:  # quick mode: the seed's cost is linear in hours visited
        seed_wall = seed_per_hour * (days * 24 + 1)
        row |= {
            "seed_calls": (days * 24 + 1) * 5,
            "seed_statements": None,
            "seed_seconds": round(seed_wall, 2),
            "seed_runs": "extrapolated",
        }
    else:
        return row
    row["speedup"] = f"{seed_wall / wall:.0f}x"
    row["speedup_ratio"] = round(seed_wall / wall, 1)
    return row


def _judge(report: Report) -> None:
    week = next(row for row in report.rows if row["days"] == 7)
    ratio = week.get("speedup_ratio")
    report.target(
        "7 days: >= 100x faster than the seed",
        ratio is not None and ratio >= 100,
        f"{ratio}x" if ratio is not None else "not measured",
    )
    report.target("7 days: <= 5 CloudWatch calls", week["calls"] <= 5, f"{week['calls']} calls")


Side = Callable[[Context, Any, Target, int], None]


def _timed(cloud: MotoServer, clock: FrozenClock, days: int, side: Side) -> Run:
    with bench_context(STORE, clock, backfill_max_days=max(DAYS)) as ctx:
        (instance_id,) = add_fleet(ctx, cloud.endpoint_url, [INSTANCE.identifier])
        with ctx.sessions() as session:
            (target,) = targets_for(session, [instance_id])
            (account,) = load_accounts(ctx, session, [target]).values()
        cloudwatch = ctx.clients.client(account, REGION, "cloudwatch")  # the one Fetcher uses
        calls = CallCounter()
        calls.attach(cloudwatch)
        with StatementCounter(ctx.engine) as statements:
            started = time.perf_counter()
            side(ctx, cloudwatch, target, days)
            seconds = time.perf_counter() - started
        with ctx.sessions() as session:
            rows = session.scalar(select(func.count()).select_from(SampleRow)) or 0
        _check_jobs(ctx)
        return Run(seconds, calls.total, statements.count, rows)


def _seed(ctx: Context, cloudwatch: Any, target: Target, days: int) -> None:
    seed_backfill(ctx, cloudwatch, target, days, ctx.settings.metrics)


def _dbsnooze(ctx: Context, _cloudwatch: Any, target: Target, days: int) -> None:
    job = backfill.submit_instance(ctx, target.instance_id, days, False, "bench")
    if Worker(ctx, ctx.buckets, "bench-worker").run_one() != job.id:
        raise RuntimeError("the worker did not run the backfill job")


def _check_jobs(ctx: Context) -> None:
    """A benchmark of a failed job would measure nothing: every job must have succeeded."""
    with ctx.sessions() as session:
        states = set(session.scalars(select(JobRow.state)))
    if states - {JobState.SUCCEEDED.value}:
        raise RuntimeError(f"backfill jobs ended {sorted(states)}")
