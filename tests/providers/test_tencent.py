"""The Tencent adapter through the official tencentcloud SDK against the sandbox's Tencent emulator.

The adapter's pacer and backoff run on the sandbox clock (sleeping advances it), so the emulator's
per-second API limits are met exactly as a real client would meet them, without waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.content.identity import fingerprint
from reconciler.errors import ProviderError, ResponseLost
from reconciler.providers.base import (
    DeliveryState,
    Provider,
    ReviewStatus,
    SendRequest,
    Tagging,
    TemplateKind,
    TemplateRequest,
)
from reconciler.providers.ratelimit import Pacer
from reconciler.providers.retry import RetryPolicy
from reconciler.providers.tencent.adapter import TencentProvider
from reconciler.providers.tencent.codes import infer_kind
from reconciler.sandbox.testing import (
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxFactory,
    SandboxHandle,
)

PHONE = "+8613812345678"
FAILING = "+8613812340000"
VERIFY = "Your login code is {1}. It expires in {2} minutes."


class SandboxTime:
    """Sleep = advance the sandbox clock; records what was slept."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.handle = handle
        self.slept: list[float] = []

    def now(self) -> float:
        return self.handle.clock.now()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.handle.clock.advance(seconds)


@pytest.fixture
def tencent(sandbox_factory: SandboxFactory) -> SandboxHandle:
    return sandbox_factory.start("tencent")


@pytest.fixture
def time_(tencent: SandboxHandle) -> SandboxTime:
    return SandboxTime(tencent)


def make(
    handle: SandboxHandle,
    time_: SandboxTime,
    *,
    secret: str = TENCENT_TEST_SECRET_KEY,
    sign: str = "OnePro",
    pacer: Pacer | None = None,
) -> TencentProvider:
    return TencentProvider(
        secret_id=TENCENT_TEST_SECRET_ID,
        secret_key=secret,
        sign_name=sign,
        sms_sdk_app_id=TENCENT_TEST_APP_ID,
        endpoint=handle.url("tencent"),
        timeout_s=5,
        pacer=pacer or Pacer("tencent", clock=time_.now, sleep=time_.sleep),
        retry_policy=RetryPolicy(attempts=4, base_delay=0.5, max_delay=4),
        sleep=time_.sleep,
        now=lambda: datetime.fromtimestamp(handle.clock.now(), UTC),
    )


@pytest.fixture
def provider(tencent: SandboxHandle, time_: SandboxTime) -> TencentProvider:
    return make(tencent, time_)


def managed(name: str, content: str, kind: TemplateKind, international: bool = False) -> TemplateRequest:
    """A request named the way smsops names templates: ``<name>~<fingerprint>``."""
    return TemplateRequest(
        name=f"{name}~{fingerprint(content, kind.value, international)}",
        content=content,
        kind=kind,
        international=international,
        remark="Sent by the app.",
    )


def calls(handle: SandboxHandle, operation: str) -> int:
    return handle.tencent_account.counters().get(f"op:{operation}", 0)


def test_is_a_provider_without_tags(provider: TencentProvider) -> None:
    assert isinstance(provider, Provider) and not isinstance(provider, Tagging)


def test_lists_page_through_both_regions_with_kinds_recovered(
    provider: TencentProvider, tencent: SandboxHandle
) -> None:
    tencent.tencent_account.configure(create_daily_quota=200)
    created = {
        provider.create_template(managed(f"t{i}", f"Code {i}: {{1}}", TemplateKind.VERIFICATION)) for i in range(101)
    }
    notify = provider.create_template(managed("ship", "Order {1} shipped.", TemplateKind.NOTIFICATION))
    promo = provider.create_template(managed("sale", "Spring sale! 拒收请回复R", TemplateKind.MARKETING))
    intl = provider.create_template(managed("intl", "Your code is {1}.", TemplateKind.VERIFICATION, True))
    observed = {t.code: t for t in provider.list_templates()}
    assert set(observed) == created | {notify, promo, intl}
    assert calls(tencent, "DescribeSmsTemplateList") == 3  # mainland: 100 + 4, international: 1
    assert (observed[notify].kind, observed[promo].kind) == (TemplateKind.NOTIFICATION, TemplateKind.MARKETING)
    assert (observed[intl].kind, observed[intl].international) == (TemplateKind.VERIFICATION, True)
    assert not any(t.kind_inferred for t in observed.values())


def test_review_statuses_and_rejection_reason(provider: TencentProvider, tencent: SandboxHandle) -> None:
    good = provider.create_template(managed("login", VERIFY, TemplateKind.VERIFICATION))
    bad = provider.create_template(managed("bad", "Code {1} at www.example.com", TemplateKind.VERIFICATION))
    tencent.clock.advance(3600)
    observed = {t.code: t for t in provider.list_templates()}
    assert observed[good].status is ReviewStatus.APPROVED and observed[good].reason == ""
    assert observed[bad].status is ReviewStatus.REJECTED
    assert "links" in observed[bad].reason


def test_modify_rejected_then_delete(provider: TencentProvider, tencent: SandboxHandle) -> None:
    code = provider.create_template(managed("bad", "Code {1} at www.example.com", TemplateKind.VERIFICATION))
    tencent.clock.advance(3600)
    provider.update_template(code, managed("bad", VERIFY, TemplateKind.VERIFICATION))
    [template] = provider.list_templates()
    assert (template.code, template.status, template.content) == (code, ReviewStatus.PENDING, VERIFY)
    tencent.clock.advance(3600)
    with pytest.raises(ProviderError) as caught:
        provider.update_template(code, managed("bad", "Changed {1}", TemplateKind.VERIFICATION))
    assert caught.value.code == "FailedOperation.TemplateAlreadyPassedCheck" and not caught.value.retryable
    provider.delete_template(code)
    assert provider.list_templates() == []


def test_signature_found_by_name_or_none(tencent: SandboxHandle, time_: SandboxTime) -> None:
    signature = make(tencent, time_).get_signature()
    assert signature is not None and (signature.name, signature.status) == ("OnePro", ReviewStatus.APPROVED)
    assert make(tencent, time_, sign="Nobody").get_signature() is None


def test_send_in_position_order_and_pull_delivery(provider: TencentProvider, tencent: SandboxHandle) -> None:
    code = provider.create_template(managed("login", VERIFY, TemplateKind.VERIFICATION))
    tencent.clock.advance(3600)
    receipt = provider.send(SendRequest(template_code=code, phone_number=PHONE, params={"2": "5", "1": "482913"}))
    assert receipt.accepted and receipt.message_id and receipt.code == "Ok"
    [sent] = tencent.tencent_account.sends(phone=PHONE)
    assert "Your login code is 482913. It expires in 5 minutes." in sent.content
    assert provider.query_delivery(receipt).state is DeliveryState.WAITING
    tencent.clock.advance(30)
    report = provider.query_delivery(receipt)
    assert (report.state, report.code) == (DeliveryState.DELIVERED, "SUCCESS")

    failing = provider.send(SendRequest(template_code=code, phone_number=FAILING, params={"1": "1", "2": "5"}))
    tencent.clock.advance(30)
    assert provider.query_delivery(failing).state is DeliveryState.FAILED


def test_per_number_failures_are_refused_receipts(provider: TencentProvider, tencent: SandboxHandle) -> None:
    code = provider.create_template(managed("login", VERIFY, TemplateKind.VERIFICATION))
    tencent.clock.advance(3600)
    first = provider.send(SendRequest(template_code=code, phone_number=PHONE, params={"1": "1", "2": "5"}))
    again = provider.send(SendRequest(template_code=code, phone_number=PHONE, params={"1": "1", "2": "5"}))
    assert first.accepted
    assert (again.accepted, again.code) == (False, "LimitExceeded.PhoneNumberThirtySecondLimit")
    assert provider.query_delivery(again).state is DeliveryState.FAILED
    with pytest.raises(ProviderError, match="positional"):
        provider.send(SendRequest(template_code=code, phone_number=PHONE, params={"code": "1"}))


def test_wrong_secret_is_terminal_and_leaks_no_secret(tencent: SandboxHandle, time_: SandboxTime) -> None:
    wrong = "tencent-wrong-secret-Q9x"
    with pytest.raises(ProviderError) as caught:
        make(tencent, time_, secret=wrong).list_templates()
    assert caught.value.code == "AuthFailure.SignatureFailure" and not caught.value.retryable
    assert time_.slept == []
    assert "SecretKey" in caught.value.hint
    text = f"{caught.value} {caught.value.failure!r}"
    assert wrong not in text and TENCENT_TEST_SECRET_KEY not in text


def test_rate_limited_reads_are_retried(tencent: SandboxHandle, time_: SandboxTime) -> None:
    # No client-side pacing: the emulator's 20/s DescribeSmsTemplateList limit answers RequestLimitExceeded.
    unpaced = Pacer("tencent", limits={}, clock=time_.now, sleep=time_.sleep)
    tencent.tencent_account.configure(api_rates={"DescribeSmsTemplateList": 1})
    provider = make(tencent, time_, pacer=unpaced)
    provider.list_templates()  # two calls (mainland, international) within one sandbox second
    assert time_.slept and calls(tencent, "DescribeSmsTemplateList") >= 3


def test_pacing_keeps_creates_under_the_provider_limit(
    provider: TencentProvider, tencent: SandboxHandle, time_: SandboxTime
) -> None:
    for i in range(5):
        provider.create_template(managed(f"t{i}", f"Code {i}: {{1}}", TemplateKind.VERIFICATION))
    assert calls(tencent, "AddSmsTemplate") == 5  # never refused, so never retried
    assert sum(time_.slept) == pytest.approx(2.0)  # 2/s: four half-second waits


def test_lost_create_answer_is_response_lost(provider: TencentProvider, tencent: SandboxHandle) -> None:
    tencent.tencent_account.configure(
        faults={"lost_response": {"rate": 1, "operations": ["AddSmsTemplate"], "limit": 1}}
    )
    with pytest.raises(ResponseLost):
        provider.create_template(managed("login", VERIFY, TemplateKind.VERIFICATION))
    assert calls(tencent, "AddSmsTemplate") == 1
    assert len(provider.list_templates()) == 1


def test_kind_inference_for_templates_smsops_did_not_name() -> None:
    assert infer_kind("hand-made", "Spring sale! 拒收请回复R", False) == (TemplateKind.MARKETING, True)
    assert infer_kind("hand-made", "您的验证码是{1}", False) == (TemplateKind.VERIFICATION, True)
    assert infer_kind("hand-made", "Order {1} shipped", False) == (TemplateKind.NOTIFICATION, True)
    exact = fingerprint("Order {1} shipped", "marketing", False)
    assert infer_kind(f"ship~{exact}", "Order {1} shipped", False) == (TemplateKind.MARKETING, False)
