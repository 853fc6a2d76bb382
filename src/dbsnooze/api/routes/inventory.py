"""Discovery on demand and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from dbsnooze.api.deps import ActorDep, ContextDep, SessionDep
from dbsnooze.api.openapi import errors
from dbsnooze.api.params import IdFilter, Offset, Text
from dbsnooze.api.schemas import EventPublic, Page
from dbsnooze.discovery import discover
from dbsnooze.store import events

router = APIRouter(tags=["inventory"])


@router.post("/discover", responses=errors(404))
def run_discovery(ctx: ContextDep, who: ActorDep, account: IdFilter = None) -> dict[str, Any]:
    return discover(ctx, who, account).as_dict()


@router.get("/events")
def list_events(
    session: SessionDep,
    action: Text = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> Page[EventPublic]:
    rows, total = events.page(session, limit, offset, action)
    data = [EventPublic.model_validate(row, from_attributes=True) for row in rows]
    return Page(data=data, count=total, limit=limit, offset=offset)
