"""Jobs as the API shows them; a fleet job sums its parts."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from dbsnooze.api.schemas import JobPublic
from dbsnooze.jobs import queue
from dbsnooze.store.tables import JobRow

COUNTERS = (
    "hours_total",
    "hours_skipped",
    "hours_backfilled",
    "hours_empty",
    "hours_refetched",
    "api_calls",
)
API_PREFIX = "/api/v1"


def job_url(job_id: int) -> str:
    return f"{API_PREFIX}/jobs/{job_id}"


def public(session: Session, job: JobRow) -> JobPublic:
    counts = {name: getattr(job, name) for name in COUNTERS}
    errors = list(job.errors)
    parts: dict[str, int] | None = None
    progress = job.progress
    if job.kind == queue.FLEET:
        children = queue.children(session, job.id)
        counts = {name: sum(getattr(c, name) for c in children) for name in COUNTERS}
        errors = [{"job_id": c.id, **e} for c in children for e in c.errors]
        parts = dict(Counter(c.state for c in children))
        part_ids = {c.id: queue.target_ids(session, c.id) for c in children}
        instance_ids = [i for ids in part_ids.values() for i in ids]
        progress = _fleet_progress(job, children, part_ids)
    else:
        instance_ids = queue.target_ids(session, job.id)
    return JobPublic(
        id=job.id,
        url=job_url(job.id),
        kind=job.kind,
        instance_id=job.instance_id,
        instance_ids=instance_ids,
        parent_id=job.parent_id,
        state=job.state,
        days_requested=job.days_requested,
        days=job.days,
        capped=job.capped,
        force=bool(job.params.get("force")),
        progress=round(min(progress, 1.0), 4),
        errors=errors,
        parts=parts,
        cancel_requested=job.cancel_requested,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        **counts,
    )


def _fleet_progress(job: JobRow, parts: list[JobRow], ids: dict[int, list[int]]) -> float:
    """Each part's progress, weighted by its instances (parts cover the same window)."""
    instances = sum(len(found) for found in ids.values())
    if not instances:
        return 1.0 if job.state == queue.JobState.SUCCEEDED else 0.0
    return sum(part.progress * len(ids[part.id]) for part in parts) / instances
