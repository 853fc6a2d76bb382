"""SQLAlchemy 2 tables. Schema changes go through Alembic migrations, never create_all."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dbsnooze.store.types import NumberList, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


# SQLite reuses the highest id after a delete unless a table says AUTOINCREMENT: ids of things
# the audit log names are never handed out twice (PostgreSQL sequences never reuse them).
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class AccountRow(Base):
    __tablename__ = "cloud_accounts"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), unique=True)
    auth_method: Mapped[str] = mapped_column(String(32))
    auth_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    secret_hint: Mapped[str | None] = mapped_column(String(64))
    regions: Mapped[list[str]] = mapped_column(JSON)
    # GCP: the projects scanned (an AWS account scans its regions)
    projects: Mapped[list[str]] = mapped_column(JSON, default=list)
    endpoint_url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_tested_at: Mapped[datetime | None]
    last_test_error: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str | None] = mapped_column(String(64))  # owners' default zone (SPEC §10)


def _region_of_row(context: Any) -> Any:
    return context.get_current_parameters()["region"]


class InstanceRow(Base):
    __tablename__ = "instances"
    __table_args__ = (
        # a cluster and an instance may share a name: RDS keeps them apart
        UniqueConstraint(
            "account_id", "region", "unit", "provider_id", name="uq_instances_identity"
        ),
        Index("ix_instances_status", "status"),
        Index("ix_instances_scan_unit", "account_id", "scan_unit"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cloud_accounts.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(64))
    # what discovery scans and syncs as one: an AWS region (the default), a GCP project
    scan_unit: Mapped[str] = mapped_column(String(64), default=_region_of_row)
    provider_id: Mapped[str] = mapped_column(String(255))
    arn: Mapped[str | None] = mapped_column(String(512))
    engine: Mapped[str] = mapped_column(String(64))
    engine_version: Mapped[str] = mapped_column(String(64))
    instance_class: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(64))
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    replica: Mapped[bool] = mapped_column(default=False)
    cloud_created_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
    # what decides whether it can be stopped (SPEC §11)
    multi_az: Mapped[bool] = mapped_column(default=False)
    replica_source: Mapped[str | None] = mapped_column(String(255))  # "" = source unknown
    read_replicas: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    cluster_id: Mapped[str | None] = mapped_column(String(255))
    # "instance", or "cluster": a DB cluster, the scheduled unit of Aurora, with no metric
    # history of its own (its members have it); see domain.Unit
    unit: Mapped[str] = mapped_column(String(16), default="instance", server_default="instance")
    members: Mapped[list[str] | None] = mapped_column(JSON, default=list)  # a cluster's
    engine_mode: Mapped[str | None] = mapped_column(String(32))  # serverless = Serverless v1
    global_cluster: Mapped[str | None] = mapped_column(String(255))


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_at", "at"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SampleRow(Base):
    """One hour of one metric of one instance: the cloud's raw hourly statistics."""

    __tablename__ = "metric_samples"
    # No foreign key: checking one per upserted row cost PostgreSQL half of the write. An
    # account's deletion deletes its instances' samples (store.retention.forget_instances).
    __table_args__ = (
        # Provisional rows are a few live hours among millions: this index holds only them, so
        # finding what to fetch again costs next to nothing (see store/samples.py).
        Index(
            "ix_metric_samples_provisional",
            "hour",
            sqlite_where=text("final = 0"),
            postgresql_where=text("NOT final"),
        ),
        {"sqlite_with_rowid": False},
    )

    instance_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    average: Mapped[float]
    maximum: Mapped[float]
    minimum: Mapped[float]
    sample_count: Mapped[float]
    source: Mapped[str] = mapped_column(String(8))  # live | backfill | asleep
    fetched_at: Mapped[datetime]
    final: Mapped[bool] = mapped_column(default=True)  # fetched after the hour was final


class EmptyHourRow(Base):
    """The cloud was asked for this metric-hour and had nothing: not asked again unless forced."""

    __tablename__ = "empty_hours"
    __table_args__ = ({"sqlite_with_rowid": False},)  # no foreign key, as for samples

    instance_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    checked_at: Mapped[datetime]


class SummaryRow(Base):
    """What the fleet page shows of one instance, kept by store.summaries as samples are written."""

    __tablename__ = "instance_summaries"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    newest_hour: Mapped[datetime | None]  # the newest hour with a sample or an empty marker
    oldest_sample_hour: Mapped[datetime | None]
    last_active_hour: Mapped[datetime | None]
    idle_hours: Mapped[int] = mapped_column(Integer, default=0)
    awake_hours: Mapped[int] = mapped_column(Integer, default=0)
    idle_share: Mapped[float | None]
    hour_flags: Mapped[list[int]] = mapped_column(NumberList)
    cpu_averages: Mapped[list[float | None]] = mapped_column(NumberList)


class IdleThresholdRow(Base):
    """The idle rule as it applies to one instance (analysis.idle.thresholds_for), stored by the
    analysis runner so that the summaries classify hours as the analysis does."""

    __tablename__ = "idle_thresholds"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    cpu_percent: Mapped[float]
    iops: Mapped[float]
    connection_floor: Mapped[float]  # learned from the instance's history, or its tag
    connections_margin: Mapped[float]
    uses_iops: Mapped[bool]


class JobRow(Base):
    """A persisted unit of background work (a backfill of one or many instances)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state", "state", "id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # a job outlives its instance (deleted with its account): it is cancelled, not erased
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16))
    days_requested: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[int] = mapped_column(Integer, default=0)
    capped: Mapped[bool] = mapped_column(default=False)
    hours_total: Mapped[int] = mapped_column(Integer, default=0)
    hours_skipped: Mapped[int] = mapped_column(Integer, default=0)
    hours_backfilled: Mapped[int] = mapped_column(Integer, default=0)
    hours_empty: Mapped[int] = mapped_column(Integer, default=0)
    hours_refetched: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(default=0.0)  # share of the planned work answered
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(128), default="system")
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]


class JobTargetRow(Base):
    """The instances a job works on; `active` is unique per instance, so one backfill at a time."""

    __tablename__ = "job_targets"
    __table_args__ = (
        Index(
            "uq_job_targets_active_instance",
            "instance_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    active: Mapped[bool] = mapped_column(default=True)


class LeaseRow(Base):
    """A named piece of periodic work (e.g. the collector tick) held by one worker at a time."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class PriceRow(Base):
    """The on-demand price of an instance class, USD per hour; `source`: csv | aws | demo."""

    __tablename__ = "prices"

    instance_class: Mapped[str] = mapped_column(String(64), primary_key=True)
    engine: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    deployment: Mapped[str] = mapped_column(String(16), primary_key=True)  # single-az | multi-az
    usd_per_hour: Mapped[float]
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class RecommendationRow(Base):
    """An instance's latest sleep recommendation; one per instance, recomputed in place."""

    __tablename__ = "recommendations"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), unique=True
    )
    computed_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    timezone_source: Mapped[str] = mapped_column(String(16))
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    windows_key: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float]
    hours_per_week: Mapped[float]
    saving_hours_month: Mapped[float]
    usd_per_hour: Mapped[float | None]
    price_source: Mapped[str | None] = mapped_column(String(16))
    saving_usd_month: Mapped[float | None]
    backtest: Mapped[dict[str, Any]] = mapped_column(JSON)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # matrix, thresholds, eligibility
    dismissed_key: Mapped[str | None] = mapped_column(Text)
    dismissed_at: Mapped[datetime | None]
    dismissed_by: Mapped[str | None] = mapped_column(String(128))
    applied_key: Mapped[str | None] = mapped_column(Text)
    applied_windows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    applied_at: Mapped[datetime | None]
    applied_by: Mapped[str | None] = mapped_column(String(128))


class ScheduleRow(Base):
    """A schedule (SPEC §11): its rules (`schedules.spec` values as JSON), its flags and the
    selector that assigns it; explicit assignments are `schedule_assignments` rows."""

    __tablename__ = "schedules"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # days, sleep, wake, span_days
    sleep_cron: Mapped[str | None] = mapped_column(String(128))
    wake_cron: Mapped[str | None] = mapped_column(String(128))
    skip_dates: Mapped[list[str]] = mapped_column(JSON)  # ISO local dates
    holidays_country: Mapped[str | None] = mapped_column(String(16))
    holidays_subdivision: Mapped[str | None] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(default=True)
    dry_run: Mapped[bool] = mapped_column(default=True)
    enforce: Mapped[bool] = mapped_column(default=False)
    guard_grace_minutes: Mapped[int] = mapped_column(Integer, default=30)
    selector: Mapped[dict[str, Any]] = mapped_column(JSON)  # tags, name_pattern, account_id, ...
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime]
    # the instance whose applied sleep recommendation made it (migration 0012)
    origin_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("instances.id", ondelete="SET NULL"), index=True
    )


class ScheduleAssignmentRow(Base):
    """An instance given to a schedule by name (one schedule per instance)."""

    __tablename__ = "schedule_assignments"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )


class ActionRow(Base):
    """One stop or start the reconciler decided on (SPEC §11), from plan to outcome.

    At most one action per instance is open (planned or in flight): the partial unique index is
    the claim that keeps two workers from acting on one instance. A skipped, dry-run or failed
    action may hold its instance: no new action of its kind from the same source until
    `holds_until`. A done stop followed by the next done start is time asleep because of it.
    """

    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_instance", "instance_id", "id"),
        Index("ix_actions_schedule", "schedule_id", "id"),
        Index(
            "uq_actions_open_instance",
            "instance_id",
            unique=True,
            sqlite_where=text("state IN ('planned', 'in_flight')"),
            postgresql_where=text("state IN ('planned', 'in_flight')"),
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    unit: Mapped[str] = mapped_column(String(16))  # instance | cluster
    kind: Mapped[str] = mapped_column(String(8))  # stop | start
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))  # schedule:<id> | user:<name>
    schedule_id: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    holds_until: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]


class OverrideRow(Base):
    """A person's "keep awake" or "keep asleep" for one instance until a time."""

    __tablename__ = "overrides"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(8))  # awake | asleep
    until: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
