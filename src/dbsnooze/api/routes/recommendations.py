"""Sleep recommendations, per-instance analyses and hour classes (SPEC §10)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from dbsnooze import history
from dbsnooze.analysis import decisions, runner, service
from dbsnooze.analysis.eligibility import why_not_stoppable
from dbsnooze.api import sleep_view
from dbsnooze.api.deps import ActorDep, ContextDep, SessionDep
from dbsnooze.api.openapi import errors
from dbsnooze.api.params import Id, IdFilter, Moment, NameContains, Offset, Text
from dbsnooze.api.sleep_schemas import (
    AnalysisPublic,
    HourClassesPublic,
    RecommendationPage,
    RecommendationPublic,
    RecomputeResult,
)
from dbsnooze.errors import NotFound
from dbsnooze.store import instances as instance_store
from dbsnooze.store import recommendations
from dbsnooze.store.db import transaction
from dbsnooze.store.recommendations import RecommendationFilter, State

router = APIRouter(tags=["recommendations"])

KindParam = Literal["sleep", "stop", "none", "not_enough_history", "blocked"]
StateParam = Literal["open", "applied", "dismissed"]
# `:int` in the paths: /recommendations/refresh is not a recommendation id
ONE = "/recommendations/{recommendation_id:int}"


@router.get("/recommendations")
def list_recommendations(
    session: SessionDep,
    kind: KindParam | None = None,
    state: StateParam | None = None,
    account: IdFilter = None,
    region: Text = None,
    engine: Text = None,
    q: NameContains = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> RecommendationPage:
    """Biggest predicted saving first; `total_saving` covers every match, not just this page."""
    flt = RecommendationFilter(
        kind=kind,
        state=State(state) if state else None,
        account_id=account,
        region=region,
        engine=engine,
        q=q,
    )
    items = [
        sleep_view.recommendation(rec, row) for rec, row in recommendations.listing(session, flt)
    ]
    return RecommendationPage(
        data=items[offset : offset + limit],
        count=len(items),
        total_saving=sleep_view.total(items),
    )


@router.get(ONE, responses=errors(404))
def get_recommendation(recommendation_id: Id, session: SessionDep) -> RecommendationPublic:
    rec = recommendations.get(session, recommendation_id)
    if rec is None:
        raise NotFound("recommendation_not_found", f"no recommendation with id {recommendation_id}")
    return sleep_view.recommendation(rec, instance_store.require(session, rec.instance_id))


@router.post("/recommendations/refresh", responses=errors(404))
async def refresh_recommendations(
    ctx: ContextDep,
    instance: IdFilter = None,
) -> RecomputeResult:
    """Recompute now: every instance, or one."""
    ids = [instance] if instance is not None else None
    found = await run_in_threadpool(runner.recompute, ctx, ids)
    if instance is not None and not found.computed:
        raise NotFound("instance_not_found", f"no instance with id {instance}")
    return RecomputeResult(computed=found.computed, kinds=dict(found.kinds))


@router.post(ONE + "/apply", responses=errors(404, 409))
def apply_recommendation(
    recommendation_id: Id, ctx: ContextDep, who: ActorDep
) -> RecommendationPublic:
    """Accept the windows. Until schedules exist (SPEC §11) this records them, audited."""
    with transaction(ctx.sessions) as session:
        rec = decisions.apply(session, recommendation_id, who, ctx.clock())
        return sleep_view.recommendation(rec, instance_store.require(session, rec.instance_id))


@router.post(ONE + "/dismiss", responses=errors(404, 409))
def dismiss_recommendation(
    recommendation_id: Id, ctx: ContextDep, who: ActorDep
) -> RecommendationPublic:
    """Hide it until its windows change."""
    with transaction(ctx.sessions) as session:
        rec = decisions.dismiss(session, recommendation_id, who, ctx.clock())
        return sleep_view.recommendation(rec, instance_store.require(session, rec.instance_id))


@router.get("/instances/{instance_id}/analysis", responses=errors(404))
def instance_analysis(instance_id: Id, ctx: ContextDep, session: SessionDep) -> AnalysisPublic:
    """The analysis as of now: weekly matrix, windows, verdict and backtest."""
    row = instance_store.require(session, instance_id)
    found = service.analyse_rows(session, [row], ctx.settings, ctx.clock())[row.id]
    price = runner.prices_of(session, [row]).get(row.id)
    stored = recommendations.of_instance(session, row.id)
    cannot_stop = why_not_stoppable(service.stop_facts(row))
    return sleep_view.analysis(row.id, found, price, cannot_stop, stored.id if stored else None)


@router.get("/instances/{instance_id}/activity", responses=errors(404))
def instance_activity(
    instance_id: Id,
    ctx: ContextDep,
    session: SessionDep,
    range_: Annotated[Literal["24h", "7d", "30d", "90d"] | None, Query(alias="range")] = None,
    start: Moment = None,
    end: Moment = None,
) -> HourClassesPublic:
    """Each hour's class (active, idle, asleep, unknown), the rule that decided it, and the
    share of it the proposed windows would sleep: what the heatmap draws."""
    row = instance_store.require(session, instance_id)
    window = history.window_for(ctx.clock(), range_, start, end)
    view = service.hour_classes(session, row, window, ctx.settings, ctx.clock())
    return sleep_view.hour_classes(row.id, view)
