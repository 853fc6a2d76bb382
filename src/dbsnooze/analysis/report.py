"""Analyses and recommendations as JSON-ready data, for the store, the API, the UI and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dbsnooze.analysis.backtest import Backtest
from dbsnooze.analysis.idle import REASON_WORDS, Classified
from dbsnooze.analysis.pattern import CELLS
from dbsnooze.analysis.recommend import Analysis, Kind
from dbsnooze.analysis.windows import windows_key
from dbsnooze.analysis.zones import local_iso
from dbsnooze.prices.table import Price

MAX_INTERRUPTIONS_LISTED = 200
STORAGE_NOTE = "storage, provisioned IOPS and backups keep being billed while it is stopped"
NO_PRICE_NOTE = "no price known for this class, engine, region and deployment: instance-hours only"


def backtest_json(backtest: Backtest, zone: str) -> dict[str, Any]:
    listed = backtest.interrupted[:MAX_INTERRUPTIONS_LISTED]
    return {
        "replayed_hours": backtest.replayed_hours,
        "slept_hours": round(backtest.slept_hours, 2),
        "interrupted_hours": len(backtest.interrupted),
        "recent_interrupted_hours": backtest.recent_interrupted,
        "clean": backtest.clean,
        "interrupted": [
            {
                "hour": item.hour.isoformat(),
                "local": local_iso(item.hour, zone),
                "reason": item.reason.value,
            }
            for item in listed
        ],
    }


def matrix_json(analysis: Analysis) -> dict[str, Any]:
    """The weekly pattern: rows Monday..Sunday, columns 00..23 of the owner's clock."""
    pattern = analysis.pattern
    shares = [None if s is None else round(s, 3) for s in pattern.shares()]
    return {
        "weeks": pattern.weeks,
        "usable_weeks": pattern.usable_weeks,
        "measured_days": pattern.measured_days,
        "idle_share": [shares[day * 24 : day * 24 + 24] for day in range(CELLS // 24)],
        "observed_weeks": [list(pattern.observed[d * 24 : d * 24 + 24]) for d in range(7)],
    }


def saving_usd(analysis: Analysis, price: Price | None) -> float | None:
    if price is None or analysis.verdict.kind not in (Kind.SLEEP, Kind.STOP):
        return None
    return round(analysis.verdict.saving_hours_month * price.usd_per_hour, 2)


def price_json(price: Price | None) -> dict[str, Any] | None:
    if price is None:
        return None
    return {"usd_per_hour": price.usd_per_hour, "source": price.source.value}


def record_values(
    analysis: Analysis, price: Price | None, cannot_stop: str | None
) -> dict[str, Any]:
    """The columns of the instance's stored recommendation."""
    verdict = analysis.verdict
    offered = verdict.kind is Kind.SLEEP
    windows = analysis.windows if offered else ()
    return {
        "kind": verdict.kind.value,
        "message": verdict.message,
        "timezone": analysis.zone.name,
        "timezone_source": analysis.zone.source,
        "windows": [w.as_dict() for w in windows],
        "windows_key": f"{verdict.kind.value}:{windows_key(windows)}",
        "confidence": round(verdict.confidence, 4),
        "hours_per_week": round(verdict.hours_per_week, 2),
        "saving_hours_month": round(verdict.saving_hours_month, 1),
        "usd_per_hour": price.usd_per_hour if price else None,
        "price_source": price.source.value if price else None,
        "saving_usd_month": saving_usd(analysis, price),
        "backtest": backtest_json(analysis.backtest, analysis.zone.name),
        "detail": {
            "matrix": matrix_json(analysis),
            "thresholds": analysis.thresholds.as_dict(),
            "cannot_stop": cannot_stop,
            "zone_note": analysis.zone.note,
            "idle_days": verdict.idle_days,
            "window_start": analysis.window.start.isoformat(),
            "window_end": analysis.window.end.isoformat(),
        },
    }


def notes(kind: str, price_source: str | None) -> list[str]:
    """What a reader of a saving needs to know."""
    if kind not in (Kind.SLEEP.value, Kind.STOP.value):
        return []
    found = [STORAGE_NOTE]
    if price_source is None:
        found.append(NO_PRICE_NOTE)
    elif price_source == "demo":
        found.append("demo prices: illustrative, not a quote")
    return found


def hours_json(classified: Classified, sleep_shares: Sequence[float]) -> dict[str, Any]:
    return {
        "classes": [c.value for c in classified.classes],
        "reasons": [r.value for r in classified.reasons],
        "sleep": [round(s, 3) for s in sleep_shares],
        "reason_words": {r.value: words for r, words in REASON_WORDS.items()},
    }
