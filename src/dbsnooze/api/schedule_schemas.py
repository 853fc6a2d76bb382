"""API schemas of schedules (SPEC §11): what a client sends and what it reads back.

Times of day, zones, cron expressions and holiday calendars arrive as bounded strings and are
judged by `schedules.check`, so each bad value answers a 422 with its own code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from dbsnooze.api.params import MAX_ID, PRINTABLE
from dbsnooze.api.schemas import Strict

SCHEDULE_NAME = r"^[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]{0,127}$"
Short = Annotated[str, Field(max_length=64, pattern=PRINTABLE)]
Cron = Annotated[str, Field(max_length=128, pattern=PRINTABLE)]
InstanceIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=1000)]


class WindowIn(Strict):
    """A weekly sleep window in the schedule's zone: from `sleep` on each of `days` (0 =
    Monday) to the next `wake` (the next morning when `wake` ≤ `sleep`), `span_days` later."""

    days: list[Annotated[int, Field(ge=-1000, le=1000)]] = Field(max_length=7)
    sleep: str = Field(max_length=16, pattern=PRINTABLE, examples=["19:00"])
    wake: str = Field(max_length=16, pattern=PRINTABLE, examples=["07:00"])
    span_days: int = Field(0, ge=-1000, le=1000)


class SelectorIn(Strict):
    """Every given field must match; an empty selector matches nothing."""

    tags: dict[Short, Short] = Field(default_factory=dict, max_length=20)
    name_pattern: str | None = Field(None, max_length=255, pattern=PRINTABLE)
    account_id: int | None = Field(None, ge=1, le=MAX_ID)
    region: Short | None = None
    engine: Short | None = None


class ScheduleCreate(Strict):
    name: str = Field(pattern=SCHEDULE_NAME, max_length=128)
    timezone: str = Field(max_length=64, pattern=PRINTABLE, examples=["Europe/Berlin"])
    windows: list[WindowIn] = Field(default_factory=list, max_length=50)
    sleep_cron: Cron | None = None
    wake_cron: Cron | None = None
    skip_dates: list[date] = Field(default_factory=list, max_length=366)
    holidays_country: str | None = Field(None, max_length=16, pattern=PRINTABLE)
    holidays_subdivision: str | None = Field(None, max_length=16, pattern=PRINTABLE)
    enabled: bool = True
    dry_run: bool = True
    enforce: bool = False
    guard_grace_minutes: int = Field(30, ge=0, le=1440)
    selector: SelectorIn = Field(default_factory=SelectorIn)
    instance_ids: InstanceIds = Field(default_factory=list)


class ScheduleUpdate(Strict):
    """Only the fields sent change; `instance_ids` replaces the explicit assignments."""

    name: str | None = Field(None, pattern=SCHEDULE_NAME, max_length=128)
    timezone: str | None = Field(None, max_length=64, pattern=PRINTABLE)
    windows: list[WindowIn] | None = Field(None, max_length=50)
    sleep_cron: Cron | None = None
    wake_cron: Cron | None = None
    skip_dates: list[date] | None = Field(None, max_length=366)
    holidays_country: str | None = Field(None, max_length=16, pattern=PRINTABLE)
    holidays_subdivision: str | None = Field(None, max_length=16, pattern=PRINTABLE)
    enabled: bool | None = None
    dry_run: bool | None = None
    enforce: bool | None = None
    guard_grace_minutes: int | None = Field(None, ge=0, le=1440)
    selector: SelectorIn | None = None
    instance_ids: InstanceIds | None = None


class InstanceIdsIn(Strict):
    instance_ids: InstanceIds = Field(min_length=1)


class WindowPublic(BaseModel):
    days: list[int]
    sleep: str
    wake: str
    span_days: int
    label: str  # "window Mon-Fri 19:00-07:00"


class SelectorPublic(BaseModel):
    tags: dict[str, str]
    name_pattern: str | None
    account_id: int | None
    region: str | None
    engine: str | None


class DesiredPublic(BaseModel):
    asleep: bool
    until: datetime | None  # UTC; None when nothing changes within 8 days
    since: datetime | None


class SchedulePublic(BaseModel):
    id: int
    name: str
    timezone: str
    windows: list[WindowPublic]
    sleep_cron: str | None
    wake_cron: str | None
    skip_dates: list[date]
    holidays_country: str | None
    holidays_subdivision: str | None
    enabled: bool
    dry_run: bool
    enforce: bool
    guard_grace_minutes: int
    selector: SelectorPublic
    instance_ids: list[int]  # assigned explicitly
    # read-only: the instance whose applied sleep recommendation made it (applying again
    # updates this schedule, whatever its name now); null for a schedule made by hand
    origin_instance_id: int | None
    now: DesiredPublic  # what the rules want at this moment
    created_at: datetime
    created_by: str
    updated_at: datetime


class SchedulePage(BaseModel):
    data: list[SchedulePublic]
    count: int


class TransitionPublic(BaseModel):
    at: datetime  # UTC
    local: str  # the same moment on the schedule's clock, ISO 8601 with its offset
    asleep: bool  # the state entered
    reason: str


class MemberPublic(BaseModel):
    instance_id: int
    instance_name: str
    status: str  # assigned | opted_out | conflict
    reason: str
    transitions: list[TransitionPublic]  # empty unless assigned


class PreviewPublic(BaseModel):
    schedule_id: int
    timezone: str
    start: datetime
    end: datetime
    transitions: list[TransitionPublic]
    data: list[MemberPublic]
    count: int


class AssignResult(BaseModel):
    schedule_id: int
    changed: list[int]
    instance_ids: list[int]  # the explicit assignments now
