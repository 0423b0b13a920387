"""Pacing arithmetic with a fake clock: token buckets, backoff, retry-after, what is never retried."""

from __future__ import annotations

import pytest

from reconciler.errors import ProviderError, ProviderFailure, ResponseLost
from reconciler.providers.ratelimit import (
    DEFAULT_LIMITS,
    Pacer,
    RateLimit,
    RetryPolicy,
    TokenBucket,
    quota,
    retry,
)


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


def error(code: str = "Throttling.User", *, retryable: bool = True, **extra: str) -> ProviderError:
    return ProviderError(ProviderFailure("alibaba", "QuerySmsTemplateList", code, "slow down", retryable, extra=extra))


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


def test_backoff_doubles_up_to_the_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4, jitter=0.5)
    assert [policy.delay(n, rng=lambda: 1.0) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert [policy.delay(n, rng=lambda: 0.0) for n in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]


def test_retry_retries_retryable_errors_with_backoff_then_succeeds() -> None:
    t = FakeTime()
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise error()
        return "ok"

    policy = RetryPolicy(attempts=4, base_delay=1, max_delay=10, jitter=0)
    assert retry(flaky, policy, sleep=t.sleep) == "ok"
    assert t.slept == [1, 2]


def test_retry_gives_up_after_the_attempts_and_reraises_the_last_error() -> None:
    t = FakeTime()
    attempts: list[ProviderError] = []

    def always() -> None:
        attempts.append(error(f"Throttling.{len(attempts)}"))
        raise attempts[-1]

    with pytest.raises(ProviderError) as caught:
        retry(always, RetryPolicy(attempts=3, jitter=0), sleep=t.sleep)
    assert caught.value is attempts[-1]
    assert len(attempts) == 3 and len(t.slept) == 2


@pytest.mark.parametrize(
    "raised",
    [
        error("SignatureDoesNotMatch", retryable=False),
        error("isv.BUSINESS_LIMIT_CONTROL", retryable=False),
        ResponseLost(ProviderFailure("alibaba", "CreateSmsTemplate", "Timeout", "read timed out", True)),
    ],
    ids=["auth", "limited", "response-lost"],
)
def test_retry_never_retries_terminal_errors_or_lost_responses(raised: ProviderError) -> None:
    t = FakeTime()
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        raise raised

    with pytest.raises(ProviderError):
        retry(fn, sleep=t.sleep)
    assert calls == [1] and t.slept == []


def test_retry_honours_a_longer_retry_after_hint() -> None:
    t = FakeTime()
    results = iter([error(retry_after_s="7.5"), "done"])

    def fn() -> object:
        item = next(results)
        if isinstance(item, Exception):
            raise item
        return item

    assert retry(fn, RetryPolicy(base_delay=0.1, jitter=0), sleep=t.sleep) == "done"
    assert t.slept == [7.5]


def test_retry_fails_fast_when_the_provider_asks_for_an_absurd_wait() -> None:
    t = FakeTime()

    def fn() -> None:
        raise error(retry_after_s="3600")

    with pytest.raises(ProviderError):
        retry(fn, RetryPolicy(max_retry_after=60), sleep=t.sleep)
    assert t.slept == []
