"""Queries on database instances: the discovery upsert and the filtered listing."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from dbsnooze.domain import DiscoveredInstance, PowerUnit, Unit
from dbsnooze.errors import NotFound, Unprocessable
from dbsnooze.store.tables import AccountRow, InstanceRow, SummaryRow

DELETED = "deleted"
# Rows with a metric history of their own: instances. A cluster row's history is its members'.
HAS_HISTORY = InstanceRow.unit == Unit.INSTANCE.value


@dataclass(slots=True)
class SyncCounts:
    seen: int = 0
    updated: int = 0
    deleted: int = 0
    new_ids: list[int] = field(default_factory=list)  # new instances (they have history)
    new_clusters: int = 0  # new clusters (they have none of their own)

    @property
    def new(self) -> int:
        return len(self.new_ids) + self.new_clusters


@dataclass(frozen=True, slots=True)
class InstanceFilter:
    provider: str | None = None
    account_id: int | None = None
    region: str | None = None
    status: str | None = None
    engine: str | None = None
    q: str | None = None
    include_deleted: bool = False
    inactive_since: datetime | None = None  # history stored, and no active hour from then on
    min_idle_share: float | None = None  # 0..1, of the awake hours of its last 7 stored days


SORTABLE = {
    "name": InstanceRow.provider_id,
    "status": InstanceRow.status,
    "engine": InstanceRow.engine,
    "class": InstanceRow.instance_class,
    "region": InstanceRow.region,
    "account": InstanceRow.account_id,
    "first_seen": InstanceRow.first_seen_at,
    "last_active": SummaryRow.last_active_hour,
    "idle": SummaryRow.idle_share,
}
ACTIVITY_SORTS = ("last_active", "idle")  # from the summaries; instances without one go last,
# except that ascending last activity puts the never active first: the longest inactive


def sync_region(
    session: Session,
    account: tuple[int, str],
    unit: str,
    found: Iterable[DiscoveredInstance],
    now: datetime,
    unlisted: Collection[Unit] = (),
) -> SyncCounts:
    """Make the stored instances of one account and scan unit match what the cloud listed.

    The scan unit is what one inventory call lists: an AWS region, a GCP project (whose
    instances each sit in their own region). Rows of an `unlisted` kind (the cloud would not
    list them, e.g. clusters without the permission to describe them) are left as they are:
    not listed is not gone.

    Two discoveries at once (two servers, or a run from the API) would both find a new
    instance missing and both insert it, and the second fail on the unique identity: the
    account's row is locked first (on SQLite the database's write lock), so the second
    reads the instances after the first has committed. An account deleted meanwhile syncs
    nothing.
    """
    account_id, provider = account
    if _locked_account(session, account_id) is None:
        return SyncCounts()
    query = select(InstanceRow).where(
        InstanceRow.account_id == account_id, InstanceRow.scan_unit == unit
    )
    if unlisted:
        query = query.where(InstanceRow.unit.not_in([kind.value for kind in unlisted]))
    existing = {(row.unit, row.provider_id): row for row in session.scalars(query)}
    counts = SyncCounts()
    fresh: list[InstanceRow] = []
    for item in found:
        counts.seen += 1
        row = existing.pop((item.unit.value, item.provider_id), None)
        if row is None:
            fresh.append(_new_row((account_id, provider), unit, item, now))
        elif _apply(row, item, now):
            counts.updated += 1
    for row in existing.values():
        if row.deleted_at is None:
            row.deleted_at, row.status = now, DELETED
            counts.deleted += 1
    session.add_all(fresh)
    session.flush()
    counts.new_ids = [row.id for row in fresh if row.unit == Unit.INSTANCE]
    counts.new_clusters = sum(row.unit == Unit.CLUSTER for row in fresh)
    return counts


def _locked_account(session: Session, account_id: int) -> int | None:
    """Lock the account's row until the transaction ends (FOR NO KEY UPDATE: instances may
    still be inserted with a foreign key to it); None when it is gone."""
    query = select(AccountRow.id).where(AccountRow.id == account_id)
    return session.scalar(query.with_for_update(key_share=True))


def _new_row(
    account: tuple[int, str], unit: str, item: DiscoveredInstance, now: datetime
) -> InstanceRow:
    account_id, provider = account
    return InstanceRow(
        account_id=account_id,
        provider=provider,
        region=item.region,
        scan_unit=unit,
        replica=item.replica,
        provider_id=item.provider_id,
        arn=item.arn,
        engine=item.engine,
        engine_version=item.engine_version,
        instance_class=item.instance_class,
        status=item.status,
        tags=dict(item.tags),
        cloud_created_at=item.created_at,
        first_seen_at=now,
        last_seen_at=now,
        deleted_at=None,
        **_stop_facts(item),
    )


def _stop_facts(item: DiscoveredInstance) -> dict[str, Any]:
    """What decides whether the instance can be stopped; "" marks a replica of unknown source."""
    source = item.replica_source or ("" if item.replica else None)
    return {
        "multi_az": item.multi_az,
        "replica_source": source,
        "read_replicas": list(item.read_replicas),
        "cluster_id": item.cluster_id,
        "unit": item.unit.value,
        "members": list(item.members),
        "engine_mode": item.engine_mode,
        "global_cluster": item.global_cluster,
    }


def _apply(row: InstanceRow, item: DiscoveredInstance, now: datetime) -> bool:
    """Copy what the cloud says onto a stored row; True when anything but last_seen changed."""
    values: dict[str, Any] = {
        "arn": item.arn,
        "engine": item.engine,
        "engine_version": item.engine_version,
        "instance_class": item.instance_class,
        "status": item.status,
        "tags": dict(item.tags),
        "replica": item.replica,
        "region": item.region,
        "cloud_created_at": item.created_at,
        "deleted_at": None,
        **_stop_facts(item),
    }
    changed = any(getattr(row, key) != value for key, value in values.items())
    for key, value in values.items():
        setattr(row, key, value)
    row.last_seen_at = now
    return changed


def matching(query: Select[Any], flt: InstanceFilter) -> Select[Any]:
    """`query` narrowed to the instances whose facts and name match the filter."""
    exact = {
        InstanceRow.provider: flt.provider,
        InstanceRow.account_id: flt.account_id,
        InstanceRow.region: flt.region,
        InstanceRow.status: flt.status,
        InstanceRow.engine: flt.engine,
    }
    for column, value in exact.items():
        if value is not None:
            query = query.where(column == value)
    if flt.q:
        query = query.where(InstanceRow.provider_id.ilike(f"%{_escape_like(flt.q)}%", escape="\\"))
    return query


def get(session: Session, instance_id: int) -> InstanceRow | None:
    return session.get(InstanceRow, instance_id)


def require(session: Session, instance_id: int) -> InstanceRow:
    """The instance, or the 404 every caller answers when there is none."""
    row = get(session, instance_id)
    if row is None:
        raise NotFound("instance_not_found", f"no instance with id {instance_id}")
    return row


def power_unit(row: InstanceRow) -> PowerUnit:
    """What a stop or start of this row acts on: its scan unit (AWS region, GCP project) is the
    scope the provider's power calls take; a cluster row is a cluster unit."""
    return PowerUnit(row.scan_unit, row.provider_id, cluster=row.unit == Unit.CLUSTER)


def require_history(session: Session, instance_id: int) -> InstanceRow:
    """The instance, if it has a metric history of its own; a cluster's is its members'."""
    row = require(session, instance_id)
    if row.unit != Unit.INSTANCE:
        members = ", ".join(row.members or ()) or "none listed"
        raise Unprocessable(
            "cluster_has_no_history",
            f"{row.provider_id} is a DB cluster: its history is its members' ({members})",
        )
    return row


def members_by_cluster(
    session: Session, rows: Iterable[InstanceRow]
) -> dict[int, list[InstanceRow]]:
    """The stored member instances of each cluster among `rows` (by the cluster row's id), in
    one query: members are instances of the same account and region naming it."""
    clusters = {
        (row.account_id, row.region, row.provider_id): row.id
        for row in rows
        if row.unit == Unit.CLUSTER
    }
    if not clusters:
        return {}
    query = select(InstanceRow).where(
        HAS_HISTORY,
        InstanceRow.deleted_at.is_(None),
        InstanceRow.cluster_id.in_({name for _, _, name in clusters}),
    )
    found: dict[int, list[InstanceRow]] = {}
    for member in session.scalars(query.order_by(InstanceRow.provider_id)):
        key = (member.account_id, member.region, member.cluster_id or "")
        if key in clusters:
            found.setdefault(clusters[key], []).append(member)
    return found


def filtered(flt: InstanceFilter) -> Select[tuple[InstanceRow]]:
    query = select(InstanceRow).outerjoin(SummaryRow, SummaryRow.instance_id == InstanceRow.id)
    query = matching(query, flt)
    if not flt.include_deleted and flt.status != DELETED:
        query = query.where(InstanceRow.deleted_at.is_(None))
    return _by_activity(query, flt)


def _by_activity(
    query: Select[tuple[InstanceRow]], flt: InstanceFilter
) -> Select[tuple[InstanceRow]]:
    if flt.inactive_since is not None:
        last = SummaryRow.last_active_hour
        query = query.where(
            SummaryRow.oldest_sample_hour.is_not(None),
            or_(last.is_(None), last < flt.inactive_since),
        )
    if flt.min_idle_share is not None:
        query = query.where(SummaryRow.idle_share >= flt.min_idle_share)
    return query


def page(
    session: Session, flt: InstanceFilter, limit: int, offset: int, sort: str = "name"
) -> tuple[list[InstanceRow], int]:
    query = filtered(flt)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    descending, key = sort.startswith("-"), sort.lstrip("-")
    column = SORTABLE[key]
    order = column.desc() if descending else column.asc()
    if key == "last_active" and not descending:
        order = order.nulls_first()
    elif key in ACTIVITY_SORTS:
        order = order.nulls_last()
    rows = session.scalars(query.order_by(order, InstanceRow.id).limit(limit).offset(offset))
    return list(rows), total


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
