"""Pacing arithmetic with a fake clock: token buckets and quotas (retrying: test_retry.py)."""

from __future__ import annotations

import pytest

from reconciler.providers.ratelimit import DEFAULT_LIMITS, Pacer, RateLimit, TokenBucket, quota


class FakeTime:
    """A clock whose sleep advances it, so waiting is instant and exact."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_allows_a_burst_then_spaces_requests_at_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(RateLimit(rate=10, burst=3), clock=t.clock, sleep=t.sleep)
    waits = [bucket.acquire() for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.1, 0.1, 0.1])
    assert t.now == pytest.approx(1000.3)


def test_bucket_refills_while_idle_but_never_beyond_the_burst() -> None:
    t = FakeTime()
    bucket = TokenBucket(RateLimit(rate=2, burst=2), clock=t.clock, sleep=t.sleep)
    bucket.acquire()
    bucket.acquire()
    t.now += 60  # a long pause refills only up to the burst
    assert [bucket.acquire(), bucket.acquire()] == [0.0, 0.0]
    assert bucket.acquire() == pytest.approx(0.5)


def test_reserve_queues_concurrent_callers_behind_each_other() -> None:
    t = FakeTime()
    bucket = TokenBucket(RateLimit(rate=2, burst=1), clock=t.clock, sleep=t.sleep)
    # Three callers arriving at the same instant are promised 0, 0.5 and 1.0 s.
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.5, 1.0])


def test_pacer_keeps_one_bucket_per_operation_with_published_defaults() -> None:
    t = FakeTime()
    pacer = Pacer("tencent", clock=t.clock, sleep=t.sleep)
    assert pacer.limit("AddSmsTemplate") == RateLimit(2, 1)
    assert pacer.acquire("AddSmsTemplate") == 0.0
    assert pacer.acquire("AddSmsTemplate") == pytest.approx(0.5)
    assert pacer.acquire("DescribeSmsTemplateList") == 0.0  # a different bucket is not delayed
    assert DEFAULT_LIMITS["alibaba"]["QuerySmsTemplateList"].rate <= 10


def test_alibaba_create_quota_is_exposed_not_enforced() -> None:
    create = quota("alibaba", "CreateSmsTemplate")
    assert (create.per_day, create.min_spacing_s) == (100, 30.0)
    assert quota("tencent", "AddSmsTemplate").per_day is None
    t = FakeTime()
    pacer = Pacer("alibaba", clock=t.clock, sleep=t.sleep)
    pacer.acquire("CreateSmsTemplate")
    assert pacer.acquire("CreateSmsTemplate") < 1  # the 30 s spacing is apply's to schedule


def test_the_rate_limiter_never_retries() -> None:
    import reconciler.providers.ratelimit as ratelimit

    assert not any(hasattr(ratelimit, name) for name in ("retry", "RetryPolicy", "is_retryable"))
