"""Recomputing recommendations: on demand, and daily under a store lease (one worker at a time).

An instance is recomputed when it has no recommendation, when its recommendation is older
than `recommend_interval_hours`, or when a backfill of it finished after it was computed; the
worker wakes this task when a job ends, so a new instance's recommendation follows its backfill.
Each run also stores the idle thresholds it resolved per instance (store.thresholds), and
rebuilds the summaries of the instances whose thresholds changed, so that the fleet page
classifies hours as the analysis does.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.analysis import report, service
from dbsnooze.analysis.eligibility import why_not_stoppable
from dbsnooze.context import Context
from dbsnooze.prices.table import Price, PriceKey, deployment_of
from dbsnooze.scheduler import Periodic
from dbsnooze.store import leases, locks, prices, recommendations, summaries, thresholds
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow

log = logging.getLogger(__name__)
RECOMMEND_LEASE = "recommendations"
# held while a run lasts (and released at its end): long enough for a fleet of thousands
RUN_LEASE = timedelta(minutes=15)
CHUNK = 200  # instances analysed per transaction


@dataclass(slots=True)
class RecomputeReport:
    computed: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


def price_key(row: InstanceRow) -> PriceKey:
    return PriceKey(row.instance_class, row.engine, row.region, deployment_of(bool(row.multi_az)))


def prices_of(session: Session, rows: Sequence[InstanceRow]) -> dict[int, Price]:
    found = prices.lookup(session, {price_key(row) for row in rows})
    return {row.id: found[price_key(row)] for row in rows if price_key(row) in found}


def recompute(ctx: Context, instance_ids: Sequence[int] | None = None) -> RecomputeReport:
    """Analyse these instances (all that exist when None) and store their recommendations."""
    with transaction(ctx.sessions) as session:
        query = select(InstanceRow.id).where(InstanceRow.deleted_at.is_(None))
        if instance_ids is not None:
            query = query.where(InstanceRow.id.in_(list(instance_ids)))
        ids = list(session.scalars(query.order_by(InstanceRow.id)))
    result = RecomputeReport()
    for start in range(0, len(ids), CHUNK):
        with transaction(ctx.sessions) as session:
            _recompute_chunk(ctx, session, ids[start : start + CHUNK], result)
    return result


def _recompute_chunk(
    ctx: Context, session: Session, ids: Sequence[int], result: RecomputeReport
) -> None:
    now = ctx.clock()
    rows = list(session.scalars(select(InstanceRow).where(InstanceRow.id.in_(ids))))
    analyses = service.analyse_rows(session, rows, ctx.settings, now)
    found_prices = prices_of(session, rows)
    # A refresh asked through the API or the CLI runs outside the lease, maybe beside the
    # periodic run: both would find an instance without a recommendation (or thresholds) and
    # insert it, and the second fail. Chunks take turns writing, reading what the previous
    # committed; the analysis (reads only) comes first, out of turn: on SQLite the turn is
    # the database's write lock, which every other writer would wait for meanwhile.
    locks.hold(session, locks.RECOMMENDATIONS)
    for row in rows:
        analysis = analyses[row.id]
        cannot_stop = why_not_stoppable(service.stop_facts(row))
        values = report.record_values(analysis, found_prices.get(row.id), cannot_stop)
        recommendations.save(session, row.id, {**values, "computed_at": now})
        result.computed += 1
        result.kinds[analysis.verdict.kind.value] += 1
    iops = service.uses_iops(ctx.settings.metrics)
    rules = {i: thresholds.InstanceRule(a.thresholds, iops) for i, a in analyses.items()}
    conn = session.connection()
    summaries.rebuild(conn, thresholds.save(conn, rules))


def refresh_stale(ctx: Context, owner: str) -> RecomputeReport | None:
    """Recompute what is stale, by whichever worker holds the lease; None when another does."""
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        if not leases.acquire(session, RECOMMEND_LEASE, owner, now, now + RUN_LEASE):
            return None
        due = now - timedelta(hours=ctx.settings.recommend_interval_hours)
        stale = recommendations.stale_instances(session, due)
    try:
        found = recompute(ctx, stale) if stale else RecomputeReport()
    finally:
        with transaction(ctx.sessions) as session:
            leases.release(session, RECOMMEND_LEASE, owner, ctx.clock())
    if found.computed:
        log.info("recommendations recomputed", extra={"instances": found.computed})
    return found


def recommender(ctx: Context, owner: str) -> Periodic:
    """The periodic recompute; a finished backfill wakes it through `ctx.wake_analysis`."""
    task = Periodic(
        "recommendations", ctx.settings.recommend_check_seconds, lambda: refresh_stale(ctx, owner)
    )
    ctx.wake_analysis = task.trigger
    return task
