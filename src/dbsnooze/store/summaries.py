"""Per-instance summaries for the fleet page, kept up to date as samples are written.

One row per instance: its newest and oldest stored hours, its last active hour, its idle share
over the last 7 days of stored history, and the flags and CPU averages of its recent hours
(store.recent) that the sparkline and the coverage bar draw. An hour is active or idle by the
one idle rule (analysis.idle), with the thresholds the analysis stored for the instance
(store.thresholds). The sample writers call `note_samples` and `note_empty` inside their own
transaction, once per staged chunk: the database reads back every stored metric of the hours
the chunk touched (metrics of one hour may arrive in different writes) as one row per instance
and hour, then one read and one write touch one summary per instance, whatever the chunk's
size. `rebuild` computes the same rows from the stored samples (migration 0008 for history
stored before it; retention for rows it shortened; the analysis runner when an instance's
thresholds change).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    column,
    delete,
    extract,
    func,
    insert,
    literal_column,
    select,
    table,
)
from sqlalchemy import cast as cast_
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite

from dbsnooze.domain import HOUR, Source
from dbsnooze.store import thresholds
from dbsnooze.store.recent import (
    BIT,
    BUSY,
    CPU,
    RECENT_HOURS,
    HourBits,
    Recent,
    hour_at,
    hour_number,
)
from dbsnooze.store.tables import EmptyHourRow, SampleRow, SummaryRow
from dbsnooze.store.types import UTCDateTime

ID_BATCH = 500
ASLEEP = Source.ASLEEP.value
_TABLE = cast(Table, SummaryRow.__table__)
_SAMPLES = cast(Table, SampleRow.__table__)
_MARKERS = cast(Table, EmptyHourRow.__table__)


def _number(value: int) -> Any:
    return literal_column(str(value), Integer)  # our constants, inline: typed as int4


def _bit(metric: Any) -> Any:
    return case({m: _number(bit) for m, bit in BIT.items()}, value=metric, else_=_number(0))


def _stage(name: str) -> Any:
    return table(
        name,
        column("instance_id", Integer),
        column("metric", String),
        column("hour", UTCDateTime()),
    )


def _hour_number(hour: Any, dialect: str) -> Any:
    """Hours since the epoch, worked out by the database: no datetime is built per row."""
    if dialect == "postgresql":
        seconds = cast_(extract("epoch", hour), BigInteger)  # int4 ends in 2038
    else:
        seconds = cast_(func.strftime("%s", hour), Integer)
    return seconds // _number(3600)


def _stored_hours(dialect: str, rows: Any = _SAMPLES) -> Select[Any]:
    """Per instance and hour of a table of samples: its hour number, stored and asleep metric
    bits, and what the idle rule reads (CPU average, connections maximum, IOPS averages)."""
    asleep = rows.c.source == ASLEEP
    return select(
        rows.c.instance_id,
        _hour_number(rows.c.hour, dialect).label("number"),
        func.sum(_bit(rows.c.metric)).label("stored"),
        func.sum(case((asleep, _bit(rows.c.metric)), else_=_number(0))).label("asleep"),
        _of(rows, CPU, rows.c.average).label("cpu"),
        _of(rows, "connections", rows.c.maximum).label("connections"),
        _of(rows, "read_iops", rows.c.average).label("read_iops"),
        _of(rows, "write_iops", rows.c.average).label("write_iops"),
    ).group_by(rows.c.instance_id, rows.c.hour)


def _of(rows: Any, metric: str, value: Any) -> Any:
    return func.max(case((rows.c.metric == metric, value)))


def _marker_hours(rows: Any, dialect: str) -> Select[Any]:
    number = _hour_number(rows.c.hour, dialect)
    return select(rows.c.instance_id, number, func.sum(_bit(rows.c.metric))).group_by(
        rows.c.instance_id, rows.c.hour
    )


def _fetch(conn: Connection, query: Select[Any]) -> dict[int, list[HourBits]]:
    """Stored hours, each classified by its instance's idle rule."""
    rows = list(conn.execute(query))
    rules = thresholds.read(conn, sorted({row.instance_id for row in rows}))
    found: dict[int, list[HourBits]] = {}
    for row in rows:
        asleep = int(row.asleep)
        rule = thresholds.rule_byte(
            rules[row.instance_id],
            asleep,
            row.cpu,
            row.connections,
            row.read_iops,
            row.write_iops,
        )
        bits = HourBits(int(row.number), int(row.stored), asleep, rule, 0, row.cpu)
        found.setdefault(row.instance_id, []).append(bits)
    return found


def _fetch_markers(conn: Connection, query: Select[Any]) -> dict[int, list[HourBits]]:
    found: dict[int, list[HourBits]] = {}
    for instance_id, number, empty in conn.execute(query).tuples():
        found.setdefault(instance_id, []).append(HourBits(int(number), empty=int(empty)))
    return found


# --- what the page reads --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    instance_id: int
    newest_hour: datetime | None
    oldest_sample_hour: datetime | None
    last_active_hour: datetime | None
    idle_share: float | None
    recent: Recent | None


def _summary(row: Any) -> Summary:
    recent = None
    if row.newest_hour is not None:
        recent = Recent(hour_number(row.newest_hour), row.hour_flags, row.cpu_averages)
    return Summary(
        row.instance_id,
        row.newest_hour,
        row.oldest_sample_hour,
        row.last_active_hour,
        row.idle_share,
        recent,
    )


def read(conn: Connection, instance_ids: Sequence[int]) -> dict[int, Summary]:
    found: dict[int, Summary] = {}
    for batch in _batches(sorted(set(instance_ids))):
        for row in conn.execute(select(_TABLE).where(_TABLE.c.instance_id.in_(batch))):
            found[row.instance_id] = _summary(row)
    return found


# --- keeping them up to date ----------------------------------------------------------------


def note_samples(conn: Connection, stage: str) -> None:
    """Fold the hours just upserted from the staging table into their instances' summaries.

    Every touched hour is read back from the store, all its metrics: the rule needs them
    together (they may come from different writes), and the writer decides whether an asleep
    marker replaces data, so the summary must say what was kept. The summaries are locked
    before the hours are read back: two writers of one hour's metrics at once (a backfill and
    a live tick) would each read the hour without the other's and the second fold replace the
    first's classification with a partial one. Locked first, the second reads the hour after
    the first has committed (on SQLite the lock is the database's write lock).
    """
    staged, s = _stage(stage), _SAMPLES.c
    stored = _locked(conn, conn.execute(select(staged.c.instance_id).distinct()).scalars())
    keys = select(staged.c.instance_id, staged.c.hour).distinct().subquery()
    touched = and_(
        s.instance_id == keys.c.instance_id, s.hour == keys.c.hour, s.metric.in_(list(BIT))
    )
    query = _stored_hours(conn.dialect.name).join_from(_SAMPLES, keys, touched)
    _fold(conn, stored, _fetch(conn, query))


def note_empty(conn: Connection, stage: str) -> None:
    """Fold the metric-hours just marked empty (from the staging table) into the summaries."""
    hours = _fetch_markers(conn, _marker_hours(_stage(stage), conn.dialect.name))
    _fold(conn, _locked(conn, hours), hours)


def _locked(conn: Connection, instance_ids: Iterable[int]) -> dict[int, Any]:
    """The instances' summaries (blank ones made for those without), locked until the
    transaction ends, in id order so that writers cannot deadlock."""
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    _create_missing(conn, ids)
    query = select(_TABLE).where(_TABLE.c.instance_id.in_(ids)).order_by(_TABLE.c.instance_id)
    return {row.instance_id: row for row in conn.execute(query.with_for_update())}


def _fold(conn: Connection, stored: dict[int, Any], hours: dict[int, list[HourBits]]) -> None:
    if not hours:
        return
    ids = sorted(hours)
    changes, recheck = [], []
    for instance_id in ids:
        values, stale = _merged(stored[instance_id], hours[instance_id])
        changes.append({"key": instance_id, **values})
        if stale:
            recheck.append(instance_id)
    _save(conn, changes)
    if recheck:
        newest = newest_active(conn, recheck)
        _save(conn, [{"key": i, "last_active_hour": newest.get(i)} for i in recheck])


def _create_missing(conn: Connection, ids: list[int]) -> None:
    """Blank rows for instances that have none, so that every row can then be locked."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    rows = [{"instance_id": i, "hour_flags": [], "cpu_averages": []} for i in ids]
    conn.execute(dialect.insert(_TABLE).on_conflict_do_nothing(), rows)


def _merged(row: Any, hours: list[HourBits]) -> tuple[dict[str, Any], bool]:
    """The summary's new values after these hours, and whether last activity must be re-read
    (its hour was written again, without activity)."""
    newest = max(hour.number for hour in hours)
    recent = Recent.blank(newest)
    if row.newest_hour is not None:
        recent = Recent(hour_number(row.newest_hour), row.hour_flags, row.cpu_averages)
        recent.advance(newest)
    for hour in hours:
        recent.apply(hour)
    active = max((h.number for h in hours if h.rule & BUSY), default=None)
    before = None if row.last_active_hour is None else hour_number(row.last_active_hour)
    last, stale = row.last_active_hour, False
    if active is not None and (before is None or active >= before):
        last = hour_at(active)
    elif before is not None:
        stale = any(h.number == before and h.stored and not h.rule & BUSY for h in hours)
    sampled = [hour.number for hour in hours if hour.stored]
    return _values(recent, row.oldest_sample_hour, sampled, last), stale


def _values(
    recent: Recent, oldest: datetime | None, sampled: list[int], last: datetime | None
) -> dict[str, Any]:
    if sampled and (oldest is None or min(sampled) < hour_number(oldest)):
        oldest = hour_at(min(sampled))
    idle, awake = recent.idle()
    return {
        "newest_hour": hour_at(recent.newest),
        "oldest_sample_hour": oldest,
        "last_active_hour": last,
        "idle_hours": idle,
        "awake_hours": awake,
        "idle_share": idle / awake if awake else None,
        "hour_flags": recent.flags,
        "cpu_averages": recent.cpu,
    }


def _save(conn: Connection, changes: list[dict[str, Any]]) -> None:
    if not changes:
        return
    columns = [name for name in changes[0] if name != "key"]
    statement = (
        sql_update(_TABLE)
        .where(_TABLE.c.instance_id == bindparam("key"))
        .values({name: bindparam(name) for name in columns})
    )
    conn.execute(statement, changes)


def newest_active(conn: Connection, ids: Sequence[int]) -> dict[int, datetime]:
    """Each instance's newest active hour, found in the samples: a scan of its history."""
    hourly = _stored_hours(conn.dialect.name).where(_SAMPLES.c.instance_id.in_(ids)).subquery()
    query = (
        select(hourly.c.instance_id, func.max(hourly.c.number))
        .select_from(thresholds.joined(hourly))
        .where(thresholds.busy(hourly.c))
        .group_by(hourly.c.instance_id)
    )
    return {instance_id: hour_at(int(n)) for instance_id, n in conn.execute(query).tuples()}


# --- rebuilding from the samples ------------------------------------------------------------


def rebuild(conn: Connection, instance_ids: Sequence[int] | None = None) -> int:
    """Summaries computed afresh from the stored samples and empty markers; returns rows built.

    Without ids: every instance that holds anything (existing data, when the table is new).
    """
    ids = sorted(set(instance_ids)) if instance_ids is not None else _instances_with_data(conn)
    built = 0
    for batch in _batches(ids):
        conn.execute(delete(_TABLE).where(_TABLE.c.instance_id.in_(batch)))
        built += _build(conn, batch)
    return built


def _instances_with_data(conn: Connection) -> list[int]:
    found: set[int] = set()
    for rows in (_SAMPLES, _MARKERS):
        found.update(conn.execute(select(rows.c.instance_id).distinct()).scalars())
    return sorted(found)


def _build(conn: Connection, ids: Sequence[int]) -> int:
    bounds = _bounds(conn, ids)
    if not bounds:
        return 0
    hours: dict[int, list[HourBits]] = {i: [] for i in bounds}
    dialect = conn.dialect.name
    starts: dict[int, list[int]] = {}  # most instances share their newest hour: few queries
    for instance_id, (newest, _) in bounds.items():
        starts.setdefault(newest - RECENT_HOURS + 1, []).append(instance_id)
    for first, group in starts.items():
        for rows, markers in ((_SAMPLES, False), (_MARKERS, True)):
            recent = (rows.c.instance_id.in_(group)) & (rows.c.hour >= hour_at(first))
            if markers:
                found_hours = _fetch_markers(conn, _marker_hours(rows, dialect).where(recent))
            else:
                found_hours = _fetch(conn, _stored_hours(dialect, rows).where(recent))
            for instance_id, found in found_hours.items():
                hours[instance_id] += found
    active = newest_active(conn, list(bounds))
    built = [_built(i, bounds[i], active.get(i), hours[i]) for i in sorted(bounds)]
    conn.execute(insert(_TABLE), built)
    return len(built)


def _bounds(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[int, int | None]]:
    """Per instance: the newest hour with a sample or marker, and the oldest sample's hour."""
    found: dict[int, tuple[int, int | None]] = {}
    s, m = _SAMPLES.c, _MARKERS.c
    sampled = select(s.instance_id, func.max(s.hour), func.min(s.hour)).group_by(s.instance_id)
    for instance_id, newest, oldest in conn.execute(sampled.where(s.instance_id.in_(ids))):
        found[instance_id] = (hour_number(newest), hour_number(oldest))
    marked = select(m.instance_id, func.max(m.hour)).group_by(m.instance_id)
    for instance_id, newest in conn.execute(marked.where(m.instance_id.in_(ids))):
        before, oldest = found.get(instance_id, (0, None))
        found[instance_id] = (max(before, hour_number(newest)), oldest)
    return found


def _built(
    instance_id: int, bounds: tuple[int, int | None], last: datetime | None, hours: list[HourBits]
) -> dict[str, Any]:
    recent = Recent.blank(bounds[0])
    for hour in sorted(hours, key=lambda h: h.empty):  # samples first: markers fill in after
        recent.apply(hour)
    oldest = None if bounds[1] is None else hour_at(bounds[1])
    return {"instance_id": instance_id, **_values(recent, oldest, [], last)}


def forget_before(conn: Connection, cutoff: datetime) -> None:
    """After retention deleted everything older than `cutoff`: what the summaries still hold."""
    c = _TABLE.c
    conn.execute(delete(_TABLE).where(c.newest_hour < cutoff))
    conn.execute(
        sql_update(_TABLE).where(c.last_active_hour < cutoff).values(last_active_hour=None)
    )
    first_kept = hour_at(math.ceil(cutoff.timestamp() / 3600))
    conn.execute(
        sql_update(_TABLE)
        .where(c.oldest_sample_hour < first_kept)
        .values(oldest_sample_hour=first_kept)
    )
    shortened = select(c.instance_id).where(c.newest_hour < cutoff + (RECENT_HOURS - 1) * HOUR)
    rebuild(conn, list(conn.execute(shortened).scalars()))


def _batches(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), ID_BATCH):
        yield ids[start : start + ID_BATCH]
