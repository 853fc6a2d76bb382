"""The recommendations page and the proposed windows on the instance heatmap, in Chromium.

The store holds 30 days of the demo fleet (written straight in, as the demo's backfill would),
so every profile has enough history for a recommendation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from webhelp import Served, call, screenshot_path, serve, web_settings

from dbsnooze.analysis import runner
from dbsnooze.context import build_context
from dbsnooze.demo.prices import demo_prices
from dbsnooze.store import prices as price_store
from dbsnooze.store.db import transaction
from fleethelp import seed_store
from migrated import migrate

SLEEPERS = ("dev-alice-pg", "dev-bob-mysql", "dev-chloe-maria", "analytics-poc")
STAGING = ("billing-staging", "search-staging", "billing-staging-eu")
ABANDONED = ("legacy-reporting", "wiki-old", "migration-test-2023")
PRODUCTION = ("orders-prod", "payments-prod", "catalog-prod", "orders-prod-eu", "cms-prod-eu")


@pytest.fixture(scope="module")
def advised(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("advised")
    settings = web_settings(directory, run_worker=False)
    ctx = build_context(settings)
    migrate(ctx.engine)
    now = datetime.now(UTC)
    ids = seed_store(ctx, now)
    with transaction(ctx.sessions) as session:
        price_store.save(session, demo_prices(), now)
    runner.recompute(ctx)
    try:
        with serve(settings, ctx) as served:
            served.ids = ids
            yield served
    finally:
        ctx.close()


def _row(page: Page, name: str) -> Any:
    return page.locator(f'#recommendations-table tr[data-name="{name}"]')


def test_every_profile_gets_its_recommendation(page: Page, advised: Served) -> None:
    page.goto(advised.url + "/recommendations")
    expect(page.locator("#recommendations-table tbody tr")).to_have_count(15)
    expect(page.locator("#fleet-saving")).to_contain_text(re.compile(r"\$[\d,]+\.\d\d a month"))
    expect(page.locator("#fleet-saving")).to_contain_text("demo prices")
    expect(page.locator("section[aria-labelledby=saving-title]")).to_contain_text(
        "keep being billed"
    )
    for name in SLEEPERS + STAGING:
        row = _row(page, name)
        expect(row).to_have_attribute("data-kind", "sleep")
        expect(row.locator("ul.windows li")).to_have_count(5)
        expect(row.locator("ul.windows")).to_contain_text("Fri 19:00 → Mon 07:40")
        expect(row.locator("td.backtest")).to_contain_text("clean")
        expect(row.locator("td.num")).to_contain_text("$")
        assert row.locator("rect.wk-sleep").count() > 100  # the windows drawn on its week
    for name in ABANDONED:
        row = _row(page, name)
        expect(row).to_have_attribute("data-kind", "stop")
        expect(row).to_contain_text("idle for 28 days: stop it (or delete it)")
    for name in PRODUCTION:
        row = _row(page, name)
        expect(row).to_have_attribute("data-kind", "none")
        assert row.locator("rect.wk-sleep").count() == 0
    order = page.eval_on_selector_all(
        "#recommendations-table tbody tr", "rows => rows.map(r => r.dataset.name)"
    )
    assert order[0] == "legacy-reporting"  # the biggest saving first
    page.screenshot(path=screenshot_path("recommendations"), full_page=True)


def test_apply_and_dismiss_from_the_page(page: Page, advised: Served) -> None:
    page.goto(advised.url + "/recommendations")
    row = _row(page, "dev-chloe-maria")
    row.locator('button[data-action="apply"]').click()
    expect(row).to_have_attribute("data-state", "applied")
    expect(page.locator("#rec-message")).to_contain_text("Applied")
    expect(row.locator('button[data-action="apply"]')).to_be_hidden()
    stop = _row(page, "wiki-old")
    stop.locator('button[data-action="dismiss"]').click()
    expect(stop).to_have_attribute("data-state", "dismissed")
    listed = call(advised, "GET", "/api/v1/recommendations?state=dismissed")
    assert [item["instance_name"] for item in listed["data"]] == ["wiki-old"]
    page.goto(advised.url + "/recommendations?state=applied")
    expect(page.locator("#recommendations-table tbody tr")).to_have_count(1)


def test_the_instance_heatmap_outlines_the_windows_and_says_why(
    page: Page, advised: Served
) -> None:
    """Staging keeps its pool open all night, yet its nights are idle and inside the windows."""
    page.goto(f"{advised.url}/instances/{advised.ids['billing-staging']}?range=7d")
    expect(page.locator("#heatmap")).to_have_attribute("data-state", "ready")
    expect(page.locator("#heatmap-rule")).to_contain_text("idle floor of")
    cells: list[list[str]] = page.eval_on_selector_all(
        "#heatmap-table td.hm[data-start]",
        "cells => cells.map(c => [c.dataset.start, c.dataset.state, c.dataset.reason,"
        " c.dataset.sleep || '', c.getAttribute('aria-label')])",
    )
    nights = [c for c in cells if datetime.fromisoformat(c[0]).astimezone(UTC).hour in (1, 2, 3)]
    weekday_nights = [c for c in nights if datetime.fromisoformat(c[0]).weekday() < 5]
    assert weekday_nights and all(c[1] == "idle" and c[3] == "1" for c in weekday_nights)
    assert "below every idle threshold" in weekday_nights[0][4]
    assert "inside the proposed sleep windows" in weekday_nights[0][4]
    busy = [c for c in cells if c[1] == "active"]
    assert busy and all(c[3] == "" for c in busy)
    assert any("CPU at or above" in c[4] for c in busy)
    expect(page.locator("#heatmap-summary")).to_contain_text("Fri 19:00 → Mon 07:40")
    page.screenshot(path=screenshot_path("instance-windows"), full_page=True)
