"""The reconciler: one pass (`schedules.reconcile.tick`) over fleets of scheduled instances.

Each fleet is stored through the discovery upsert and split among ten schedules (Mon-Fri
19:00-07:00, Europe/Berlin). Four passes are timed, each as the minute's tick runs it (lease
taken, overrides expired, every input gathered, power read, decided, acted on):

- quiet awake: midday, every instance running as wanted: nothing to do;
- stop, dry run: 19:01, a window's start, the schedules in dry run: every instance gets a
  "would stop" action recorded (and an audit event), no cloud call;
- stop, live: 19:01, the schedules live: the stop guard reads every instance's last 15 minutes
  (GetMetricData), then each is stopped (StopDBInstance), each under its own claim;
- quiet asleep: 19:02, every instance stopped by dbsnooze a minute before, as wanted.

The cloud's answers are moto's, recorded once and replayed into botocore (bench.powerreplay for
RDS, bench.replay for CloudWatch): botocore's serializing and parsing are measured, moto's own
time and the network are not. Before each window-start run the actions and events are deleted
and the fleet set running again (not timed). The first run of each pass warms up and is measured
with tracemalloc for its peak of Python memory (but the live window start: a minute at 3,000
under tracemalloc); then runs of the pass as it was before the fleet-scale fixes
(bench.reconcile_baseline) and as it is now alternate, timed. With --profile, the last run of
each pass as it is now is profiled.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import delete

from bench import reconcile_baseline as baseline
from bench.harness import (
    NOWHERE,
    REGION,
    FrozenClock,
    MotoServer,
    Report,
    StatementCounter,
    add_fleet,
    bench_context,
    median,
    profiled,
)
from bench.powerreplay import AVAILABLE, PowerRecording, PowerReplayer
from bench.powerreplay import record as record_power
from bench.replay import Recording, Replayer
from bench.replay import record as record_metrics
from dbsnooze.collect.plan import LIMITS
from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.metrics import DIMENSION, METRICS, NAMESPACE
from dbsnooze.providers.aws.power import ACTIVITY_METRICS, IDS_PER_CALL
from dbsnooze.schedules import reconcile
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store import accounts as account_store
from dbsnooze.store import leases, schedules
from dbsnooze.store.db import transaction
from dbsnooze.store.schedule_values import Settings as ScheduleSettings
from dbsnooze.store.tables import ActionRow, EventRow

SIZES = (1_000, 3_000)
QUICK_SIZES = (100, 1_000)
RUNS, QUICK_RUNS = 3, 1
SCHEDULES = 10
ZONE = "Europe/Berlin"
WINDOW = Window(days=(0, 1, 2, 3, 4), sleep=clock_time(19), wake=clock_time(7))
MIDDAY = datetime(2026, 11, 18, 11, 0, 30, tzinfo=UTC)  # a Wednesday, 12:00 in Berlin
WINDOW_START = datetime(2026, 11, 18, 18, 1, 30, tzinfo=UTC)  # 19:01: the window began
QUIET_TARGET, LIVE_TARGET = 0.05, 0.5  # of the 60 s interval, for the largest fleet
OWNER = "bench"


@dataclass(frozen=True)
class Answers:
    power: PowerRecording
    activity: Recording


@dataclass(frozen=True)
class Pass:
    name: str
    at: datetime
    dry_run: bool
    reset: bool  # set the fleet running and forget every action before each run
    outcome: str | None  # what every instance's outcome must be (None: nothing happened)


QUIET = Pass("quiet awake", MIDDAY, False, False, None)
DRY = Pass("stop, dry run", WINDOW_START, True, True, "dry_run")
LIVE = Pass("stop, live", WINDOW_START, False, True, "done")
ASLEEP = Pass("quiet asleep", WINDOW_START + timedelta(minutes=1), False, False, None)
PASSES = (QUIET, DRY, LIVE, ASLEEP)


def record_answers(cloud: MotoServer) -> Answers:
    """moto's RDS answers, and its CloudWatch answer for the stop guard's window at 19:01."""
    power = record_power(cloud, REGION)
    cloudwatch = cloud.client("cloudwatch", REGION)
    end = WINDOW_START.replace(second=0)
    start = end - timedelta(minutes=Settings.model_fields["stop_guard_minutes"].default)
    _put_idle_minutes(cloudwatch, "bench-activity-0000", start, end)
    activity = record_metrics([(cloudwatch, "bench-activity-0000")], [_Span(start, end)], 60)
    return Answers(power, activity)


@dataclass(frozen=True)
class _Span:
    start: datetime
    end: datetime


def _put_idle_minutes(cloudwatch: Any, identifier: str, start: datetime, end: datetime) -> None:
    """An idle quarter hour: CPU 1.5 %, no connection, a trickle of IOPS, a point a minute."""
    values = {"cpu": 1.5, "connections": 0.0, "read_iops": 0.2, "write_iops": 0.4}
    count = int((end - start) / timedelta(minutes=1))
    minutes = [start + timedelta(minutes=i) for i in range(count)]
    for metric, value in values.items():
        spec = METRICS[metric]
        data = [
            {
                "MetricName": spec.cloudwatch_name,
                "Dimensions": [{"Name": DIMENSION, "Value": identifier}],
                "Timestamp": minute,
                "Value": value,
                "Unit": spec.unit,
            }
            for minute in minutes
        ]
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)


def run(answers: Answers, stores: list[str], quick: bool) -> Report:
    sizes, runs = (QUICK_SIZES, QUICK_RUNS) if quick else (SIZES, RUNS)
    report = Report(
        "reconcile",
        "Reconciler: one pass (tick) over N scheduled instances, cloud answers replayed",
        [
            ("store", "store"),
            ("instances", "N"),
            ("pass", "pass"),
            ("before_seconds", "before s"),
            ("seconds", "now s"),
            ("speedup", "x"),
            ("ms_per_instance", "ms / N"),
            ("describe_calls", "describes"),
            ("metric_calls", "GetMetricData"),
            ("power_calls", "stops"),
            ("statements_per_instance", "stmts / N"),
            ("transactions_text", "transactions"),
            ("peak_mb", "peak MB"),
        ],
    )
    for store in stores:
        for size in sizes:
            report.rows += measure(store, answers, size, runs, traced=not quick)
    _judge(report, max(sizes))
    report.notes += [
        f"now s: median of {runs} runs after a warm-up run; a pass is reconcile.tick as the "
        "worker runs it each minute (lease, override expiry, gather, power read, decisions, "
        "actions each in its own transactions); the cloud's answers are moto's, replayed in "
        "process: botocore's work is in, moto's time and the network's latency are not (a real "
        "StopDBInstance takes a round trip to AWS, and the pass makes them one after another)",
        f"before s: median of {runs} runs of the pass as it was before (RDS times through "
        "dateutil, a schedule's wish worked out per instance, a lease renewal per action: "
        "bench/reconcile_baseline.py), alternating with the runs of the pass as it is now",
        "describes / GetMetricData / stops: requests botocore sent; stmts / N: statements "
        "SQLAlchemy sent to the store during the pass per instance; transactions: before \u2192 "
        "now (read-only ones included); "
        "the clock stands still here, so the pass as it is now never renews its lease (a real "
        "one renews every 5.4 s: a few transactions a pass)",
        "peak MB: tracemalloc's peak of Python memory in the warm-up run above what was allocated "
        "before it" + (" (not measured with --quick)" if quick else ""),
    ]
    return report


def _judge(report: Report, largest: int) -> None:
    for store in dict.fromkeys(row["store"] for row in report.rows):
        rows = {(r["instances"], r["pass"]): r for r in report.rows if r["store"] == store}
        quiet, live = rows[(largest, QUIET.name)], rows[(largest, LIVE.name)]
        report.target(
            f"{store}: a quiet pass over {largest:,} < {QUIET_TARGET:.0%} of the 60 s interval",
            quiet["seconds"] < 60 * QUIET_TARGET,
            f"{quiet['seconds']} s",
        )
        report.target(
            f"{store}: stopping {largest:,} at a window's start < {LIVE_TARGET:.0%} of it",
            live["seconds"] < 60 * LIVE_TARGET,
            f"{live['seconds']} s",
        )
        quiet_statements = {r["statements"] for r in rows.values() if r["pass"] == QUIET.name}
        report.target(
            f"{store}: a quiet pass's store statements do not grow with N",
            len(quiet_statements) == 1,
            f"{', '.join(str(n) for n in sorted(quiet_statements))} statements",
        )
        minimal = all(_minimal_calls(row) for row in rows.values())
        report.target(
            f"{store}: cloud calls at the minimum (ceil(N / 100) describes, ceil(4N / 500) "
            "GetMetricData, N stops where stopping)",
            minimal,
            "every pass" if minimal else "not every pass",
        )


def _minimal_calls(row: dict[str, Any]) -> bool:
    size, live = int(row["instances"]), row["pass"] == LIVE.name
    queries = size * len(ACTIVITY_METRICS)
    return bool(
        row["describe_calls"] == -(-size // IDS_PER_CALL)
        and row["metric_calls"] == (-(-queries // LIMITS.data_max_queries) if live else 0)
        and row["power_calls"] == (size if live else 0)
    )


def measure(
    store: str, answers: Answers, size: int, runs: int, traced: bool = True
) -> list[dict[str, Any]]:
    clock = FrozenClock(MIDDAY)
    with bench_context(store, clock) as ctx:
        names = [f"bench-db-{i:05d}" for i in range(size)]
        ids = add_fleet(ctx, NOWHERE, names)
        _schedules(ctx, ids)
        cloud = _cloud(ctx, answers, names)
        rows = []
        for kind in PASSES:
            clock.now = kind.at
            _set_dry_run(ctx, kind.dry_run)
            rows.append(_measure_pass(ctx, cloud, kind, size, runs, store, traced))
    return rows


@dataclass
class _Cloud:
    rds: PowerReplayer
    cloudwatch: Replayer
    rds_client: Any

    def calls(self) -> dict[str, int]:
        return {**self.rds.calls, "GetMetricData": self.cloudwatch.calls}


def _cloud(ctx: Context, answers: Answers, names: Sequence[str]) -> _Cloud:
    """The clients the reconciler will use, answered by replayers."""
    with ctx.sessions() as session:
        (row,) = account_store.all_rows(session)
        account = account_store.to_domain(row, ctx.box)
    rds, cloudwatch = PowerReplayer(answers.power, names), Replayer(answers.activity)
    rds_client = ctx.clients.client(account, REGION, "rds")
    rds.attach(rds_client)
    cloudwatch.attach(ctx.clients.client(account, REGION, "cloudwatch"))
    return _Cloud(rds, cloudwatch, rds_client)


def _schedules(ctx: Context, ids: Sequence[int]) -> None:
    spec = ScheduleSpec(ZONE, (WINDOW,))
    share = -(-len(ids) // SCHEDULES)
    with transaction(ctx.sessions) as session:
        for index in range(SCHEDULES):
            chunk = ids[index * share : (index + 1) * share]
            settings = ScheduleSettings(spec, dry_run=False, grace_minutes=30)
            now = ctx.clock()
            schedules.create(session, f"team-{index}", settings, "user:bench", now, chunk)


def _set_dry_run(ctx: Context, dry_run: bool) -> None:
    with transaction(ctx.sessions) as session:
        for row in schedules.listing(session):
            if row.dry_run != dry_run:
                schedules.set_dry_run(session, row.id, dry_run, ctx.clock())


def _reset(ctx: Context, cloud: _Cloud) -> None:
    with transaction(ctx.sessions) as session:
        session.execute(delete(ActionRow))
        session.execute(delete(EventRow))
    cloud.rds.set_all(AVAILABLE)


def _release(ctx: Context) -> None:
    """The next minute's tick finds the lease expired (the clock here stands still)."""
    with transaction(ctx.sessions) as session:
        leases.release(session, reconcile.LEASE, OWNER, ctx.clock())


@dataclass(frozen=True)
class _Run:
    seconds: float
    calls: dict[str, int]
    statements: int
    transactions: int
    peak_bytes: int | None


def _measure_pass(
    ctx: Context, cloud: _Cloud, kind: Pass, size: int, runs: int, store: str, traced: bool
) -> dict[str, Any]:
    """A warm-up run (traced for memory), then runs before and now alternately."""
    slug = kind.name.replace(", ", "-").replace(" ", "-")
    warm = _run(ctx, cloud, kind, size, traced=traced and kind is not LIVE)
    before, now = [], []
    for index in range(runs):
        before.append(_run(ctx, cloud, kind, size, before=True))
        profile = f"reconcile-{store}-{size}-{slug}" if index == runs - 1 else None
        now.append(_run(ctx, cloud, kind, size, profile=profile))
    seconds, before_seconds = median([r.seconds for r in now]), median([r.seconds for r in before])
    last = now[-1]
    return {
        "store": store,
        "instances": size,
        "pass": kind.name,
        "before_seconds": round(before_seconds, 3),
        "seconds": round(seconds, 3),
        "speedup": f"{before_seconds / seconds:.2f}",
        "ms_per_instance": round(seconds * 1000 / size, 2),
        "describe_calls": last.calls.get("DescribeDBInstances", 0),
        "metric_calls": last.calls.get("GetMetricData", 0),
        "power_calls": last.calls.get("StopDBInstance", 0),
        "statements": last.statements,
        "statements_per_instance": round(last.statements / size, 2),
        "before_statements": before[-1].statements,
        "transactions": last.transactions,
        "before_transactions": before[-1].transactions,
        "transactions_text": f"{before[-1].transactions:,} \u2192 {last.transactions:,}",
        "peak_mb": None if warm.peak_bytes is None else round(warm.peak_bytes / 2**20, 1),
        "seconds_each": [round(r.seconds, 3) for r in now],
        "before_seconds_each": [round(r.seconds, 3) for r in before],
    }


def _run(
    ctx: Context,
    cloud: _Cloud,
    kind: Pass,
    size: int,
    before: bool = False,
    traced: bool = False,
    profile: str | None = None,
) -> _Run:
    if kind.reset:
        _reset(ctx, cloud)
    calls = cloud.calls()
    watching = profiled(profile) if profile else nullcontext()
    parsing = baseline.parsing_before(cloud.rds_client) if before else nullcontext()
    tick = baseline.tick if before else reconcile.tick
    with StatementCounter(ctx.engine) as counter, _peak(traced) as peak, watching, parsing:
        started = time.perf_counter()
        report = tick(ctx, OWNER)
        seconds = time.perf_counter() - started
    _release(ctx)
    _check(report, kind, size)
    made = {op: n - calls.get(op, 0) for op, n in cloud.calls().items()}
    return _Run(seconds, made, counter.count, counter.transactions, peak())


def _check(report: reconcile.PassReport | None, kind: Pass, size: int) -> None:
    if report is None:
        raise RuntimeError("the reconciler's lease was held: the pass did not run")
    if report.errors:
        raise RuntimeError(f"{kind.name}: the pass reported {report.errors[:3]}")
    results = {o.result for o in report.outcomes}
    if len(report.outcomes) != size or results != {kind.outcome}:
        raise RuntimeError(f"{kind.name}: {len(report.outcomes)} outcomes, results {results}")


@contextmanager
def _peak(traced: bool) -> Iterator[Callable[[], int | None]]:
    """tracemalloc's peak during the block, above its start (None when not traced)."""
    if not traced:
        yield lambda: None
        return
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    peak = [0]
    try:
        yield lambda: peak[0]
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
