"""The demo fleet as data, its hourly CloudWatch history, and the code that seeds an emulator.

Every hour of every instance draws its numbers from `random.Random("<identifier>@<hour>")`, so
an hour's values do not depend on `now` or `days`, and two seeds of one window are identical.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.config import Config

from dbsnooze.demo.emulator import make_client
from dbsnooze.domain import HOUR
from dbsnooze.domain import floor_hour as _floor_hour
from dbsnooze.metrics import CLASS_RAM_BYTES, DIMENSION, NAMESPACE

MAX_DATUMS_PER_PUT = 1000
SAMPLES_PER_HOUR = 60  # RDS publishes one sample a minute
_NOISE_CLIP = 2.0
MASTER_USERNAME = "dbadmin"
MASTER_PASSWORD = "demo-password-1"  # a throwaway credential that only the emulator sees
# The seed's own data needs no client-side validation, and gzip only costs CPU on loopback:
# together they are a third of the seeding time.
BULK_CLIENT_CONFIG = Config(parameter_validation=False, disable_request_compression=True)


@dataclass(frozen=True)
class StatSet:
    """One CloudWatch statistic set: what `StatisticValues` carries."""

    sample_count: float
    sum: float
    minimum: float
    maximum: float

    @property
    def average(self) -> float:
        return self.sum / self.sample_count


@dataclass(frozen=True)
class Profile:
    """How busy an instance is (0..1) by UTC hour, on weekdays and at weekends."""

    name: str
    weekday: tuple[float, ...]
    weekend: tuple[float, ...]
    jitter: float  # relative hour-to-hour variation of the activity
    dark_days: int = 0  # trailing days without datapoints: the instance was stopped
    pool: int = 0  # connections an application pool keeps open whenever the instance runs

    @property
    def stopped(self) -> bool:
        return self.dark_days > 0

    def level(self, weekday: int, hour: int) -> float:
        return (self.weekday if weekday < 5 else self.weekend)[hour]


def _flat(level: float) -> tuple[float, ...]:
    return (level,) * 24


# Index = UTC hour.
_PRODUCTION_DAY = (
    0.35, 0.30, 0.28, 0.27, 0.28, 0.32, 0.40, 0.50, 0.62, 0.72, 0.80, 0.85,
    0.88, 0.90, 0.92, 0.90, 0.86, 0.80, 0.72, 0.65, 0.58, 0.50, 0.44, 0.38,
)  # fmt: skip
_STAGING_DAY = (
    0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.45, 0.55, 0.60, 0.60,
    0.50, 0.60, 0.62, 0.60, 0.55, 0.50, 0.45, 0.01, 0.01, 0.01, 0.01, 0.01,
)  # fmt: skip
_DEVELOPMENT_DAY = (
    0.008, 0.008, 0.008, 0.008, 0.008, 0.008, 0.008, 0.008, 0.25, 0.60, 0.75, 0.80,
    0.55, 0.80, 0.85, 0.80, 0.70, 0.50, 0.20, 0.008, 0.008, 0.008, 0.008, 0.008,
)  # fmt: skip

PROFILES: Mapping[str, Profile] = {
    p.name: p
    for p in (
        Profile("production", _PRODUCTION_DAY, tuple(0.75 * x for x in _PRODUCTION_DAY), 0.08),
        # its application keeps a pool of two connections open all night and all weekend
        Profile("staging", _STAGING_DAY, _flat(0.01), 0.15, pool=2),
        Profile("development", _DEVELOPMENT_DAY, _flat(0.008), 0.30),
        Profile("abandoned", _flat(0.0), _flat(0.0), 0.0),
        Profile("stopped", _DEVELOPMENT_DAY, _flat(0.008), 0.30, dark_days=3),
    )
}


@dataclass(frozen=True)
class MetricShape:
    """How one RDS metric responds to activity: `idle` at 0, `busy` at 1 for a load of 1."""

    name: str
    unit: str
    idle: float
    busy: float
    noise: float  # relative noise on the hourly mean
    spread: float  # largest relative distance of minimum and maximum from the mean
    digits: int
    of_ram: bool = False  # idle and busy are fractions of the instance class's RAM
    whole_samples: bool = False  # every sample is an integer, so minimum and maximum are too
    ceiling: float = math.inf
    pooled: bool = False  # the profile's connection pool adds to every sample


METRICS: tuple[MetricShape, ...] = (
    MetricShape("CPUUtilization", "Percent", 1.0, 60.0, 0.12, 0.6, 3, ceiling=100.0),
    MetricShape(
        "DatabaseConnections", "Count", 0.0, 80.0, 0.10, 0.3, 3, whole_samples=True, pooled=True
    ),
    MetricShape("FreeableMemory", "Bytes", 0.72, 0.22, 0.02, 0.03, 0, of_ram=True),
    MetricShape("ReadIOPS", "Count/Second", 0.05, 600.0, 0.15, 0.8, 3),
    MetricShape("WriteIOPS", "Count/Second", 0.30, 250.0, 0.15, 0.8, 3),
)


@dataclass(frozen=True)
class DemoInstance:
    identifier: str
    region: str
    profile: str
    engine: str
    engine_version: str
    instance_class: str
    tags: Mapping[str, str] = field(hash=False)
    load: float = 1.0  # scales the busy end of the load-driven metrics
    storage_gib: int = 20

    @property
    def stopped(self) -> bool:
        return PROFILES[self.profile].stopped

    @property
    def ram_bytes(self) -> int:
        return CLASS_RAM_BYTES[self.instance_class]


def _tags(env: str, team: str, owner: str) -> Mapping[str, str]:
    return {"env": env, "team": team, "owner": owner}


REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
_USE1, _EUW1 = REGIONS
FLEET: tuple[DemoInstance, ...] = (
    DemoInstance("orders-prod", _USE1, "production", "postgres", "16.3", "db.r6g.large",
                 _tags("prod", "commerce", "maria.garcia"), 1.0, 500),
    DemoInstance("payments-prod", _USE1, "production", "postgres", "15.7", "db.r6g.large",
                 _tags("prod", "payments", "kenji.sato"), 0.8, 400),
    DemoInstance("catalog-prod", _USE1, "production", "mysql", "8.0.36", "db.m6g.large",
                 _tags("prod", "catalog", "priya.nair"), 0.6, 200),
    DemoInstance("billing-staging", _USE1, "staging", "postgres", "16.3", "db.t3.medium",
                 _tags("staging", "payments", "kenji.sato"), 0.7, 50),
    DemoInstance("search-staging", _USE1, "staging", "mysql", "8.0.36", "db.t3.small",
                 _tags("staging", "catalog", "priya.nair"), 0.6),
    DemoInstance("dev-alice-pg", _USE1, "development", "postgres", "16.3", "db.t3.micro",
                 _tags("dev", "commerce", "alice.martin"), 0.7),
    DemoInstance("dev-bob-mysql", _USE1, "development", "mysql", "8.0.36", "db.t3.small",
                 _tags("dev", "catalog", "bob.okafor"), 0.6),
    DemoInstance("legacy-reporting", _USE1, "abandoned", "mysql", "5.7.44", "db.m5.large",
                 _tags("prod", "analytics", "former-employee"), 0.5, 100),
    DemoInstance("analytics-poc", _USE1, "stopped", "postgres", "14.12", "db.t3.large",
                 _tags("dev", "analytics", "sam.lee"), 0.8, 50),
    DemoInstance("orders-prod-eu", _EUW1, "production", "postgres", "16.3", "db.r6g.large",
                 _tags("prod", "commerce", "maria.garcia"), 0.9, 500),
    DemoInstance("cms-prod-eu", _EUW1, "production", "mariadb", "10.11.8", "db.m6g.large",
                 _tags("prod", "content", "lena.fischer"), 0.5, 100),
    DemoInstance("billing-staging-eu", _EUW1, "staging", "postgres", "16.3", "db.t3.medium",
                 _tags("staging", "payments", "kenji.sato"), 0.6, 50),
    DemoInstance("dev-chloe-maria", _EUW1, "development", "mariadb", "10.6.18", "db.t3.micro",
                 _tags("dev", "content", "chloe.dubois"), 0.7),
    DemoInstance("wiki-old", _EUW1, "abandoned", "mariadb", "10.5.25", "db.t3.small",
                 _tags("prod", "it", "former-employee"), 0.4),
    DemoInstance("migration-test-2023", _EUW1, "abandoned", "postgres", "13.15", "db.t3.medium",
                 _tags("test", "platform", "lena.fischer"), 0.5),
)  # fmt: skip

SeriesKey = tuple[str, str]  # (identifier, metric name)
Series = Mapping[datetime, StatSet]


@dataclass(frozen=True)
class Fleet:
    """What was (or would be) seeded: instances and their stats on hours [start, end)."""

    instances: tuple[DemoInstance, ...]
    start: datetime
    end: datetime
    series: Mapping[SeriesKey, Series] = field(repr=False, hash=False)

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.region for i in self.instances))

    def hours(self) -> Iterator[datetime]:
        return _hours(self.start, self.end)

    def instance(self, identifier: str) -> DemoInstance:
        return next(i for i in self.instances if i.identifier == identifier)

    def datum(self, identifier: str, metric_name: str, hour: datetime) -> StatSet | None:
        """The stat set stored for that clock hour, or None where the instance was dark."""
        return self.series[(identifier, metric_name)].get(as_utc(hour))


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def floor_hour(moment: datetime) -> datetime:
    return _floor_hour(as_utc(moment))


def _hours(start: datetime, end: datetime) -> Iterator[datetime]:
    hour = start
    while hour < end:
        yield hour
        hour += HOUR


def _noise(rng: random.Random) -> float:
    """A standard normal draw clipped to two sigmas, so no busy hour looks idle by chance."""
    return min(_NOISE_CLIP, max(-_NOISE_CLIP, rng.gauss(0.0, 1.0)))


def _activity(profile: Profile, hour: datetime, rng: random.Random) -> float:
    level = profile.level(hour.weekday(), hour.hour)
    return min(1.0, max(0.0, level * (1.0 + profile.jitter * _noise(rng))))


def _bounds(shape: MetricShape, instance: DemoInstance) -> tuple[float, float]:
    if shape.of_ram:
        return shape.idle * instance.ram_bytes, shape.busy * instance.ram_bytes
    return shape.idle, shape.busy * instance.load


def _extremes(shape: MetricShape, mean: float, rng: random.Random) -> tuple[float, float]:
    spread = shape.spread * rng.uniform(0.3, 1.0)
    low, high = mean * (1.0 - spread), min(shape.ceiling, mean * (1.0 + spread))
    if shape.whole_samples:
        return float(math.floor(low)), float(math.ceil(high))
    return round(low, shape.digits), round(high, shape.digits)


def _stat_set(
    shape: MetricShape, instance: DemoInstance, activity: float, rng: random.Random
) -> StatSet:
    stats = _activity_stat_set(shape, instance, activity, rng)
    pool = PROFILES[instance.profile].pool if shape.pooled else 0
    if not pool:
        return stats
    count = stats.sample_count
    total = round(stats.sum + pool * count, shape.digits)
    return StatSet(count, total, stats.minimum + pool, stats.maximum + pool)


def _activity_stat_set(
    shape: MetricShape, instance: DemoInstance, activity: float, rng: random.Random
) -> StatSet:
    idle, busy = _bounds(shape, instance)
    wobble = 1.0 + shape.noise * _noise(rng)
    mean = round(
        min(shape.ceiling, max(0.0, (idle + (busy - idle) * activity) * wobble)), shape.digits
    )
    total = round(mean * SAMPLES_PER_HOUR, shape.digits)
    low, high = _extremes(shape, mean, rng)
    average = total / SAMPLES_PER_HOUR  # what CloudWatch will report; keep min <= avg <= max
    return StatSet(float(SAMPLES_PER_HOUR), total, min(low, average), max(high, average))


def hour_stats(instance: DemoInstance, hour: datetime) -> dict[str, StatSet]:
    rng = random.Random(f"{instance.identifier}@{hour.isoformat()}")
    activity = _activity(PROFILES[instance.profile], hour, rng)
    return {shape.name: _stat_set(shape, instance, activity, rng) for shape in METRICS}


def _instance_series(
    instance: DemoInstance, start: datetime, end: datetime
) -> dict[SeriesKey, dict[datetime, StatSet]]:
    lit_until = max(start, end - timedelta(days=PROFILES[instance.profile].dark_days))
    series: dict[SeriesKey, dict[datetime, StatSet]] = {
        (instance.identifier, shape.name): {} for shape in METRICS
    }
    for hour in _hours(start, lit_until):
        for name, stats in hour_stats(instance, hour).items():
            series[(instance.identifier, name)][hour] = stats
    return series


def build_fleet(now: datetime, days: int = 30, instances: Sequence[DemoInstance] = FLEET) -> Fleet:
    """The fleet and its history on the `days * 24` whole hours before `now`'s hour; no I/O."""
    end = floor_hour(now)
    start = end - timedelta(days=days)
    series: dict[SeriesKey, Series] = {}
    for instance in instances:
        series.update(_instance_series(instance, start, end))
    return Fleet(tuple(instances), start, end, series)


def _datum(identifier: str, metric_name: str, unit: str, hour: datetime, s: StatSet) -> Any:
    return {
        "MetricName": metric_name,
        "Dimensions": [{"Name": DIMENSION, "Value": identifier}],
        "Timestamp": hour,
        "Unit": unit,
        "StatisticValues": {
            "SampleCount": s.sample_count,
            "Sum": s.sum,
            "Minimum": s.minimum,
            "Maximum": s.maximum,
        },
    }


def put_hourly_stats(
    cloudwatch: Any, identifier: str, metric_name: str, unit: str, stats: Series
) -> None:
    """Write one RDS instance's stat sets for one metric, at most 1000 datums per call."""
    datums = [_datum(identifier, metric_name, unit, h, s) for h, s in sorted(stats.items())]
    for first in range(0, len(datums), MAX_DATUMS_PER_PUT):
        chunk = datums[first : first + MAX_DATUMS_PER_PUT]
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=chunk)


def _create_instance(rds: Any, instance: DemoInstance) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=instance.identifier,
        Engine=instance.engine,
        EngineVersion=instance.engine_version,
        DBInstanceClass=instance.instance_class,
        AllocatedStorage=instance.storage_gib,
        MasterUsername=MASTER_USERNAME,
        MasterUserPassword=MASTER_PASSWORD,
        Tags=[{"Key": k, "Value": v} for k, v in instance.tags.items()],
    )
    if instance.stopped:
        rds.stop_db_instance(DBInstanceIdentifier=instance.identifier)


def _seed_region(endpoint_url: str, region: str, fleet: Fleet) -> None:
    rds = make_client(endpoint_url, "rds", region)
    cloudwatch = make_client(endpoint_url, "cloudwatch", region, BULK_CLIENT_CONFIG)
    for instance in (i for i in fleet.instances if i.region == region):
        _create_instance(rds, instance)
        for shape in METRICS:
            stats = fleet.series[(instance.identifier, shape.name)]
            put_hourly_stats(cloudwatch, instance.identifier, shape.name, shape.unit, stats)


def seed(endpoint_url: str, now: datetime, days: int = 30) -> Fleet:
    """Create the demo fleet at `endpoint_url` and write its hourly history; return it."""
    fleet = build_fleet(now, days)
    for region in fleet.regions:
        _seed_region(endpoint_url, region, fleet)
    return fleet
