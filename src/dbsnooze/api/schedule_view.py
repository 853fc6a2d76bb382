"""Schedules as the API shows them: rows and domain values into the public schemas."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dbsnooze.api.schedule_schemas import (
    DesiredPublic,
    MemberPublic,
    PreviewPublic,
    SchedulePublic,
    SelectorPublic,
    TransitionPublic,
    WindowIn,
    WindowPublic,
)
from dbsnooze.schedules.rules import describe_window, desired_at
from dbsnooze.schedules.service import Preview
from dbsnooze.schedules.spec import ScheduleSpec, Transition, Window
from dbsnooze.store.schedules import Selector, spec_of, window_of
from dbsnooze.store.tables import ScheduleRow


def window_in(body: WindowIn) -> Window:
    return window_of(body.model_dump())


def spec_in(
    timezone: str,
    windows: list[WindowIn],
    sleep_cron: str | None,
    wake_cron: str | None,
    skip_dates: list[date],
    country: str | None,
    subdivision: str | None,
) -> ScheduleSpec:
    return ScheduleSpec(
        timezone=timezone,
        windows=tuple(window_in(w) for w in windows),
        sleep_cron=sleep_cron or None,
        wake_cron=wake_cron or None,
        skip_dates=tuple(sorted(set(skip_dates))),
        holidays_country=country or None,
        holidays_subdivision=subdivision or None,
    )


def schedule(row: ScheduleRow, explicit: list[int], now: datetime) -> SchedulePublic:
    spec = spec_of(row)
    desired = desired_at(spec, now)
    selector = Selector.from_json(row.selector)
    return SchedulePublic(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        windows=[
            WindowPublic(**raw, label=describe_window(w))
            for raw, w in zip(row.windows, spec.windows, strict=True)
        ],
        sleep_cron=row.sleep_cron,
        wake_cron=row.wake_cron,
        skip_dates=list(spec.skip_dates),
        holidays_country=row.holidays_country,
        holidays_subdivision=row.holidays_subdivision,
        enabled=row.enabled,
        dry_run=row.dry_run,
        enforce=row.enforce,
        guard_grace_minutes=row.guard_grace_minutes,
        selector=SelectorPublic(
            tags=dict(selector.tags),
            name_pattern=selector.name_pattern,
            account_id=selector.account_id,
            region=selector.region,
            engine=selector.engine,
        ),
        instance_ids=explicit,
        origin_instance_id=row.origin_instance_id,
        now=DesiredPublic(asleep=desired.asleep, until=desired.until, since=desired.since),
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


def transition(found: Transition, zone: ZoneInfo) -> TransitionPublic:
    return TransitionPublic(
        at=found.at,
        local=found.at.astimezone(zone).isoformat(),
        asleep=found.asleep,
        reason=found.reason,
    )


def preview(found: Preview) -> PreviewPublic:
    zone = ZoneInfo(found.schedule.timezone)
    shown = [transition(t, zone) for t in found.transitions]
    members = [
        MemberPublic(
            instance_id=m.instance.id,
            instance_name=m.instance.provider_id,
            status=m.status,
            reason=m.reason,
            transitions=shown if m.status == "assigned" else [],
        )
        for m in found.members
    ]
    return PreviewPublic(
        schedule_id=found.schedule.id,
        timezone=found.schedule.timezone,
        start=found.start,
        end=found.end,
        transitions=shown,
        data=members,
        count=len(members),
    )
