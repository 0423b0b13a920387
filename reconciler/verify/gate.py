"""The verify stage: real test sends to the channel's test numbers, confirmed by the provider.

``run_gate`` sends each ``GateSend`` once, to one test recipient, and follows it until the
provider's own delivery query says delivered or failed, or the delivery timeout passes. Steps:

1. a disabled channel sends nothing (status ``skipped``); a channel without test recipients fails
   with a message that says how to configure them;
2. each send goes to the recipient that may receive it soonest, round-robin on ties, paced by the
   per-number limits the adapter states (``Provider.number_limits``: e.g. verification codes 1/min,
   5/h, 10/day per number and signature) so the gate itself never trips the provider's per-number
   limit. A send that would have to wait longer than
   ``max_wait`` is not attempted and reported ``limited``. Sends of earlier processes count too:
   before the first send, the provider's own record of each test number's recent sends (where it
   keeps one, ``SendHistory``) seeds the pacing. A limit hit anyway (no record, or a send the
   record missed) is reported ``limited``, never as a delivery failure;
3. sends and delivery polls share one loop, so a message waiting for its pacing slot does not hold
   up the receipts of the others; waiting is reported through ``progress``.

Proof levels: ``delivered`` (the carrier's delivery report), ``accepted`` (the provider took the
message but has no delivery query), ``validated only`` (a dry run: content and sender validated,
nothing sent; the default where the adapter says ``dry_run_by_default``). Accepted and validated
pass: they are the best proof those providers give.

The send-and-poll loop itself is ``reconciler.verify.runner``.

Invariant: no phone number leaves this module unmasked; every text is passed through ``redact``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from reconciler.config.models import Channel, Template
from reconciler.content.parse import parse_content, render
from reconciler.providers.base import Provider, TemplateKind
from reconciler.reconcile.desired import example_values
from reconciler.secrets.sops import channel_secrets
from reconciler.verify.pacing import Pacing
from reconciler.verify.results import (
    _PROOF_RANK,
    GateProgress,
    GateResult,
    GateSend,
    Proof,
    SendOutcome,
    SendResult,
    _colon,
    _quiet,
)
from reconciler.verify.runner import GateRunner

if TYPE_CHECKING:
    from reconciler.config.load import LoadedConfig
    from reconciler.reconcile.apply import Gate
    from reconciler.reconcile.changes import Change
    from reconciler.reconcile.observe import Session

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_POLL_INTERVAL_S = 5.0
DEFAULT_MAX_WAIT_S = 300.0

RECIPIENTS_HINT = (
    "set spec.testSend.recipients: {sops: <secrets file>, key: test_recipients} on the channel, and put the "
    "test numbers in that SOPS key as a list of E.164 strings (`sops edit <secrets file>`)"
)


def gate_disabled(channel: Channel) -> GateResult:
    return GateResult(
        channel=channel.name,
        provider=channel.spec.provider.value,
        status="skipped",
        message=f"channel {channel.name} is disabled (spec.enabled: false): nothing was sent",
    )


def gate_without_recipients(channel: Channel) -> GateResult:
    where = "declares no spec.testSend" if channel.spec.test_send is None else "has an empty test recipient list"
    return GateResult(
        channel=channel.name,
        provider=channel.spec.provider.value,
        status="failed",
        message=f"channel {channel.name} {where}, so the gate cannot send; {RECIPIENTS_HINT}",
    )


def run_gate(
    provider: Provider,
    channel: Channel,
    recipients: Sequence[SecretStr],
    sends: Sequence[GateSend],
    *,
    timeout: float | timedelta | None = None,
    poll_interval: float | None = None,
    max_wait: float = DEFAULT_MAX_WAIT_S,
    dry_run: bool | None = None,
    mode: Literal["templates", "channel"] = "templates",
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[GateProgress], None] = _quiet,
    extra_results: Sequence[SendResult] = (),
    pacing: Pacing | None = None,
    template_kinds: Mapping[str, TemplateKind] | None = None,
    on_stop: Callable[[GateResult], None] | None = None,
) -> GateResult:
    """Send each of ``sends`` once and follow it to a final outcome. ``timeout`` is per message,
    from its send (default: the channel's testSend.deliveryTimeout). ``dry_run`` defaults to the
    adapter's ``dry_run_by_default``. ``extra_results`` are verdicts reached before sending
    (e.g. a named template with nothing approved) and count like the others. ``pacing`` carries
    the sends of earlier runs on this channel (default: none); the provider's record of recent sends
    is added to it. ``template_kinds`` (code -> kind, e.g. from observed templates) tells which past
    sends were verification codes; codes not in it or in ``sends`` count as one. A run that stops
    (Ctrl-C, SIGTERM, an error) gives ``on_stop`` what it got to (``GateRunner.so_far``), a failed
    result, before the exception goes on."""
    if not channel.spec.enabled:
        return gate_disabled(channel)
    if not recipients:
        return gate_without_recipients(channel)
    if timeout is None:
        timeout = channel.spec.test_send.delivery_timeout if channel.spec.test_send else DEFAULT_TIMEOUT_S
    timeout_s = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    runner = GateRunner(
        provider=provider,
        numbers=[r.get_secret_value() for r in recipients],
        dry_run=provider.dry_run_by_default if dry_run is None else dry_run,
        timeout_s=timeout_s,
        poll_interval=DEFAULT_POLL_INTERVAL_S if poll_interval is None else poll_interval,
        max_wait=max_wait,
        clock=clock,
        sleep=sleep,
        progress=progress,
        total=len(sends),
        pacing=pacing if pacing is not None else Pacing(),
        kinds={**(template_kinds or {}), **{send.code: send.kind for send in sends}},
    )
    try:
        return _summary(channel, mode, [*extra_results, *runner.run(sends)])
    except BaseException:
        if on_stop is not None:
            stopped = _summary(channel, mode, [*extra_results, *runner.so_far()])
            unsent = len(sends) - (len(stopped.results) - len(extra_results))
            why = "stopped before it finished" + (f"; {unsent} of {len(sends)} not sent" if unsent else "")
            on_stop(stopped.model_copy(update={"status": "failed", "message": why}))
        raise


def _summary(channel: Channel, mode: Literal["templates", "channel"], results: list[SendResult]) -> GateResult:
    """The run's verdict: failed when any send failed, else passed when anything was sent; its proof
    is the weakest of the sends'."""
    sent = [r for r in results if r.outcome is not SendOutcome.SKIPPED]
    status: Literal["passed", "failed", "skipped"] = (
        "failed" if any(not r.passed for r in results) else "passed" if sent else "skipped"
    )
    proof = min((r.proof for r in sent), key=_PROOF_RANK.index, default=Proof.NONE)
    return GateResult(
        channel=channel.name,
        provider=channel.spec.provider.value,
        mode=mode,
        status=status,
        proof=proof,
        message="" if sent or results else "nothing to test",
        results=tuple(results),
    )


# -- from the config to sends, and the seam apply calls ----------------------------------------


def gate_send(
    template: Template, provider: Provider, code: str, overrides: Mapping[str, str] | None = None
) -> GateSend:
    """``template`` as version ``code`` at ``provider``, filled with its example values (``overrides``
    win): the parameters as the adapter's send API wants them, and the rendered text."""
    parsed = parse_content(template.spec.content)
    values = {**example_values(template), **(overrides or {})}
    return GateSend(
        template=template.name,
        code=code,
        params=provider.send_parameters(parsed, values),
        text=render(parsed, values),
        kind=template.spec.type,
    )


def make_gate(
    session: Session,
    config: LoadedConfig,
    *,
    on_result: Callable[[GateResult], None] | None = None,
    **options: Any,
) -> Gate:
    """The gate ``apply`` runs before promoting: for each promotion, "" when its version's test send
    passed (or the channel has no testSend, or its testSend.templates leaves the template out),
    else why not. All promotions of a channel are tested in one gate run, so their delivery reports
    are awaited together.

    A disabled channel blocks promotion: nothing can be sent, so the version is unproven.
    ``options`` go to ``run_gate`` (timeout, poll_interval, clock, sleep, progress, …)."""
    pacing: dict[str, Pacing] = {}  # per channel, across the gate's calls in one apply

    def gate(changes: Sequence[Change]) -> dict[str, str]:
        verdicts: dict[str, str] = {}
        by_channel: dict[str, list[Change]] = {}
        for change in changes:
            by_channel.setdefault(change.channel, []).append(change)
        for name, group in by_channel.items():
            located = config.channel(name)
            if located is None:
                verdicts.update((c.address, f"channel {name} is not in the config") for c in group)
                continue
            provider = session.provider(name)
            templates = {t.resource.name: t.resource for t in config.templates_for(name)}
            tested, sends = _sends_to_test(group, located.resource, templates, provider, verdicts)
            if not sends:
                continue
            result = run_gate(
                provider,
                located.resource,
                channel_secrets(located).test_recipients,
                sends,
                pacing=pacing.setdefault(name, Pacing()),
                on_stop=on_result,  # an apply stopped mid-gate reports the sends made
                **options,
            )
            if on_result is not None:
                on_result(result)
            verdicts.update(_verdicts(tested, result))
        return verdicts

    return gate


def _sends_to_test(
    group: Sequence[Change],
    channel: Channel,
    templates: Mapping[str, Template],
    provider: Provider,
    verdicts: dict[str, str],
) -> tuple[list[Change], list[GateSend]]:
    """The changes of ``group`` the channel's testSend covers, and their sends. The verdicts of the
    others go straight into ``verdicts``: "" for those testSend leaves out, why for the untestable."""
    test_send = channel.spec.test_send
    tested: list[Change] = []
    sends: list[GateSend] = []
    for change in group:
        if test_send is None or (test_send.templates is not None and change.template not in test_send.templates):
            verdicts[change.address] = ""
        elif change.after is None or change.template not in templates:
            verdicts[change.address] = f"template {change.template} is not in the config"
        else:
            sends.append(gate_send(templates[change.template], provider, change.after.code))
            tested.append(change)
    return tested, sends


def _verdicts(tested: Sequence[Change], result: GateResult) -> dict[str, str]:
    """Each tested change's verdict: "" when its send passed, else which send failed and how."""
    if len(result.results) != len(tested):  # nothing was sent: the same reason for all
        return {change.address: result.reason() for change in tested}
    return {
        change.address: (
            "" if sent.passed else f"{sent.template} to {sent.recipient}: {sent.outcome.value}{_colon(sent.detail)}"
        )
        for change, sent in zip(tested, result.results, strict=True)
    }
