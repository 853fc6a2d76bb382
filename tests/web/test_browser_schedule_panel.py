"""The instance page's schedule panel in Chromium: what it shows, and its override buttons acting
on moto (behind the stateful RDS layer) through the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dbsnooze.config import Settings
from dbsnooze.demo.emulator import Emulator
from liveserver import Served, serve
from reconhelp import World, world_of


@pytest.fixture()
def served(moto: Emulator, chromium_path: str, tmp_path: Path) -> Iterator[tuple[World, Served]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        secret_key_file=tmp_path / "dbsnooze.key",
        run_scheduler=False,
        run_collector=False,
        run_worker=False,
        auto_backfill=False,
    )
    with world_of(settings, moto) as world, serve(world.ctx.settings, world.ctx) as server:
        yield world, server


def test_sleep_now_stops_the_instance_and_the_panel_says_until_when(
    page: Page, served: tuple[World, Served]
) -> None:
    world, server = served
    db = world.instance("app")
    page.goto(f"{server.url}/instances/{db}")
    panel = page.locator("#schedule-panel")
    expect(panel).to_have_attribute("data-state", "ready")
    expect(page.locator("#schedule-name")).to_have_text("none")
    expect(page.locator("#schedule-clear")).to_be_hidden()

    page.get_by_role("button", name="Sleep now").click()

    expect(page.locator("#schedule-status")).to_contain_text("Kept asleep the default 8h")
    expect(page.locator("#schedule-override")).to_contain_text("keep asleep until")
    expect(page.locator("#schedule-next")).to_contain_text("start at")
    assert world.calls() == ["StopDBInstance:app"]
    expect(panel).to_have_attribute("data-markers", "1")  # the stop, a marker on the charts
    page.get_by_role("button", name="Clear override").click()
    expect(page.locator("#schedule-status")).to_contain_text("Override cleared")
    expect(page.locator("#schedule-clear")).to_be_hidden()
