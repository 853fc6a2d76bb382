"""The web UI in headless Chromium, against a real server, its job worker and moto over HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from webhelp import TIMEZONE, TOKEN, Console, Served, backfilled, call, screenshot_path

from dbsnooze.demo.emulator import Emulator
from dbsnooze.demo.fleet import PROFILES
from dbsnooze.jobs import backfill
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow
from faultproxy import FaultProxy

STROKES = {  # each chart's line colour, as charts.js draws it
    "cpu": (194, 65, 12),
    "connections": (29, 78, 216),
    "memory_used_percent": (124, 58, 237),
    "read_iops": (4, 120, 87),
    "write_iops": (180, 83, 9),
}
COUNT_STROKE = """(figure, [r, g, b]) => {
  const canvas = figure.querySelector("canvas");
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    const near = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b);
    if (data[i + 3] > 200 && near < 60) n += 1;
  }
  return n;
}"""
ZONE = ZoneInfo(TIMEZONE)


def _instance_url(served: Served, name: str, query: str = "") -> str:
    return f"{served.url}/instances/{served.ids[name]}{query}"


def _stroke_pixels(page: Page, metric: str) -> int:
    figure = page.locator(f'figure.chart[data-metric="{metric}"]')
    return int(figure.evaluate(COUNT_STROKE, list(STROKES[metric])))


def _js_number(value: float, unit: str) -> str:
    """charts.js's `number()` in en-US: 2, 1 or 0 decimals by size, no trailing zeros."""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text} {unit}".strip()


def _local_label(hour: datetime) -> str:
    local = hour.astimezone(ZONE)
    end = (hour + timedelta(hours=1)).astimezone(ZONE)
    start = f"{local:%a}, {local:%b} {local.day}, {local.year}, {local:%I:%M %p}"
    return f"{start} \u2013 {end:%I:%M %p}"


def test_the_instances_page_shows_the_fleet_with_sparklines_and_coverage(
    page: Page, fleet: Served
) -> None:
    backfilled(fleet, "dev-alice-pg")
    page.goto(fleet.url + "/")
    rows = page.locator("#instances-table tbody tr")
    expect(rows).to_have_count(15)
    alice = page.locator('tr[data-name="dev-alice-pg"]')
    expect(alice.locator("path.spark-line")).to_have_count(1)
    expect(alice.locator(".cov-text")).to_contain_text("100 %")
    expect(alice.locator("td time")).to_contain_text(re.compile(r"ago$"))
    untouched = page.locator('tr[data-name="orders-prod"]')
    expect(untouched.locator("path.spark-line")).to_have_count(0)
    expect(untouched.locator(".cov-text")).to_contain_text("0 %")
    expect(untouched).to_contain_text("none stored")
    page.screenshot(path=screenshot_path("instances"), full_page=True)

    page.get_by_role("link", name=re.compile(r"^Name")).press("Enter")  # keyboard, not mouse
    expect(page.locator('th[aria-sort="descending"]')).to_contain_text("Name")
    expect(rows.first).to_have_attribute("data-name", "wiki-old")

    page.get_by_label("Name contains").fill("dev-")
    page.get_by_label("Region").select_option("eu-west-1")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-name", "dev-chloe-maria")
    page.get_by_role("link", name="dev-chloe-maria").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("dev-chloe-maria")


def test_clicking_backfill_shows_progress_then_completion_and_fills_the_charts(
    page: Page, fleet: Served
) -> None:
    page.goto(_instance_url(fleet, "dev-bob-mysql", "?range=7d"))
    expect(page.locator("#history-status")).to_contain_text("No history stored")
    expect(page.locator("#charts")).to_have_attribute("data-state", "empty")

    page.get_by_role("button", name="Backfill", exact=True).click()
    status = page.locator("#backfill-status")
    expect(status).to_have_attribute("data-state", re.compile(r"^(submitting|queued|running)$"))
    expect(page.locator("#backfill-progress")).to_be_visible()
    expect(page.locator("#backfill-text")).to_contain_text(re.compile(r"Backfill job #\d+ is"))
    expect(page.get_by_role("button", name="Backfill", exact=True)).to_be_disabled()

    expect(status).to_have_attribute("data-state", "succeeded", timeout=30_000)
    expect(page.locator("#backfill-text")).to_contain_text(
        re.compile(r"finished: \d{3} hours backfilled")
    )
    expect(page.locator("#backfill-progress")).to_have_js_property("value", 1)
    expect(page.get_by_role("button", name="Backfill", exact=True)).to_be_enabled()
    expect(page.locator("#charts")).to_have_attribute("data-state", "ready")
    for metric in STROKES:
        figure = page.locator(f'figure.chart[data-metric="{metric}"]')
        assert int(figure.get_attribute("data-points") or 0) > 150, metric
        assert _stroke_pixels(page, metric) > 100, f"the {metric} chart draws no line"
    page.screenshot(path=screenshot_path("instance-after-backfill"), full_page=True)


def test_the_hover_read_out_gives_exact_values_in_the_viewers_time_zone(
    page: Page, fleet: Served
) -> None:
    instance_id = backfilled(fleet, "dev-alice-pg")
    history = call(fleet, "GET", f"/api/v1/instances/{instance_id}/metrics/history?range=7d")
    page.goto(_instance_url(fleet, "dev-alice-pg", "?range=7d"))
    expect(page.locator("#charts")).to_have_attribute("data-state", "ready")
    readout = page.locator("#readout")
    expect(readout).to_contain_text(f"Hour ({TIMEZONE})")

    cpu = history["series"]["cpu"]
    last = max(i for i, value in enumerate(cpu) if value is not None)
    chart = page.locator('figure.chart[data-metric="cpu"]')
    chart.focus()
    chart.press("End")
    for _ in range(len(cpu) - 1 - last):
        chart.press("ArrowLeft")
    hour = datetime.fromisoformat(history["hours"][last]).astimezone(UTC)
    expect(page.locator("#readout-time")).to_have_text(_local_label(hour))
    average, peak = cpu[last], history["maximum"]["cpu"][last]
    cell = page.locator("#readout-values div", has_text="CPU %").locator("dd")
    expect(cell).to_have_text(f"{_js_number(average, '%')} avg, {_js_number(peak, '%')} max")
    coverage = page.locator("#readout-values div", has_text="Coverage").locator("dd")
    expect(coverage).to_have_text("complete (all metrics stored)")

    chart.press("PageUp")  # a day earlier, on every chart at once
    before = datetime.fromisoformat(history["hours"][last - 24]).astimezone(UTC)
    expect(page.locator("#readout-time")).to_have_text(_local_label(before))

    plot_area = page.locator('figure.chart[data-metric="connections"] .u-over')
    plot_area.hover(position={"x": 40, "y": 40})
    expect(page.locator("#readout-time")).not_to_have_text(_local_label(before))
    page.screenshot(path=screenshot_path("instance"), full_page=True)


def test_the_heatmap_marks_a_development_instances_idle_nights(page: Page, fleet: Served) -> None:
    backfilled(fleet, "dev-alice-pg")
    page.goto(_instance_url(fleet, "dev-alice-pg", "?range=7d"))
    expect(page.locator("#heatmap")).to_have_attribute("data-state", "ready")
    cells: list[list[Any]] = page.eval_on_selector_all(
        "#heatmap-table td.hm[data-start]",
        "cells => cells.map(c => [c.dataset.start, c.dataset.state, c.dataset.hour,"
        " getComputedStyle(c).backgroundImage])",
    )
    profile = PROFILES["development"]
    idle_nights: set[str] = set()
    checked = {"idle": 0, "active": 0}
    for start, state, local_hour, pattern in cells:
        hour = datetime.fromisoformat(start).astimezone(UTC)
        assert int(local_hour) == hour.astimezone(ZONE).hour, "cells are in the viewer's zone"
        if state == "nodata":
            continue
        level = profile.level(hour.weekday(), hour.hour)
        if level < 0.05:
            assert state == "idle", f"{start} should be idle"
            assert "repeating-linear-gradient" in pattern, "idle cells carry a pattern"
            checked["idle"] += 1
            if hour.weekday() < 5 and hour.hour < 7:
                idle_nights.add(hour.date().isoformat())
        elif level > 0.5:
            assert state == "active", f"{start} should be active"
            assert pattern == "none"
            checked["active"] += 1
    assert len(idle_nights) >= 4, idle_nights
    assert checked["idle"] > 60 and checked["active"] > 20, checked
    expect(page.locator("#heatmap-summary")).to_contain_text(re.compile(r"idle \d+ h"))


def test_a_stopped_instance_shows_its_asleep_hours(page: Page, fleet: Served) -> None:
    backfilled(fleet, "analytics-poc")
    page.goto(_instance_url(fleet, "analytics-poc", "?range=7d"))
    expect(page.locator("#charts")).to_have_attribute("data-state", "ready")
    expect(page.locator('#coverage-strip rect[data-state="asleep"]')).to_have_count(1)
    expect(page.locator("#coverage-summary")).to_contain_text("asleep (the instance was stopped)")
    # the heatmap draws the hour classes the server sends after the charts: wait for 48 of them
    # (a locator, not wait_for_function: the page's CSP forbids the eval that polling needs)
    expect(page.locator('#heatmap-table td[data-state="asleep"]').nth(47)).to_be_attached()
    chart = page.locator('figure.chart[data-metric="memory_used_percent"]')
    chart.focus()
    chart.press("End")
    chart.press("ArrowLeft")
    chart.press("ArrowLeft")
    memory = page.locator("#readout-values div", has_text="Memory used").locator("dd")
    expect(memory).to_have_text("asleep")  # not the 100 % that zero free memory would read as
    page.screenshot(path=screenshot_path("instance-stopped"), full_page=True)


def test_ranges_and_a_custom_range(page: Page, fleet: Served) -> None:
    backfilled(fleet, "dev-alice-pg")
    page.goto(_instance_url(fleet, "dev-alice-pg"))
    status = page.locator("#history-status")
    expect(status).to_contain_text("Showing 720 hours")  # 30 days without pressing anything
    page.locator('label[for="range-24h"]').click()
    expect(status).to_contain_text("Showing 24 hours")
    expect(page).to_have_url(re.compile(r"\?range=24h$"))
    page.locator("#range-24h").press("ArrowRight")  # radio buttons move with the arrow keys
    expect(status).to_contain_text("Showing 168 hours")

    page.locator('label[for="range-custom"]').click()
    expect(page.locator("#range-start")).to_be_focused()
    start = (datetime.now(ZONE) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    page.locator("#range-start").fill(f"{start:%Y-%m-%dT%H:%M}")
    page.locator("#range-end").fill(f"{start - timedelta(hours=5):%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Show range").click()
    expect(status).to_contain_text("must come after its start")
    page.locator("#range-end").fill(f"{start + timedelta(hours=48):%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Show range").click()
    expect(status).to_contain_text("Showing 48 hours")
    expect(page).to_have_url(re.compile(r"start=.*&end="))


def test_backfill_errors_are_told_in_words(page: Page, fleet: Served, console: Console) -> None:
    with transaction(fleet.ctx.sessions) as session:
        template = session.get(InstanceRow, fleet.ids["dev-alice-pg"])
        assert template is not None
        gcp = InstanceRow(
            account_id=template.account_id,
            provider="gcp",
            region="europe-west1",
            provider_id="cloudsql-reports",
            engine="postgres",
            engine_version="15",
            instance_class="db-custom-2-7680",
            status="available",
            tags={},
            first_seen_at=template.first_seen_at,
            last_seen_at=template.last_seen_at,
        )
        session.add(gcp)
        session.flush()
        gcp_id = gcp.id
    page.goto(f"{fleet.url}/instances/{gcp_id}")
    page.get_by_role("button", name="Backfill", exact=True).click()
    expect(page.locator("#backfill-status")).to_have_attribute("data-state", "failed")
    expect(page.locator("#backfill-text")).to_contain_text(  # a Cloud SQL id names its project
        "'cloudsql-reports' is not a project:instance id"
    )

    finished = backfilled(fleet, "dev-alice-pg")
    job_id = call(fleet, "GET", f"/api/v1/jobs?instance={finished}&limit=1")["data"][0]["id"]
    console.expect(r"status of 409")
    page.goto(_instance_url(fleet, "dev-alice-pg", "?range=24h"))
    page.route(
        "**/metrics/backfill?*",
        lambda route: route.fulfill(
            status=409,
            json={
                "error": {
                    "code": "backfill_running",
                    "message": f"instance {finished} already has backfill job {job_id} running",
                    "job_id": job_id,
                }
            },
        ),
    )
    page.get_by_role("button", name="Backfill", exact=True).click()
    expect(page.locator("#backfill-text")).to_contain_text(
        f"already running (job #{job_id}). Following it: Backfill job #{job_id} finished"
    )


def test_login_then_jobs_with_cancel(page: Page, locked: Served, console: Console) -> None:
    page.goto(locked.url + "/jobs")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fjobs$"))
    page.screenshot(path=screenshot_path("login"), full_page=True)
    console.expect(r"status of 401")
    page.get_by_label("API token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not the one this server was started with")

    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/jobs$"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "dbsnooze_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]

    job = backfill.submit_instance(locked.ctx, locked.ids["dev-alice-pg"], 7, False, "test")
    page.reload()  # no worker runs on this server: the job stays queued
    row = page.locator(f'tr[data-job-id="{job.id}"]')
    expect(row).to_have_attribute("data-state", "queued")
    expect(row.get_by_role("link", name="dev-alice-pg")).to_be_visible()
    page.screenshot(path=screenshot_path("jobs"), full_page=True)
    row.get_by_role("button", name=f"Cancel job {job.id}").click()
    expect(page.locator(f'tr[data-job-id="{job.id}"]')).to_have_attribute("data-state", "cancelled")
    expect(page.locator("#jobs-message")).to_have_text(f"Job #{job.id} cancelled.")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(locked.url + "/accounts")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccounts$"))


def test_accounts_are_added_with_a_credentials_test_and_removed(
    page: Page, fleet: Served, seeded: Emulator, console: Console
) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    page.goto(fleet.url + "/accounts")
    console.expect(r"status of 422")
    page.get_by_label("Name", exact=True).fill("bad regions")
    page.get_by_label("Regions").fill("mars-north")
    page.get_by_label("Access key ID").fill("AKIAIOSFODNN7EXAMPLE")
    page.get_by_label("Secret access key").fill(secret)
    page.get_by_role("button", name="Test and add account").click()
    expect(page.locator("#account-form-status")).to_contain_text("Not added.")
    expect(page.get_by_label("Secret access key")).to_have_value("")

    page.get_by_role("button", name="Test demo").click()
    expect(page.locator("#accounts-message")).to_have_text("The credentials of demo work.")

    # a policy from before clusters were listed: added, with a warning that outlives the reload
    with FaultProxy(seeded.endpoint_url) as proxy:
        proxy.refuse("DescribeDBClusters")
        page.get_by_label("Name", exact=True).fill("second")
        page.get_by_label("Regions").fill("us-east-1")
        page.get_by_label("Endpoint URL").fill(proxy.url)
        page.get_by_label("Secret access key").fill(secret)
        page.get_by_role("button", name="Test and add account").click()
        expect(page.locator("#account-form-status")).to_contain_text(
            "Account second added: 9 database instance(s) found. "
            "rds:DescribeDBClusters is denied in us-east-1"
        )
        row = page.locator('tr[data-name="second"]')
        expect(row).to_contain_text("AKIA…MPLE")
        warning = page.locator("#accounts-message.alert-warn")
        expect(warning).to_contain_text("Account second added: 9 database instance(s) found.")
        assert secret not in page.content()
        page.screenshot(path=screenshot_path("accounts"), full_page=True)

        row.get_by_role("button", name="Test second").click()
        expect(warning).to_contain_text(
            "The credentials of second work, in part: rds:DescribeDBClusters is denied"
        )
        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Remove second").click()
        expect(page.locator('tr[data-name="second"]')).to_have_count(0)
    expect(page.locator('tr[data-name="demo"]')).to_have_count(1)


PAGES = {
    "home": "/",
    "jobs": "/jobs",
    "accounts": "/accounts",
    "instance-development": "/instances/{dev}",
    "not-found": "/instances/999999",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_without_console_errors(
    page: Page, fleet: Served, console: Console, name: str
) -> None:
    if name == "not-found":
        console.expect(r"status of 404")
    page.goto(fleet.url + PAGES[name].format(dev=fleet.ids["dev-chloe-maria"]))
    page.wait_for_load_state("networkidle")
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("[data-tz-name]").first).to_have_text(TIMEZONE)
    page.keyboard.press("Tab")  # the first stop is the skip link, and it shows itself
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.screenshot(path=screenshot_path(f"page-{name}"), full_page=True)
