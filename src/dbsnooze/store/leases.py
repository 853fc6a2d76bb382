"""Named leases: a piece of periodic work is done by one worker at a time, until it expires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dbsnooze.store.tables import LeaseRow


def acquire(session: Session, name: str, owner: str, now: datetime, until: datetime) -> bool:
    """Take the lease until `until`; False while it is held, by anyone, and not yet expired."""
    taken = session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.expires_at <= now)
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


def renew(session: Session, name: str, owner: str, now: datetime, until: datetime) -> bool:
    """Hold our lease longer; False when it ran out or another worker holds it now."""
    kept = session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.owner == owner, LeaseRow.expires_at > now)
        .values(expires_at=until)
    )
    return bool(kept.rowcount)  # type: ignore[attr-defined]


def release(session: Session, name: str, owner: str, now: datetime) -> None:
    """End our hold now, so the next run need not wait for the expiry."""
    session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.owner == owner)
        .values(expires_at=now)
    )
