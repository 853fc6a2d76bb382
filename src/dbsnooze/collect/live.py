"""Live collection: the current and not-yet-final hours of every instance, replaced each tick,
and every provisional hour a stopped collector left behind."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dbsnooze.collect.hours import catch_up_window, live_window
from dbsnooze.collect.plan import SeriesRequest
from dbsnooze.collect.runner import Fetcher, Hours, again_requests, plan_calls, settle_silent
from dbsnooze.collect.throttle import Buckets
from dbsnooze.context import Context
from dbsnooze.domain import HourRange, Provider, Source, Target
from dbsnooze.jobs.targets import live_targets, load_accounts, targets_for
from dbsnooze.providers.registry import provider
from dbsnooze.store import samples
from dbsnooze.store.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveReport:
    instances: int
    asleep: int
    api_calls: int
    samples: int
    caught_up: int  # provisional metric-hours fetched again now that they are final
    window_start: datetime
    window_end: datetime
    errors: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect(
    ctx: Context, buckets: Buckets, instance_ids: Sequence[int] | None = None
) -> LiveReport:
    now = ctx.clock()
    # the current hour and every hour that became final since the previous tick
    span = live_window(now, timedelta(seconds=ctx.settings.collect_interval_seconds))
    with ctx.sessions() as session:
        targets = (
            live_targets(session) if instance_ids is None else targets_for(session, instance_ids)
        )
        accounts = load_accounts(ctx, session, targets)
        metrics = _metrics(ctx, targets)
        late = _provisional(ctx, session, span, metrics)
    running = [t for t in targets if t.running]
    # hours left provisional by a tick that never came (the service was down) are final now:
    # stopped instances too, since the hour they stopped in holds what they measured until then
    again = again_requests(targets, late)
    requests = [SeriesRequest(t, m, span) for t in running for m in metrics[t.provider]]
    fetcher = Fetcher(ctx, buckets, accounts)
    calls = plan_calls(ctx, [*requests, *again], single=False)
    results = fetcher.run(calls, Source.LIVE, record_empty=False)
    settle_silent(ctx, results, late)
    asleep = [t for t in targets if not t.running]
    _record_asleep(ctx, asleep, span, now, metrics)
    report = LiveReport(
        instances=len(running),
        asleep=len(asleep),
        api_calls=fetcher.api_calls,
        samples=sum(len(r.stored) for r in results),
        caught_up=sum(request.span.hours for request in again),
        window_start=span.start,
        window_end=span.end,
        errors=tuple(r.error for r in results if r.error),
    )
    log.info("live collection finished", extra=report.as_dict())
    return report


def _metrics(ctx: Context, targets: Sequence[Target]) -> dict[Provider, tuple[str, ...]]:
    """The metric keys each provider among the targets stores (GCP: memory used %)."""
    kinds = {target.provider for target in targets} or {Provider.AWS}
    return {kind: provider(ctx, kind).metrics(ctx.settings.metrics) for kind in kinds}


def _provisional(
    ctx: Context, session: Session, span: HourRange, metrics: dict[Provider, tuple[str, ...]]
) -> Hours:
    window = catch_up_window(span, ctx.settings.backfill_max_days)
    every = tuple(dict.fromkeys(m for keys in metrics.values() for m in keys))
    return samples.provisional_hours(session, window, every)


def _record_asleep(
    ctx: Context,
    targets: Sequence[Target],
    span: HourRange,
    now: datetime,
    metrics: dict[Provider, tuple[str, ...]],
) -> None:
    hours = [hour for hour in span if hour <= now]
    if not targets or not hours:
        return
    with transaction(ctx.sessions) as session:
        for target in targets:
            samples.mark_asleep(session, target.instance_id, metrics[target.provider], hours, now)
