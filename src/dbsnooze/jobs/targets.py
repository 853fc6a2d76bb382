"""Stored instances and accounts turned into what the collectors need."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.context import Context
from dbsnooze.domain import CloudAccount, Provider, Target
from dbsnooze.store import accounts as account_store
from dbsnooze.store.instances import HAS_HISTORY
from dbsnooze.store.tables import InstanceRow

ASLEEP_STATES = frozenset({"stopped"})


def to_target(row: InstanceRow) -> Target:
    return Target(
        instance_id=row.id,
        account_id=row.account_id,
        region=row.region,
        provider_id=row.provider_id,
        instance_class=row.instance_class,
        running=row.status not in ASLEEP_STATES,
        since=row.cloud_created_at,
        provider=Provider(row.provider),
    )


def targets_for(session: Session, instance_ids: Sequence[int]) -> list[Target]:
    if not instance_ids:
        return []
    rows = session.scalars(
        select(InstanceRow)
        .where(InstanceRow.id.in_(instance_ids), HAS_HISTORY)
        .order_by(InstanceRow.id)
    )
    return [to_target(row) for row in rows]


def live_targets(session: Session) -> list[Target]:
    """Every instance still in the cloud: running ones are collected, stopped ones asleep.
    Cluster rows are no targets: their members are."""
    rows = session.scalars(
        select(InstanceRow)
        .where(InstanceRow.deleted_at.is_(None), HAS_HISTORY)
        .order_by(InstanceRow.id)
    )
    return [to_target(row) for row in rows]


def load_accounts(
    ctx: Context, session: Session, targets: Sequence[Target]
) -> dict[int, CloudAccount]:
    wanted = {t.account_id for t in targets}
    return {
        row.id: account_store.to_domain(row, ctx.box)
        for row in account_store.all_rows(session)
        if row.id in wanted
    }
