"""Backfill: the final hours of a window, from CloudWatch's archive, in as few calls as it takes."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dbsnooze.collect.hours import HOURS_PER_DAY, backfill_window
from dbsnooze.collect.plan import (
    Estimate,
    SeriesRequest,
    estimate,
    plan_data,
    plan_statistics,
)
from dbsnooze.collect.runner import CallResult, Fetcher, gap_requests
from dbsnooze.collect.throttle import Buckets
from dbsnooze.config import HARD_MAX_BACKFILL_DAYS
from dbsnooze.context import Context
from dbsnooze.domain import HOUR, HourRange, Source, Target, floor_hour
from dbsnooze.errors import NotFound, Unprocessable
from dbsnooze.jobs import queue
from dbsnooze.jobs.queue import BACKFILL, FLEET, JobState
from dbsnooze.jobs.targets import load_accounts, targets_for
from dbsnooze.store import events, samples
from dbsnooze.store import instances as instance_store
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow, JobRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Depth:
    requested: int
    days: int
    capped: bool


def depth(ctx: Context, days_requested: int) -> Depth:
    if days_requested < 1:
        raise Unprocessable("invalid_days", "days must be a whole number of at least 1")
    cap = min(ctx.settings.backfill_max_days, HARD_MAX_BACKFILL_DAYS)
    return Depth(days_requested, min(days_requested, cap), days_requested > cap)


def submit_instance(ctx: Context, instance_id: int, days: int, force: bool, actor: str) -> JobRow:
    how = depth(ctx, days)
    with transaction(ctx.sessions) as session:
        row = _instance(session, instance_id)
        job = queue.submit(session, BACKFILL, [row.id], _fields(how, force, actor), ctx.clock())
        events.record(
            session,
            ctx.clock(),
            actor,
            "backfill.submitted",
            ("job", job.id),
            {"instance_id": row.id, "days": how.days, "force": force},
        )
    return job


def _instance(session: Session, instance_id: int) -> InstanceRow:
    row = instance_store.get(session, instance_id)
    if row is None:
        raise NotFound("instance_not_found", f"no instance with id {instance_id}")
    if row.provider != "aws":
        raise Unprocessable(
            "provider_not_supported",
            "backfill for GCP Cloud SQL is not supported yet (Cloud Monitoring comes in phase 2)",
        )
    return row


def _fields(how: Depth, force: bool, actor: str) -> dict[str, Any]:
    return {
        "days_requested": how.requested,
        "days": how.days,
        "capped": how.capped,
        "params": {"force": force},
        "created_by": actor,
    }


def submit_fleet(
    ctx: Context, flt: instance_store.InstanceFilter, days: int, force: bool, actor: str
) -> JobRow:
    """One fleet job whose parts (≤ fleet_chunk_size instances of one account and region) any
    worker can claim; instances already being backfilled are left to their running job."""
    how = depth(ctx, days)
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        rows = _fleet_rows(session, flt)
        parent = JobRow(
            kind=FLEET,
            state=JobState.RUNNING.value,
            created_at=now,
            started_at=now,
            errors=[],
            **_fields(how, force, actor),
        )
        session.add(parent)
        session.flush()
        for chunk in _chunks(rows, ctx.settings.fleet_chunk_size):
            queue.submit(session, BACKFILL, chunk, _fields(how, force, actor), now, parent.id)
        if not rows:
            queue.finish(session, parent, JobState.SUCCEEDED, now)
        events.record(
            session,
            now,
            actor,
            "backfill.fleet_submitted",
            ("job", parent.id),
            {"instances": len(rows), "days": how.days},
        )
    return parent


def _fleet_rows(session: Session, flt: instance_store.InstanceFilter) -> list[InstanceRow]:
    query = instance_store.filtered(flt).where(InstanceRow.provider == "aws")
    busy = queue.busy_instances(session)
    return [row for row in session.scalars(query.order_by(InstanceRow.id)) if row.id not in busy]


def _chunks(rows: Sequence[InstanceRow], size: int) -> list[list[int]]:
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row in rows:
        groups[(row.account_id, row.region)].append(row.id)
    return [ids[i : i + size] for ids in groups.values() for i in range(0, len(ids), size)]


def dry_run(
    ctx: Context, flt: instance_store.InstanceFilter, days: int, force: bool
) -> dict[str, Any]:
    """What a fleet backfill would ask the cloud for, and what GetMetricData would cost.

    Planned part by part, as the workers will fetch it: a call never spans two parts.
    """
    how = depth(ctx, days)
    window = backfill_window(ctx.clock(), how.days)
    metrics = ctx.settings.metrics
    with ctx.sessions() as session:
        rows = _fleet_rows(session, flt)
        chunks = _chunks(rows, ctx.settings.fleet_chunk_size)
        targets = [targets_for(session, chunk) for chunk in chunks]
        known = samples.known_hours(session, [r.id for r in rows], metrics, window, not force)
    nothing = Estimate(0, 0, 0, 0, 0.0)
    plan = sum((estimate(gap_requests(p, metrics, window, known)) for p in targets), nothing)
    return {
        "instances": len(rows),
        "days": how.days,
        "capped": how.capped,
        "window_start": window.start,
        "window_end": window.end,
        **plan.as_dict(),
    }


@dataclass
class Tally:
    """Hour accounting for a job: an instance-hour counts once, when every metric planned for it
    has been answered, so a resumed job never counts again what the interrupted run counted."""

    window: HourRange
    targets: Sequence[Target]
    outstanding: dict[int, dict[datetime, int]]  # per instance and hour: metrics not answered yet
    before: dict[str, int] = field(default_factory=dict)  # what an interrupted run already did
    planned: int = 0  # instance-hours with at least one metric to fetch
    finished: int = 0  # instance-hours whose every metric was answered
    stored: dict[int, set[datetime]] = field(default_factory=lambda: defaultdict(set))
    silent: dict[int, set[datetime]] = field(default_factory=lambda: defaultdict(set))
    errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        window: HourRange,
        targets: Sequence[Target],
        requests: Sequence[SeriesRequest],
        before: dict[str, int],
    ) -> Tally:
        outstanding: dict[int, dict[datetime, int]] = defaultdict(dict)
        for request in requests:
            left = outstanding[request.target.instance_id]
            for hour in request.span:
                left[hour] = left.get(hour, 0) + 1
        planned = sum(len(hours) for hours in outstanding.values())
        return cls(window, targets, outstanding, before, planned)

    def add(self, result: CallResult) -> None:
        if result.error:
            self.errors.append({"error": result.error})
            return
        for stat in result.stored:
            self.stored[stat.instance_id].add(stat.hour)
        for instance_id, _metric, hour in result.asked:
            left = self.outstanding[instance_id]
            left[hour] -= 1
            if not left[hour]:
                del left[hour]
                self.finished += 1
                if hour not in self.stored[instance_id]:
                    self.silent[instance_id].add(hour)

    def counters(self) -> dict[str, int]:
        empty = sum(len(hours) for hours in self.silent.values())
        done_before = self.before.get("hours_backfilled", 0) + self.before.get("hours_empty", 0)
        total = self.window.hours * len(self.targets)
        return {
            "hours_total": total,
            "hours_skipped": max(total - self.planned - done_before, 0),
            "hours_backfilled": self.finished - empty + self.before.get("hours_backfilled", 0),
            "hours_empty": empty + self.before.get("hours_empty", 0),
        }

    def silent_hours(self, instance_id: int) -> set[datetime]:
        """Hours whose every metric was answered, and none had data."""
        return self.silent[instance_id]


def execute(ctx: Context, job_id: int, owner: str, buckets: Buckets) -> JobState:
    """Run a claimed backfill job to its end; a resumed job simply finds fewer hours missing."""
    with transaction(ctx.sessions) as session:
        job = session.get(JobRow, job_id)
        assert job is not None
        targets = targets_for(session, queue.target_ids(session, job_id))
        accounts = load_accounts(ctx, session, targets)
        days, force = job.days, bool(job.params.get("force"))
        prior = {
            "hours_backfilled": job.hours_backfilled,
            "hours_empty": job.hours_empty,
            "api_calls": job.api_calls,
        }
        window = _window(ctx, job)
    metrics = ctx.settings.metrics
    with ctx.sessions() as session:
        known = samples.known_hours(
            session, [t.instance_id for t in targets], metrics, window, not force
        )
    requests = gap_requests(targets, metrics, window, known)
    calls = plan_statistics(requests) if len(targets) == 1 else plan_data(requests)
    log.info(
        "backfill started",
        extra={"job": job_id, "instances": len(targets), "days": days, "calls": len(calls)},
    )
    tally = Tally.of(window, targets, requests, prior)
    fetcher = Fetcher(ctx, buckets, accounts)
    progress = _Progress(ctx, job_id, owner, tally, fetcher, len(calls))
    fetcher.run(calls, Source.BACKFILL, record_empty=True, after_each=progress.step)
    if progress.stopped is None:
        _record_asleep(ctx, targets, tally, metrics)
    return progress.close()


def _window(ctx: Context, job: JobRow) -> HourRange:
    """The job's window, fixed when it first runs, so a resumed job finishes the same hours."""
    if "window_end" in job.params:
        end = datetime.fromisoformat(job.params["window_end"])
        return HourRange(end - job.days * HOURS_PER_DAY * HOUR, end)
    window = backfill_window(ctx.clock(), job.days)
    job.params = {**job.params, "window_end": window.end.isoformat()}
    return window


def _record_asleep(
    ctx: Context, targets: Sequence[Target], tally: Tally, metrics: Sequence[str]
) -> None:
    """A stopped instance's silent hours are asleep, not missing and not empty.

    Silent hours before the instance existed stay empty; it existed from its creation time or
    from its first hour with data, whichever is earlier (emulators report creation as 'now').
    """
    for target in targets:
        if target.running:
            continue
        born = _born(ctx, target, tally, metrics)
        if born is None:
            continue
        hours = sorted(h for h in tally.silent_hours(target.instance_id) if h >= born)
        if not hours:
            continue
        with transaction(ctx.sessions) as session:
            samples.mark_asleep(session, target.instance_id, metrics, hours, ctx.clock())
        tally.silent[target.instance_id].difference_update(hours)


def _born(ctx: Context, target: Target, tally: Tally, metrics: Sequence[str]) -> datetime | None:
    with ctx.sessions() as session:
        known = samples.known_hours(
            session, [target.instance_id], metrics, tally.window, include_empty=False
        )
    first_data = min((min(h) for h in known.values() if h), default=None)
    created = floor_hour(target.since) if target.since else None
    candidates = [moment for moment in (first_data, created) if moment is not None]
    return min(candidates) if candidates else None


@dataclass
class _Progress:
    ctx: Context
    job_id: int
    owner: str
    tally: Tally
    fetcher: Fetcher
    calls: int
    done: int = 0
    logged_hours: int = 0
    stopped: JobState | None = None

    def step(self, result: CallResult) -> bool:
        """Save counters after each call; False stops the job (cancelled or taken over)."""
        self.tally.add(result)
        self.done += 1
        self._log()
        with transaction(self.ctx.sessions) as session:
            if not queue.renew(session, self.job_id, self.owner, self._lease_end()):
                self.stopped = JobState.RUNNING  # another worker owns it now: its counters
                return False
            self._save(session)
            if queue.cancel_requested(session, self.job_id):
                self.stopped = JobState.CANCELLED
        return self.stopped is None

    def _lease_end(self) -> datetime:
        return self.ctx.clock() + timedelta(seconds=self.ctx.settings.worker_lease_seconds)

    def _save(self, session: Session) -> None:
        job = session.get(JobRow, self.job_id)
        assert job is not None
        for name, value in self.tally.counters().items():
            setattr(job, name, value)
        job.api_calls = self.tally.before.get("api_calls", 0) + self.fetcher.api_calls
        job.errors = list(self.tally.errors)

    def _log(self) -> None:
        """Progress every 24 hours of window, as the seed logged it."""
        hours = self.tally.counters()["hours_total"] * self.done // max(self.calls, 1)
        if hours // 24 > self.logged_hours // 24 or self.done == self.calls:
            self.logged_hours = hours
            log.info(
                "backfill progress",
                extra={
                    "job": self.job_id,
                    "calls_done": self.done,
                    "calls": self.calls,
                    **self.tally.counters(),
                },
            )

    def close(self) -> JobState:
        if self.stopped is JobState.RUNNING:
            return JobState.RUNNING
        state = self.stopped or (JobState.FAILED if self.tally.errors else JobState.SUCCEEDED)
        with transaction(self.ctx.sessions) as session:
            job = session.get(JobRow, self.job_id)
            assert job is not None
            if job.lease_owner != self.owner:  # taken over since the last call: not ours to end
                return JobState.RUNNING
            self._save(session)
            queue.finish(session, job, state, self.ctx.clock())
        log.info(
            "backfill finished",
            extra={"job": self.job_id, "state": state.value, **self.tally.counters()},
        )
        return state
