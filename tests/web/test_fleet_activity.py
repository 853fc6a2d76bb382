"""Last activity and idle share on the instances page and in the API listing: shown, sorted and
filtered from the summaries the store keeps as samples are written (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dbsnooze.api.app import create_app
from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.domain import HOUR, HourlyStat, Source
from dbsnooze.store import samples
from dbsnooze.store.db import transaction
from dbsnooze.web.overview import spark_window
from metricshelp import ALL_METRICS, Clock, register

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
WEEK = list(spark_window(NOW))  # the page's 168 final hours
NAMES = ("busy-db", "sleepy-db", "stale-db", "blank-db")


@pytest.fixture()
def fleet(settings: Settings, ctx: Context) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """busy: CPU 30 % in its last 20 hours; sleepy: a full week of every metric, never active;
    stale: active ten days ago, idle since; blank: nothing stored."""
    ctx.clock = Clock(NOW)
    ids = register(ctx, "http://127.0.0.1:9", NAMES)
    stats = [
        *_week(ids["busy-db"], lambda i: 30.0 if i >= len(WEEK) - 20 else 1.0),
        *_week(ids["sleepy-db"], lambda i: 1.0),
        *_week(ids["stale-db"], lambda i: 0.5),
        # every metric of that hour: one with a metric missing is unknown to the idle rule
        *_hour(ids["stale-db"], WEEK[0] - 72 * HOUR, 60.0),
    ]
    with transaction(ctx.sessions) as session:
        samples.upsert(session, stats, Source.BACKFILL, NOW)
    app = create_app(settings.model_copy(update={"run_worker": False}), ctx)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, ids


def _week(instance_id: int, cpu: object) -> list[HourlyStat]:
    assert callable(cpu)
    return [stat for i, hour in enumerate(WEEK) for stat in _hour(instance_id, hour, cpu(i))]


def _hour(instance_id: int, hour: datetime, cpu: float) -> list[HourlyStat]:
    return [
        HourlyStat(instance_id, m, hour, v := (cpu if m == "cpu" else 0.0), v, v, 60.0)
        for m in ALL_METRICS
    ]


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-instance-id="\d+" data-name="([^"]+)"', html)


def cell(html: str, name: str) -> str:
    row = html[html.index(f'data-name="{name}"') :]
    return row[: row.index("</tr>")]


def test_an_instance_never_active_in_a_full_week_says_so(
    fleet: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = fleet

    html = client.get("/").text

    sleepy = cell(html, "sleepy-db")
    assert "never active in stored history" in sleepy
    assert "none stored" not in sleepy
    assert 'class="cov-text">100 %' in sleepy
    assert "<td>100 %</td>" in sleepy  # idle share
    assert "none stored" in cell(html, "blank-db")
    assert "idle floor (the connections it holds when nothing happens" in html  # the legend
    busy = cell(html, "busy-db")
    expected = WEEK[-1].isoformat()
    assert f'<time datetime="{expected}" data-style="relative">' in busy
    assert f"<td>{round(100 * 148 / 168)} %</td>" in busy


def test_the_page_sorts_and_filters_by_last_activity_and_idle_share(
    fleet: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = fleet

    def names(query: str) -> list[str]:
        answer = client.get(query)
        assert answer.status_code == 200, answer.text
        return rows(answer.text)

    assert names("/?sort=-last_active")[:2] == ["busy-db", "stale-db"]
    assert names("/?sort=last_active")[2:] == ["stale-db", "busy-db"]  # never active first
    assert names("/?sort=idle")[:1] == ["busy-db"]
    assert names("/?sort=-idle")[2:] == ["busy-db", "blank-db"]  # no share: always last
    assert sorted(names("/?inactive=7")) == ["sleepy-db", "stale-db"]
    assert sorted(names("/?idle=99")) == ["sleepy-db", "stale-db"]
    assert sorted(names("/?idle=50")) == ["busy-db", "sleepy-db", "stale-db"]
    assert names("/?idle=50&inactive=1&q=busy") == []


def test_the_api_listing_shows_sorts_and_filters_by_activity(
    fleet: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = fleet

    def names(**params: object) -> list[str]:
        answer = client.get("/api/v1/instances", params=params)
        assert answer.status_code == 200, answer.text
        return [item["name"] for item in answer.json()["data"]]

    listed = {i["name"]: i for i in client.get("/api/v1/instances").json()["data"]}
    assert listed["busy-db"]["last_active_at"] == WEEK[-1].isoformat().replace("+00:00", "Z")
    assert listed["sleepy-db"]["idle_share"] == 1.0
    assert listed["blank-db"]["last_active_at"] is None and listed["blank-db"]["idle_share"] is None
    assert names(sort="-last_active")[:2] == ["busy-db", "stale-db"]
    assert names(sort="idle")[0] == "busy-db"
    assert sorted(names(inactive_days=7)) == ["sleepy-db", "stale-db"]
    assert sorted(names(min_idle_percent=99)) == ["sleepy-db", "stale-db"]
    one = client.get(f"/api/v1/instances/{ids['stale-db']}").json()
    assert one["last_active_at"] == (WEEK[0] - 72 * HOUR).isoformat().replace("+00:00", "Z")
    for bad in ({"min_idle_percent": 101}, {"inactive_days": 0}, {"sort": "idle_share"}):
        answer = client.get("/api/v1/instances", params=bad)
        assert answer.status_code == 422 and "error" in answer.json(), bad
