"""The demo's Cloud SQL project: every behaviour profile, a month of minutes that Monitoring's
hourly alignment turns back into the fleet's hours, a live feed, and one auto-backfill job for
the whole project."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dbsnooze.context import Context
from dbsnooze.demo.fleet import PROFILES, hour_stats
from dbsnooze.demo.gcp_fleet import GCP_FLEET, PROJECT, GcpDemo, minute_values
from dbsnooze.demo.gcpfake import GcpFake
from dbsnooze.demo.runner import register_gcp_account
from dbsnooze.discovery import discover
from dbsnooze.domain import AuthMethod, CloudAccount, Credentials, HourRange, Provider, Target
from dbsnooze.jobs import queue
from dbsnooze.providers.gcp.monitoring import HistoryCall, MonitoringSource
from dbsnooze.store.tables import JobRow
from gcphelp import client, fake, fast_sessions, gcp_env

__all__ = ["fake", "gcp_env"]  # fixtures used by name
NOW = datetime(2026, 11, 18, 14, 30, tzinfo=UTC)
END = datetime(2026, 11, 18, 14, tzinfo=UTC)
DAYS = 4


@pytest.fixture()
def demo(fake: GcpFake) -> GcpDemo:
    return GcpDemo(fake, NOW, DAYS)


def test_the_project_has_every_profile_both_engines_two_regions_and_one_stopped() -> None:
    assert len(GCP_FLEET) >= 6
    assert {i.profile for i in GCP_FLEET} == set(PROFILES)
    assert {i.postgres for i in GCP_FLEET} == {True, False}
    assert len({i.region for i in GCP_FLEET}) == 2
    assert [i.name for i in GCP_FLEET if i.stopped] == ["ml-sandbox"]
    assert len({i.name for i in GCP_FLEET}) == len(GCP_FLEET)


def test_sixty_minutes_average_the_hour_within_its_extremes() -> None:
    stats = hour_stats(GCP_FLEET[0].twin, END)["CPUUtilization"]
    minutes = minute_values(stats)
    assert sum(minutes) / 60 == pytest.approx(stats.average)
    assert stats.minimum <= min(minutes) <= max(minutes) <= stats.maximum


def _hourly(fake: GcpFake, demo: GcpDemo, name: str, metric: str) -> dict[datetime, float]:
    key = demo.seed()
    account = CloudAccount(1, Provider.GCP, "demo", (),
                           Credentials(AuthMethod.GCP_SERVICE_ACCOUNT,
                                       service_account_json=json.dumps(key.info)),
                           fake.url, (PROJECT,))  # fmt: skip
    target = Target(1, 1, "", f"{PROJECT}:{name}", "", True)
    source = MonitoringSource(client(account))
    span = HourRange(END - timedelta(days=DAYS), END)
    return {s.hour: s.average for s in source.fetch(HistoryCall(PROJECT, metric, span, (target,)))}


def test_monitoring_gives_back_each_hour_of_the_fleet(fake: GcpFake, demo: GcpDemo) -> None:
    instance = next(i for i in GCP_FLEET if i.profile == "development" and i.postgres)

    cpu = _hourly(fake, demo, instance.name, "cpu")

    assert len(cpu) == DAYS * 24
    for hour, value in cpu.items():
        assert value == pytest.approx(hour_stats(instance.twin, hour)["CPUUtilization"].average)
    nights = [v for h, v in cpu.items() if h.hour < 6]
    days = [v for h, v in cpu.items() if 10 <= h.hour < 16 and h.weekday() < 5]
    assert max(nights) < 5 < min(days)  # idle nights, busy working hours


def test_a_stopped_instance_went_dark_and_its_policy_says_so(fake: GcpFake, demo: GcpDemo) -> None:
    cpu = _hourly(fake, demo, "ml-sandbox", "cpu")

    dark = timedelta(days=PROFILES["stopped"].dark_days)
    assert max(cpu) == END - dark - timedelta(hours=1)
    assert fake.sql.get(PROJECT, "ml-sandbox")["settings"]["activationPolicy"] == "NEVER"


def test_the_live_feed_publishes_each_minute_once(demo: GcpDemo) -> None:
    demo.seed()
    running = sum(1 for i in GCP_FLEET if not i.stopped)
    postgres = sum(1 for i in GCP_FLEET if not i.stopped and i.postgres)
    per_minute = 5 * running + postgres  # PostgreSQL: backends of two databases

    assert demo.tick(END + timedelta(minutes=7, seconds=20)) == 7 * per_minute
    assert demo.tick(END + timedelta(minutes=7, seconds=50)) == 0
    assert demo.tick(END + timedelta(minutes=9)) == 2 * per_minute


def test_registering_and_discovering_backfills_the_project_in_one_job(
    ctx: Context, fake: GcpFake, demo: GcpDemo
) -> None:
    ctx.gcp = fast_sessions()
    ctx.settings = ctx.settings.model_copy(update={"auto_backfill": True})
    key = demo.seed()

    register_gcp_account(ctx, fake.url, key)
    report = discover(ctx, "demo")

    assert report.totals()["seen"] == len(GCP_FLEET)
    with ctx.sessions() as session:
        jobs = session.query(JobRow).all()
        assert len(jobs) == 1
        assert sorted(queue.target_ids(session, jobs[0].id)) == sorted(report.new_instance_ids)
