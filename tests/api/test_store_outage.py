"""The store goes away under a running server and comes back: 503 `store_unavailable` (an HTML
page for the UI), /readyz says why, the log says it once and then counts, with no traceback from
the API or the background loops; then 200 again without a restart. On PostgreSQL behind a TCP
proxy the test cuts, and on SQLite whose directory is moved away."""

from __future__ import annotations

import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dbsnooze.config import Settings
from dbsnooze.context import Context, build_context
from dbsnooze.scheduler import Periodic
from dbsnooze.store.db import expected_revision, scratch_schema, transaction, upgrade
from dbsnooze.store.outage import OutageLog, reason
from liveserver import Served, serve
from metricshelp import NOW, Clock, until
from tcpproxy import TcpProxy

PG_URL = os.environ.get("DBSNOOZE_TEST_POSTGRES_URL")
PASSWORD = "outage-test-password-1b7e"  # PostgreSQL trusts loopback: it is never checked
STORE_CALLS = [
    ("GET", "/api/v1/instances"),
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/events"),
    ("POST", "/api/v1/instances/1/metrics/backfill"),
    ("GET", "/metrics"),
]


class Outage(Protocol):
    url: str

    def cut(self) -> None: ...

    def restore(self) -> None: ...


@dataclass
class MovedDirectory:
    """SQLite: the store's directory moved away (a volume unmounted) and back."""

    home: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.home / 'store.db'}"

    def cut(self) -> None:
        self.home.rename(self.home.with_name("away"))

    def restore(self) -> None:
        self.home.with_name("away").rename(self.home)


@dataclass
class CutNetwork:
    """PostgreSQL: every connection to the server broken and refused, then accepted again."""

    proxy: TcpProxy
    url: str

    def cut(self) -> None:
        self.proxy.close()

    def restore(self) -> None:
        self.proxy.open()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    if request.param == "sqlite":
        (tmp_path / "data").mkdir()
        yield MovedDirectory(tmp_path / "data")
        return
    if not PG_URL:
        pytest.skip("DBSNOOZE_TEST_POSTGRES_URL is not set")
    with scratch_schema(PG_URL, prefix="t") as url, TcpProxy(("127.0.0.1", 5432)) as proxy:
        through = make_url(url).set(host="127.0.0.1", port=proxy.port, password=PASSWORD)
        yield CutNetwork(proxy, through.render_as_string(hide_password=False))


def call(served: Served, method: str, path: str, html: bool = False) -> tuple[int, Any, str]:
    """(status, headers, body) of one request, whatever the status."""
    request = urllib.request.Request(served.url + path, method=method)
    request.add_header("Accept", "text/html" if html else "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.headers, failed.read().decode()


def test_a_store_outage_answers_503_logs_once_and_recovers_without_a_restart(
    outage: Outage, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = Settings(
        database_url=outage.url, secret_key_file=tmp_path / "dbsnooze.key", auto_backfill=False
    )
    ctx = build_context(settings)
    ctx.outage.every = timedelta(seconds=1)  # the running count, soon enough for a test
    upgrade(ctx.engine)
    try:
        with serve(settings, ctx) as served:
            before = call(served, "GET", "/api/v1/instances")
            outage.cut()
            during = [call(served, method, path) for method, path in STORE_CALLS]
            page = call(served, "GET", "/jobs", html=True)
            ready_during = call(served, "GET", "/readyz")
            for task in served.app.state.background:  # discovery and the collector try too
                if isinstance(task, Periodic):
                    task.trigger()
            until(lambda: "store still unavailable" in caplog.text, "the running count")
            outage.restore()
            after = until(
                lambda: (got := call(served, "GET", "/api/v1/instances"))[0] == 200 and got,
                "the store to answer again",
            )
            ready_after = call(served, "GET", "/readyz")
    finally:
        ctx.close()

    assert before[0] == 200
    for status, headers, body in during:
        assert status == 503, body
        assert headers["Retry-After"] == "5"
        assert '"code":"store_unavailable"' in body.replace(" ", "")
    assert page[0] == 503
    assert page[1]["Content-Type"].startswith("text/html")
    assert "cannot be reached" in page[2]
    assert ready_during[0] == 503
    assert "cannot be read" in ready_during[2]
    assert after[0] == 200
    assert ready_after[0] == 200
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if m.startswith("store unavailable: ")]) == 1
    assert len([m for m in messages if m.startswith("store reachable again")]) == 1
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= 40] == []
    assert "Traceback" not in caplog.text
    assert PASSWORD not in caplog.text


def test_readyz_compares_the_schema_revision_with_the_code(api: TestClient, ctx: Context) -> None:
    ready = api.get("/readyz")
    with transaction(ctx.sessions) as session:  # a store left behind (e.g. code rolled forward)
        session.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    behind = api.get("/readyz")
    with transaction(ctx.sessions) as session:  # a store never migrated
        session.execute(text("DELETE FROM alembic_version"))
    empty = api.get("/readyz")

    head = expected_revision()
    assert head is not None and head > "0002"
    assert ready.status_code == 200
    assert ready.json()["schema"] == head
    assert behind.status_code == 503
    assert behind.json()["schema"] == "0002"
    assert behind.json()["expected_schema"] == head
    assert f"at 0002, expected {head}" in behind.json()["reason"]
    assert empty.status_code == 503
    assert "no revision" in empty.json()["reason"]


def test_the_reason_logged_is_one_line_without_a_password() -> None:
    driver = Exception(
        f"could not connect: postgresql://app:{PASSWORD}@db.internal/app password={PASSWORD}\n"
        "\tIs the server running?"
    )
    said = reason(OperationalError("SELECT 1", {}, driver), password=None)

    assert PASSWORD not in said
    assert said == "could not connect: postgresql://app:***@db.internal/app password=***"


def test_the_outage_log_says_it_once_counts_and_ignores_stragglers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock(NOW)
    outage = OutageLog(clock, every=timedelta(minutes=1))
    before_outage = time.monotonic()
    with caplog.at_level(logging.INFO, logger="dbsnooze.store.outage"):
        outage.failed("connection refused")
        outage.succeeded(began=before_outage)  # a statement already running when it went down
        clock.advance(timedelta(seconds=30))
        outage.failed("connection refused")
        clock.advance(timedelta(seconds=31))
        outage.failed("connection refused")
        outage.succeeded(began=time.monotonic())
        outage.failed("connection refused", began=before_outage)  # began before the recovery

    assert [r.getMessage() for r in caplog.records] == [
        "store unavailable: connection refused",
        "store still unavailable, 3 failures since 2026-11-18T14:23:00+00:00",
        "store reachable again after 3 failures since 2026-11-18T14:23:00+00:00",
    ]
    assert not outage.down
