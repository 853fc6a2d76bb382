"""`wait=true` against a live uvicorn server: many waiting clients leave the server free, the
wait is bounded by a setting, and every waiting request ends with the right answer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from dbsnooze.context import Context
from dbsnooze.store.tables import JobRow
from faultproxy import FaultProxy
from liveserver import Served, serve
from metricshelp import prepare, register, until

WAITERS = 45  # more than the server's thread pool (40): a thread per waiter would starve it
STATISTICS_CALL = "GetMetricStatistics"
GENEROUS = 60.0  # a liveness bound for one request, not a timing claim


def call(served: Served, method: str, path: str) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(served.url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=GENEROUS) as answer:
            return answer.status, dict(answer.headers), json.load(answer)
    except urllib.error.HTTPError as failed:
        return failed.code, dict(failed.headers), json.load(failed)


def jobs(ctx: Context) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(JobRow)) or 0


def test_many_waiting_backfills_leave_the_server_free_and_end_with_the_seed_answer(
    ctx: Context, proxy: FaultProxy
) -> None:
    # one metric: one cloud call per job, so 45 jobs finish quickly once released
    prepare(ctx, metrics=("cpu",), cloud_requests_per_second=1000.0, cloud_requests_burst=1000)
    ids = register(ctx, proxy.url, [f"db-{n:02}" for n in range(WAITERS)])
    proxy.hold({STATISTICS_CALL})  # the worker's first cloud call waits, so every job waits
    with serve(ctx.settings, ctx) as served, ThreadPoolExecutor(WAITERS) as clients:
        waiting = {
            iid: clients.submit(
                call, served, "POST", f"/api/v1/instances/{iid}/metrics/backfill?days=1&wait=true"
            )
            for iid in ids.values()
        }
        until(lambda: jobs(ctx) == WAITERS, "every backfill to be submitted", timeout=40)
        proxy.wait_held()
        health = call(served, "GET", "/healthz")
        listed = call(served, "GET", "/api/v1/jobs?limit=100")
        still_waiting = sum(not answer.done() for answer in waiting.values())
        proxy.release()
        answers = {iid: answer.result() for iid, answer in waiting.items()}

    assert health[0] == 200
    assert listed[0] == 200
    assert listed[2]["count"] == WAITERS
    assert still_waiting == WAITERS
    for iid, (status, headers, body) in answers.items():
        assert status == 200, body
        assert headers["location"] == f"/api/v1/jobs/{body['id']}"
        assert body["success"] is True
        assert body["state"] == "succeeded"
        assert body["instance_id"] == iid
        assert body["days_requested"] == 1
        assert body["hours_total"] == 24


def test_a_wait_that_runs_out_answers_202_with_the_job_to_poll(
    ctx: Context, proxy: FaultProxy
) -> None:
    prepare(ctx, backfill_wait_seconds=0.2)
    iid = register(ctx, proxy.url, ["orders-db"])["orders-db"]
    proxy.hold({STATISTICS_CALL}, count=1)
    with serve(ctx.settings, ctx) as served:
        status, headers, job = call(
            served, "POST", f"/api/v1/instances/{iid}/metrics/backfill?days=1&wait=true"
        )
        proxy.release()
        ended = until(
            lambda: (got := call(served, "GET", headers["location"])[2])["finished_at"] and got,
            "the job to end",
        )

    assert status == 202
    assert job["state"] in {"queued", "running"}
    assert job["finished_at"] is None
    assert "success" not in job
    assert headers["location"] == f"/api/v1/jobs/{job['id']}"
    assert ended["state"] == "succeeded"
