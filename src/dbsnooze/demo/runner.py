"""`dbsnooze demo`: emulators up (moto for AWS, the GCP fake), fleets seeded, accounts
registered, fleets discovered, UI served."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import make_url

from dbsnooze import accounts as account_service
from dbsnooze.config import Settings
from dbsnooze.context import Context, build_context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.demo.fleet import REGIONS, seed
from dbsnooze.demo.gcp_fleet import GCP_FLEET, PROJECT, GcpDemo
from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.demo.live_feed import LiveFeed
from dbsnooze.demo.prices import demo_prices
from dbsnooze.demo.schedules import DevelopmentSchedules
from dbsnooze.discovery import discover
from dbsnooze.domain import AuthMethod, Credentials, Provider
from dbsnooze.scheduler import Periodic
from dbsnooze.store import prices as price_store
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction, upgrade

DEMO_ACCOUNT = "demo"
DEMO_GCP_ACCOUNT = "demo-gcp"
# moto accepts any key; these are the emulator's, not anyone's real credentials.
DEMO_KEYS = Credentials(
    method=AuthMethod.STATIC_KEYS,
    access_key_id="AKIADEMOEMULATOR0001",
    secret_access_key="demo-emulator-secret-not-a-real-key",
)


def register_demo_account(ctx: Context, endpoint_url: str) -> int:
    new = NewAccount(
        provider=Provider.AWS,
        name=DEMO_ACCOUNT,
        regions=tuple(REGIONS),
        credentials=DEMO_KEYS,
        endpoint_url=endpoint_url,
        secret_hint=account_service.secret_hint(DEMO_KEYS),
    )
    return account_service.create(ctx, new, "demo").row.id


def register_gcp_account(ctx: Context, endpoint_url: str, key: ServiceAccountKey) -> int:
    """The fake's project as a GCP account; the key is the fake's own throwaway one."""
    credentials = Credentials(
        method=AuthMethod.GCP_SERVICE_ACCOUNT, service_account_json=json.dumps(key.info)
    )
    new = NewAccount(
        provider=Provider.GCP,
        name=DEMO_GCP_ACCOUNT,
        regions=(),
        credentials=credentials,
        endpoint_url=endpoint_url,
        secret_hint=account_service.secret_hint(credentials),
        projects=(PROJECT,),
    )
    return account_service.create(ctx, new, "demo").row.id


def write_cli_config(settings: Settings) -> Path:
    """A config file beside the demo's store, so `dbsnooze ... --config FILE` in another shell
    works on the running demo's store (and acts on its emulators)."""
    store = make_url(settings.database_url)
    database = Path(store.database or "").resolve()
    path = database.parent / "dbsnooze.env"
    lines = {
        "DBSNOOZE_DATABASE_URL": store.set(database=str(database)).render_as_string(),
        "DBSNOOZE_SECRET_KEY_FILE": str(settings.secret_key_file.resolve()),
        "DBSNOOZE_LOG_FORMAT": "text",
    }
    path.write_text("".join(f"{key}={value}\n" for key, value in lines.items()))
    return path


def seed_gcp(fake: GcpFake, now: datetime, days: int) -> tuple[GcpDemo, ServiceAccountKey]:
    demo = GcpDemo(fake, now, days)
    return demo, demo.seed()


def run_demo(
    settings: Settings,
    days: int,
    console: Console,
    serve: Callable[[Settings, Context], None],
) -> None:
    started = time.monotonic()
    with Emulator() as emulator, GcpFake() as fake:
        endpoint = emulator.endpoint_url
        console.print(f"AWS emulator (moto) on {endpoint}, GCP fake on {fake.url}")
        ctx = build_context(settings)
        fleet = seed(endpoint, ctx.clock(), days)
        gcp, key = seed_gcp(fake, ctx.clock(), days)
        console.print(
            f"seeded {len(fleet.instances)} RDS instances in {len(REGIONS)} regions "
            f"with {days} days of hourly CloudWatch history, and {len(GCP_FLEET)} Cloud SQL "
            f"instances in project {PROJECT} with {days} days of minute data "
            f"({time.monotonic() - started:.1f}s)"
        )
        upgrade(ctx.engine)
        with transaction(ctx.sessions) as session:
            price_store.save(session, demo_prices(), ctx.clock())
        register_demo_account(ctx, endpoint)
        register_gcp_account(ctx, fake.url, key)
        report = discover(ctx, "demo")
        console.print(f"discovered {report.totals()['seen']} instances")
        console.print(
            f"[bold green]dbsnooze demo[/bold green] on http://{settings.host}:{settings.port} "
            "(Ctrl-C stops everything)"
        )
        config = write_cli_config(settings)
        console.print(
            f"the CLI on this demo: dbsnooze sleep dev-alice-pg --for 10m --config {config}"
        )
        feed = LiveFeed(endpoint, fleet, ctx.clock())
        feeder = Periodic("demo-feed", 60, lambda: (feed.tick(ctx.clock()), gcp.tick(ctx.clock())))
        development = DevelopmentSchedules(ctx, say=console.print)
        applier = Periodic("demo-schedules", 5, development.tick)
        feeder.start()
        applier.start()
        try:
            serve(settings, ctx)
        finally:
            applier.stop()
            feeder.stop()
            ctx.close()
