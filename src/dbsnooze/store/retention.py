"""Retention: samples and empty markers older than the cutoff go, in short batches.

Each batch is its own transaction, so a large purge never holds locks for long.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from dbsnooze.store import summaries
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import EmptyHourRow, InstanceRow, SampleRow

Key = tuple[int, str, datetime]


def enforce_retention(sessions: sessionmaker[Session], cutoff: datetime, batch: int = 5000) -> int:
    """Delete samples and empty markers older than `cutoff`; returns rows deleted.

    Summaries then forget what was deleted (store.summaries.forget_before).

    Each batch is its own short transaction, so a large purge never holds locks for long. Batches
    walk the primary key in order, so the whole purge reads the index once.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    deleted = sum(_purge(sessions, row, cutoff, batch) for row in (SampleRow, EmptyHourRow))
    with transaction(sessions) as session:
        summaries.forget_before(session.connection(), cutoff)
    return deleted


def _purge(
    sessions: sessionmaker[Session],
    row: type[SampleRow] | type[EmptyHourRow],
    cutoff: datetime,
    batch: int,
) -> int:
    deleted, after = 0, None
    while True:
        with transaction(sessions) as session:
            until = _batch_end(session, row, cutoff, after, batch)
            query = delete(row).where(*_key_range(row, cutoff, after, until))
            deleted += session.connection().execute(query).rowcount
        if until is None:
            return deleted
        after = until


def _batch_end(
    session: Session,
    row: type[SampleRow] | type[EmptyHourRow],
    cutoff: datetime,
    after: Key | None,
    batch: int,
) -> Key | None:
    """The key of the batch's last old row, or None when fewer than `batch` remain."""
    query = (
        select(row.instance_id, row.metric, row.hour)
        .where(*_key_range(row, cutoff, after, None))
        .order_by(row.instance_id, row.metric, row.hour)
        .offset(batch - 1)
        .limit(1)
    )
    found = session.execute(query).tuples().first()
    return None if found is None else (found[0], found[1], found[2])


def _key_range(
    row: type[SampleRow] | type[EmptyHourRow],
    cutoff: datetime,
    after: Key | None,
    until: Key | None,
) -> list[ColumnElement[bool]]:
    key = tuple_(row.instance_id, row.metric, row.hour)
    conditions = [row.hour < cutoff]
    if after is not None:
        conditions.append(key > after)
    if until is not None:
        conditions.append(key <= until)
    return conditions


def forget_instances(session: Session, account_id: int) -> int:
    """Delete the samples and empty markers of an account's instances, before the account goes;
    returns rows deleted. (They have no foreign key to cascade through: see migration 0005.)"""
    instances = select(InstanceRow.id).where(InstanceRow.account_id == account_id)
    conn = session.connection()
    return sum(
        conn.execute(delete(row).where(row.instance_id.in_(instances))).rowcount
        for row in (SampleRow, EmptyHourRow)
    )
