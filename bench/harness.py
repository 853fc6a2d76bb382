"""What every benchmark shares: throwaway stores, a context on a frozen clock, counters, tables."""

from __future__ import annotations

import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text

from dbsnooze.collect.throttle import Buckets
from dbsnooze.config import Settings
from dbsnooze.context import Context, build_context
from dbsnooze.demo.emulator import make_client
from dbsnooze.demo.fleet import BULK_CLIENT_CONFIG
from dbsnooze.domain import AuthMethod, Credentials, DiscoveredInstance, Provider
from dbsnooze.store import instances as instance_store
from dbsnooze.store.accounts import NewAccount, add
from dbsnooze.store.db import scratch_schema, transaction, upgrade

PG_URL = os.environ.get(
    "DBSNOOZE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RESULTS = Path(__file__).resolve().parent / "results"
REGION = "us-east-1"
INSTANCE_CLASS = "db.r6g.large"
# moto accepts any key; these never leave loopback.
BENCH_KEYS = Credentials(
    method=AuthMethod.STATIC_KEYS,
    access_key_id="AKIABENCHEMULATOR001",
    secret_access_key="bench-emulator-secret-not-a-real-key",
)
# Where replayed clients point: if replay ever missed a call, it would fail loudly, not hang.
NOWHERE = "http://127.0.0.1:9"


def bench_now() -> datetime:
    """A frozen 'now' at :07 past an hour: the live window then spans two hours, its worst case."""
    return datetime.now(UTC).replace(minute=7, second=0, microsecond=0) - timedelta(hours=1)


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# --- the cloud -------------------------------------------------------------------------------


class MotoServer:
    """moto's server in a process of its own, like a cloud: it never competes for our GIL."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self.endpoint_url = ""

    def __enter__(self) -> MotoServer:
        port = _free_port()
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.endpoint_url = f"http://127.0.0.1:{port}"
        _wait_listening(port, self._process)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)

    def client(self, service: str, region: str) -> Any:
        return make_client(self.endpoint_url, service, region, BULK_CLIENT_CONFIG)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the moto server exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the moto server did not listen on port {port} within {timeout:.0f}s")


# --- stores ----------------------------------------------------------------------------------


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), 1):
            pass
    except OSError:
        return False
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


@contextmanager
def store_url(kind: str) -> Iterator[str]:
    """A fresh, empty store: a SQLite file in a temp dir, or a PostgreSQL schema of its own."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="dbsnooze-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'store.db'}"
        return
    if kind != "postgres":
        raise ValueError(f"unknown store {kind!r}")
    with scratch_schema(PG_URL, prefix="bench") as url:
        yield url


@contextmanager
def bench_context(
    kind: str, clock: FrozenClock, buckets: Buckets | None = None, **overrides: Any
) -> Iterator[Context]:
    """A migrated store and a context on the frozen clock, with no background work."""
    with store_url(kind) as url, tempfile.TemporaryDirectory(prefix="dbsnooze-key-") as keys:
        settings = Settings(
            database_url=url,
            secret_key_file=Path(keys) / "bench.key",
            run_worker=False,
            run_collector=False,
            run_scheduler=False,
            **overrides,
        )
        ctx = build_context(settings, clock)
        if buckets is not None:
            ctx.buckets = buckets
        upgrade(ctx.engine)
        try:
            yield ctx
        finally:
            ctx.close()


def add_fleet(
    ctx: Context, endpoint_url: str, identifiers: Sequence[str], region: str = REGION
) -> list[int]:
    """One account at `endpoint_url` and its running instances, through the discovery upsert."""
    now = ctx.clock()
    found = [
        DiscoveredInstance(
            provider_id=identifier,
            region=region,
            engine="postgres",
            engine_version="16.3",
            instance_class=INSTANCE_CLASS,
            status="available",
            tags={"bench": "true"},
            created_at=now - timedelta(days=400),
        )
        for identifier in identifiers
    ]
    new = NewAccount(Provider.AWS, "bench", (region,), BENCH_KEYS, endpoint_url, None)
    with transaction(ctx.sessions) as session:
        account = add(session, ctx.box, new, now)
        counts = instance_store.sync_region(session, (account.id, "aws"), region, found, now)
    return list(counts.new_ids)


# --- counters --------------------------------------------------------------------------------


class StatementCounter:
    """Counts every statement SQLAlchemy sends to the store (psycopg COPY bypasses it), and the
    transactions it begins (read-only ones included)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.transactions = 0
        self._lock = threading.Lock()

    def _seen(self, *_args: Any) -> None:
        with self._lock:
            self.count += 1

    def _began(self, *_args: Any) -> None:
        with self._lock:
            self.transactions += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        event.listen(self.engine, "begin", self._began)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)
        event.remove(self.engine, "begin", self._began)


class CallCounter:
    """Counts HTTP requests a boto3 client sends (or hands to a replayer), by operation."""

    def __init__(self) -> None:
        self.by_operation: dict[str, int] = {}
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send", self._sent)

    def _sent(self, event_name: str = "", **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.by_operation[operation] = self.by_operation.get(operation, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())


class ThrottleMeter:
    """Sleeps for the token buckets and adds up how long they made callers wait."""

    def __init__(self) -> None:
        self.waited = 0.0
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waited += seconds
        time.sleep(seconds)

    def buckets(self, settings: Settings) -> Buckets:
        return Buckets(
            settings.cloud_requests_per_second, settings.cloud_requests_burst, sleep=self.sleep
        )


# --- profiling -------------------------------------------------------------------------------

PROFILE_ENV = "DBSNOOZE_BENCH_PROFILE_DIR"  # set by `python -m bench --profile`; children inherit


def profiling() -> bool:
    return bool(os.environ.get(PROFILE_ENV))


@contextmanager
def profiled(name: str) -> Iterator[None]:
    """Profile the block with pyinstrument into $DBSNOOZE_BENCH_PROFILE_DIR/<name>.txt, if asked."""
    folder = os.environ.get(PROFILE_ENV)
    if not folder:
        yield
        return
    from pyinstrument import Profiler  # a dev dependency, needed only when profiling

    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        path = Path(folder) / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(profiler.output_text(unicode=False, color=False))


# --- numbers and tables ----------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: a value that was actually observed."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Report:
    """One benchmark's table, the notes that qualify it, and targets met or missed."""

    name: str
    title: str
    columns: list[tuple[str, str]]  # (row key, header)
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def target(self, name: str, met: bool, measured: str) -> None:
        self.targets.append({"target": name, "met": met, "measured": measured})

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": [key for key, _ in self.columns],
            "rows": self.rows,
            "notes": self.notes,
            "targets": self.targets,
            **self.extra,
        }


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_memory_bytes() / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": _postgres_version(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _postgres_version() -> str | None:
    if not postgres_available():
        return None
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()
