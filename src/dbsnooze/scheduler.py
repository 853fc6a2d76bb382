"""Periodic work on background threads; a tick is skipped while the previous one still runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from dbsnooze.store.outage import unavailable

log = logging.getLogger(__name__)


class Periodic:
    """Runs `task` now and then every `interval` seconds until stopped."""

    def __init__(self, name: str, interval: float, task: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval
        self._task = task
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"dbsnooze-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def trigger(self) -> None:
        """Run the task as soon as the current run (if any) ends."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._task()
            except Exception as exc:  # one failed tick must not end the loop
                if not unavailable(exc):  # an unreachable store is logged by its outage log
                    log.exception("periodic task failed", extra={"task": self.name})
            self._wake.wait(self.interval)
            self._wake.clear()
