"""Fault injection and the request log of the fake, in the spirit of tests/faultproxy.py.

`inject("429", path="/v3/", count=2)` answers the next two requests whose path contains
"/v3/" with Google's RESOURCE_EXHAUSTED error instead of serving them; "503" and "500" answer
UNAVAILABLE / INTERNAL; "hold" keeps the request unanswered until `release()` (or a limit), so
a client's read timeout fires, and then closes the connection without an answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from dbsnooze.demo.gcpfake.errors import GoogleError

HOLD_LIMIT_SECONDS = 60.0  # a held request is let go after this at the latest
KINDS = ("429", "500", "503", "hold")
_ANSWERS: dict[str, GoogleError] = {
    "429": GoogleError(
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Time series queries' and limit 'Time series queries "
        "per minute' of service 'monitoring.googleapis.com'.",
    ),
    "500": GoogleError("INTERNAL", "Internal error encountered."),
    "503": GoogleError("UNAVAILABLE", "The service is currently unavailable."),
}


@dataclass(frozen=True, slots=True)
class Logged:
    """One request that reached the fake, and the fault it got instead of an answer, if any."""

    method: str
    path: str
    query: dict[str, list[str]] = field(repr=False)
    fault: str | None = None


@dataclass(slots=True)
class _Rule:
    kind: str
    path: str
    left: int


class Faults:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._rules: list[_Rule] = []
        self._releases = 0
        self.log: list[Logged] = []
        self.held = 0

    def inject(self, kind: str, path: str = "", count: int = 1) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {KINDS}")
        with self._changed:
            self._rules.append(_Rule(kind, path, count))

    def release(self) -> None:
        """Let every held request go (its connection is closed unanswered)."""
        with self._changed:
            self._releases += 1
            self._rules = [rule for rule in self._rules if rule.kind != "hold"]
            self._changed.notify_all()

    def requests(self, path: str = "", method: str | None = None) -> list[Logged]:
        """Logged requests whose path contains `path` (and of `method`), faults included."""
        with self._changed:
            return [
                r for r in self.log if path in r.path and (method is None or r.method == method)
            ]

    def served(self, path: str = "", method: str | None = None) -> list[Logged]:
        """Requests that got a real answer (no fault)."""
        return [r for r in self.requests(path, method) if r.fault is None]

    def admit(self, request: Logged) -> GoogleError | None:
        """Log the request; the error to answer instead, or None. Holds block here."""
        with self._changed:
            rule = next((r for r in self._rules if r.path in request.path), None)
            if rule is not None:
                rule.left -= 1
                if rule.left == 0:
                    self._rules.remove(rule)
            kind = rule.kind if rule is not None else None
            self.log.append(Logged(request.method, request.path, request.query, kind))
            self._changed.notify_all()
            if kind == "hold":
                self._hold()
                raise ConnectionAbortedError("held, then dropped")
        return _ANSWERS[kind] if kind is not None else None

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> bool:
        with self._changed:
            return self._changed.wait_for(condition, timeout)

    def _hold(self) -> None:
        self.held += 1
        self._changed.notify_all()
        releases = self._releases
        self._changed.wait_for(lambda: self._releases != releases, HOLD_LIMIT_SECONDS)
        self.held -= 1
        self._changed.notify_all()
