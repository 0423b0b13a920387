"""What two applies at once need from one apply, against the Alibaba emulator through the official
SDK: a version another apply already deleted counts as deleted, so does our own delete whose answer
was lost, and a test-send gate that cannot reach the provider fails only its promotions."""

from __future__ import annotations

from reconciler.errors import ErrorKind
from reconciler.providers._support import failure
from reconciler.providers.alibaba.adapter import AlibabaProvider
from reconciler.providers.alibaba.codes import kind
from reconciler.providers.base import TemplateKind, TemplateRequest
from reconciler.reconcile.apply import ChangeOutcome, ChangeResult, ChannelApplier, Gate
from reconciler.reconcile.changes import Action, Change, ChannelObservation, ChannelPlan, TemplateVersion
from reconciler.sandbox.testing import SandboxHandle
from tests.providers.test_alibaba import make_provider


def notice(name: str) -> TemplateRequest:
    return TemplateRequest(
        name=name,
        content="Order ${order} is ready.",
        kind=TemplateKind.NOTIFICATION,
        remark="Sent by the test suite.",
        variable_types={"order": "characterWithNumber2"},
    )


def version(provider: AlibabaProvider, code: str) -> TemplateVersion:
    found = next(t for t in provider.list_templates() if t.code == code)
    return TemplateVersion.observed(found)


def retire(provider: AlibabaProvider, code: str) -> Change:
    before = version(provider, code)
    return Change(
        action=Action.RETIRE, channel="prod", template="notice", address=f"prod/{before.provider_name}", before=before
    )


def apply(provider: AlibabaProvider, *changes: Change, gate: Gate | None = None) -> list[ChangeResult]:
    plan = ChannelPlan(channel="prod", provider="alibaba", changes=changes, observed_digest="d")
    applier = ChannelApplier(
        provider, plan, observe=lambda: ChannelObservation(channel="prod"), gate=gate, sleep=lambda _: None
    )
    return applier.run(check_digest=False)


def run(provider: AlibabaProvider, *changes: Change) -> list[tuple[Action, ChangeOutcome]]:
    return [(r.action, r.outcome) for r in apply(provider, *changes)]


def approved(sandbox: SandboxHandle, provider: AlibabaProvider, name: str) -> str:
    code = provider.create_template(notice(name))
    sandbox.account.approve(code)
    return code


def test_a_missing_template_is_not_found_for_template_operations_only() -> None:
    assert kind("isv.SMS_TEMPLATE_ILLEGAL", "DeleteSmsTemplate") is ErrorKind.NOT_FOUND
    assert kind("isv.SMS_TEMPLATE_ILLEGAL", "GetSmsTemplate") is ErrorKind.NOT_FOUND
    # on a send the same code also means "not approved": a refusal of the message
    assert kind("isv.SMS_TEMPLATE_ILLEGAL", "SendSms") is ErrorKind.OTHER


def test_a_version_the_other_apply_deleted_first_is_retired(sms_sandbox: SandboxHandle) -> None:
    provider = make_provider(sms_sandbox)
    code = approved(sms_sandbox, provider, "notice~0000001")
    change = retire(provider, code)
    make_provider(sms_sandbox).delete_template(code)  # the other apply

    assert run(provider, change) == [(Action.RETIRE, ChangeOutcome.DONE)]
    assert provider.list_templates() == []


def test_our_delete_whose_answer_was_lost_is_done_when_it_is_gone(sms_sandbox: SandboxHandle) -> None:
    provider = make_provider(sms_sandbox)
    gone, kept = (approved(sms_sandbox, provider, f"notice~000000{n}") for n in (1, 2))
    changes = [retire(provider, gone), retire(provider, kept)]
    # the first delete is applied and its answer lost; the second is reset before it is applied
    sms_sandbox.account.configure(
        faults={"lost_response": {"rate": 1, "operations": ["DeleteSmsTemplate"], "limit": 1}}
    )
    assert run(provider, changes[0]) == [(Action.RETIRE, ChangeOutcome.DONE)]
    sms_sandbox.account.configure(faults={"reset": {"rate": 1, "operations": ["DeleteSmsTemplate"], "limit": 1}})
    assert run(provider, changes[1]) == [(Action.RETIRE, ChangeOutcome.FAILED)]  # still there: not done
    assert [t.code for t in provider.list_templates()] == [kept]


def test_a_gate_that_cannot_reach_the_provider_fails_its_promotions_and_the_rest_goes_on(
    sms_sandbox: SandboxHandle,
) -> None:
    provider = make_provider(sms_sandbox)
    old, new = (approved(sms_sandbox, provider, f"notice~000000{n}") for n in (1, 2))
    after = version(provider, new)
    promote = Change(
        action=Action.PROMOTE,
        channel="prod",
        template="notice",
        address=f"prod/{after.provider_name}",
        after=after,
        gated=True,
    )

    def unreachable(_: object) -> dict[str, str]:
        raise failure("alibaba", "SendSms", "ServiceUnavailable", "temporary failure", kind=ErrorKind.UNAVAILABLE)

    results = apply(provider, promote, retire(provider, old), gate=unreachable)
    assert [(r.action, r.outcome) for r in results] == [
        (Action.PROMOTE, ChangeOutcome.FAILED),
        (Action.RETIRE, ChangeOutcome.DONE),
    ]
    assert results[0].error == (
        "gate failed: the gate could not run: alibaba SendSms failed: ServiceUnavailable: temporary failure"
    )
    assert [t.code for t in provider.list_templates()] == [new]
    assert "smsops-live" not in provider.list_templates()[0].tags  # not promoted
