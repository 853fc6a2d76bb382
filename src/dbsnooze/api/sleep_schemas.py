"""API schemas of the sleep analysis: recommendations, analyses, hour classes (SPEC §10)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class WindowPublic(BaseModel):
    sleep: str  # "Fri 19:00", the owner's clock
    wake: str
    sleep_day: str
    sleep_at: str
    wake_day: str
    wake_at: str
    sleep_minute: int  # minute of the week, Monday 00:00 = 0
    wake_minute: int
    hours: float


class InterruptionPublic(BaseModel):
    hour: str  # UTC start of the active hour
    local: str  # the same, on the owner's clock
    reason: str  # cpu | iops | connections


class BacktestPublic(BaseModel):
    replayed_hours: int
    slept_hours: float
    interrupted_hours: int
    recent_interrupted_hours: int
    clean: bool
    interrupted: list[InterruptionPublic]


class MatrixPublic(BaseModel):
    weeks: int
    usable_weeks: int
    measured_days: int
    idle_share: list[list[float | None]]  # 7 rows (Monday first) x 24 hours, owner's clock
    observed_weeks: list[list[int]]


class PricePublic(BaseModel):
    usd_per_hour: float
    source: str  # csv | aws | demo


class RecommendationPublic(BaseModel):
    id: int
    instance_id: int
    instance_name: str
    account_id: int
    region: str
    engine: str
    instance_class: str
    status: str
    kind: str  # sleep | stop | none | not_enough_history | blocked
    state: str  # open | applied | dismissed
    message: str
    timezone: str
    timezone_source: str  # tag | account | setting
    windows: list[WindowPublic]
    confidence: float
    hours_per_week: float
    saving_hours_month: float
    saving_usd_month: float | None
    price: PricePublic | None
    notes: list[str]
    cannot_stop: str | None
    idle_days: int | None
    backtest: BacktestPublic
    matrix: MatrixPublic
    computed_at: datetime
    applied_windows: list[WindowPublic] | None
    applied_at: datetime | None
    applied_by: str | None
    dismissed_at: datetime | None


class SavingTotal(BaseModel):
    usd_month: float  # over the recommendations with a price
    hours_month: float  # instance-hours, all open sleep and stop recommendations
    priced: int
    unpriced: int
    demo_prices: bool  # some of the money comes from the demo's price table


class RecommendationPage(BaseModel):
    data: list[RecommendationPublic]
    count: int
    total_saving: SavingTotal


class VerdictPublic(BaseModel):
    kind: str
    message: str
    confidence: float
    hours_per_week: float
    saving_hours_month: float
    saving_usd_month: float | None
    price: PricePublic | None
    notes: list[str]
    idle_days: int | None


class ZonePublic(BaseModel):
    name: str
    source: str
    note: str | None


class AnalysisPublic(BaseModel):
    instance_id: int
    start: datetime
    end: datetime
    timezone: ZonePublic
    thresholds: dict[str, Any]
    matrix: MatrixPublic
    windows: list[WindowPublic]  # found windows, offered or not
    verdict: VerdictPublic
    backtest: BacktestPublic
    cannot_stop: str | None
    recommendation_id: int | None


class HourClassesPublic(BaseModel):
    instance_id: int
    start: datetime
    end: datetime
    hours: list[str]
    classes: list[str]  # active | idle | asleep | unknown
    reasons: list[str]  # which part of the rule decided
    sleep: list[float]  # share of each hour inside the proposed windows (0 when none)
    thresholds: dict[str, Any]
    timezone: ZonePublic
    windows: list[WindowPublic]
    reason_words: dict[str, str]


class RecomputeResult(BaseModel):
    computed: int
    kinds: dict[str, int]
