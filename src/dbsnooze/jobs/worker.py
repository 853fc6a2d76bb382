"""The worker: claims queued jobs from the store and runs them; runs the collector tick.

Any number of workers may share one PostgreSQL store: jobs are claimed with SKIP LOCKED and
a lease the worker renews; when a worker dies its lease runs out and another takes the job over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from dbsnooze.collect import live
from dbsnooze.collect.throttle import Buckets
from dbsnooze.context import Context
from dbsnooze.jobs import backfill, queue
from dbsnooze.observability import COLLECTOR_LAST_RUN
from dbsnooze.scheduler import Periodic
from dbsnooze.schedules import reconcile
from dbsnooze.store import leases, retention
from dbsnooze.store.db import transaction
from dbsnooze.store.outage import unavailable
from dbsnooze.store.tables import JobRow

log = logging.getLogger(__name__)
COLLECTOR_LEASE = "collector"
RETENTION_LEASE = "retention"
RETENTION_EVERY = timedelta(hours=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Claims and runs jobs one at a time on a thread of its own."""

    def __init__(self, ctx: Context, buckets: Buckets, name: str | None = None) -> None:
        self.ctx = ctx
        self.buckets = buckets
        self.name = name or worker_name()
        self._lease = timedelta(seconds=ctx.settings.worker_lease_seconds)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dbsnooze-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def run_one(self) -> int | None:
        """Claim and run one job; its id, or None when the queue is empty."""
        now = self.ctx.clock()
        with transaction(self.ctx.sessions) as session:
            job = queue.claim(session, self.name, now, self._lease)
            job_id = job.id if job else None
        if job_id is None:
            return None
        with _Heartbeat(self.ctx, job_id, self.name, self._lease):
            try:
                backfill.execute(self.ctx, job_id, self.name, self.buckets)
            except Exception as exc:
                if unavailable(exc):  # the store went away: the lease ends, the job resumes
                    raise
                self._crashed(job_id)
        self.ctx.wake_analysis()
        return job_id

    def _crashed(self, job_id: int) -> None:
        """A job that failed while still ours is failed; one ended elsewhere meanwhile (cancelled
        with its account, taken over) stopped as it should, whatever the error on the way."""
        with transaction(self.ctx.sessions) as session:
            job = session.get(JobRow, job_id)
            if job is None or job.lease_owner != self.name:
                log.info("backfill stopped: its job was ended elsewhere", extra={"job": job_id})
                return
            log.exception("backfill job crashed", extra={"job": job_id})
            job.errors = [*job.errors, {"error": "internal error; see the worker log"}]
            queue.finish(session, job, queue.JobState.FAILED, self.ctx.clock())

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_one()
            except Exception as exc:  # the store is reported (once) by the engine's outage log
                if not unavailable(exc):
                    log.exception("worker loop error")
                ran = None
            if ran is None:
                self._wake.wait(1.0)
                self._wake.clear()


class _Heartbeat:
    """Renews a job's lease on a timer while a long cloud call keeps the worker busy."""

    def __init__(self, ctx: Context, job_id: int, owner: str, lease: timedelta) -> None:
        self.ctx, self.job_id, self.owner, self.lease = ctx, job_id, owner, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="dbsnooze-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _beat(self) -> None:
        while not self._stop.wait(self.lease.total_seconds() / 3):
            try:
                with transaction(self.ctx.sessions) as session:
                    queue.renew(session, self.job_id, self.owner, self.ctx.clock() + self.lease)
            except Exception as exc:
                if not unavailable(exc):
                    log.exception("lease renewal failed", extra={"job": self.job_id})


def collector_tick(ctx: Context, buckets: Buckets, owner: str) -> live.LiveReport | None:
    """One live-collection pass and retention, done by whichever worker holds the lease."""
    now = ctx.clock()
    until = now + timedelta(seconds=ctx.settings.collect_interval_seconds * 0.9)
    with transaction(ctx.sessions) as session:
        if not leases.acquire(session, COLLECTOR_LEASE, owner, now, until):
            return None
    report = live.collect(ctx, buckets)
    COLLECTOR_LAST_RUN.set_to_current_time()
    with transaction(ctx.sessions) as session:  # retention walks the whole table: hourly is enough
        due = leases.acquire(session, RETENTION_LEASE, owner, now, now + RETENTION_EVERY)
    if due:
        retention.enforce_retention(ctx.sessions, now - timedelta(days=ctx.settings.retention_days))
    return report


def reconciler(ctx: Context, owner: str) -> Periodic:
    """The schedules' reconciler tick (schedules/reconcile.py), under its own store lease."""
    return Periodic(
        "reconciler",
        ctx.settings.reconcile_interval_seconds,
        lambda: reconcile.tick(ctx, owner),
    )


def background(ctx: Context, buckets: Buckets) -> tuple[Worker, Periodic]:
    worker = Worker(ctx, buckets)
    collector = Periodic(
        "collector",
        ctx.settings.collect_interval_seconds,
        lambda: collector_tick(ctx, buckets, worker.name),
    )
    return worker, collector
