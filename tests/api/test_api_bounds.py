"""Inputs that once were server errors are 422s in the error shape, on both stores.

Each class was found by fuzzing: integers beyond what the store holds, NUL and control
characters, datetimes the clock arithmetic cannot hold, endpoint URLs that are not URLs, and
key ids that cannot go into an HTTP header or a signature.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from apihelp import KEY_ID, SECRET, static_account
from fastapi.testclient import TestClient
from httpx2 import Response

from dbsnooze.api.schemas import ErrorResponse
from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.domain import HOUR, HourlyStat, HourRange, Source
from dbsnooze.store import samples
from dbsnooze.store.db import transaction
from metricshelp import register

TOO_BIG = [2**31, 2**63, 2**64 + 1]  # int4 ends at 2**31 - 1, int8 and SQLite at 2**63 - 1
ID_ROUTES = [
    ("GET", "/api/v1/cloud-accounts/{}"),
    ("DELETE", "/api/v1/cloud-accounts/{}"),
    ("POST", "/api/v1/cloud-accounts/{}/test"),
    ("GET", "/api/v1/instances/{}"),
    ("POST", "/api/v1/instances/{}/metrics/backfill"),
    ("POST", "/api/v1/instances/{}/collect-metrics"),
    ("GET", "/api/v1/instances/{}/metrics"),
    ("GET", "/api/v1/instances/{}/metrics/history"),
    ("GET", "/api/v1/instances/{}/metrics/coverage"),
    ("GET", "/api/v1/jobs/{}"),
    ("POST", "/api/v1/jobs/{}/cancel"),
]
QUERY_INTEGERS = [
    ("GET", "/api/v1/instances", "offset"),
    ("GET", "/api/v1/instances", "limit"),
    ("GET", "/api/v1/instances", "account"),
    ("GET", "/api/v1/events", "offset"),
    ("GET", "/api/v1/jobs", "offset"),
    ("GET", "/api/v1/jobs", "instance"),
    ("POST", "/api/v1/discover", "account"),
    ("POST", "/api/v1/metrics/backfill", "account"),
]
TEXT_FILTERS = [
    ("GET", "/api/v1/instances", "q"),
    ("GET", "/api/v1/instances", "region"),
    ("GET", "/api/v1/instances", "engine"),
    ("GET", "/api/v1/instances", "status"),
    ("GET", "/api/v1/events", "action"),
    ("POST", "/api/v1/metrics/backfill", "q"),
    ("POST", "/api/v1/metrics/backfill", "region"),
    ("POST", "/api/v1/metrics/backfill", "engine"),
    ("POST", "/api/v1/metrics/backfill", "status"),
]


def refused(answer: Response, code: str = "validation_error") -> dict[str, Any]:
    """The answer is a 422 in the error shape with this code; returns the error."""
    assert answer.status_code == 422, answer.text
    error = ErrorResponse.model_validate(answer.json()).error
    assert error.code == code, answer.text
    return answer.json()["error"]  # type: ignore[no-any-return]


# --- integers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "route"), ID_ROUTES)
def test_ids_beyond_the_store_are_refused(api: TestClient, method: str, route: str) -> None:
    for value in TOO_BIG:
        refused(api.request(method, route.format(value)))
    refused(api.request(method, route.format(0)))


@pytest.mark.parametrize(("method", "path", "name"), QUERY_INTEGERS)
def test_integer_filters_and_paging_beyond_the_store_are_refused(
    api: TestClient, method: str, path: str, name: str
) -> None:
    for value in TOO_BIG:
        refused(api.request(method, path, params={name: value}))


def test_days_beyond_a_century_are_invalid_days(api: TestClient, ctx: Context) -> None:
    iid = register(ctx, "http://127.0.0.1:9", ["db-1"])["db-1"]
    for path in (
        f"/api/v1/instances/{iid}/metrics/backfill",
        "/api/v1/metrics/backfill",
        f"/api/v1/instances/{iid}/metrics/coverage",
    ):
        for value in TOO_BIG:
            method = "GET" if path.endswith("coverage") else "POST"
            error = refused(api.request(method, path, params={"days": value}), "invalid_days")
            assert repr(str(value)) in error["message"]
    assert api.get("/api/v1/jobs").json()["count"] == 0


# --- text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "name"), TEXT_FILTERS)
def test_nul_and_control_characters_in_text_filters_are_refused(
    api: TestClient, method: str, path: str, name: str
) -> None:
    for value in ("a\x00b", "\x00", "tab\there", "\x1b[2J", "del\x7f"):
        refused(api.request(method, path, params={name: value}))
    assert api.request(method, path, params={name: "ordinary é text"}).status_code in (200, 202)


def test_nul_in_metric_keys_is_refused(api: TestClient, ctx: Context) -> None:
    iid = register(ctx, "http://127.0.0.1:9", ["db-1"])["db-1"]
    path = f"/api/v1/instances/{iid}/metrics/history"
    refused(api.get(path, params={"metrics": "cpu\x00"}))


@pytest.mark.parametrize(
    "auth",
    [
        {"method": "profile", "profile": "dev\x00"},
        {"method": "assume_role", "role_arn": "arn:aws:iam::123456789012:role/r\x00"},
        {
            "method": "assume_role",
            "role_arn": "arn:aws:iam::123456789012:role/reader",
            "source_profile": "base\x01",
        },
    ],
)
def test_nul_and_control_characters_in_account_fields_are_refused(
    api: TestClient, moto: Emulator, auth: dict[str, str]
) -> None:
    refused(api.post("/api/v1/cloud-accounts", json=static_account(moto, auth=auth)))
    assert api.get("/api/v1/cloud-accounts").json()["count"] == 0


# --- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keys",
    [
        {"access_key_id": "AKIAÉXAMPLEÉXAMPLE", "secret_access_key": SECRET},
        {"access_key_id": "AKIA EXAMPLE EXAMPLE", "secret_access_key": SECRET},
        # moto cannot place a request signed so, and answers as S3: once a KeyError, a 500
        {"access_key_id": "AKIA/EXAMPLE/EXAMPLE", "secret_access_key": SECRET},
        {"access_key_id": KEY_ID, "secret_access_key": "sécret-with-non-ascii-0123456789"},
        {"access_key_id": KEY_ID, "secret_access_key": SECRET, "session_token": "tøken"},
    ],
)
def test_key_parts_must_be_what_an_http_header_and_a_signature_hold(
    api: TestClient, moto: Emulator, keys: dict[str, str]
) -> None:
    body = static_account(moto, auth={"method": "static_keys", **keys})
    error = refused(api.post("/api/v1/cloud-accounts", json=body))
    assert "printable ASCII" in error["message"] or "letters, digits or _" in error["message"]
    for value in keys.values():
        assert value not in str(error)
    assert api.get("/api/v1/cloud-accounts").json()["count"] == 0


# --- endpoint URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://[::1]:99999",
        "http://127.0.0.1:port",
        "ftp://127.0.0.1",
        "http://user:password@127.0.0.1:9",
        "http://ôö.example",
        "https://" + "0" * 300,
        "http://a..b",
        "http://127.0.0.1:9/?x=1",
    ],
)
def test_endpoint_urls_that_are_not_urls_to_a_host_are_refused(
    api: TestClient, moto: Emulator, url: str
) -> None:
    body = static_account(moto, endpoint_url=url)
    refused(api.post("/api/v1/cloud-accounts", json=body))
    assert api.get("/api/v1/cloud-accounts").json()["count"] == 0


# --- datetimes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00:00+01:00", "0001-01-02T00:00:00"),
        ("0001-01-01T00:00:00", "0001-01-02T00:00:00"),
        ("9999-12-30T00:00:00", "9999-12-31T23:30:00"),
        ("9999-12-31T00:00:00", "9999-12-31T23:00:00-05:00"),
        ("1999-12-31T00:00:00Z", "2000-01-01T00:00:00Z"),
        ("2100-12-31T00:00:00Z", "2101-01-01T00:00:00Z"),
    ],
)
def test_history_windows_outside_2000_to_2100_are_invalid_ranges(
    api: TestClient, ctx: Context, start: str, end: str
) -> None:
    iid = register(ctx, "http://127.0.0.1:9", ["db-1"])["db-1"]
    path = f"/api/v1/instances/{iid}/metrics/history"
    error = refused(api.get(path, params={"start": start, "end": end}), "invalid_range")
    assert "2000 to 2100" in error["message"]


def test_history_after_2038_reads_its_samples(api: TestClient, ctx: Context) -> None:
    """PostgreSQL once cast epoch seconds to a 32-bit integer, which ends on 2038-01-19."""
    iid = register(ctx, "http://127.0.0.1:9", ["db-1"])["db-1"]
    hour = datetime(2038, 1, 19, 5, tzinfo=UTC)  # 03:14:08 is the first second past int4
    with transaction(ctx.sessions) as session:
        stat = HourlyStat(iid, "cpu", hour, 12.5, 40.0, 1.0, 60.0)
        samples.upsert(session, [stat], Source.BACKFILL, hour)
    with ctx.sessions() as session:
        found = samples.series(session, iid, ["cpu"], HourRange(hour - HOUR, hour + HOUR))
    assert found["cpu"].average == [None, 12.5]
    params = {"start": "2038-01-19T04:00:00Z", "end": "2038-01-19T06:00:00Z", "metrics": "cpu"}
    answer = api.get(f"/api/v1/instances/{iid}/metrics/history", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["series"]["cpu"] == [None, 12.5]
