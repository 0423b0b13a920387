"""The provider-neutral sandbox core: state store, review engine, limits, faults, control API."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from reconciler.providers.base import DeliveryState, ReviewStatus, TemplateKind
from reconciler.sandbox import Behaviour, ManualClock, RuleViolation, Sandbox, SandboxAccount, Violation
from reconciler.sandbox.control import ControlError
from reconciler.sandbox.core import _draw
from reconciler.sandbox.store.review import REASON_LINK, decide
from reconciler.sandbox.testing import SandboxHandle

WORKERS, PER_WORKER = 2, 40


def _code(n: int) -> str:
    return f"T{n:05d}"


def _account(tmp_path: Path, clock: ManualClock | None = None) -> SandboxAccount:
    sandbox = Sandbox(tmp_path, clock=clock or ManualClock())
    return sandbox.create_account("acct", provider="test", access_keys={"id": "secret"})


def _create(account: SandboxAccount, name: str = "t", content: str = "code {1}", remark: str = "why") -> str:
    record = account.create_template(
        name=name, content=content, kind=TemplateKind.VERIFICATION, remark=remark, code_factory=_code
    )
    return record.code


def _worker(state_dir: str, worker: int) -> None:
    account = Sandbox(state_dir).account("acct")
    for i in range(PER_WORKER):
        _create(account, name=f"w{worker}-{i}")
        account.count("created")


def test_two_processes_creating_concurrently_lose_no_update(tmp_path: Path) -> None:
    _account(tmp_path)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(str(tmp_path), w)) for w in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    account = Sandbox(tmp_path).account("acct")
    templates = account.templates()
    assert len(templates) == WORKERS * PER_WORKER
    assert {t.code for t in templates} == {_code(n) for n in range(1, WORKERS * PER_WORKER + 1)}
    assert account.counters()["created"] == WORKERS * PER_WORKER


def test_state_persists_across_sandbox_instances(tmp_path: Path) -> None:
    account = _account(tmp_path)
    account.configure(review_delay_s=60, faults={"throttle": {"rate": 0.25, "seed": 3}})
    code = _create(account)
    again = Sandbox(tmp_path).account("acct")
    assert again.behaviour.review_delay_s == 60 and again.behaviour.faults.throttle.rate == 0.25
    assert again.template(code) is not None and again.access_keys() == {"id": "secret"}
    assert Sandbox(tmp_path).find_access_key("id", "test") is not None
    assert Sandbox(tmp_path).find_access_key("id", "other-provider") is None


def test_review_is_lazy_and_follows_the_clock(tmp_path: Path) -> None:
    clock = ManualClock()
    account = _account(tmp_path, clock)
    account.configure(review_delay_s=100)
    code = _create(account)
    bad = _create(account, content="see https://x.example.com {1}")
    clock.advance(99)
    assert account.template(code).status is ReviewStatus.PENDING  # type: ignore[union-attr]
    clock.advance(1)
    approved, rejected = account.template(code), account.template(bad)
    assert approved is not None and rejected is not None
    assert (approved.status, approved.decided_at) == (ReviewStatus.APPROVED, clock.current)
    assert (rejected.status, rejected.reason) == (ReviewStatus.REJECTED, REASON_LINK)


def test_manual_review_overrides_rules_and_auto_review_off(tmp_path: Path) -> None:
    clock = ManualClock()
    account = _account(tmp_path, clock)
    account.configure(auto_review=False)
    code = _create(account)
    clock.advance(10**6)
    assert account.template(code).status is ReviewStatus.PENDING  # type: ignore[union-attr]
    assert account.reject(code, "nope").reason == "nope"
    assert account.approve(code).status is ReviewStatus.APPROVED
    with pytest.raises(RuleViolation) as missing:
        account.approve("T99999")
    assert missing.value.kind is Violation.NOT_FOUND


def test_rules_order_and_banned_words() -> None:
    behaviour = Behaviour(banned_words=("casino",))
    verdict = decide(behaviour, kind=TemplateKind.NOTIFICATION, content="Visit the CASINO", remark="r")
    assert verdict.status is ReviewStatus.REJECTED and "casino" in verdict.reason
    ok = decide(behaviour, kind=TemplateKind.NOTIFICATION, content="see www.example.com", remark="r")
    assert ok.status is ReviewStatus.APPROVED  # links are only refused in verification templates


def test_update_and_delete_rules(tmp_path: Path) -> None:
    clock = ManualClock()
    account = _account(tmp_path, clock)
    code = _create(account)
    with pytest.raises(RuleViolation) as pending:
        account.delete_template(code)
    assert pending.value.kind is Violation.UNDER_REVIEW
    clock.advance(10)
    with pytest.raises(RuleViolation) as approved:
        account.update_template(code, name="t", content="x {1}", kind=TemplateKind.VERIFICATION, remark="r")
    assert approved.value.kind is Violation.IMMUTABLE_APPROVED
    assert account.delete_template(code).code == code and account.template(code) is None


def test_send_limits_delivery_and_quota(tmp_path: Path) -> None:
    clock = ManualClock()
    account = _account(tmp_path, clock)
    account.configure(send_daily_quota=3, delivery_delay_s=5)

    def send(phone: str, scope: str = "s") -> str:
        record = account.record_send(
            phone=phone,
            template_code="T1",
            sign_name="S",
            content="c",
            kind=TemplateKind.VERIFICATION,
            limit_scope=scope,
            message_id_factory=lambda n: f"M{n}",
        )
        return record.message_id

    first = send("+86 138 0000 1234")
    with pytest.raises(RuleViolation) as limited:
        send("8613800001234")  # same digits: same number
    assert (limited.value.kind, limited.value.details["limit"]) == (Violation.NUMBER_LIMIT, 1)
    send("8613800001234", scope="other-sign")
    failing = send("13800000000")
    with pytest.raises(RuleViolation) as quota:
        send("13811112222")
    assert quota.value.kind is Violation.SEND_QUOTA
    assert account.sends(message_id=first)[0].state is DeliveryState.WAITING
    clock.advance(5)
    assert account.sends(message_id=first)[0].state is DeliveryState.DELIVERED
    assert account.sends(message_id=failing)[0].state is DeliveryState.FAILED
    assert len(account.sends(phone="8613800001234")) == 2


def test_fault_draw_is_deterministic_and_near_its_rate() -> None:
    draws = [_draw(7, "throttle", n) for n in range(2000)]
    assert draws == [_draw(7, "throttle", n) for n in range(2000)]
    assert 0.45 < sum(d < 0.5 for d in draws) / len(draws) < 0.55
    assert draws != [_draw(8, "throttle", n) for n in range(2000)]


def test_behaviour_merge_validates() -> None:
    merged = Behaviour().merged({"faults": {"reset": {"rate": 0.5}}, "review_delay_s": 1})
    assert merged.faults.reset.rate == 0.5 and merged.faults.throttle.rate == 0 and merged.review_delay_s == 1
    with pytest.raises(ValueError, match="unknown fault kind"):
        Behaviour().merged({"faults": {"meteor": {"rate": 1}}})
    with pytest.raises(ValueError):
        Behaviour().merged({"faults": {"reset": {"rate": 2}}})


def test_control_api_over_http(sms_sandbox: SandboxHandle) -> None:
    control = sms_sandbox.control_client()
    assert control.call("GET", "health") == {"ok": True, "emulators": {"alibaba": sms_sandbox.endpoint()}}
    created = control.call(
        "POST",
        "accounts",
        {
            "name": "ctl",
            "provider": "alibaba",
            "access_keys": {"k1": "s1"},
            "signatures": [["Brand", "pending"]],
            "behaviour": {"review_delay_s": 7},
        },
    )
    assert created["behaviour"]["review_delay_s"] == 7 and created["access_key_ids"] == ["k1"]
    assert "s1" not in str(created)  # secrets never leave through the control API
    names = {a["name"] for a in control.call("GET", "accounts")}
    assert {"ctl", "test-alibaba", "demo-alibaba"} <= names
    assert control.configure("ctl", faults={"throttle": {"rate": 0.5}})["faults"]["throttle"]["rate"] == 0.5
    control.call("POST", "accounts/ctl/signatures", {"name": "Brand", "status": "approved"})
    account = sms_sandbox.sandbox.account("ctl")
    assert account.signature("Brand").status is ReviewStatus.APPROVED  # type: ignore[union-attr]
    code = _create(account)
    assert control.reject("ctl", code, "too vague")["status"] == "rejected"
    assert control.approve("ctl", code)["status"] == "approved"
    assert control.call("GET", "accounts/ctl/sends") == []
    assert control.call("GET", "accounts/ctl/counters") == {}
    control.call("POST", "accounts/ctl/reset", {})
    assert control.account("ctl")["templates"] == []
    with pytest.raises(ControlError, match="HTTP 404"):
        control.account("nobody")
    with pytest.raises(ControlError, match="HTTP 404"):
        control.approve("ctl", "T404")
    with pytest.raises(ControlError, match="HTTP 400"):
        control.configure("ctl", faults={"reset": {"rate": 5}})
