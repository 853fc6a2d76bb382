"""Recommendations: one row per instance, recomputed in place; dismissed or applied per windows."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, nulls_last, or_, select
from sqlalchemy.orm import Session

from dbsnooze.store.instances import HAS_HISTORY, InstanceFilter, matching
from dbsnooze.store.tables import InstanceRow, JobRow, JobTargetRow, RecommendationRow


class State(enum.StrEnum):
    OPEN = "open"
    APPLIED = "applied"  # its current windows were accepted
    DISMISSED = "dismissed"  # its current windows were dismissed


def state(row: RecommendationRow) -> State:
    """Dismissal and acceptance hold for the windows they were given for, not for new ones."""
    if row.applied_key is not None and row.applied_key == row.windows_key:
        return State.APPLIED
    if row.dismissed_key is not None and row.dismissed_key == row.windows_key:
        return State.DISMISSED
    return State.OPEN


@dataclass(frozen=True, slots=True)
class RecommendationFilter:
    kind: str | None = None
    state: State | None = None
    account_id: int | None = None
    region: str | None = None
    engine: str | None = None
    q: str | None = None


def save(session: Session, instance_id: int, values: dict[str, Any]) -> RecommendationRow:
    """Insert or update the instance's recommendation (its id stays the same)."""
    row = session.scalar(
        select(RecommendationRow).where(RecommendationRow.instance_id == instance_id)
    )
    if row is None:
        row = RecommendationRow(instance_id=instance_id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    return row


def get(session: Session, recommendation_id: int) -> RecommendationRow | None:
    return session.get(RecommendationRow, recommendation_id)


def of_instance(session: Session, instance_id: int) -> RecommendationRow | None:
    return session.scalar(
        select(RecommendationRow).where(RecommendationRow.instance_id == instance_id)
    )


def _filtered(flt: RecommendationFilter) -> Select[tuple[RecommendationRow, InstanceRow]]:
    query = (
        select(RecommendationRow, InstanceRow)
        .join(InstanceRow, InstanceRow.id == RecommendationRow.instance_id)
        .where(InstanceRow.deleted_at.is_(None))
    )
    if flt.kind is not None:
        query = query.where(RecommendationRow.kind == flt.kind)
    narrowed = InstanceFilter(
        account_id=flt.account_id, region=flt.region, engine=flt.engine, q=flt.q
    )
    return matching(query, narrowed)


def listing(
    session: Session, flt: RecommendationFilter
) -> list[tuple[RecommendationRow, InstanceRow]]:
    """Matching recommendations, biggest saving first (money, then instance-hours)."""
    query = _filtered(flt).order_by(
        nulls_last(RecommendationRow.saving_usd_month.desc()),
        RecommendationRow.saving_hours_month.desc(),
        InstanceRow.provider_id,
    )
    pairs = [(rec, inst) for rec, inst in session.execute(query).tuples()]
    if flt.state is not None:
        pairs = [(rec, inst) for rec, inst in pairs if state(rec) is flt.state]
    return pairs


def stale_instances(session: Session, computed_before: datetime) -> list[int]:
    """Instances with no recommendation, one older than `computed_before`, or one computed
    before a backfill of the instance finished."""
    finished = (
        select(JobTargetRow.instance_id, func.max(JobRow.finished_at).label("finished"))
        .join(JobRow, JobRow.id == JobTargetRow.job_id)
        .where(JobRow.finished_at.is_not(None))
        .group_by(JobTargetRow.instance_id)
        .subquery()
    )
    query = (
        select(InstanceRow.id)
        .outerjoin(RecommendationRow, RecommendationRow.instance_id == InstanceRow.id)
        .outerjoin(finished, finished.c.instance_id == InstanceRow.id)
        .where(InstanceRow.deleted_at.is_(None), HAS_HISTORY)
        .where(
            or_(
                RecommendationRow.id.is_(None),
                RecommendationRow.computed_at < computed_before,
                RecommendationRow.computed_at < finished.c.finished,
            )
        )
        .order_by(InstanceRow.id)
    )
    return list(session.scalars(query))
