"""Two writers at once on PostgreSQL (READ COMMITTED): discovery's sync of one region, the
summaries of one hour written in two parts, and two accounts of one name (see racehelp)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dbsnooze.context import Context
from dbsnooze.domain import AuthMethod, Credentials, HourlyStat, Provider, Source
from dbsnooze.errors import Conflict
from dbsnooze.store import accounts as account_store
from dbsnooze.store import instances as instance_store
from dbsnooze.store import samples, summaries
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow, SummaryRow
from metricshelp import register
from racehelp import overlapping
from schedhelp import NOW, db, fleet

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("store_url", ["postgres"], indirect=True),  # skipped without one
]
REGION = "eu-west-1"
HOUR = datetime(2026, 11, 18, 13, tzinfo=UTC)


def test_two_discoveries_of_a_new_instance_at_once_store_it_once(ctx: Context) -> None:
    """Both list the new instance; the second syncs after the first committed and finds it."""
    fleet(ctx)  # the account, no instance yet
    with ctx.sessions() as session:
        account = account_store.by_name(session, "main")
        assert account is not None
        account_id = account.id
    found = [db("orders-db")]

    def sync(session: Session) -> instance_store.SyncCounts:
        return instance_store.sync_region(session, (account_id, "aws"), REGION, found, NOW)

    def second() -> instance_store.SyncCounts:
        with transaction(ctx.sessions) as session:
            return sync(session)

    counts = overlapping(ctx, sync, second)

    assert (counts.seen, counts.new) == (1, 0)
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InstanceRow)) == 1


def test_one_hour_written_in_two_parts_at_once_is_summarized_whole(ctx: Context) -> None:
    """The backfill writes CPU and IOPS of an hour while live collection writes its connections:
    whichever folds second reads the hour back after the other committed, all its metrics."""
    iid = register(ctx, "http://127.0.0.1:9", ["orders-db"])["orders-db"]

    def backfill(session: Session) -> None:
        stats = [_quiet(iid, metric) for metric in ("cpu", "read_iops", "write_iops")]
        samples.upsert(session, stats, Source.BACKFILL, NOW)

    def live() -> None:
        with transaction(ctx.sessions) as session:
            samples.upsert(session, [_quiet(iid, "connections")], Source.LIVE, NOW)

    overlapping(ctx, backfill, live)

    kept = _summary(ctx, iid)
    assert (kept["idle_hours"], kept["awake_hours"]) == (1, 1)  # measured, and idle
    with transaction(ctx.sessions) as session:
        summaries.rebuild(session.connection(), [iid])
    assert _summary(ctx, iid) == kept


def test_two_accounts_of_one_name_at_once_are_a_conflict(ctx: Context) -> None:
    """The name is checked before the credentials test (seconds); the second insert, after the
    first committed, is the 409 the check would have given."""
    keys = Credentials(AuthMethod.DEFAULT_CHAIN)
    new = NewAccount(Provider.AWS, "main", (REGION,), keys, None, None)

    def add(session: Session) -> None:
        account_store.add(session, ctx.box, new, NOW)

    def second() -> None:
        with transaction(ctx.sessions) as session:
            add(session)

    with pytest.raises(Conflict) as refused:
        overlapping(ctx, add, second)
    assert refused.value.code == "account_exists"


def _quiet(instance_id: int, metric: str) -> HourlyStat:
    return HourlyStat(instance_id, metric, HOUR, 0.0, 0.0, 0.0, 60.0)


def _summary(ctx: Context, instance_id: int) -> dict[str, object]:
    with ctx.sessions() as session:
        row = session.get(SummaryRow, instance_id)
        assert row is not None
        return {c.name: getattr(row, c.key) for c in SummaryRow.__table__.columns}
