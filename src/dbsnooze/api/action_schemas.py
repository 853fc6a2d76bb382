"""API schemas of the reconciler: actions, overrides and an instance's schedule panel."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dbsnooze.schedules.overriding import DURATION_PATTERN


class ActionPublic(BaseModel):
    id: int
    instance_id: int
    unit: str  # instance | cluster
    kind: str  # stop | start
    state: str  # planned | dry_run | in_flight | done | failed | skipped
    reason: str
    actor: str  # schedule:<id> | user:<name>
    schedule_id: int | None
    attempts: int
    next_attempt_at: datetime | None
    holds_until: datetime | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    finished_at: datetime | None


class ActionPage(BaseModel):
    data: list[ActionPublic]
    count: int


class OverrideCreate(BaseModel):
    """Keep the instance awake or asleep until `until`, for `duration` ("10m", "2h", "1d"), or
    (neither given) until its schedule's next change, else a default (8 h asleep, 2 h awake)."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["awake", "asleep"]
    until: datetime | None = None
    duration: str | None = Field(default=None, max_length=16, pattern=DURATION_PATTERN)


class OverridePublic(BaseModel):
    instance_id: int
    state: str
    until: datetime
    created_by: str
    created_at: datetime


class OverrideResult(BaseModel):
    override: OverridePublic
    why_until: str  # "for 2h", "until the schedule's next wake", ...
    outcome: str | None  # what the pass run right away did ("done", "dry_run", ...)
    reason: str | None


class SchedulePanel(BaseModel):
    """What the instance page's schedule panel shows."""

    schedule_id: int | None
    schedule_name: str | None
    dry_run: bool | None
    enforce: bool | None
    override: OverridePublic | None
    asleep_wanted: bool | None
    next_change: datetime | None
    next_kind: str | None  # stop | start
    latest: ActionPublic | None
