"""Fleet backfill: 1,000 instances x 7 days through the GetMetricData plan, answers replayed.

The parent records real moto answers once (bench.replay), then runs one child process per store
so each store's peak RSS is its own. A child registers the fleet through the discovery upsert,
submits one fleet job (parts of 100 instances) and lets a Worker run every part: the same code
path as `POST /api/v1/metrics/backfill`. Only the timed section counts toward throughput.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.harness import (
    NOWHERE,
    REGION,
    CallCounter,
    FrozenClock,
    MotoServer,
    Report,
    ThrottleMeter,
    add_fleet,
    bench_context,
    profiled,
)
from bench.replay import Recording, Replayer, record
from dbsnooze.collect.hours import backfill_window, live_window
from dbsnooze.collect.plan import LIMITS
from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.demo.fleet import FLEET, METRICS, build_fleet, put_hourly_stats
from dbsnooze.domain import HOUR
from dbsnooze.jobs import backfill
from dbsnooze.jobs.queue import JobState
from dbsnooze.jobs.targets import load_accounts, targets_for
from dbsnooze.jobs.worker import Worker
from dbsnooze.metrics import STATISTICS
from dbsnooze.store.instances import InstanceFilter
from dbsnooze.store.tables import JobRow, SampleRow

INSTANCES = 1_000
DAYS = 7
# A production, a staging and a development database: the replayed fleet looks like a real one.
TEMPLATES = (FLEET[0], FLEET[3], FLEET[5])
TEMPLATE_REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
RSS_TARGET_MB = 300
THROUGHPUT_TARGET = 50_000


def identifiers(count: int) -> list[str]:
    return [f"bench-db-{index:04d}" for index in range(count)]


def record_answers(cloud: MotoServer, clock: FrozenClock) -> Recording:
    """moto's answers for the template instances over the backfill and live windows."""
    now = clock()
    fleet = build_fleet(now + HOUR, DAYS + 1, TEMPLATES)  # up to and including the current hour
    sources = []
    for instance, region in zip(TEMPLATES, TEMPLATE_REGIONS, strict=True):
        cloudwatch = cloud.client("cloudwatch", region)
        for shape in METRICS:
            series = fleet.series[(instance.identifier, shape.name)]
            put_hourly_stats(cloudwatch, instance.identifier, shape.name, shape.unit, series)
        sources.append((cloudwatch, instance.identifier))
    spans = [backfill_window(now, DAYS), live_window(now, _collect_interval())]
    return record(sources, spans)


def _collect_interval() -> timedelta:
    return timedelta(seconds=Settings.model_fields["collect_interval_seconds"].default)


def replayed_fleet(ctx: Context, recording: Recording, count: int) -> tuple[Replayer, CallCounter]:
    """`count` running instances whose CloudWatch client answers from the recording."""
    ids = add_fleet(ctx, NOWHERE, identifiers(count))
    with ctx.sessions() as session:
        targets = targets_for(session, ids[:1])
        (account,) = load_accounts(ctx, session, targets).values()
    cloudwatch = ctx.clients.client(account, REGION, "cloudwatch")  # the client Fetcher will use
    replayer, counter = Replayer(recording), CallCounter()
    counter.attach(cloudwatch)
    replayer.attach(cloudwatch)
    return replayer, counter


def run(recording_path: Path, now: datetime, stores: list[str], count: int) -> Report:
    report = Report(
        "fleet",
        f"Fleet backfill: {count:,} instances x {DAYS} days via GetMetricData (replayed answers)",
        [
            ("store", "store"),
            ("workers", "workers"),
            ("calls", "calls"),
            ("minimum_calls", "minimum"),
            ("metric_hours", "metric-hours"),
            ("seconds", "wall s"),
            ("metric_hours_per_second", "metric-hours/s"),
            ("cpu_seconds", "our CPU s"),
            ("throttle_wait_seconds", "throttle wait s"),
            ("peak_rss_mb", "peak RSS MB"),
        ],
    )
    for store in stores:
        report.rows.append(_child(recording_path, now, store, count, 1))
    if "postgres" in stores:  # parts are made for several workers to share: what a 2nd one adds
        report.rows.append(_child(recording_path, now, "postgres", count, 2))
    _judge(report)
    recording = Recording.load(recording_path)
    report.notes += [
        f"answers: moto's, recorded once for {len(recording.templates)} template instances "
        f"({recording.moto_seconds:.1f} s of moto time), replayed through botocore's "
        "before-send hook with each request's own query ids",
        "timed: submit_fleet, then Workers (threads of one process) running every part (100 "
        "instances each): gap query, plan, parse, write, job progress",
        "our CPU: this process's, all threads; PostgreSQL's own work runs in its server",
        "peak RSS: VmHWM of a child process per store, imports and setup included "
        f"({', '.join(str(row['rss_before_mb']) for row in report.rows)} MB before the run)",
    ]
    return report


def _judge(report: Report) -> None:
    for row in (row for row in report.rows if row["workers"] == 1):
        store = row["store"]
        report.target(
            f"{store}: calls = ceil(queries / 500)",
            row["calls"] == row["minimum_calls"],
            f"{row['calls']} of minimum {row['minimum_calls']}",
        )
        report.target(
            f"{store}: peak RSS < {RSS_TARGET_MB} MB",
            row["peak_rss_mb"] < RSS_TARGET_MB,
            f"{row['peak_rss_mb']} MB",
        )
    for row in report.rows:
        if row["store"] == "postgres" and row["workers"] == 1:
            rate = row["metric_hours_per_second"]
            report.target(
                f"postgres: >= {THROUGHPUT_TARGET:,} metric-hours/s",
                rate >= THROUGHPUT_TARGET,
                f"{rate:,} metric-hours/s",
            )


def _child(
    recording_path: Path, now: datetime, store: str, count: int, workers: int
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.fleet", store, str(recording_path), now.isoformat()]
    command += [str(count), str(workers)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"fleet benchmark on {store} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(
    store: str, recording: Recording, now: datetime, count: int, workers: int = 1
) -> dict[str, Any]:
    """The child's work: one fleet backfill, timed, on a fresh store."""
    meter = ThrottleMeter()
    clock = FrozenClock(now)
    with bench_context(store, clock) as ctx:
        ctx.buckets = meter.buckets(ctx.settings)
        replayer, _counter = replayed_fleet(ctx, recording, count)
        rss_before = _memory_mb("VmRSS")
        with profiled(f"fleet-{store}-{workers}-workers"):
            cpu = _cpu_seconds()
            started = time.perf_counter()
            parent = backfill.submit_fleet(ctx, InstanceFilter(), DAYS, False, "bench")
            _work(ctx, workers)
            seconds = time.perf_counter() - started
            cpu = _cpu_seconds() - cpu
        metric_hours, states, job_calls = _outcome(ctx, parent.id)
    queries = count * len(ctx.settings.metrics) * len(STATISTICS)
    if states != {JobState.SUCCEEDED.value}:
        raise RuntimeError(f"fleet parts ended {states}")
    return {
        "store": store,
        "workers": workers,
        "instances": count,
        "days": DAYS,
        "calls": replayer.calls,
        "job_api_calls": job_calls,
        "queries": queries,
        "minimum_calls": math.ceil(queries / LIMITS.data_max_queries),
        "metric_hours": metric_hours,
        "seconds": round(seconds, 2),
        "metric_hours_per_second": round(metric_hours / seconds),
        "throttle_wait_seconds": round(meter.waited, 2),
        "cpu_seconds": round(cpu, 1),
        "rss_before_mb": rss_before,
        "peak_rss_mb": _memory_mb("VmHWM"),
    }


def _work(ctx: Context, workers: int) -> None:
    """Every queued part run by `workers` Workers, each on a thread, until the queue is empty."""

    def drain(name: str) -> None:
        worker = Worker(ctx, ctx.buckets, name)
        while worker.run_one() is not None:
            pass

    if workers == 1:  # in this thread, where a profiler can see it
        drain("bench-0")
        return
    threads = [threading.Thread(target=drain, args=(f"bench-{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _outcome(ctx: Context, parent_id: int) -> tuple[int, set[str], int]:
    with ctx.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(SampleRow)) or 0
        parts = session.execute(
            select(JobRow.state, JobRow.api_calls).where(JobRow.parent_id == parent_id)
        ).all()
    return rows, {state for state, _ in parts}, sum(calls for _, calls in parts)


def _cpu_seconds() -> float:
    """CPU time of this process, every thread; the database server's is not in it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _memory_mb(field: str) -> int:
    """A figure from /proc/self/status: VmRSS now, VmHWM the peak. Unlike ru_maxrss, VmHWM starts
    afresh at exec, so the parent's size when it forked this child does not leak in."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # not Linux


def main(argv: list[str]) -> None:
    store, path, now, count, workers = argv
    recording = Recording.load(Path(path))
    result = measure(store, recording, datetime.fromisoformat(now), int(count), int(workers))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
