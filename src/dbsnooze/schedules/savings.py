"""Savings realized (SPEC §11): the hours databases actually slept because a schedule stopped
them, and what those hours would have cost, beside what the recommendation predicted.

A span starts when a schedule's stop was done and ends at the instance's next done start (or
now). Only schedules' stops count: a person's "sleep now" is theirs, not the schedule's. The
price is the instance's on-demand price per hour (an Aurora cluster: the sum of its members').
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.analysis.runner import prices_of
from dbsnooze.store import actions
from dbsnooze.store.tables import InstanceRow, RecommendationRow

HOUR_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Realized:
    instance_id: int
    instance: str  # its name in the cloud
    hours: float  # asleep because of a schedule within the period
    usd: float | None  # None: no price known for the instance
    usd_per_hour: float | None
    predicted_hours_month: float | None  # from the instance's sleep recommendation, if any
    predicted_usd_month: float | None


@dataclass(frozen=True, slots=True)
class Savings:
    start: datetime
    end: datetime
    instances: tuple[Realized, ...]

    @property
    def hours(self) -> float:
        return round(sum(r.hours for r in self.instances), 2)

    @property
    def usd(self) -> float:
        """Priced hours only; `unpriced_hours` says what is left out."""
        return round(sum(r.usd for r in self.instances if r.usd is not None), 2)

    @property
    def unpriced_hours(self) -> float:
        return round(sum(r.hours for r in self.instances if r.usd is None), 2)

    @property
    def predicted_usd_month(self) -> float:
        return round(sum(r.predicted_usd_month or 0.0 for r in self.instances), 2)


def asleep_hours(
    spans: Iterable[actions.AsleepSpan], start: datetime, end: datetime
) -> dict[int, float]:
    """Hours each instance slept because of a schedule within [start, end)."""
    hours: dict[int, float] = defaultdict(float)
    for span in spans:
        if span.schedule_id is None:
            continue
        begin, finish = max(span.start, start), min(span.end or end, end)
        if finish > begin:
            hours[span.instance_id] += (finish - begin).total_seconds() / HOUR_SECONDS
    return dict(hours)


def hourly_prices(session: Session, rows: Sequence[InstanceRow]) -> dict[int, float]:
    """USD per hour of each instance; a cluster costs what its member instances cost."""
    members = _members(session, [row for row in rows if row.unit == "cluster"])
    priced = prices_of(session, [*rows, *(m for group in members.values() for m in group)])
    found = {row.id: priced[row.id].usd_per_hour for row in rows if row.id in priced}
    for cluster_id, group in members.items():
        if group and all(m.id in priced for m in group):
            found[cluster_id] = sum(priced[m.id].usd_per_hour for m in group)
    return found


def realized(session: Session, now: datetime, days: int) -> Savings:
    """What schedules saved over the last `days` days, per instance that slept."""
    start = now - timedelta(days=days)
    slept = asleep_hours(actions.asleep_spans(session, since=start), start, now)
    rows = list(session.scalars(select(InstanceRow).where(InstanceRow.id.in_(list(slept)))))
    prices = hourly_prices(session, rows)
    predicted = _predictions(session, list(slept))
    items = tuple(
        _realized(row, slept[row.id], prices.get(row.id), predicted.get(row.id))
        for row in sorted(rows, key=lambda r: -slept[r.id])
    )
    return Savings(start, now, items)


def _realized(
    row: InstanceRow,
    hours: float,
    usd_per_hour: float | None,
    predicted: RecommendationRow | None,
) -> Realized:
    return Realized(
        instance_id=row.id,
        instance=row.provider_id,
        hours=round(hours, 2),
        usd=None if usd_per_hour is None else round(hours * usd_per_hour, 2),
        usd_per_hour=usd_per_hour,
        predicted_hours_month=predicted.saving_hours_month if predicted else None,
        predicted_usd_month=predicted.saving_usd_month if predicted else None,
    )


def _members(session: Session, clusters: Sequence[InstanceRow]) -> dict[int, list[InstanceRow]]:
    if not clusters:
        return {}
    by_name = {(c.account_id, c.region, c.provider_id): c.id for c in clusters}
    query = select(InstanceRow).where(
        InstanceRow.cluster_id.in_([c.provider_id for c in clusters]),
        InstanceRow.unit == "instance",
        InstanceRow.deleted_at.is_(None),
    )
    found: dict[int, list[InstanceRow]] = {c.id: [] for c in clusters}
    for member in session.scalars(query):
        owner = by_name.get((member.account_id, member.region, member.cluster_id or ""))
        if owner is not None:
            found[owner].append(member)
    return found


def _predictions(session: Session, ids: Sequence[int]) -> Mapping[int, RecommendationRow]:
    if not ids:
        return {}
    query = select(RecommendationRow).where(RecommendationRow.instance_id.in_(list(ids)))
    return {row.instance_id: row for row in session.scalars(query)}
