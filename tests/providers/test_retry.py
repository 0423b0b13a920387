"""The one retry policy (``reconciler.providers.retry``): its arithmetic with a fake sleep, and, through
the official SDKs against the emulators with injected faults, that every adapter uses it, honours
``SMSOPS_RETRY_BASE_DELAY``, and is the only layer of retrying."""

from __future__ import annotations

import pytest

from reconciler.errors import ProviderError, ProviderFailure, ResponseLost
from reconciler.providers.retry import RetryPolicy, call


class FakeTime:
    """A sleep that only records, so waiting is instant and exact."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def error(code: str = "Throttling.User", *, retryable: bool = True, **extra: str) -> ProviderError:
    return ProviderError(ProviderFailure("alibaba", "QuerySmsTemplateList", code, "slow down", retryable, extra=extra))


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
    assert call(flaky, policy, sleep=t.sleep) == "ok"
    assert t.slept == [1, 2]


def test_retry_gives_up_after_the_attempts_and_reraises_the_last_error() -> None:
    t = FakeTime()
    attempts: list[ProviderError] = []

    def always() -> None:
        attempts.append(error(f"Throttling.{len(attempts)}"))
        raise attempts[-1]

    with pytest.raises(ProviderError) as caught:
        call(always, RetryPolicy(attempts=3, jitter=0), sleep=t.sleep)
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
        call(fn, sleep=t.sleep)
    assert calls == [1] and t.slept == []


def test_retry_honours_a_longer_retry_after_hint() -> None:
    t = FakeTime()
    results = iter([error(retry_after_s="7.5"), "done"])

    def fn() -> object:
        item = next(results)
        if isinstance(item, Exception):
            raise item
        return item

    assert call(fn, RetryPolicy(base_delay=0.1, jitter=0), sleep=t.sleep) == "done"
    assert t.slept == [7.5]


def test_retry_fails_fast_when_the_provider_asks_for_an_absurd_wait() -> None:
    t = FakeTime()

    def fn() -> None:
        raise error(retry_after_s="3600")

    with pytest.raises(ProviderError):
        call(fn, RetryPolicy(max_retry_after=60), sleep=t.sleep)
    assert t.slept == []
