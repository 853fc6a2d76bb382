"""Two workers' transactions overlapping, made deterministic, on either store.

The first transaction stays open while the second runs on a thread; the first commits once the
second waits for one of its locks, or has ended without waiting. A read-then-write that is not
serialized ends without waiting and decides on what the first had not committed yet; a
serialized one waits, then reads what the first committed. No sleeps.

PostgreSQL (READ COMMITTED): the wait is seen in pg_stat_activity. SQLite has one lock, the
database's write lock: the first must hold it (it has written, or taken `locks.hold`), and the
second waits from the moment SQLite starts running a statement that needs it (a `BEGIN
IMMEDIATE` or a write), seen through the trace callback of the connections the second uses.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from dbsnooze.context import Context
from metricshelp import until

T = TypeVar("T")
WRITES = re.compile(r"\s*(BEGIN\s+(IMMEDIATE|EXCLUSIVE)|INSERT|UPDATE|DELETE|REPLACE)\b", re.I)


def overlapping(
    ctx: Context,
    first: Callable[[Session], object],
    second: Callable[[], T],
    then: Callable[[Session], object] | None = None,
) -> T:
    """Run `first` in a transaction kept open while `second` (which opens its own, as the
    product does) runs on a thread; once the second waits for one of its locks or has ended,
    do `then` in the first transaction (more of its work, e.g. the rows it locks next) and
    commit it. Returns what the second returned, or raises what it raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("returned", second()))
        except BaseException as exc:  # handed to the test's thread
            outcome.append(("raised", exc))

    other = threading.Thread(target=run, name="second-worker")
    with _waits(ctx.engine, other) as blocked:
        with ctx.sessions() as session, session.begin():
            first(session)
            session.flush()
            waiting = blocked(session)
            other.start()
            until(lambda: not other.is_alive() or waiting(), "the second to wait or end")
            if then is not None:
                then(session)
                session.flush()
        other.join(timeout=60)
    assert not other.is_alive(), "the second transaction never ended"
    how, value = outcome[0]
    if how == "raised":
        raise value
    return value  # type: ignore[no-any-return]


Blocked = Callable[[Session], Callable[[], bool]]


@contextmanager
def _waits(engine: Engine, other: threading.Thread) -> Iterator[Blocked]:
    """How to tell, once the first has done its work, whether the second waits for it."""
    if engine.dialect.name == "postgresql":
        yield lambda session: _blocked_on_postgres(engine, session)
        return
    started = threading.Event()

    def trace(statement: str) -> None:
        if threading.current_thread() is other and WRITES.match(statement):
            started.set()

    def watch(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_trace_callback(trace)

    def unwatch(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:  # None: invalidated
            dbapi_connection.set_trace_callback(None)

    def blocked(session: Session) -> Callable[[], bool]:
        assert _write_locked(engine), "the first transaction must hold SQLite's write lock"
        return started.is_set

    event.listen(engine, "checkout", watch)
    event.listen(engine, "checkin", unwatch)
    try:
        yield blocked
    finally:
        event.remove(engine, "checkout", watch)
        event.remove(engine, "checkin", unwatch)


def _blocked_on_postgres(engine: Engine, session: Session) -> Callable[[], bool]:
    """Whether some session waits for a lock held by this session's backend."""
    pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()

    def blocked() -> bool:
        with engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND %(pid)s = ANY(pg_blocking_pids(pid))",
                {"pid": pid},
            ).scalar()
        return bool(found)

    return blocked


def _write_locked(engine: Engine) -> bool:
    """Whether some connection holds the SQLite store's write lock (asked without waiting)."""
    probe = sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()
