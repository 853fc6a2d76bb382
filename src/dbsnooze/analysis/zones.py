"""The owner's time zone, and where each UTC hour falls in the owner's local week.

People sleep by their local clock: weekday and hour are local, so a window stays at 20:00
whether the day has 23, 24 or 25 hours (zoneinfo does the DST arithmetic).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dbsnooze.domain import HOUR

MINUTES_PER_WEEK = 7 * 24 * 60
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class OwnerZone:
    name: str
    source: str  # tag | account | setting
    note: str | None = None  # e.g. a tag naming no known zone

    @property
    def info(self) -> ZoneInfo:
        return ZoneInfo(self.name)


def valid_zone(name: str | None) -> bool:
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def owner_zone(
    tags: Mapping[str, str], tag_key: str, account_zone: str | None, default: str
) -> OwnerZone:
    """The zone from the instance's tag, else its account's default, else the setting."""
    tagged = tags.get(tag_key)
    note = None
    if tagged is not None:
        if valid_zone(tagged.strip()):
            return OwnerZone(tagged.strip(), "tag")
        note = f"tag {tag_key}={tagged!r} names no known time zone: ignored"
    if account_zone and valid_zone(account_zone):
        return OwnerZone(account_zone, "account", note)
    return OwnerZone(default if valid_zone(default) else "UTC", "setting", note)


def minute_of_week(moment: datetime) -> int:
    """Minutes since Monday 00:00 of the moment's own (local) week."""
    return moment.weekday() * 1440 + moment.hour * 60 + moment.minute


@functools.lru_cache(maxsize=256)  # instances share zones and analysis windows
def local_minutes(start: datetime, hours: int, zone: str) -> tuple[int, ...]:
    """The local minute of the week at which each UTC hour from `start` begins."""
    info = ZoneInfo(zone)
    return tuple(minute_of_week((start + i * HOUR).astimezone(info)) for i in range(hours))


def local_cells(start: datetime, hours: int, zone: str) -> tuple[int, ...]:
    """The local (weekday, hour) cell, 0..167 with Monday 00:00 first, of each UTC hour."""
    return tuple(minute // 60 for minute in local_minutes(start, hours, zone))


def week_label(minute: int) -> str:
    """`Fri 20:00` for a minute of the week."""
    minute %= MINUTES_PER_WEEK
    day, rest = divmod(minute, 1440)
    return f"{DAY_NAMES[day]} {rest // 60:02d}:{rest % 60:02d}"


def local_iso(hour: datetime, zone: str) -> str:
    return hour.astimezone(ZoneInfo(zone)).isoformat()


def utc_offset(moment: datetime, zone: str) -> timedelta:
    return moment.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
