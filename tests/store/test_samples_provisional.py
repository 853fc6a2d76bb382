"""Provisional samples (fetched before their hour was final) and asleep markers that never
replace what was measured, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dbsnooze.context import Context
from dbsnooze.domain import HOUR, Coverage, HourlyStat, HourRange, Source
from dbsnooze.store import samples
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import SampleRow
from metricshelp import register

H13 = datetime(2026, 11, 18, 13, tzinfo=UTC)  # 13:00-14:00 turns final after 14:10
METRICS = ["cpu", "connections"]


def _instance(ctx: Context) -> int:
    return register(ctx, "http://127.0.0.1:9", ["db-1"])["db-1"]


def _write(ctx: Context, iid: int, hour: datetime, at: datetime, value: float = 1.0) -> None:
    stats = [HourlyStat(iid, m, hour, value, value * 2, value / 2, 60.0) for m in METRICS]
    with transaction(ctx.sessions) as session:
        samples.upsert(session, stats, Source.LIVE, at)


def _finality(ctx: Context, iid: int) -> dict[datetime, bool]:
    with ctx.sessions() as session:
        rows = session.execute(
            select(SampleRow.hour, SampleRow.final).where(SampleRow.instance_id == iid)
        )
        return {hour: bool(final) for hour, final in rows}


def test_a_sample_is_final_only_when_fetched_more_than_ten_minutes_after_its_hour(
    ctx: Context,
) -> None:
    iid = _instance(ctx)
    end = H13 + HOUR
    _write(ctx, iid, H13, end + timedelta(minutes=5))
    _write(ctx, iid, H13 - HOUR, end + timedelta(minutes=10) - HOUR)  # exactly 10 minutes after
    _write(ctx, iid, H13 - 2 * HOUR, end + timedelta(minutes=10, microseconds=1) - 2 * HOUR)
    _write(ctx, iid, H13 + HOUR, end)  # the current hour, still filling

    assert _finality(ctx, iid) == {
        H13 - 2 * HOUR: True,
        H13 - HOUR: False,
        H13: False,
        H13 + HOUR: False,
    }


def test_provisional_hours_are_not_known_and_show_as_provisional(ctx: Context) -> None:
    iid = _instance(ctx)
    _write(ctx, iid, H13, H13 + timedelta(minutes=30))  # fetched mid-hour
    _write(ctx, iid, H13 - HOUR, H13 + timedelta(minutes=30))  # fetched after it was final
    window = HourRange(H13 - 2 * HOUR, H13 + HOUR)

    with ctx.sessions() as session:
        known = samples.known_hours(session, [iid], METRICS, window)
        stored = samples.known_hours(session, [iid], METRICS, window, include_provisional=True)
        again = samples.provisional_hours(session, window, METRICS)
        states = samples.coverage(session, iid, METRICS, window)
        summary = samples.coverage_summary(session, [iid], METRICS, window)[iid]
        found = samples.series(session, iid, METRICS, window)

    assert known == {(iid, m): {H13 - HOUR} for m in METRICS}
    assert stored == {(iid, m): {H13 - HOUR, H13} for m in METRICS}
    assert again == {(iid, m): {H13} for m in METRICS}
    assert list(states.values()) == [Coverage.MISSING, Coverage.COMPLETE, Coverage.PROVISIONAL]
    assert samples.hour_coverage(found, window, set()) == list(states.values())
    assert (summary[Coverage.PROVISIONAL], summary[Coverage.COMPLETE]) == (1, 1)

    _write(ctx, iid, H13, H13 + timedelta(hours=3), value=2.0)  # fetched again, now final
    with ctx.sessions() as session:
        assert samples.provisional_hours(session, window, METRICS) == {}
        assert samples.coverage(session, iid, METRICS, window)[H13] is Coverage.COMPLETE


def test_asleep_never_replaces_a_real_sample(ctx: Context) -> None:
    iid = _instance(ctx)
    stopped_at = H13 + timedelta(minutes=40)
    _write(ctx, iid, H13, H13 + timedelta(minutes=30), value=3.0)  # measured before it stopped
    with transaction(ctx.sessions) as session:
        samples.mark_asleep(session, iid, [*METRICS, "read_iops"], [H13, H13 + HOUR], stopped_at)
        later = stopped_at + timedelta(hours=2)
        samples.mark_asleep(session, iid, ["read_iops"], [H13 + HOUR], later)  # asleep again
    with ctx.sessions() as session:
        rows = {
            (r.metric, r.hour): (r.average, r.source, r.fetched_at)
            for r in session.scalars(select(SampleRow).where(SampleRow.instance_id == iid))
        }

    assert rows == {
        ("cpu", H13): (3.0, "live", H13 + timedelta(minutes=30)),
        ("connections", H13): (3.0, "live", H13 + timedelta(minutes=30)),
        ("read_iops", H13): (0.0, "asleep", stopped_at),  # nothing measured: asleep fills it
        ("cpu", H13 + HOUR): (0.0, "asleep", stopped_at),
        ("connections", H13 + HOUR): (0.0, "asleep", stopped_at),
        ("read_iops", H13 + HOUR): (0.0, "asleep", later),  # an asleep marker is renewed
    }
    _write(ctx, iid, H13 + HOUR, later, value=5.0)  # it woke up: data replaces asleep
    with ctx.sessions() as session:
        row = session.get(SampleRow, (iid, "cpu", H13 + HOUR))
        assert row is not None and (row.average, row.source) == (5.0, "live")
