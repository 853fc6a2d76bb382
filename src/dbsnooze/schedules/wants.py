"""What each scheduled instance's schedule wants now, as the reconciler's `Want` values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dbsnooze.schedules.decide import Source, Want
from dbsnooze.schedules.rules import desired_at
from dbsnooze.store import schedules
from dbsnooze.store.schedules import Assignment


def schedule_wants(
    session: Session, now: datetime, instance_ids: Sequence[int] | None = None
) -> dict[int, Want]:
    """Instance id -> its enabled schedule's wish at `now` (disabled schedules want nothing)."""
    found = schedules.assignments(session, instance_ids)
    enabled = {a.schedule_id: a for a in found.values() if a.enabled}  # one per schedule
    wishes = {schedule_id: want_of(a, now) for schedule_id, a in enabled.items()}
    return {i: wishes[a.schedule_id] for i, a in found.items() if a.schedule_id in wishes}


def want_of(assignment: Assignment, now: datetime) -> Want:
    desired = desired_at(assignment.spec, now)
    return Want(
        asleep=desired.asleep,
        source=Source.SCHEDULE,
        actor=f"schedule:{assignment.schedule_id}",
        until=desired.until,
        since=desired.since,
        schedule_id=assignment.schedule_id,
        schedule_name=assignment.name,
        enforce=assignment.enforce,
        dry_run=assignment.dry_run,
        grace=timedelta(minutes=assignment.grace_minutes),
    )
