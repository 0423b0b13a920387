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

Invariant: no phone number leaves this module unmasked; every text is passed through ``redact``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from reconciler.config.models import Channel, Template
from reconciler.content.parse import parse_content, render
from reconciler.errors import ErrorKind, ProviderError, ResponseLost
from reconciler.providers.base import DeliveryState, Provider, SendReceipt, SendRequest, TemplateKind
from reconciler.reconcile.desired import example_values
from reconciler.secrets.redact import mask_phone, redact
from reconciler.verify.pacing import ANY_TEMPLATE, PACING_MARGIN_S, NumberLimit, Pacing, seed_history
from reconciler.verify.results import (
    _PROOF_OF,
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

if TYPE_CHECKING:
    from reconciler.config.load import LoadedConfig
    from reconciler.reconcile.apply import Gate
    from reconciler.reconcile.changes import Change
    from reconciler.reconcile.observe import Session

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_POLL_INTERVAL_S = 5.0
DEFAULT_MAX_WAIT_S = 300.0

# Failures of the call itself (credentials, permissions): every other send would fail the same way.
_CALL_FAILURES = frozenset({ErrorKind.AUTH_REFUSED, ErrorKind.FORBIDDEN})
RECIPIENTS_HINT = (
    "set spec.testSend.recipients: {sops: <secrets file>, key: test_recipients} on the channel, and put the "
    "test numbers in that SOPS key as a list of E.164 strings (`sops edit <secrets file>`)"
)


@dataclass
class _Tracked:
    index: int
    send: GateSend
    recipient: str
    receipt: SendReceipt
    deadline: float
    next_poll: float
    last_error: str = ""


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
) -> GateResult:
    """Send each of ``sends`` once and follow it to a final outcome. ``timeout`` is per message,
    from its send (default: the channel's testSend.deliveryTimeout). ``dry_run`` defaults to the
    adapter's ``dry_run_by_default``. ``extra_results`` are verdicts reached before sending
    (e.g. a named template with nothing approved) and count like the others. ``pacing`` carries
    the sends of earlier runs on this channel (default: none); the provider's record of recent sends
    is added to it. ``template_kinds`` (code -> kind, e.g. from observed templates) tells which past
    sends were verification codes; codes not in it or in ``sends`` count as one."""
    if not channel.spec.enabled:
        return gate_disabled(channel)
    if not recipients:
        return gate_without_recipients(channel)
    if timeout is None:
        timeout = channel.spec.test_send.delivery_timeout if channel.spec.test_send else DEFAULT_TIMEOUT_S
    timeout_s = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    runner = _Runner(
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
    results = [*extra_results, *runner.run(sends)]
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


@dataclass
class _Runner:
    """One gate run: the receipts being followed and the results so far."""

    provider: Provider
    numbers: list[str]
    dry_run: bool
    timeout_s: float
    poll_interval: float
    max_wait: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    progress: Callable[[GateProgress], None]
    total: int
    pacing: Pacing
    kinds: dict[str, TemplateKind]
    results: dict[int, SendResult] = field(default_factory=dict)
    tracked: dict[int, _Tracked] = field(default_factory=dict)
    limit_hits: dict[int, int] = field(default_factory=dict)

    # -- pacing ------------------------------------------------------------------------------

    def _scope_key(self, limit: NumberLimit, send: GateSend) -> str:
        return {"sign": "sign", "template": f"template:{send.code}", "number": "number"}[limit.scope]

    def _slot(self, send: GateSend, now: float) -> tuple[int, float, str]:
        """The recipient that may receive ``send`` soonest (round-robin on ties), when, and the
        limit that decides the wait ("" when none)."""
        best: tuple[int, float, str] | None = None
        for offset in range(len(self.numbers)):
            index = (self.pacing.rotation + offset) % len(self.numbers)
            number = self.numbers[index]
            at, why = now, ""
            for limit in self.provider.number_limits(send.kind):
                key = self._scope_key(limit, send)
                keys = {key, ANY_TEMPLATE} if limit.scope == "template" else {key}
                times = sorted(t for n, k, t in self.pacing.history if n == number and k in keys)
                if len(times) >= limit.max:
                    free = times[-limit.max] + limit.window_s + PACING_MARGIN_S
                    if free > at:
                        at, why = free, limit.label
            if best is None or at < best[1]:
                best = (index, at, why)
        assert best is not None
        return best

    # -- the loop ----------------------------------------------------------------------------

    def run(self, sends: Sequence[GateSend]) -> list[SendResult]:
        limits = [limit for send in sends for limit in self.provider.number_limits(send.kind)]
        seed_history(
            self.pacing, self.provider, self.numbers, limits, self.kinds, self.clock(), lambda m: self._report(m, 0.0)
        )
        pending = list(enumerate(sends))
        while pending or self.tracked:
            now = self.clock()
            waits: list[tuple[float, str]] = []
            still: list[tuple[int, GateSend]] = []
            for index, send in pending:
                recipient, at, why = self._slot(send, now)
                if at - now > self.max_wait:
                    self._finish(
                        index, send, self.numbers[recipient], SendOutcome.LIMITED, detail=_too_long(why, at - now)
                    )
                elif at <= now:
                    if self._send(index, send, recipient):
                        still.append((index, send))  # that number was at its limit: try another one
                    now = self.clock()
                else:
                    still.append((index, send))
                    waits.append((at, f"pacing: {why}"))
            pending = still
            for tracked in sorted(self.tracked.values(), key=lambda t: t.next_poll):
                if tracked.next_poll <= self.clock():
                    self._poll(tracked)
            waits.extend((t.next_poll, "waiting for delivery reports") for t in self.tracked.values())
            if waits:
                at, why = min(waits)
                wait = at - self.clock()
                if wait > 0:
                    self._report(f"{why}; {len(self.tracked)} awaiting a report", wait)
                    self.sleep(wait)
        self._report("done", 0.0)
        return [self.results[i] for i in sorted(self.results)]

    def _report(self, message: str, wait: float) -> None:
        self.progress(GateProgress(self.total, len(self.results), redact(message), wait))

    def _finish(
        self,
        index: int,
        send: GateSend,
        number: str,
        outcome: SendOutcome,
        *,
        message_id: str = "",
        code: str = "",
        detail: str = "",
    ) -> None:
        self.results[index] = SendResult(
            template=send.template,
            code=send.code,
            recipient=mask_phone(number),
            message_id=message_id,
            outcome=outcome,
            proof=_PROOF_OF.get(outcome, Proof.NONE),
            provider_code=code,
            detail=redact(detail),
        )
        self.tracked.pop(index, None)
        self._report(f"{send.template} to {mask_phone(number)}: {outcome.value}", 0.0)

    def _limit_hit(self, index: int, send: GateSend, number: str, code: str, detail: str) -> bool:
        """A limit we could not see coming (sends from an earlier run): treat that number as full for
        every window and let the send go to another recipient. True when it should be tried again."""
        hits = self.limit_hits.get(index, 0) + 1
        self.limit_hits[index] = hits
        if hits >= len(self.numbers):
            self._finish(index, send, number, SendOutcome.LIMITED, code=code, detail=detail)
            return False
        now = self.clock()
        for limit in self.provider.number_limits(send.kind):
            key = self._scope_key(limit, send)
            self.pacing.history.extend((number, key, now) for _ in range(limit.max))
        return True

    def _send(self, index: int, send: GateSend, recipient: int) -> bool:
        """Send one message; True when it must be tried again on another recipient."""
        number = self.numbers[recipient]
        self.pacing.rotation = (recipient + 1) % len(self.numbers)
        request = SendRequest(
            template_code=send.code, phone_number=number, params=send.params, body=send.text, dry_run=self.dry_run
        )
        try:
            receipt = self.provider.send(request)
        except ProviderError as error:
            if error.kind is ErrorKind.LIMITED:
                return self._limit_hit(index, send, number, error.code, error.failure.message)
            if error.retryable or isinstance(error, ResponseLost) or error.kind in _CALL_FAILURES:
                raise
            self._finish(index, send, number, SendOutcome.REJECTED, code=error.code, detail=error.failure.message)
            return False
        if not receipt.accepted:
            if receipt.limited:
                return self._limit_hit(index, send, number, receipt.code, receipt.message)
            self._finish(index, send, number, SendOutcome.REJECTED, code=receipt.code, detail=receipt.message)
            return False
        sent_at = self.clock()
        for limit in self.provider.number_limits(send.kind):
            key = self._scope_key(limit, send)
            if (number, key, sent_at) not in self.pacing.history:
                self.pacing.history.append((number, key, sent_at))
        first_poll = sent_at if receipt.dry_run else sent_at + min(self.poll_interval, self.timeout_s)
        self.tracked[index] = _Tracked(index, send, number, receipt, sent_at + self.timeout_s, first_poll)
        return False

    def _poll(self, tracked: _Tracked) -> None:
        receipt, send = tracked.receipt, tracked.send
        try:
            report = self.provider.query_delivery(receipt)
        except ProviderError as error:
            if not error.retryable:
                self._finish(
                    tracked.index, send, tracked.recipient, SendOutcome.FAILED, message_id=receipt.message_id,
                    code=error.code, detail=f"delivery query failed: {error.failure.message}",
                )  # fmt: skip
                return
            tracked.last_error = f"{error.code}: {error.failure.message}"
            report = None
        outcome = None if report is None else _STATE_OUTCOME.get(report.state)
        if outcome is not None and report is not None:
            detail = report.description if outcome is not SendOutcome.DELIVERED else ""
            self._finish(
                tracked.index, send, tracked.recipient, outcome, message_id=receipt.message_id,
                code=report.code, detail=detail,
            )  # fmt: skip
            return
        now = self.clock()
        if now >= tracked.deadline:
            last = f"; last query error {tracked.last_error}" if tracked.last_error else ""
            self._finish(
                tracked.index, send, tracked.recipient, SendOutcome.TIMEOUT, message_id=receipt.message_id,
                detail=f"no delivery report within {self.timeout_s:g}s{last}",
            )  # fmt: skip
            return
        tracked.next_poll = min(now + self.poll_interval, tracked.deadline)


_STATE_OUTCOME = {
    DeliveryState.DELIVERED: SendOutcome.DELIVERED,
    DeliveryState.FAILED: SendOutcome.FAILED,
    DeliveryState.ACCEPTED: SendOutcome.ACCEPTED,
    DeliveryState.VALIDATED: SendOutcome.VALIDATED,
}


def _too_long(why: str, wait: float) -> str:
    return (
        f"not sent: the provider's per-number limit ({why}) would need a {wait:.0f}s wait; "
        "add more test recipients or test fewer templates per run"
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
    from reconciler.secrets.sops import channel_secrets

    pacing: dict[str, Pacing] = {}

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
            channel = located.resource
            provider = session.provider(name)
            test_send = channel.spec.test_send
            templates = {t.resource.name: t.resource for t in config.templates_for(name)}
            sends: list[GateSend] = []
            tested: list[Change] = []
            for change in group:
                if test_send is None or (
                    test_send.templates is not None and change.template not in test_send.templates
                ):
                    verdicts[change.address] = ""
                elif change.after is None or change.template not in templates:
                    verdicts[change.address] = f"template {change.template} is not in the config"
                else:
                    sends.append(gate_send(templates[change.template], provider, change.after.code))
                    tested.append(change)
            if not sends:
                continue
            result = run_gate(
                provider,
                channel,
                channel_secrets(located).test_recipients,
                sends,
                pacing=pacing.setdefault(name, Pacing()),
                **options,
            )
            if on_result is not None:
                on_result(result)
            if len(result.results) != len(tested):  # nothing was sent: the same reason for all
                verdicts.update((change.address, result.reason()) for change in tested)
                continue
            for change, sent in zip(tested, result.results, strict=True):
                verdicts[change.address] = (
                    ""
                    if sent.passed
                    else f"{sent.template} to {sent.recipient}: {sent.outcome.value}{_colon(sent.detail)}"
                )
        return verdicts

    return gate
