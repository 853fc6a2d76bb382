"""Facts about the metrics dbsnooze keeps: CloudWatch names, units, and instance-class memory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NAMESPACE = "AWS/RDS"
DIMENSION = "DBInstanceIdentifier"
STATISTICS = ("Average", "Maximum", "Minimum", "SampleCount")
GIB = 1024**3


@dataclass(frozen=True, slots=True)
class MetricSpec:
    key: str
    cloudwatch_name: str
    unit: str
    label: str


METRICS: dict[str, MetricSpec] = {
    spec.key: spec
    for spec in (
        MetricSpec("cpu", "CPUUtilization", "Percent", "CPU %"),
        MetricSpec("connections", "DatabaseConnections", "Count", "Connections"),
        MetricSpec("freeable_memory", "FreeableMemory", "Bytes", "Freeable memory"),
        MetricSpec("read_iops", "ReadIOPS", "Count/Second", "Read IOPS"),
        MetricSpec("write_iops", "WriteIOPS", "Count/Second", "Write IOPS"),
    )
}

MEMORY_USED_PERCENT = "memory_used_percent"
# What a provider stores for a configured metric, where it differs: Cloud SQL reports memory
# used as a fraction, so GCP instances store memory used % where RDS instances store
# FreeableMemory bytes (whose percent is derived when read).
PROVIDER_KEYS: dict[str, dict[str, str]] = {"gcp": {"freeable_memory": MEMORY_USED_PERCENT}}
UNITS: dict[str, str] = {
    **{key: spec.unit for key, spec in METRICS.items()},
    MEMORY_USED_PERCENT: "Percent",
}


def stored_metrics(provider: str, configured: Iterable[str]) -> tuple[str, ...]:
    """The metric keys an instance of this provider stores for the configured metrics."""
    renamed = PROVIDER_KEYS.get(provider, {})
    return tuple(dict.fromkeys(renamed.get(metric, metric) for metric in configured))


# RAM per RDS instance class, GiB (from the AWS instance-class tables).
_CLASS_RAM_GIB: dict[str, float] = {
    "db.t3.micro": 1, "db.t3.small": 2, "db.t3.medium": 4, "db.t3.large": 8,
    "db.t3.xlarge": 16, "db.t3.2xlarge": 32,
    "db.t4g.micro": 1, "db.t4g.small": 2, "db.t4g.medium": 4, "db.t4g.large": 8,
    "db.t4g.xlarge": 16, "db.t4g.2xlarge": 32,
    "db.m5.large": 8, "db.m5.xlarge": 16, "db.m5.2xlarge": 32, "db.m5.4xlarge": 64,
    "db.m5.8xlarge": 128, "db.m5.12xlarge": 192, "db.m5.16xlarge": 256, "db.m5.24xlarge": 384,
    "db.m6g.large": 8, "db.m6g.xlarge": 16, "db.m6g.2xlarge": 32, "db.m6g.4xlarge": 64,
    "db.m6g.8xlarge": 128, "db.m6g.12xlarge": 192, "db.m6g.16xlarge": 256,
    "db.m6i.large": 8, "db.m6i.xlarge": 16, "db.m6i.2xlarge": 32, "db.m6i.4xlarge": 64,
    "db.m7g.large": 8, "db.m7g.xlarge": 16, "db.m7g.2xlarge": 32, "db.m7g.4xlarge": 64,
    "db.r5.large": 16, "db.r5.xlarge": 32, "db.r5.2xlarge": 64, "db.r5.4xlarge": 128,
    "db.r5.8xlarge": 256, "db.r5.12xlarge": 384, "db.r5.16xlarge": 512, "db.r5.24xlarge": 768,
    "db.r6g.large": 16, "db.r6g.xlarge": 32, "db.r6g.2xlarge": 64, "db.r6g.4xlarge": 128,
    "db.r6g.8xlarge": 256, "db.r6g.12xlarge": 384, "db.r6g.16xlarge": 512,
    "db.r6i.large": 16, "db.r6i.xlarge": 32, "db.r6i.2xlarge": 64, "db.r6i.4xlarge": 128,
    "db.r7g.large": 16, "db.r7g.xlarge": 32, "db.r7g.2xlarge": 64, "db.r7g.4xlarge": 128,
}  # fmt: skip
CLASS_RAM_BYTES: dict[str, int] = {name: int(gib * GIB) for name, gib in _CLASS_RAM_GIB.items()}


def memory_used_percent(freeable_bytes: float | None, instance_class: str) -> float | None:
    """Memory used % from FreeableMemory; None for an unknown class, never a guess."""
    return memory_used_percents([freeable_bytes], instance_class)[0]


def memory_used_percents(
    freeable: Sequence[float | None], instance_class: str
) -> list[float | None]:
    """`memory_used_percent` of a whole series, with the class's RAM looked up once."""
    ram = CLASS_RAM_BYTES.get(instance_class)
    if ram is None:
        return [None] * len(freeable)
    return [
        None if v is None else round(max(0.0, min(100.0, 100.0 * (1 - v / ram))), 3)
        for v in freeable
    ]
