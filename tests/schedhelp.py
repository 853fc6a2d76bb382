"""Shared by the schedule tests: instances stored as discovery stores them, without a cloud."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from dbsnooze.context import Context
from dbsnooze.domain import AuthMethod, Credentials, DiscoveredInstance, Provider
from dbsnooze.store import accounts as account_store
from dbsnooze.store import instances as instance_store
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import AccountRow, InstanceRow

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)  # a Wednesday


def db(
    name: str, engine: str = "postgres", region: str = "eu-west-1", **tags: str
) -> DiscoveredInstance:
    return DiscoveredInstance(name, region, engine, "16", "db.t3.micro", "available", tags, None)


def fleet(ctx: Context, *found: DiscoveredInstance, now: datetime = NOW) -> dict[str, int]:
    """Store the instances (in one account "main", region eu-west-1); ids by name."""
    with transaction(ctx.sessions) as session:
        account = session.scalar(select(AccountRow).where(AccountRow.name == "main"))
        if account is None:
            keys = Credentials(AuthMethod.DEFAULT_CHAIN)
            new = NewAccount(Provider.AWS, "main", ("eu-west-1",), keys, None, None)
            account = account_store.add(session, ctx.box, new, now)
        instance_store.sync_region(session, (account.id, "aws"), "eu-west-1", found, now)
        return {row.provider_id: row.id for row in session.scalars(select(InstanceRow))}
