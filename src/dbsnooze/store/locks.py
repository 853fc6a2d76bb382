"""Named locks held until the transaction ends, for checks that no single row stands for.

"One schedule per instance" is read from every schedule's selector and assignments; two
writers that each read, decide and write at once would both pass it. Such writers take the
same named lock first, so the second reads what the first committed. On PostgreSQL it is a
transaction-level advisory lock (released at commit or rollback); on SQLite, which has one
writer at a time, nothing.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session

SCHEDULES = "schedules"
RECOMMENDATIONS = "recommendations"


def hold(session: Session, name: str) -> None:
    """Wait for, then hold, the lock `name` until this transaction ends (re-entrant)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key(name)})


def key(name: str) -> int:
    """The lock's 64-bit number: the same in every process, unlike Python's hash()."""
    digest = hashlib.blake2b(f"dbsnooze:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
