"""The demo fleet written straight into a test store: instances, 30 days of hours, asleep hours.

No emulator: the analysis reads the store, and these are the very numbers the demo seeds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dbsnooze.context import Context
from dbsnooze.demo.fleet import FLEET, DemoInstance, Fleet, build_fleet
from dbsnooze.domain import (
    AuthMethod,
    Credentials,
    DiscoveredInstance,
    HourlyStat,
    Provider,
    Source,
)
from dbsnooze.metrics import METRICS
from dbsnooze.store import accounts as account_store
from dbsnooze.store import instances as instance_store
from dbsnooze.store import samples
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction

KEYS = Credentials(AuthMethod.STATIC_KEYS, access_key_id="AKIAIOSFODNN7EXAMPLE")


def discovered(instance: DemoInstance, **extra: object) -> DiscoveredInstance:
    values: dict[str, object] = {
        "provider_id": instance.identifier,
        "region": instance.region,
        "engine": instance.engine,
        "engine_version": instance.engine_version,
        "instance_class": instance.instance_class,
        "status": "stopped" if instance.stopped else "available",
        "tags": dict(instance.tags),
        "created_at": None,
    }
    values.update(extra)
    return DiscoveredInstance(**values)  # type: ignore[arg-type]


def seed_store(
    ctx: Context, now: datetime, days: int = 30, fleet: tuple[DemoInstance, ...] = FLEET
) -> dict[str, int]:
    """The fleet's instances and hourly samples; returns instance ids by identifier."""
    built = build_fleet(now, days, fleet)
    with transaction(ctx.sessions) as session:
        account = account_store.add(
            session,
            ctx.box,
            NewAccount(Provider.AWS, "demo", built.regions, KEYS, None, None),
            now,
        )
        for region in built.regions:
            found = [discovered(i) for i in fleet if i.region == region]
            instance_store.sync_region(session, (account.id, "aws"), region, found, now)
        ids = {
            row.provider_id: row.id
            for row in instance_store.page(session, instance_store.InstanceFilter(), 1000, 0)[0]
        }
        for instance in fleet:
            _write(session, built, instance, ids[instance.identifier], now)
    return ids


def _write(
    session: Session, built: Fleet, instance: DemoInstance, instance_id: int, now: datetime
) -> None:
    stats: list[HourlyStat] = []
    dark: set[datetime] = set()
    for hour in built.hours():
        for key, spec in METRICS.items():
            found = built.datum(instance.identifier, spec.cloudwatch_name, hour)
            if found is None:
                dark.add(hour)
                continue
            values = (found.average, found.maximum, found.minimum, found.sample_count)
            stats.append(HourlyStat(instance_id, key, hour, *values))
    samples.upsert(session, stats, Source.BACKFILL, now)
    if dark:
        samples.mark_asleep(session, instance_id, METRICS, sorted(dark), now)
