"""The weekly pattern: per local (weekday, hour) cell, in how many of the last N weeks it was idle.

Weeks are blocks of 168 UTC hours counted back from the end of the analysis window. Within a
week, the UTC hours that fall in one local cell (two of them on the night clocks go back) make
it active if any was active; a cell no hour fell in (the hour skipped when clocks go forward),
or whose hours were all asleep or unknown, is not observed that week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dbsnooze.analysis.idle import HourClass

CELLS = 168
HOURS_PER_WEEK = 168
MIN_WEEKS = 2  # at least two weeks with enough coverage, or there is no answer
USABLE_SHARE = 0.8  # a week with at least this share of its hours measured is usable
NEEDED_DAYS = MIN_WEEKS * 7

_NONE, _IDLE, _ACTIVE = 0, 1, 2
_CODE = {HourClass.IDLE: _IDLE, HourClass.ACTIVE: _ACTIVE}


@dataclass(frozen=True, slots=True)
class WeeklyPattern:
    idle: tuple[int, ...]  # weeks in which each cell was idle
    observed: tuple[int, ...]  # weeks in which each cell was idle or active
    weeks: int  # weeks analysed
    usable_weeks: int
    measured_hours: int  # idle or active hours in the window

    @property
    def enough(self) -> bool:
        return self.usable_weeks >= MIN_WEEKS

    @property
    def measured_days(self) -> int:
        return self.measured_hours // 24

    def share(self, cell: int) -> float | None:
        seen = self.observed[cell]
        return self.idle[cell] / seen if seen else None

    def shares(self) -> list[float | None]:
        return [self.share(cell) for cell in range(CELLS)]

    def shortfall(self) -> str | None:
        """Why there is no answer yet; None when there is enough history."""
        if self.enough:
            return None
        if self.measured_days < NEEDED_DAYS:
            return f"not enough history: {self.measured_days} of {NEEDED_DAYS} days"
        return (
            f"not enough history: {MIN_WEEKS} weeks with {round(USABLE_SHARE * 100)} % of their "
            f"hours measured are needed, {self.usable_weeks} found"
        )


def weekly_pattern(classes: Sequence[HourClass], cells: Sequence[int], weeks: int) -> WeeklyPattern:
    """The pattern of the last `weeks` weeks; `classes` and `cells` end with the window."""
    state = [_NONE] * (weeks * CELLS)
    measured_per_week = [0] * weeks
    offset = weeks * HOURS_PER_WEEK - len(classes)  # a shorter history fills the latest weeks
    for index, (found, cell) in enumerate(zip(classes, cells, strict=True)):
        code = _CODE.get(found, _NONE)
        if code == _NONE:
            continue
        week = (index + offset) // HOURS_PER_WEEK
        measured_per_week[week] += 1
        slot = week * CELLS + cell
        if code > state[slot]:
            state[slot] = code
    idle = [0] * CELLS
    observed = [0] * CELLS
    for slot, code in enumerate(state):
        if code != _NONE:
            observed[slot % CELLS] += 1
            if code == _IDLE:
                idle[slot % CELLS] += 1
    usable = sum(1 for n in measured_per_week if n >= USABLE_SHARE * HOURS_PER_WEEK)
    return WeeklyPattern(tuple(idle), tuple(observed), weeks, usable, sum(measured_per_week))
