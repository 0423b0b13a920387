"""The Alibaba adapter through the official SDK against the sandbox's Alibaba emulator on loopback."""

from __future__ import annotations

import math
import socket
import sys
from datetime import UTC, datetime

import pytest

from reconciler.content.identity import fingerprint
from reconciler.errors import ProviderError, ResponseLost, SmsopsError
from reconciler.providers.alibaba.adapter import MARK_KEYS, AlibabaProvider
from reconciler.providers.alibaba.listing import marks_agree
from reconciler.providers.base import (
    DeliveryState,
    Provider,
    ReviewStatus,
    SendRequest,
    Tagging,
    TemplateKind,
    TemplateRequest,
)
from reconciler.providers.ratelimit import DEFAULT_LIMITS, Pacer, RateLimit
from reconciler.providers.retry import RetryPolicy
from reconciler.sandbox.testing import SandboxHandle

MAINLAND = "+8613812345678"
FAILING = "+8613812340000"  # the sandbox fails numbers ending 0000


def calls(sandbox: SandboxHandle, operation: str) -> int:
    """Requests the emulator received for ``operation`` (read-only: ``SandboxAccount.count`` bumps)."""
    return sandbox.account.counters().get(f"op:{operation}", 0)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_provider(
    sandbox: SandboxHandle,
    *,
    secret: str | None = None,
    endpoint: str | None = None,
    sleeps: Sleeps | None = None,
    sign: str = "OnePro",
) -> AlibabaProvider:
    fast = {op: RateLimit(1000, 100) for op in DEFAULT_LIMITS["alibaba"]}
    return AlibabaProvider(
        access_key_id=sandbox.access_key_id,
        access_key_secret=secret or sandbox.access_key_secret,
        sign_name=sign,
        endpoint=endpoint or sandbox.url(),
        read_timeout_s=5,
        pacer=Pacer("alibaba", limits=fast),
        retry_policy=RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05),
        sleep=sleeps if sleeps is not None else Sleeps(),
        now=lambda: datetime.fromtimestamp(sandbox.clock.now(), UTC),
    )


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def provider(sms_sandbox: SandboxHandle, sleeps: Sleeps) -> AlibabaProvider:
    return make_provider(sms_sandbox, sleeps=sleeps)


def verification(name: str = "login~0000001", content: str = "Your code is ${code}.") -> TemplateRequest:
    return TemplateRequest(
        name=name,
        content=content,
        kind=TemplateKind.VERIFICATION,
        remark="Sign-in two-factor code.",
        variable_types={"code": "numberCaptcha"},
    )


def test_is_a_provider_with_tags(provider: AlibabaProvider) -> None:
    assert isinstance(provider, Provider) and isinstance(provider, Tagging)


def test_reads_and_writes_share_one_transport(provider: AlibabaProvider, sms_sandbox: SandboxHandle) -> None:
    """The observer is given the provider's transport (one client, one pacer), and needs nothing else."""
    from reconciler.providers.alibaba.observe import AlibabaObserver

    assert provider.observer.transport is provider.transport
    code = provider.create_template(verification())
    observer = AlibabaObserver(provider.transport)
    assert [t.code for t in observer.list_templates()] == [code] == [t.code for t in provider.list_templates()]
    assert observer.get_signature() == provider.get_signature()


def test_list_pages_through_more_than_fifty_templates(provider: AlibabaProvider, sms_sandbox: SandboxHandle) -> None:
    codes = {provider.create_template(verification(f"t{i}~{i:07x}", f"Code {i}: ${{code}}")) for i in range(53)}
    listed = provider.list_templates()
    assert {t.code for t in listed} == codes
    assert len(listed) == 53
    assert calls(sms_sandbox, "GetSmsTemplateList") == 2  # PageSize 50: two pages


def test_types_international_and_review_statuses_are_mapped(
    provider: AlibabaProvider, sms_sandbox: SandboxHandle
) -> None:
    requests = {
        "verify": verification("verify~0000001"),
        "notify": TemplateRequest(
            name="notify~0000002",
            content="Order ${order} shipped.",
            kind=TemplateKind.NOTIFICATION,
            remark="Shipping notice.",
            variable_types={"order": "other_number2"},
        ),
        "promo": TemplateRequest(
            name="promo~0000003",
            content="Spring sale this week.",
            kind=TemplateKind.MARKETING,
            remark="Seasonal promotion.",
        ),
        "intl": TemplateRequest(
            name="intl~0000004",
            content="Your code is ${code}.",
            kind=TemplateKind.VERIFICATION,
            international=True,
            remark="Overseas sign-in.",
            variable_types={"code": "numberCaptcha"},
        ),
        "intl-notify": TemplateRequest(
            name="intln~0000005",
            content="Your parcel left.",
            kind=TemplateKind.NOTIFICATION,
            international=True,
            remark="Overseas shipping.",
        ),
        "rejected": TemplateRequest(
            name="bad~0000006", content="Win at the casino!", kind=TemplateKind.MARKETING, remark="Promotion."
        ),
    }
    codes = {key: provider.create_template(request) for key, request in requests.items()}
    pending = {t.code: t for t in provider.list_templates()}
    assert {t.status for t in pending.values()} == {ReviewStatus.PENDING}

    sms_sandbox.clock.advance(60)
    observed = {t.code: t for t in provider.list_templates()}
    by_key = {key: observed[code] for key, code in codes.items()}
    assert {k: (t.kind, t.international) for k, t in by_key.items()} == {
        "verify": (TemplateKind.VERIFICATION, False),
        "notify": (TemplateKind.NOTIFICATION, False),
        "promo": (TemplateKind.MARKETING, False),
        "intl": (TemplateKind.VERIFICATION, True),
        "intl-notify": (TemplateKind.NOTIFICATION, True),
        "rejected": (TemplateKind.MARKETING, False),
    }
    assert by_key["verify"].status is ReviewStatus.APPROVED
    assert by_key["verify"].content == "Your code is ${code}."
    assert by_key["verify"].name == "verify~0000001"
    assert by_key["verify"].created_at is not None and by_key["verify"].created_at.utcoffset() is not None
    assert by_key["rejected"].status is ReviewStatus.REJECTED
    assert by_key["rejected"].reason == "The content contains a prohibited word: casino."


def test_update_a_rejected_template_then_delete_it(provider: AlibabaProvider, sms_sandbox: SandboxHandle) -> None:
    code = provider.create_template(verification("login~00000aa", "Code ${code}: see www.example.com"))
    sms_sandbox.clock.advance(60)
    [rejected] = provider.list_templates()
    assert rejected.status is ReviewStatus.REJECTED
    assert "links" in rejected.reason

    provider.update_template(code, verification("login~00000aa", "Your code is ${code}."))
    [resubmitted] = provider.list_templates()
    assert (resubmitted.code, resubmitted.status, resubmitted.content) == (
        code,
        ReviewStatus.PENDING,
        "Your code is ${code}.",
    )
    sms_sandbox.clock.advance(60)
    assert provider.list_templates()[0].status is ReviewStatus.APPROVED

    with pytest.raises(ProviderError) as caught:  # approved templates are immutable
        provider.update_template(code, verification("login~00000aa", "Changed ${code}."))
    assert caught.value.code == "isv.SMS_TEMPLATE_STATE_ILLEGAL" and not caught.value.retryable

    provider.delete_template(code)
    assert provider.list_templates() == []


def test_tags_are_set_and_observed(provider: AlibabaProvider) -> None:
    code = provider.create_template(verification())
    other = provider.create_template(verification("other~0000002"))
    provider.set_tags(code, {"smsops-live": "2026-01-01T00:00:00Z"})
    tags = {t.code: t.tags for t in provider.list_templates()}
    assert tags == {code: {"smsops-live": "2026-01-01T00:00:00Z"}, other: {}}


@pytest.mark.parametrize(
    ("sign", "status", "reason"),
    [
        ("OnePro", ReviewStatus.APPROVED, ""),
        ("Pending", ReviewStatus.PENDING, ""),
        ("Refused", ReviewStatus.REJECTED, "Rejected by the sandbox."),
    ],
)
def test_signature_status(sms_sandbox: SandboxHandle, sign: str, status: ReviewStatus, reason: str) -> None:
    signature = make_provider(sms_sandbox, sign=sign).get_signature()
    assert signature is not None
    assert (signature.name, signature.status, signature.reason) == (sign, status, reason)


def test_missing_signature_is_none(sms_sandbox: SandboxHandle) -> None:
    assert make_provider(sms_sandbox, sign="NoSuchSign").get_signature() is None


def test_send_and_delivery(provider: AlibabaProvider, sms_sandbox: SandboxHandle) -> None:
    code = provider.create_template(verification())
    sms_sandbox.clock.advance(60)
    receipt = provider.send(SendRequest(template_code=code, phone_number=MAINLAND, params={"code": "482913"}))
    assert receipt.accepted and receipt.message_id and receipt.code == "OK"
    assert provider.query_delivery(receipt).state is DeliveryState.WAITING
    sms_sandbox.clock.advance(5)
    report = provider.query_delivery(receipt)
    assert (report.state, report.code, report.message_id) == (DeliveryState.DELIVERED, "DELIVERED", receipt.message_id)

    failing = provider.send(SendRequest(template_code=code, phone_number=FAILING, params={"code": "482913"}))
    sms_sandbox.clock.advance(5)
    assert provider.query_delivery(failing).state is DeliveryState.FAILED


def test_per_number_limit_is_a_refused_receipt_recognisable_by_code(
    provider: AlibabaProvider, sms_sandbox: SandboxHandle
) -> None:
    code = provider.create_template(verification())
    sms_sandbox.clock.advance(60)
    request = SendRequest(template_code=code, phone_number=MAINLAND, params={"code": "482913"})
    assert provider.send(request).accepted
    second = provider.send(request)  # verification: 1 per minute per number
    assert (second.accepted, second.code) == (False, "isv.BUSINESS_LIMIT_CONTROL")
    assert "13812345678" not in second.message
    assert provider.query_delivery(second).state is DeliveryState.FAILED


def test_send_with_an_unapproved_template_is_refused(provider: AlibabaProvider) -> None:
    code = provider.create_template(verification())  # still pending
    receipt = provider.send(SendRequest(template_code=code, phone_number=MAINLAND, params={"code": "1"}))
    assert (receipt.accepted, receipt.code) == (False, "isv.SMS_TEMPLATE_ILLEGAL")


def test_dry_run_is_refused(provider: AlibabaProvider) -> None:
    with pytest.raises(ProviderError, match="DryRunUnsupported"):
        provider.send(SendRequest(template_code="SMS_1", phone_number=MAINLAND, dry_run=True))


def test_wrong_secret_is_terminal_and_leaks_no_secret(sms_sandbox: SandboxHandle, sleeps: Sleeps) -> None:
    wrong = "wrong-secret-Zq81xK"
    provider = make_provider(sms_sandbox, secret=wrong, sleeps=sleeps)
    with pytest.raises(ProviderError) as caught:
        provider.list_templates()
    error = caught.value
    assert not error.retryable and sleeps == []
    assert error.code == "SignatureDoesNotMatch"
    assert "accessKeySecret" in error.hint
    text = f"{error} {error.failure!r}"
    assert wrong not in text and sms_sandbox.access_key_secret not in text


def test_throttled_reads_are_retried_honouring_retry_after(
    provider: AlibabaProvider, sms_sandbox: SandboxHandle, sleeps: Sleeps
) -> None:
    sms_sandbox.account.configure(
        faults={"throttle": {"rate": 1, "operations": ["GetSmsTemplateList"], "limit": 2, "retry_after_ms": 1500}}
    )
    assert provider.list_templates() == []
    assert sleeps == [1.5, 1.5]
    assert calls(sms_sandbox, "GetSmsTemplateList") == 3


def test_server_errors_on_reads_are_retried_until_attempts_run_out(
    provider: AlibabaProvider, sms_sandbox: SandboxHandle
) -> None:
    sms_sandbox.account.configure(faults={"server_error": {"rate": 1, "operations": ["GetSmsSign"]}})
    with pytest.raises(ProviderError) as caught:
        provider.get_signature()
    assert caught.value.retryable and not isinstance(caught.value, ResponseLost)
    assert calls(sms_sandbox, "GetSmsSign") == 4


def test_lost_create_answer_raises_response_lost_and_is_not_retried(
    provider: AlibabaProvider, sms_sandbox: SandboxHandle
) -> None:
    sms_sandbox.account.configure(
        faults={"lost_response": {"rate": 1, "operations": ["CreateSmsTemplate"], "limit": 1}}
    )
    with pytest.raises(ResponseLost) as caught:
        provider.create_template(verification())
    assert not caught.value.retryable and "re-run plan" in caught.value.hint
    assert calls(sms_sandbox, "CreateSmsTemplate") == 1
    # The change happened: re-observing finds it, exactly once.
    assert [t.name for t in provider.list_templates()] == ["login~0000001"]


@pytest.mark.parametrize("fault", ["server_error", "reset"])
def test_create_failing_after_sending_is_response_lost(
    provider: AlibabaProvider, sms_sandbox: SandboxHandle, fault: str
) -> None:
    sms_sandbox.account.configure(faults={fault: {"rate": 1, "operations": ["CreateSmsTemplate"], "limit": 1}})
    with pytest.raises(ResponseLost):
        provider.create_template(verification())
    assert calls(sms_sandbox, "CreateSmsTemplate") == 1


def test_throttled_create_is_retried_because_nothing_was_applied(
    provider: AlibabaProvider, sms_sandbox: SandboxHandle
) -> None:
    sms_sandbox.account.configure(
        faults={"throttle": {"rate": 1, "operations": ["CreateSmsTemplate"], "limit": 1, "retry_after_ms": 10}}
    )
    code = provider.create_template(verification())
    assert [t.code for t in provider.list_templates()] == [code]


def test_unreachable_endpoint(sms_sandbox: SandboxHandle) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = make_provider(sms_sandbox, endpoint=f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderError) as read:
        provider.list_templates()
    assert read.value.code == "ConnectionRefused" and read.value.retryable
    with pytest.raises(ProviderError) as write:  # refused: never sent, so not a lost response
        provider.create_template(verification())
    assert not isinstance(write.value, ResponseLost)


def test_missing_sdk_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch, sms_sandbox: SandboxHandle) -> None:
    monkeypatch.setitem(sys.modules, "alibabacloud_dysmsapi20170525", None)
    with pytest.raises(SmsopsError) as caught:
        make_provider(sms_sandbox)
    assert "pip install 'alibabacloud-dysmsapi20170525'" in caught.value.hint


def _managed(logical: str, content: str, kind: TemplateKind, international: bool = False) -> TemplateRequest:
    """A request named the way smsops names versions: the fingerprint really is of this content."""
    return TemplateRequest(
        name=f"{logical}~{fingerprint(content, kind.value, international)}",
        content=content,
        kind=kind,
        international=international,
        remark="Generated for a listing test.",
        variable_types={"code": "numberCaptcha"} if "${code}" in content else {},
    )


def test_listing_costs_one_call_per_fifty_templates_and_keeps_marks_reasons_and_flags(
    provider: AlibabaProvider, sms_sandbox: SandboxHandle
) -> None:
    requests = {f"v{i}": _managed(f"v{i}", f"Code {i}: ${{code}}", TemplateKind.VERIFICATION) for i in range(55)}
    requests["intl"] = _managed("intl", "Your parcel left.", TemplateKind.NOTIFICATION, international=True)
    requests["bad"] = _managed("bad", "Win at the casino!", TemplateKind.MARKETING)
    # Made in the console: no smsops name, so only GetSmsTemplate can tell it is international.
    requests["console"] = TemplateRequest(
        name="海外验证码",
        content="Your code is ${code}.",
        kind=TemplateKind.VERIFICATION,
        international=True,
        remark="Console.",
        variable_types={"code": "numberCaptcha"},
    )
    codes = {key: provider.create_template(request) for key, request in requests.items()}
    sms_sandbox.clock.advance(60)
    provider.set_tags(codes["v0"], {"smsops-live": "2025-01-02T03:04:05Z", "owner": "team-a"})
    provider.set_tags(codes["v1"], {"smsops-gate": "failed 2025-01-02T03:04:05Z: no delivery"})
    provider.set_tags(codes["intl"], {"smsops-removed": "2025-01-03T00:00:00Z"})
    before = sms_sandbox.account.counters()

    observed = {t.code: t for t in provider.list_templates()}

    after = sms_sandbox.account.counters()
    spent = {k[3:]: after[k] - before.get(k, 0) for k in after if k.startswith("op:") and after[k] != before.get(k, 0)}
    n = len(requests)
    assert n > 50 and len(observed) == n
    # ⌈N/50⌉ pages, one tag page per mark key to check the listed marks, one GetSmsTemplate each for
    # the rejected and the unmanaged template; nothing per managed template, no QuerySmsTemplateList.
    assert spent == {"GetSmsTemplateList": math.ceil(n / 50), "ListTagResources": len(MARK_KEYS), "GetSmsTemplate": 2}
    by_key = {key: observed[code] for key, code in codes.items()}
    assert by_key["v0"].tags == {"smsops-live": "2025-01-02T03:04:05Z"}  # only smsops' marks
    assert by_key["v1"].tags == {"smsops-gate": "failed 2025-01-02T03:04:05Z: no delivery"}
    assert by_key["intl"].tags == {"smsops-removed": "2025-01-03T00:00:00Z"}
    assert sum(bool(t.tags) for t in observed.values()) == 3
    assert (by_key["intl"].kind, by_key["intl"].international) == (TemplateKind.NOTIFICATION, True)
    assert (by_key["console"].kind, by_key["console"].international) == (TemplateKind.VERIFICATION, True)
    assert (by_key["v7"].kind, by_key["v7"].international) == (TemplateKind.VERIFICATION, False)
    assert (by_key["bad"].status, by_key["bad"].kind) == (ReviewStatus.REJECTED, TemplateKind.MARKETING)
    assert by_key["bad"].reason == "The content contains a prohibited word: casino."
    assert by_key["v7"].status is ReviewStatus.APPROVED and by_key["v7"].content == "Code 7: ${code}"
    assert by_key["v7"].created_at is not None and by_key["v7"].reason == ""


def test_marks_disagreeing_with_the_tag_api_are_not_trusted() -> None:
    listed = {"SMS_1": {"smsops-live": "t1"}}
    assert marks_agree("smsops-live", [("SMS_1", "t1")], True, listed, {"SMS_1", "SMS_2"})
    # The listing lacks a mark the tag API has (e.g. TemplateTag not carrying resource tags).
    assert not marks_agree("smsops-live", [("SMS_1", "t1"), ("SMS_2", "t2")], False, listed, {"SMS_1", "SMS_2"})
    assert not marks_agree("smsops-live", [("SMS_1", "t0")], False, listed, {"SMS_1"})
    # The whole key was read and it lacks a listed mark.
    assert not marks_agree("smsops-live", [], True, listed, {"SMS_1"})
    assert marks_agree("smsops-live", [], False, listed, {"SMS_1"})  # a partial page proves nothing
    # A template created after the listing is not held against it.
    assert marks_agree("smsops-live", [("SMS_1", "t1"), ("SMS_9", "t9")], True, listed, {"SMS_1"})


def test_concurrent_first_requests_share_one_sdk_session(
    provider: AlibabaProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK builds its per-endpoint HTTP session (with an SSL context) on first use, unlocked.
    from concurrent.futures import ThreadPoolExecutor

    from darabonba.core import DaraCore  # type: ignore[import-untyped]

    from reconciler.providers.alibaba import transport as alibaba_transport

    monkeypatch.setattr(alibaba_transport, "_opened", set())  # as in a new process
    monkeypatch.setattr(DaraCore, "_sessions", {})
    built: list[str] = []
    get_adapter = DaraCore.get_adapter

    def counted(*args: object, **kwargs: object) -> object:
        built.append("adapter")
        return get_adapter(*args, **kwargs)

    monkeypatch.setattr(DaraCore, "get_adapter", staticmethod(counted))
    with ThreadPoolExecutor(max_workers=4) as pool:
        signatures = list(pool.map(lambda _: provider.get_signature(), range(4)))

    assert all(s is not None and s.status is ReviewStatus.APPROVED for s in signatures)
    assert built == ["adapter"]


def test_the_signature_is_read_beside_the_listing(provider: AlibabaProvider, sms_sandbox: SandboxHandle) -> None:
    from reconciler.reconcile.changes import DesiredChannel
    from reconciler.reconcile.observe import observe_channel

    for i in range(60):
        provider.create_template(_managed(f"t{i}", f"Code {i}: ${{code}}", TemplateKind.VERIFICATION))
    before = sms_sandbox.account.counters()

    observed = observe_channel(provider, DesiredChannel(name="c", provider="alibaba", signature="OnePro", templates=()))

    after = sms_sandbox.account.counters()
    assert observed.error == "" and len(observed.templates) == 60
    assert observed.signature is not None and observed.signature.name == "OnePro"
    assert after["op:GetSmsSign"] - before.get("op:GetSmsSign", 0) == 1
    assert after["op:GetSmsTemplateList"] - before.get("op:GetSmsTemplateList", 0) == 2
    assert provider.read_whole()[0] == provider.get_signature() == observed.signature


def test_the_observer_reads_back_every_rollout_mark() -> None:
    from reconciler.reconcile import rollout

    assert set(MARK_KEYS) == set(rollout.TAG_KEYS)
