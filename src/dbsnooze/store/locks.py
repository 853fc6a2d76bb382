"""Named locks held until the transaction ends, for checks that no single row stands for.

"One schedule per instance" is read from every schedule's selector and assignments; two
writers that each read, decide and write at once would both pass it. Such writers take the
same named lock first, so the second reads what the first committed. On PostgreSQL it is a
transaction-level advisory lock (released at commit or rollback).

On SQLite it is the database's write lock (`store.sqlite.write_lock`, which `FOR UPDATE` takes
too): SQLite has no other. One `serve` process runs the API, the worker, the reconciler and
the recompute on threads, each transaction on its own connection, so without it the same
races happen there: pysqlite begins a transaction at its first write, and the reads before
it see only what was committed then. Chosen per transaction, at the lock, because:

- `BEGIN IMMEDIATE` for every transaction would give read-only ones (API pages, history) the
  write lock too: readers would queue behind writers and hold them off, which WAL avoids.
- A deferred `BEGIN` for every transaction (SQLAlchemy's pysqlite recipe) gives reads a
  snapshot; a write after them then fails at once with "database is locked" when another
  connection writes or wrote meanwhile (SQLite skips the busy timeout for a read transaction
  asking for the write lock, which could deadlock), instead of waiting as it does now.
- At the lock, the transaction has read nothing in a snapshot yet, so it waits (busy timeout)
  like PostgreSQL's lock wait, then reads afresh.

The cost: a holder keeps every other writer (the collector, a backfill) waiting until it
commits, not only writers of the same lock. Take it just before the reads that decide a
write, not before slow reads that decide nothing: a recompute analyses first (measured on 60
instances: the lock taken at the chunk's start kept a writer beside it waiting 0.2-0.7 s a
write; after the analysis, 4-10 ms, as without the lock).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session

from dbsnooze.store import sqlite

SCHEDULES = "schedules"
RECOMMENDATIONS = "recommendations"


def hold(session: Session, name: str) -> None:
    """Wait for, then hold, the lock `name` until this transaction ends (re-entrant)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        sqlite.write_lock(conn)
    else:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key(name)})


def key(name: str) -> int:
    """The lock's 64-bit number: the same in every process, unlike Python's hash()."""
    digest = hashlib.blake2b(f"dbsnooze:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
