"""A schedule row's JSON columns as `schedules.spec` values and back, and its selector."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from dbsnooze.schedules.check import clock
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store.tables import InstanceRow, ScheduleRow


@dataclass(frozen=True, slots=True)
class Selector:
    """Which instances a schedule takes by their facts; every given field must match, and an
    empty selector matches nothing."""

    tags: Mapping[str, str] = field(default_factory=dict)
    name_pattern: str | None = None  # glob on the instance's name
    account_id: int | None = None
    region: str | None = None
    engine: str | None = None

    @property
    def empty(self) -> bool:
        return not self.tags and not any(
            (self.name_pattern, self.account_id, self.region, self.engine)
        )

    def matches(self, row: InstanceRow) -> bool:
        if self.empty:
            return False
        tags = row.tags or {}
        return (
            all(tags.get(key) == value for key, value in self.tags.items())
            and (
                self.name_pattern is None or fnmatch.fnmatchcase(row.provider_id, self.name_pattern)
            )
            and self.account_id in (None, row.account_id)
            and self.region in (None, row.region)
            and self.engine in (None, row.engine)
        )

    def as_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Selector:
        return cls(
            tags=dict(raw.get("tags") or {}),
            name_pattern=raw.get("name_pattern"),
            account_id=raw.get("account_id"),
            region=raw.get("region"),
            engine=raw.get("engine"),
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a schedule row holds but its name and bookkeeping."""

    spec: ScheduleSpec
    enabled: bool = True
    dry_run: bool = True
    enforce: bool = False
    grace_minutes: int = 30
    selector: Selector = field(default_factory=Selector)


def spec_of(row: ScheduleRow) -> ScheduleSpec:
    return ScheduleSpec(
        timezone=row.timezone,
        windows=tuple(window_of(raw) for raw in row.windows),
        sleep_cron=row.sleep_cron,
        wake_cron=row.wake_cron,
        skip_dates=tuple(date.fromisoformat(day) for day in row.skip_dates),
        holidays_country=row.holidays_country,
        holidays_subdivision=row.holidays_subdivision,
    )


def settings_of(row: ScheduleRow) -> Settings:
    return Settings(
        spec=spec_of(row),
        enabled=row.enabled,
        dry_run=row.dry_run,
        enforce=row.enforce,
        grace_minutes=row.guard_grace_minutes,
        selector=Selector.from_json(row.selector),
    )


def window_of(raw: Mapping[str, Any]) -> Window:
    """{"days": [0, 1], "sleep": "19:00", "wake": "07:00", "span_days": 0} -> Window."""
    return Window(
        days=tuple(sorted(set(raw.get("days") or ()))),
        sleep=clock(str(raw.get("sleep", ""))),
        wake=clock(str(raw.get("wake", ""))),
        span_days=int(raw.get("span_days") or 0),
    )


def window_json(window: Window) -> dict[str, Any]:
    return {
        "days": list(window.days),
        "sleep": window.sleep.strftime("%H:%M"),
        "wake": window.wake.strftime("%H:%M"),
        "span_days": window.span_days,
    }
