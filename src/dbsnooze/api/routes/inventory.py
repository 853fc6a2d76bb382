"""Discovery on demand and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from dbsnooze.api.deps import ActorDep, ContextDep, SessionDep
from dbsnooze.api.schemas import EventPublic, Page
from dbsnooze.discovery import discover
from dbsnooze.store import events

router = APIRouter(tags=["inventory"])


@router.post("/discover")
def run_discovery(
    ctx: ContextDep, who: ActorDep, account: Annotated[int | None, Query(ge=1)] = None
) -> dict[str, Any]:
    return discover(ctx, who, account).as_dict()


@router.get("/events")
def list_events(
    session: SessionDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[EventPublic]:
    rows, total = events.page(session, limit, offset, action)
    data = [EventPublic.model_validate(row, from_attributes=True) for row in rows]
    return Page(data=data, count=total, limit=limit, offset=offset)
