"""History reads: latency of `GET .../metrics/history?range=90d` over HTTP, on a full store.

The store holds 1,000 instances x 90 days x 5 metrics (10.8 M samples), bulk-loaded in SQL by the
fastest path each database has (see `load`); the API is the real app (`create_app`) under uvicorn
on loopback, asked by a keep-alive HTTP client for one instance's 2,160 hours x 5 metrics.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.responses import Response
from sqlalchemy import Connection, text

from bench.harness import (
    NOWHERE,
    FrozenClock,
    Report,
    add_fleet,
    bench_context,
    median,
    percentile,
    profiled,
    profiling,
)
from dbsnooze.api.app import create_app
from dbsnooze.config import Settings
from dbsnooze.context import Context, build_context
from dbsnooze.domain import HOUR, floor_hour
from dbsnooze.history import history, window_for
from dbsnooze.store import samples
from dbsnooze.store.tables import InstanceRow

DAYS = 90
INSTANCES = 1_000
P95_TARGET_MS = 50.0
_METRICS = ("connections", "cpu", "freeable_memory", "read_iops", "write_iops")

# Rows are generated inside the database: no Python loop over 10.8 M samples. The values are
# arbitrary but vary by instance and hour, and the rows are written in primary-key order.
_VALUES = (
    "(i.id * 7 + h.n) % 100, (i.id * 7 + h.n) % 100 + 5, (i.id * 7 + h.n) % 100 / 2.0, 60, "
    "'backfill'"
)
_COLUMNS = "instance_id, metric, hour, average, maximum, minimum, sample_count, source, fetched_at"
_POSTGRES_LOAD = f"""
INSERT INTO metric_samples ({_COLUMNS})
SELECT i.id, m.metric, :start + h.n * interval '1 hour', {_VALUES}, :now
FROM instances AS i
CROSS JOIN unnest(CAST(:metrics AS text[])) AS m(metric)
CROSS JOIN generate_series(0, :hours - 1) AS h(n)
ORDER BY 1, 2, 3
"""
# SQLAlchemy's SQLite DATETIME text, exactly as the store's upsert writes it.
_SQLITE_HOUR = "strftime('%Y-%m-%d %H:%M:%S.000000', :start, '+' || h.n || ' hours')"
_SQLITE_LOAD = f"""
WITH RECURSIVE h(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM h WHERE n + 1 < :hours),
m(metric) AS (SELECT value FROM json_each(:metrics))
INSERT INTO metric_samples ({_COLUMNS})
SELECT i.id, m.metric, {_SQLITE_HOUR}, {_VALUES}, :now
FROM instances AS i, m, h
ORDER BY 1, 2, h.n
"""
# PostgreSQL's documented bulk-load recipe: load without the primary key, then build the index
# in one sort (same name as Alembic's).
_PG_DROP = ("ALTER TABLE metric_samples DROP CONSTRAINT pk_metric_samples",)
_PG_RESTORE = (
    "ALTER TABLE metric_samples ADD CONSTRAINT pk_metric_samples "
    "PRIMARY KEY (instance_id, metric, hour)",
)


@dataclass(frozen=True, slots=True)
class Plan:
    instances: int
    warmup: int
    requests: int

    @classmethod
    def full(cls) -> Plan:
        return cls(INSTANCES, 20, 200)

    @classmethod
    def quick(cls) -> Plan:
        return cls(100, 5, 50)


def run(clock: FrozenClock, stores: list[str], plan: Plan) -> Report:
    report = Report(
        "read",
        f"History API: 90 days x 5 metrics of one instance, store holding "
        f"{plan.instances:,} instances x {DAYS} days",
        [
            ("store", "store"),
            ("samples_stored", "samples stored"),
            ("load_seconds", "load s"),
            ("requests", "requests"),
            ("p50_ms", "p50 ms"),
            ("p95_ms", "p95 ms"),
            ("p99_ms", "p99 ms"),
            ("response_kb", "answer KB"),
        ],
    )
    for store in stores:
        report.rows.append(_measure(store, clock, plan))
    report.notes += [
        "GET /api/v1/instances/{id}/metrics/history?range=90d: 2,160 hours x 5 metrics, with "
        "maximum, memory % and coverage per hour",
        "store bulk-loaded in SQL (PostgreSQL: generate_series with the key "
        "rebuilt after, then VACUUM ANALYZE; SQLite: a recursive CTE in one transaction)",
        f"server: create_app under uvicorn in its own process; client: httpx2, one kept-alive "
        f"connection, {plan.warmup} warm-up requests, then {plan.requests} timed",
    ]
    for row in report.rows:
        report.target(
            f"{row['store']}: p95 < {P95_TARGET_MS:.0f} ms",
            row["p95_ms"] < P95_TARGET_MS,
            f"p95 {row['p95_ms']} ms",
        )
    return report


def _measure(store: str, clock: FrozenClock, plan: Plan) -> dict[str, Any]:
    with bench_context(store, clock) as ctx:
        ids = add_fleet(ctx, NOWHERE, [f"bench-db-{i:04d}" for i in range(plan.instances)])
        started = time.perf_counter()
        stored = load(ctx, clock(), DAYS)
        load_seconds = time.perf_counter() - started
        target = ids[len(ids) // 2]
        _check_loaded(ctx, target, clock())
        path = f"/api/v1/instances/{target}/metrics/history?range=90d"
        with _Serving(ctx) as port:
            latencies, size = _ask(port, path, plan)
        if profiling():
            _profile_handler(ctx, target, f"read-{store}")
    return {
        "store": store,
        "instances": plan.instances,
        "samples_stored": stored,
        "load_seconds": round(load_seconds, 1),
        "requests": len(latencies),
        "p50_ms": round(median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "mean_ms": round(sum(latencies) / len(latencies), 1),
        "response_kb": round(size / 1024),
    }


def load(ctx: Context, now: datetime, days: int) -> int:
    """`days` of hourly samples of every metric for every stored instance, ending this hour."""
    hours = days * 24
    start = floor_hour(now) - (hours - 1) * HOUR
    with ctx.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            _load_postgres(conn, start, now, hours)
        else:
            _load_sqlite(conn, start, now, hours)
    autocommit = ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with autocommit as conn:
        if conn.dialect.name == "postgresql":  # what autovacuum would soon do after a big load
            conn.exec_driver_sql("VACUUM ANALYZE metric_samples")
        count: int = conn.exec_driver_sql("SELECT count(*) FROM metric_samples").scalar_one()
    return count


def _load_postgres(conn: Connection, start: datetime, now: datetime, hours: int) -> None:
    for statement in _PG_DROP:
        conn.exec_driver_sql(statement)
    params = {"start": start, "now": now, "hours": hours, "metrics": list(_METRICS)}
    conn.execute(text(_POSTGRES_LOAD), params)
    for statement in _PG_RESTORE:
        conn.exec_driver_sql(statement)


def _load_sqlite(conn: Connection, start: datetime, now: datetime, hours: int) -> None:
    def as_text(moment: datetime) -> str:
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    params = {
        "start": as_text(start),
        "now": as_text(now),
        "hours": hours,
        "metrics": json.dumps(_METRICS),
    }
    conn.execute(text(_SQLITE_LOAD), params)


def _profile_handler(ctx: Context, instance_id: int, name: str) -> None:
    """What the endpoint does for each request, in this thread so that pyinstrument sees it."""
    window = window_for(ctx.clock(), "90d", None, None)
    with profiled(name):
        for _ in range(20):
            with ctx.sessions() as session:
                row = session.get(InstanceRow, instance_id)
                assert row is not None
                found = history(session, row, list(ctx.settings.metrics), window)
                Response(found.to_json(), media_type="application/json")


def _check_loaded(ctx: Context, instance_id: int, now: datetime) -> None:
    """The store's own reader sees every loaded hour: the bulk rows are what upsert would write."""
    window = window_for(now, "90d", None, None)
    with ctx.sessions() as session:
        assert session.get(InstanceRow, instance_id) is not None
        found = samples.history(session, instance_id, list(_METRICS), window)
    missing = sum(point is None for series in found.values() for point in series)
    if missing:
        raise RuntimeError(f"the bulk load left {missing} of the window's samples unreadable")


class _Serving:
    """The real app under uvicorn on a loopback port, in a process of its own as in production:
    the client's work never competes with the server's for one interpreter lock."""

    def __init__(self, ctx: Context) -> None:
        self.port = _free_port()
        settings = ctx.settings
        self.command = [
            sys.executable,
            "-m",
            "bench.read",
            settings.database_url,
            str(settings.secret_key_file),
            ctx.clock().isoformat(),
            str(self.port),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> int:
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not _listening(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)
        return self.port

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)


def serve(database_url: str, key_file: str, now: str, port: int) -> None:
    """The child: dbsnooze's app on the bench's store and frozen clock, nothing in background."""
    settings = Settings(
        database_url=database_url,
        secret_key_file=Path(key_file),
        run_worker=False,
        run_collector=False,
        run_scheduler=False,
    )
    ctx = build_context(settings, FrozenClock(datetime.fromisoformat(now)))
    app = create_app(settings, ctx)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ask(port: int, path: str, plan: Plan) -> tuple[list[float], int]:
    """Latencies in ms of `plan.requests` GETs after a warm-up, over one kept-alive connection."""
    get = _client(port)
    size = 0
    for _ in range(plan.warmup):
        size = len(get(path))
    latencies = []
    for _ in range(plan.requests):
        started = time.perf_counter()
        get(path)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies, size


def _client(port: int) -> Callable[[str], bytes]:
    try:
        import httpx2
    except ImportError:
        return _stdlib_client(port)
    client = httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)

    def get(path: str) -> bytes:
        answer = client.get(path)
        answer.raise_for_status()
        return answer.content

    return get


def _stdlib_client(port: int) -> Callable[[str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(path: str) -> bytes:
        connection.request("GET", path)
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"GET {path} answered {answer.status}: {body[:200]!r}")
        return body

    return get


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
