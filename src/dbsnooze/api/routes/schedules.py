"""Schedules: CRUD, explicit assignment and the preview of their next transitions (SPEC §11)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Response, status

from dbsnooze.api import schedule_view
from dbsnooze.api.deps import ActorDep, ContextDep, SessionDep
from dbsnooze.api.openapi import errors
from dbsnooze.api.params import Days, Id
from dbsnooze.api.schedule_schemas import (
    AssignResult,
    InstanceIdsIn,
    PreviewPublic,
    ScheduleCreate,
    SchedulePage,
    SchedulePublic,
    ScheduleUpdate,
    SelectorIn,
)
from dbsnooze.schedules import service
from dbsnooze.schedules.spec import ScheduleSpec
from dbsnooze.store import schedules as store
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Selector, Settings

router = APIRouter(prefix="/schedules", tags=["schedules"])
ONE = "/{schedule_id}"


@router.get("")
def list_schedules(ctx: ContextDep, session: SessionDep) -> SchedulePage:
    now = ctx.clock()
    data = [
        schedule_view.schedule(row, store.explicit_instances(session, row.id), now)
        for row in store.listing(session)
    ]
    return SchedulePage(data=data, count=len(data))


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors(400, 404, 409))
def create_schedule(
    body: ScheduleCreate, ctx: ContextDep, who: ActorDep, response: Response
) -> SchedulePublic:
    """A new schedule (dry run unless `dry_run` is false); `instance_ids` are assigned to it."""
    spec = schedule_view.spec_in(
        body.timezone,
        body.windows,
        body.sleep_cron,
        body.wake_cron,
        body.skip_dates,
        body.holidays_country,
        body.holidays_subdivision,
    )
    settings = Settings(
        spec=spec,
        enabled=body.enabled,
        dry_run=body.dry_run,
        enforce=body.enforce,
        grace_minutes=body.guard_grace_minutes,
        selector=Selector(**body.selector.model_dump()),
    )
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        row = service.create(session, body.name, settings, who, now, body.instance_ids)
        answer = schedule_view.schedule(row, store.explicit_instances(session, row.id), now)
    response.headers["Location"] = f"/api/v1/schedules/{answer.id}"
    return answer


@router.get(ONE, responses=errors(404))
def get_schedule(schedule_id: Id, ctx: ContextDep, session: SessionDep) -> SchedulePublic:
    row = store.require(session, schedule_id)
    return schedule_view.schedule(row, store.explicit_instances(session, row.id), ctx.clock())


@router.patch(ONE, responses=errors(400, 404, 409))
def update_schedule(
    schedule_id: Id, body: ScheduleUpdate, ctx: ContextDep, who: ActorDep
) -> SchedulePublic:
    """Change only the fields sent (a rule sent as null is cleared)."""
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        row = store.require(session, schedule_id)
        changes = _changes(body, store.settings_of(row))
        service.update(session, schedule_id, who, now, body.instance_ids, **changes)
        return schedule_view.schedule(row, store.explicit_instances(session, row.id), now)


@router.delete(ONE, status_code=status.HTTP_204_NO_CONTENT, responses=errors(404))
def delete_schedule(schedule_id: Id, ctx: ContextDep, who: ActorDep) -> Response:
    with transaction(ctx.sessions) as session:
        service.delete(session, schedule_id, who, ctx.clock())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(ONE + "/preview", responses=errors(404))
def preview_schedule(
    schedule_id: Id, ctx: ContextDep, session: SessionDep, days: Days = None
) -> PreviewPublic:
    """The next `days` (default 7, at most 14) of transitions on the schedule's clock, per
    instance it claims; opted-out and conflicted instances with their reason."""
    found = service.preview(session, schedule_id, ctx.clock(), days or 7)
    return schedule_view.preview(found)


@router.post(ONE + "/instances", responses=errors(400, 404, 409))
def assign_instances(
    schedule_id: Id, body: InstanceIdsIn, ctx: ContextDep, who: ActorDep
) -> AssignResult:
    """Assign instances explicitly (an instance with another schedule is a 409 naming it)."""
    with transaction(ctx.sessions) as session:
        added = service.assign(session, schedule_id, body.instance_ids, who, ctx.clock())
        return AssignResult(
            schedule_id=schedule_id,
            changed=added,
            instance_ids=store.explicit_instances(session, schedule_id),
        )


@router.delete(ONE + "/instances/{instance_id}", responses=errors(404))
def unassign_instance(
    schedule_id: Id, instance_id: Id, ctx: ContextDep, who: ActorDep
) -> AssignResult:
    with transaction(ctx.sessions) as session:
        removed = service.unassign(session, schedule_id, [instance_id], who, ctx.clock())
        return AssignResult(
            schedule_id=schedule_id,
            changed=removed,
            instance_ids=store.explicit_instances(session, schedule_id),
        )


def _changes(body: ScheduleUpdate, current: Settings) -> dict[str, Any]:
    """`store.update`'s keyword arguments for the fields the client sent."""
    sent = body.model_fields_set
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["name"] = body.name
    spec = _spec_changes(body, current.spec)
    if spec != current.spec:
        changes["spec"] = spec
    for field in ("enabled", "dry_run", "enforce"):
        if getattr(body, field) is not None:
            changes[field] = getattr(body, field)
    if body.guard_grace_minutes is not None:
        changes["grace_minutes"] = body.guard_grace_minutes
    if "selector" in sent:
        changes["selector"] = Selector(**(body.selector or SelectorIn()).model_dump())
    return changes


def _spec_changes(body: ScheduleUpdate, spec: ScheduleSpec) -> ScheduleSpec:
    sent = body.model_fields_set
    values: dict[str, Any] = {
        field: getattr(body, field) or None
        for field in ("sleep_cron", "wake_cron", "holidays_country", "holidays_subdivision")
        if field in sent
    }
    if body.timezone is not None:
        values["timezone"] = body.timezone
    if "windows" in sent:
        values["windows"] = tuple(schedule_view.window_in(w) for w in body.windows or [])
    if "skip_dates" in sent:
        values["skip_dates"] = tuple(sorted(set(body.skip_dates or [])))
    return replace(spec, **values)
