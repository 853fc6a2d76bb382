"""The recommendations page's small weekly heatmap: 7 days x 24 hours of the owner's clock,
shaded by the share of weeks each hour was idle, with the proposed windows outlined. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dbsnooze.analysis.windows import SleepWindow
from dbsnooze.analysis.zones import DAY_NAMES

CELL = 7.0  # px per hour
GAP = 1.0
LABEL = 24.0  # room for the day names


@dataclass(frozen=True, slots=True)
class WeekCell:
    day: int
    hour: int
    x: float
    y: float
    level: str  # idle | mostly | mixed | busy | none (never measured)
    sleep: bool  # inside a proposed window
    title: str


def _level(share: float | None) -> str:
    if share is None:
        return "none"
    if share >= 0.9:
        return "idle"
    if share >= 0.5:
        return "mostly"
    if share > 0:
        return "mixed"
    return "busy"


def week_cells(
    idle_share: Sequence[Sequence[float | None]], windows: Sequence[tuple[int, int]]
) -> list[WeekCell]:
    """One cell per (day, hour); `windows` are (sleep, wake) minutes of the week."""
    proposed = [SleepWindow(sleep, wake) for sleep, wake in windows]
    cells = []
    for day, row in enumerate(idle_share):
        for hour, share in enumerate(row):
            sleep = any(w.overlap((day * 24 + hour) * 60, 60) for w in proposed)
            words = (
                "never measured" if share is None else f"idle in {round(share * 100)} % of weeks"
            )
            title = f"{DAY_NAMES[day]} {hour:02d}:00 · {words}" + (" · sleeps" if sleep else "")
            x, y = LABEL + hour * (CELL + GAP), day * (CELL + GAP)
            cells.append(WeekCell(day, hour, x, y, _level(share), sleep, title))
    return cells


def size() -> tuple[float, float]:
    return LABEL + 24 * (CELL + GAP), 7 * (CELL + GAP)
