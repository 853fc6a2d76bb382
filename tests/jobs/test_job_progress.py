"""Progress that moves, against moto over HTTP on SQLite and PostgreSQL: a job's progress
advances with every call it completes and is what the API shows while it runs; a fleet job's is
its parts' work; a dry run prices the calls the job will really make."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from faultproxy import FaultProxy
from metricshelp import NOW, app, finished, put, register, until, window

NAME = "orders-db"
STATISTICS_CALL = "GetMetricStatistics"


def _job(api: TestClient, job_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = api.get(f"/api/v1/jobs/{job_id}").json()
    return answer


def test_progress_advances_with_every_call_and_is_saved_as_it_goes(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    with app(ctx) as api:
        iid = register(ctx, proxy.url, [NAME])[NAME]
        put(moto, NAME, window(NOW, 1))
        proxy.hold({STATISTICS_CALL})  # every call waits for its turn
        url = f"/api/v1/instances/{iid}/metrics/backfill"
        job_id = api.post(url, params={"days": 1}).json()["id"]
        seen = []
        try:
            for calls_done in range(1, 6):  # one GetMetricStatistics per metric: 5 calls
                proxy.wait_held()
                proxy.pass_held()
                if calls_done < 5:  # each call answers 24 of the job's 120 metric-hours
                    seen.append(_progress_once(api, job_id, calls_done / 5))
        finally:
            proxy.release()
        done = finished(api, job_id)

    assert seen == [(0.2, "running", 0), (0.4, "running", 0), (0.6, "running", 0),
                    (0.8, "running", 0)]  # fmt: skip
    assert done["state"] == "succeeded"
    assert done["progress"] == 1.0


def _progress_once(api: TestClient, job_id: int, wanted: float) -> tuple[float, str, int]:
    """The job as the API shows it once its progress reached `wanted` (a bounded wait)."""
    job = until(lambda: (found := _job(api, job_id))["progress"] >= wanted and found, "progress")
    return job["progress"], job["state"], job["hours_backfilled"]


def test_a_dry_run_prices_the_calls_the_job_makes(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    with app(ctx, fleet_chunk_size=2) as api:
        register(ctx, proxy.url, ["a-db", "b-db", "c-db"])  # parts: {a, b} and {c}
        plan = api.post("/api/v1/metrics/backfill", params={"days": 1, "dry_run": "true"}).json()
        job = finished(api, api.post("/api/v1/metrics/backfill", params={"days": 1}).json()["id"])

    statistics = len(proxy.forwarded(STATISTICS_CALL))
    data = proxy.forwarded("GetMetricData")
    assert (statistics, len(data)) == (5, 1)  # the one-instance part reads free statistics
    assert (plan["statistics_calls"], plan["data_calls"]) == (statistics, len(data))
    assert plan["data_queries"] == sum(len(r.series) for r in data) == 40
    assert plan["data_cost_usd"] == 0.0004
    assert job["api_calls"] == 6
    assert job["progress"] == 1.0
