"""Per-instance summaries kept as samples are written, on SQLite and PostgreSQL.

The reference is `rebuild`, which computes a summary afresh from the stored rows: after any
sequence of writes the kept summary must equal the rebuilt one, and both must say what the
samples say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import shapes
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select

from dbsnooze.context import Context
from dbsnooze.domain import HOUR, Coverage, HourlyStat, HourRange, Source
from dbsnooze.store import recent, retention, samples, summaries
from dbsnooze.store.db import MIGRATIONS, transaction, upgrade
from dbsnooze.store.tables import SampleRow, SummaryRow
from metricshelp import register

NO_ENDPOINT = "http://127.0.0.1:9"  # the cloud is never asked here
NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
NEWEST = datetime(2026, 11, 18, 13, tzinfo=UTC)
ALL = ["cpu", "connections", "freeable_memory", "read_iops", "write_iops"]
# An hour is active or idle only with every metric the idle rule reads (analysis.idle): tests
# of last activity and idle share write whole hours.
RULE = ["cpu", "connections", "read_iops", "write_iops"]


def add_instances(ctx: Context, count: int = 1) -> list[int]:
    names = [f"db-{i}" for i in range(count)]
    ids = register(ctx, NO_ENDPOINT, names)
    return [ids[name] for name in names]


def ago(hours: int) -> datetime:
    return NEWEST - hours * HOUR


def stat(instance_id: int, metric: str, hour: datetime, value: float) -> HourlyStat:
    return HourlyStat(instance_id, metric, hour, value, value + 1, max(0.0, value - 1), 60.0)


def whole(
    instance_id: int, hour: datetime, cpu: float, connections: float = 0.0
) -> list[HourlyStat]:
    """One hour of every rule metric; `stat` makes the connections' maximum `connections + 1`."""
    values = {"cpu": cpu, "connections": connections}
    return [stat(instance_id, m, hour, values.get(m, 0.0)) for m in RULE]


def write(ctx: Context, stats: list[HourlyStat], source: Source = Source.BACKFILL) -> None:
    with transaction(ctx.sessions) as session:
        samples.upsert(session, stats, source, NOW)


def summary(ctx: Context, instance_id: int) -> dict[str, Any]:
    with ctx.sessions() as session:
        row = session.get(SummaryRow, instance_id)
        assert row is not None
        return {c.name: getattr(row, c.key) for c in SummaryRow.__table__.columns}


def rebuilt(ctx: Context, instance_id: int) -> dict[str, Any]:
    with transaction(ctx.sessions) as session:
        summaries.rebuild(session.connection(), [instance_id])
    return summary(ctx, instance_id)


def hour_flags(found: dict[str, Any], hour: datetime) -> int:
    first = found["newest_hour"] - (recent.RECENT_HOURS - 1) * HOUR
    flags: list[int] = found["hour_flags"]
    return flags[int((hour - first) / HOUR)]


def test_a_busy_then_idle_week_is_summarized_as_stored(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    # 200 hours of every metric: CPU 20 % in the oldest 40 hours, 1 % after; never a connection
    stats = [
        stat(iid, metric, ago(h), (20.0 if h >= 160 else 1.0) if metric == "cpu" else 0.0)
        for metric in ALL
        for h in range(200)
    ]
    write(ctx, stats[: len(stats) // 2])  # two batches: what one call after another would write
    write(ctx, stats[len(stats) // 2 :])

    found = summary(ctx, iid)

    assert found["newest_hour"] == NEWEST
    assert found["oldest_sample_hour"] == ago(199)
    assert found["last_active_hour"] == ago(160)
    assert (found["idle_hours"], found["awake_hours"]) == (160, 168)  # the last 7 days
    assert found["idle_share"] == 160 / 168
    assert found["cpu_averages"][-1] == 1.0 and found["cpu_averages"][0] == 20.0
    wanted = recent.mask(ALL)
    assert recent.coverage(hour_flags(found, ago(3)), wanted) == Coverage.COMPLETE
    assert found == rebuilt(ctx, iid)


def test_the_summary_kept_matches_one_rebuilt_after_mixed_writes(ctx: Context) -> None:
    first, second = add_instances(ctx, 2)
    write(
        ctx,
        [
            stat(i, m, ago(h), float(h % 9))
            for i in (first, second)
            for m in ALL[:2]
            for h in range(100)
        ],
    )
    write(ctx, [stat(first, "cpu", ago(h), 50.0) for h in range(10, 20)], Source.LIVE)
    write(ctx, [stat(first, "cpu", ago(h), 0.0) for h in range(5, 30)], Source.ASLEEP)
    write(ctx, [stat(second, m, ago(h), 0.0) for m in ALL for h in range(100, 110)], Source.ASLEEP)
    with transaction(ctx.sessions) as session:
        keys = [(second, m, ago(h)) for m in ALL for h in range(110, 130)]
        samples.mark_empty(session, keys, NOW)
    write(ctx, [stat(second, "read_iops", ago(h), 3.0) for h in range(120, 125)])

    for iid in (first, second):
        assert summary(ctx, iid) == rebuilt(ctx, iid)
    found = summary(ctx, second)
    wanted = recent.mask(ALL)
    assert recent.coverage(hour_flags(found, ago(105)), wanted) == Coverage.ASLEEP
    assert recent.coverage(hour_flags(found, ago(115)), wanted) == Coverage.EMPTY
    assert recent.coverage(hour_flags(found, ago(122)), wanted) == Coverage.PARTIAL
    assert recent.coverage(hour_flags(found, ago(50)), recent.mask(ALL[:2])) == (Coverage.COMPLETE)


def test_asleep_markers_are_summarized_as_the_store_keeps_them(ctx: Context) -> None:
    (iid,) = add_instances(ctx)
    write(ctx, [stat(iid, "cpu", ago(h), 30.0) for h in (2, 400)])
    write(ctx, [stat(iid, "cpu", ago(h), 0.0) for h in [*range(4), 400]], Source.ASLEEP)

    found = summary(ctx, iid)

    with ctx.sessions() as session:
        kept = session.get(SampleRow, (iid, "cpu", ago(2)))
        assert kept is not None
    cpu_asleep = recent.BIT["cpu"] << recent.ASLEEP
    assert hour_flags(found, ago(1)) & cpu_asleep
    assert bool(hour_flags(found, ago(2)) & cpu_asleep) == (kept.source == "asleep")
    assert found["cpu_averages"][-3] == kept.average
    assert found == rebuilt(ctx, iid)


def test_overwriting_the_last_active_hour_with_idle_values_finds_the_one_before(
    ctx: Context,
) -> None:
    (iid,) = add_instances(ctx)
    write(ctx, [s for h in (300, 50, 10) for s in whole(iid, ago(h), 40.0)])
    write(ctx, whole(iid, ago(30), 0.0, connections=3.0))
    assert summary(ctx, iid)["last_active_hour"] == ago(10)

    write(ctx, [stat(iid, "cpu", ago(10), 0.5)])  # a forced repair: the cloud says idle now

    assert summary(ctx, iid)["last_active_hour"] == ago(30)
    write(ctx, [stat(iid, "connections", ago(30), 0.0), stat(iid, "cpu", ago(50), 0.0)])
    assert summary(ctx, iid)["last_active_hour"] == ago(300)  # older than the recent hours
    assert summary(ctx, iid) == rebuilt(ctx, iid)


def test_hours_that_leave_the_recent_window_are_forgotten_as_newer_ones_arrive(
    ctx: Context,
) -> None:
    (iid,) = add_instances(ctx)
    write(ctx, [s for h in range(24) for s in whole(iid, ago(h + 500), 9.0)])
    old = summary(ctx, iid)
    assert old["newest_hour"] == ago(500) and old["idle_share"] == 0.0

    write(ctx, [s for h in range(3) for s in whole(iid, ago(h), 1.0)], Source.LIVE)

    found = summary(ctx, iid)
    assert found["newest_hour"] == NEWEST
    assert found["cpu_averages"][:-3] == [None] * (recent.RECENT_HOURS - 3)
    assert (found["idle_hours"], found["awake_hours"], found["idle_share"]) == (3, 3, 1.0)
    assert found["last_active_hour"] == ago(500)
    assert found == rebuilt(ctx, iid)


def test_retention_leaves_summaries_of_what_remains(ctx: Context) -> None:
    busy, gone = add_instances(ctx, 2)
    write(ctx, [s for h in range(300) for s in whole(busy, ago(h), 30.0 if h >= 100 else 1.0)])
    write(ctx, [s for h in range(10) for s in whole(gone, ago(h + 400), 30.0)])

    cutoff = ago(150) + timedelta(minutes=20)
    retention.enforce_retention(ctx.sessions, cutoff)

    found = summary(ctx, busy)
    assert found["last_active_hour"] == ago(100)
    assert found["oldest_sample_hour"] == ago(149)
    with ctx.sessions() as session:
        assert session.get(SummaryRow, gone) is None
    retention.enforce_retention(ctx.sessions, ago(50))
    found = summary(ctx, busy)
    assert found["last_active_hour"] is None and found["oldest_sample_hour"] == ago(50)
    assert found["hour_flags"] == rebuilt(ctx, busy)["hour_flags"]


def test_the_migration_builds_summaries_for_history_stored_before_it(ctx: Context) -> None:
    """The store as it was before the summaries' migration, with history, then upgraded."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["engine"] = ctx.engine
    before = ScriptDirectory.from_config(config).get_revision("0005").down_revision
    assert isinstance(before, str)
    command.downgrade(config, before)
    assert not inspect(ctx.engine).has_table("instance_summaries")
    iid = 1
    rows = [
        {
            "instance_id": iid,
            "metric": metric,
            "hour": ago(h),
            "average": 12.0 if h == 7 and metric == "cpu" else 0.0,
            "maximum": 1.0,
            "minimum": 0.0,
            "sample_count": 60.0,
            "source": "backfill",
            "fetched_at": NOW,
        }
        for h in range(48)
        for metric in RULE
    ]
    with ctx.engine.begin() as conn:
        shapes.add_instances(conn, [iid])  # the ORM's instances are the newest shape
        conn.execute(insert(shapes.SAMPLES), rows)

    upgrade(ctx.engine)

    with ctx.engine.connect() as conn:
        found = summaries.read(conn, [iid])[iid]
        assert conn.execute(select(SummaryRow.instance_id)).scalars().all() == [iid]
    assert (found.newest_hour, found.last_active_hour) == (NEWEST, ago(7))
    assert found.idle_share == 47 / 48
    assert inspect(ctx.engine).get_foreign_keys("metric_samples") == []
    with ctx.sessions() as session:  # the rebuilt table kept every sample
        kept = samples.history(session, iid, ["cpu"], HourRange(ago(47), NEWEST + HOUR))
    assert [point.average if point else None for point in kept["cpu"]] == [
        row["average"] for row in reversed(rows) if row["metric"] == "cpu"
    ]


def test_an_hour_is_classified_with_every_metric_even_from_separate_writes(ctx: Context) -> None:
    """Read and write IOPS of 15 each are active together (30 >= 20), written one at a time;
    an hour without its IOPS is unknown: neither idle nor active."""
    (iid,) = add_instances(ctx)
    write(ctx, [stat(iid, m, ago(h), 0.0) for m in ("cpu", "connections") for h in (1, 2)])
    assert summary(ctx, iid)["awake_hours"] == 0  # IOPS are collected and still missing
    write(ctx, [stat(iid, "read_iops", ago(h), 15.0) for h in (1, 2)])
    write(ctx, [stat(iid, "write_iops", ago(1), 15.0), stat(iid, "write_iops", ago(2), 0.0)])

    found = summary(ctx, iid)
    assert found["last_active_hour"] == ago(1)
    assert (found["idle_hours"], found["awake_hours"]) == (1, 2)
    assert found == rebuilt(ctx, iid)
