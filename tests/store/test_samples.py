"""The hourly sample store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dbsnooze.context import Context
from dbsnooze.domain import HOUR, Coverage, HourlyStat, HourRange, Source
from dbsnooze.store import retention, samples
from dbsnooze.store.db import transaction
from dbsnooze.store.samples import SamplePoint
from dbsnooze.store.tables import EmptyHourRow, InstanceRow, SampleRow
from metricshelp import register

NO_ENDPOINT = "http://127.0.0.1:9"  # the cloud is never asked here
NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
H0 = datetime(2026, 11, 1, tzinfo=UTC)
METRICS = ["cpu", "connections", "freeable_memory"]


def add_instances(ctx: Context, count: int = 1) -> list[int]:
    names = [f"db-{i}" for i in range(count)]
    ids = register(ctx, NO_ENDPOINT, names)
    return [ids[name] for name in names]


def stat(instance_id: int, metric: str, hour: datetime, value: float = 1.0) -> HourlyStat:
    return HourlyStat(instance_id, metric, hour, value, value * 2, value / 2, 60.0)


def at(offset: int) -> datetime:
    return H0 + offset * HOUR


def write(
    ctx: Context,
    stats: list[HourlyStat],
    source: Source = Source.BACKFILL,
    fetched_at: datetime = NOW,
) -> int:
    with transaction(ctx.sessions) as session:
        return samples.upsert(session, stats, source, fetched_at)


def empty(ctx: Context, keys: list[tuple[int, str, datetime]]) -> int:
    with transaction(ctx.sessions) as session:
        return samples.mark_empty(session, keys, NOW)


def count(ctx: Context, row: type[SampleRow] | type[EmptyHourRow]) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(row)) or 0


def test_upsert_twice_keeps_one_row_per_key_with_the_new_values(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    first = [stat(iid, m, at(h), 1.0) for m in METRICS for h in range(3)]
    assert write(ctx, first, Source.LIVE) == 9
    later = NOW + timedelta(minutes=5)
    with transaction(ctx.sessions) as session:
        second = [stat(iid, "cpu", at(h), 7.0) for h in range(3)]
        assert samples.upsert(session, second, Source.BACKFILL, later) == 3
    assert count(ctx, SampleRow) == 9
    with ctx.sessions() as session:
        row = session.get(SampleRow, (iid, "cpu", at(1)))
        assert row is not None
        assert (row.average, row.maximum, row.minimum, row.sample_count) == (7.0, 14.0, 3.5, 60.0)
        assert (row.source, row.fetched_at) == ("backfill", later)
        untouched = session.get(SampleRow, (iid, "connections", at(1)))
        assert untouched is not None and untouched.source == "live"


def test_duplicate_keys_in_one_call_keep_the_last(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    assert write(ctx, [stat(iid, "cpu", at(0), 1.0), stat(iid, "cpu", at(0), 5.0)]) == 1
    with ctx.sessions() as session:
        row = session.get(SampleRow, (iid, "cpu", at(0)))
        assert row is not None and row.average == 5.0


def test_two_writes_in_one_transaction_and_a_rolled_back_one(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    with transaction(ctx.sessions) as session:
        samples.upsert(session, [stat(iid, "cpu", at(0))], Source.LIVE, NOW)
        samples.mark_empty(session, [(iid, "cpu", at(1))], NOW)
        samples.upsert(session, [stat(iid, "cpu", at(2))], Source.LIVE, NOW)
    with pytest.raises(RuntimeError), transaction(ctx.sessions) as session:
        samples.upsert(session, [stat(iid, "cpu", at(3))], Source.LIVE, NOW)
        raise RuntimeError("abandon")
    assert write(ctx, [stat(iid, "cpu", at(4))]) == 1
    assert (count(ctx, SampleRow), count(ctx, EmptyHourRow)) == (3, 1)


def test_upsert_clears_empty_markers_and_mark_empty_skips_stored_hours(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    write(ctx, [stat(iid, "cpu", at(0))])
    keys = [(iid, "cpu", at(h)) for h in range(4)]
    assert empty(ctx, keys) == 3  # hour 0 holds a sample
    assert empty(ctx, keys) == 0  # already marked
    write(ctx, [stat(iid, "cpu", at(1)), stat(iid, "connections", at(2))])
    with ctx.sessions() as session:
        left = session.scalars(select(EmptyHourRow.hour).order_by(EmptyHourRow.hour)).all()
    assert left == [at(2), at(3)]


def test_known_hours_with_and_without_empty_markers(ctx: Context) -> None:
    a, b = add_instances(ctx, 2)
    write(ctx, [stat(a, "cpu", at(h)) for h in (0, 1, 5)] + [stat(b, "connections", at(2))])
    empty(ctx, [(a, "cpu", at(3)), (b, "cpu", at(4))])
    window = HourRange(at(1), at(5))
    with ctx.sessions() as session:
        known = samples.known_hours(session, [a, b], ["cpu", "connections"], window)
        forced = samples.known_hours(session, [a, b], ["cpu"], window, include_empty=False)
    assert known == {
        (a, "cpu"): {at(1), at(3)},
        (a, "connections"): set(),
        (b, "cpu"): {at(4)},
        (b, "connections"): {at(2)},
    }
    assert forced == {(a, "cpu"): {at(1)}, (b, "cpu"): set()}


def test_coverage_gives_every_state(ctx: Context) -> None:
    iid, other = add_instances(ctx, 2)
    write(ctx, [stat(iid, m, at(0)) for m in METRICS])  # complete
    write(ctx, [stat(iid, "cpu", at(1))])  # partial
    empty(ctx, [(iid, m, at(1)) for m in METRICS[1:]])  # partial beats empty
    empty(ctx, [(iid, "cpu", at(2))])  # empty
    with transaction(ctx.sessions) as session:
        samples.mark_asleep(session, iid, METRICS, [at(3)], NOW)  # asleep
        samples.mark_asleep(session, iid, ["cpu"], [at(4)], NOW)
    write(ctx, [stat(iid, m, at(4)) for m in METRICS[1:]])  # asleep beats complete
    write(ctx, [stat(iid, "write_iops", at(5))])  # unconfigured metric: still missing
    write(ctx, [stat(other, m, at(h)) for m in METRICS for h in range(6)])
    window = HourRange(at(0), at(7))  # hour 6: missing
    with ctx.sessions() as session:
        states = samples.coverage(session, iid, METRICS, window)
        summary = samples.coverage_summary(session, [iid, other], METRICS, window)
    assert list(states) == list(window)
    assert list(states.values()) == [
        Coverage.COMPLETE,
        Coverage.PARTIAL,
        Coverage.EMPTY,
        Coverage.ASLEEP,
        Coverage.ASLEEP,
        Coverage.MISSING,
        Coverage.MISSING,
    ]
    assert summary[iid] == {
        Coverage.COMPLETE: 1,
        Coverage.PARTIAL: 1,
        Coverage.PROVISIONAL: 0,
        Coverage.EMPTY: 1,
        Coverage.ASLEEP: 2,
        Coverage.MISSING: 2,
    }
    assert summary[other][Coverage.COMPLETE] == 6
    assert summary[other][Coverage.MISSING] == 1


def test_history_is_aligned_to_the_window_with_gaps(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    write(ctx, [stat(iid, "cpu", at(h), float(h + 1)) for h in (0, 2, 3, 9)])
    with transaction(ctx.sessions) as session:
        samples.mark_asleep(session, iid, ["connections"], [at(2)], NOW)
    with ctx.sessions() as session:
        series = samples.history(session, iid, ["cpu", "connections"], HourRange(at(1), at(5)))
    assert series["cpu"] == [
        None,
        SamplePoint(3.0, 6.0, 1.5, 60.0, Source.BACKFILL),
        SamplePoint(4.0, 8.0, 2.0, 60.0, Source.BACKFILL),
        None,
    ]
    assert series["connections"] == [None, SamplePoint(0, 0, 0, 0, Source.ASLEEP), None, None]


def test_latest_skips_asleep_hours(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    write(ctx, [stat(iid, "cpu", at(h), float(h)) for h in range(3)], Source.LIVE)
    write(ctx, [stat(iid, "connections", at(1), 4.0)])
    with transaction(ctx.sessions) as session:
        samples.mark_asleep(session, iid, ["cpu", "connections"], [at(3), at(4)], NOW)
        samples.mark_asleep(session, iid, ["read_iops"], [at(4)], NOW)
    with ctx.sessions() as session:
        found = samples.latest(session, iid, ["cpu", "connections", "read_iops", "write_iops"])
    assert found == {
        "cpu": (at(2), SamplePoint(2.0, 4.0, 1.0, 60.0, Source.LIVE)),
        "connections": (at(1), SamplePoint(4.0, 8.0, 2.0, 60.0, Source.BACKFILL)),
    }


def test_retention_deletes_only_old_rows_across_batches(ctx: Context) -> None:
    ids = add_instances(ctx, 3)
    write(ctx, [stat(i, m, at(h)) for i in ids for m in ("cpu", "connections") for h in range(10)])
    empty(ctx, [(i, "read_iops", at(h)) for i in ids for h in range(10)])
    cutoff = at(6)
    # 3 instances x 6 old hours x (2 metrics + 1 empty marker): 36 samples, 18 markers
    assert retention.enforce_retention(ctx.sessions, cutoff, batch=7) == 54
    with ctx.sessions() as session:
        hours = session.scalars(select(SampleRow.hour).distinct()).all()
        marked = session.scalars(select(EmptyHourRow.hour).distinct()).all()
    assert sorted(hours) == sorted(marked) == [at(h) for h in range(6, 10)]
    assert count(ctx, SampleRow) == 24
    assert retention.enforce_retention(ctx.sessions, cutoff, batch=7) == 0


def test_a_large_upsert_is_chunked(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = add_instances(ctx, 5)
    monkeypatch.setattr(samples, "CHUNK_ROWS", 7_000)  # three chunks
    metrics = ["cpu", "connections", "freeable_memory", "read_iops", "write_iops"]
    stats = [stat(i, m, at(h), h) for i in ids for m in metrics for h in range(800)]
    assert len(stats) == 20_000
    empty(ctx, [(ids[0], "cpu", at(h)) for h in range(800, 810)])
    later = at(900)  # after the last hour was final: none of them is provisional
    assert write(ctx, stats, fetched_at=later) == 20_000
    assert write(ctx, stats, fetched_at=later) == 20_000
    assert count(ctx, SampleRow) == 20_000
    window = HourRange(at(0), at(810))
    with ctx.sessions() as session:
        known = samples.known_hours(session, ids, metrics, window)
        summary = samples.coverage_summary(session, ids, metrics, window)
    assert all(len(hours) == 800 for key, hours in known.items() if key != (ids[0], "cpu"))
    assert len(known[(ids[0], "cpu")]) == 810
    assert summary[ids[0]][Coverage.COMPLETE] == 800
    assert summary[ids[0]][Coverage.EMPTY] == 10


@pytest.mark.parametrize("hour", [datetime(2026, 11, 1), datetime(2026, 11, 1, 0, 30, tzinfo=UTC)])
def test_hours_must_be_aware_and_on_the_hour(ctx: Context, hour: datetime) -> None:
    (iid,) = add_instances(ctx)
    with pytest.raises(ValueError, match="on the hour"):
        write(ctx, [stat(iid, "cpu", hour)])
    with pytest.raises(ValueError, match="on the hour"):
        empty(ctx, [(iid, "cpu", hour)])


def test_a_pending_instance_is_flushed_before_its_samples(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    with transaction(ctx.sessions) as session:
        original = session.get_one(InstanceRow, iid)
        fields = {c.key: getattr(original, c.key) for c in InstanceRow.__table__.columns}
        row = InstanceRow(**{**fields, "provider_id": "db-new"})
        row.id = iid + 100
        session.add(row)  # not flushed: the upsert must flush it before writing its samples
        samples.upsert(session, [stat(row.id, "cpu", at(0))], Source.LIVE, NOW)
    assert count(ctx, SampleRow) == 1


def test_a_plain_connection_works_too(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    window = HourRange(at(0), at(3))
    with ctx.engine.begin() as conn:
        samples.upsert(conn, [stat(iid, "cpu", at(1), 2.0)], Source.LIVE, NOW)
        samples.mark_empty(conn, [(iid, "cpu", at(2))], NOW)
        assert samples.history(conn, iid, ["cpu"], window)["cpu"] == [
            None,
            SamplePoint(2.0, 4.0, 1.0, 60.0, Source.LIVE),
            None,
        ]
        assert samples.latest(conn, iid, ["cpu"])["cpu"][0] == at(1)
        assert samples.known_hours(conn, [iid], ["cpu"], window) == {(iid, "cpu"): {at(1), at(2)}}
        assert list(samples.coverage(conn, iid, ["cpu"], window).values()) == [
            Coverage.MISSING,
            Coverage.COMPLETE,
            Coverage.EMPTY,
        ]
