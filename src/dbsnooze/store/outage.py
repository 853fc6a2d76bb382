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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dbsnooze.clock import Clock, utc_now

log = logging.getLogger(__name__)
REPORT_EVERY = timedelta(minutes=1)
REASON_LENGTH = 200
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
    """Says once that the store is unreachable, then counts; says when it is reachable again."""

    def __init__(self, clock: Clock = utc_now, every: timedelta = REPORT_EVERY) -> None:
        self.clock = clock
        self.every = every
        self.failures = 0
        self.since: datetime | None = None
        self._reported_at: datetime | None = None
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, why: str) -> None:
        with self._lock:
            now = self.clock()
            self.failures += 1
            if self.since is None:
                self.since = self._reported_at = now
                log.warning(f"store unavailable: {why}")
            elif self._reported_at is not None and now - self._reported_at >= self.every:
                self._reported_at = now
                log.warning(
                    f"store still unavailable, {self.failures} failures since "
                    f"{self.since.isoformat(timespec='seconds')}",
                    extra={"failures": self.failures, "last_reason": why},
                )

    def succeeded(self) -> None:
        if self.since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            if self.since is None:
                return
            log.warning(
                f"store reachable again after {self.failures} failures since "
                f"{self.since.isoformat(timespec='seconds')}",
                extra={"failures": self.failures},
            )
            self.failures, self.since, self._reported_at = 0, None, None


def watch(engine: Engine, outage: OutageLog) -> None:
    """Report the engine's connection failures and successes to `outage`."""
    password = engine.url.password

    def on_error(context: Any) -> None:
        if context.is_pre_ping:  # a stale pooled connection: the pool reconnects by itself
            return
        error = context.sqlalchemy_exception
        if error is not None and (unavailable(error) or context.is_disconnect):
            outage.failed(reason(error, password if isinstance(password, str) else None))

    event.listen(engine, "handle_error", on_error)
    event.listen(engine, "after_cursor_execute", lambda *_: outage.succeeded())
