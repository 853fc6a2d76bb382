"""Backfill: the final hours of a window, from the cloud's metric archive (CloudWatch, Cloud
Monitoring), in as few calls as its provider's planner can make."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dbsnooze.collect.hours import HOURS_PER_DAY, backfill_window
from dbsnooze.collect.plan import Estimate, SeriesRequest
from dbsnooze.collect.runner import CallResult, Fetcher, Hours, gap_requests, settle_silent
from dbsnooze.collect.throttle import Buckets
from dbsnooze.config import HARD_MAX_BACKFILL_DAYS
from dbsnooze.context import Context
from dbsnooze.domain import HOUR, HourRange, Provider, ProviderError, Source, Target, floor_hour
from dbsnooze.errors import Conflict, Unprocessable
from dbsnooze.jobs import queue
from dbsnooze.jobs.queue import BACKFILL, FLEET, JobState
from dbsnooze.jobs.tally import Tally
from dbsnooze.jobs.targets import load_accounts, targets_for
from dbsnooze.providers.base import CloudProvider, PlannedCall
from dbsnooze.providers.registry import provider
from dbsnooze.store import events, samples
from dbsnooze.store import instances as instance_store
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow, JobRow

log = logging.getLogger(__name__)
FLEET_ATTEMPTS = 3  # a fleet submission raced by other new jobs is made again, this often


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
    return submit_instances(ctx, [instance_id], days, force, actor)


def submit_instances(
    ctx: Context, instance_ids: Sequence[int], days: int, force: bool, actor: str
) -> JobRow:
    """One job for one instance, or for several of one account and scan unit (e.g. a GCP
    project's new instances, which every Cloud Monitoring request of the job answers for)."""
    how = depth(ctx, days)
    with transaction(ctx.sessions) as session:
        ids = [instance_store.require_history(session, i).id for i in instance_ids]
        job = queue.submit(session, BACKFILL, ids, _fields(how, force, actor), ctx.clock())
        which = {"instance_id": ids[0]} if len(ids) == 1 else {"instance_ids": ids}
        events.record(
            session,
            ctx.clock(),
            actor,
            "backfill.submitted",
            ("job", job.id),
            {**which, "days": how.days, "force": force},
        )
    return job


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
    """One fleet job whose parts (≤ fleet_chunk_size instances of one account and scan unit: an
    AWS region, a GCP project) any worker can claim; instances already being backfilled are
    left to their running job.

    An instance may get a job of its own (discovery's automatic backfill, another fleet) after
    the busy ones were read: its part's insert then fails on the one-active-job index once that
    job is committed, and the fleet is submitted again, leaving it out as it would have."""
    how = depth(ctx, days)
    attempts = FLEET_ATTEMPTS
    while True:
        try:
            return _submit_fleet(ctx, flt, how, force, actor)
        except Conflict:
            attempts -= 1
            if not attempts:
                raise


def _submit_fleet(
    ctx: Context, flt: instance_store.InstanceFilter, how: Depth, force: bool, actor: str
) -> JobRow:
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
    query = instance_store.filtered(flt).where(instance_store.HAS_HISTORY)
    busy = queue.busy_instances(session)
    return [row for row in session.scalars(query.order_by(InstanceRow.id)) if row.id not in busy]


def _chunks(rows: Sequence[InstanceRow], size: int) -> list[list[int]]:
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row in rows:
        groups[(row.account_id, row.scan_unit)].append(row.id)
    return [ids[i : i + size] for ids in groups.values() for i in range(0, len(ids), size)]


def dry_run(
    ctx: Context, flt: instance_store.InstanceFilter, days: int, force: bool
) -> dict[str, Any]:
    """What a fleet backfill would ask the cloud for, and what GetMetricData would cost.

    Planned part by part with the planner the workers use, so the calls and their kind are the
    ones the job will make: a call never spans two parts, and a one-instance AWS part reads free
    GetMetricStatistics; a GCP part's timeSeries.list calls are counted with their requests.
    """
    how = depth(ctx, days)
    window = backfill_window(ctx.clock(), how.days)
    with ctx.sessions() as session:
        rows = _fleet_rows(session, flt)
        chunks = _chunks(rows, ctx.settings.fleet_chunk_size)
        parts = [plan_work(ctx, session, targets_for(session, c), window, force) for c in chunks]
    nothing = Estimate(0, 0, 0, 0, 0.0)
    priced = sum((part.cloud.estimate(part.requests, part.calls) for part in parts), nothing)
    return {
        "instances": len(rows),
        "days": how.days,
        "capped": how.capped,
        "window_start": window.start,
        "window_end": window.end,
        **priced.as_dict(),
    }


@dataclass(frozen=True, slots=True)
class Work:
    """What a backfill of some instances (of one account) asks the cloud for."""

    cloud: CloudProvider
    metrics: tuple[str, ...]  # as this provider stores them
    requests: list[SeriesRequest]
    calls: list[PlannedCall]
    held: dict[int, set[datetime]]  # per instance: hours asked again that hold a sample
    provisional: Hours  # samples stored before their hour was final


def plan_work(
    ctx: Context,
    session: Session,
    targets: Sequence[Target],
    window: HourRange,
    force: bool,
) -> Work:
    """Without force, the hours not stored final and not known empty; with force, every hour of
    the window (a repair: what the cloud answers replaces what is stored)."""
    kind = targets[0].provider if targets else Provider.AWS  # a part is one account's
    cloud = provider(ctx, kind)
    metrics = cloud.metrics(ctx.settings.metrics)
    ids = [target.instance_id for target in targets]
    provisional = samples.provisional_hours(session, window, metrics, ids)
    if force:
        known: Hours = {}
        again = samples.known_hours(session, ids, metrics, window, False, include_provisional=True)
    else:
        known = samples.known_hours(session, ids, metrics, window)
        again = provisional
    requests = gap_requests(targets, metrics, window, known)
    held: dict[int, set[datetime]] = defaultdict(set)
    for (instance_id, _metric), hours in again.items():
        held[instance_id].update(hours)
    calls = list(cloud.plan(requests, single=len(targets) == 1))
    return Work(cloud, metrics, requests, calls, dict(held), provisional)


def execute(ctx: Context, job_id: int, owner: str, buckets: Buckets) -> JobState:
    """Run a claimed backfill job to its end; a resumed job simply finds fewer hours missing."""
    with transaction(ctx.sessions) as session:
        job = session.get(JobRow, job_id)
        assert job is not None
        targets = targets_for(session, queue.target_ids(session, job_id))
        accounts = load_accounts(ctx, session, targets)
        force = bool(job.params.get("force"))
        prior = _prior(job, force)
        window = _window(ctx, job)
    try:
        with ctx.sessions() as session:
            work = plan_work(ctx, session, targets, window, force)
    except ProviderError as exc:  # e.g. an id the provider cannot read: an outcome, no crash
        return _unplanned(ctx, job_id, owner, exc)
    metrics = work.metrics
    log.info(
        "backfill started",
        extra={
            "job": job_id,
            "instances": len(targets),
            "days": job.days,
            "calls": len(work.calls),
        },
    )
    tally = Tally.of(window, targets, len(metrics), work.requests, work.held, prior)
    fetcher = Fetcher(ctx, buckets, accounts)
    progress = _Progress(ctx, job_id, owner, tally, fetcher, len(work.calls))
    results = fetcher.run(work.calls, Source.BACKFILL, record_empty=True, after_each=progress.step)
    settle_silent(ctx, results, work.provisional)
    if progress.stopped is None:
        _record_asleep(ctx, targets, tally, metrics)
    return progress.close()


def _unplanned(ctx: Context, job_id: int, owner: str, error: ProviderError) -> JobState:
    with transaction(ctx.sessions) as session:
        job = session.get(JobRow, job_id)
        assert job is not None
        if job.lease_owner != owner:  # taken over meanwhile: not ours to end
            return JobState.RUNNING
        job.errors = [*job.errors, {"error": error.message}]
        queue.finish(session, job, JobState.FAILED, ctx.clock())
    log.warning("backfill could not be planned", extra={"job": job_id, "error": error.message})
    return JobState.FAILED


def _prior(job: JobRow, force: bool) -> dict[str, int]:
    """What an interrupted run of this job already counted. A forced repair fetches its whole
    window again when it resumes, so only its calls carry over."""
    calls = {"api_calls": job.api_calls}
    if force:
        return calls
    done = {name: getattr(job, name) for name in ("hours_backfilled", "hours_empty")}
    return {**calls, **done, "hours_refetched": job.hours_refetched}


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
        job.progress = self.tally.progress()
        job.api_calls = self.tally.before.get("api_calls", 0) + self.fetcher.api_calls
        job.errors = list(self.tally.errors)

    def _log(self) -> None:
        """Progress after every call, as it is saved."""
        log.info(
            "backfill progress",
            extra={
                "job": self.job_id,
                "calls_done": self.done,
                "calls": self.calls,
                "progress": round(self.tally.progress(), 4),
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
