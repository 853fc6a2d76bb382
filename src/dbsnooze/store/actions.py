"""The reconciler's actions in the store: planned, claimed, finished, listed.

One open action (planned or in flight) per instance, enforced by a partial unique index: the
insert that loses a race fails, and a claim is a conditional update, so no two workers act on
one instance even when both reconcile at once.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dbsnooze.store.tables import ActionRow


class State(enum.StrEnum):
    PLANNED = "planned"
    DRY_RUN = "dry_run"
    IN_FLIGHT = "in_flight"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


OPEN = (State.PLANNED.value, State.IN_FLIGHT.value)
STOP = "stop"
START = "start"
KINDS = (STOP, START)
MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class NewAction:
    instance_id: int
    kind: str  # stop | start
    state: State
    reason: str
    actor: str  # schedule:<id> | user:<name>
    schedule_id: int | None = None
    unit: str = "instance"
    holds_until: datetime | None = None
    next_attempt_at: datetime | None = None


def add(session: Session, new: NewAction, now: datetime) -> ActionRow | None:
    """Record an action; None when it would be a second open action of its instance (another
    worker planned one first)."""
    row = ActionRow(
        instance_id=new.instance_id,
        unit=new.unit,
        kind=new.kind,
        state=new.state.value,
        reason=new.reason,
        actor=new.actor,
        schedule_id=new.schedule_id,
        attempts=0,
        next_attempt_at=new.next_attempt_at,
        holds_until=new.holds_until,
        created_at=now,
        finished_at=None if new.state.value in OPEN else now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def open_actions(session: Session, instance_ids: Sequence[int]) -> dict[int, ActionRow]:
    query = select(ActionRow).where(
        ActionRow.instance_id.in_(list(instance_ids)), ActionRow.state.in_(OPEN)
    )
    return {row.instance_id: row for row in session.scalars(query)}


def holding(
    session: Session, instance_ids: Sequence[int], now: datetime
) -> dict[tuple[int, str], ActionRow]:
    """The newest action holding each (instance, kind): no new one of that kind until it ends."""
    query = (
        select(ActionRow)
        .where(ActionRow.instance_id.in_(list(instance_ids)), ActionRow.holds_until > now)
        .order_by(ActionRow.id)
    )
    return {(row.instance_id, row.kind): row for row in session.scalars(query)}


def last_done(session: Session, instance_ids: Sequence[int]) -> dict[int, ActionRow]:
    """Each instance's newest done action (what dbsnooze last did to it)."""
    newest = (
        select(func.max(ActionRow.id))
        .where(ActionRow.instance_id.in_(list(instance_ids)), ActionRow.state == State.DONE)
        .group_by(ActionRow.instance_id)
    )
    query = select(ActionRow).where(ActionRow.id.in_(newest))
    return {row.instance_id: row for row in session.scalars(query)}


def stopped_by_a_person(session: Session) -> list[int]:
    """Instances whose newest done action is a stop a person asked for (an override): when the
    override ends, the reconciler wakes them even without a schedule."""
    newest = (
        select(func.max(ActionRow.id))
        .where(ActionRow.state == State.DONE)
        .group_by(ActionRow.instance_id)
    )
    query = select(ActionRow.instance_id).where(
        ActionRow.id.in_(newest), ActionRow.kind == STOP, ActionRow.actor.like("user:%")
    )
    return list(session.scalars(query))


def locked(session: Session, action_id: int) -> ActionRow | None:
    """The action as committed now, its row locked until the transaction ends.

    A worker deciding about an open action (cancel it, postpone it, skip its window) reads it
    here, so that a claim another worker made meanwhile is seen and never overwritten: it
    waits for that claim's transaction, then reads the action in flight (on SQLite the lock
    is the database's write lock)."""
    query = select(ActionRow).where(ActionRow.id == action_id).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def claimable(row: ActionRow, now: datetime) -> bool:
    """What `claim` would take: planned and due, or in flight under a lease that expired."""
    if row.state == State.PLANNED:
        return row.next_attempt_at is None or row.next_attempt_at <= now
    return row.state == State.IN_FLIGHT and row.lease_until is not None and row.lease_until <= now


def claim(session: Session, action_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
    """Take an open action to run it now: planned and due, or in flight under a lease that
    expired (its worker died). False when someone else has it."""
    due = and_(
        ActionRow.state == State.PLANNED,
        or_(ActionRow.next_attempt_at.is_(None), ActionRow.next_attempt_at <= now),
    )
    orphaned = and_(ActionRow.state == State.IN_FLIGHT, ActionRow.lease_until <= now)
    taken = session.execute(
        update(ActionRow)
        .where(ActionRow.id == action_id, or_(due, orphaned))
        .values(
            state=State.IN_FLIGHT,
            lease_owner=owner,
            lease_until=now + lease,
            attempts=ActionRow.attempts + 1,
        )
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def finish(
    session: Session,
    row: ActionRow,
    state: State,
    now: datetime,
    *,
    reason: str | None = None,
    holds_until: datetime | None = None,
) -> None:
    row.state = state.value
    row.finished_at = now
    row.lease_owner = row.lease_until = None
    row.next_attempt_at = None
    row.holds_until = holds_until
    if reason is not None:
        row.reason = reason


def retry_later(session: Session, row: ActionRow, at: datetime, code: str, message: str) -> None:
    row.state = State.PLANNED.value
    row.next_attempt_at = at
    row.lease_owner = row.lease_until = None
    row.error_code, row.error_message = code, message[:MAX_ERROR_CHARS]


@dataclass(frozen=True, slots=True)
class ActionFilter:
    instance_id: int | None = None
    schedule_id: int | None = None
    state: str | None = None


def page(
    session: Session, where: ActionFilter, limit: int, offset: int
) -> tuple[list[ActionRow], int]:
    query = select(ActionRow)
    if where.instance_id is not None:
        query = query.where(ActionRow.instance_id == where.instance_id)
    if where.schedule_id is not None:
        query = query.where(ActionRow.schedule_id == where.schedule_id)
    if where.state is not None:
        query = query.where(ActionRow.state == where.state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ActionRow.id.desc()).limit(limit).offset(offset))
    return list(rows), total


@dataclass(frozen=True, slots=True)
class AsleepSpan:
    """A span an instance slept because of an action: a done stop to the next done start."""

    instance_id: int
    schedule_id: int | None
    start: datetime
    end: datetime | None  # None: still asleep


def asleep_spans(
    session: Session, schedule_id: int | None = None, since: datetime | None = None
) -> list[AsleepSpan]:
    """Done stops (of this schedule, or any) paired with each instance's next done start: the
    hours asleep because of a schedule or an override, for savings realized. `since`: only spans
    still asleep at or after it (the actions done since, and each instance's last one before)."""
    done = ActionRow.state == State.DONE
    query = select(ActionRow).where(done).order_by(ActionRow.instance_id, ActionRow.id)
    if since is not None:  # an instance's actions end in id order: one is open at a time
        last_before = (
            select(func.max(ActionRow.id))
            .where(done, ActionRow.finished_at < since)
            .group_by(ActionRow.instance_id)
        )
        query = query.where(or_(ActionRow.finished_at >= since, ActionRow.id.in_(last_before)))
    spans: list[AsleepSpan] = []
    stopped: ActionRow | None = None
    for row in session.scalars(query):
        if stopped is not None and stopped.instance_id != row.instance_id:
            spans.append(_span(stopped, None))
            stopped = None
        if row.kind == STOP and stopped is None:
            stopped = row
        elif row.kind == START and stopped is not None:
            spans.append(_span(stopped, row.finished_at))
            stopped = None
    if stopped is not None:
        spans.append(_span(stopped, None))
    return [s for s in spans if schedule_id is None or s.schedule_id == schedule_id]


def _span(stop: ActionRow, end: datetime | None) -> AsleepSpan:
    assert stop.finished_at is not None
    return AsleepSpan(stop.instance_id, stop.schedule_id, stop.finished_at, end)
