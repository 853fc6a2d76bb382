"""Geometry for the small server-drawn SVGs: sparklines and coverage bars. Pure functions."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from dbsnooze.domain import Coverage

SPARK_WIDTH = 168.0
SPARK_HEIGHT = 28.0
SPARK_FLOOR = 10.0  # the y axis reaches at least this, so near-zero noise stays flat
BAR_ORDER = (
    Coverage.COMPLETE,
    Coverage.PROVISIONAL,
    Coverage.PARTIAL,
    Coverage.EMPTY,
    Coverage.ASLEEP,
    Coverage.MISSING,
)


@dataclass(frozen=True, slots=True)
class Band:
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class SparkDrawing:
    path: str  # "M x y L x y …" with a new M after every gap
    asleep: list[Band]
    top: float  # the value at the top edge


@dataclass(frozen=True, slots=True)
class BarPart:
    state: str
    x: float
    width: float
    hours: int


def sparkline(
    values: Sequence[float | None],
    asleep: Sequence[bool],
    width: float = SPARK_WIDTH,
    height: float = SPARK_HEIGHT,
) -> SparkDrawing:
    """A line through the awake hours, broken at gaps; asleep hours become shaded bands."""
    awake = [v for v, a in zip(values, asleep, strict=True) if v is not None and not a]
    top = max([SPARK_FLOOR, *awake])
    step = width / max(len(values), 1)
    scale, base = (height - 2) / top, height - 1
    commands: list[str] = []
    pen_down = False
    for x, value, sleeping in zip(_xs(len(values), step), values, asleep, strict=True):
        if value is None or sleeping:
            pen_down = False
            continue
        y = base - scale * (value if value < top else top)
        commands.append(f"{'L' if pen_down else 'M'}{x} {y:.1f}")
        pen_down = True
    return SparkDrawing(" ".join(commands), _bands(asleep, step), top)


@functools.lru_cache(maxsize=8)  # every row of a page has the same x positions
def _xs(count: int, step: float) -> tuple[str, ...]:
    return tuple(f"{(i + 0.5) * step:.1f}" for i in range(count))


def _bands(flags: Sequence[bool], step: float) -> list[Band]:
    bands: list[Band] = []
    start: int | None = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            bands.append(Band(start * step, (i - start) * step))
            start = None
    return bands


def coverage_bar(counts: dict[Coverage, int], width: float = 100.0) -> list[BarPart]:
    """Stacked parts in a fixed order; states with no hours are left out."""
    total = sum(counts.values())
    parts: list[BarPart] = []
    x = 0.0
    for state in BAR_ORDER:
        hours = counts.get(state, 0)
        if hours and total:
            part_width = width * hours / total
            parts.append(BarPart(state.value, x, part_width, hours))
            x += part_width
    return parts
