"""The reconciler's actions, overrides, and an instance's schedule panel (SPEC §11)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from dbsnooze.api.action_schemas import (
    ActionPage,
    ActionPublic,
    OverrideCreate,
    OverridePublic,
    OverrideResult,
    SchedulePanel,
)
from dbsnooze.api.deps import ActorDep, ContextDep, SessionDep
from dbsnooze.api.openapi import errors
from dbsnooze.api.params import Id, IdFilter, Offset
from dbsnooze.context import Context
from dbsnooze.errors import NotFound
from dbsnooze.schedules import overriding, reconcile
from dbsnooze.store import actions, overrides
from dbsnooze.store import instances as instance_store
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import ActionRow

router = APIRouter(tags=["schedules"])

StateParam = Literal["planned", "dry_run", "in_flight", "done", "failed", "skipped"]
OVERRIDE = "/instances/{instance_id}/override"


@router.get("/actions")
def list_actions(
    session: SessionDep,
    instance_id: IdFilter = None,
    schedule_id: IdFilter = None,
    state: StateParam | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> ActionPage:
    """Newest first: every stop and start the reconciler decided, and what came of it."""
    where = actions.ActionFilter(instance_id, schedule_id, state)
    rows, total = actions.page(session, where, limit, offset)
    return ActionPage(data=[action_public(row) for row in rows], count=total)


@router.post(OVERRIDE, responses=errors(400, 404))
async def put_override(
    instance_id: Id, body: OverrideCreate, ctx: ContextDep, who: ActorDep
) -> OverrideResult:
    """Keep it awake or asleep until a time; the reconciler acts on it at once."""
    return await run_in_threadpool(_override_now, ctx, instance_id, body, f"user:{who}")


@router.delete(OVERRIDE, responses=errors(404), status_code=204)
def clear_override(instance_id: Id, ctx: ContextDep, who: ActorDep) -> None:
    """End the override now: the schedule decides again from the next pass."""
    with transaction(ctx.sessions) as session:
        instance_store.require(session, instance_id)
        if not overrides.clear(session, instance_id, f"user:{who}", ctx.clock()):
            raise NotFound("override_not_found", f"instance {instance_id} has no override")


@router.get("/instances/{instance_id}/schedule", responses=errors(404))
def schedule_panel(instance_id: Id, ctx: ContextDep, session: SessionDep) -> SchedulePanel:
    """Its schedule, override, next change and latest action, for the instance page."""
    instance_store.require(session, instance_id)
    found = overriding.panel(session, instance_id, ctx.clock())
    schedule = found.schedule
    return SchedulePanel(
        schedule_id=schedule.schedule_id if schedule else None,
        schedule_name=schedule.name if schedule else None,
        dry_run=(schedule.dry_run or ctx.settings.dry_run) if schedule else None,
        enforce=schedule.enforce if schedule else None,
        override=override_public(found.override) if found.override else None,
        asleep_wanted=found.asleep_wanted,
        next_change=found.next_change,
        next_kind=found.next_kind,
        latest=action_public(found.latest) if found.latest else None,
    )


def _override_now(ctx: Context, instance_id: int, body: OverrideCreate, who: str) -> OverrideResult:
    until = _utc(body.until)
    duration = overriding.parse_duration(body.duration) if body.duration else None
    with transaction(ctx.sessions) as session:
        instance_store.require(session, instance_id)
        override, why = overriding.put(
            session, instance_id, body.state == "asleep", who, ctx.clock(), until, duration
        )
    report = reconcile.run_pass(ctx, who, only=[instance_id])
    outcome = next((o for o in report.outcomes if o.instance_id == instance_id), None)
    return OverrideResult(
        override=override_public(override),
        why_until=why,
        outcome=outcome.result if outcome else None,
        reason=outcome.reason if outcome else "; ".join(report.errors) or None,
    )


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def action_public(row: ActionRow) -> ActionPublic:
    return ActionPublic.model_validate(row, from_attributes=True)


def override_public(found: overrides.Override) -> OverridePublic:
    return OverridePublic(
        instance_id=found.instance_id,
        state=found.state,
        until=found.until,
        created_by=found.created_by,
        created_at=found.created_at,
    )
