"""Backfill and history through the HTTP API, against moto over HTTP with data the test wrote.

Every stored number is checked against CloudWatch asked one hour at a time (SPEC §11); the clock
is fixed so windows are exact. The store is SQLite and PostgreSQL (the `ctx` fixture).
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.metrics import STATISTICS, memory_used_percent
from faultproxy import FaultProxy
from metricshelp import (
    ALL_METRICS,
    HOUR,
    NOW,
    REGION,
    app,
    cloudwatch_name,
    connect,
    create_db,
    finished,
    hours,
    put,
    register,
    stored,
    truth,
    until,
    values,
    window,
)

EU = "eu-west-1"


@pytest.fixture()
def api(ctx: Context) -> Iterator[TestClient]:
    with app(ctx) as client:
        yield client


def backfill(api: TestClient, instance_id: int, **params: Any) -> Any:
    return api.post(f"/api/v1/instances/{instance_id}/metrics/backfill", params=params)


# --- what is stored is exactly what CloudWatch holds ------------------------------------------


def test_backfill_stores_exactly_what_cloudwatch_holds(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, ["orders-db"])["orders-db"]
    wanted = window(NOW, 1)
    before, current = wanted[0] - HOUR, wanted[-1] + HOUR
    put_sets = put(moto, "orders-db", [before, *wanted, current])

    answer = backfill(api, iid, days=1, wait="true")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert answer.headers["location"] == f"/api/v1/jobs/{body['id']}" == body["url"]
    seed_fields = {k: body[k] for k in ("success", "instance_id", "hours_backfilled", "days")}
    assert seed_fields == {"success": True, "instance_id": iid, "hours_backfilled": 24, "days": 1}
    assert body["days_requested"] == 1
    assert body["state"] == "succeeded"
    assert (body["hours_total"], body["hours_skipped"], body["hours_empty"]) == (24, 0, 0)
    assert body["api_calls"] == 5
    rows = stored(ctx, iid)
    assert set(rows) == {(metric, hour) for metric in ALL_METRICS for hour in wanted}
    for (metric, hour), row in rows.items():
        assert row[:4] == truth(moto, "orders-db", metric, hour) == values(put_sets[metric, hour])
        assert row[4] == "backfill"


def test_history_answers_the_stored_numbers_aligned_to_hours(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, ["orders-db"], instance_class="db.r6g.large")["orders-db"]
    wanted = window(NOW, 1)
    put_sets = put(moto, "orders-db", wanted[6:])  # the first six hours: nothing in the cloud
    assert backfill(api, iid, days=1, wait="true").json()["hours_empty"] == 6
    start, end = wanted[0] - 2 * HOUR, wanted[-1] + 3 * HOUR  # 2 hours never asked each side

    found = api.get(
        f"/api/v1/instances/{iid}/metrics/history",
        params={"start": start.isoformat(), "end": end.isoformat()},
    ).json()

    shown = hours(start, 28)
    assert found["hours"] == [hour.isoformat() for hour in shown]
    for metric in ALL_METRICS:  # what CloudWatch holds: see the test above
        cloud = [values(put_sets[metric, h]) if (metric, h) in put_sets else None for h in shown]
        assert found["series"][metric] == [c[0] if c else None for c in cloud]
        assert found["maximum"][metric] == [c[1] if c else None for c in cloud]
    assert found["series"]["memory_used_percent"] == [
        memory_used_percent(v, "db.r6g.large") for v in found["series"]["freeable_memory"]
    ]
    assert (
        found["coverage"] == ["missing"] * 2 + ["empty"] * 6 + ["complete"] * 18 + ["missing"] * 2
    )
    csv = api.get(
        f"/api/v1/instances/{iid}/metrics/history",
        params={"start": start.isoformat(), "end": end.isoformat(), "format": "csv"},
    )
    lines = csv.text.splitlines()
    assert lines[0].startswith("hour,coverage,cpu_average_percent,cpu_maximum_percent,")
    assert len(lines) == 29
    assert lines[9].startswith(f"{wanted[6].isoformat()},complete,")
    latest = api.get(f"/api/v1/instances/{iid}/metrics").json()["metrics"]
    assert latest["cpu"]["hour"] == wanted[-1].isoformat().replace("+00:00", "Z")
    assert latest["cpu"]["average"] == values(put_sets["cpu", wanted[-1]])[0]
    assert set(stored(ctx, iid)) == {(m, h) for m in ALL_METRICS for h in wanted[6:]}


# --- the window --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minute", "last_final"),
    [
        pytest.param(5, 12, id="05-past: 13:00-14:00 not final yet"),
        pytest.param(23, 13, id="23-past: 13:00-14:00 final"),
    ],
)
def test_window_is_days_times_24_final_hours_before_the_current_hour(
    ctx: Context, moto: Emulator, proxy: FaultProxy, minute: int, last_final: int
) -> None:
    now = NOW.replace(minute=minute)
    current = now.replace(minute=0)
    end = current.replace(hour=last_final) + HOUR
    expected = hours(end - 48 * HOUR, 48)
    with app(ctx, now) as api:
        iid = register(ctx, proxy.url, ["orders-db"])["orders-db"]
        put(moto, "orders-db", hours(current - 50 * HOUR, 51), ["cpu"])  # through the current hour

        job = backfill(api, iid, days=2, wait="true").json()
        coverage = api.get(f"/api/v1/instances/{iid}/metrics/coverage", params={"days": 2}).json()

    assert job["hours_total"] == 48
    assert {hour for _, hour in stored(ctx, iid)} == set(expected)
    asked = proxy.forwarded("GetMetricStatistics")
    assert {(r.start, r.end) for r in asked} == {(end - 48 * HOUR, end)}
    assert len(asked) == len(ALL_METRICS)
    assert (coverage["start"], coverage["end"]) == (
        _z(end - 48 * HOUR),
        _z(end),
    )
    assert [h["hour"] for h in coverage["hours"]] == [_z(h) for h in expected]
    assert coverage["summary"] == {"partial": 48}  # cpu only: the other metrics are empty


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- days: validation and cap ------------------------------------------------------------------


def test_days_must_be_a_whole_number_of_at_least_one(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, ["orders-db"])["orders-db"]
    for bad in ("0", "-1", "1.5", "abc", "1e3", " "):
        for answer in (
            backfill(api, iid, days=bad),
            api.post("/api/v1/metrics/backfill", params={"days": bad}),
            api.post("/api/v1/metrics/backfill", params={"days": bad, "dry_run": "true"}),
        ):
            assert answer.status_code == 422, (bad, answer.text)
            error = answer.json()["error"]
            assert error["code"] == "invalid_days"
            assert "whole number of at least 1" in error["message"]
            assert repr(bad) in error["message"]
    assert api.get("/api/v1/jobs").json()["count"] == 0
    assert proxy.forwarded("GetMetricStatistics", "GetMetricData") == []


def test_days_over_the_cap_are_clamped_and_the_answer_says_so(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    iid = register(ctx, proxy.url, ["orders-db"])["orders-db"]

    capped = backfill(api, iid, days=30, wait="true").json()
    default = backfill(api, iid, wait="true").json()

    assert (capped["days_requested"], capped["days"], capped["capped"]) == (30, 7, True)
    assert capped["hours_total"] == 168
    assert capped["hours_empty"] == 168  # the cloud holds nothing for it
    assert (default["days_requested"], default["days"], default["capped"]) == (7, 7, False)
    assert default["api_calls"] == 0  # empty hours are not asked again


def test_a_higher_cap_setting_allows_deeper_backfills(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    with app(ctx, backfill_max_days=20) as api:
        iid = register(ctx, proxy.url, ["orders-db"])["orders-db"]
        job = backfill(api, iid, days=30).json()
    assert (job["days_requested"], job["days"], job["capped"]) == (30, 20, True)


def test_backfill_of_an_unknown_instance_is_404(api: TestClient) -> None:
    missing = backfill(api, 999)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "instance_not_found"


# --- one backfill of an instance at a time ------------------------------------------------------


def test_a_second_backfill_while_one_is_queued_is_409_naming_it(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    with app(ctx, run_worker=False) as api:  # nobody works: the first job stays queued
        ids = register(ctx, proxy.url, ["orders-db", "other-db"])
        first = backfill(api, ids["orders-db"], days=1)
        assert first.status_code == 202
        job = first.json()
        assert job["state"] == "queued"

        second = backfill(api, ids["orders-db"], days=2, force="true")
        fleet = api.post("/api/v1/metrics/backfill", params={"days": 1}).json()
        cancelled = api.post(f"/api/v1/jobs/{job['id']}/cancel")
        again = api.post(f"/api/v1/jobs/{job['id']}/cancel")
        third = backfill(api, ids["orders-db"], days=1)

    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "backfill_running"
    assert error["job_id"] == job["id"]
    assert error["instance_id"] == ids["orders-db"]
    assert f"/api/v1/jobs/{job['id']}" in error["message"]
    assert fleet["instance_ids"] == [ids["other-db"]]  # the busy instance is left to its job
    assert cancelled.status_code == 202
    assert cancelled.json()["state"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_finished"
    assert third.status_code == 202  # the cancelled job no longer holds the instance


# --- fleet -------------------------------------------------------------------------------------


def test_fleet_backfill_batches_the_filtered_instances_with_get_metric_data(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    with app(ctx) as api:
        register(ctx, proxy.url, ["app-a", "app-b", "app-c", "other-db"])
        register(ctx, proxy.url, ["app-mysql"], engine="mysql")
        ids = register(ctx, proxy.url, ["app-eu"], region=EU)
        wanted = window(NOW, 1)
        put_sets = {name: put(moto, name, wanted) for name in ("app-a", "app-b", "app-c")}
        put(moto, "other-db", wanted)
        put(moto, "app-mysql", wanted)
        put(moto, "app-eu", wanted, region=EU)
        flt = {"region": REGION, "engine": "postgres", "q": "app", "days": 1}

        plan = api.post("/api/v1/metrics/backfill", params={**flt, "dry_run": "true"})
        assert proxy.forwarded("GetMetricStatistics", "GetMetricData") == []
        assert api.get("/api/v1/jobs").json()["count"] == 0
        submitted = api.post("/api/v1/metrics/backfill", params=flt)
        job = finished(api, submitted.json()["id"])

    assert plan.status_code == 200
    assert plan.json() == {
        "instances": 3,
        "days": 1,
        "capped": False,
        "window_start": wanted[0].isoformat(),
        "window_end": (wanted[-1] + HOUR).isoformat(),
        "requests": 15,
        "statistics_calls": 0,  # the job reads three instances through GetMetricData only
        "data_calls": 1,
        "data_queries": 60,
        "data_cost_usd": 0.0006,
    }
    assert submitted.status_code == 202
    assert submitted.headers["location"] == f"/api/v1/jobs/{job['id']}"
    chosen = sorted(ids[name] for name in ("app-a", "app-b", "app-c"))
    assert job["kind"] == "fleet_backfill"
    assert job["instance_ids"] == chosen
    assert job["state"] == "succeeded"
    assert job["parts"] == {"succeeded": 1}
    assert (job["hours_total"], job["hours_backfilled"], job["api_calls"]) == (72, 72, 1)
    (request,) = proxy.forwarded("GetMetricData", "GetMetricStatistics")
    assert request.operation == "GetMetricData"
    assert request.hours == wanted
    assert sorted(request.series) == sorted(
        (name, cloudwatch_name(metric), stat)
        for name in ("app-a", "app-b", "app-c")
        for metric in ALL_METRICS
        for stat in STATISTICS
    )
    for name, written in put_sets.items():
        rows = stored(ctx, ids[name])
        assert {key: row[:4] for key, row in rows.items()} == {
            key: values(stats) for key, stats in written.items()
        }
    for name in ("other-db", "app-mysql", "app-eu"):
        assert stored(ctx, ids[name]) == {}


def test_fleet_parts_take_ceil_queries_over_500_calls_each(
    ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    names = [f"fleet-{i:02}" for i in range(30)]
    with app(ctx, fleet_chunk_size=26) as api:
        register(ctx, proxy.url, names)
        plan = api.post("/api/v1/metrics/backfill", params={"days": 1, "dry_run": "true"}).json()
        job = finished(api, api.post("/api/v1/metrics/backfill", params={"days": 1}).json()["id"])

    # 26 instances x 5 metrics x 4 statistics = 520 queries, then 4 x 20 = 80
    queries = [len(r.series) for r in proxy.forwarded("GetMetricData")]
    assert sorted(queries) == [20, 80, 500]
    assert job["state"] == "succeeded"
    assert job["api_calls"] == math.ceil(520 / 500) + math.ceil(80 / 500) == 3
    assert job["hours_empty"] == 30 * 24
    assert (plan["data_queries"], plan["data_calls"]) == (600, 3)
    assert plan["data_cost_usd"] == pytest.approx(600 * 0.01 / 1000)
    assert job["parts"] == {"succeeded": 2}
    asked = [point for r in proxy.forwarded("GetMetricData") for point in r.points()]
    assert len(asked) == len(set(asked)) == 30 * 5 * 4 * 24


# --- a stopped instance sleeps -----------------------------------------------------------------


def test_a_stopped_instances_silent_hours_are_asleep(
    api: TestClient, ctx: Context, moto: Emulator, proxy: FaultProxy
) -> None:
    create_db(moto, "sleepy-db")
    moto.client("rds", REGION).stop_db_instance(DBInstanceIdentifier="sleepy-db")
    iid = connect(ctx, proxy.url)["sleepy-db"]
    wanted = window(NOW, 7)
    put(moto, "sleepy-db", wanted[20:100])  # born at hour 20, stopped after hour 99

    job = backfill(api, iid, wait="true").json()
    coverage = api.get(f"/api/v1/instances/{iid}/metrics/coverage").json()
    history = api.get(f"/api/v1/instances/{iid}/metrics/history", params={"range": "7d"}).json()

    assert api.get(f"/api/v1/instances/{iid}").json()["status"] == "stopped"
    states = [h["state"] for h in coverage["hours"]]
    assert states == ["empty"] * 20 + ["complete"] * 80 + ["asleep"] * 68
    assert coverage["summary"] == {"empty": 20, "complete": 80, "asleep": 68}
    assert job["state"] == "succeeded"
    assert (job["hours_backfilled"], job["hours_empty"]) == (148, 20)
    rows = stored(ctx, iid)
    assert {rows["cpu", h][4] for h in wanted[100:]} == {"asleep"}
    assert {rows["cpu", h][:4] for h in wanted[100:]} == {(0.0, 0.0, 0.0, 0.0)}
    # the 7d range ends with the current hour, one hour after the backfill window
    assert history["coverage"] == [*states[1:], "missing"]


# --- the seed's own command against a real server ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def _poll(what: str, check: Callable[[], Any]) -> Any:
    """`until` for a server that may not answer yet."""

    def attempt() -> Any:
        try:
            return check()
        except OSError:
            return None

    return until(attempt, what)


def test_the_seeds_curl_works_against_a_default_dbsnooze_serve(
    tmp_path: Path, moto: Emulator
) -> None:
    create_db(moto, "seed-db")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    put(moto, "seed-db", hours(now - 50 * HOUR, 48))  # final hours, whatever the minute
    port = _free_port()
    env = {
        **os.environ,
        "DBSNOOZE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "DBSNOOZE_SECRET_KEY_FILE": str(tmp_path / "serve.key"),
    }
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "dbsnooze", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _poll("the server", lambda: _call("GET", f"{base}/readyz")[0] == 200)
            account = {
                "name": "emulator",
                "regions": [REGION],
                "endpoint_url": moto.endpoint_url,
                "auth": {"method": "static_keys", "access_key_id": "AKIAIOSFODNN7EXAMPLE",
                         "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
            }  # fmt: skip
            assert _call("POST", f"{base}/api/v1/cloud-accounts", account)[0] == 201
            assert _call("POST", f"{base}/api/v1/discover")[1]["totals"]["new"] == 1
            (instance,) = _call("GET", f"{base}/api/v1/instances")[1]["data"]
            auto = _poll(  # a new instance is backfilled by itself (7 days by default)
                "the automatic backfill",
                lambda: [
                    j
                    for j in _call("GET", f"{base}/api/v1/jobs")[1]["data"]
                    if j["state"] == "succeeded"
                ],
            )
            assert auto[0]["created_by"] == "auto-backfill"
            assert auto[0]["hours_backfilled"] == 48

            curl = subprocess.run(
                ["curl", "-sS", "-i", "-X", "POST",
                 f"http://localhost:{port}/api/v1/instances/{instance['id']}/metrics/backfill?days=1",
                 "-H", "Content-Type: application/json"],
                capture_output=True, timeout=30, check=True,
            )  # fmt: skip

            head, _, body = curl.stdout.decode().partition("\r\n\r\n")
            status_line, *header_lines = head.splitlines()
            headers = dict(line.lower().split(": ", 1) for line in header_lines)
            job = json.loads(body)
            assert status_line.split()[1] == "202", curl.stdout
            assert headers["location"] == f"/api/v1/jobs/{job['id']}"
            assert (job["instance_id"], job["days_requested"], job["days"]) == (
                instance["id"],
                1,
                1,
            )
            done = _poll(
                "the curl's job",
                lambda: (j := _call("GET", f"{base}{headers['location']}")[1])["finished_at"] and j,
            )
            assert done["state"] == "succeeded"
            assert (done["hours_total"], done["hours_skipped"], done["api_calls"]) == (24, 24, 0)
        finally:
            server.terminate()
            server.wait(timeout=30)
