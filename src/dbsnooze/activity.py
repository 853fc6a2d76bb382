"""When an hour counts as active: the one rule behind last activity, idle share and the heatmap.

An awake hour is active when the average of any metric below reaches its threshold, and idle
otherwise. Asleep hours (the instance was stopped) are neither.
"""

from __future__ import annotations

ACTIVE_AT: dict[str, float] = {"cpu": 5.0, "connections": 1.0}


def is_active(metric: str, average: float) -> bool:
    """Whether this metric's hourly average makes its hour active."""
    threshold = ACTIVE_AT.get(metric)
    return threshold is not None and average >= threshold
