"""The daily recompute: what is stale, one worker at a time, and a finished backfill's instance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dbsnooze.analysis import runner
from dbsnooze.context import Context
from dbsnooze.demo.fleet import FLEET
from dbsnooze.jobs import backfill, queue
from dbsnooze.store import leases
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import JobRow, RecommendationRow
from fleethelp import seed_store
from racehelp import overlapping

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_only_stale_recommendations_are_recomputed_under_the_lease(ctx: Context) -> None:
    clock = Clock()
    ctx.clock = clock
    ids = seed_store(ctx, NOW)
    first = runner.refresh_stale(ctx, "worker-a")
    assert first is not None and first.computed == 15
    clock.now += timedelta(minutes=5)
    again = runner.refresh_stale(ctx, "worker-a")
    assert again is not None and again.computed == 0  # the lease was released, nothing stale

    job = backfill.submit_instance(ctx, ids["wiki-old"], 1, False, "test")
    clock.now += timedelta(minutes=5)
    with transaction(ctx.sessions) as session:
        row = session.get(JobRow, job.id)
        assert row is not None
        queue.finish(session, row, queue.JobState.SUCCEEDED, clock.now)
    after_backfill = runner.refresh_stale(ctx, "worker-a")
    assert after_backfill is not None and after_backfill.computed == 1

    with transaction(ctx.sessions) as session:  # another worker is recomputing
        assert leases.acquire(
            session,
            runner.RECOMMEND_LEASE,
            "worker-b",
            clock.now,
            clock.now + timedelta(minutes=10),
        )
    assert runner.refresh_stale(ctx, "worker-a") is None

    clock.now += timedelta(hours=25)  # a day later, and worker-b's hold has expired
    daily = runner.refresh_stale(ctx, "worker-a")
    assert daily is not None and daily.computed == 15


def test_two_recomputes_of_a_new_instance_at_once_store_one_recommendation(ctx: Context) -> None:
    """The periodic run and a refresh asked through the API analyse a new instance at once: the
    second waits for the first's chunk, then updates the recommendation it stored (on SQLite
    the wait is for the write lock, taken once the second's analysis is done)."""
    dev = next(i for i in FLEET if i.identifier == "dev-alice-pg")
    instance_id = seed_store(ctx, NOW, fleet=(dev,))[dev.identifier]
    ctx.clock = lambda: NOW

    def periodic(session: Session) -> None:
        runner._recompute_chunk(ctx, session, [instance_id], runner.RecomputeReport())

    found = overlapping(ctx, periodic, lambda: runner.recompute(ctx, [instance_id]))

    assert found.computed == 1
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RecommendationRow)) == 1
