"""What a person decides about a recommendation: apply it or dismiss it, each audited.

Applying records the accepted windows and makes a schedule of them (SPEC §11: "sleep:
<instance>", dry run, assigned to the instance; updated when applied again); a dismissal holds
until the recommendation's windows change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dbsnooze.analysis.recommend import Kind
from dbsnooze.errors import Conflict, NotFound
from dbsnooze.schedules import service as schedules
from dbsnooze.store import events, recommendations
from dbsnooze.store.tables import RecommendationRow


def _found(session: Session, recommendation_id: int) -> RecommendationRow:
    row = recommendations.get(session, recommendation_id)
    if row is None:
        raise NotFound("recommendation_not_found", f"no recommendation with id {recommendation_id}")
    return row


def apply(session: Session, recommendation_id: int, actor: str, now: datetime) -> RecommendationRow:
    """Accept the recommendation's current sleep windows."""
    row = _found(session, recommendation_id)
    if row.kind != Kind.SLEEP.value or not row.windows:
        raise Conflict(
            "not_applicable",
            f"recommendation {row.id} has no sleep windows to apply ({row.kind}: {row.message})",
        )
    schedule = schedules.from_recommendation(session, row, actor, now)
    row.applied_key, row.applied_windows = row.windows_key, list(row.windows)
    row.applied_at, row.applied_by = now, actor
    row.dismissed_key = None
    events.record(
        session,
        now,
        actor,
        "recommendation.applied",
        ("instance", row.instance_id),
        {
            "recommendation_id": row.id,
            "timezone": row.timezone,
            "windows": row.windows,
            "schedule_id": schedule.id,
        },
    )
    return row


def dismiss(
    session: Session, recommendation_id: int, actor: str, now: datetime
) -> RecommendationRow:
    """Hide the recommendation until its windows change."""
    row = _found(session, recommendation_id)
    row.dismissed_key, row.dismissed_at, row.dismissed_by = row.windows_key, now, actor
    events.record(
        session,
        now,
        actor,
        "recommendation.dismissed",
        ("instance", row.instance_id),
        {"recommendation_id": row.id, "kind": row.kind, "windows": row.windows},
    )
    return row
