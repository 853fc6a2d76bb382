"""Overrides: a person's "keep awake" or "keep asleep" for one instance, until a time.

They win over the schedule while they last; the reconciler drops expired ones (`expire`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Insert, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dbsnooze.store import events
from dbsnooze.store.tables import OverrideRow

AWAKE = "awake"
ASLEEP = "asleep"
STATES = (AWAKE, ASLEEP)


@dataclass(frozen=True, slots=True)
class Override:
    instance_id: int
    state: str  # awake | asleep
    until: datetime
    created_by: str
    created_at: datetime

    @property
    def asleep(self) -> bool:
        return self.state == ASLEEP


def _convert(row: OverrideRow) -> Override:
    return Override(row.instance_id, row.state, row.until, row.created_by, row.created_at)


def put(
    session: Session, instance_id: int, state: str, until: datetime, by: str, now: datetime
) -> Override:
    """Set (or replace) the instance's override; an audit event names who."""
    if state not in STATES:
        raise ValueError(f"an override is awake or asleep, not {state!r}")
    found = Override(instance_id, state, until, by, now)
    # one statement, not "read, then insert or update": two people setting one instance's
    # override at once would both find none and the second insert fail
    session.execute(_upsert(session, found))
    loaded = session.identity_map.get(session.identity_key(OverrideRow, instance_id))
    if loaded is not None:
        session.expire(loaded)  # read earlier in this session: it holds what was replaced
    detail = {"state": state, "until": until.isoformat()}
    events.record(session, now, by, "override.set", ("instance", instance_id), detail)
    session.flush()
    return found


def _upsert(session: Session, found: Override) -> Insert:
    table = cast(Table, OverrideRow.__table__)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {
        "instance_id": found.instance_id,
        "state": found.state,
        "until": found.until,
        "created_by": found.created_by,
        "created_at": found.created_at,
    }
    insert = dialect.insert(table).values(values)
    replaced = {name: insert.excluded[name] for name in values if name != "instance_id"}
    statement: Insert = insert.on_conflict_do_update(index_elements=["instance_id"], set_=replaced)
    return statement


def clear(session: Session, instance_id: int, by: str, now: datetime) -> bool:
    """Remove the instance's override; False when it had none."""
    row = session.get(OverrideRow, instance_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    events.record(session, now, by, "override.cleared", ("instance", instance_id), {})
    return True


def get(session: Session, instance_id: int, now: datetime) -> Override | None:
    row = session.get(OverrideRow, instance_id)
    return _convert(row) if row is not None and row.until > now else None


def active(
    session: Session, now: datetime, instance_ids: Sequence[int] | None = None
) -> dict[int, Override]:
    """Overrides still in force, by instance id."""
    query = select(OverrideRow).where(OverrideRow.until > now)
    if instance_ids is not None:
        query = query.where(OverrideRow.instance_id.in_(list(instance_ids)))
    return {row.instance_id: _convert(row) for row in session.scalars(query)}


def expire(session: Session, now: datetime) -> list[Override]:
    """Drop the overrides that ended, each with an audit event; the ones dropped.

    Their rows are locked as they are read: one a person sets again meanwhile is read after
    that is committed, no longer ended, and kept (on SQLite the database's write lock is taken).
    """
    query = select(OverrideRow).where(OverrideRow.until <= now).with_for_update()
    rows = session.scalars(query.execution_options(populate_existing=True))
    ended = [_convert(r) for r in rows]
    if ended:
        ids = [o.instance_id for o in ended]
        session.execute(
            delete(OverrideRow).where(OverrideRow.instance_id.in_(ids)),
            execution_options={"synchronize_session": "fetch"},
        )
    for override in ended:
        detail = {"state": override.state, "until": override.until.isoformat()}
        subject = ("instance", override.instance_id)
        events.record(session, now, "reconciler", "override.expired", subject, detail)
    return ended
