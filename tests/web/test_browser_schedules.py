"""The schedules pages in Chromium: draw a window on the week grid (mouse and keyboard), save
it through the API behind a login (CSRF), see the preview change, switch to live."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from webhelp import TOKEN, Served, call, screenshot_path, serve, web_settings

from dbsnooze.context import build_context
from dbsnooze.schedules import service
from dbsnooze.schedules.spec import ScheduleSpec
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Settings as ScheduleSettings
from migrated import migrate
from schedhelp import db, fleet


@pytest.fixture(scope="module")
def planned(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server with a login, two instances and an empty schedule holding one of them."""
    directory = tmp_path_factory.mktemp("planned")
    settings = web_settings(directory, api_token=TOKEN, run_worker=False)
    ctx = build_context(settings)
    migrate(ctx.engine)
    now = datetime.now(UTC)
    ids = fleet(ctx, db("shop-dev"), db("shop-test"), now=now)
    with transaction(ctx.sessions) as session:
        row = service.create(
            session, "office", ScheduleSettings(ScheduleSpec("Europe/Berlin")), "test", now,
            [ids["shop-dev"]],
        )  # fmt: skip
        ids["office"] = row.id
    try:
        with serve(settings, ctx) as served:
            served.ids = ids
            yield served
    finally:
        ctx.close()


def _cell(page: Page, day: int, hour: int) -> object:
    return page.locator(f'.sched-cell[data-day="{day}"][data-hour="{hour}"]')


def test_drawing_a_window_and_saving_it_changes_the_preview(page: Page, planned: Served) -> None:
    schedule_id = planned.ids["office"]
    page.goto(planned.url + f"/login?next=/schedules/{schedule_id}")
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="office")).to_be_visible()
    expect(page.locator("#preview-empty")).to_be_visible()  # no window yet: nothing changes
    expect(page.locator('#members-table tr[data-status="assigned"]')).to_contain_text("shop-dev")

    page.get_by_role("button", name="Wednesday 10:00 to 11:00").hover()  # drag 10:00-13:00
    page.mouse.down()
    page.get_by_role("button", name="Wednesday 12:00 to 13:00").hover()
    page.mouse.up()
    expect(page.get_by_role("button", name="Wednesday 11:00 to 12:00")).to_have_attribute(
        "aria-pressed", "true"
    )
    for key in ("ArrowRight",) * 3 + ("Space",):  # from the stroke's first cell to 13:00
        page.keyboard.press(key)
    for key in ("ArrowDown", "Enter", "Enter", "ArrowUp"):  # Thursday 13:00 on and off again
        page.keyboard.press(key)
    expect(page.get_by_role("button", name="Wednesday 13:00 to 14:00")).to_be_focused()
    page.get_by_role("button", name="Save windows").click()
    expect(page.locator("#schedule-message")).to_contain_text("Saved 1 sleep window(s)")
    preview = page.locator("#preview-table tbody")
    expect(preview).to_contain_text("window Wed 10:00-14:00")
    expect(preview.locator("tr")).to_have_count(2)  # one sleep, one wake within 7 days
    expect(page.locator('#members-table tr[data-status="assigned"]')).to_contain_text("·")
    stored = call(planned, "GET", f"/api/v1/schedules/{schedule_id}", TOKEN)
    assert [(w["days"], w["sleep"], w["wake"]) for w in stored["windows"]] == [
        ([2], "10:00", "14:00")
    ]
    page.screenshot(path=screenshot_path("schedule"), full_page=True)

    page.get_by_role("button", name="Switch to live").click()
    expect(page.locator("#mode-line")).to_contain_text("live")
    assert call(planned, "GET", f"/api/v1/schedules/{schedule_id}", TOKEN)["dry_run"] is False
    page.get_by_role("link", name="Schedules").first.click()
    row = page.locator(f'#schedules-table tr[data-schedule-id="{schedule_id}"]')
    expect(row).to_contain_text("Wed 10:00-14:00")
    expect(row).to_contain_text("live")
