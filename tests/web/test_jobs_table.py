"""The jobs table over the real ASGI stack on SQLite and PostgreSQL: a job that failed or was
cancelled shows the work it did and its state, never a full bar."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dbsnooze.api.app import create_app
from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.jobs import queue
from dbsnooze.jobs.queue import BACKFILL, JobState
from dbsnooze.store.db import transaction
from metricshelp import register


@pytest.fixture()
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"run_worker": False}), ctx)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _ended_job(ctx: Context, instance_id: int, state: JobState, progress: float) -> int:
    now = ctx.clock()
    fields = {"days": 1, "days_requested": 1, "hours_total": 24, "hours_backfilled": 6}
    with transaction(ctx.sessions) as session:
        job = queue.submit(session, BACKFILL, [instance_id], fields, now)
        job.progress, job.hours_refetched = progress, 3
        job.errors = [{"error": "GetMetricStatistics db-1 cpu: throttled"}]
        queue.finish(session, job, state, now)
        return job.id


@pytest.mark.parametrize("state", [JobState.FAILED, JobState.CANCELLED])
def test_an_ended_job_shows_the_work_it_did_and_its_state(
    client: TestClient, ctx: Context, state: JobState
) -> None:
    iid = register(ctx, "http://127.0.0.1:9", ["db-1"])["db-1"]
    job_id = _ended_job(ctx, iid, state, 0.4375)

    api = client.get(f"/api/v1/jobs/{job_id}").json()
    html = client.get("/jobs/table").text
    row = re.search(rf'<tr data-job-id="{job_id}".*?</tr>', html, re.S)

    assert (api["state"], api["progress"], api["hours_refetched"]) == (state.value, 0.4375, 3)
    assert row is not None
    cell = row.group(0)
    assert f'value="0.4375" data-state="{state.value}"' in cell
    assert f"{state.value} at 43 % · 9 of 24 h" in cell
    assert "6 backfilled · 3 refetched" in cell
