"""The schedules pages in Chromium: draw a window on the week grid (mouse and keyboard), save
it through the API behind a login (CSRF), see the preview change, switch to live; create a
schedule, edit its settings and delete it, each refusal shown at its field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sitepages import axe_violations
from webhelp import TIMEZONE, TOKEN, Console, Served, call, screenshot_path, serve, web_settings

from dbsnooze.context import build_context
from dbsnooze.schedules import service
from dbsnooze.schedules.spec import ScheduleSpec, Window
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


def _sign_in(page: Page, served: Served, path: str) -> None:
    page.goto(served.url + f"/login?next={path}")
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main h1")).to_be_visible()


def _own_schedule(served: Served, name: str, spec: ScheduleSpec) -> int:
    """A schedule of the test's own: the other tests' schedules stay as they are."""
    with transaction(served.ctx.sessions) as session:
        row = service.create(session, name, ScheduleSettings(spec), "test", datetime.now(UTC))
        return row.id


def test_a_new_schedule_is_refused_at_its_field_then_created_and_opened(
    page: Page, planned: Served, console: Console
) -> None:
    console.expect(r"status of 409")
    console.expect(r"status of 422")
    _sign_in(page, planned, "/schedules")
    form = page.locator("#new-schedule")
    name, zone = form.get_by_label("Name"), form.get_by_label("Time zone")
    expect(zone).to_have_value(TIMEZONE)  # the browser's own zone
    name.fill("office")  # the fixture's
    form.get_by_role("button", name="Create schedule").click()
    expect(page.locator("#new-name-error")).to_have_text("a schedule named 'office' exists")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    assert axe_violations(page) == []

    name.fill("nights")
    zone.fill("Mars/Olympus")
    zone.press("Enter")
    expect(page.locator("#new-timezone-error")).to_have_text("unknown time zone 'Mars/Olympus'")
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new-status")).to_contain_text("Not created")

    zone.fill("Europe/Berlin")
    form.get_by_role("button", name="Create schedule").click()
    expect(page).to_have_url(re.compile(r"/schedules/\d+$"))
    expect(page.get_by_role("heading", name="nights")).to_be_visible()
    expect(page.locator("#schedule-message")).to_contain_text("created, in dry run")
    created = call(planned, "GET", "/api/v1/schedules/" + page.url.rsplit("/", 1)[1], TOKEN)
    assert (created["timezone"], created["dry_run"], created["windows"]) == (
        "Europe/Berlin",
        True,
        [],
    )


def test_settings_send_only_what_changed_and_refresh_the_header_and_preview(
    page: Page, planned: Served, console: Console
) -> None:
    console.expect(r"status of 422")
    nightly = Window(tuple(range(7)), time(19), time(7))
    schedule_id = _own_schedule(planned, "nightly", ScheduleSpec("UTC", (nightly,)))
    _sign_in(page, planned, f"/schedules/{schedule_id}")
    expect(page.locator('#preview-table[data-state="ready"]')).to_be_attached()
    form = page.locator("#settings-form")
    sleep_cron, wake_cron = form.get_by_label("Sleep cron"), form.get_by_label("Wake cron")
    sleep_cron.fill("every night")
    wake_cron.fill("0 7 * * *")
    form.get_by_role("button", name="Save settings").click()
    expect(page.locator("#s-sleep-cron-error")).to_contain_text("is not a 5-field cron expression")
    expect(sleep_cron).to_have_attribute("aria-invalid", "true")
    expect(sleep_cron).to_be_focused()

    sleep_cron.fill("")
    wake_cron.fill("")
    skip = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=2)).date().isoformat()
    form.get_by_label("Time zone").fill("Europe/Berlin")
    form.get_by_label("Country code").fill("DE")
    form.get_by_label("Subdivision").fill("BY")
    form.get_by_label("Skip dates").fill(skip)
    form.get_by_label("Enforce").check()
    form.get_by_label("Tags").fill("team=data")
    with page.expect_request(lambda r: r.method == "PATCH") as sent:
        form.get_by_role("button", name="Save settings").click()
    assert set(sent.value.post_data_json) == {
        "timezone", "holidays_country", "holidays_subdivision", "skip_dates", "enforce", "selector"
    }  # fmt: skip
    expect(page.locator("#settings-status")).to_contain_text("Saved timezone")
    summary = page.locator("#schedule-summary")
    expect(summary).to_contain_text("On the clock of Europe/Berlin; public holidays of DE/BY")
    expect(summary).to_contain_text(f"kept awake on {skip}; enforced")
    expect(page.locator("#preview-table tbody")).to_contain_text(f"skip date {skip}")
    expect(page.locator("#preview-zone")).to_contain_text("Europe/Berlin")
    stored = call(planned, "GET", f"/api/v1/schedules/{schedule_id}", TOKEN)
    assert (stored["enforce"], stored["selector"]["tags"]) == (True, {"team": "data"})


def test_deleting_asks_inline_then_returns_to_the_list_without_it(
    page: Page, planned: Served
) -> None:
    schedule_id = _own_schedule(planned, "doomed", ScheduleSpec("UTC"))
    _sign_in(page, planned, f"/schedules/{schedule_id}")
    ask = page.get_by_role("button", name="Delete schedule")
    ask.click()
    yes = page.get_by_role("button", name="Yes, delete it")
    expect(yes).to_be_focused()
    expect(ask).to_have_attribute("aria-expanded", "true")
    assert axe_violations(page) == []
    page.keyboard.press("Escape")  # changed my mind
    expect(yes).to_be_hidden()
    expect(ask).to_be_focused()
    page.keyboard.press("Enter")
    expect(yes).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(planned.url + "/schedules")
    expect(page.locator("#schedules-message")).to_have_text("Schedule “doomed” deleted.")
    expect(page.locator(f'tr[data-schedule-id="{schedule_id}"]')).to_have_count(0)
