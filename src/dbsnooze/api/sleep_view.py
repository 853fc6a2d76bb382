"""Stored recommendations and live analyses as the API's models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dbsnooze.analysis import report
from dbsnooze.analysis.recommend import Analysis, Kind
from dbsnooze.analysis.service import HourView
from dbsnooze.api.sleep_schemas import (
    AnalysisPublic,
    BacktestPublic,
    HourClassesPublic,
    MatrixPublic,
    PricePublic,
    RecommendationPublic,
    SavingTotal,
    VerdictPublic,
    WindowPublic,
    ZonePublic,
)
from dbsnooze.prices.table import Price
from dbsnooze.store.recommendations import state
from dbsnooze.store.tables import InstanceRow, RecommendationRow

COUNTED = (Kind.SLEEP.value, Kind.STOP.value)


def recommendation(rec: RecommendationRow, row: InstanceRow) -> RecommendationPublic:
    detail: dict[str, Any] = rec.detail or {}
    price = (
        PricePublic(usd_per_hour=rec.usd_per_hour, source=rec.price_source)
        if rec.usd_per_hour is not None and rec.price_source is not None
        else None
    )
    return RecommendationPublic(
        id=rec.id,
        instance_id=row.id,
        instance_name=row.provider_id,
        account_id=row.account_id,
        region=row.region,
        engine=row.engine,
        instance_class=row.instance_class,
        status=row.status,
        kind=rec.kind,
        state=state(rec).value,
        message=rec.message,
        timezone=rec.timezone,
        timezone_source=rec.timezone_source,
        windows=[WindowPublic(**w) for w in rec.windows],
        confidence=rec.confidence,
        hours_per_week=rec.hours_per_week,
        saving_hours_month=rec.saving_hours_month,
        saving_usd_month=rec.saving_usd_month,
        price=price,
        notes=report.notes(rec.kind, rec.price_source),
        cannot_stop=detail.get("cannot_stop"),
        idle_days=detail.get("idle_days"),
        backtest=BacktestPublic(**rec.backtest),
        matrix=MatrixPublic(**detail["matrix"]),
        computed_at=rec.computed_at,
        applied_windows=[WindowPublic(**w) for w in rec.applied_windows or []] or None,
        applied_at=rec.applied_at,
        applied_by=rec.applied_by,
        dismissed_at=rec.dismissed_at if state(rec).value == "dismissed" else None,
    )


def total(items: Sequence[RecommendationPublic]) -> SavingTotal:
    """The fleet's predicted saving: open and applied sleep and stop recommendations."""
    counted = [r for r in items if r.kind in COUNTED and r.state != "dismissed"]
    priced = [r for r in counted if r.saving_usd_month is not None]
    return SavingTotal(
        usd_month=round(sum(r.saving_usd_month or 0.0 for r in priced), 2),
        hours_month=round(sum(r.saving_hours_month for r in counted), 1),
        priced=len(priced),
        unpriced=len(counted) - len(priced),
        demo_prices=any(r.price is not None and r.price.source == "demo" for r in priced),
    )


def _zone(analysis: Analysis) -> ZonePublic:
    zone = analysis.zone
    return ZonePublic(name=zone.name, source=zone.source, note=zone.note)


def analysis(
    instance_id: int,
    found: Analysis,
    price: Price | None,
    cannot_stop: str | None,
    recommendation_id: int | None,
) -> AnalysisPublic:
    verdict = found.verdict
    price_public = report.price_json(price)
    return AnalysisPublic(
        instance_id=instance_id,
        start=found.window.start,
        end=found.window.end,
        timezone=_zone(found),
        thresholds=found.thresholds.as_dict(),
        matrix=MatrixPublic(**report.matrix_json(found)),
        windows=[WindowPublic(**w.as_dict()) for w in found.windows],
        verdict=VerdictPublic(
            kind=verdict.kind.value,
            message=verdict.message,
            confidence=round(verdict.confidence, 4),
            hours_per_week=round(verdict.hours_per_week, 2),
            saving_hours_month=round(verdict.saving_hours_month, 1),
            saving_usd_month=report.saving_usd(found, price),
            price=PricePublic(**price_public) if price_public else None,
            notes=report.notes(verdict.kind.value, price.source.value if price else None),
            idle_days=verdict.idle_days,
        ),
        backtest=BacktestPublic(**report.backtest_json(found.backtest, found.zone.name)),
        cannot_stop=cannot_stop,
        recommendation_id=recommendation_id,
    )


def hour_classes(instance_id: int, view: HourView) -> HourClassesPublic:
    found = report.hours_json(view.classified, view.sleep)
    offered = view.analysis.verdict.kind is Kind.SLEEP
    windows = view.analysis.windows if offered else ()
    return HourClassesPublic(
        instance_id=instance_id,
        start=view.window.start,
        end=view.window.end,
        hours=[hour.isoformat() for hour in view.window],
        thresholds=view.thresholds.as_dict(),
        timezone=_zone(view.analysis),
        windows=[WindowPublic(**w.as_dict()) for w in windows],
        **found,
    )
