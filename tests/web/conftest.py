"""Browser tests: Debian's chromium driven by Playwright, against real servers and moto.

The browser tests run once, on SQLite (the store is not what they test), against servers
that live for the module. Without chromium they skip, except in CI, where they must run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from webhelp import TIMEZONE, TOKEN, Console, Served, serve, web_settings

from dbsnooze.analysis import decisions, runner
from dbsnooze.config import Settings
from dbsnooze.context import Context, build_context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.demo.fleet import seed
from dbsnooze.demo.prices import demo_prices
from dbsnooze.demo.runner import register_demo_account
from dbsnooze.discovery import discover
from dbsnooze.jobs import backfill
from dbsnooze.store import prices as price_store
from dbsnooze.store import recommendations
from dbsnooze.store import schedules as schedule_store
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow
from dbsnooze.web.routes import vendor_ready
from fleethelp import seed_store
from migrated import migrate

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SEED_DAYS = 8  # a full week of final hours behind the newest one


def _chromium() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = _chromium()
    if path is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must run the browser tests")
        pytest.skip(message)
    if not vendor_ready():
        pytest.fail("the UI's charting library is missing: run `make setup` (npm ci)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def console() -> Console:
    return Console()


@pytest.fixture()
def page(browser: Browser, console: Console) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, timezone_id=TIMEZONE, locale="en-US"
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    yield tab
    context.close()
    assert console.unexpected() == [], "the browser console had errors"


def _fleet_context(settings: Settings, endpoint_url: str) -> Context:
    ctx = build_context(settings)
    migrate(ctx.engine)
    register_demo_account(ctx, endpoint_url)
    discover(ctx, "browser-tests")
    return ctx


def _ids(ctx: Context) -> dict[str, int]:
    with ctx.sessions() as session:
        rows = session.query(InstanceRow.provider_id, InstanceRow.id).all()
        return {name: instance_id for name, instance_id in rows}


def _serve_fleet(settings: Settings, endpoint_url: str) -> Iterator[Served]:
    """A real server over the discovered demo fleet, with the fleet's ids by name."""
    ctx = _fleet_context(settings, endpoint_url)
    try:
        with serve(settings, ctx) as served:
            served.ids = _ids(ctx)
            yield served
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def seeded(emulator: Emulator) -> Emulator:
    """The demo fleet with SEED_DAYS of history; moto is emptied first, once per module."""
    emulator.reset()
    seed(emulator.endpoint_url, datetime.now(UTC), days=SEED_DAYS)
    return emulator


@pytest.fixture(scope="module")
def fleet(
    seeded: Emulator, chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """An open loopback server (no token) with a job worker, over the discovered demo fleet."""
    settings = web_settings(tmp_path_factory.mktemp("fleet"), api_token=None)
    yield from _serve_fleet(settings, seeded.endpoint_url)


@pytest.fixture(scope="module")
def locked(
    seeded: Emulator, chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A server with an API token and no worker, so a queued job stays queued."""
    settings = web_settings(tmp_path_factory.mktemp("locked"), api_token=TOKEN, run_worker=False)
    yield from _serve_fleet(settings, seeded.endpoint_url)


@pytest.fixture(scope="module")
def idle(
    seeded: Emulator, chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """An open loopback server (no token) without a worker, so a queued job stays queued."""
    settings = web_settings(tmp_path_factory.mktemp("idle"), api_token=None, run_worker=False)
    yield from _serve_fleet(settings, seeded.endpoint_url)


@pytest.fixture(scope="module")
def site(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server with a token and no worker over 30 days of the demo fleet written into its store,
    with prices, computed recommendations and one queued backfill of the three production
    instances: every page has something to show. No emulator: nothing here calls the cloud."""
    directory = tmp_path_factory.mktemp("site")
    settings = web_settings(directory, api_token=TOKEN, run_worker=False)
    ctx = build_context(settings)
    migrate(ctx.engine)
    now = datetime.now(UTC)
    ids = seed_store(ctx, now)
    with transaction(ctx.sessions) as session:
        price_store.save(session, demo_prices(), now)
    runner.recompute(ctx)
    with transaction(ctx.sessions) as session:  # the development instance sleeps, in dry run
        recommendation = recommendations.of_instance(session, ids["dev-alice-pg"])
        assert recommendation is not None
        decisions.apply(session, recommendation.id, "browser-tests", now)
        followed = schedule_store.assignments(session, [ids["dev-alice-pg"]])
    ids["schedule:dev-alice-pg"] = followed[ids["dev-alice-pg"]].schedule_id
    production = [ids[name] for name in ("orders-prod", "payments-prod", "catalog-prod")]
    backfill.submit_instances(ctx, production, 7, False, "browser-tests")
    try:
        with serve(settings, ctx) as served:
            served.ids = ids
            yield served
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def broken(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """An open server whose SQLite store's directory is gone (a volume unmounted): every page
    is the 503 error page."""
    home = tmp_path_factory.mktemp("broken") / "data"
    home.mkdir()
    settings = web_settings(home, api_token=None, run_worker=False)
    ctx = build_context(settings)
    migrate(ctx.engine)
    away = home.with_name("away")
    try:
        with serve(settings, ctx) as served:
            home.rename(away)
            ctx.engine.dispose()
            try:
                yield served
            finally:
                away.rename(home)
    finally:
        ctx.close()
