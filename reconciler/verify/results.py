"""The gate's results: outcome and proof per send, the verdict per run, and progress reports.

Invariant: recipients are stored masked (``mask_phone``); these models never hold a raw number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from reconciler.errors import EXIT_GATE_FAILED, EXIT_OK
from reconciler.models import Frozen
from reconciler.providers.base import TemplateKind


class SendOutcome(StrEnum):
    """What became of one test send (a planned change's outcome is ``reconcile.apply.ChangeOutcome``)."""

    DELIVERED = "delivered"
    FAILED = "failed"
    TIMEOUT = "timeout"
    LIMITED = "limited"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    VALIDATED = "validated"
    SKIPPED = "skipped"
    # sent, and the run stopped (Ctrl-C, SIGTERM, an error) before its delivery report came in
    INTERRUPTED = "interrupted"


class Proof(StrEnum):
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    VALIDATED = "validated only"
    NONE = "none"


PASSING = frozenset({SendOutcome.DELIVERED, SendOutcome.ACCEPTED, SendOutcome.VALIDATED, SendOutcome.SKIPPED})
_PROOF_OF = {
    SendOutcome.DELIVERED: Proof.DELIVERED,
    SendOutcome.ACCEPTED: Proof.ACCEPTED,
    SendOutcome.VALIDATED: Proof.VALIDATED,
}
_PROOF_RANK = [Proof.NONE, Proof.VALIDATED, Proof.ACCEPTED, Proof.DELIVERED]


@dataclass(frozen=True)
class GateSend:
    """One message to test: a template version and the values to fill it with.

    ``params`` are keyed by the provider's native variable names (Tencent: "1", "2", …); ``text``
    is the rendered message, which AWS sends as the body (it has no template registry)."""

    template: str
    code: str
    params: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    kind: TemplateKind = TemplateKind.NOTIFICATION


class SendResult(Frozen):
    template: str
    code: str
    recipient: str  # masked with mask_phone, never the number
    message_id: str = ""
    outcome: SendOutcome
    proof: Proof = Proof.NONE
    provider_code: str = ""
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome in PASSING


class GateResult(Frozen):
    """The gate's verdict for one channel. ``message`` explains a verdict reached without sends."""

    channel: str
    provider: str
    mode: Literal["templates", "channel"] = "templates"
    status: Literal["passed", "failed", "skipped"]
    proof: Proof = Proof.NONE
    message: str = ""
    results: tuple[SendResult, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def exit_code(self) -> int:
        return EXIT_GATE_FAILED if self.status == "failed" else EXIT_OK

    def reason(self) -> str:
        """Why the gate did not pass, in one line ("" when it passed)."""
        if self.passed:
            return ""
        failing = [r for r in self.results if not r.passed]
        if not failing:
            return self.message or self.status
        return "; ".join(f"{r.template} to {r.recipient}: {r.outcome.value}{_colon(r.detail)}" for r in failing)

    def summary(self) -> str:
        counts = {o: sum(1 for r in self.results if r.outcome is o) for o in SendOutcome}
        shown = ", ".join(f"{n} {o.value}" for o, n in counts.items() if n) or "nothing sent"
        return f"Gate {self.status} on {self.channel}: {shown}; proof: {self.proof.value}."


def _colon(text: str) -> str:
    return f": {text}" if text else ""


@dataclass(frozen=True)
class GateProgress:
    """Where the gate is: ``finished`` of ``total`` sends have a final outcome; ``waiting_s`` is how
    long the gate is about to sleep, and ``message`` why (masked)."""

    total: int
    finished: int
    message: str
    waiting_s: float = 0.0


def _quiet(_: GateProgress) -> None:
    return None
