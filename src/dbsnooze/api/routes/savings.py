"""Savings realized (SPEC §11): what schedules saved, per instance and for the fleet."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from dbsnooze.api.deps import ContextDep, SessionDep
from dbsnooze.schedules import savings

router = APIRouter(tags=["schedules"])
MAX_DAYS = 455


class RealizedPublic(BaseModel):
    instance_id: int
    instance: str
    hours: float
    usd: float | None
    usd_per_hour: float | None
    predicted_hours_month: float | None
    predicted_usd_month: float | None


class SavingsPage(BaseModel):
    start: datetime
    end: datetime
    days: int
    hours: float  # instance-hours asleep because of a schedule, all instances
    usd: float  # the priced part of those hours
    unpriced_hours: float
    predicted_usd_month: float  # what the recommendations of these instances predicted
    data: list[RealizedPublic]
    count: int


@router.get("/savings")
def realized_savings(
    ctx: ContextDep,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="the period, days to now")] = 30,
) -> SavingsPage:
    """Hours asleep because a schedule stopped the instance, priced, beside the prediction."""
    found = savings.realized(session, ctx.clock(), days)
    items = [RealizedPublic(**asdict(r)) for r in found.instances]
    return SavingsPage(
        start=found.start,
        end=found.end,
        days=days,
        hours=found.hours,
        usd=found.usd,
        unpriced_hours=found.unpriced_hours,
        predicted_usd_month=found.predicted_usd_month,
        data=items,
        count=len(items),
    )
