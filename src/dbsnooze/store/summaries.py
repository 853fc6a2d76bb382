"""Per-instance summaries for the fleet page, kept up to date as samples are written.

One row per instance: its newest and oldest stored hours, its last active hour, its idle share
over the last 7 days of stored history, and per-hour flags and CPU averages for the
`RECENT_HOURS` ending at its newest hour (what the sparkline and the coverage bar draw). The
sample writers call `note_samples` and `note_empty` inside their own transaction, once per
batch: the batch is aggregated per instance in memory, then one read and one write touch one
row per instance, whatever the batch's size. `rebuild` computes the same rows from the stored
samples (migration 0005 uses it for existing data; retention for rows it shortened).

An hour's flags hold one bit per metric (its position in `METRICS`, which only ever grows) in
each of four bytes: stored, asleep, empty (asked, the cloud had nothing), and active.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeAlias, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite

from dbsnooze.activity import ACTIVE_AT, is_active
from dbsnooze.domain import HOUR, Coverage, Source
from dbsnooze.metrics import METRICS
from dbsnooze.store.tables import EmptyHourRow, SampleRow, SummaryRow

Row: TypeAlias = tuple[Any, ...]  # (instance_id, metric, hour, average, ...) as the store stages
RECENT_HOURS = 8 * 24  # the 7-day sparkline window and the not-yet-final hours after it
IDLE_HOURS = 7 * 24  # the idle share's window, ending at the newest stored hour
ID_BATCH = 500
STORED, ASLEEP, EMPTY, ACTIVE = 0, 8, 16, 24  # each flag byte's shift
BIT = {metric: 1 << index for index, metric in enumerate(METRICS)}
ACTIVITY = sum(BIT[metric] for metric in ACTIVE_AT)
ALL = sum(BIT.values())
CPU = "cpu"
_TABLE = cast(Table, SummaryRow.__table__)


# --- one instance's recent hours ------------------------------------------------------------


def hour_number(hour: datetime) -> int:
    return int(hour.timestamp()) // 3600


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

    def sample(self, number: int, metric: str, average: float, asleep: bool) -> None:
        index, bit = number - self.first, BIT.get(metric, 0)
        if not 0 <= index < RECENT_HOURS or not bit:
            return
        flags = (self.flags[index] | bit) & ~((bit << EMPTY) | (bit << ASLEEP) | (bit << ACTIVE))
        if asleep:
            flags |= bit << ASLEEP
        elif is_active(metric, average):
            flags |= bit << ACTIVE
        self.flags[index] = flags
        if metric == CPU:
            self.cpu[index] = average

    def empty(self, number: int, metric: str) -> None:
        index, bit = number - self.first, BIT.get(metric, 0)
        if 0 <= index < RECENT_HOURS and not self.flags[index] & bit:
            self.flags[index] |= bit << EMPTY

    def idle(self) -> tuple[int, int]:
        """(idle hours, awake hours with activity data) over the last IDLE_HOURS."""
        awake = idle = 0
        for flags in self.flags[RECENT_HOURS - IDLE_HOURS :]:
            if flags & ACTIVITY and not (flags >> ASLEEP) & ALL:
                awake += 1
                idle += not (flags >> ACTIVE) & ACTIVITY
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


# --- what the page reads --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    instance_id: int
    newest_hour: datetime | None
    oldest_sample_hour: datetime | None
    last_active_hour: datetime | None
    idle_share: float | None
    recent: Recent | None


def read(conn: Connection, instance_ids: Sequence[int]) -> dict[int, Summary]:
    found: dict[int, Summary] = {}
    for batch in _batches(sorted(set(instance_ids))):
        for row in conn.execute(select(_TABLE).where(_TABLE.c.instance_id.in_(batch))):
            found[row.instance_id] = _summary(row)
    return found


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


# --- keeping them up to date ----------------------------------------------------------------


@dataclass(slots=True)
class _Batch:
    """One instance's part of a write: hour numbers, and what the summary needs of them."""

    cells: list[tuple[int, str, float, bool]] = field(default_factory=list)  # ..., asleep
    empties: list[tuple[int, str]] = field(default_factory=list)
    active: int | None = None  # the newest hour written active
    inactive: set[int] = field(default_factory=set)  # hours whose activity was written idle


def note_samples(conn: Connection, rows: Sequence[Row], source: Source) -> None:
    """Fold a batch of upserted samples into their instances' summaries."""
    asleep = source == Source.ASLEEP
    numbers: dict[datetime, int] = {}
    batches: dict[int, _Batch] = {}
    for instance_id, metric, hour, average, *_ in rows:
        number = numbers.get(hour)
        if number is None:
            number = numbers[hour] = hour_number(hour)
        batch = batches.get(instance_id)
        if batch is None:
            batch = batches[instance_id] = _Batch()
        batch.cells.append((number, metric, average, asleep))
        if asleep or metric not in ACTIVE_AT:
            continue
        if is_active(metric, average):
            batch.active = number if batch.active is None else max(batch.active, number)
        else:
            batch.inactive.add(number)
    if asleep:
        for instance_id, batch in batches.items():
            _as_stored(conn, instance_id, batch)
    _fold(conn, batches)


def _as_stored(conn: Connection, instance_id: int, batch: _Batch) -> None:
    """An asleep batch's recent hours as the store now holds them.

    The writer decides whether an asleep marker replaces data, and the summary must say what
    was kept. Asleep batches are small (a stopped instance's hours), so they are read back.
    """
    hours = {cell[0] for cell in batch.cells}
    newest = max(hours)
    first = newest - RECENT_HOURS + 1  # older hours are beyond every summary's recent window
    query = select(SampleRow.metric, SampleRow.hour, SampleRow.average, SampleRow.source).where(
        SampleRow.instance_id == instance_id,
        SampleRow.hour >= _hour(max(first, min(hours))),
        SampleRow.hour <= _hour(newest),
    )
    stored = [
        (number, metric, average, source == Source.ASLEEP.value)
        for metric, hour, average, source in conn.execute(query).tuples()
        if (number := hour_number(hour)) in hours
    ]
    batch.cells = [cell for cell in batch.cells if cell[0] < first] + stored
    batch.inactive = hours  # if asleep replaced the last active hour, it is read again


def note_empty(conn: Connection, keys: Sequence[Row]) -> None:
    """Fold metric-hours the cloud had nothing for into their instances' summaries."""
    batches: dict[int, _Batch] = {}
    for instance_id, metric, hour, *_ in keys:
        batches.setdefault(instance_id, _Batch()).empties.append((hour_number(hour), metric))
    _fold(conn, batches)


def _fold(conn: Connection, batches: dict[int, _Batch]) -> None:
    if not batches:
        return
    ids = sorted(batches)
    _create_missing(conn, ids)
    query = select(_TABLE).where(_TABLE.c.instance_id.in_(ids)).order_by(_TABLE.c.instance_id)
    stored = {row.instance_id: row for row in conn.execute(query.with_for_update())}
    changes, recheck = [], []
    for instance_id in ids:
        values, stale = _merged(stored[instance_id], batches[instance_id])
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


def _merged(row: Any, batch: _Batch) -> tuple[dict[str, Any], bool]:
    """The summary's new values after this batch, and whether last activity must be re-read."""
    numbers = [cell[0] for cell in batch.cells] + [empty[0] for empty in batch.empties]
    newest = max(numbers)
    recent = Recent.blank(newest)
    if row.newest_hour is not None:
        recent = Recent(hour_number(row.newest_hour), row.hour_flags, row.cpu_averages)
        recent.advance(newest)
    for number, metric, average, asleep in batch.cells:
        recent.sample(number, metric, average, asleep)
    for number, metric in batch.empties:
        recent.empty(number, metric)
    idle, awake = recent.idle()
    last, stale = _last_active(row.last_active_hour, batch)
    values = {
        "newest_hour": _hour(recent.newest),
        "oldest_sample_hour": _oldest(row.oldest_sample_hour, batch),
        "last_active_hour": last,
        "idle_hours": idle,
        "awake_hours": awake,
        "idle_share": idle / awake if awake else None,
        "hour_flags": recent.flags,
        "cpu_averages": recent.cpu,
    }
    return values, stale


def _last_active(stored: datetime | None, batch: _Batch) -> tuple[datetime | None, bool]:
    before = None if stored is None else hour_number(stored)
    if batch.active is not None and (before is None or batch.active >= before):
        return _hour(batch.active), False
    return stored, before is not None and before in batch.inactive


def _oldest(stored: datetime | None, batch: _Batch) -> datetime | None:
    if not batch.cells:
        return stored
    oldest = min(cell[0] for cell in batch.cells)
    return _hour(oldest) if stored is None or oldest < hour_number(stored) else stored


def _hour(number: int) -> datetime:
    return datetime.fromtimestamp(number * 3600, UTC)


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


def _active() -> ColumnElement[bool]:
    """`activity.is_active` as SQL, for rows of metric_samples."""
    per_metric = (
        and_(SampleRow.metric == metric, SampleRow.average >= threshold)
        for metric, threshold in ACTIVE_AT.items()
    )
    return and_(SampleRow.source != Source.ASLEEP.value, or_(*per_metric))


def newest_active(conn: Connection, ids: Sequence[int]) -> dict[int, datetime]:
    """Each instance's newest active hour, found in the samples: a scan of its history."""
    query = (
        select(SampleRow.instance_id, func.max(SampleRow.hour))
        .where(SampleRow.instance_id.in_(ids), _active())
        .group_by(SampleRow.instance_id)
    )
    return {instance_id: hour for instance_id, hour in conn.execute(query).tuples()}


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
    for table in (SampleRow, EmptyHourRow):
        found.update(conn.execute(select(table.instance_id).distinct()).scalars())
    return sorted(found)


def _build(conn: Connection, ids: Sequence[int]) -> int:
    bounds = _bounds(conn, ids)
    if not bounds:
        return 0
    data: dict[int, _Batch] = {i: _Batch() for i in bounds}
    starts: dict[int, list[int]] = {}  # most instances share their newest hour: few queries
    for instance_id, (newest, _) in bounds.items():
        starts.setdefault(newest - RECENT_HOURS + 1, []).append(instance_id)
    for first, group in starts.items():
        for instance_id, metric, hour, average, source in _recent_samples(conn, group, first):
            asleep = source == Source.ASLEEP.value
            data[instance_id].cells.append((hour_number(hour), metric, average, asleep))
        for instance_id, metric, hour in _recent_markers(conn, group, first):
            data[instance_id].empties.append((hour_number(hour), metric))
    active = newest_active(conn, list(bounds))
    rows = [_built(i, bounds[i], active.get(i), data[i]) for i in sorted(bounds)]
    conn.execute(insert(_TABLE), rows)
    return len(rows)


def _recent_samples(conn: Connection, ids: Sequence[int], first: int) -> Iterable[Row]:
    columns = (SampleRow.instance_id, SampleRow.metric, SampleRow.hour, SampleRow.average)
    query = select(*columns, SampleRow.source).where(
        SampleRow.instance_id.in_(ids), SampleRow.hour >= _hour(first)
    )
    return conn.execute(query).tuples()


def _recent_markers(conn: Connection, ids: Sequence[int], first: int) -> Iterable[Row]:
    query = select(EmptyHourRow.instance_id, EmptyHourRow.metric, EmptyHourRow.hour).where(
        EmptyHourRow.instance_id.in_(ids), EmptyHourRow.hour >= _hour(first)
    )
    return conn.execute(query).tuples()


def _bounds(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[int, int | None]]:
    """Per instance: the newest hour with a sample or marker, and the oldest sample's hour."""
    found: dict[int, tuple[int, int | None]] = {}
    samples = select(SampleRow.instance_id, func.max(SampleRow.hour), func.min(SampleRow.hour))
    for instance_id, newest, oldest in conn.execute(
        samples.where(SampleRow.instance_id.in_(ids)).group_by(SampleRow.instance_id)
    ).tuples():
        found[instance_id] = (hour_number(newest), hour_number(oldest))
    markers = select(EmptyHourRow.instance_id, func.max(EmptyHourRow.hour))
    for instance_id, marked in conn.execute(
        markers.where(EmptyHourRow.instance_id.in_(ids)).group_by(EmptyHourRow.instance_id)
    ).tuples():
        sampled, first = found.get(instance_id, (0, None))
        found[instance_id] = (max(sampled, hour_number(marked)), first)
    return found


def _built(
    instance_id: int,
    bounds: tuple[int, int | None],
    last_active: datetime | None,
    data: _Batch,
) -> dict[str, Any]:
    recent = Recent.blank(bounds[0])
    for number, metric, average, asleep in data.cells:
        recent.sample(number, metric, average, asleep)
    for number, metric in data.empties:
        recent.empty(number, metric)
    idle, awake = recent.idle()
    return {
        "instance_id": instance_id,
        "newest_hour": _hour(bounds[0]),
        "oldest_sample_hour": None if bounds[1] is None else _hour(bounds[1]),
        "last_active_hour": last_active,
        "idle_hours": idle,
        "awake_hours": awake,
        "idle_share": idle / awake if awake else None,
        "hour_flags": recent.flags,
        "cpu_averages": recent.cpu,
    }


def forget_before(conn: Connection, cutoff: datetime) -> None:
    """After retention deleted everything older than `cutoff`: what the summaries still hold."""
    table = _TABLE.c
    conn.execute(delete(_TABLE).where(table.newest_hour < cutoff))
    conn.execute(
        sql_update(_TABLE).where(table.last_active_hour < cutoff).values(last_active_hour=None)
    )
    first_kept = _hour(math.ceil(cutoff.timestamp() / 3600))
    conn.execute(
        sql_update(_TABLE)
        .where(table.oldest_sample_hour < first_kept)
        .values(oldest_sample_hour=first_kept)
    )
    shortened = select(table.instance_id).where(
        table.newest_hour < cutoff + (RECENT_HOURS - 1) * HOUR
    )
    rebuild(conn, list(conn.execute(shortened).scalars()))


def _batches(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), ID_BATCH):
        yield ids[start : start + ID_BATCH]
