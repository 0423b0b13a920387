"""The one place smsops retries: a tenacity ``Retrying`` with exponential, jittered backoff.

There is exactly one layer of retrying. Adapters wrap each provider call in ``call``: reads are
retried, and writes only when the failure proves the request was not processed (throttled,
connection refused), because the adapter marks every other failed write ``ResponseLost``, which is
never retried here. Callers above the adapters (apply, the gate) do not retry on top: an error that
reaches them has been retried already, or must not be. The one exception is apply resending a create
whose answer was lost once it has looked and found the template absent, which only it can prove;
it uses this module too, with its own predicate.

Only ``ProviderError``s marked ``retryable`` are retried. A provider's ``retry_after`` hint
(``failure.extra['retry_after_s']``) wins over the backoff when longer, up to ``max_retry_after``:
a server asking for an hour gets a failure, not a hung CI job.

``SMSOPS_RETRY_BASE_DELAY`` (seconds) sets the first backoff of the default policy for every
adapter: an emulator that answers in a millisecond need not be waited on for half a second.
Sleep and the jitter's random source are parameters, so tests run the same code without waiting.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from reconciler.errors import ConfigError, ProviderError, ResponseLost
from reconciler.providers.ratelimit import Sleep

T = TypeVar("T")

Random = Callable[[], float]

RETRY_BASE_ENV = "SMSOPS_RETRY_BASE_DELAY"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n (0-based) is followed by a wait of ``min(max_delay, base_delay * 2**n)``, of which
    the last ``jitter`` fraction is randomised so clients that failed together do not retry together."""

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> RetryPolicy:
        """The default policy, with ``SMSOPS_RETRY_BASE_DELAY`` as the first backoff when set."""
        raw = environ.get(RETRY_BASE_ENV, "").strip()
        if not raw:
            return cls()
        try:
            base = float(raw)
            if base < 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"{RETRY_BASE_ENV}={raw!r} is not a number of seconds >= 0") from None
        return cls(base_delay=base)

    def delay(self, attempt: int, rng: Random = random.random) -> float:
        capped = min(self.max_delay, self.base_delay * (2.0**attempt))
        return capped * (1.0 - self.jitter) + capped * self.jitter * rng()


def retry_after_seconds(error: BaseException) -> float | None:
    """The provider's own wait hint, carried in ``failure.extra['retry_after_s']``."""
    if not isinstance(error, ProviderError):
        return None
    raw = error.failure.extra.get("retry_after_s")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def is_retryable(error: BaseException) -> bool:
    """A provider error that trying again can help, and that cannot have taken effect."""
    return isinstance(error, ProviderError) and error.retryable and not isinstance(error, ResponseLost)


class _Backoff(wait_base):
    """The policy's jittered exponential delay, or the provider's retry-after hint when longer."""

    def __init__(self, policy: RetryPolicy, rng: Random) -> None:
        self.policy = policy
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        wait = self.policy.delay(retry_state.attempt_number - 1, self.rng)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        hint = retry_after_seconds(error) if error is not None else None
        return wait if hint is None else max(wait, hint)


def call(
    fn: Callable[[], T],
    policy: RetryPolicy | None = None,
    *,
    sleep: Sleep = time.sleep,
    rng: Random = random.random,
    retry_if: Callable[[BaseException], bool] = is_retryable,
) -> T:
    """Call ``fn`` until it succeeds, raises something ``retry_if`` refuses, or attempts run out
    (``policy`` defaults to ``RetryPolicy.from_env()``). The last error is re-raised unchanged, so
    callers see the provider's code and message."""
    policy = policy or RetryPolicy.from_env()

    def wanted(error: BaseException) -> bool:
        hint = retry_after_seconds(error)
        return retry_if(error) and (hint is None or hint <= policy.max_retry_after)

    retrying = Retrying(
        stop=stop_after_attempt(max(1, policy.attempts)),
        wait=_Backoff(policy, rng),
        retry=retry_if_exception(wanted),
        sleep=sleep,
        reraise=True,
    )
    return retrying(fn)
