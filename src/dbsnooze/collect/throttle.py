"""Self-throttling: a token bucket per account and region, so dbsnooze never trips rate limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MonotonicClock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """At most `rate` requests a second on average, bursts of up to `burst`; thread-safe.

    A caller that finds the bucket empty reserves the next token and sleeps until it is due,
    so concurrent callers queue up in order instead of spinning.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        _check(rate, burst)
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    def acquire(self) -> float:
        """Take one token, blocking until it is due; returns the seconds waited."""
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1
            return -self._tokens / self.rate if self._tokens < 0 else 0.0


def _check(rate: float, burst: int) -> None:
    if rate <= 0:
        raise ValueError("a token bucket's rate is a positive number of requests a second")
    if burst < 1:
        raise ValueError("a token bucket holds at least one token")


BucketKey = tuple[int, str]


class Buckets:
    """One TokenBucket per (account id, region), created on first use; thread-safe."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        _check(rate, burst)  # a bad rate or burst fails now, not on first use
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[BucketKey, TokenBucket] = {}

    def get(self, account_id: int, region: str) -> TokenBucket:
        key = (account_id, region)
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = TokenBucket(self._rate, self._burst, self._clock, self._sleep)
                self._buckets[key] = found
            return found
