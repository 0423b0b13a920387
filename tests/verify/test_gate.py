"""The gate against the sandbox emulators, through the real adapters and official SDKs over loopback.

Time is the sandbox's ManualClock: the gate's injected sleep advances it, so pacing and delivery
timeouts are observed without waiting. The SDKs sign with the real time and the emulators check
skew (5 min for TC3), so no test moves the clock by more than a few minutes.
"""

from __future__ import annotations

import itertools
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from reconciler.config.models import Channel, Template
from reconciler.providers.base import TemplateKind
from reconciler.providers.retry import RetryPolicy
from reconciler.render.gate import render
from reconciler.render.junit import junit_xml
from reconciler.sandbox.server import start
from reconciler.sandbox.store.account import ManualClock, Sandbox, SandboxAccount
from reconciler.sandbox.testing import AWS_TEST_VERIFIED, SandboxHandle
from reconciler.verify.gate import gate_send, run_gate
from reconciler.verify.pacing import PACING_MARGIN_S, Pacing
from reconciler.verify.results import GateProgress, GateResult, GateSend, Proof, SendOutcome

SECRET_ID = "AKIDgateTencent0000000000000000000000"
SECRET_KEY = "gate-tencent-secret-key-0001"
APP_ID = "1400123456"
GOOD = "+8613812345678"
OTHER = "+8613912345671"
FAILS = "+8613812340000"  # designated: delivery fails
NEVER = "+8613812349999"  # designated: never delivered
LOGIN = "Your login code is {{ code }}. It expires in {{ minutes }} minutes."
# Retries as in production, but backing off in milliseconds: a failing history query retries fast.
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)


def channel_doc(provider: str, *, enabled: bool = True, test_send: bool = True) -> Channel:
    spec: dict[str, Any] = {
        "provider": provider,
        "signature": {"name": "OnePro"},
        "enabled": enabled,
        "credentials": {"sops": "../secrets/x.enc.yaml"},
    }
    if provider == "tencent":
        spec["signature"]["smsSdkAppId"] = APP_ID
    if test_send:
        spec["testSend"] = {
            "recipients": {"sops": "../secrets/x.enc.yaml", "key": "test_recipients"},
            "deliveryTimeout": "60s",
        }
    return Channel.model_validate(
        {"apiVersion": "smsops/v1", "kind": "Channel", "metadata": {"name": "prod"}, "spec": spec}
    )


def template_doc(name: str = "login", content: str = LOGIN, kind: str = "verification") -> Template:
    return Template.model_validate(
        {
            "apiVersion": "smsops/v1",
            "kind": "Template",
            "metadata": {"name": name},
            "spec": {
                "type": kind,
                "content": content,
                "remark": "sent at sign-in",
                "variables": {
                    "code": {"type": "code", "example": "482913"},
                    "minutes": {"type": "number", "example": "5"},
                },
            },
        }
    )


@dataclass
class Env:
    api: str
    account: SandboxAccount
    clock: ManualClock
    provider: Any
    limit_code: str  # what the provider answers when a per-number limit is hit
    history_op: str  # the operation the provider's send history is read with
    reject_code: str  # ... when the template parameters are wrong
    pacing: tuple[float, str]  # the gap between verification codes to one number, and why
    sleeps: list[float] = field(default_factory=list)
    progress: list[GateProgress] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)

    def channel(self, **options: Any) -> Channel:
        return channel_doc(self.api, **options)

    def register(self, template: Template) -> str:
        """Create the template through the adapter and approve it in the sandbox: its code."""
        from reconciler.reconcile.desired import desired_template

        request = desired_template(template, self.channel()).request
        code: str = self.provider.create_template(request)
        self.account.approve(code)
        return code

    def gate(self, sends: list[GateSend], numbers: tuple[str, ...] = (GOOD,), **options: Any) -> GateResult:
        channel = options.pop("channel", None) or self.channel()
        return run_gate(
            self.provider,
            channel,
            [SecretStr(n) for n in numbers],
            sends,
            clock=self.clock.now,
            sleep=self.sleep,
            progress=self.progress.append,
            **options,
        )


def alibaba_env(request: pytest.FixtureRequest) -> Env:
    from reconciler.providers.alibaba.adapter import AlibabaProvider

    handle: SandboxHandle = request.getfixturevalue("sms_sandbox")
    provider = AlibabaProvider(
        access_key_id=handle.access_key_id,
        access_key_secret=handle.access_key_secret,
        sign_name="OnePro",
        endpoint=handle.url(),
        now=lambda: datetime.fromtimestamp(handle.clock.now(), UTC),
        retry_policy=FAST_RETRY,
    )
    return Env(
        "alibaba",
        handle.account,
        handle.clock,
        provider,
        limit_code="isv.BUSINESS_LIMIT_CONTROL",
        history_op="QuerySendDetails",
        reject_code="isv.TEMPLATE_MISSING_PARAMETERS",
        pacing=(60 + PACING_MARGIN_S, "verification codes: 1 per minute per number"),
    )


@pytest.fixture
def tencent_env(tmp_path: Path) -> Iterator[Env]:
    from reconciler.providers.tencent.adapter import TencentProvider
    from reconciler.sandbox.tencent.emulator import create_account

    # TC3 signatures carry the real time and the emulator checks skew, so its clock starts now.
    clock = ManualClock(time.time())
    sandbox = Sandbox(tmp_path, clock=clock)
    account = create_account(sandbox, "gate", secret_id=SECRET_ID, secret_key=SECRET_KEY, sdk_app_id=APP_ID)
    running = start(sandbox, {"tencent": 0})
    provider = TencentProvider(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        sign_name="OnePro",
        sms_sdk_app_id=APP_ID,
        endpoint=f"http://{running.endpoint('tencent')}",
        now=lambda: datetime.fromtimestamp(clock.now(), UTC),
        retry_policy=FAST_RETRY,
    )
    yield Env(
        "tencent",
        account,
        clock,
        provider,
        limit_code="LimitExceeded.PhoneNumberThirtySecondLimit",
        history_op="PullSmsSendStatusByPhoneNumber",
        reject_code="FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        pacing=(30 + PACING_MARGIN_S, "same content: 1 per 30 s per number"),
    )
    running.close()


@pytest.fixture(params=["alibaba", "tencent"])
def env(request: pytest.FixtureRequest) -> Env:
    if request.param == "alibaba":
        return alibaba_env(request)
    result: Env = request.getfixturevalue("tencent_env")
    return result


def login_send(env: Env, code: str | None = None, **overrides: str) -> GateSend:
    template = template_doc()
    return gate_send(template, env.provider, code or env.register(template), overrides)


def test_delivered_through_the_providers_own_delivery_query(env: Env) -> None:
    result = env.gate([login_send(env)])
    assert result.status == "passed" and result.exit_code == 0
    assert result.proof is Proof.DELIVERED
    (sent,) = result.results
    assert (sent.outcome, sent.proof, sent.recipient) == (SendOutcome.DELIVERED, Proof.DELIVERED, "+86 138****5678")
    assert sent.message_id and sent.provider_code == {"alibaba": "DELIVERED", "tencent": "SUCCESS"}[env.api]
    # Native parameters (Alibaba names, Tencent positions), rendered by the provider with the examples.
    (record,) = env.account.sends()
    assert "482913" in record.content and "5 minutes" in record.content
    assert env.progress[-1].finished == 1 == env.progress[-1].total


def test_recipient_whose_delivery_fails(env: Env) -> None:
    result = env.gate([login_send(env)], numbers=(FAILS,))
    assert result.status == "failed" and result.exit_code == 3
    (sent,) = result.results
    assert sent.outcome is SendOutcome.FAILED and sent.proof is Proof.NONE
    assert sent.provider_code == {"alibaba": "MN:0001", "tencent": "FAIL"}[env.api]
    assert "to +86 138****0000: failed" in result.reason()


def test_timeout_waiting_for_a_receipt(env: Env) -> None:
    result = env.gate([login_send(env)], numbers=(NEVER,), timeout=20, poll_interval=5)
    (sent,) = result.results
    assert sent.outcome is SendOutcome.TIMEOUT and sent.message_id
    assert sent.detail == "no delivery report within 20s"
    assert sum(env.sleeps) == pytest.approx(20)
    assert result.exit_code == 3


def test_sends_to_one_number_are_paced_and_never_limited(env: Env) -> None:
    send = login_send(env)
    result = env.gate([send, send, send], poll_interval=5)
    assert [r.outcome for r in result.results] == [SendOutcome.DELIVERED] * 3
    sent_at = [r.sent_at for r in env.account.sends()]
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    gap, why = env.pacing
    assert gaps == [pytest.approx(gap)] * 2
    assert any(f"pacing: {why}" in p.message for p in env.progress)
    assert env.sleeps and all(s > 0 for s in env.sleeps)


def test_sends_are_spread_round_robin_over_recipients(env: Env) -> None:
    send = login_send(env)
    result = env.gate([send] * 4, numbers=(GOOD, OTHER))
    assert [r.recipient for r in result.results] == ["+86 138****5678", "+86 139****5671"] * 2
    assert all(r.outcome is SendOutcome.DELIVERED for r in result.results)
    first, second, third, _ = env.account.sends()
    assert first.sent_at == second.sent_at  # two numbers: no wait
    assert third.sent_at - first.sent_at == pytest.approx(env.pacing[0])


def test_a_wait_beyond_max_wait_is_reported_as_limited_without_sending(env: Env) -> None:
    send = login_send(env)
    result = env.gate([send, send], max_wait=10)
    assert [r.outcome for r in result.results] == [SendOutcome.DELIVERED, SendOutcome.LIMITED]
    assert env.pacing[1] in result.results[1].detail and result.results[1].detail.startswith("not sent")
    assert len(env.account.sends()) == 1


def test_a_later_process_waits_for_the_sends_of_an_earlier_one(env: Env) -> None:
    """Two runs with their own Pacing, as two `smsops test-send` processes: the second reads the
    provider's record of the first's send and waits for the per-number limit instead of tripping it."""
    send = login_send(env)
    first = env.gate([send], pacing=Pacing())
    env.progress.clear()
    env.sleeps.clear()
    second = env.gate([send], pacing=Pacing())
    assert (first.status, second.status) == ("passed", "passed")
    assert second.results[0].outcome is SendOutcome.DELIVERED
    earlier, later = env.account.sends()
    # Alibaba records the send time (to the second); Tencent's pull gives the receive time only.
    anchor = earlier.sent_at if env.api == "alibaba" else earlier.reported_at
    assert anchor is not None
    gap, why = env.pacing
    assert later.sent_at - anchor == pytest.approx(gap, abs=1)
    assert later.sent_at - earlier.sent_at >= gap - PACING_MARGIN_S
    assert any(f"pacing: {why}" in p.message for p in env.progress)
    assert env.sleeps[0] > 20


def test_a_failing_history_query_falls_back_to_this_runs_own_sends(env: Env) -> None:
    """No record to read: pacing as before, and a limit hit anyway is a limit, not a delivery failure."""
    send = login_send(env)
    env.gate([send])  # an earlier run, moments ago
    env.progress.clear()
    failures = FAST_RETRY.attempts  # every attempt of the one (adapter) layer fails
    env.account.configure(faults={"server_error": {"rate": 1, "operations": [env.history_op], "limit": failures}})
    result = env.gate([send])
    (sent,) = result.results
    assert sent.outcome is SendOutcome.LIMITED
    assert sent.provider_code == env.limit_code
    assert result.status == "failed"
    (note,) = [p.message for p in env.progress if "send history" in p.message]
    assert note.startswith("send history of +86 138****5678 unavailable (")
    assert "pacing counts this run only" in note and GOOD not in note and GOOD[1:] not in note


def test_wrong_template_parameters_are_rejected_by_the_provider(env: Env) -> None:
    code = env.register(template_doc())
    params = {"alibaba": {"code": "482913"}, "tencent": {"1": "482913"}}[env.api]
    wrong = GateSend(template="login", code=code, params=params, kind=TemplateKind.VERIFICATION)
    (sent,) = env.gate([wrong]).results
    assert sent.outcome is SendOutcome.REJECTED
    assert sent.provider_code == env.reject_code
    assert not env.account.sends()


def test_disabled_channel_sends_nothing_and_says_so(env: Env) -> None:
    result = env.gate([login_send(env)], channel=env.channel(enabled=False))
    assert result.status == "skipped" and result.exit_code == 0
    assert result.message == "channel prod is disabled (spec.enabled: false): nothing was sent"
    assert not env.account.sends()


def test_channel_without_recipients_fails_with_how_to_configure(env: Env) -> None:
    result = env.gate([login_send(env)], numbers=(), channel=env.channel(test_send=False))
    assert result.status == "failed" and result.exit_code == 3
    assert "declares no spec.testSend" in result.message
    assert "spec.testSend.recipients" in result.message and "E.164" in result.message
    assert not env.account.sends()


def test_alibaba_verification_codes_share_the_signature_limit(request: pytest.FixtureRequest) -> None:
    env = alibaba_env(request)
    reset = template_doc("reset", "Your reset code is {{ code }} ({{ minutes }} min).")
    sends = [login_send(env), gate_send(reset, env.provider, env.register(reset))]
    result = env.gate(sends)
    assert [r.outcome for r in result.results] == [SendOutcome.DELIVERED] * 2
    first, second = env.account.sends()
    assert second.sent_at - first.sent_at == pytest.approx(60 + PACING_MARGIN_S)


def test_pacing_carries_over_between_runs_on_one_channel(request: pytest.FixtureRequest) -> None:
    """What make_gate relies on: the promotions of one apply are separate runs sharing a Pacing."""
    env = alibaba_env(request)
    reset = template_doc("reset", "Your reset code is {{ code }} ({{ minutes }} min).")
    pacing = Pacing()
    first = env.gate([login_send(env)], pacing=pacing)
    second = env.gate([gate_send(reset, env.provider, env.register(reset))], pacing=pacing)
    assert (first.status, second.status) == ("passed", "passed")
    sent = env.account.sends()
    assert sent[1].sent_at - sent[0].sent_at == pytest.approx(60 + PACING_MARGIN_S)


def test_alibaba_another_verification_template_sent_by_an_earlier_process_shares_the_limit(
    request: pytest.FixtureRequest,
) -> None:
    """The second process does not know the first's template: counted as a verification code."""
    env = alibaba_env(request)
    reset = template_doc("reset", "Your reset code is {{ code }} ({{ minutes }} min).")
    env.gate([login_send(env)], pacing=Pacing())
    second = env.gate([gate_send(reset, env.provider, env.register(reset))], pacing=Pacing())
    assert second.results[0].outcome is SendOutcome.DELIVERED
    earlier, later = env.account.sends()
    assert later.sent_at - earlier.sent_at == pytest.approx(60 + PACING_MARGIN_S, abs=1)


def test_alibaba_history_reaches_back_over_beijing_midnight(request: pytest.FixtureRequest) -> None:
    """SendDate is a Beijing day: a send at 23:59:58 there is found from the next day too."""
    env = alibaba_env(request)
    send = login_send(env)
    env.clock.advance(16 * 3600 - 2 - (env.clock.now() - 1_767_225_600))  # 2026-01-01 23:59:58 +08:00
    env.gate([send], pacing=Pacing())
    assert env.clock.now() > 1_767_225_600 + 16 * 3600  # the second run starts on the next Beijing day
    second = env.gate([send], pacing=Pacing())
    assert second.results[0].outcome is SendOutcome.DELIVERED
    earlier, later = env.account.sends()
    assert later.sent_at - earlier.sent_at == pytest.approx(60 + PACING_MARGIN_S, abs=1)


def test_tencent_past_sends_without_a_template_id_count_for_every_template(tencent_env: Env) -> None:
    """Tencent's pull names no template: a recent send to the number holds back any template for
    30 s (conservative), though the provider would have accepted another template at once."""
    env = tencent_env
    other = template_doc("reset", "Your reset code is {{ code }} ({{ minutes }} min).")
    env.gate([login_send(env)], pacing=Pacing())
    second = env.gate([gate_send(other, env.provider, env.register(other))], pacing=Pacing())
    assert second.results[0].outcome is SendOutcome.DELIVERED
    earlier, later = env.account.sends()
    assert earlier.reported_at is not None
    assert later.sent_at - earlier.reported_at == pytest.approx(30 + PACING_MARGIN_S, abs=1)


def test_alibaba_hourly_limit_is_not_waited_for_but_reported(request: pytest.FixtureRequest) -> None:
    env = alibaba_env(request)
    send = login_send(env)
    result = env.gate([send] * 6)
    assert [r.outcome for r in result.results] == [SendOutcome.DELIVERED] * 5 + [SendOutcome.LIMITED]
    assert "verification codes: 5 per hour per number" in result.results[5].detail
    assert len(env.account.sends()) == 5  # the sixth was never sent, so never tripped the provider
    assert result.status == "failed"


def test_aws_dry_run_is_validated_only(aws_sandbox: SandboxHandle) -> None:
    from reconciler.providers.aws.adapter import AwsProvider

    provider = AwsProvider(**aws_options(aws_sandbox))
    channel = aws_channel()
    send = gate_send(template_doc(), provider, "")
    result = run_gate(
        provider,
        channel,
        [SecretStr(AWS_TEST_VERIFIED[0])],
        [send],
        clock=aws_sandbox.clock.now,
        sleep=aws_sandbox.clock.advance,
    )
    (sent,) = result.results
    assert (sent.outcome, sent.proof, result.proof) == (SendOutcome.VALIDATED, Proof.VALIDATED, Proof.VALIDATED)
    assert result.status == "passed" and result.summary().endswith("proof: validated only.")
    assert sent.recipient == "+44 77****0123"


def test_junit_has_one_case_per_send_with_failures(env: Env) -> None:
    send = login_send(env)
    result = env.gate([send, send], numbers=(GOOD, FAILS))
    suite = ET.fromstring(junit_xml(result))
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        f"login ({send.code}) to +86 138****5678",
        f"login ({send.code}) to +86 138****0000",
    ]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message", "").startswith("failed")


def test_no_phone_number_in_any_output_format(env: Env) -> None:
    send = login_send(env)
    result = env.gate([send, send, send], numbers=(GOOD, FAILS, NEVER), timeout=10)
    outputs = [render(result, fmt) for fmt in ("text", "json", "markdown")] + [junit_xml(result)]
    outputs += [p.message for p in env.progress] + [result.reason(), result.model_dump_json()]
    for text in outputs:
        for number in (GOOD, FAILS, NEVER):
            assert number not in text and number[3:] not in text and number[1:] not in text
    assert json.loads(outputs[1])["results"][0]["recipient"] == "+86 138****5678"


def aws_options(handle: SandboxHandle) -> dict[str, Any]:
    from reconciler.sandbox.testing import AWS_TEST_KEY_ID, AWS_TEST_SECRET

    handle.aws_client().request_sender_id(SenderId="OnePro", IsoCountryCode="GB", MessageTypes=["TRANSACTIONAL"])
    return {
        "access_key_id": AWS_TEST_KEY_ID,
        "secret_access_key": AWS_TEST_SECRET,
        "sender_id": "OnePro",
        "country": "GB",
        "endpoint": handle.url("aws"),
    }


def aws_channel() -> Channel:
    return Channel.model_validate(
        {
            "apiVersion": "smsops/v1",
            "kind": "Channel",
            "metadata": {"name": "prod"},
            "spec": {
                "provider": "aws",
                "signature": {"name": "OnePro", "country": "GB"},
                "credentials": {"sops": "../secrets/x.enc.yaml"},
                "testSend": {"recipients": {"sops": "../secrets/x.enc.yaml", "key": "test_recipients"}},
            },
        }
    )
