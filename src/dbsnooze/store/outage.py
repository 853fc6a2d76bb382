"""A store that cannot be reached: which errors mean it, and a log that says so once.

Every part of the process (API requests, the worker, the collector, discovery) talks to the
store through one engine, so the engine reports: the first failure is logged with a short reason,
further ones are counted and summed up now and then, and the first statement that succeeds
afterwards says the store is back. Callers only decide what their user sees (a 503, a skipped
tick) and log no traceback of their own for these errors.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dbsnooze.clock import Clock, utc_now

log = logging.getLogger(__name__)
REPORT_EVERY = timedelta(minutes=1)
REASON_LENGTH = 200
_BEGAN = "dbsnooze_statement_began"
# SQLSTATE classes that mean "no usable connection": connection exceptions, operator
# intervention (shutdown, terminated backend), insufficient resources, bad credentials or
# database. Serialization failures and deadlocks (class 40) are not an outage.
UNAVAILABLE_SQLSTATES = ("08", "57P", "53", "28", "3D")
_SECRET_SHAPES = (  # (pattern, replacement)
    (re.compile(r"(?i)(password\s*=\s*)('[^']*'|\S+)"), r"\1***"),
    (re.compile(r"(://[^:/@\s]*:)[^@\s]*@"), r"\1***@"),
)


def unavailable(exc: BaseException) -> bool:
    """Whether this error means the store cannot be used right now (as opposed to a bug)."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    return state is None or state.startswith(UNAVAILABLE_SQLSTATES)


def reason(exc: BaseException, password: str | None = None) -> str:
    """The first line of the driver's message, without anything that looks like a password."""
    origin = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(origin).strip().splitlines() or [type(origin).__name__]
    text = lines[0].strip()
    if password:
        text = text.replace(password, "***")
    for shape, replacement in _SECRET_SHAPES:
        text = shape.sub(replacement, text)
    return text[:REASON_LENGTH]


class OutageLog:
    """Says once that the store is unreachable, then counts; says when it is reachable again.

    Statements overlap: one that began before the outage may still succeed after the first
    failure, and one that began before the recovery may still fail after it. Each report says
    when its statement began (a monotonic time), so such stragglers change nothing.
    """

    def __init__(self, clock: Clock = utc_now, every: timedelta = REPORT_EVERY) -> None:
        self.clock = clock
        self.every = every
        self.failures = 0
        self.since: datetime | None = None
        self._reported_at: datetime | None = None
        self._changed_at = 0.0  # monotonic time of the last change between up and down
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, why: str, began: float | None = None) -> None:
        with self._lock:
            if self.since is None and began is not None and began < self._changed_at:
                return  # it began before the store came back
            now = self.clock()
            self.failures += 1
            if self.since is None:
                self.since = self._reported_at = now
                self._changed_at = time.monotonic()
                log.warning(f"store unavailable: {why}")
            elif self._reported_at is not None and now - self._reported_at >= self.every:
                self._reported_at = now
                log.warning(
                    f"store still unavailable, {self.failures} failures since "
                    f"{self.since.isoformat(timespec='seconds')}",
                    extra={"failures": self.failures, "last_reason": why},
                )

    def succeeded(self, began: float) -> None:
        if self.since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            if self.since is None or began < self._changed_at:
                return  # it began before the store went away
            log.warning(
                f"store reachable again after {self.failures} failures since "
                f"{self.since.isoformat(timespec='seconds')}",
                extra={"failures": self.failures},
            )
            self.failures, self.since, self._reported_at = 0, None, None
            self._changed_at = time.monotonic()


def watch(engine: Engine, outage: OutageLog) -> None:
    """Report the engine's connection failures and successes to `outage`."""
    secret = engine.url.password
    password = secret if isinstance(secret, str) else None

    def before(conn: Connection, *_: Any) -> None:
        conn.info[_BEGAN] = time.monotonic()

    def after(conn: Connection, *_: Any) -> None:
        outage.succeeded(conn.info.get(_BEGAN, 0.0))

    def on_error(context: ExceptionContext) -> None:
        if context.is_pre_ping:  # a stale pooled connection: the pool reconnects by itself
            return
        error = context.sqlalchemy_exception
        if error is not None and (unavailable(error) or context.is_disconnect):
            outage.failed(reason(error, password), _began(context.connection))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "handle_error", on_error)


def _began(conn: Connection | None) -> float | None:
    """When the failed statement began; None for a failed connect (it began just now)."""
    if conn is None or conn.closed or conn.invalidated:  # its info would mean reconnecting
        return None
    began = conn.info.get(_BEGAN)
    return began if isinstance(began, float) else None
