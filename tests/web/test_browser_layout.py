"""Layout and the UI defects of the layout issue, in Chromium at the widths people use: no page
scrolls sideways, the heatmap shows the whole day on a phone and works by keyboard and touch,
wrong states are gone, the theme follows the system and the switch, motion can be reduced."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect
from sitepages import (
    DESKTOP,
    HEIGHT,
    LAPTOP,
    PAGES,
    PHONE,
    TABLET,
    SitePage,
    opened,
    page_overflow,
    signed_in_state,
)
from webhelp import TIMEZONE, Served

from dbsnooze.jobs import backfill

BY_NAME = {p.name: p for p in PAGES}
INSTANCE = BY_NAME["instance"]
JOBS = BY_NAME["jobs"]


@pytest.fixture(scope="module")
def signed_in(browser: Browser, site: Served) -> StorageState:
    return signed_in_state(browser, site)


@pytest.mark.parametrize("site_page", PAGES, ids=[p.name for p in PAGES])
def test_no_page_scrolls_sideways(
    browser: Browser, request: pytest.FixtureRequest, signed_in: StorageState, site_page: SitePage
) -> None:
    """Drawn on a phone, then the window widened to a tablet's and a laptop's width."""
    served: Served = request.getfixturevalue("broken" if site_page.server == "broken" else "site")
    with opened(browser, served, site_page, PHONE, state=signed_in) as page:
        for width in (PHONE, TABLET, LAPTOP):
            page.set_viewport_size({"width": width, "height": HEIGHT[width]})
            page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
            size = page_overflow(page)
            assert size["scroll"] <= size["client"], f"{site_page.name} is {size['scroll']} px wide"
            assert size["client"] == width


def test_wide_tables_scroll_inside_their_own_box_on_a_phone(
    browser: Browser, site: Served, signed_in: StorageState
) -> None:
    with opened(browser, site, BY_NAME["instances"], PHONE, state=signed_in) as page:
        box = page.get_by_role("region", name="Instances table")
        wide = box.evaluate("el => el.scrollWidth > el.clientWidth")
        assert wide, "the instances table fits a phone: this test no longer tests the scroll box"
        box.focus()  # the scroll box takes keyboard focus, so arrow keys scroll it
        page.keyboard.press("ArrowRight")
        expect(box).to_be_focused()
        page.wait_for_function("() => document.querySelector('.table-wrap').scrollLeft > 0")
        assert page_overflow(page)["scroll"] <= PHONE


def _heatmap_cells(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        """() => Array.from(
             document.querySelectorAll("#heatmap-table tbody tr:first-child td.hm"),
             (td) => {
               const r = td.getBoundingClientRect();
               return { left: r.left, right: r.right, width: r.width };
             })"""
    )
    return found


@pytest.mark.parametrize("width", [PHONE, TABLET, DESKTOP])
def test_the_heatmap_shows_the_whole_day_without_scrolling(
    browser: Browser, site: Served, signed_in: StorageState, width: int
) -> None:
    with opened(browser, site, INSTANCE, width, state=signed_in) as page:
        cells = _heatmap_cells(page)
        assert len(cells) == 24
        assert all(c["left"] >= 0 and c["right"] <= width for c in cells), cells[-1]
        assert all(c["width"] >= 6 for c in cells)  # shrunk, still there to see and tap
        wrap = page.locator("#heatmap")
        assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
        expect(page.locator("#heatmap-table thead th").nth(24)).to_have_attribute(
            "aria-label", "23:00"
        )


def test_heatmap_cells_are_reachable_and_described_by_keyboard(
    browser: Browser, site: Served, signed_in: StorageState
) -> None:
    with opened(browser, site, INSTANCE, DESKTOP, state=signed_in) as page:
        grid = page.get_by_role("grid")
        stops = grid.locator('td[tabindex="0"]')
        expect(stops).to_have_count(1)  # one tab stop for the whole grid
        stops.first.focus()
        first = page.evaluate("document.activeElement.dataset.hour")
        page.keyboard.press("ArrowRight")
        focused = page.evaluate(
            """() => ({ hour: document.activeElement.dataset.hour,
                        label: document.activeElement.getAttribute('aria-label') })"""
        )
        assert int(focused["hour"]) == int(first) + 1
        readout = page.locator("#heatmap-readout")
        expect(readout).to_have_text(focused["label"])
        assert re.search(r"\d\d:00 · (active|idle|asleep|no data)", focused["label"])
        page.keyboard.press("ArrowDown")
        page.keyboard.press("End")
        expect(page.locator(":focus")).to_have_attribute("data-hour", "23")
        expect(readout).to_contain_text("23:00")
        expect(grid.locator('td[tabindex="0"]')).to_have_count(1)


def test_tapping_a_heatmap_cell_on_a_phone_describes_it(
    browser: Browser, site: Served, signed_in: StorageState
) -> None:
    with opened(browser, site, INSTANCE, PHONE, state=signed_in, has_touch=True) as page:
        cell = page.locator('#heatmap-table tbody tr:nth-child(3) td[data-hour="14"]')
        cell.tap()
        expect(page.locator("#heatmap-readout")).to_have_text(
            cell.get_attribute("aria-label") or ""
        )
        expect(page.locator("#heatmap-readout")).to_contain_text("14:00")
        readout = page.locator("#heatmap-readout").bounding_box()
        assert readout is not None and readout["height"] < 844 / 4


def _contrast(page: Page, selector: str) -> float:
    """The contrast of a heatmap cell's colour against the card behind the page's content."""
    ratio: float = page.evaluate(
        """(selector) => {
          const probe = document.createElement("td");
          probe.className = selector;
          document.querySelector("#heatmap-table tbody tr").appendChild(probe);
          const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
          const linear = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
          const lum = ([r, g, b]) => 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
          const cell = lum(rgb(getComputedStyle(probe).backgroundColor));
          const card = getComputedStyle(document.documentElement).getPropertyValue("--card").trim();
          const ground = lum([1, 3, 5].map((i) => parseInt(card.slice(i, i + 2), 16)));
          probe.remove();
          return (Math.max(cell, ground) + 0.05) / (Math.min(cell, ground) + 0.05);
        }""",
        selector,
    )
    return ratio


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_busier_heatmap_cells_stand_out_more_than_asleep_ones(
    browser: Browser, site: Served, signed_in: StorageState, theme: str
) -> None:
    with opened(browser, site, INSTANCE, DESKTOP, theme, signed_in) as page:
        levels = ["hm hm-asleep"] + [f"hm hm-active hm-l{n}" for n in range(1, 5)]
        contrasts = [_contrast(page, level) for level in levels]
        assert contrasts == sorted(contrasts) and len(set(contrasts)) == 5, contrasts
        expect(page.locator(".heat-legend")).to_contain_text("busiest: strongest colour")


DST_HISTORY = """([startIso, count, idleFrom]) => {
  const hours = [], classes = [], reasons = [], sleep = [], cpu = [];
  for (let i = 0; i < count; i++) {
    hours.push(new Date(Date.parse(startIso) + i * 3600000).toISOString().replace(".000Z", "Z"));
    const idle = i >= idleFrom;
    classes.push(idle ? "idle" : "active"); reasons.push(idle ? "all_below" : "cpu");
    sleep.push(0); cpu.push(idle ? 1 : 40);
  }
  const history = { hours, series: { cpu, connections: cpu.map(() => 2) }, maximum: {},
    coverage: hours.map(() => "complete") };
  const activity = { hours, classes, reasons, sleep, windows: [], timezone: { name: "UTC" },
    reason_words: { all_below: "all below", cpu: "CPU" },
    thresholds: { cpu_percent: 5, iops: 20, connection_floor: 1, connections_margin: 0,
      sources: { connection_floor: "learned" } } };
  const holder = document.createElement("div");
  const summary = document.createElement("p");
  document.body.append(holder, summary);
  window.dbsnooze.heatmap.drawHeatmap(holder, summary, history, activity);
  const rows = Array.from(holder.querySelectorAll("tbody tr"), (tr) => ({
    day: tr.dataset.day, cells: tr.querySelectorAll("td.hm:not(.hm-outside)").length,
    twice: Array.from(tr.querySelectorAll("td[data-hours]"), (td) => td.dataset.hour),
    idle: Number(tr.querySelector(".idle-count").textContent) }));
  holder.remove(); summary.remove();
  return { summary: summary.textContent, rows };
}"""


@pytest.mark.parametrize(
    ("start", "day", "cells", "twice"),
    [
        ("2026-11-01T04:00:00Z", "2026-11-01", 24, ["1"]),  # 01:00 happens twice: 25 hours
        ("2026-03-08T05:00:00Z", "2026-03-08", 23, []),  # 02:00 is skipped: 23 hours
    ],
)
def test_on_a_clock_change_day_the_heatmap_counts_hours_not_cells(
    browser: Browser,
    site: Served,
    signed_in: StorageState,
    start: str,
    day: str,
    cells: int,
    twice: list[str],
) -> None:
    assert TIMEZONE == "America/New_York"  # the dates above are its clock changes of 2026
    with opened(browser, site, INSTANCE, DESKTOP, state=signed_in) as page:
        drawn = page.evaluate(DST_HISTORY, [start, 72, 30])
    assert drawn["summary"].startswith("Over 72 hours: idle 42 h"), drawn["summary"]
    assert "active 30 h" in drawn["summary"]
    row = next(r for r in drawn["rows"] if r["day"] == day)
    assert row["cells"] == cells and row["twice"] == twice
    assert sum(r["idle"] for r in drawn["rows"]) == 42


def test_a_page_past_the_end_says_so_and_leads_back(
    browser: Browser, site: Served, signed_in: StorageState
) -> None:
    past = SitePage("past-the-end", "/?page=9&per_page=25", ready=("#past-end",))
    with opened(browser, site, past, PHONE, state=signed_in) as page:
        message = page.locator("#past-end")
        expect(message).to_contain_text("There is no page 9: the 15 instances fit on 1 page.")
        expect(page.get_by_text("No instances yet")).to_have_count(0)
        message.get_by_role("link", name="Go to page 1").click()
        expect(page.locator("#instances-table tbody tr")).to_have_count(15)
        assert page_overflow(page)["scroll"] <= PHONE
    jobs_past = SitePage("jobs-past-the-end", "/jobs?offset=500", ready=("#past-end",))
    with opened(browser, site, jobs_past, PHONE, state=signed_in) as page:
        expect(page.locator("#past-end")).to_contain_text("nothing this far back")
        page.get_by_role("link", name="Back to the newest jobs").click()
        expect(page.locator("tr[data-job-id]").first).to_be_visible()


@pytest.mark.parametrize(
    ("width", "name"), [(PHONE, "dev-bob-mysql"), (DESKTOP, "dev-chloe-maria")]
)
def test_the_jobs_refresh_keeps_open_details_and_reports_a_finished_cancel(
    browser: Browser, site: Served, signed_in: StorageState, width: int, name: str
) -> None:
    job = backfill.submit_instance(site.ctx, site.ids[name], 7, False, "test")
    with opened(browser, site, JOBS, width, state=signed_in) as page:
        fleet_row = page.locator("tr[data-job-id]").filter(has=page.locator("details summary"))
        summary = fleet_row.first.locator("details summary").first
        summary.click()
        details = fleet_row.first.locator("details").first
        expect(details).to_have_attribute("open", "")
        page.evaluate("document.querySelector('.jobs-inner').dataset.old = 'yes'")
        page.wait_for_function(
            "() => !document.querySelector('.jobs-inner').dataset.old"
        )  # refreshed
        expect(details).to_have_attribute("open", "")

        row = page.locator(f'tr[data-job-id="{job.id}"]')
        row.get_by_role("button", name=f"Cancel job {job.id}").click()
        expect(row).to_have_attribute("data-state", "cancelled")
        expect(page.locator("#jobs-message")).to_have_text(f"Job #{job.id} cancelled.")


def test_the_theme_follows_the_system_then_the_switch_with_no_flash(
    browser: Browser, site: Served, signed_in: StorageState
) -> None:
    record_first_paint_theme = """
      new MutationObserver((changes, observer) => {
        if (!document.body) return;
        window.themeAtBody = document.documentElement.dataset.theme;
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    """
    with opened(browser, site, BY_NAME["instances"], DESKTOP, "dark", signed_in) as page:
        page.context.add_init_script(record_first_paint_theme)
        page.reload()
        assert page.evaluate("window.themeAtBody") == "dark"  # set before the body exists
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert background == "rgb(11, 17, 32)"
        switch = page.get_by_role("button", name="Dark theme")
        expect(switch).to_have_attribute("aria-pressed", "true")
        page.evaluate(
            "document.addEventListener('themechange', (e) => (window.changedTo = e.detail.theme))"
        )
        switch.click()
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        expect(switch).to_have_attribute("aria-pressed", "false")
        assert page.evaluate("window.changedTo") == "light"
        page.goto(site.url + "/jobs")  # remembered: light although the system is dark
        assert page.evaluate("window.themeAtBody") == "light"
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        switch.focus()
        page.keyboard.press("Enter")
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")


def test_reduced_motion_turns_transitions_off(
    browser: Browser, site: Served, signed_in: StorageState
) -> None:
    moving = """() => {
      const el = document.createElement("div");
      el.style.transition = "opacity 1s"; el.style.animation = "spin 2s infinite";
      document.body.appendChild(el);
      const style = getComputedStyle(el);
      const found = [style.transitionDuration, style.animationName];
      el.remove();
      return found;
    }"""
    with opened(browser, site, BY_NAME["instances"], DESKTOP, state=signed_in) as page:
        assert page.evaluate(moving) == ["1s", "spin"]
    with opened(
        browser, site, BY_NAME["instances"], DESKTOP, state=signed_in, reduced_motion="reduce"
    ) as page:
        assert page.evaluate(moving) == ["0s", "none"]


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_hover_explanations_show_for_keyboard_and_touch(
    browser: Browser, site: Served, signed_in: StorageState, width: int
) -> None:
    with opened(
        browser, site, BY_NAME["instances"], width, state=signed_in, has_touch=True
    ) as page:
        tip = page.get_by_role("tooltip")
        coverage = page.locator("#instances-table thead abbr")
        coverage.focus()
        expect(tip).to_be_visible()
        expect(tip).to_contain_text("Share of the last 7 days' hours whose history is stored")
        expect(coverage).to_have_attribute("aria-describedby", "dbsnooze-tip")
        page.keyboard.press("Escape")
        expect(tip).to_be_hidden()

        spark = page.locator('tr[data-name="dev-alice-pg"] svg.spark')
        spark.scroll_into_view_if_needed()
        spark.tap()
        expect(tip).to_be_visible()
        expect(tip).to_contain_text(
            re.compile(r"CPU of dev-alice-pg, last 7 days: average [\d.]+ %")
        )
        box = tip.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width

        bar = page.locator('tr[data-name="dev-alice-pg"] .coverage')
        bar.focus()
        expect(tip).to_contain_text(re.compile(r"% of the last 168 hours stored: \d+ h"))
        assert page_overflow(page)["scroll"] <= width
