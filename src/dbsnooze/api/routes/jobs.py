"""Background jobs: list, one, cancel."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from dbsnooze.api.deps import ActorDep, ContextDep, SessionDep
from dbsnooze.api.jobs_view import public
from dbsnooze.api.openapi import errors
from dbsnooze.api.params import Id, IdFilter, Offset
from dbsnooze.api.schemas import JobPublic, Page
from dbsnooze.errors import Conflict, NotFound
from dbsnooze.jobs import queue
from dbsnooze.store import events
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import JobRow

router = APIRouter(prefix="/jobs", tags=["jobs"])
State = Literal["queued", "running", "succeeded", "failed", "cancelled"]


@router.get("")
def list_jobs(
    session: SessionDep,
    state: State | None = None,
    instance: IdFilter = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Page[JobPublic]:
    rows, total = queue.page(session, limit, offset, state, instance)
    return Page(data=[public(session, r) for r in rows], count=total, limit=limit, offset=offset)


@router.get("/{job_id}", responses=errors(404))
def get_job(job_id: Id, session: SessionDep) -> JobPublic:
    return public(session, _job(session.get(JobRow, job_id), job_id))


@router.post("/{job_id}/cancel", status_code=status.HTTP_202_ACCEPTED, responses=errors(404, 409))
def cancel_job(job_id: Id, ctx: ContextDep, who: ActorDep) -> JobPublic:
    with transaction(ctx.sessions) as session:
        job = _job(session.get(JobRow, job_id), job_id)
        if job.finished_at is not None:
            raise Conflict("job_finished", f"job {job_id} already ended ({job.state})")
        queue.request_cancel(session, job, ctx.clock())
        events.record(session, ctx.clock(), who, "job.cancel_requested", ("job", job_id))
    with ctx.sessions() as session:
        return public(session, _job(session.get(JobRow, job_id), job_id))


def _job(job: JobRow | None, job_id: int) -> JobRow:
    if job is None:
        raise NotFound("job_not_found", f"no job with id {job_id}")
    return job
