"""The one fetch path: planned calls go through the CloudWatch source and into the sample store.

Live collection, single backfill and fleet backfill all end here; only the plan differs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from dbsnooze.collect.hours import missing, runs
from dbsnooze.collect.plan import Call, SeriesRequest, StatisticsCall
from dbsnooze.collect.throttle import Buckets
from dbsnooze.context import Context
from dbsnooze.domain import CloudAccount, HourlyStat, HourRange, ProviderError, Source, Target
from dbsnooze.providers.aws.cloudwatch import CloudWatchSource
from dbsnooze.store import samples
from dbsnooze.store.db import transaction

log = logging.getLogger(__name__)
Hours = Mapping[tuple[int, str], set[datetime]]  # per (instance, metric)


@dataclass(frozen=True, slots=True)
class CallResult:
    """What one planned call asked for and what came back (or why nothing did)."""

    asked: tuple[tuple[int, str, datetime], ...]
    stored: tuple[HourlyStat, ...]
    error: str | None = None

    def silent(self, among: Hours) -> list[tuple[int, str, datetime]]:
        """The keys of `among` this call asked for and the cloud answered with nothing."""
        if self.error:
            return []
        wanted = [key for key in self.asked if key[2] in among.get((key[0], key[1]), ())]
        have = {(s.instance_id, s.metric, s.hour) for s in self.stored} if wanted else set()
        return [key for key in wanted if key not in have]


@dataclass(frozen=True, slots=True)
class _Answer:
    """A call fetched and checked, not yet stored."""

    call: Call
    asked: tuple[tuple[int, str, datetime], ...]
    stats: list[HourlyStat]
    silent: list[tuple[int, str, datetime]]  # asked, and the cloud had nothing
    error: str | None = None


@dataclass
class Fetcher:
    """Runs planned calls for one unit of work, counting the cloud requests it makes."""

    ctx: Context
    buckets: Buckets
    accounts: dict[int, CloudAccount]
    _sources: dict[tuple[int, str], CloudWatchSource] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_calls(self) -> int:
        with self._lock:
            return sum(source.api_calls for source in self._sources.values())

    def run(
        self,
        calls: Iterable[Call],
        source: Source,
        record_empty: bool,
        after_each: Callable[[CallResult], bool] | None = None,
    ) -> list[CallResult]:
        """Fetch and store each call in turn; `after_each` returning False stops early.

        The next call is fetched on a helper thread while this one is written: parsing a large
        answer and the store's work on the previous one are a fleet's two biggest costs, and they
        overlap. Stopping early may leave that one prefetched answer unused.
        """
        pending = list(calls)
        results: list[CallResult] = []
        if not pending:
            return results
        with ThreadPoolExecutor(1, thread_name_prefix="dbsnooze-fetch") as helper:
            ahead = helper.submit(self._answer, pending[0])
            for following in [*pending[1:], None]:
                answer = ahead.result()
                if following is not None:
                    ahead = helper.submit(self._answer, following)
                result = self._store(answer, source, record_empty)
                results.append(result)
                if after_each is not None and not after_each(result):
                    ahead.cancel()
                    break
        return results

    def _answer(self, call: Call) -> _Answer:
        asked = tuple(_asked(call))
        try:
            stats = self._fetch(call)
        except ProviderError as exc:
            log.warning("cloud call failed", extra={"call": describe(call), "error": exc.message})
            return _Answer(call, asked, [], [], f"{describe(call)}: {exc.message}")
        wanted = set(asked)
        keys = [(s.instance_id, s.metric, s.hour) for s in stats]
        stats = [stat for stat, key in zip(stats, keys, strict=True) if key in wanted]
        have = set(keys)
        return _Answer(call, asked, stats, [key for key in asked if key not in have])

    def _store(self, answer: _Answer, source: Source, record_empty: bool) -> CallResult:
        if answer.error is not None:
            return CallResult(answer.asked, (), answer.error)
        now = self.ctx.clock()
        with transaction(self.ctx.sessions) as session:
            samples.upsert(session, answer.stats, source, now)
            if record_empty:
                samples.mark_empty(session, answer.silent, now)
        return CallResult(answer.asked, tuple(answer.stats))

    def _fetch(self, call: Call) -> list[HourlyStat]:
        if isinstance(call, StatisticsCall):
            target = call.target
            return self._source(target.account_id, target.region).statistics(call)
        return self._source(call.account_id, call.region).data(call)

    def _source(self, account_id: int, region: str) -> CloudWatchSource:
        key = (account_id, region)
        with self._lock:
            if key not in self._sources:
                client = self.ctx.clients.client(self.accounts[account_id], region, "cloudwatch")
                self._sources[key] = CloudWatchSource(client, self.buckets.get(account_id, region))
            return self._sources[key]


def _asked(call: Call) -> Iterable[tuple[int, str, datetime]]:
    if isinstance(call, StatisticsCall):
        return ((call.target.instance_id, call.metric, hour) for hour in call.span)
    pairs = {(q.target.instance_id, q.metric) for q in call.queries}
    hours = tuple(call.span)
    return ((iid, metric, hour) for iid, metric in sorted(pairs) for hour in hours)


def describe(call: Call) -> str:
    span = f"{call.span.start:%Y-%m-%dT%H:%M}Z..{call.span.end:%Y-%m-%dT%H:%M}Z"
    if isinstance(call, StatisticsCall):
        return f"GetMetricStatistics {call.target.provider_id} {call.metric} {span}"
    return f"GetMetricData {len(call.queries)} queries {call.region} {span}"


def gap_requests(
    targets: Sequence[Target],
    metrics: Sequence[str],
    window: HourRange,
    known: Hours,
) -> list[SeriesRequest]:
    """One request per contiguous run of hours not yet known, per instance and metric."""
    return [
        SeriesRequest(target, metric, run)
        for target in targets
        for metric in metrics
        for run in missing(window, known.get((target.instance_id, metric), set()))
    ]


def again_requests(targets: Sequence[Target], hours: Hours) -> list[SeriesRequest]:
    """One request per contiguous run of these hours (e.g. provisional ones), for these targets."""
    by_id = {target.instance_id: target for target in targets}
    return [
        SeriesRequest(by_id[instance_id], metric, run)
        for (instance_id, metric), found in sorted(hours.items())
        if instance_id in by_id
        for run in runs(found)
    ]


def settle_silent(ctx: Context, results: Iterable[CallResult], provisional: Hours) -> int:
    """Provisional hours the cloud had nothing for once they were final keep what was stored,
    now final: asking again could not change them, and every tick would."""
    keys = [key for result in results for key in result.silent(provisional)]
    if not keys:
        return 0
    with transaction(ctx.sessions) as session:
        return samples.settle(session, keys, ctx.clock())
