"""Two real `dbsnooze worker` processes sharing one PostgreSQL store (SPEC §8).

They split a fleet backfill with no instance-hour fetched twice, and when one is killed mid-job
the other takes the job over once the lease runs out. The workers run on the real clock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.clock import utc_now
from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.jobs import backfill, queue
from dbsnooze.store.db import transaction
from dbsnooze.store.instances import InstanceFilter
from dbsnooze.store.tables import JobRow
from faultproxy import FaultProxy
from metricshelp import (
    HOUR,
    cloudwatch_name,
    hours,
    job_row,
    prepare,
    put,
    register,
    stat_set,
    stored,
    until,
    values,
)
from racehelp import overlapping

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("store_url", ["postgres"], indirect=True),  # skipped without one
]

METRIC_KEYS = ("cpu", "connections")
LEASE_SECONDS = 5  # the shortest lease the settings allow
CHUNK = 5
FLEET = [f"fleet-{i:02d}" for i in range(30)]
SOLO = "solo-db"
LEASE = timedelta(minutes=5)


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def started_jobs(self) -> list[int]:
        """Jobs this worker began (or resumed), from its structured log."""
        lines = self.err.read_text().splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        return [int(e["job"]) for e in entries if e.get("message") == "backfill started"]


@pytest.fixture()
def cloud(
    request: pytest.FixtureRequest, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> dict[str, int]:
    """Instances with hourly data through the current hour, discovered through the proxy:
    the fleet and one more, or (param "solo") that one alone."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    prepare(ctx, now, metrics=METRIC_KEYS, fleet_chunk_size=CHUNK)
    ctx.clock = utc_now  # the same clock as the workers'
    names = [SOLO] if getattr(request, "param", None) == "solo" else [*FLEET, SOLO]
    for name in names:
        put(moto, name, hours(now - 26 * HOUR, 27), METRIC_KEYS)
    return register(ctx, proxy.url, names)


@pytest.fixture()
def workers(store_url: str, ctx: Context, tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    env = {
        **os.environ,
        "DBSNOOZE_DATABASE_URL": store_url,  # the test's own schema, in its search_path
        "DBSNOOZE_SECRET_KEY_FILE": str(ctx.settings.secret_key_file),  # to open the account
        "DBSNOOZE_RUN_COLLECTOR": "false",
        "DBSNOOZE_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        "DBSNOOZE_FLEET_CHUNK_SIZE": str(CHUNK),
        "DBSNOOZE_METRICS": ",".join(METRIC_KEYS),
        "DBSNOOZE_LOG_FORMAT": "json",
    }
    started = [_start(env, tmp_path / f"worker-{n}") for n in (1, 2)]
    try:
        yield started  # they boot while the test sets the cloud up; see ready()
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.process.terminate()
        for worker in started:
            try:
                worker.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=10)


def _start(env: dict[str, str], stem: Path) -> WorkerProcess:
    out, err = stem.with_suffix(".out"), stem.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "dbsnooze", "worker"], env=env, stdout=stdout, stderr=stderr
        )
    return WorkerProcess(process, out, err)


def ready(workers: list[WorkerProcess]) -> None:
    for worker in workers:
        until(lambda w=worker: "running" in w.out.read_text(), "a worker to start")
        assert worker.process.poll() is None, worker.err.read_text()


def parts_of(ctx: Context, parent_id: int) -> dict[int, tuple[JobRow, list[int]]]:
    """Each part of a fleet job, with its instances."""
    with ctx.sessions() as session:
        rows = session.scalars(select(JobRow).where(JobRow.parent_id == parent_id))
        return {row.id: (row, queue.target_ids(session, row.id)) for row in rows}


def window_of(job: JobRow) -> list[datetime]:
    """The hours a job backfilled: it records its window when it first runs."""
    end = datetime.fromisoformat(job.params["window_end"])
    return hours(end - job.days * 24 * HOUR, job.days * 24)


def assert_exact(ctx: Context, name: str, instance_id: int, job: JobRow) -> None:
    """One row per (metric, hour) of the job's window, holding exactly what was put."""
    rows = stored(ctx, instance_id)
    expected = {(m, h): values(stat_set(name, m, h)) for m in METRIC_KEYS for h in window_of(job)}
    assert {key: row[:4] for key, row in rows.items()} == expected


def test_two_workers_share_a_fleet_backfill_without_fetching_an_hour_twice(
    ctx: Context, proxy: FaultProxy, workers: list[WorkerProcess], cloud: dict[str, int]
) -> None:
    ready(workers)
    proxy.hold({"GetMetricData"})  # each worker waits on its first part's call...
    fleet = backfill.submit_fleet(ctx, InstanceFilter(q="fleet-"), 1, False, "test")
    proxy.wait_held(2)  # ...so both are busy at once
    with ctx.sessions() as session:
        running = select(JobRow.lease_owner).where(JobRow.parent_id == fleet.id)
        owners = set(session.scalars(running.where(JobRow.state == "running")))
    proxy.release()
    until(lambda: job_row(ctx, fleet.id).finished_at, "the fleet job", timeout=90)
    parts = parts_of(ctx, fleet.id)

    assert job_row(ctx, fleet.id).state == "succeeded"
    assert len(parts) == len(FLEET) // CHUNK
    assert {str(owner).split(":")[1] for owner in owners} == {str(w.pid) for w in workers}
    started = [w.started_jobs() for w in workers]
    assert all(started)  # both workers took parts...
    assert sorted(started[0] + started[1]) == sorted(parts)  # ...and each part ran once
    # one GetMetricData call per part: 5 instances x 2 metrics x 4 statistics = 40 queries
    requests = proxy.forwarded("GetMetricData")
    assert len(requests) == sum(job.api_calls for job, _ in parts.values()) == len(parts)
    points = Counter(point for request in requests for point in request.points())
    assert set(points.values()) == {1}  # no instance-hour was fetched twice
    assert len(points) == len(FLEET) * len(METRIC_KEYS) * 4 * 24
    by_id = {instance_id: name for name, instance_id in cloud.items()}
    for job, instance_ids in parts.values():
        assert (job.state, job.hours_total, job.hours_backfilled) == ("succeeded", 120, 120)
        for instance_id in instance_ids:
            assert_exact(ctx, by_id[instance_id], instance_id, job)
    assert stored(ctx, cloud[SOLO]) == {}


@pytest.mark.parametrize("cloud", ["solo"], indirect=True)
def test_a_killed_workers_job_is_taken_over_after_its_lease(
    ctx: Context, proxy: FaultProxy, workers: list[WorkerProcess], cloud: dict[str, int]
) -> None:
    ready(workers)
    statistics = "GetMetricStatistics"
    proxy.hold({statistics}, after=1)  # the first call (connections) goes through, cpu waits
    job_id = backfill.submit_instance(ctx, cloud[SOLO], 1, False, "test").id
    proxy.wait_held()
    until(lambda: len(stored(ctx, cloud[SOLO])) == 24, "the first call's rows")
    owner = job_row(ctx, job_id).lease_owner
    assert owner is not None
    victim = next(w for w in workers if owner.split(":")[1] == str(w.pid))
    survivor = next(w for w in workers if w is not victim)

    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=30)
    proxy.release(drop=True)  # the dead worker's request never reaches the cloud
    done = until(lambda: (j := job_row(ctx, job_id)).finished_at and j, "the take-over", 60)

    assert done.state == "succeeded"
    assert (done.hours_total, done.hours_backfilled, done.hours_skipped) == (24, 24, 0)
    assert done.lease_owner is None
    assert survivor.started_jobs() == [job_id]
    assert victim.started_jobs() == [job_id]
    fetched = proxy.forwarded(statistics)
    assert sorted(r.params["MetricName"] for r in fetched) == sorted(
        cloudwatch_name(m) for m in METRIC_KEYS
    )  # connections by the dead worker, cpu by the survivor: nothing twice
    assert_exact(ctx, SOLO, cloud[SOLO], done)


def test_the_last_two_parts_ending_at_once_end_the_fleet_job(ctx: Context) -> None:
    """Two workers end the fleet's last two parts in overlapping transactions: the second waits
    for the first's lock on the fleet job, then sees both parts ended and ends it."""
    register(ctx, "http://127.0.0.1:9", ["race-a"], region="us-east-1")
    register(ctx, "http://127.0.0.1:9", ["race-b"], region="eu-west-1")  # another part
    fleet = backfill.submit_fleet(ctx, InstanceFilter(q="race-"), 1, False, "test")
    now = utc_now()
    parts = []
    for owner in ("w1", "w2"):
        with ctx.sessions() as session, session.begin():
            job = queue.claim(session, owner, now, LEASE)
            assert job is not None and job.parent_id == fleet.id
            parts.append(job.id)

    def end(session: Session, part_id: int) -> None:
        part = session.get(JobRow, part_id)
        assert part is not None
        queue.finish(session, part, queue.JobState.SUCCEEDED, now)

    def second() -> None:
        with ctx.sessions() as session, session.begin():
            end(session, parts[1])

    overlapping(ctx, lambda first: end(first, parts[0]), second)  # the first: not committed yet
    assert job_row(ctx, fleet.id).state == "succeeded"
    assert job_row(ctx, fleet.id).finished_at is not None


def test_a_fleet_cancelled_as_one_of_its_parts_ends_deadlocks_neither(ctx: Context) -> None:
    """A cancel writes the fleet job, then its parts; a worker ending a part takes the fleet
    job's lock before it writes its part, in that same order. (Writing its part first, it
    would hold the part the cancel waits for while waiting for the fleet job the cancel holds:
    PostgreSQL would break the deadlock by failing one of them.)"""
    register(ctx, "http://127.0.0.1:9", ["race-a"], region="us-east-1")
    register(ctx, "http://127.0.0.1:9", ["race-b"], region="eu-west-1")  # another part, queued
    fleet = backfill.submit_fleet(ctx, InstanceFilter(q="race-"), 1, False, "test")
    now = utc_now()
    with ctx.sessions() as session, session.begin():
        running = queue.claim(session, "w1", now, LEASE)
        assert running is not None and running.parent_id == fleet.id

    def cancel_begins(session: Session) -> None:  # request_cancel's first write
        row = session.get(JobRow, fleet.id)
        assert row is not None
        row.cancel_requested = True

    def cancel(session: Session) -> None:
        row = session.get(JobRow, fleet.id)
        assert row is not None
        queue.request_cancel(session, row, now)

    def end() -> None:
        with transaction(ctx.sessions) as session:
            part = session.get(JobRow, running.id)
            assert part is not None
            queue.finish(session, part, queue.JobState.SUCCEEDED, now)

    overlapping(ctx, cancel_begins, end, then=cancel)

    assert job_row(ctx, running.id).state == "succeeded"
    assert job_row(ctx, fleet.id).state == "cancelled"


def test_a_fleet_backfill_leaves_an_instance_to_the_job_it_got_meanwhile(ctx: Context) -> None:
    """Discovery's automatic backfill of one instance is submitted while a fleet backfill of it
    is: the fleet, finding it taken once that job is committed, leaves it out like any instance
    already being backfilled (it used to fail whole with a 409)."""
    ids = register(ctx, "http://127.0.0.1:9", ["race-a", "race-b"], region="us-east-1")
    now = utc_now()
    fields = {"days": 1, "days_requested": 1, "params": {"force": False}, "created_by": "test"}

    def single(session: Session) -> None:
        queue.submit(session, queue.BACKFILL, [ids["race-a"]], fields, now)

    def fleet() -> JobRow:
        return backfill.submit_fleet(ctx, InstanceFilter(q="race-"), 1, False, "test")

    parent = overlapping(ctx, single, fleet)

    assert [targets for _, targets in parts_of(ctx, parent.id).values()] == [[ids["race-b"]]]
