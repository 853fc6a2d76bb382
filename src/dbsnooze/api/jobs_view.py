"""Jobs as the API shows them; a fleet job sums its parts."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from dbsnooze.api.schemas import JobPublic
from dbsnooze.jobs import queue
from dbsnooze.store.tables import JobRow

COUNTERS = ("hours_total", "hours_skipped", "hours_backfilled", "hours_empty", "api_calls")
API_PREFIX = "/api/v1"


def job_url(job_id: int) -> str:
    return f"{API_PREFIX}/jobs/{job_id}"


def public(session: Session, job: JobRow) -> JobPublic:
    counts = {name: getattr(job, name) for name in COUNTERS}
    errors = list(job.errors)
    parts: dict[str, int] | None = None
    if job.kind == queue.FLEET:
        children = queue.children(session, job.id)
        counts = {name: sum(getattr(c, name) for c in children) for name in COUNTERS}
        errors = [{"job_id": c.id, **e} for c in children for e in c.errors]
        parts = dict(Counter(c.state for c in children))
        instance_ids = [i for c in children for i in queue.target_ids(session, c.id)]
    else:
        instance_ids = queue.target_ids(session, job.id)
    done = counts["hours_skipped"] + counts["hours_backfilled"] + counts["hours_empty"]
    finished = job.finished_at is not None
    progress = 1.0 if finished else (done / counts["hours_total"] if counts["hours_total"] else 0.0)
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
