"""One instance's recent hours as flags: what its summary keeps for the sparkline and coverage.

Pure values, no I/O. An hour's flags hold one bit per metric (its position in `METRICS`, which
only ever grows) in each of the first three bytes: stored, asleep, empty (asked, the cloud had
nothing); the fourth byte holds what the idle rule (analysis.idle.classify_hour) said of the
whole hour: MEASURED when it was active or idle (not asleep, no rule metric missing), and BUSY
when it was active.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from dbsnooze.domain import Coverage
from dbsnooze.metrics import METRICS

RECENT_HOURS = 8 * 24  # the 7-day sparkline window and the not-yet-final hours after it
IDLE_HOURS = 7 * 24  # the idle share's window, ending at the newest stored hour
STORED, ASLEEP, EMPTY, RULE = 0, 8, 16, 24  # each flag byte's shift
MEASURED, BUSY = 1, 2  # the rule byte's bits
BIT = {metric: 1 << index for index, metric in enumerate(METRICS)}
ALL = sum(BIT.values())
CPU = "cpu"


def hour_number(hour: datetime) -> int:
    return int(hour.timestamp()) // 3600


def hour_at(number: int) -> datetime:
    return datetime.fromtimestamp(number * 3600, UTC)


class HourBits(NamedTuple):
    """What the store holds of one hour of one instance, as metric bits, and the rule's byte."""

    number: int
    stored: int = 0
    asleep: int = 0
    rule: int = 0
    empty: int = 0
    cpu: float | None = None


@dataclass(slots=True)
class Recent:
    """Flags and CPU averages of the RECENT_HOURS ending at hour number `newest`."""

    newest: int
    flags: list[int]
    cpu: list[float | None]

    @classmethod
    def blank(cls, newest: int) -> Recent:
        return cls(newest, [0] * RECENT_HOURS, [None] * RECENT_HOURS)

    @property
    def first(self) -> int:
        return self.newest - RECENT_HOURS + 1

    def advance(self, newest: int) -> None:
        """Move the window forward to end at `newest`; hours that fall off are forgotten."""
        shift = newest - self.newest
        if shift <= 0:
            return
        keep = max(0, RECENT_HOURS - shift)
        self.flags = self.flags[RECENT_HOURS - keep :] + [0] * (RECENT_HOURS - keep)
        self.cpu = self.cpu[RECENT_HOURS - keep :] + [None] * (RECENT_HOURS - keep)
        self.newest = newest

    def apply(self, hour: HourBits) -> None:
        """Samples read back for an hour (all its stored metrics) replace what it had; empty
        markers count only for metrics with no sample."""
        index = hour.number - self.first
        if not 0 <= index < RECENT_HOURS:
            return
        written = hour.stored
        flags = self.flags[index]
        if written:
            flags &= ~((written << EMPTY) | (written << ASLEEP) | (0xFF << RULE))
            flags |= written | (hour.asleep << ASLEEP) | (hour.rule << RULE)
        flags |= (hour.empty & ~flags & ALL) << EMPTY
        self.flags[index] = flags
        if written & BIT[CPU]:
            self.cpu[index] = hour.cpu

    def idle(self) -> tuple[int, int]:
        """(idle hours, measured hours: active or idle) over the last IDLE_HOURS."""
        awake = idle = 0
        for flags in self.flags[RECENT_HOURS - IDLE_HOURS :]:
            rule = flags >> RULE
            if rule & MEASURED:
                awake += 1
                idle += not rule & BUSY
        return idle, awake


def coverage(flags: int, wanted: int) -> Coverage:
    """An hour's coverage state for the metrics in the `wanted` mask (as samples.hour_coverage)."""
    stored = flags & wanted
    if (flags >> ASLEEP) & wanted:
        return Coverage.ASLEEP
    if stored == wanted:
        return Coverage.COMPLETE
    if stored:
        return Coverage.PARTIAL
    return Coverage.EMPTY if (flags >> EMPTY) & wanted else Coverage.MISSING


def mask(metrics: Iterable[str]) -> int:
    return sum(BIT.get(metric, 0) for metric in set(metrics))
