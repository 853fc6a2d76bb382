from __future__ import annotations

import threading

import pytest

from dbsnooze.collect.throttle import Buckets, TokenBucket


class FakeTime:
    """A monotonic clock that only moves when someone sleeps (or a test says so)."""

    def __init__(self, advance_on_sleep: bool = True) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._advance = advance_on_sleep
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            if self._advance:
                self.now += seconds


def test_first_token_is_free_then_requests_are_spaced_by_the_rate() -> None:
    time = FakeTime()
    bucket = TokenBucket(10, 1, clock=time.clock, sleep=time.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == pytest.approx([0, 0.1, 0.1, 0.1, 0.1])
    assert time.now == pytest.approx(100.4)


def test_a_burst_passes_at_once_after_idle_time() -> None:
    time = FakeTime()
    bucket = TokenBucket(2, 3, clock=time.clock, sleep=time.sleep)
    assert [bucket.acquire() for _ in range(4)] == pytest.approx([0, 0, 0, 0.5])
    time.now += 60  # idle: refills, but never above the burst
    assert [bucket.acquire() for _ in range(4)] == pytest.approx([0, 0, 0, 0.5])


def test_partial_refill_shortens_the_wait() -> None:
    time = FakeTime()
    bucket = TokenBucket(10, 1, clock=time.clock, sleep=time.sleep)
    bucket.acquire()
    time.now += 0.04
    assert bucket.acquire() == pytest.approx(0.06)


def test_concurrent_callers_queue_up_one_interval_apart() -> None:
    time = FakeTime(advance_on_sleep=False)  # every caller sees the same instant
    bucket = TokenBucket(10, 1, clock=time.clock, sleep=time.sleep)
    threads = [threading.Thread(target=bucket.acquire) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(time.slept) == pytest.approx([0.1 * i for i in range(1, 20)])


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (10, 0)])
def test_bad_rate_or_burst_is_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)
    with pytest.raises(ValueError):
        Buckets(rate, burst)


def test_buckets_one_per_account_and_region() -> None:
    buckets = Buckets(5)
    first = buckets.get(1, "us-east-1")
    assert buckets.get(1, "us-east-1") is first
    assert buckets.get(1, "eu-west-1") is not first
    assert buckets.get(2, "us-east-1") is not first
    assert first.rate == 5 and first.burst == 1


def test_buckets_share_the_clock_and_limit_each_key_separately() -> None:
    time = FakeTime()
    buckets = Buckets(10, clock=time.clock, sleep=time.sleep)
    assert buckets.get(1, "a").acquire() == 0
    assert buckets.get(2, "a").acquire() == 0
    assert buckets.get(1, "a").acquire() == pytest.approx(0.1)


def test_buckets_created_once_under_concurrency() -> None:
    buckets = Buckets(5)
    found: list[TokenBucket] = []
    lock = threading.Lock()

    def take() -> None:
        bucket = buckets.get(7, "us-west-2")
        with lock:
            found.append(bucket)

    threads = [threading.Thread(target=take) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(bucket) for bucket in found}) == 1
