"""Each instance's idle thresholds, as the analysis resolved them, for the summaries to apply.

The rule itself lives in analysis.idle: `thresholds_for` resolves settings, tags and the learned
connection floor, `classify_hour` decides an hour. The analysis runner stores what it resolved
here (`save`); the summaries read it back (`read`) and classify each hour they fold with
`classify_hour`, and find an instance's newest active hour in SQL with `busy`, the same test
written for the database. An instance the analysis has not seen yet gets `DEFAULT`: the rule's
default thresholds, with no learned floor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Boolean, Connection, Table, and_, delete, func, insert, not_, or_, select
from sqlalchemy import true as sql_true

from dbsnooze.analysis.idle import (
    RULE_METRICS,
    HourClass,
    IdleRule,
    Thresholds,
    classify_hour,
    thresholds_for,
)
from dbsnooze.store.recent import BIT, BUSY, MEASURED
from dbsnooze.store.tables import IdleThresholdRow

_TABLE = cast(Table, IdleThresholdRow.__table__)
RULE_BITS = sum(BIT[metric] for metric in RULE_METRICS)


@dataclass(frozen=True, slots=True)
class InstanceRule:
    thresholds: Thresholds
    uses_iops: bool = True  # False when IOPS are not collected

    def values(self) -> dict[str, Any]:
        t = self.thresholds
        return {
            "cpu_percent": t.cpu_percent,
            "iops": t.iops,
            "connection_floor": t.connection_floor,
            "connections_margin": t.connections_margin,
            "uses_iops": self.uses_iops,
        }


DEFAULT = InstanceRule(thresholds_for(IdleRule(), {}, None))


def read(conn: Connection, ids: Sequence[int]) -> dict[int, InstanceRule]:
    """The stored rule of each instance; DEFAULT for those without one."""
    found = dict.fromkeys(ids, DEFAULT)
    query = select(_TABLE).where(_TABLE.c.instance_id.in_(list(ids)))
    for row in conn.execute(query):
        found[row.instance_id] = InstanceRule(
            Thresholds(row.cpu_percent, row.iops, row.connection_floor, row.connections_margin),
            bool(row.uses_iops),
        )
    return found


def strictest(rules: Iterable[InstanceRule]) -> InstanceRule:
    """The most sensitive of several rules (an Aurora cluster's members'): the lowest CPU and
    IOPS thresholds, the connection floor and margin of the lowest connection limit, and IOPS
    read if any rule reads them. DEFAULT for none."""
    found = list(rules)
    if not found:
        return DEFAULT
    t = [rule.thresholds for rule in found]
    lowest = min(t, key=lambda x: x.connections_limit)
    reading_iops = [rule.thresholds.iops for rule in found if rule.uses_iops]
    return InstanceRule(
        Thresholds(
            min(x.cpu_percent for x in t),
            min(reading_iops or [x.iops for x in t]),
            lowest.connection_floor,
            lowest.connections_margin,
        ),
        bool(reading_iops),
    )


def save(conn: Connection, rules: Mapping[int, InstanceRule]) -> list[int]:
    """Store these instances' rules; returns the ids whose summaries applied another rule."""
    if not rules:
        return []
    ids = list(rules)
    before = read(conn, ids)
    query = select(_TABLE.c.instance_id).where(_TABLE.c.instance_id.in_(ids))
    known = set(conn.execute(query).scalars())
    write = sorted(i for i in ids if i not in known or _differ(before[i], rules[i]))
    if write:
        conn.execute(delete(_TABLE).where(_TABLE.c.instance_id.in_(write)))
        conn.execute(insert(_TABLE), [{"instance_id": i, **rules[i].values()} for i in write])
    return [i for i in write if _differ(before[i], rules[i])]


def _differ(a: InstanceRule, b: InstanceRule) -> bool:
    return a.values() != b.values()  # where the numbers came from does not matter here


def rule_byte(
    rule: InstanceRule,
    asleep: int,
    cpu: float | None,
    connections: float | None,
    read_iops: float | None,
    write_iops: float | None,
) -> int:
    """An hour's byte in the summary's flags (store.recent): what `classify_hour` says of it."""
    iops = read_iops + write_iops if read_iops is not None and write_iops is not None else None
    found, _ = classify_hour(
        cpu, connections, iops, bool(asleep & RULE_BITS), rule.thresholds, rule.uses_iops
    )
    if found is HourClass.ACTIVE:
        return MEASURED | BUSY
    return MEASURED if found is HourClass.IDLE else 0


def busy(hour: Any) -> Any:
    """`classify_hour(...) is ACTIVE` in SQL, for a row of hourly columns (asleep, cpu,
    connections, read_iops, write_iops) outer-joined to this table (DEFAULT where no row)."""
    t, d = _TABLE.c, DEFAULT.thresholds
    cpu = func.coalesce(t.cpu_percent, d.cpu_percent)
    iops_limit = func.coalesce(t.iops, d.iops)
    limit = func.coalesce(t.connection_floor + t.connections_margin, d.connections_limit)
    uses_iops = func.coalesce(t.uses_iops, sql_true(), type_=Boolean)
    iops = hour.read_iops + hour.write_iops
    measured = and_(
        hour.asleep.op("&")(RULE_BITS) == 0,
        hour.cpu.is_not(None),
        hour.connections.is_not(None),
        or_(not_(uses_iops), iops.is_not(None)),
    )
    active = or_(hour.cpu >= cpu, and_(uses_iops, iops >= iops_limit), hour.connections > limit)
    return and_(measured, active)


def joined(hours: Any) -> Any:
    """`hours` (a subquery with an instance_id column) outer-joined to the stored rules."""
    return hours.outerjoin(_TABLE, _TABLE.c.instance_id == hours.c.instance_id)
