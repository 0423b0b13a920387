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

from reconciler.gate import (
    PACING_MARGIN_S,
    GateProgress,
    GateResult,
    GateSend,
    Outcome,
    Proof,
    gate_send,
    run_gate,
)
from reconciler.model.resources import Channel, Template
from reconciler.providers.base import TemplateKind, TemplateRequest
from reconciler.render.gate import render
from reconciler.render.junit import junit_xml
from reconciler.sandbox.server import RunningSandbox, start
from reconciler.sandbox.store import ManualClock, Sandbox, SandboxAccount

SECRET_ID = "AKIDgateTencent0000000000000000000000"
SECRET_KEY = "gate-tencent-secret-key-0001"
APP_ID = "1400123456"
GOOD = "+8613812345678"
OTHER = "+8613912345671"
FAILS = "+8613812340000"  # designated: delivery fails
NEVER = "+8613812349999"  # designated: never delivered
LOGIN = "Your login code is {{ code }}. It expires in {{ minutes }} minutes."


def channel_doc(provider: str = "tencent", *, enabled: bool = True, test_send: bool = True) -> Channel:
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
    running: RunningSandbox
    account: SandboxAccount
    clock: ManualClock
    provider: Any
    sleeps: list[float] = field(default_factory=list)
    progress: list[GateProgress] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)

    def register(self, template: Template) -> str:
        """Create the template through the adapter and approve it in the sandbox: its code."""
        from reconciler.model.content import native, parse_content

        content = native(parse_content(template.spec.content), "tencent")
        code: str = self.provider.create_template(
            TemplateRequest(name=template.name, content=content, kind=template.spec.type, remark="sent at sign-in")
        )
        self.account.approve(code)
        return code

    def gate(self, sends: list[GateSend], numbers: tuple[str, ...] = (GOOD,), **options: Any) -> GateResult:
        options.setdefault("channel", channel_doc())
        return run_gate(
            self.provider,
            options.pop("channel"),
            [SecretStr(n) for n in numbers],
            sends,
            clock=self.clock.now,
            sleep=self.sleep,
            progress=self.progress.append,
            **options,
        )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    from reconciler.providers.tencent import TencentProvider
    from reconciler.sandbox.tencent import create_account

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
    )
    yield Env(running, account, clock, provider)
    running.close()


def login_send(env: Env, code: str | None = None, **overrides: str) -> GateSend:
    template = template_doc()
    return gate_send(template, channel_doc(), code or env.register(template), overrides)


def test_delivered_through_the_providers_own_delivery_query(env: Env) -> None:
    result = env.gate([login_send(env)])
    assert result.status == "passed" and result.exit_code == 0
    assert result.proof is Proof.DELIVERED
    (sent,) = result.results
    assert (sent.outcome, sent.proof, sent.recipient) == (Outcome.DELIVERED, Proof.DELIVERED, "+86 138****5678")
    assert sent.message_id and sent.provider_code == "SUCCESS"
    # Tencent positional parameters, rendered by the provider with the example values.
    (record,) = env.account.sends()
    assert "482913" in record.content and "5 minutes" in record.content
    assert env.progress[-1].finished == 1 == env.progress[-1].total


def test_recipient_whose_delivery_fails(env: Env) -> None:
    result = env.gate([login_send(env)], numbers=(FAILS,))
    assert result.status == "failed" and result.exit_code == 3
    (sent,) = result.results
    assert sent.outcome is Outcome.FAILED and sent.proof is Proof.NONE
    assert sent.provider_code == "FAIL"
    assert "to +86 138****0000: failed" in result.reason()


def test_timeout_waiting_for_a_receipt(env: Env) -> None:
    result = env.gate([login_send(env)], numbers=(NEVER,), timeout=20, poll_interval=5)
    (sent,) = result.results
    assert sent.outcome is Outcome.TIMEOUT and sent.message_id
    assert sent.detail == "no delivery report within 20s"
    assert sum(env.sleeps) == pytest.approx(20)
    assert result.exit_code == 3


def test_sends_to_one_number_are_paced_and_never_limited(env: Env) -> None:
    send = login_send(env)
    result = env.gate([send, send, send], poll_interval=5)
    assert [r.outcome for r in result.results] == [Outcome.DELIVERED] * 3
    sent_at = [r.sent_at for r in env.account.sends()]
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert gaps == [pytest.approx(30 + PACING_MARGIN_S)] * 2  # Tencent: same content 1 per 30 s
    assert any("pacing: same content: 1 per 30 s per number" in p.message for p in env.progress)


def test_sends_are_spread_round_robin_over_recipients(env: Env) -> None:
    send = login_send(env)
    result = env.gate([send] * 4, numbers=(GOOD, OTHER))
    assert [r.recipient for r in result.results] == ["+86 138****5678", "+86 139****5671"] * 2
    assert all(r.outcome is Outcome.DELIVERED for r in result.results)
    first, second, third, _ = env.account.sends()
    assert first.sent_at == second.sent_at  # two numbers: no wait
    assert third.sent_at - first.sent_at == pytest.approx(30 + PACING_MARGIN_S)


def test_a_wait_beyond_max_wait_is_reported_as_limited_without_sending(env: Env) -> None:
    send = login_send(env)
    result = env.gate([send, send], max_wait=10)
    assert [r.outcome for r in result.results] == [Outcome.DELIVERED, Outcome.LIMITED]
    assert "same content: 1 per 30 s per number" in result.results[1].detail
    assert len(env.account.sends()) == 1


def test_a_limit_hit_anyway_is_a_limit_not_a_delivery_failure(env: Env) -> None:
    send = login_send(env)
    env.gate([send])  # an earlier run, moments ago
    env.progress.clear()
    result = env.gate([send])
    (sent,) = result.results
    assert sent.outcome is Outcome.LIMITED
    assert sent.provider_code == "LimitExceeded.PhoneNumberThirtySecondLimit"
    assert result.status == "failed"


def test_wrong_template_parameters_are_rejected_by_the_provider(env: Env) -> None:
    code = env.register(template_doc())
    wrong = GateSend(template="login", code=code, params={"1": "482913"}, kind=TemplateKind.VERIFICATION)
    (sent,) = env.gate([wrong]).results
    assert sent.outcome is Outcome.REJECTED
    assert sent.provider_code == "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    assert not env.account.sends()


def test_disabled_channel_sends_nothing_and_says_so(env: Env) -> None:
    result = env.gate([login_send(env)], channel=channel_doc(enabled=False))
    assert result.status == "skipped" and result.exit_code == 0
    assert result.message == "channel prod is disabled (spec.enabled: false): nothing was sent"
    assert not env.account.sends()


def test_channel_without_recipients_fails_with_how_to_configure(env: Env) -> None:
    result = env.gate([login_send(env)], numbers=(), channel=channel_doc(test_send=False))
    assert result.status == "failed" and result.exit_code == 3
    assert "declares no spec.testSend" in result.message
    assert "spec.testSend.recipients" in result.message and "E.164" in result.message
    assert not env.account.sends()


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
