"""Client-side pacing: per-operation rate limits and provider quotas. Nothing here retries
(that is ``reconciler.providers.retry``, the one place that does).

Adapters call ``Pacer.acquire(operation)`` before every request, so a burst of reads never trips the
provider's QPS limit in the first place.

Quotas (Alibaba: ≤100 template creations a day, ≥30 s apart) are exposed here as data for apply to
plan around; the pacer does not sleep 30 s between creations on its own, because a run that creates
one template should not pay for it, and apply knows how many it will create.

Clock and sleep are injectable so the arithmetic is testable without waiting.

An account whose limits differ from the published ones (a raised quota, a local emulator) sets
``SMSOPS_API_RATES``: comma-separated ``[provider:]Operation=rate[/burst]`` entries, ``*`` for every
operation, e.g. ``alibaba:CreateSmsTemplate=19,alibaba:*=200/20``. An entry naming the operation
wins over ``*``; an entry naming the provider wins over one that does not.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.errors import ConfigError

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate`` requests per second on average, bursts of up to ``burst``."""

    rate: float
    burst: float = 1.0


@dataclass(frozen=True)
class Quota:
    """A provider-side allowance the pacer does not enforce; apply schedules around it."""

    per_day: int | None = None
    min_spacing_s: float = 0.0


# Per provider and API operation, from the providers' published limits (reference/providers.md).
# Set a little under the published figure: other clients of the same account share it.
DEFAULT_LIMITS: dict[str, dict[str, RateLimit]] = {
    "alibaba": {
        "QuerySmsTemplateList": RateLimit(8, 2),  # published 10 QPS
        "GetSmsTemplateList": RateLimit(8, 2),  # no published figure: as cautious as the other list
        "GetSmsTemplate": RateLimit(50, 10),
        "GetSmsSign": RateLimit(50, 10),  # published 150
        "CreateSmsTemplate": RateLimit(20, 1),
        "UpdateSmsTemplate": RateLimit(50, 5),
        "DeleteSmsTemplate": RateLimit(50, 5),
        "ListTagResources": RateLimit(10, 2),
        "TagResources": RateLimit(10, 2),
        "SendSms": RateLimit(50, 10),
        "QuerySendDetails": RateLimit(50, 10),
    },
    "tencent": {
        "AddSmsTemplate": RateLimit(2, 1),
        "ModifySmsTemplate": RateLimit(10, 2),  # published 20/s
        "DeleteSmsTemplate": RateLimit(1, 1),
        "DescribeSmsTemplateList": RateLimit(15, 5),  # published 20/s
        "DescribeSmsSignList": RateLimit(15, 5),
        "SendSms": RateLimit(10, 5),  # unpublished: stay modest
        "PullSmsSendStatusByPhoneNumber": RateLimit(15, 5),
    },
    "aws": {
        "SendTextMessage": RateLimit(5, 1),  # DryRun is limited to 5 MPS
        "DescribeSenderIds": RateLimit(10, 5),
    },
}
FALLBACK_LIMIT = RateLimit(10, 5)

QUOTAS: dict[str, dict[str, Quota]] = {
    "alibaba": {"CreateSmsTemplate": Quota(per_day=100, min_spacing_s=30.0)},
}


RATES_ENV = "SMSOPS_API_RATES"


def rates_from_env(provider: str, environ: Mapping[str, str] = os.environ) -> dict[str, RateLimit]:
    """The ``SMSOPS_API_RATES`` entries that apply to ``provider``, by operation (``*``: all)."""
    raw = environ.get(RATES_ENV, "").strip()
    general: dict[str, RateLimit] = {}
    specific: dict[str, RateLimit] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        target, _, value = entry.partition("=")
        scope, _, operation = target.strip().rpartition(":")
        rate_text, _, burst_text = value.strip().partition("/")
        try:
            limit = RateLimit(float(rate_text), float(burst_text) if burst_text else 1.0)
            if not operation or limit.rate <= 0 or limit.burst < 1:
                raise ValueError
        except ValueError:
            raise ConfigError(
                f"{RATES_ENV} entry {entry!r} is not [provider:]Operation=rate[/burst]",
                hint="rate > 0 requests per second, burst >= 1, e.g. alibaba:CreateSmsTemplate=19",
            ) from None
        if scope == provider:
            specific[operation] = limit
        elif not scope:
            general[operation] = limit
    return {**general, **specific}


def quota(provider: str, operation: str) -> Quota:
    """The provider's allowance for ``operation`` (no limit when unknown)."""
    return QUOTAS.get(provider, {}).get(operation, Quota())


class TokenBucket:
    """Classic token bucket. ``acquire`` blocks (via the injected sleep) until a token is free."""

    def __init__(self, limit: RateLimit, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        if limit.rate <= 0 or limit.burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {limit}")
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(limit.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self.limit.burst), self._tokens + elapsed * self.limit.rate)
        self._stamp = now

    def reserve(self) -> float:
        """Take a token now and return how long the caller must wait before using it.

        Tokens may go negative: that is the queue of callers already promised a slot.
        """
        with self._lock:
            self._refill(self._clock())
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.limit.rate

    def acquire(self) -> float:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


class Pacer:
    """One token bucket per (provider, operation), created on first use."""

    def __init__(
        self,
        provider: str,
        *,
        limits: dict[str, RateLimit] | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        """``limits`` None: the provider's published limits, overridden by ``SMSOPS_API_RATES``."""
        self.provider = provider
        if limits is None:
            overrides = rates_from_env(provider, environ)
            everything = overrides.pop("*", None)
            defaults = DEFAULT_LIMITS.get(provider, {})
            base = {op: everything for op in defaults} if everything else dict(defaults)
            self._fallback = everything or FALLBACK_LIMIT
            self._limits = {**base, **overrides}
        else:
            self._fallback = FALLBACK_LIMIT
            self._limits = dict(limits)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def limit(self, operation: str) -> RateLimit:
        return self._limits.get(operation, self._fallback)

    def acquire(self, operation: str) -> float:
        """Wait for a slot for ``operation``; returns the seconds waited."""
        with self._lock:
            bucket = self._buckets.get(operation)
            if bucket is None:
                bucket = TokenBucket(self.limit(operation), clock=self._clock, sleep=self._sleep)
                self._buckets[operation] = bucket
        return bucket.acquire()
