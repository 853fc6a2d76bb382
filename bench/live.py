"""Live collection: one cycle over 1,000 running instances, answers replayed as in bench.fleet.

Each cycle is `collect.live.collect` as the collector tick runs it: the current and the
not-yet-final hour of every instance, batched into GetMetricData calls, replaced in the store.
The first cycle inserts; the following ones replace the same hours, as every tick after the first
does. Each cycle gets a fresh token bucket, as ticks 5 minutes apart find theirs refilled; the
wait it imposes (10 requests/s per account and region, burst 10) is reported on its own.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from bench.fleet import replayed_fleet
from bench.harness import FrozenClock, Report, ThrottleMeter, bench_context, median, profiled
from bench.replay import Recording
from dbsnooze.collect import live
from dbsnooze.collect.plan import LIMITS
from dbsnooze.metrics import STATISTICS

INSTANCES = 1_000


def run(recording: Recording, now: datetime, stores: list[str], count: int, cycles: int) -> Report:
    report = Report(
        "live",
        f"Live collection: one cycle over {count:,} running instances (replayed answers)",
        [
            ("store", "store"),
            ("calls", "calls"),
            ("minimum_calls", "minimum"),
            ("metric_hours", "metric-hours"),
            ("first_seconds", "1st cycle s"),
            ("seconds", "wall s (median)"),
            ("throttle_wait_seconds", "of which throttle s"),
            ("cycles", "cycles"),
        ],
    )
    for store in stores:
        with profiled(f"live-{store}"):
            report.rows.append(_measure(store, recording, now, count, cycles))
    report.notes += [
        "one cycle = collect.live.collect: the current and the not-yet-final hour of every "
        "instance; the 1st cycle inserts, later ones replace the same hours",
        "the throttle (10 requests/s per account and region, burst 10) makes 40 calls take at "
        "least 3 s; 'of which throttle' is the time spent waiting for tokens",
    ]
    for row in report.rows:
        report.target(
            f"{row['store']}: calls = ceil(queries / 500)",
            row["calls"] == row["minimum_calls"],
            f"{row['calls']} of minimum {row['minimum_calls']}",
        )
    return report


def _measure(
    store: str, recording: Recording, now: datetime, count: int, cycles: int
) -> dict[str, Any]:
    with bench_context(store, FrozenClock(now)) as ctx:
        replayer, _counter = replayed_fleet(ctx, recording, count)
        runs = []
        for _ in range(cycles):
            meter, before = ThrottleMeter(), replayer.calls
            started = time.perf_counter()
            outcome = live.collect(ctx, meter.buckets(ctx.settings))
            seconds = time.perf_counter() - started
            if outcome.errors:
                raise RuntimeError(f"live collection failed: {outcome.errors[:3]}")
            runs.append((seconds, replayer.calls - before, outcome.samples, meter.waited))
        queries = count * len(ctx.settings.metrics) * len(STATISTICS)
    walls = [seconds for seconds, *_ in runs]
    return {
        "store": store,
        "instances": count,
        "window_hours": int((outcome.window_end - outcome.window_start).total_seconds() // 3600),
        "calls": runs[0][1],
        "minimum_calls": math.ceil(queries / LIMITS.data_max_queries),
        "metric_hours": runs[0][2],
        "first_seconds": round(walls[0], 2),
        "seconds": round(median(walls), 2),
        "throttle_wait_seconds": round(median([wait for *_, wait in runs]), 2),
        "cycles": len(runs),
        "seconds_each": [round(wall, 2) for wall in walls],
    }
