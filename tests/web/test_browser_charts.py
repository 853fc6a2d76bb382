"""The instance page's charts in headless Chromium, against a real server and moto over HTTP:
zoom and range history, time zones, statistic, thresholds, shading, legends, read-out, coverage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from webhelp import TIMEZONE, Console, Served, backfilled, call

from dbsnooze.analysis.idle import Thresholds
from dbsnooze.demo.emulator import Emulator, make_client
from dbsnooze.demo.fleet import METRICS as SHAPES
from dbsnooze.demo.fleet import StatSet, put_hourly_stats
from dbsnooze.domain import floor_hour
from dbsnooze.store import thresholds as threshold_store
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow

WIDTHS = {"wide": 1440, "narrow": 390}
THRESHOLD = (162, 28, 175)  # --chart-threshold, light theme
MARKER = (15, 23, 42)  # --chart-marker, light theme
CPU_LIGHT, CPU_DARK = (194, 65, 12), (251, 146, 60)
COUNT_COLOUR = """(figure, [r, g, b]) => {
  const canvas = figure.querySelector("canvas");
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    const near = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b);
    if (data[i + 3] > 200 && near < 40) n += 1;
  }
  return n;
}"""
OWNER_ZONE = "Asia/Tokyo"
SO_FAR = StatSet(sample_count=4, sum=8.0, minimum=1.0, maximum=3.0)
METRICS = ("cpu", "connections", "memory_used_percent", "read_iops", "write_iops")
UNITS = {"cpu": "%", "memory_used_percent": "%", "read_iops": "/s", "write_iops": "/s"}


@pytest.fixture(params=list(WIDTHS))
def sized(request: pytest.FixtureRequest, browser: Browser, console: Console) -> Iterator[Page]:
    """A page at 1440 px and again at 390 px (a phone)."""
    width = WIDTHS[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": 900}, timezone_id=TIMEZONE, locale="en-US"
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    yield tab
    context.close()
    assert console.unexpected() == [], "the browser console had errors"


def _url(served: Served, name: str, query: str = "") -> str:
    return f"{served.url}/instances/{served.ids[name]}{query}"


def _history(served: Served, instance_id: int, query: str) -> Any:
    return call(served, "GET", f"/api/v1/instances/{instance_id}/metrics/history?{query}")


def _colour_pixels(page: Page, metric: str, colour: tuple[int, int, int]) -> int:
    figure = page.locator(f'figure.chart[data-metric="{metric}"]')
    return int(figure.evaluate(COUNT_COLOUR, list(colour)))


def _js_number(value: float, unit: str) -> str:
    """charts.js's `number()` in en-US: 2, 1 or 0 decimals by size, no trailing zeros."""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text} {unit}".strip()


def _ready(page: Page) -> None:
    expect(page.locator("#charts")).to_have_attribute("data-state", "ready")
    expect(page.locator('figure.chart[data-metric="cpu"] canvas')).to_be_attached()


def _drag(page: Page, metric: str, start: float, end: float) -> None:
    """A mouse drag across a chart's plot area, from and to these fractions of its width."""
    plot = page.locator(f'figure.chart[data-metric="{metric}"] .u-over')
    plot.evaluate('e => e.scrollIntoView({ block: "center" })')  # clear of the sticky read-out
    box = plot.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end, y, steps=8)
    page.mouse.up()


# --- zoom and range history --------------------------------------------------------------------


def test_drag_zooms_into_the_url_and_back_forward_and_double_click_restore_ranges(
    sized: Page, fleet: Served
) -> None:
    page = sized
    backfilled(fleet, "dev-alice-pg")
    page.goto(_url(fleet, "dev-alice-pg", "?range=7d"))
    _ready(page)
    status = page.locator("#history-status")
    expect(status).to_contain_text("Showing 168 hours")

    _drag(page, "cpu", 0.25, 0.5)
    expect(page).to_have_url(re.compile(r"\?start=[^&]+&end=[^&]+$"))
    expect(status).to_contain_text(re.compile(r"Showing (3\d|4\d) hours"))  # a quarter of 168
    zoomed = re.search(r"Showing (\d+) hours", status.inner_text())
    assert zoomed is not None
    query = page.url.split("?", 1)[1]
    params = dict(part.split("=", 1) for part in query.split("&"))
    start = datetime.fromisoformat(params["start"].replace("%3A", ":").replace("Z", "+00:00"))
    assert (start.minute, start.second) == (0, 0), "a zoom snaps to whole hours"
    expect(page.locator("#range-custom")).to_be_checked()

    page.go_back()
    expect(page).to_have_url(re.compile(r"\?range=7d$"))
    expect(status).to_contain_text("Showing 168 hours")
    expect(page.locator("#range-7d")).to_be_checked()
    page.go_forward()
    expect(page).to_have_url(re.compile(r"\?start=.*&end="))
    expect(status).to_contain_text(f"Showing {zoomed.group(1)} hours")

    _drag(page, "connections", 0.0, 0.5)  # zoom again, further in
    expect(status).to_contain_text(re.compile(r"Showing (1\d|2\d) hours"))
    page.locator('figure.chart[data-metric="cpu"] .u-over').dblclick()
    expect(page).to_have_url(re.compile(r"\?range=7d$"))  # back where the zooming began
    expect(status).to_contain_text("Showing 168 hours")

    page.locator('label[for="range-24h"]').click()
    expect(status).to_contain_text("Showing 24 hours")
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?range=7d$"))
    expect(page.locator("#range-7d")).to_be_checked()
    expect(status).to_contain_text("Showing 168 hours")


def test_short_ranges_show_the_last_hours_with_the_hour_in_progress_not_called_complete(
    page: Page, fleet: Served, seeded: Emulator
) -> None:
    instance_id = backfilled(fleet, "dev-alice-pg")
    hour = floor_hour(datetime.now(UTC))
    cloudwatch = make_client(seeded.endpoint_url, "cloudwatch", "us-east-1")
    for shape in SHAPES:  # the hour in progress so far, then live collection stores it
        put_hourly_stats(cloudwatch, "dev-alice-pg", shape.name, shape.unit, {hour: SO_FAR})
    collected = call(fleet, "POST", f"/api/v1/instances/{instance_id}/collect-metrics")
    history = _history(fleet, instance_id, "range=1h")
    assert history["hours"] == [hour.isoformat()] and history["series"]["cpu"] == [2.0], collected
    page.goto(_url(fleet, "dev-alice-pg", "?range=6h"))
    _ready(page)
    expect(page.locator("#history-status")).to_contain_text("Showing 6 hours")
    page.locator('label[for="range-1h"]').click()
    expect(page.locator("#history-status")).to_contain_text("Showing 1 hour,")
    expect(page).to_have_url(re.compile(r"\?range=1h$"))
    chart = page.locator('figure.chart[data-metric="cpu"]')
    chart.focus()
    chart.press("End")
    coverage = page.locator("#readout-values div", has_text="Coverage").locator("dd")
    expect(coverage).to_have_text(re.compile(r"^in progress \(the hour is in progress"))
    expect(page.locator("#coverage-summary")).to_contain_text("1 h in progress")
    expect(page.locator("#coverage-summary")).not_to_contain_text("complete")


def test_a_future_custom_range_says_so_and_offers_no_backfill(page: Page, fleet: Served) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=6)
    query = f"?start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}"
    page.goto(_url(fleet, "dev-alice-pg", query))
    status = page.locator("#history-status")
    expect(status).to_contain_text("is in the future: there is no history for it yet")
    expect(status).not_to_contain_text("Backfill")
    expect(page.locator("#coverage-summary")).to_contain_text("6 h still to come")
    expect(page.locator("#range-custom")).to_be_checked()


# --- time zones, statistic, thresholds, shading ------------------------------------------------


def test_utc_switch_changes_the_axes_and_read_out_and_stays_in_the_url(
    page: Page, fleet: Served
) -> None:
    instance_id = backfilled(fleet, "dev-alice-pg")
    history = _history(fleet, instance_id, "range=24h")
    page.goto(_url(fleet, "dev-alice-pg", "?range=24h"))
    _ready(page)
    cpu = page.locator('figure.chart[data-metric="cpu"]')
    expect(page.locator("#charts")).to_have_attribute("data-zone", TIMEZONE)
    local_ticks = cpu.get_attribute("data-x-ticks")

    page.locator('label[for="tz-utc"]').click()
    expect(page).to_have_url(re.compile(r"tz=utc"))
    expect(page.locator("#charts")).to_have_attribute("data-zone", "UTC")
    expect(page.locator("#readout-zone")).to_have_text("UTC")
    expect(cpu).not_to_have_attribute("data-x-ticks", local_ticks or "")
    cpu = page.locator('figure.chart[data-metric="cpu"]')
    cpu.focus()
    cpu.press("Home")
    first = datetime.fromisoformat(history["hours"][0]).astimezone(UTC)
    end = first + timedelta(hours=1)
    label = (
        f"{first:%a}, {first:%b} {first.day}, {first.year}, {first:%I:%M %p} \u2013 {end:%I:%M %p}"
    )
    expect(page.locator("#readout-time")).to_have_text(label)
    ticks = (cpu.get_attribute("data-x-ticks") or "").split("|")
    hours = {int(t[:2]) for t in ticks if re.match(r"^\d\d:\d\d [AP]M$", t)}
    assert hours, ticks
    page.reload()  # the choice is in the URL
    _ready(page)
    expect(page.locator("#tz-utc")).to_be_checked()
    expect(page.locator("#charts")).to_have_attribute("data-zone", "UTC")


def test_the_statistic_switch_changes_the_plotted_values_and_the_legends(
    page: Page, fleet: Served
) -> None:
    instance_id = backfilled(fleet, "dev-alice-pg")
    history = _history(fleet, instance_id, "range=7d")
    page.goto(_url(fleet, "dev-alice-pg", "?range=7d"))
    _ready(page)
    for stat, key in (("average", "series"), ("maximum", "maximum")):
        if stat == "maximum":
            page.locator('label[for="stat-maximum"]').click()
            expect(page).to_have_url(re.compile(r"stat=maximum"))
        expect(page.locator("#charts")).to_have_attribute("data-stat", stat)
        for metric in METRICS:
            values = [v for v in history[key][metric] if v is not None]
            figure = page.locator(f'figure.chart[data-metric="{metric}"]')
            expect(figure.locator(".stat-name")).to_have_text(f"hourly {stat}")
            unit = UNITS.get(metric, "")
            for name, expected in (
                ("min", min(values)),
                ("avg", sum(values) / len(values)),
                ("max", max(values)),
            ):
                cell = figure.locator(f'.range-stats dd[data-stat="{name}"]')
                expect(cell).to_have_text(_js_number(expected, unit))
                assert float(cell.get_attribute("data-value") or "nan") == pytest.approx(expected)
    assert max(history["maximum"]["cpu"], key=lambda v: v or 0) != max(
        history["series"]["cpu"], key=lambda v: v or 0
    ), "the test data must tell average and maximum apart"


def test_threshold_lines_are_the_instances_stored_thresholds(page: Page, fleet: Served) -> None:
    instance_id = backfilled(fleet, "dev-alice-pg")
    rule = threshold_store.InstanceRule(Thresholds(42.0, 80.0, 3.0, 2.0))
    with transaction(fleet.ctx.sessions) as session:
        threshold_store.save(session.connection(), {instance_id: rule})
    try:
        page.goto(_url(fleet, "dev-alice-pg", "?range=7d"))
        _ready(page)
        cpu = page.locator('figure.chart[data-metric="cpu"]')
        expect(cpu).to_have_attribute("data-threshold", "42")
        expect(cpu.locator(".threshold-note")).to_contain_text("average CPU below 42 %")
        connections = page.locator('figure.chart[data-metric="connections"]')
        expect(connections).to_have_attribute("data-threshold", "5")
        assert _colour_pixels(page, "cpu", THRESHOLD) > 100
        assert _colour_pixels(page, "connections", THRESHOLD) > 100
        for metric in ("memory_used_percent", "read_iops", "write_iops"):
            assert _colour_pixels(page, metric, THRESHOLD) == 0, metric
            expect(page.locator(f'figure.chart[data-metric="{metric}"]')).not_to_have_attribute(
                "data-threshold", re.compile(".")
            )
    finally:
        with transaction(fleet.ctx.sessions) as session:
            threshold_store.save(session.connection(), {instance_id: threshold_store.DEFAULT})


def test_nights_and_weekends_are_shaded_in_the_owners_zone(page: Page, fleet: Served) -> None:
    instance_id = backfilled(fleet, "dev-chloe-maria")
    with transaction(fleet.ctx.sessions) as session:
        row = session.get(InstanceRow, instance_id)
        assert row is not None
        row.tags = {**row.tags, "dbsnooze:timezone": OWNER_ZONE}
    history = _history(fleet, instance_id, "range=7d")
    zone = ZoneInfo(OWNER_ZONE)
    local = [datetime.fromisoformat(h).astimezone(zone) for h in history["hours"]]
    weekend = sum(1 for t in local if t.weekday() >= 5)
    night = sum(1 for t in local if t.weekday() < 5 and (t.hour >= 19 or t.hour < 7))
    page.goto(_url(fleet, "dev-chloe-maria", "?range=7d"))
    _ready(page)
    expect(page.locator("#owner-zone")).to_have_text(OWNER_ZONE)
    expect(page.locator("#charts")).to_have_attribute("data-weekend-hours", str(weekend))
    expect(page.locator("#charts")).to_have_attribute("data-night-hours", str(night))
    assert weekend == 48 and night == 60  # 7 days: two weekend days, five nights of 12 hours


# --- legends, messages, cursor, read-out --------------------------------------------------------


def test_every_chart_has_its_own_swatch_and_fits_the_width(sized: Page, fleet: Served) -> None:
    page = sized
    backfilled(fleet, "dev-alice-pg")
    page.goto(_url(fleet, "dev-alice-pg", "?range=7d"))
    _ready(page)
    colours = page.eval_on_selector_all(
        "figure.chart .swatch.series", "s => s.map(e => getComputedStyle(e).borderTopColor)"
    )
    assert len(colours) == 5 and len(set(colours)) == 5, colours
    expect(page.locator(".chart-legend .swatch.line")).to_have_count(0)
    width = page.viewport_size["width"] if page.viewport_size else 0
    for metric in METRICS:
        box = page.locator(f'figure.chart[data-metric="{metric}"]').bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, metric
    charts = page.locator("#charts")
    inner, outer = charts.evaluate("c => [c.scrollWidth, c.clientWidth]")
    assert inner <= outer, "the charts scroll sideways"


def test_a_stopped_instance_has_no_unknown_memory_message_but_an_unknown_class_does(
    sized: Page, fleet: Served
) -> None:
    page = sized
    backfilled(fleet, "analytics-poc")
    page.goto(_url(fleet, "analytics-poc", "?range=24h"))
    expect(page.locator("#charts")).to_have_attribute("data-state", "ready")
    memory = page.locator('figure.chart[data-metric="memory_used_percent"]')
    expect(memory.locator("canvas")).to_be_attached()
    expect(page.locator("#charts")).not_to_contain_text("unknown for this instance class")

    with transaction(fleet.ctx.sessions) as session:
        row = session.get(InstanceRow, fleet.ids["wiki-old"])
        assert row is not None
        row.instance_class = "db.z9.mystery"
    backfilled(fleet, "wiki-old")
    page.goto(_url(fleet, "wiki-old", "?range=24h"))
    expect(page.locator("#charts")).to_have_attribute("data-state", "ready")
    expect(page.locator('figure.chart[data-metric="memory_used_percent"]')).to_contain_text(
        "Memory used % is unknown for this instance class"
    )


def test_the_synced_cursor_shares_the_time_but_not_the_hovered_height(
    page: Page, fleet: Served
) -> None:
    backfilled(fleet, "dev-alice-pg")
    page.goto(_url(fleet, "dev-alice-pg", "?range=7d"))
    _ready(page)
    page.locator('figure.chart[data-metric="cpu"] .u-over').hover(position={"x": 120, "y": 60})
    script = (
        "f => { const o = f.querySelector('.u-over').getBoundingClientRect();"
        " const x = f.querySelector('.u-cursor-x').getBoundingClientRect();"
        " const y = f.querySelector('.u-cursor-y').getBoundingClientRect();"
        " return [x.left - o.left, y.top - o.top]; }"
    )
    cpu = page.locator('figure.chart[data-metric="cpu"]').evaluate(script)
    assert cpu[1] == pytest.approx(60, abs=2), "the hovered chart draws its own line"
    for metric in METRICS[1:]:
        other = page.locator(f'figure.chart[data-metric="{metric}"]').evaluate(script)
        assert other[0] == pytest.approx(cpu[0], abs=2), f"{metric} follows the time"
        assert other[1] < 0, f"{metric} draws the hovered chart's horizontal line"


def test_keyboard_steps_are_announced_and_pointer_moves_are_not(page: Page, fleet: Served) -> None:
    backfilled(fleet, "dev-alice-pg")
    page.goto(_url(fleet, "dev-alice-pg", "?range=7d"))
    _ready(page)
    announcer = page.locator("#readout-announce")
    expect(announcer).to_have_attribute("aria-live", "polite")
    chart = page.locator('figure.chart[data-metric="cpu"]')
    chart.focus()
    chart.press("End")
    chart.press("ArrowLeft")
    chart.press("ArrowLeft")
    time_text = page.locator("#readout-time").inner_text()
    expect(announcer).to_contain_text(time_text)
    expect(announcer).to_contain_text(re.compile(r"CPU % [\d.]+ % avg"))
    said = announcer.inner_text()
    page.locator('figure.chart[data-metric="connections"] .u-over').hover(
        position={"x": 30, "y": 30}
    )
    expect(page.locator("#readout-time")).not_to_have_text(time_text)
    expect(announcer).to_have_text(said)


# --- coverage strip, event markers, theme, print -----------------------------------------------


def test_the_coverage_strip_keeps_its_patterns_unstretched(page: Page, fleet: Served) -> None:
    backfilled(fleet, "analytics-poc")
    page.goto(_url(fleet, "analytics-poc", "?range=7d"))
    asleep = page.locator('#coverage-strip rect[data-state="asleep"]')
    expect(asleep).to_have_count(1)
    strip = page.locator("#coverage-strip svg")
    assert strip.get_attribute("viewBox") is None
    assert strip.get_attribute("preserveAspectRatio") is None
    assert (asleep.get_attribute("width") or "").endswith("%")
    # one pattern tile of the asleep stripes is 4 px wide on screen, as drawn
    fill = asleep.evaluate("r => getComputedStyle(r).fill")
    assert "pat-asleep" in fill


def test_event_markers_can_be_fed_to_the_charts(page: Page, fleet: Served) -> None:
    instance_id = backfilled(fleet, "dev-alice-pg")
    history = _history(fleet, instance_id, "range=7d")
    page.goto(_url(fleet, "dev-alice-pg", "?range=7d"))
    _ready(page)
    # the schedule panel feeds the done actions (none here) once loaded; wait so it cannot
    # replace the markers set below
    expect(page.locator("#schedule-panel")).to_have_attribute("data-markers", "0")
    before = _colour_pixels(page, "read_iops", MARKER)
    at = history["hours"][80]
    page.evaluate("at => window.dbsnooze.instancePage.setEvents([{ at, label: 'stopped' }])", at)
    assert _colour_pixels(page, "read_iops", MARKER) > before + 100
    page.locator('label[for="stat-maximum"]').click()  # markers stay through redraws
    expect(page.locator("#charts")).to_have_attribute("data-stat", "maximum")
    assert _colour_pixels(page, "read_iops", MARKER) > before + 100


def test_a_theme_change_redraws_the_charts_in_the_dark_colours(page: Page, fleet: Served) -> None:
    backfilled(fleet, "dev-alice-pg")
    page.goto(_url(fleet, "dev-alice-pg", "?range=7d"))
    _ready(page)
    assert _colour_pixels(page, "cpu", CPU_LIGHT) > 100
    page.evaluate(
        "() => { document.documentElement.dataset.theme = 'dark';"
        " document.dispatchEvent(new Event('themechange')); }"
    )
    _ready(page)
    assert _colour_pixels(page, "cpu", CPU_DARK) > 100
    assert _colour_pixels(page, "cpu", CPU_LIGHT) < 20


def test_the_print_stylesheet_keeps_the_charts_and_drops_the_controls(
    page: Page, fleet: Served
) -> None:
    backfilled(fleet, "dev-alice-pg")
    page.goto(_url(fleet, "dev-alice-pg", "?range=7d"))
    _ready(page)
    page.emulate_media(media="print")
    for hidden in ("#range-form", "#chart-options", "#backfill-form", "#readout"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator('figure.chart[data-metric="cpu"]')).to_be_visible()
    expect(page.locator("#coverage-strip")).to_be_visible()
