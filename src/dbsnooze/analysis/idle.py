"""The one idle rule: every (instance, hour) is active, idle, asleep or unknown (SPEC §10).

The heatmap, the fleet page's idle share, the analysis and (later) the stop guard all call
`classify`. Connections count as activity only above the instance's idle floor: the
connections it holds when nothing happens (application pools, monitoring agents), learned
from its own hourly maxima, so a pooled database is not called busy forever.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

TAG_CPU = "dbsnooze:idle-cpu"
TAG_IOPS = "dbsnooze:idle-iops"
TAG_CONNECTIONS = "dbsnooze:idle-connections"
# The metrics the rule reads; an hour missing any of them (that is collected) is unknown.
RULE_METRICS = ("cpu", "connections", "read_iops", "write_iops")


class HourClass(enum.StrEnum):
    ACTIVE = "active"
    IDLE = "idle"
    ASLEEP = "asleep"  # stopped: never idle
    UNKNOWN = "unknown"  # no or partial data


class Reason(enum.StrEnum):
    """Which part of the rule decided an hour's class."""

    CPU = "cpu"  # average CPU at or above the CPU threshold
    IOPS = "iops"  # average read + write IOPS at or above the IOPS threshold
    CONNECTIONS = "connections"  # most connections in the hour above the idle floor
    QUIET = "quiet"  # below every threshold
    STOPPED = "stopped"
    NO_DATA = "no_data"
    PARTIAL = "partial"


REASON_WORDS: Mapping[Reason, str] = {
    Reason.CPU: "CPU at or above the idle threshold",
    Reason.IOPS: "read + write IOPS at or above the idle threshold",
    Reason.CONNECTIONS: "more connections than the idle floor",
    Reason.QUIET: "below every idle threshold",
    Reason.STOPPED: "the instance was stopped",
    Reason.NO_DATA: "no data",
    Reason.PARTIAL: "some metrics missing",
}


@dataclass(frozen=True, slots=True)
class IdleRule:
    """The rule's settings; each threshold can be overridden per instance by a tag."""

    cpu_percent: float = 5.0
    iops: float = 20.0
    floor_percentile: float = 10.0  # of the hourly maxima of connections
    connections_margin: float = 1.0  # connections above the floor that are still idle


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The rule as it applies to one instance, and where each number came from."""

    cpu_percent: float
    iops: float
    connection_floor: float
    connections_margin: float
    sources: Mapping[str, str] = field(default_factory=dict)  # setting | tag | learned

    @property
    def connections_limit(self) -> float:
        return self.connection_floor + self.connections_margin

    def as_dict(self) -> dict[str, object]:
        return {
            "cpu_percent": self.cpu_percent,
            "iops": self.iops,
            "connection_floor": self.connection_floor,
            "connections_margin": self.connections_margin,
            "connections_limit": self.connections_limit,
            "sources": dict(self.sources),
        }


@dataclass(frozen=True, slots=True)
class Activity:
    """What the rule reads for consecutive UTC hours of one instance (None: not stored)."""

    cpu: Sequence[float | None]  # hourly average, %
    connections: Sequence[float | None]  # hourly maximum
    iops: Sequence[float | None]  # hourly average read + write
    asleep: Sequence[bool]
    uses_iops: bool = True  # False when IOPS are not collected

    @property
    def hours(self) -> int:
        return len(self.cpu)


@dataclass(frozen=True, slots=True)
class Classified:
    classes: list[HourClass]
    reasons: list[Reason]

    def share_idle(self) -> float | None:
        return idle_share(self.classes)


def learn_floor(maxima: Iterable[float | None], percentile: float) -> float:
    """The connections an instance holds when nothing happens: a low percentile (nearest rank)
    of its hourly maxima. 0 without data."""
    values = sorted(value for value in maxima if value is not None)
    if not values:
        return 0.0
    rank = max(1, math.ceil(percentile / 100 * len(values)))
    return values[rank - 1]


def awake_maxima(activity: Activity) -> list[float | None]:
    pairs = zip(activity.connections, activity.asleep, strict=True)
    return [value for value, asleep in pairs if not asleep]


def thresholds_for(
    rule: IdleRule, tags: Mapping[str, str], floor_from: Activity | None
) -> Thresholds:
    """The rule for one instance: settings, then tags; the floor learned from `floor_from`."""
    sources = {"cpu_percent": "setting", "iops": "setting", "connection_floor": "learned"}
    cpu = _tag_number(tags, TAG_CPU)
    iops = _tag_number(tags, TAG_IOPS)
    floor = _tag_number(tags, TAG_CONNECTIONS)
    if cpu is not None:
        sources["cpu_percent"] = "tag"
    if iops is not None:
        sources["iops"] = "tag"
    if floor is not None:
        sources["connection_floor"] = "tag"
    else:
        maxima = awake_maxima(floor_from) if floor_from is not None else []
        floor = learn_floor(maxima, rule.floor_percentile)
    return Thresholds(
        cpu_percent=rule.cpu_percent if cpu is None else cpu,
        iops=rule.iops if iops is None else iops,
        connection_floor=floor,
        connections_margin=0.0 if sources["connection_floor"] == "tag" else rule.connections_margin,
        sources=sources,
    )


def _tag_number(tags: Mapping[str, str], key: str) -> float | None:
    """A non-negative number from a tag; anything else is ignored (the setting applies)."""
    raw = tags.get(key)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def classify_hour(
    cpu: float | None,
    connections: float | None,
    iops: float | None,
    asleep: bool,
    rule: Thresholds,
    uses_iops: bool = True,
) -> tuple[HourClass, Reason]:
    """The class of one hour and the part of the rule that decided it."""
    if asleep:
        return HourClass.ASLEEP, Reason.STOPPED
    if cpu is None or connections is None or (uses_iops and iops is None):
        nothing = cpu is None and connections is None and (iops is None or not uses_iops)
        return HourClass.UNKNOWN, Reason.NO_DATA if nothing else Reason.PARTIAL
    if cpu >= rule.cpu_percent:
        return HourClass.ACTIVE, Reason.CPU
    if uses_iops and iops is not None and iops >= rule.iops:
        return HourClass.ACTIVE, Reason.IOPS
    if connections > rule.connections_limit:
        return HourClass.ACTIVE, Reason.CONNECTIONS
    return HourClass.IDLE, Reason.QUIET


def classify(activity: Activity, rule: Thresholds) -> Classified:
    """Every hour of `activity`, in order."""
    classes: list[HourClass] = []
    reasons: list[Reason] = []
    columns = zip(activity.cpu, activity.connections, activity.iops, activity.asleep, strict=True)
    for cpu, connections, iops, asleep in columns:
        found, why = classify_hour(cpu, connections, iops, asleep, rule, activity.uses_iops)
        classes.append(found)
        reasons.append(why)
    return Classified(classes, reasons)


def idle_share(classes: Iterable[HourClass]) -> float | None:
    """Idle hours among the hours the instance ran and was measured; None if there are none.

    Asleep hours are not idle (the instance was stopped) and unknown hours are not counted.
    """
    idle = active = 0
    for found in classes:
        if found is HourClass.IDLE:
            idle += 1
        elif found is HourClass.ACTIVE:
            active += 1
    return idle / (idle + active) if idle + active else None
