"""Database instances: filtered, paged listing and one instance."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dbsnooze.api.deps import SessionDep
from dbsnooze.api.schemas import InstancePublic, Page
from dbsnooze.errors import NotFound
from dbsnooze.store import instances as instance_store
from dbsnooze.store.tables import InstanceRow

router = APIRouter(prefix="/instances", tags=["instances"])

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
]


def public(row: InstanceRow) -> InstancePublic:
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
    )


@router.get("")
def list_instances(
    session: SessionDep,
    provider: Literal["aws", "gcp"] | None = None,
    account: Annotated[int | None, Query(ge=1)] = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=64)] = None,
    engine: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=255, description="name contains")] = None,
    include_deleted: bool = False,
    sort: SortKey = "name",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[InstancePublic]:
    flt = instance_store.InstanceFilter(
        provider=provider,
        account_id=account,
        region=region,
        status=status,
        engine=engine,
        q=q,
        include_deleted=include_deleted,
    )
    rows, total = instance_store.page(session, flt, limit, offset, sort)
    return Page(data=[public(r) for r in rows], count=total, limit=limit, offset=offset)


@router.get("/{instance_id}")
def get_instance(instance_id: int, session: SessionDep) -> InstancePublic:
    row = instance_store.get(session, instance_id)
    if row is None:
        raise NotFound("instance_not_found", f"no instance with id {instance_id}")
    return public(row)
