"""An account's deletion takes its instances' history with it (SQLite and PostgreSQL).

Samples and empty markers have no foreign key to instances (migration 0005): the deletion is
explicit, so nothing may be left behind.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, inspect, select

from dbsnooze import accounts
from dbsnooze.context import Context
from dbsnooze.domain import (
    HOUR,
    AuthMethod,
    Credentials,
    DiscoveredInstance,
    HourlyStat,
    Provider,
    Source,
)
from dbsnooze.store import accounts as account_store
from dbsnooze.store import instances as instance_store
from dbsnooze.store import samples
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import EmptyHourRow, InstanceRow, SampleRow, SummaryRow
from metricshelp import register

H0 = datetime(2026, 11, 18, 10, tzinfo=UTC)
NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)


def counts(ctx: Context) -> tuple[int, ...]:
    """Instances, samples, empty markers, summaries."""
    with ctx.sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(row)) or 0
            for row in (InstanceRow, SampleRow, EmptyHourRow, SummaryRow)
        )


def test_deleting_an_account_deletes_its_instances_history_and_no_other(ctx: Context) -> None:
    ids = register(ctx, "http://127.0.0.1:9", ["doomed-db"])
    kept = _other_account_instance(ctx)  # whose history must stay
    for instance_id in (ids["doomed-db"], kept):
        with transaction(ctx.sessions) as session:
            stats = [
                HourlyStat(instance_id, "cpu", H0 + i * HOUR, 9.0, 9.0, 9.0, 60.0) for i in range(3)
            ]
            samples.upsert(session, stats, Source.BACKFILL, NOW)
            samples.mark_empty(session, [(instance_id, "connections", H0)], NOW)
    assert counts(ctx) == (2, 6, 2, 2)
    with ctx.sessions() as session:
        doomed = account_store.by_name(session, "main")
        assert doomed is not None

    accounts.delete(ctx, doomed.id, "test")

    assert counts(ctx) == (1, 3, 1, 1)
    with ctx.sessions() as session:
        assert set(session.scalars(select(SampleRow.instance_id))) == {kept}


def test_samples_and_markers_have_no_foreign_key_to_instances(ctx: Context) -> None:
    found = inspect(ctx.engine)
    for table in ("metric_samples", "empty_hours"):
        assert found.get_foreign_keys(table) == []
        assert found.get_pk_constraint(table)["constrained_columns"] == [
            "instance_id",
            "metric",
            "hour",
        ]


def _other_account_instance(ctx: Context) -> int:
    keys = Credentials(AuthMethod.DEFAULT_CHAIN)
    new = NewAccount(Provider.AWS, "other", ("eu-west-1",), keys, None, None)
    found = DiscoveredInstance(
        "kept-db", "eu-west-1", "mysql", "8.0", "db.t3.micro", "up", {}, None
    )
    with transaction(ctx.sessions) as session:
        account = account_store.add(session, ctx.box, new, NOW)
        synced = instance_store.sync_region(session, (account.id, "aws"), "eu-west-1", [found], NOW)
    return synced.new_ids[0]
