"""Quality of the sleep analysis: fleets with known sleep windows, recommended hours vs truth.

Each synthetic instance has a true weekly schedule in its owner's zone (office hours of varied
length and days, weekend work, 24/7 production, always idle, irregular use), a connection pool
(0 to 20 connections held open all the time), noise, one-off night jobs, a public holiday, the
odd missing hour, and weeks that cross a DST change (March 2024 in New York and Berlin). Four
weeks are analysed; the recommendation is then judged on the fifth week, which it never saw:

- precision: of the hours it would sleep, the share that were really idle;
- recall: of the hours the true schedule leaves idle (in windows of at least the minimum length),
  the share it would sleep (always-idle instances: every hour);
- interrupted: active hours inside a recommended window (one-off jobs land here).

Timing: the pure analysis (classify, weekly pattern, windows, backtest, verdict) of 1,000
instances over their four-week window (the store read is not included).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.harness import Report
from dbsnooze.analysis.backtest import shares_inside
from dbsnooze.analysis.idle import Activity
from dbsnooze.analysis.recommend import Analysis, AnalysisSettings, Kind, analyse
from dbsnooze.analysis.zones import OwnerZone, local_minutes
from dbsnooze.domain import HOUR, HourRange

INSTANCES = 1000
WEEK = 168
TRAIN_WEEKS = 4
# Monday 00:00 UTC; the training weeks cross both March 2024 clock changes.
EVAL_START = datetime(2024, 4, 8, tzinfo=UTC)
ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata")
PRECISION_TARGET, RECALL_TARGET, SECONDS_TARGET = 0.98, 0.9, 5.0


@dataclass(frozen=True)
class Truth:
    kind: str  # office | weekend | staging | production | idle | irregular
    zone: str
    days: frozenset[int]  # local weekdays with working hours
    start: int  # local hour work starts
    end: int  # local hour work ends
    pool: int
    holidays: frozenset[date] = frozenset()
    night_jobs: frozenset[datetime] = frozenset()
    irregular: frozenset[datetime] = frozenset()

    def regular_busy(self, local: datetime) -> bool:
        if self.kind == "production":
            return True
        if self.kind == "idle":
            return False
        return local.weekday() in self.days and self.start <= local.hour < self.end

    def busy(self, hour: datetime) -> bool:
        if hour in self.night_jobs or hour in self.irregular:
            return True
        local = hour.astimezone(ZoneInfo(self.zone))
        if local.date() in self.holidays and self.kind not in ("production", "idle"):
            return False
        return self.regular_busy(local)

    def sleepable(self, hour: datetime) -> bool:
        """In the true schedule's idle time (what a perfect recommendation would sleep)."""
        if self.kind == "irregular":
            return False
        return not self.regular_busy(hour.astimezone(ZoneInfo(self.zone)))


def _truth(rng: random.Random, index: int, start: datetime) -> Truth:
    kind = rng.choices(
        ("office", "weekend", "staging", "production", "idle", "irregular"),
        weights=(35, 10, 20, 20, 10, 5),
    )[0]
    zone = ZONES[index % len(ZONES)]
    days = frozenset(range(6) if kind == "weekend" else range(5))
    begin, end = rng.randint(6, 10), rng.randint(17, 21)
    pool = rng.choice((0, 0, 1, 2, 3, 5, 10, 20)) if kind != "staging" else rng.randint(2, 20)
    hours = [start + i * HOUR for i in range((TRAIN_WEEKS + 1) * WEEK)]
    holiday = (start + timedelta(days=rng.randrange(7 * (TRAIN_WEEKS + 1)))).date()
    jobs = frozenset(rng.sample(hours, 1)) if rng.random() < 0.3 else frozenset()
    odd = frozenset(h for h in hours if rng.random() < 0.3) if kind == "irregular" else frozenset()
    return Truth(kind, zone, days, begin, end, pool, frozenset({holiday}), jobs, odd)


def _measure(truth: Truth, hour: datetime, rng: random.Random) -> tuple[float, float, float]:
    """CPU %, most connections, read + write IOPS of one hour."""
    if truth.busy(hour):
        light = rng.random() < 0.1  # a quiet working hour: a few users, little CPU
        cpu = rng.uniform(1.0, 4.0) if light else rng.uniform(8.0, 70.0)
        users = rng.randint(3, 6) if light else rng.randint(3, 60)
        iops = rng.uniform(5.0, 15.0) if light else rng.uniform(40.0, 900.0)
        return cpu, float(truth.pool + users), iops
    agent = 1 if rng.random() < 0.2 else 0  # a monitoring agent's passing connection
    return rng.uniform(0.3, 3.5), float(truth.pool + agent), rng.uniform(0.1, 8.0)


def activity(truth: Truth, hours: Sequence[datetime], rng: random.Random) -> Activity:
    cpu: list[float | None] = []
    connections: list[float | None] = []
    iops: list[float | None] = []
    for hour in hours:
        if rng.random() < 0.005:  # the cloud had nothing for this hour
            cpu.append(None)
            connections.append(None)
            iops.append(None)
            continue
        a, b, c = _measure(truth, hour, rng)
        cpu.append(a)
        connections.append(b)
        iops.append(c)
    return Activity(cpu, connections, iops, [False] * len(hours))


@dataclass
class Tally:
    slept: float = 0.0  # hours the recommendations would sleep in the evaluation week
    slept_idle: float = 0.0
    sleepable: float = 0.0
    slept_sleepable: float = 0.0
    interrupted: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    backtest_interrupted: int = 0

    def add(self, truth: Truth, found: Analysis, week: Sequence[datetime]) -> None:
        kind = found.verdict.kind
        self.kinds[kind.value] = self.kinds.get(kind.value, 0) + 1
        self.backtest_interrupted += len(found.backtest.interrupted) if kind is Kind.SLEEP else 0
        if kind is Kind.STOP:
            shares = [1.0] * len(week)
        elif kind is Kind.SLEEP:
            shares = shares_inside(found.windows, local_minutes(week[0], len(week), truth.zone))
        else:
            shares = [0.0] * len(week)
        for hour, share in zip(week, shares, strict=True):
            busy, sleepable = truth.busy(hour), truth.sleepable(hour)
            self.slept += share
            self.slept_idle += share * (not busy)
            self.sleepable += sleepable
            self.slept_sleepable += share * sleepable
            self.interrupted += share > 0 and busy

    @property
    def precision(self) -> float:
        return self.slept_idle / self.slept if self.slept else 1.0

    @property
    def recall(self) -> float:
        return self.slept_sleepable / self.sleepable if self.sleepable else 1.0


def run(count: int = INSTANCES, seed: int = 11) -> Report:
    rng = random.Random(seed)
    start = EVAL_START - TRAIN_WEEKS * WEEK * HOUR
    window = HourRange(start, EVAL_START)
    train = list(window)
    week = [EVAL_START + i * HOUR for i in range(WEEK)]
    params = AnalysisSettings(weeks=TRAIN_WEEKS)
    truths = [_truth(rng, i, start) for i in range(count)]
    activities = [activity(t, train, rng) for t in truths]
    began = time.perf_counter()
    analyses = [
        analyse(a, window, {}, OwnerZone(t.zone, "tag"), None, params)
        for t, a in zip(truths, activities, strict=True)
    ]
    seconds = time.perf_counter() - began
    by_kind: dict[str, Tally] = {}
    overall = Tally()
    for truth, found in zip(truths, analyses, strict=True):
        overall.add(truth, found, week)
        by_kind.setdefault(truth.kind, Tally()).add(truth, found, week)
    return _report(count, seconds, overall, by_kind)


def _report(count: int, seconds: float, overall: Tally, by_kind: dict[str, Tally]) -> Report:
    report = Report(
        "sleep",
        f"Sleep analysis: {count:,} synthetic instances, 4 weeks analysed, judged on week 5",
        [
            ("profile", "true profile"),
            ("instances", "instances"),
            ("verdicts", "verdicts"),
            ("slept", "hours slept (week 5)"),
            ("precision", "precision"),
            ("recall", "recall"),
            ("interrupted", "active hours interrupted"),
        ],
    )
    for name, tally in [*sorted(by_kind.items()), ("all", overall)]:
        report.rows.append(
            {
                "profile": name,
                "instances": sum(tally.kinds.values()),
                "verdicts": ", ".join(f"{k} {n}" for k, n in sorted(tally.kinds.items())),
                "slept": f"{tally.slept:,.0f}",
                "precision": f"{tally.precision:.4f}",
                "recall": f"{tally.recall:.4f}" if tally.sleepable else "-",
                "interrupted": tally.interrupted,
            }
        )
    report.target(
        f"precision >= {PRECISION_TARGET}",
        overall.precision >= PRECISION_TARGET,
        f"{overall.precision:.4f}",
    )
    report.target(
        f"recall >= {RECALL_TARGET}", overall.recall >= RECALL_TARGET, f"{overall.recall:.4f}"
    )
    report.target(
        f"analysing {count:,} instances x 4 weeks < {SECONDS_TARGET:.0f} s",
        seconds < SECONDS_TARGET,
        f"{seconds:.2f} s",
    )
    report.notes.append(
        "recall's ceiling is below 1: every window wakes 20 min before work, and a cell idle in "
        "fewer than 90 % of the weeks (a DST week, an agent's connection) is left awake"
    )
    report.notes.append(
        "interrupted hours are week 5's one-off night jobs and the irregular instances' random "
        "busy hours: no history could have foreseen them"
    )
    report.extra.update(
        precision=overall.precision,
        recall=overall.recall,
        interrupted=overall.interrupted,
        analysis_seconds=seconds,
    )
    return report
