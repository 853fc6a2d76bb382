"""The one fetch path: planned calls go through their provider's source into the sample store.

Live collection, single backfill and fleet backfill all end here; only the plan differs. Which
cloud answers is the provider seam's business (providers/registry.py): calls name their scope
(account and region or project), and each scope gets one source and one token bucket.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from dbsnooze.collect.hours import missing, runs
from dbsnooze.collect.plan import SeriesRequest
from dbsnooze.collect.throttle import Buckets
from dbsnooze.context import Context
from dbsnooze.domain import CloudAccount, HourlyStat, HourRange, ProviderError, Source, Target
from dbsnooze.providers.base import HourlySource, PlannedCall, Scope
from dbsnooze.providers.registry import provider
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

    call: PlannedCall
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
    _sources: dict[Scope, HourlySource] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_calls(self) -> int:
        with self._lock:
            return sum(source.api_calls for source in self._sources.values())

    def run(
        self,
        calls: Iterable[PlannedCall],
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

    def _answer(self, call: PlannedCall) -> _Answer:
        asked = tuple(call.asked())
        try:
            stats = self._source(call.scope).fetch(call)
        except ProviderError as exc:
            what = call.describe()
            log.warning("cloud call failed", extra={"call": what, "error": exc.message})
            return _Answer(call, asked, [], [], f"{what}: {exc.message}")
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

    def _source(self, scope: Scope) -> HourlySource:
        """One source per scope, throttled by that scope's bucket. A source that cannot be
        built (e.g. an endpoint outside the allow-list) fails its calls, not the run."""
        with self._lock:
            if scope not in self._sources:
                account_id, unit = scope
                account = self.accounts[account_id]
                cloud = provider(self.ctx, account.provider)
                bucket = self.buckets.get(account_id, unit)
                self._sources[scope] = cloud.source(account, unit, bucket)
            return self._sources[scope]


def plan_calls(ctx: Context, requests: Sequence[SeriesRequest], single: bool) -> list[PlannedCall]:
    """Each provider plans its own instances' requests, within its own API's limits."""
    by_kind: dict[str, list[SeriesRequest]] = {}
    for request in requests:
        by_kind.setdefault(request.target.provider, []).append(request)
    return [
        call
        for kind, mine in sorted(by_kind.items())
        for call in provider(ctx, kind).plan(mine, single)
    ]


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
