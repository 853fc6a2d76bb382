"""Schedule changes as one audited unit each, shared by the API, the web pages and the CLI;
the preview of what a schedule will do (SPEC §11). The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dbsnooze.errors import Conflict
from dbsnooze.schedules import weekly
from dbsnooze.schedules.rules import transitions
from dbsnooze.schedules.spec import ScheduleSpec, Transition, Window
from dbsnooze.store import events
from dbsnooze.store import schedules as store
from dbsnooze.store.instances import require as require_instance
from dbsnooze.store.schedules import Member, Settings
from dbsnooze.store.tables import RecommendationRow, ScheduleRow

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
    origin_instance_id: int | None = None,
) -> ScheduleRow:
    ids = sorted(set(instance_ids))
    row = store.create(session, name, settings, actor, now, ids, origin_instance_id)
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


def from_recommendation(
    session: Session, recommendation: RecommendationRow, actor: str, now: datetime
) -> ScheduleRow:
    """The schedule an applied recommendation asks for: "sleep: <instance>", in the
    recommendation's zone with its windows, assigned to the instance, in dry run, its origin the
    instance. Applying again updates the schedule made before (found by its origin, so a rename
    does not matter; else by its name); an instance with another schedule is a 409. Two
    applies at once: the second finds the schedule the first made (the schedules' lock)."""
    store.lock(session)
    instance = require_instance(session, recommendation.instance_id)
    name = f"sleep: {instance.provider_id}"[:128]
    spec = ScheduleSpec(recommendation.timezone, _windows_of(recommendation))
    mine = _made_for(session, instance.id, name)
    others = [row for row in store.schedules_of(session, instance.id) if row is not mine]
    if others:
        raise Conflict(
            "schedule_conflict",
            f"instance {instance.provider_id!r} already follows schedule {others[0].name!r}",
            instance_id=instance.id,
            schedule_ids=[row.id for row in others],
            schedule_names=[row.name for row in others],
        )
    if mine is None:
        if store.by_name(session, name) is not None:  # another instance's of the same name
            name = f"{name[:118]} (#{instance.id})"
        return create(session, name, Settings(spec), actor, now, [instance.id], instance.id)
    mine.origin_instance_id = instance.id  # one made before origins were recorded
    update(session, mine.id, actor, now, spec=spec)
    assign(session, mine.id, [instance.id], actor, now)
    return mine


def _made_for(session: Session, instance_id: int, name: str) -> ScheduleRow | None:
    """The schedule an earlier apply made for the instance: by origin, else by its name unless
    that one comes from another instance."""
    mine = store.by_origin(session, instance_id)
    if mine is not None:
        return mine
    named = store.by_name(session, name)
    if named is not None and named.origin_instance_id in (None, instance_id):
        return named
    return None


def _windows_of(recommendation: RecommendationRow) -> tuple[Window, ...]:
    return weekly.from_minutes(
        (int(w["sleep_minute"]), int(w["wake_minute"])) for w in recommendation.windows
    )


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
