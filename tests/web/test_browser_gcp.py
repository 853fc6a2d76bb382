"""A GCP account in headless Chromium: added from the accounts page with a key file, its
Cloud SQL instance listed beside the RDS fleet, filtered by provider, and charted after a
backfill (memory used % as Cloud SQL reports it)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from webhelp import Console, Served, backfilled, screenshot_path

from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.domain import floor_hour
from gcpdata import seed_instance
from gcphelp import PROJECT, add_instances, fake, gcp_env, key

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name
NAME = f"{PROJECT}:dev-gcp"
CHARTS = ("cpu", "connections", "memory_used_percent", "read_iops", "write_iops")


def test_a_gcp_account_is_added_listed_filtered_and_charted(
    page: Page,
    fleet: Served,
    console: Console,
    fake: GcpFake,
    key: ServiceAccountKey,
    gcp_env: Path,
) -> None:
    start = floor_hour(datetime.now(UTC)) - timedelta(days=8)
    add_instances(fake, PROJECT, {"dev-gcp": ("POSTGRES_16", "europe-west1")}, created=start)
    seed_instance(fake, PROJECT, "dev-gcp", start, 8 * 24, 7, ("postgres", "app"))
    key_file = gcp_env / "dbsnooze-key.json"
    key_file.write_text(json.dumps(key.info))

    page.goto(fleet.url + "/accounts")
    page.get_by_label("Provider").select_option("gcp")
    expect(page.get_by_label("Regions")).to_be_hidden()
    page.get_by_label("Name", exact=True).fill("gcp")
    page.get_by_label("Projects").fill(PROJECT)
    page.get_by_label("Endpoint URL").fill(fake.url)
    page.get_by_label("Key file (JSON)").set_input_files(str(key_file))
    page.get_by_role("button", name="Test and add account").click()
    expect(page.locator("#account-form-status")).to_contain_text(
        "Account gcp added: 1 database instance(s) found"
    )
    row = page.locator('tr[data-name="gcp"]')
    expect(row).to_contain_text(PROJECT)
    expect(row).to_contain_text(f"{key.key_id[:4]}…{key.key_id[-4:]}")
    assert key.key_id not in page.content() and "PRIVATE KEY" not in page.content()

    page.goto(fleet.url + "/?provider=gcp")
    expect(page.locator("tr[data-instance-id]")).to_have_count(1)
    expect(page.locator(f'tr[data-name="{NAME}"]')).to_contain_text("GCP")
    page.goto(fleet.url + "/")
    expect(page.locator(f'tr[data-name="{NAME}"]')).to_have_count(1)
    expect(page.locator('tr[data-name="orders-prod"]')).to_have_count(1)

    fleet.ids[NAME] = int(
        page.locator(f'tr[data-name="{NAME}"]').get_attribute("data-instance-id") or 0
    )
    instance_id = backfilled(fleet, NAME)
    page.goto(f"{fleet.url}/instances/{instance_id}?range=7d")
    expect(page.locator("#charts")).to_have_attribute("data-state", "ready")
    for metric in CHARTS:
        figure = page.locator(f'figure.chart[data-metric="{metric}"]')
        assert int(figure.get_attribute("data-points") or 0) > 150, metric
    expect(page.locator('figure.chart[data-metric="memory_used_percent"]')).not_to_contain_text(
        re.compile("unknown for this instance class")
    )
    page.screenshot(path=screenshot_path("instance-gcp"), full_page=True)
