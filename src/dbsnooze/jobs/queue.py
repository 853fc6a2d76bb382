"""The job queue lives in the store: submit, claim with a lease, renew, finish, cancel.

On PostgreSQL claims take row locks with SKIP LOCKED so several workers share one queue; on
SQLite the single in-process worker claims under SQLite's own write lock.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dbsnooze.errors import Conflict
from dbsnooze.store.tables import JobRow, JobTargetRow


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (JobState.QUEUED, JobState.RUNNING)
BACKFILL = "backfill"
FLEET = "fleet_backfill"


def submit(
    session: Session,
    kind: str,
    instance_ids: Sequence[int],
    fields: dict[str, Any],
    now: datetime,
    parent_id: int | None = None,
) -> JobRow:
    """Queue a job on these instances; Conflict names the job already working on one of them."""
    job = JobRow(
        kind=kind,
        instance_id=instance_ids[0] if len(instance_ids) == 1 and kind == BACKFILL else None,
        parent_id=parent_id,
        state=JobState.QUEUED.value,
        created_at=now,
        errors=[],
        **fields,
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
            session.add_all(JobTargetRow(job_id=job.id, instance_id=i) for i in instance_ids)
            session.flush()
    except IntegrityError:
        raise _conflict(session, instance_ids) from None
    return job


def _conflict(session: Session, instance_ids: Sequence[int]) -> Conflict:
    holder = session.execute(
        select(JobTargetRow.job_id, JobTargetRow.instance_id)
        .where(JobTargetRow.active, JobTargetRow.instance_id.in_(instance_ids))
        .limit(1)
    ).first()
    job_id, instance_id = holder if holder else (None, None)
    return Conflict(
        "backfill_running",
        f"instance {instance_id} already has backfill job {job_id} running; "
        f"see /api/v1/jobs/{job_id}",
        job_id=job_id,
        instance_id=instance_id,
    )


def claim(session: Session, owner: str, now: datetime, lease: timedelta) -> JobRow | None:
    """Take the oldest queued job, or a running one whose lease expired (its worker died)."""
    expired = JobRow.lease_expires_at < now
    query = (
        select(JobRow)
        .where(JobRow.kind == BACKFILL)
        .where(
            or_(
                JobRow.state == JobState.QUEUED.value,
                (JobRow.state == JobState.RUNNING.value) & expired,
            )
        )
        .order_by(JobRow.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = session.scalars(query).first()
    if job is None:
        return None
    job.state = JobState.RUNNING.value
    job.started_at = job.started_at or now
    job.lease_owner, job.lease_expires_at = owner, now + lease
    return job


def renew(session: Session, job_id: int, owner: str, until: datetime) -> bool:
    """Extend our lease; False when another worker has taken the job over."""
    result = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.lease_owner == owner)
        .where(JobRow.state == JobState.RUNNING.value)
        .values(lease_expires_at=until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(session: Session, job: JobRow, state: JobState, now: datetime) -> None:
    if job.parent_id is not None:
        _lock_parent(session, job.parent_id)
    job.state = state.value
    job.finished_at = now
    job.lease_owner, job.lease_expires_at = None, None
    _release(session, job.id)
    if job.parent_id is not None:
        _settle_parent(session, job.parent_id, now)


def _release(session: Session, job_id: int) -> None:
    session.execute(update(JobTargetRow).where(JobTargetRow.job_id == job_id).values(active=False))


def _lock_parent(session: Session, parent_id: int) -> None:
    """Lock a part's fleet job before the part's own row is written (its pending changes wait):
    a cancel writes the fleet job, then its parts; a part written first would be held while
    waiting for the fleet job the cancel holds, and the cancel wait for it: a deadlock."""
    with session.no_autoflush:
        session.execute(select(JobRow.id).where(JobRow.id == parent_id).with_for_update())


def _settle_parent(session: Session, parent_id: int, now: datetime) -> None:
    """A fleet job ends when its last part ends: failed if any part failed.

    Two workers ending the last two parts at once would each see the other's part still
    running and neither end the fleet job: the parent's row is locked first (on SQLite the
    database's write lock), so the second reads the parts after the first has committed.
    """
    locked = select(JobRow).where(JobRow.id == parent_id).with_for_update()
    parent = session.scalars(locked.execution_options(populate_existing=True)).first()
    if parent is None or parent.finished_at is not None:
        return
    states = set(session.scalars(select(JobRow.state).where(JobRow.parent_id == parent_id)))
    if states & {s.value for s in ACTIVE}:
        return
    if JobState.FAILED.value in states:
        parent.state = JobState.FAILED.value
    elif JobState.CANCELLED.value in states:
        parent.state = JobState.CANCELLED.value
    else:
        parent.state = JobState.SUCCEEDED.value
    parent.finished_at = now


def request_cancel(session: Session, job: JobRow, now: datetime) -> None:
    """Queued work ends at once; running work stops after its current cloud call."""
    job.cancel_requested = True
    for part in children(session, job.id) if job.kind == FLEET else [job]:
        if part.state == JobState.QUEUED.value:
            finish(session, part, JobState.CANCELLED, now)
        elif part.state == JobState.RUNNING.value:
            part.cancel_requested = True


def cancel_working_on(
    session: Session, instance_ids: Select[tuple[int]], now: datetime, reason: str
) -> list[int]:
    """End every queued or running job on these instances at once, cancelled, saying why.

    For instances about to be deleted: a running job's worker finds its lease gone after its
    current cloud call and stops; nothing is left to resume."""
    working = select(JobTargetRow.job_id).where(
        JobTargetRow.active, JobTargetRow.instance_id.in_(instance_ids)
    )
    jobs = list(session.scalars(select(JobRow).where(JobRow.id.in_(working)).order_by(JobRow.id)))
    for job in jobs:
        job.cancel_requested = True
        job.errors = [*job.errors, {"error": f"cancelled: {reason}"}]
        finish(session, job, JobState.CANCELLED, now)
    return [job.id for job in jobs]


def cancel_requested(session: Session, job_id: int) -> bool:
    return bool(session.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))


def page(
    session: Session,
    limit: int,
    offset: int,
    state: str | None = None,
    instance_id: int | None = None,
    top_level: bool = True,
) -> tuple[list[JobRow], int]:
    query = select(JobRow)
    if state:
        query = query.where(JobRow.state == state)
    if instance_id is not None:
        targets = select(JobTargetRow.job_id).where(JobTargetRow.instance_id == instance_id)
        query = query.where(JobRow.id.in_(targets))
    elif top_level:
        query = query.where(JobRow.parent_id.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(JobRow.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def busy_instances(session: Session) -> set[int]:
    """Instances some queued or running job is working on."""
    return set(session.scalars(select(JobTargetRow.instance_id).where(JobTargetRow.active)))


def children(session: Session, parent_id: int) -> list[JobRow]:
    return list(session.scalars(select(JobRow).where(JobRow.parent_id == parent_id)))


def target_ids(session: Session, job_id: int) -> list[int]:
    query = select(JobTargetRow.instance_id).where(JobTargetRow.job_id == job_id)
    return list(session.scalars(query.order_by(JobTargetRow.instance_id)))
