"""The audit log: who or what changed what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dbsnooze.store.tables import EventRow


def record(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    subject: tuple[str, str | int] | None = None,
    detail: dict[str, Any] | None = None,
) -> EventRow:
    subject_type, subject_id = subject if subject else (None, None)
    row = EventRow(
        at=now,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        detail=detail or {},
    )
    session.add(row)
    return row


def page(
    session: Session, limit: int, offset: int, action: str | None = None
) -> tuple[list[EventRow], int]:
    query = select(EventRow)
    if action:
        query = query.where(EventRow.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(EventRow.id.desc()).limit(limit).offset(offset))
    return list(rows), total
