"""Two workers' transactions overlapping on PostgreSQL (READ COMMITTED), made deterministic.

The first transaction stays open while the second runs on a thread; the first commits once the
second waits for one of its locks (seen in pg_stat_activity), or has ended without waiting. A
read-then-write that is not serialized ends without waiting and decides on what the first had
not committed yet; a serialized one waits, then reads what the first committed. No sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy.orm import Session

from dbsnooze.context import Context
from metricshelp import until

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def on_postgres(test: F) -> F:
    """Run this test on the PostgreSQL store only (skipped without one)."""
    marked = pytest.mark.parametrize("store_url", ["postgres"], indirect=True)(test)
    return pytest.mark.postgres(marked)  # type: ignore[no-any-return]


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
    with ctx.sessions() as session, session.begin():
        first(session)
        session.flush()
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        other.start()
        until(lambda: not other.is_alive() or _blocked_by(ctx, pid), "the second to wait or end")
        if then is not None:
            then(session)
            session.flush()
    other.join(timeout=60)
    assert not other.is_alive(), "the second transaction never ended"
    how, value = outcome[0]
    if how == "raised":
        raise value
    return value  # type: ignore[no-any-return]


def _blocked_by(ctx: Context, pid: object) -> bool:
    """Whether some session waits for a lock held by the backend `pid`."""
    with ctx.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND %(pid)s = ANY(pg_blocking_pids(pid))",
            {"pid": pid},
        ).scalar()
    return bool(found)
