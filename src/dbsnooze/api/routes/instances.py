"""Database instances: filtered, paged listing and one instance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dbsnooze.analysis import service
from dbsnooze.analysis.eligibility import why_not_stoppable
from dbsnooze.api.deps import ContextDep, SessionDep
from dbsnooze.api.openapi import errors
from dbsnooze.api.params import Id, IdFilter, NameContains, Offset, Text
from dbsnooze.api.schemas import InstancePublic, MemberPublic, Page
from dbsnooze.config import HARD_MAX_BACKFILL_DAYS
from dbsnooze.domain import Unit
from dbsnooze.store import instances as instance_store
from dbsnooze.store import summaries
from dbsnooze.store.tables import InstanceRow

router = APIRouter(prefix="/instances", tags=["instances"])
INACTIVE_HELP = "only instances with history and no active hour in the last N days"
IDLE_HELP = "only instances idle at least this share (%) of their last 7 stored days' awake hours"

SortKey = Literal[
    "name",
    "-name",
    "status",
    "-status",
    "engine",
    "-engine",
    "class",
    "-class",
    "region",
    "-region",
    "account",
    "-account",
    "first_seen",
    "-first_seen",
    "last_active",
    "-last_active",
    "idle",
    "-idle",
]


def public(
    row: InstanceRow,
    summary: summaries.Summary | None = None,
    stored_members: Sequence[InstanceRow] = (),
) -> InstancePublic:
    return InstancePublic(
        id=row.id,
        account_id=row.account_id,
        provider=row.provider,
        region=row.region,
        name=row.provider_id,
        arn=row.arn,
        engine=row.engine,
        engine_version=row.engine_version,
        instance_class=row.instance_class,
        status=row.status,
        replica=row.replica,
        tags=row.tags,
        cloud_created_at=row.cloud_created_at,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        deleted=row.deleted_at is not None,
        deleted_at=row.deleted_at,
        last_active_at=summary.last_active_hour if summary else None,
        idle_share=summary.idle_share if summary else None,
        unit=Unit(row.unit).value,
        cluster_id=row.cluster_id,
        engine_mode=row.engine_mode,
        members=_members(row, stored_members),
        cannot_stop=why_not_stoppable(service.stop_facts(row)),
    )


def _members(cluster: InstanceRow, stored: Sequence[InstanceRow]) -> list[MemberPublic]:
    """The members the cloud lists for a cluster, with what discovery stored of each."""
    found = {row.provider_id: row for row in stored}
    return [
        MemberPublic(name=name, id=row.id, status=row.status, instance_class=row.instance_class)
        if (row := found.get(name)) is not None
        else MemberPublic(name=name)
        for name in cluster.members or ()
    ]


@router.get("")
def list_instances(
    session: SessionDep,
    ctx: ContextDep,
    provider: Literal["aws", "gcp"] | None = None,
    account: IdFilter = None,
    region: Text = None,
    status: Text = None,
    engine: Text = None,
    q: NameContains = None,
    include_deleted: bool = False,
    inactive_days: Annotated[
        int | None, Query(ge=1, le=HARD_MAX_BACKFILL_DAYS, description=INACTIVE_HELP)
    ] = None,
    min_idle_percent: Annotated[int | None, Query(ge=0, le=100, description=IDLE_HELP)] = None,
    sort: SortKey = "name",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> Page[InstancePublic]:
    now = ctx.clock()
    flt = instance_store.InstanceFilter(
        provider=provider,
        account_id=account,
        region=region,
        status=status,
        engine=engine,
        q=q,
        include_deleted=include_deleted,
        inactive_since=now - timedelta(days=inactive_days) if inactive_days else None,
        min_idle_share=None if min_idle_percent is None else min_idle_percent / 100,
    )
    rows, total = instance_store.page(session, flt, limit, offset, sort)
    found = summaries.read(session.connection(), [r.id for r in rows])
    members = instance_store.members_by_cluster(session, rows)
    data = [public(r, found.get(r.id), members.get(r.id, ())) for r in rows]
    return Page(data=data, count=total, limit=limit, offset=offset)


@router.get("/{instance_id}", responses=errors(404))
def get_instance(instance_id: Id, session: SessionDep) -> InstancePublic:
    row = instance_store.require(session, instance_id)
    summary = summaries.read(session.connection(), [row.id]).get(row.id)
    return public(row, summary, instance_store.members_by_cluster(session, [row]).get(row.id, ()))
