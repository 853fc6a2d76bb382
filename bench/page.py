"""The fleet page: time to answer `GET /` with 50 and 250 rows, store holding 1,000 x 90 days.

The store is loaded as the `read` benchmark loads it (10.8 M samples in SQL), then its summaries
are built by `store.summaries.rebuild`, what migration 0005 does for history stored before it.
Pages are asked of the real app in this process (routing, listing, summaries, templates) through
Starlette's TestClient, so the time is the server's. The baseline is the same page with its
history columns computed from the samples on every request, as before the summaries
(`bench.page_baseline`), measured in the same run on the same store.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from bench import page_baseline
from bench.harness import (
    NOWHERE,
    FrozenClock,
    Report,
    add_fleet,
    bench_context,
    median,
    percentile,
    profiled,
)
from bench.read import DAYS, INSTANCES, Plan, load
from dbsnooze.api.app import create_app
from dbsnooze.context import Context
from dbsnooze.store import summaries
from dbsnooze.web import overview

# (label, path, target ms for the median, measured against the baseline too)
PAGES: tuple[tuple[str, str, float | None, bool], ...] = (
    ("50 rows", "/?per_page=50", 100.0, True),
    ("250 rows", "/?per_page=250", 300.0, True),
    ("250 rows by idle share", "/?per_page=250&sort=-idle", None, False),
    ("250 rows by last activity", "/?per_page=250&sort=last_active", None, False),
    ("inactive 7 days, idle 50 %", "/?per_page=250&inactive=7&idle=50", None, False),
)


# read.Plan's sizes: instances stored, warm-up requests, timed requests (the baseline, seconds a
# request at full size, is timed BASELINE_SHARE as many times)
FULL = Plan(INSTANCES, 1, 21)
QUICK = Plan(100, 1, 7)
BASELINE_SHARE = 4


def run(clock: FrozenClock, stores: list[str], plan: Plan) -> Report:
    report = Report(
        "page",
        f"Fleet page (GET /): store holding {plan.instances:,} instances x {DAYS} days",
        [
            ("store", "store"),
            ("page", "page"),
            ("baseline_ms", "from samples: median ms"),
            ("median_ms", "summaries: median ms"),
            ("p95_ms", "p95 ms"),
            ("speedup", "speed-up"),
        ],
    )
    for store in stores:
        rows, rebuild_seconds = _measure(store, clock, plan)
        report.rows += rows
        report.notes.append(f"{store}: summaries built from the samples in {rebuild_seconds} s")
    for row in report.rows:
        if row["target_ms"] is not None:
            report.target(
                f"{row['store']}, {row['page']}: median < {row['target_ms']:.0f} ms",
                row["median_ms"] < row["target_ms"],
                f"{row['median_ms']} ms",
            )
    report.notes += [
        "time: one request through the real app in this process (TestClient), rendering "
        f"included; median of {plan.requests} after a warm-up ({_baseline(plan)} for the "
        "baseline)",
        "baseline: the same app with the history columns computed from the samples per request "
        "(sparkline and coverage from the week's samples, last activity from every stored hour)",
    ]
    return report


def _measure(store: str, clock: FrozenClock, plan: Plan) -> tuple[list[dict[str, Any]], float]:
    with bench_context(store, clock) as ctx:
        add_fleet(ctx, NOWHERE, [f"bench-db-{i:04d}" for i in range(plan.instances)])
        load(ctx, clock(), DAYS)
        started = time.perf_counter()
        with ctx.engine.begin() as conn:
            summaries.rebuild(conn)
        rebuild_seconds = round(time.perf_counter() - started, 1)
        rows = []
        with _client(ctx) as client:
            for label, path, target, compare in PAGES:
                with profiled(f"page-{store}-{label.split()[0]}"):
                    times = _times(client, path, plan)
                baseline = None
                if compare:
                    with _from_samples():
                        baseline = median(_times(client, path, plan, _baseline(plan)))
                rows.append(_row(store, label, target, times, baseline))
    return rows, rebuild_seconds


def _row(
    store: str, label: str, target: float | None, times: list[float], baseline: float | None
) -> dict[str, Any]:
    middle = median(times)
    return {
        "store": store,
        "page": label,
        "target_ms": target,
        "baseline_ms": None if baseline is None else round(baseline, 1),
        "median_ms": round(middle, 1),
        "p95_ms": round(percentile(times, 95), 1),
        "speedup": None if baseline is None else f"{baseline / middle:.0f}x",
    }


@contextmanager
def _client(ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(ctx.settings, ctx)) as client:
        yield client


@contextmanager
def _from_samples() -> Iterator[None]:
    """The page as it was: the route asks `overview.page_extras`, here the old computation."""
    kept = overview.page_extras
    overview.page_extras = page_baseline.page_extras
    try:
        yield
    finally:
        overview.page_extras = kept


def _baseline(plan: Plan) -> int:
    return max(3, plan.requests // BASELINE_SHARE)


def _times(client: TestClient, path: str, plan: Plan, repeats: int | None = None) -> list[float]:
    """Milliseconds per request, after the plan's warm-up requests."""
    for _ in range(plan.warmup):
        _get(client, path)
    found = []
    for _ in range(plan.requests if repeats is None else repeats):
        started = time.perf_counter()
        _get(client, path)
        found.append((time.perf_counter() - started) * 1000)
    return found


def _get(client: TestClient, path: str) -> None:
    answer = client.get(path)
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code}: {answer.text[:300]}")
