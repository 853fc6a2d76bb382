"""The pages over the real ASGI stack on SQLite and PostgreSQL: login, headers, query counts."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import event, select

from dbsnooze.api.app import create_app
from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.domain import HOUR, HourlyStat, Source, floor_hour
from dbsnooze.store import samples
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import AccountRow, InstanceRow

TOKEN = "page-test-token-0b5e"


@pytest.fixture()
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"run_worker": False}), ctx)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture()
def locked(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    token = {"api_token": SecretStr(TOKEN), "run_worker": False}
    app = create_app(settings.model_copy(update=token), ctx)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


def add_fleet(ctx: Context, count: int, hours: int = 24) -> list[int]:
    """`count` instances, each with `hours` of the metrics the idle rule reads (CPU,
    connections, no IOPS) up to the last final hour; no memory."""
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        account = AccountRow(
            provider="aws",
            name="pages",
            auth_method="default",
            auth_params={},
            regions=["us-east-1"],
            created_at=now,
            updated_at=now,
        )
        session.add(account)
        session.flush()
        rows = [_instance(account.id, f"db-{i:04d}", now) for i in range(count)]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
        last = floor_hour(now) - 2 * HOUR
        stats = [
            HourlyStat(i, metric, last - k * HOUR, value, value, value, 60.0)
            for i in ids
            for k in range(hours)
            for metric, value in (
                ("cpu", 2.0 + k % 12 * 5),
                ("connections", float(k % 3)),
                ("read_iops", 0.0),
                ("write_iops", 0.0),
            )
        ]
        samples.upsert(session, stats, Source.BACKFILL, now)
    return ids


def _instance(account_id: int, name: str, now: datetime) -> InstanceRow:
    return InstanceRow(
        account_id=account_id,
        provider="aws",
        region="us-east-1" if name[-1] in "02468" else "eu-west-1",
        provider_id=name,
        engine="postgres",
        engine_version="16.3",
        instance_class="db.t3.micro",
        status="available",
        tags={},
        first_seen_at=now,
        last_seen_at=now,
    )


class Statements:
    """Statements the page's request runs; the job worker's polling thread is not the page."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        if not threading.current_thread().name.startswith("dbsnooze-"):
            self.count += 1


def test_a_page_of_250_instances_costs_the_queries_of_a_page_of_25(
    client: TestClient, ctx: Context
) -> None:
    add_fleet(ctx, 1000)
    assert client.get("/").status_code == 200  # connections and caches warm up first
    counted = Statements()
    event.listen(ctx.engine, "before_cursor_execute", counted)
    try:
        costs = {}
        for per_page in (25, 250):
            counted.count = 0
            started = time.monotonic()
            answer = client.get(f"/?per_page={per_page}&page=3&sort=-name")
            elapsed = time.monotonic() - started
            assert answer.status_code == 200, answer.text
            assert answer.text.count('<tr data-instance-id="') == per_page
            costs[per_page] = counted.count
    finally:
        event.remove(ctx.engine, "before_cursor_execute", counted)
    assert costs[25] == costs[250] <= 10, costs
    assert elapsed < 5, f"a page of 250 of 1,000 instances took {elapsed:.1f}s"
    assert "Showing 501\u2013750 of 1000" in answer.text
    assert len(re.findall(r'<path class="spark-line" d="M\d+\.\d', answer.text)) == 250


def test_the_instances_page_shows_sparkline_coverage_and_last_activity(
    client: TestClient, ctx: Context
) -> None:
    add_fleet(ctx, 2, hours=30)
    html = client.get("/?q=db-0001").text
    row = html[html.index('data-name="db-0001"') :]
    assert re.search(r'<path class="spark-line" d="M[\d. ]+(L[\d. ]+ ?)+"', row)
    coverage = row[row.index('class="cov-text"') :]
    # four of the five metrics for 30 of the week's 168 hours: partial, not covered
    assert coverage.startswith('class="cov-text">0 %')
    assert "(30 h partial, 138 h missing)" in coverage[:200]
    assert "CPU of db-0001, last 7 days: average" in row
    assert re.search(r'<time datetime="[^"]+" data-style="relative">', row)


def test_a_cluster_row_is_marked_with_its_member_count(client: TestClient, ctx: Context) -> None:
    add_fleet(ctx, 2, hours=0)
    with transaction(ctx.sessions) as session:
        account_id = session.scalars(select(AccountRow.id)).one()
        cluster = _instance(account_id, "shop", ctx.clock())
        cluster.unit, cluster.members = "cluster", ["db-0000", "db-0001"]
        session.add(cluster)

    html = client.get("/").text

    row = html[html.index('data-name="shop"') :]
    row = row[: row.index("</tr>")]
    assert '<span class="badge unit">cluster</span> <span class="muted">2 members</span>' in row
    instance = html[html.index('data-name="db-0000"') :]
    assert "badge unit" not in instance[: instance.index("</tr>")]


def test_open_loopback_pages_have_no_login_and_strict_headers(client: TestClient) -> None:
    for path in ("/", "/jobs", "/accounts", "/jobs/table"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"
    login = client.get("/login?next=/jobs")
    assert login.status_code == 303 and login.headers["location"] == "/jobs"
    assert "Sign out" not in client.get("/").text


def test_lenient_query_strings_fall_back_to_defaults(client: TestClient, ctx: Context) -> None:
    add_fleet(ctx, 3)
    answer = client.get("/?sort=nope&page=x&per_page=7&account=abc&provider=azure")
    assert answer.status_code == 200
    assert answer.text.count('<tr data-instance-id="') == 3
    assert client.get("/jobs?state=bogus&offset=-1").status_code == 200


def test_an_unknown_instance_is_a_404_page(client: TestClient) -> None:
    answer = client.get("/instances/4242")
    assert answer.status_code == 404
    assert "There is no instance with id 4242." in answer.text


def test_with_a_token_pages_need_a_login_and_the_cookie_is_strict(locked: TestClient) -> None:
    assert locked.get("/api/v1/jobs").status_code == 401
    moved = locked.get("/jobs?state=queued")
    assert moved.status_code == 303
    assert moved.headers["location"] == "/login?next=%2Fjobs%3Fstate%3Dqueued"
    assert locked.get("/static/app.css").status_code == 200  # the login page needs its style
    form = locked.get("/login?next=/jobs")
    assert form.status_code == 200 and 'name="next" value="/jobs"' in form.text

    wrong = locked.post("/login", data={"token": "guess", "next": "/jobs"})
    assert wrong.status_code == 401 and "not the one" in wrong.text
    assert "set-cookie" not in wrong.headers

    right = locked.post("/login", data={"token": TOKEN, "next": "/jobs"})
    assert right.status_code == 303 and right.headers["location"] == "/jobs"
    cookie = right.headers["set-cookie"]
    assert (
        cookie.startswith("dbsnooze_session=") and TOKEN not in cookie
    )  # a session, not the token
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert locked.get("/jobs").status_code == 200
    assert locked.get("/api/v1/jobs").status_code == 200  # the pages' scripts use the cookie
    page = locked.get("/").text
    assert "Sign out" in page
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert csrf and f'name="csrf" value="{csrf[1]}"' in page

    session = locked.cookies["dbsnooze_session"]
    assert locked.post("/logout").status_code == 403  # without the page's CSRF token
    out = locked.post("/logout", data={"csrf": csrf[1]})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert 'dbsnooze_session=""' in out.headers["set-cookie"]
    replayed = locked.get("/api/v1/jobs", cookies={"dbsnooze_session": session})
    assert replayed.status_code == 401  # signing out revoked the session on the server


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil", ""])
def test_login_never_redirects_off_the_server(locked: TestClient, target: str) -> None:
    answer = locked.post("/login", data={"token": TOKEN, "next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_the_last_activity_ignores_idle_and_asleep_hours(client: TestClient, ctx: Context) -> None:
    [instance_id] = add_fleet(ctx, 1, hours=0)
    last = floor_hour(ctx.clock()) - 2 * HOUR
    with transaction(ctx.sessions) as session:
        # whole hours: one missing a metric the idle rule reads is unknown, neither
        quiet = [HourlyStat(instance_id, m, last - k * HOUR, 0, 0, 0, 60) for k in (5, 10)
                 for m in ("connections", "read_iops", "write_iops")]  # fmt: skip
        busy = [HourlyStat(instance_id, "cpu", last - 10 * HOUR, 40, 50, 30, 60)]
        idle = [HourlyStat(instance_id, "cpu", last - 5 * HOUR, 1, 2, 0, 60)]
        samples.upsert(session, quiet + busy + idle, Source.BACKFILL, ctx.clock())
        asleep = [HourlyStat(instance_id, "cpu", last, 90, 90, 90, 60)]  # counts for nothing
        samples.upsert(session, asleep, Source.ASLEEP, ctx.clock())
    html = client.get("/").text
    expected = (last - 10 * HOUR).astimezone(UTC).isoformat()
    assert f'<time datetime="{expected}" data-style="relative">' in html


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/instances/99999999999999999999999", 404),  # beyond 2^63
        ("/instances/3000000000", 404),  # beyond PostgreSQL's integer
        ("/instances/0", 404),
        ("/jobs?offset=99999999999999999999999", 200),
        ("/jobs/table?offset=%C2%B2", 200),  # a digit that int() refuses
        ("/?q=a%00b&region=%00&engine=x%1f", 200),  # NUL: PostgreSQL refuses it in text
        ("/?account=99999999999&page=99999999999&per_page=%C2%B2", 200),
    ],
)
def test_pages_answer_out_of_range_input_without_a_server_error(
    client: TestClient, path: str, status: int
) -> None:
    add_fleet(client.app.state.ctx, 2)
    answer = client.get(path, headers={"accept": "text/html"})
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
