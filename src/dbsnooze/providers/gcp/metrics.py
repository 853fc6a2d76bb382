"""Facts as data: which Cloud Monitoring metric and aggregation gives each dbsnooze statistic.

Every statistic of an hour is one timeSeries.list aligned over 3600 s. CPU and memory are
fractions in Monitoring and percent in dbsnooze (x100). PostgreSQL reports connections per
database (num_backends), so they are summed per instance across series with REDUCE_SUM (and the
sample count is the most any database had, REDUCE_MAX: minutes sampled, not points added up).
Disk operations are DELTA counts per 60-s sample: the average is ALIGN_RATE (operations per
second over the hour, like CloudWatch's IOPS); the hour's busiest and quietest minute are its
largest and smallest 60-s count divided by 60.
"""

from __future__ import annotations

from dataclasses import dataclass

CLOUDSQL = "cloudsql.googleapis.com/database/"
RESOURCE_TYPE = "cloudsql_database"
INSTANCE_LABEL = "resource.label.database_id"  # "project:instance"
PERIOD = "3600s"
SAMPLE_SECONDS = 60
STATISTICS = ("average", "maximum", "minimum", "sample_count")


@dataclass(frozen=True, slots=True)
class StatQuery:
    """One statistic of an hour: the aligner (and reducer) that computes it, and a scale."""

    statistic: str  # one of STATISTICS
    aligner: str
    reducer: str | None = None
    scale: float = 1.0


@dataclass(frozen=True, slots=True)
class MetricSource:
    """A Cloud Monitoring metric type and the four queries that read an hour of it."""

    metric_type: str
    queries: tuple[StatQuery, ...]


@dataclass(frozen=True, slots=True)
class GcpMetric:
    """A dbsnooze metric on Cloud SQL; an instance's hours come from the first source with data."""

    key: str
    sources: tuple[MetricSource, ...]


def _gauge(metric: str, scale: float = 1.0) -> MetricSource:
    return MetricSource(
        CLOUDSQL + metric,
        (
            StatQuery("average", "ALIGN_MEAN", scale=scale),
            StatQuery("maximum", "ALIGN_MAX", scale=scale),
            StatQuery("minimum", "ALIGN_MIN", scale=scale),
            StatQuery("sample_count", "ALIGN_COUNT"),
        ),
    )


def _summed(metric: str) -> MetricSource:
    return MetricSource(
        CLOUDSQL + metric,
        (
            StatQuery("average", "ALIGN_MEAN", "REDUCE_SUM"),
            StatQuery("maximum", "ALIGN_MAX", "REDUCE_SUM"),
            StatQuery("minimum", "ALIGN_MIN", "REDUCE_SUM"),
            StatQuery("sample_count", "ALIGN_COUNT", "REDUCE_MAX"),
        ),
    )


def _rate(metric: str) -> MetricSource:
    per_second = 1.0 / SAMPLE_SECONDS
    return MetricSource(
        CLOUDSQL + metric,
        (
            StatQuery("average", "ALIGN_RATE"),
            StatQuery("maximum", "ALIGN_MAX", scale=per_second),
            StatQuery("minimum", "ALIGN_MIN", scale=per_second),
            StatQuery("sample_count", "ALIGN_COUNT"),
        ),
    )


GCP_METRICS: dict[str, GcpMetric] = {
    metric.key: metric
    for metric in (
        GcpMetric("cpu", (_gauge("cpu/utilization", 100.0),)),
        # MySQL and SQL Server publish network/connections; PostgreSQL num_backends per database
        GcpMetric(
            "connections", (_gauge("network/connections"), _summed("postgresql/num_backends"))
        ),
        GcpMetric("memory_used_percent", (_gauge("memory/utilization", 100.0),)),
        GcpMetric("read_iops", (_rate("disk/read_ops_count"),)),
        GcpMetric("write_iops", (_rate("disk/write_ops_count"),)),
    )
}
