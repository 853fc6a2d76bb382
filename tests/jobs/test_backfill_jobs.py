"""Backfill jobs against moto over HTTP through a fault-injecting proxy, on SQLite and PostgreSQL:
few calls, only the gaps, empty hours, retried faults, one job per instance, cancel, and a job
that resumes after its worker stopped, without duplicates."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.domain import HourlyStat, Source
from dbsnooze.jobs import backfill as backfill_jobs
from dbsnooze.jobs.worker import Worker
from dbsnooze.store import samples
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import SampleRow
from faultproxy import FaultProxy
from metricshelp import (
    ALL_METRICS,
    HOUR,
    NOW,
    Clock,
    app,
    backfill,
    cloudwatch_name,
    finished,
    job_row,
    marked_empty,
    prepare,
    put,
    register,
    stored,
    until,
    values,
    window,
)

NAME = "orders-db"
WEEK = window(NOW, 7)
STATISTICS_CALL = "GetMetricStatistics"


@pytest.fixture()
def api(ctx: Context) -> Iterator[TestClient]:
    with app(ctx) as client:
        yield client


def asked(proxy: FaultProxy, since: int = 0) -> list[tuple[str, datetime, datetime]]:
    """(metric, start, end) of the GetMetricStatistics requests that reached moto, sorted."""
    requests = proxy.forwarded(STATISTICS_CALL)[since:]
    return sorted((r.params["MetricName"], r.start, r.end) for r in requests)


def span(first: int, last: int) -> tuple[datetime, datetime]:
    """Hours first..last (inclusive) of the week as a half-open [start, end)."""
    return WEEK[first], WEEK[last] + HOUR


def exact(ctx: Context, instance_id: int, written: dict[Any, Any], only: bool = False) -> None:
    """Stored values equal what was written; `only`: for the written keys, ignoring others."""
    rows = stored(ctx, instance_id)
    assert {key: row[:4] for key, row in rows.items() if not only or key in written} == {
        key: values(stats) for key, stats in written.items()
    }


# --- few calls, and none for what is stored ----------------------------------------------------


def test_a_week_takes_five_calls_and_a_rerun_none(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, [NAME])[NAME]
    written = put(moto, NAME, WEEK)

    first = backfill(api, iid, days=7)
    second = backfill(api, iid, days=7)

    assert first["state"] == "succeeded"
    assert first["api_calls"] == 5  # the target: at most 5
    assert (first["hours_total"], first["hours_backfilled"], first["hours_skipped"]) == (
        168,
        168,
        0,
    )
    assert asked(proxy) == sorted((cloudwatch_name(m), *span(0, 167)) for m in ALL_METRICS)
    exact(ctx, iid, written)
    assert second["state"] == "succeeded"
    assert second["api_calls"] == 0
    assert (second["hours_skipped"], second["hours_backfilled"], second["hours_empty"]) == (
        168,
        0,
        0,
    )
    assert len(proxy.forwarded(STATISTICS_CALL)) == 5
    refused = api.post(f"/api/v1/jobs/{first['id']}/cancel")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "job_finished"


def test_partial_coverage_fills_only_the_gaps(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, [NAME])[NAME]
    written = put(moto, NAME, WEEK)
    mine = [
        HourlyStat(iid, "connections", hour, 1.5, 2.5, 0.5, 3.0) for hour in WEEK[150:155]
    ]  # hours collected live before: the backfill must keep them
    with transaction(ctx.sessions) as session:
        samples.upsert(session, mine, Source.LIVE, NOW)

    first = backfill(api, iid, days=7)

    connections = cloudwatch_name("connections")
    assert asked(proxy) == sorted(
        [(cloudwatch_name(m), *span(0, 167)) for m in ALL_METRICS if m != "connections"]
        + [(connections, *span(0, 149)), (connections, *span(155, 167))]
    )
    assert first["api_calls"] == 6
    assert (first["hours_backfilled"], first["hours_skipped"]) == (168, 0)
    rows = stored(ctx, iid)
    for stat in mine:
        assert rows["connections", stat.hour] == (1.5, 2.5, 0.5, 3.0, "live")

    cpu = WEEK[10:20]
    gone = WEEK[100:105]
    with transaction(ctx.sessions) as session:
        session.execute(
            delete(SampleRow).where(
                SampleRow.instance_id == iid,
                ((SampleRow.metric == "cpu") & SampleRow.hour.in_(cpu)) | SampleRow.hour.in_(gone),
            )
        )
    before = len(proxy.forwarded(STATISTICS_CALL))

    second = backfill(api, iid, days=7)

    assert asked(proxy, before) == sorted(
        [(cloudwatch_name("cpu"), *span(10, 19))]
        + [(cloudwatch_name(m), *span(100, 104)) for m in ALL_METRICS]
    )
    assert second["api_calls"] == 6
    assert (second["hours_backfilled"], second["hours_skipped"], second["hours_empty"]) == (
        15,
        153,
        0,
    )
    rows = stored(ctx, iid)
    assert len(rows) == 5 * 168
    for (metric, hour), stats in written.items():
        if metric == "connections" and hour in WEEK[150:155]:
            continue
        assert rows[metric, hour] == (*values(stats), "backfill")


def test_empty_hours_are_recorded_and_asked_again_only_when_forced(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, [NAME])[NAME]
    put(moto, NAME, WEEK[96:])  # the cloud has nothing for the first four days

    first = backfill(api, iid, days=7)
    again = backfill(api, iid, days=7)
    late = put(moto, NAME, WEEK[90:96])  # data the cloud published late
    forced = backfill(api, iid, days=7, force="true")

    assert (first["hours_backfilled"], first["hours_empty"], first["api_calls"]) == (72, 96, 5)
    assert (again["hours_skipped"], again["api_calls"]) == (168, 0)
    # a forced backfill asks for the whole window again, stored hours too
    assert asked(proxy, 5) == sorted((cloudwatch_name(m), *span(0, 167)) for m in ALL_METRICS)
    assert len(proxy.forwarded(STATISTICS_CALL)) == 10
    assert forced["force"] is True
    assert (forced["hours_backfilled"], forced["hours_empty"], forced["hours_skipped"]) == (
        6,
        90,
        0,
    )
    assert forced["hours_refetched"] == 72
    assert marked_empty(ctx, iid) == {(m, h) for m in ALL_METRICS for h in WEEK[:90]}
    exact(ctx, iid, late, only=True)


def test_force_repairs_stored_hours_with_what_the_cloud_answers(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, [NAME])[NAME]
    written = put(moto, NAME, WEEK)
    first = backfill(api, iid, days=7)
    wrong = [HourlyStat(iid, m, hour, 9.0, 9.0, 9.0, 1.0) for m in ALL_METRICS for hour in WEEK]
    with transaction(ctx.sessions) as session:  # e.g. values a bug once stored
        samples.upsert(session, wrong, Source.BACKFILL, NOW)

    unforced = backfill(api, iid, days=7)
    kept = stored(ctx, iid)
    repaired = backfill(api, iid, days=7, force="true")

    assert first["api_calls"] == 5
    assert unforced["api_calls"] == 0  # final stored hours cost no call
    assert {row[:4] for row in kept.values()} == {(9.0, 9.0, 9.0, 1.0)}
    assert repaired["state"] == "succeeded"
    assert repaired["api_calls"] == 5
    assert asked(proxy, 5) == sorted((cloudwatch_name(m), *span(0, 167)) for m in ALL_METRICS)
    assert (repaired["hours_refetched"], repaired["hours_skipped"]) == (168, 0)
    assert (repaired["hours_backfilled"], repaired["hours_empty"]) == (0, 0)
    assert repaired["progress"] == 1.0
    exact(ctx, iid, written)


# --- faults ------------------------------------------------------------------------------------


def test_throttling_and_5xx_are_retried_and_the_job_ends_with_exact_data(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, [NAME])[NAME]
    written = put(moto, NAME, WEEK)
    # call 1: throttled, then through; call 2: a 503, then through; call 3: a 500, then through
    proxy.inject("throttle", None, "503", None, "500")

    job = backfill(api, iid, days=7)

    assert proxy.served_faults == 3
    assert [r.fault for r in proxy.log if r.fault] == ["throttle", "503", "500"]
    assert job["state"] == "succeeded"
    assert job["errors"] == []
    assert job["api_calls"] == 5  # botocore's retries are not calls of their own
    assert len(proxy.forwarded(STATISTICS_CALL)) == 5
    exact(ctx, iid, written)


def test_a_fault_that_outlasts_the_retries_fails_the_job_and_says_why(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    with app(ctx, cloud_max_attempts=2) as api:
        iid = register(ctx, proxy.url, [NAME])[NAME]
        written = put(moto, NAME, WEEK[-24:])
        proxy.inject("503", "503")  # both attempts of the first call
        failed = backfill(api, iid, days=1)
        stored_after_failure = {metric for metric, _ in stored(ctx, iid)}
        retried = backfill(api, iid, days=1)

    assert failed["state"] == "failed"
    assert failed["success"] is False
    (error,) = failed["errors"]
    assert "GetMetricStatistics orders-db connections" in error["error"]
    assert failed["api_calls"] == 5
    assert failed["progress"] == 0.8  # four metrics of five answered: not a full bar
    assert stored_after_failure == set(ALL_METRICS) - {"connections"}
    assert retried["state"] == "succeeded"
    assert retried["api_calls"] == 1  # only what failed is asked again
    exact(ctx, iid, written)


# --- one backfill of an instance at a time, and cancel -----------------------------------------


def test_a_second_backfill_while_one_runs_is_409_and_a_running_job_cancels(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, [NAME])[NAME]
    written = put(moto, NAME, WEEK[-24:])
    proxy.hold({STATISTICS_CALL}, count=1)  # the first call waits until released
    url = f"/api/v1/instances/{iid}/metrics/backfill"

    first = api.post(url, params={"days": 1})
    proxy.wait_held()
    running = api.get(first.headers["location"]).json()
    second = api.post(url, params={"days": 1})
    cancelling = api.post(f"/api/v1/jobs/{running['id']}/cancel")
    proxy.release()
    ended = finished(api, running["id"])
    kept = {metric for metric, _ in stored(ctx, iid)}
    third = backfill(api, iid, days=1)

    assert first.status_code == 202
    assert running["state"] == "running"
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "backfill_running"
    assert second.json()["error"]["job_id"] == running["id"]
    assert cancelling.status_code == 202
    assert cancelling.json()["cancel_requested"] is True
    assert ended["state"] == "cancelled"
    assert ended["progress"] <= 0.4  # what it answered before it stopped, not a full bar
    # it stopped after the call it was making (the runner may have sent the next one already;
    # that answer is dropped)
    assert ended["api_calls"] <= 2
    assert kept == {"connections"}
    assert third["state"] == "succeeded"
    assert third["api_calls"] == 4
    exact(ctx, iid, written)


def test_cancelling_a_fleet_job_cancels_its_queued_parts(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    with app(ctx, run_worker=False, fleet_chunk_size=1) as api:
        register(ctx, proxy.url, ["a-db", "b-db", "c-db"])
        fleet = api.post("/api/v1/metrics/backfill", params={"days": 1}).json()
        cancelled = api.post(f"/api/v1/jobs/{fleet['id']}/cancel").json()
        again = api.post(f"/api/v1/jobs/{fleet['id']}/cancel")
        part = api.get("/api/v1/jobs", params={"instance": fleet["instance_ids"][0]}).json()

    assert fleet["parts"] == {"queued": 3}
    assert cancelled["state"] == "cancelled"
    assert cancelled["parts"] == {"cancelled": 3}
    assert cancelled["progress"] == 0.0  # no part did any work
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_finished"
    assert part["data"][0]["state"] == "cancelled"
    assert proxy.forwarded(STATISTICS_CALL, "GetMetricData") == []


# --- a worker stops mid-job: another resumes it, without duplicates ----------------------------


def test_a_job_whose_worker_stopped_is_resumed_by_another_without_duplicates(
    ctx: Context, moto: Emulator, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long lease: only the clock, moved by the test, ever expires it. Worker A keeps its own
    # clock, so whatever it still does cannot renew its lease past the moved one.
    clock = prepare(ctx, NOW, worker_lease_seconds=3600)
    steps: Counter[str] = Counter()  # calls each worker finished and saved
    step = backfill_jobs._Progress.step

    def counted(progress: Any, result: Any) -> bool:
        going_on = step(progress, result)
        steps[progress.owner] += 1
        return going_on

    monkeypatch.setattr(backfill_jobs._Progress, "step", counted)
    iid = register(ctx, proxy.url, [NAME])[NAME]
    day = window(NOW, 1)
    written = put(moto, NAME, [day[0] - HOUR, *day, *[day[-1] + i * HOUR for i in (1, 2, 3)]])
    job_id = backfill_jobs.submit_instance(ctx, iid, 1, False, "test").id
    proxy.hold({STATISTICS_CALL}, after=2, count=1)  # worker A's third call never comes back

    worker_a = Worker(replace(ctx, clock=Clock(NOW)), ctx.buckets, name="worker-a")
    stalled = threading.Thread(target=worker_a.run_one, daemon=True)
    stalled.start()
    try:
        proxy.wait_held()
        until(lambda: steps["worker-a"] == 2, "A's first two calls")
        assert {metric for metric, _ in stored(ctx, iid)} == {"connections", "cpu"}
        worker_b = Worker(ctx, ctx.buckets, name="worker-b")
        while_leased = worker_b.run_one()
        clock.advance(timedelta(hours=2))  # A's lease ran out; the clock moved on two hours
        resumed = worker_b.run_one()
        done = job_row(ctx, job_id)
        rows = stored(ctx, iid)
        fetched = proxy.forwarded(STATISTICS_CALL)
    finally:
        proxy.release()  # A wakes up: it must see the job is no longer its own
        stalled.join(timeout=30)
    after = job_row(ctx, job_id)

    assert while_leased is None
    assert resumed == job_id
    assert done.state == "succeeded"
    assert (done.hours_total, done.hours_backfilled, done.hours_skipped, done.hours_empty) == (
        24,
        24,
        0,
        0,
    )
    assert done.api_calls in (5, 6)  # A's 2 (and the 3rd, if counted before it stalled), B's 3
    assert done.lease_owner is None
    assert done.errors == []
    # the window is the one the job started with, not the one two hours later
    assert set(rows) == {(m, h) for m in ALL_METRICS for h in day}
    assert {key: row[:4] for key, row in rows.items()} == {
        key: values(written[key]) for key in rows
    }
    assert len(fetched) == 5
    points = Counter(p for r in fetched for p in r.points())
    assert max(points.values()) == 1  # no metric-hour was fetched twice
    assert not stalled.is_alive()
    assert _outcome(after) == _outcome(done)  # the stale worker changed nothing
    assert stored(ctx, iid).keys() == rows.keys()


def _outcome(job: Any) -> tuple[Any, ...]:
    counters = ("hours_total", "hours_skipped", "hours_backfilled", "hours_empty", "api_calls")
    return (
        job.state,
        job.finished_at,
        job.lease_owner,
        job.errors,
        *(getattr(job, c) for c in counters),
    )
