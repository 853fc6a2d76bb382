"""What the embedded SQLite store needs beyond a URL: pragmas, private files, a check that the
file a pooled connection has open is still the store (SQLite's equivalent of a pre-ping), and
its one lock standing in for PostgreSQL's row and advisory locks.

Transactions are pysqlite's own: one begins at its first write (INSERT, UPDATE, DELETE,
REPLACE), so the reads before it run outside any transaction and hold no WAL snapshot, and
the write waits for the write lock (busy timeout). What PostgreSQL serializes with a lock
(`SELECT ... FOR UPDATE`, `locks.hold`) takes the database's write lock here, at that point
(`write_lock`): the second of two such transactions waits there until the first has committed,
then reads what it wrote (see `store/locks.py` for why, and what it costs). A SAVEPOINT
outside a transaction would begin one that its RELEASE commits, whatever the unit of work
around it does next: the write lock is taken first, so the savepoint nests in a transaction
that commits or rolls back whole (every savepoint here wraps a write).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError

log = logging.getLogger(__name__)
PRIVATE = 0o600  # the WAL and shared-memory files take the database file's mode
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
)
# A write that changes nothing: it takes the write lock (if not held yet) all the same
NO_OP_WRITE = "DELETE FROM leases WHERE 0"


def store_path(url: URL) -> Path | None:
    """The store's file, or None for an in-memory or URI-named database."""
    name = url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def install(engine: Engine, path: Path | None) -> None:
    event.listen(engine, "connect", _pragmas)
    event.listen(engine, "before_execute", _lock_for_update)
    event.listen(engine, "savepoint", _lock_before_savepoint)
    if path is None:
        return
    event.listen(engine, "do_connect", lambda *_: _private_file(path))
    event.listen(engine, "connect", lambda _dbapi, record: _remember(path, record))
    event.listen(engine, "checkout", lambda _dbapi, record, _proxy: _still_there(path, record))


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def write_lock(conn: Connection) -> None:
    """Hold the database's write lock from now until the transaction ends, waiting for it
    (busy timeout) while another connection holds it: `BEGIN IMMEDIATE` outside a transaction;
    inside one (begun by a write, perhaps to a temporary table only), a write that changes
    nothing."""
    if conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql(NO_OP_WRITE)
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _lock_for_update(conn: Connection, statement: Any, *_: Any) -> None:
    """`SELECT ... FOR UPDATE` renders no lock on SQLite: take the write lock before it runs."""
    if getattr(statement, "_for_update_arg", None) is not None:
        write_lock(conn)


def _lock_before_savepoint(conn: Connection, _name: str) -> None:
    """Begin the transaction a SAVEPOINT would otherwise begin, and end, by itself."""
    if not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        write_lock(conn)


def _private_file(path: Path) -> None:
    """Create the store file 0600 before SQLite does (it would honour the umask, usually 0644),
    and tighten one left readable by others; its -wal and -shm files copy this mode."""
    if not path.parent.is_dir():
        return  # SQLite says what is wrong when it tries to open it
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE))
        return
    except FileExistsError:
        pass
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, PRIVATE)
        log.warning("store file was readable by others; now 0600", extra={"path": str(path)})


def _identity(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_dev, found.st_ino


def _remember(path: Path, record: Any) -> None:
    record.info["sqlite_file"] = _identity(path)


def _still_there(path: Path, record: Any) -> None:
    """A pooled connection keeps the file it opened even when the path is gone (a volume
    unmounted, a directory moved, the file replaced): it would write where nobody reads.
    Such a connection is replaced, and the new one fails loudly if the store is not there."""
    try:
        same = _identity(path) == record.info.get("sqlite_file")
    except OSError:
        same = False
    if not same:
        raise DisconnectionError("the store file is no longer the one this connection opened")
