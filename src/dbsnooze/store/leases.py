"""Named leases: a piece of periodic work is done by one worker at a time, until it expires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dbsnooze.store.tables import LeaseRow


def acquire(session: Session, name: str, owner: str, now: datetime, until: datetime) -> bool:
    """Take or extend the lease; False while another live owner holds it."""
    taken = session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name)
        .where(or_(LeaseRow.owner == owner, LeaseRow.expires_at < now))
        .values(owner=owner, expires_at=until)
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        return True
    try:
        with session.begin_nested():
            session.add(LeaseRow(name=name, owner=owner, expires_at=until))
    except IntegrityError:
        return False
    return True
