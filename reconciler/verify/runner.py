"""The loop of one gate run: paced sends and delivery polls, until every send has an outcome.

``run_gate`` (``reconciler.verify.gate``) builds a ``GateRunner`` per run; this module holds the
pacing (which test number may receive a send soonest), the send itself and the delivery polls.
Invariant: no phone number leaves this module unmasked; every text is passed through ``redact``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reconciler.errors import ErrorKind, ProviderError, ResponseLost
from reconciler.providers.base import DeliveryState, Provider, SendReceipt, SendRequest, TemplateKind
from reconciler.secrets.redact import mask_phone, redact
from reconciler.verify.pacing import ANY_TEMPLATE, PACING_MARGIN_S, NumberLimit, Pacing, seed_history
from reconciler.verify.results import _PROOF_OF, GateProgress, GateSend, Proof, SendOutcome, SendResult

# Failures of the call itself (credentials, permissions): every other send would fail the same way.
_CALL_FAILURES = frozenset({ErrorKind.AUTH_REFUSED, ErrorKind.FORBIDDEN})


@dataclass
class _Tracked:
    index: int
    send: GateSend
    recipient: str
    receipt: SendReceipt
    deadline: float
    next_poll: float
    last_error: str = ""


@dataclass
class GateRunner:
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

    def so_far(self) -> list[SendResult]:
        """For a run that stopped: the results reached, and each message sent whose delivery report
        had not come in as ``INTERRUPTED`` (a message went out: the report must say so)."""
        for tracked in list(self.tracked.values()):
            self._finish(
                tracked.index, tracked.send, tracked.recipient, SendOutcome.INTERRUPTED,
                message_id=tracked.receipt.message_id, detail="sent; the run stopped before its delivery report",
            )  # fmt: skip
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
