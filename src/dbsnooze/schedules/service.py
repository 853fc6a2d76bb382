"""Schedule changes as one audited unit each, shared by the API, the web pages and the CLI;
the preview of what a schedule will do (SPEC §11). The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dbsnooze.schedules.rules import transitions
from dbsnooze.schedules.spec import Transition
from dbsnooze.store import events
from dbsnooze.store import schedules as store
from dbsnooze.store.schedules import Member, Settings
from dbsnooze.store.tables import ScheduleRow

MAX_PREVIEW_DAYS = 14


@dataclass(frozen=True, slots=True)
class Preview:
    schedule: ScheduleRow
    start: datetime
    end: datetime
    transitions: tuple[Transition, ...]  # the schedule's own, the same for each member
    members: tuple[Member, ...]


def create(
    session: Session,
    name: str,
    settings: Settings,
    actor: str,
    now: datetime,
    instance_ids: Iterable[int] = (),
) -> ScheduleRow:
    ids = sorted(set(instance_ids))
    row = store.create(session, name, settings, actor, now, ids)
    _record(session, now, actor, "schedule.created", row, {"name": row.name})
    if ids:
        _record(session, now, actor, "schedule.assigned", row, {"instance_ids": ids})
    return row


def update(
    session: Session,
    schedule_id: int,
    actor: str,
    now: datetime,
    instance_ids: Iterable[int] | None = None,
    **changes: Any,
) -> ScheduleRow:
    """Change the given parts (`store.update`'s); `instance_ids` replaces the explicit set."""
    row = store.update(session, schedule_id, now, **changes)
    if changes:
        _record(session, now, actor, "schedule.updated", row, {"fields": sorted(changes)})
    if instance_ids is not None:
        wanted = set(instance_ids)
        current = set(store.explicit_instances(session, schedule_id))
        store.unassign(session, schedule_id, current - wanted)
        assign(session, schedule_id, wanted - current, actor, now)
    return row


def set_dry_run(
    session: Session, schedule_id: int, dry_run: bool, actor: str, now: datetime
) -> ScheduleRow:
    """Switch a schedule to live (False) or back to dry run (True), audited."""
    return update(session, schedule_id, actor, now, dry_run=dry_run)


def assign(
    session: Session, schedule_id: int, instance_ids: Iterable[int], actor: str, now: datetime
) -> list[int]:
    added = store.assign(session, schedule_id, instance_ids)
    if added:
        row = store.require(session, schedule_id)
        _record(session, now, actor, "schedule.assigned", row, {"instance_ids": added})
    return added


def unassign(
    session: Session, schedule_id: int, instance_ids: Iterable[int], actor: str, now: datetime
) -> list[int]:
    removed = store.unassign(session, schedule_id, instance_ids)
    if removed:
        row = store.require(session, schedule_id)
        _record(session, now, actor, "schedule.unassigned", row, {"instance_ids": removed})
    return removed


def delete(session: Session, schedule_id: int, actor: str, now: datetime) -> None:
    row = store.require(session, schedule_id)
    _record(session, now, actor, "schedule.deleted", row, {"name": row.name})
    store.remove(session, schedule_id)


def preview(session: Session, schedule_id: int, now: datetime, days: int = 7) -> Preview:
    """The next `days` (at most 14) of transitions, and who follows the schedule."""
    row = store.require(session, schedule_id)
    end = now + timedelta(days=max(1, min(days, MAX_PREVIEW_DAYS)))
    return Preview(
        schedule=row,
        start=now,
        end=end,
        transitions=tuple(transitions(store.spec_of(row), now, end)),
        members=tuple(store.members(session, schedule_id)),
    )


def _record(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    row: ScheduleRow,
    detail: dict[str, Any],
) -> None:
    events.record(session, now, actor, action, ("schedule", row.id), detail)
