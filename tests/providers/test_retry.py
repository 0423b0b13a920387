"""The one retry policy (``reconciler.providers.retry``): its arithmetic with a fake sleep, and, through
the official SDKs against the emulators with injected faults, that every adapter uses it, honours
``SMSOPS_RETRY_BASE_DELAY``, and is the only layer of retrying."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.errors import ErrorKind, ProviderError, ProviderFailure, ResponseLost
from reconciler.providers.base import TemplateKind, TemplateRequest
from reconciler.providers.ratelimit import Pacer
from reconciler.providers.retry import RETRY_BASE_ENV, RetryPolicy, call
from reconciler.reconcile.apply import ChangeOutcome, ChannelApplier
from reconciler.reconcile.changes import Action, Change, ChannelObservation, ChannelPlan, TemplateVersion
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxFactory,
)

BASE = 0.25  # SMSOPS_RETRY_BASE_DELAY in the tests below: far from the built-in 0.5
ATTEMPTS = RetryPolicy().attempts


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


def test_the_rate_limiter_and_apply_do_not_configure_retrying_of_their_own() -> None:
    """One policy: only ``retry.py`` builds a tenacity ``Retrying``; nothing else loops on errors."""
    import inspect

    import reconciler.providers.ratelimit as ratelimit
    import reconciler.reconcile.apply as apply

    assert "Retrying" not in inspect.getsource(ratelimit) and "MAX_ATTEMPTS" not in inspect.getsource(apply)


# -- every adapter, through its official SDK against the emulator -----------------------------------


@dataclass
class Opened:
    adapter: Any
    account: SandboxAccount
    read: Callable[[], object]  # an idempotent read
    read_operation: str


def no_wait(seconds: float) -> None:
    """The pacer's sleep: these tests count the retry's waits only."""


def open_adapter(name: str, factory: SandboxFactory, sleep: Callable[[float], None]) -> Opened:
    """The adapter with its default retry policy (no ``retry_policy``: what ``open_channel`` builds)."""
    handle = factory.start(name)
    if name == "alibaba":
        from reconciler.providers.alibaba.adapter import AlibabaProvider

        alibaba = AlibabaProvider(
            access_key_id=handle.access_key_id,
            access_key_secret=handle.access_key_secret,
            sign_name="OnePro",
            endpoint=handle.url(),
            pacer=Pacer("alibaba", limits={}, sleep=no_wait),
            sleep=sleep,
        )
        return Opened(alibaba, handle.account, alibaba.get_signature, "GetSmsSign")
    if name == "tencent":
        from reconciler.providers.tencent.adapter import TencentProvider

        tencent = TencentProvider(
            secret_id=TENCENT_TEST_SECRET_ID,
            secret_key=TENCENT_TEST_SECRET_KEY,
            sign_name="OnePro",
            sms_sdk_app_id=TENCENT_TEST_APP_ID,
            endpoint=handle.url("tencent"),
            pacer=Pacer("tencent", limits={}, sleep=no_wait),
            sleep=sleep,
        )
        return Opened(tencent, handle.tencent_account, tencent.get_signature, "DescribeSmsSignList")
    from reconciler.providers.aws.adapter import AwsProvider

    aws = AwsProvider(
        access_key_id=AWS_TEST_KEY_ID,
        secret_access_key=AWS_TEST_SECRET,
        sender_id="OnePro",
        country="GB",
        endpoint=handle.url("aws"),
        pacer=Pacer("aws", limits={}, sleep=no_wait),
        sleep=sleep,
    )
    return Opened(aws, handle.aws_account, aws.get_signature, "DescribeSenderIds")


def requests(account: SandboxAccount, operation: str) -> int:
    return account.counters().get(f"op:{operation}", 0)


@pytest.fixture
def base_delay(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setenv(RETRY_BASE_ENV, str(BASE))
    return BASE


@pytest.mark.parametrize("name", ["alibaba", "tencent", "aws"])
def test_every_adapter_backs_off_from_the_base_delay_in_the_environment(
    name: str, sandbox_factory: SandboxFactory, base_delay: float
) -> None:
    t = FakeTime()
    opened = open_adapter(name, sandbox_factory, t.sleep)
    opened.account.configure(
        faults={"throttle": {"rate": 1, "operations": [opened.read_operation], "retry_after_ms": 0}}
    )
    with pytest.raises(ProviderError) as caught:
        opened.read()
    assert caught.value.kind is ErrorKind.THROTTLED
    # One layer: as many requests as the policy has attempts, a wait between each two.
    assert requests(opened.account, opened.read_operation) == ATTEMPTS
    assert len(t.slept) == ATTEMPTS - 1
    for n, waited in enumerate(t.slept):  # jitter keeps each within [half, all] of base * 2**n
        full = min(RetryPolicy().max_delay, base_delay * 2**n)
        assert full / 2 <= waited <= full, (n, waited)


@pytest.mark.parametrize("name", ["alibaba", "tencent", "aws"])
def test_a_refusal_is_not_retried_by_any_adapter(name: str, sandbox_factory: SandboxFactory, base_delay: float) -> None:
    t = FakeTime()
    opened = open_adapter(name, sandbox_factory, t.sleep)
    # A secret the emulator does not know: the provider refuses the request's signature.
    bad = open_adapter_with_wrong_key(opened)
    with pytest.raises(ProviderError) as caught:
        bad()
    assert caught.value.kind is ErrorKind.AUTH_REFUSED and not caught.value.retryable
    assert t.slept == []


def open_adapter_with_wrong_key(opened: Opened) -> Callable[[], object]:
    adapter = opened.adapter
    if adapter.name == "alibaba":
        from reconciler.providers.alibaba.adapter import AlibabaProvider

        return AlibabaProvider(
            access_key_id="LTAI5tSandboxTestKey0001", access_key_secret="wrong", sign_name="OnePro",
            endpoint=adapter.endpoint, sleep=no_wait,
        ).get_signature  # fmt: skip
    if adapter.name == "tencent":
        from reconciler.providers.tencent.adapter import TencentProvider

        return TencentProvider(
            secret_id=TENCENT_TEST_SECRET_ID, secret_key="wrong", sign_name="OnePro",
            sms_sdk_app_id=TENCENT_TEST_APP_ID, endpoint=adapter.endpoint, sleep=no_wait,
        ).get_signature  # fmt: skip
    from reconciler.providers.aws.adapter import AwsProvider

    return AwsProvider(
        access_key_id=AWS_TEST_KEY_ID, secret_access_key="wrong", sender_id="OnePro", country="GB",
        endpoint=adapter.endpoint, sleep=no_wait,
    ).get_signature  # fmt: skip


def test_a_retry_after_hint_is_honoured_when_longer_and_refused_beyond_the_cap(
    sandbox_factory: SandboxFactory, base_delay: float
) -> None:
    t = FakeTime()
    opened = open_adapter("alibaba", sandbox_factory, t.sleep)
    opened.account.configure(
        faults={"throttle": {"rate": 1, "operations": ["GetSmsSign"], "limit": 1, "retry_after_ms": 3000}}
    )
    opened.read()
    assert t.slept == [3.0]  # the provider's 3 s, longer than the backoff's first 0.25 s
    assert requests(opened.account, "GetSmsSign") == 2

    opened.account.configure(
        faults={"throttle": {"rate": 1, "operations": ["GetSmsSign"], "limit": 100, "retry_after_ms": 3_600_000}}
    )
    with pytest.raises(ProviderError) as caught:  # an hour: fail now rather than hang
        opened.read()
    assert caught.value.kind is ErrorKind.THROTTLED
    assert t.slept == [3.0] and requests(opened.account, "GetSmsSign") == 3


# -- no nesting: apply over a real adapter -----------------------------------------------------------


def create_plan(name: str) -> ChannelPlan:
    request = TemplateRequest(
        name=f"{name}~1234567", content="Your code is ${code}.", kind=TemplateKind.VERIFICATION, remark="Sign-in."
    )
    change = Change(
        action=Action.CREATE,
        channel="prod",
        template=name,
        address=f"prod/{name}~1234567",
        after=TemplateVersion(provider_name=request.name, content=request.content, kind=request.kind),
        request=request,
    )
    return ChannelPlan(channel="prod", provider="alibaba", changes=(change,), observed_digest="d")


@pytest.mark.parametrize(("name", "operation"), [("alibaba", "CreateSmsTemplate"), ("tencent", "AddSmsTemplate")])
def test_apply_does_not_retry_on_top_of_the_adapter(
    name: str, operation: str, sandbox_factory: SandboxFactory, base_delay: float
) -> None:
    t = FakeTime()
    opened = open_adapter(name, sandbox_factory, t.sleep)
    opened.account.configure(faults={"throttle": {"rate": 1, "operations": [operation], "retry_after_ms": 0}})
    applier = ChannelApplier(
        opened.adapter, create_plan("login"), observe=lambda: ChannelObservation(channel="prod"), sleep=t.sleep
    )
    (result,) = applier.run(check_digest=False)
    assert result.outcome is ChangeOutcome.FAILED and result.attempts == 1
    # N attempts in all (the adapter's), not N x M (the adapter's inside apply's).
    assert requests(opened.account, operation) == ATTEMPTS


def test_apply_resends_a_create_only_after_looking_and_each_resend_is_one_request(
    sandbox_factory: SandboxFactory, base_delay: float
) -> None:
    t = FakeTime()
    opened = open_adapter("alibaba", sandbox_factory, t.sleep)
    # Every create fails after it was sent (503): the adapter must not retry it, apply looks first.
    opened.account.configure(faults={"server_error": {"rate": 1, "operations": ["CreateSmsTemplate"]}})
    applier = ChannelApplier(
        opened.adapter, create_plan("login"), observe=lambda: ChannelObservation(channel="prod"), sleep=t.sleep
    )
    (result,) = applier.run(check_digest=False)
    assert result.outcome is ChangeOutcome.FAILED and result.attempts == ATTEMPTS
    assert requests(opened.account, "CreateSmsTemplate") == ATTEMPTS
    assert requests(opened.account, "GetSmsTemplateList") >= ATTEMPTS  # a look before every resend
    assert opened.account.templates() == []
