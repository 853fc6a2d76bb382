"""The edge between the store and the pure analysis: stored hours in, analyses out.

Everything that reads an instance's activity goes through here, so the heatmap, the fleet
page, the recommendations and the stop guard apply one rule with one learned floor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.analysis.backtest import shares_inside
from dbsnooze.analysis.eligibility import StopFacts, why_not_stoppable
from dbsnooze.analysis.idle import Activity, Classified, IdleRule, Thresholds, classify
from dbsnooze.analysis.recommend import Analysis, AnalysisSettings, Kind, analyse
from dbsnooze.analysis.zones import OwnerZone, local_minutes, owner_zone
from dbsnooze.config import Settings
from dbsnooze.domain import HOUR, HourRange, Source, Unit, last_final_boundary
from dbsnooze.store import samples
from dbsnooze.store.tables import AccountRow, InstanceRow

IOPS_METRICS = ("read_iops", "write_iops")


def analysis_settings(settings: Settings) -> AnalysisSettings:
    return AnalysisSettings(
        weeks=settings.analysis_weeks,
        confidence=settings.sleep_confidence,
        min_window_hours=settings.sleep_min_hours,
        wake_lead_minutes=settings.wake_lead_minutes,
        always_idle_share=settings.always_idle_share,
        always_idle_days=settings.always_idle_days,
        max_interrupted_hours=settings.max_interrupted_hours,
        recent_days=settings.backtest_recent_days,
        rule=IdleRule(
            cpu_percent=settings.idle_cpu_percent,
            iops=settings.idle_iops,
            floor_percentile=settings.idle_floor_percentile,
            connections_margin=settings.idle_connections_margin,
        ),
    )


def analysis_window(now: datetime, weeks: int) -> HourRange:
    """The last `weeks` whole weeks of final hours."""
    end = last_final_boundary(now)
    return HourRange(end - weeks * 168 * HOUR, end)


def activities(
    db: Session, instance_ids: Sequence[int], window: HourRange, metrics: Sequence[str]
) -> dict[int, Activity]:
    """What the idle rule reads, per instance, for every hour of the window."""
    wanted = [m for m in ("cpu", "connections", *IOPS_METRICS) if m in metrics]
    found = samples.series_many(db, instance_ids, wanted, window)
    iops = uses_iops(metrics)
    return {i: _activity(columns, window.hours, iops) for i, columns in found.items()}


def uses_iops(metrics: Sequence[str]) -> bool:
    """Whether the rule reads IOPS: only when both are collected."""
    return all(m in metrics for m in IOPS_METRICS)


def _activity(columns: dict[str, samples.Series], hours: int, uses_iops: bool) -> Activity:
    nothing: list[float | None] = [None] * hours
    cpu = columns["cpu"].average if "cpu" in columns else nothing
    connections = columns["connections"].maximum if "connections" in columns else nothing
    iops = _sum(columns["read_iops"].average, columns["write_iops"].average) if uses_iops else []
    sources = [column.source for column in columns.values()]
    asleep = [Source.ASLEEP in hour for hour in zip(*sources, strict=True)] if sources else []
    return Activity(
        cpu, connections, iops or nothing, asleep or [False] * hours, uses_iops=uses_iops
    )


def _sum(a: list[float | None], b: list[float | None]) -> list[float | None]:
    return [x + y if x is not None and y is not None else None for x, y in zip(a, b, strict=True)]


def stop_facts(row: InstanceRow) -> StopFacts:
    return StopFacts(
        engine=row.engine,
        status=row.status,
        multi_az=bool(row.multi_az),
        replica_source=row.replica_source,
        read_replicas=tuple(row.read_replicas or ()),
        cluster_id=row.cluster_id,
        unit=Unit(row.unit),
        engine_mode=row.engine_mode,
        global_cluster=row.global_cluster,
    )


def zone_of(row: InstanceRow, account_zone: str | None, settings: Settings) -> OwnerZone:
    return owner_zone(tags_of(row), settings.timezone_tag, account_zone, settings.default_timezone)


def account_zones(db: Session, account_ids: Iterable[int]) -> dict[int, str | None]:
    query = select(AccountRow.id, AccountRow.timezone).where(AccountRow.id.in_(set(account_ids)))
    return {account_id: zone for account_id, zone in db.execute(query).tuples()}


def tags_of(row: InstanceRow) -> dict[str, str]:
    return {str(k): str(v) for k, v in (row.tags or {}).items()}


def analyse_rows(
    db: Session, rows: Sequence[InstanceRow], settings: Settings, now: datetime
) -> dict[int, Analysis]:
    """The analysis of each instance over the last weeks."""
    params = analysis_settings(settings)
    window = analysis_window(now, params.weeks)
    found = activities(db, [r.id for r in rows], window, settings.metrics)
    zones = account_zones(db, {r.account_id for r in rows})
    return {
        row.id: analyse(
            found[row.id],
            window,
            tags_of(row),
            zone_of(row, zones.get(row.account_id), settings),
            why_not_stoppable(stop_facts(row)),
            params,
        )
        for row in rows
    }


@dataclass(frozen=True, slots=True)
class HourView:
    """The rule applied to a chosen window, with the floor learned over the analysis window,
    and the share of each hour the proposed windows would sleep."""

    window: HourRange
    classified: Classified
    thresholds: Thresholds
    analysis: Analysis
    sleep: list[float]


def hour_classes(
    db: Session, row: InstanceRow, window: HourRange, settings: Settings, now: datetime
) -> HourView:
    analysis = analyse_rows(db, [row], settings, now)[row.id]
    activity = activities(db, [row.id], window, settings.metrics)[row.id]
    classified = classify(activity, analysis.thresholds)
    offered = analysis.windows if analysis.verdict.kind is Kind.SLEEP else ()
    minutes = local_minutes(window.start, window.hours, analysis.zone.name)
    sleep = shares_inside(offered, minutes)
    return HourView(window, classified, analysis.thresholds, analysis, sleep)
