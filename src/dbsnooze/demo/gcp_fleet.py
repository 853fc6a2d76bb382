"""The demo's Cloud SQL project in the GCP fake: instances of every behaviour profile, their
minute data, and a live feed that keeps publishing the current hour.

Each Cloud SQL instance behaves like an RDS instance of a comparable class (`twin`), so its
hours come from the same seeded draws as the AWS fleet (`hour_stats`); the hour's mean, minimum
and maximum are spread over its sixty minutes as Cloud SQL samples them, so Monitoring's hourly
alignment gives back that hour. A month of minutes is built as plain lists and loaded with one
`Series.extend` per series: no per-point datetimes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dbsnooze.demo.fleet import PROFILES, DemoInstance, StatSet, floor_hour, hour_stats
from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.demo.gcpfake.series import Series, epoch
from dbsnooze.domain import HOUR
from dbsnooze.providers.gcp.metrics import CLOUDSQL

PROJECT = "snooze-demo"
SERVICE_ACCOUNT = f"dbsnooze@{PROJECT}.iam.gserviceaccount.com"
MINUTES = 60
MINUTE_SECONDS = 60
ADMIN_SHARE = 0.2  # PostgreSQL: a fifth of the backends on the admin database, the rest on app


@dataclass(frozen=True)
class CloudSqlInstance:
    name: str
    region: str
    profile: str
    database_version: str  # POSTGRES_16, MYSQL_8_0, ...
    tier: str
    labels: Mapping[str, str] = field(hash=False)
    load: float = 1.0
    twin_class: str = "db.t3.medium"  # the RDS class whose RAM the memory numbers assume
    master: str | None = None  # a read replica of this instance

    @property
    def stopped(self) -> bool:
        return PROFILES[self.profile].stopped

    @property
    def postgres(self) -> bool:
        return self.database_version.startswith("POSTGRES")

    @property
    def twin(self) -> DemoInstance:
        engine = "postgres" if self.postgres else "mysql"
        return DemoInstance(
            f"gcp-{self.name}", self.region, self.profile, engine, "", self.twin_class,
            self.labels, self.load,
        )  # fmt: skip


def _labels(env: str, team: str, owner: str) -> Mapping[str, str]:
    return {"env": env, "team": team, "owner": owner}


REGIONS = ("us-central1", "europe-west1")
_USC1, _EUW1 = REGIONS
GCP_FLEET: tuple[CloudSqlInstance, ...] = (
    CloudSqlInstance("shop-prod", _USC1, "production", "POSTGRES_16", "db-custom-4-16384",
                     _labels("prod", "shop", "maria.garcia"), 0.9, "db.r6g.large"),
    CloudSqlInstance("shop-prod-replica", _USC1, "production", "POSTGRES_16",
                     "db-custom-4-16384", _labels("prod", "shop", "maria.garcia"), 0.5,
                     "db.r6g.large", master="shop-prod"),
    CloudSqlInstance("crm-prod", _EUW1, "production", "MYSQL_8_0", "db-custom-2-8192",
                     _labels("prod", "sales", "lena.fischer"), 0.6, "db.m6g.large"),
    CloudSqlInstance("shop-staging", _EUW1, "staging", "POSTGRES_15", "db-custom-2-4096",
                     _labels("staging", "shop", "kenji.sato"), 0.6),
    CloudSqlInstance("dev-dana-mysql", _USC1, "development", "MYSQL_8_0", "db-g1-small",
                     _labels("dev", "sales", "dana.kim"), 0.7, "db.t3.small"),
    CloudSqlInstance("dev-eli-pg", _EUW1, "development", "POSTGRES_16", "db-f1-micro",
                     _labels("dev", "shop", "eli.moreau"), 0.6, "db.t3.micro"),
    CloudSqlInstance("old-forum", _USC1, "abandoned", "MYSQL_5_7", "db-n1-standard-1",
                     _labels("prod", "community", "former-employee"), 0.4),
    CloudSqlInstance("ml-sandbox", _USC1, "stopped", "POSTGRES_14", "db-custom-2-8192",
                     _labels("dev", "data", "sam.lee"), 0.8),
)  # fmt: skip


def minute_values(stats: StatSet, count: int = MINUTES, first: int = 0) -> list[float]:
    """Minutes `first`..`first + count` of an hour whose minutes alternate just above and just
    below its mean: sixty of them average exactly the mean and stay within its minimum and
    maximum."""
    mean = stats.average
    spread = min(stats.maximum - mean, mean - stats.minimum)
    high, low = mean + spread, mean - spread
    return [high if (first + i) % 2 == 0 else low for i in range(count)]


def _whole(values: list[float]) -> list[float]:
    return [float(round(value)) for value in values]


# dbsnooze metric shape (demo/fleet.py) -> how Cloud SQL reports it, per minute
def _series_minutes(
    instance: CloudSqlInstance, stats: Mapping[str, StatSet], count: int, first: int
) -> dict[tuple[str, str], list[float]]:
    """(metric type, database) -> minute values; database "" for per-instance metrics."""
    ram = float(instance.twin.ram_bytes)
    cpu = minute_values(stats["CPUUtilization"], count, first)
    free = minute_values(stats["FreeableMemory"], count, first)
    reads = minute_values(stats["ReadIOPS"], count, first)
    writes = minute_values(stats["WriteIOPS"], count, first)
    connections = _whole(minute_values(stats["DatabaseConnections"], count, first))
    found = {
        ("cpu/utilization", ""): [value / 100.0 for value in cpu],
        ("memory/utilization", ""): [1.0 - value / ram for value in free],
        ("disk/read_ops_count", ""): _whole([v * MINUTE_SECONDS for v in reads]),
        ("disk/write_ops_count", ""): _whole([v * MINUTE_SECONDS for v in writes]),
    }
    if not instance.postgres:
        found[("network/connections", "")] = connections
        return found
    admin = [float(round(value * ADMIN_SHARE)) for value in connections]
    found[("postgresql/num_backends", "postgres")] = admin
    found[("postgresql/num_backends", "app")] = [
        c - a for c, a in zip(connections, admin, strict=True)
    ]
    return found


def _lit_until(instance: CloudSqlInstance, end: datetime) -> datetime:
    return end - timedelta(days=PROFILES[instance.profile].dark_days)


def _hours(start: datetime, end: datetime) -> Iterator[datetime]:
    hour = start
    while hour < end:
        yield hour
        hour += HOUR


class GcpDemo:
    """The demo project in a running fake: instances, a month of minutes, and the live feed."""

    def __init__(self, fake: GcpFake, now: datetime, days: int = 30) -> None:
        self.fake = fake
        self.end = floor_hour(now)
        self.start = self.end - timedelta(days=days)
        self._next = self.end  # the live feed's next minute

    def seed(self) -> ServiceAccountKey:
        """Create the project's instances and their history; the key of a service account
        that may read them."""
        for instance in GCP_FLEET:
            self._create(instance)
        for instance in GCP_FLEET:
            self._publish(instance, self.start, _lit_until(instance, self.end))
        return self.fake.service_account(SERVICE_ACCOUNT, [PROJECT])

    def tick(self, now: datetime) -> int:
        """Publish every whole minute since the last tick for the running instances; how many
        points."""
        until = now.replace(second=0, microsecond=0)
        published = 0
        for instance in (i for i in GCP_FLEET if not i.stopped):
            published += self._publish_minutes(instance, self._next, until)
        self._next = max(self._next, until)
        return published

    def _create(self, instance: CloudSqlInstance) -> None:
        self.fake.sql.add_instance(
            PROJECT,
            instance.name,
            database_version=instance.database_version,
            region=instance.region,
            tier=instance.tier,
            activation_policy="NEVER" if instance.stopped else "ALWAYS",
            labels=instance.labels,
            master=instance.master,
            created=self.start,
        )

    def _publish(self, instance: CloudSqlInstance, start: datetime, end: datetime) -> None:
        points: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        for hour in _hours(start, end):
            self._add(points, instance, hour, MINUTES, 0)
        self._load(instance, points)

    def _publish_minutes(self, instance: CloudSqlInstance, start: datetime, end: datetime) -> int:
        points: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        minute = start
        while minute < end:
            hour = floor_hour(minute)
            count = min(MINUTES - minute.minute, int((end - minute).total_seconds()) // 60)
            self._add(points, instance, hour, count, minute.minute)
            minute += timedelta(minutes=count)
        self._load(instance, points)
        return sum(len(times) for times, _ in points.values())

    def _add(
        self,
        points: dict[tuple[str, str], tuple[list[int], list[float]]],
        instance: CloudSqlInstance,
        hour: datetime,
        count: int,
        first: int,
    ) -> None:
        # a sample is stamped at the end of its minute, as Cloud SQL stamps them
        base = epoch(hour) + (first + 1) * MINUTE_SECONDS
        times = list(range(base, base + count * MINUTE_SECONDS, MINUTE_SECONDS))
        stats = hour_stats(instance.twin, hour)
        for key, values in _series_minutes(instance, stats, count, first).items():
            held = points.setdefault(key, ([], []))
            held[0].extend(times)
            held[1].extend(values)

    def _load(
        self,
        instance: CloudSqlInstance,
        points: dict[tuple[str, str], tuple[list[int], list[float]]],
    ) -> None:
        for (metric, database), (times, values) in points.items():
            self._series(instance, metric, database).extend(times, values)

    def _series(self, instance: CloudSqlInstance, metric: str, database: str) -> Series:
        labels = {"database": database} if database else None
        return self.fake.instance_series(PROJECT, instance.name, CLOUDSQL + metric, labels)
