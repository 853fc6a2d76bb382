"""The one fetch path: planned calls go through the CloudWatch source and into the sample store.

Live collection, single backfill and fleet backfill all end here; only the plan differs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from dbsnooze.collect.hours import missing
from dbsnooze.collect.plan import DataCall, SeriesRequest, StatisticsCall
from dbsnooze.collect.throttle import Buckets
from dbsnooze.context import Context
from dbsnooze.domain import CloudAccount, HourlyStat, HourRange, ProviderError, Source, Target
from dbsnooze.providers.aws.cloudwatch import CloudWatchSource
from dbsnooze.store import samples
from dbsnooze.store.db import transaction

log = logging.getLogger(__name__)
Call = StatisticsCall | DataCall


@dataclass(frozen=True, slots=True)
class CallResult:
    """What one planned call asked for and what came back (or why nothing did)."""

    asked: tuple[tuple[int, str, datetime], ...]
    stored: tuple[HourlyStat, ...]
    error: str | None = None


@dataclass
class Fetcher:
    """Runs planned calls for one unit of work, counting the cloud requests it makes."""

    ctx: Context
    buckets: Buckets
    accounts: dict[int, CloudAccount]
    _sources: dict[tuple[int, str], CloudWatchSource] = field(default_factory=dict)

    @property
    def api_calls(self) -> int:
        return sum(source.api_calls for source in self._sources.values())

    def run(
        self,
        calls: Iterable[Call],
        source: Source,
        record_empty: bool,
        after_each: Callable[[CallResult], bool] | None = None,
    ) -> list[CallResult]:
        """Fetch and store each call in turn; `after_each` returning False stops early."""
        results: list[CallResult] = []
        for call in calls:
            result = self._one(call, source, record_empty)
            results.append(result)
            if after_each is not None and not after_each(result):
                break
        return results

    def _one(self, call: Call, source: Source, record_empty: bool) -> CallResult:
        asked = tuple(_asked(call))
        try:
            stats = self._fetch(call)
        except ProviderError as exc:
            log.warning("cloud call failed", extra={"call": describe(call), "error": exc.message})
            return CallResult(asked, (), f"{describe(call)}: {exc.message}")
        wanted = set(asked)
        stats = [s for s in stats if (s.instance_id, s.metric, s.hour) in wanted]
        now = self.ctx.clock()
        with transaction(self.ctx.sessions) as session:
            samples.upsert(session, stats, source, now)
            if record_empty:
                have = {(s.instance_id, s.metric, s.hour) for s in stats}
                samples.mark_empty(session, [key for key in asked if key not in have], now)
        return CallResult(asked, tuple(stats))

    def _fetch(self, call: Call) -> list[HourlyStat]:
        if isinstance(call, StatisticsCall):
            target = call.target
            return self._source(target.account_id, target.region).statistics(call)
        return self._source(call.account_id, call.region).data(call)

    def _source(self, account_id: int, region: str) -> CloudWatchSource:
        key = (account_id, region)
        if key not in self._sources:
            client = self.ctx.clients.client(self.accounts[account_id], region, "cloudwatch")
            self._sources[key] = CloudWatchSource(client, self.buckets.get(account_id, region))
        return self._sources[key]


def _asked(call: Call) -> Iterable[tuple[int, str, datetime]]:
    if isinstance(call, StatisticsCall):
        return ((call.target.instance_id, call.metric, hour) for hour in call.span)
    pairs = {(q.target.instance_id, q.metric) for q in call.queries}
    return ((iid, metric, hour) for iid, metric in sorted(pairs) for hour in call.span)


def describe(call: Call) -> str:
    span = f"{call.span.start:%Y-%m-%dT%H:%M}Z..{call.span.end:%Y-%m-%dT%H:%M}Z"
    if isinstance(call, StatisticsCall):
        return f"GetMetricStatistics {call.target.provider_id} {call.metric} {span}"
    return f"GetMetricData {len(call.queries)} queries {call.region} {span}"


def gap_requests(
    targets: Sequence[Target],
    metrics: Sequence[str],
    window: HourRange,
    known: dict[tuple[int, str], set[datetime]],
) -> list[SeriesRequest]:
    """One request per contiguous run of hours not yet known, per instance and metric."""
    return [
        SeriesRequest(target, metric, run)
        for target in targets
        for metric in metrics
        for run in missing(window, known.get((target.instance_id, metric), set()))
    ]
