"""Metrics of one instance (backfill, collect now, latest, history, coverage) and fleet backfill."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from dbsnooze import history
from dbsnooze.api.deps import ActorDep, ContextDep, SessionDep
from dbsnooze.api.jobs_view import job_url, public
from dbsnooze.api.openapi import errors
from dbsnooze.api.params import (
    PRINTABLE,
    Days,
    Id,
    IdFilter,
    MetricKeys,
    Moment,
    NameContains,
    Text,
)
from dbsnooze.api.schemas import BackfillResult, JobPublic
from dbsnooze.collect import live
from dbsnooze.collect.hours import backfill_window
from dbsnooze.config import HARD_MAX_BACKFILL_DAYS
from dbsnooze.context import Context
from dbsnooze.domain import Coverage
from dbsnooze.jobs import backfill
from dbsnooze.metrics import stored_metrics
from dbsnooze.store import instances as instance_store
from dbsnooze.store import samples
from dbsnooze.store.tables import JobRow

router = APIRouter(tags=["metrics"])
FIRST_POLL_SECONDS = 0.05  # short jobs answer at once; longer waits look less often
MAX_POLL_SECONDS = 1.0
STATS_HELP = (
    f"comma-separated statistics from {', '.join(history.STAT_KEYS)}; "
    f"default {','.join(history.DEFAULT_STATS)}"
)
DRY_RUN_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`dry_run=true`: the requests, calls and GetMetricData cost it would take",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/instances/{instance_id}/metrics/backfill",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses={
        200: {"model": BackfillResult, "description": "`wait=true` and the job ended"},
        **errors(404, 409),
    },
)
async def backfill_instance(
    instance_id: Id,
    ctx: ContextDep,
    who: ActorDep,
    response: Response,
    days: Days = None,
    force: bool = False,
    wait: bool = False,
) -> JobPublic | BackfillResult | JSONResponse:
    how_many = days or ctx.settings.backfill_default_days
    job = await run_in_threadpool(backfill.submit_instance, ctx, instance_id, how_many, force, who)
    ctx.wake_worker()
    response.headers["Location"] = job_url(job.id)
    if not wait:
        return await run_in_threadpool(_job_view, ctx, job.id)
    view = await _wait(ctx, job.id)
    if view.finished_at is None:  # the wait ran out: 202 and the job, for the client to poll
        return view
    body = BackfillResult(**view.model_dump(), success=view.state == "succeeded")
    return JSONResponse(
        body.model_dump(mode="json"), status_code=200, headers={"Location": job_url(job.id)}
    )


def _job_view(ctx: Context, job_id: int) -> JobPublic:
    with ctx.sessions() as session:
        job = session.get(JobRow, job_id)
        assert job is not None
        return public(session, job)


async def _wait(ctx: Context, job_id: int) -> JobPublic:
    """The job once it ends, or as it is when the wait runs out. Between looks it holds no
    thread: any number of waiting clients leave the server free for everything else."""
    deadline = time.monotonic() + ctx.settings.backfill_wait_seconds
    pause = FIRST_POLL_SECONDS
    while True:
        view = await run_in_threadpool(_job_view, ctx, job_id)
        left = deadline - time.monotonic()
        if view.finished_at is not None or left <= 0:
            return view
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 1.5, MAX_POLL_SECONDS)


@router.post(
    "/metrics/backfill",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses={**DRY_RUN_ANSWER, **errors(404, 409)},
)
def backfill_fleet(
    ctx: ContextDep,
    who: ActorDep,
    response: Response,
    days: Days = None,
    force: bool = False,
    dry_run: bool = False,
    account: IdFilter = None,
    region: Text = None,
    engine: Text = None,
    status_: Annotated[str | None, Query(alias="status", max_length=64, pattern=PRINTABLE)] = None,
    q: NameContains = None,
) -> JobPublic | JSONResponse:
    flt = instance_store.InstanceFilter(
        account_id=account, region=region, engine=engine, status=status_, q=q
    )
    how_many = days or ctx.settings.backfill_default_days
    if dry_run:
        plan = backfill.dry_run(ctx, flt, how_many, force)
        return JSONResponse(_jsonable(plan), status_code=200)
    job = backfill.submit_fleet(ctx, flt, how_many, force, who)
    ctx.wake_worker()
    response.headers["Location"] = job_url(job.id)
    return _job_view(ctx, job.id)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


@router.post("/instances/{instance_id}/collect-metrics", responses=errors(404))
def collect_now(instance_id: Id, ctx: ContextDep, session: SessionDep) -> dict[str, Any]:
    row = instance_store.require(session, instance_id)
    return live.collect(ctx, ctx.buckets, [row.id]).as_dict()


@router.get("/instances/{instance_id}/metrics", responses=errors(404))
def latest_metrics(instance_id: Id, ctx: ContextDep, session: SessionDep) -> dict[str, Any]:
    row = instance_store.require(session, instance_id)
    return history.latest(session, row, list(ctx.settings.metrics))


@router.get(
    "/instances/{instance_id}/metrics/history",
    response_model=None,
    responses={
        200: {"description": "JSON, or CSV with `format=csv`", "content": {"text/csv": {}}},
        **errors(404),
    },
)
def metrics_history(
    instance_id: Id,
    ctx: ContextDep,
    session: SessionDep,
    range_: Annotated[
        Literal["1h", "6h", "12h", "24h", "7d", "30d", "90d"] | None, Query(alias="range")
    ] = None,
    start: Moment = None,
    end: Moment = None,
    metrics: MetricKeys = None,
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    stats: Annotated[
        str | None, Query(max_length=255, pattern=PRINTABLE, description=STATS_HELP)
    ] = None,
) -> Response:
    row = instance_store.require(session, instance_id)
    now = ctx.clock()
    window = history.window_for(now, range_, start, end)
    wanted = history.parse_metrics(metrics, ctx.settings.metrics)
    found = history.history(session, row, wanted, window, history.parse_stats(stats), now=now)
    if format_ == "csv":
        name = f"{row.provider_id}-{window.start:%Y%m%dT%H}-{window.end:%Y%m%dT%H}.csv"
        return PlainTextResponse(
            found.to_csv(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(found.to_json(), media_type="application/json")


@router.get("/instances/{instance_id}/metrics/coverage", responses=errors(404))
def metrics_coverage(
    instance_id: Id,
    ctx: ContextDep,
    session: SessionDep,
    days: Days = None,
) -> dict[str, Any]:
    row = instance_store.require(session, instance_id)
    window = backfill_window(ctx.clock(), min(days or 7, HARD_MAX_BACKFILL_DAYS))
    metrics = list(stored_metrics(row.provider, ctx.settings.metrics))
    states = samples.coverage(session, row.id, metrics, window)
    hours = [{"hour": h, "state": states.get(h, Coverage.MISSING).value} for h in window]
    summary: dict[str, int] = {}
    for item in hours:
        summary[str(item["state"])] = summary.get(str(item["state"]), 0) + 1
    return {
        "instance_id": row.id,
        "start": window.start,
        "end": window.end,
        "summary": summary,
        "hours": hours,
    }
