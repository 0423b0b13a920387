"""Per-account behaviour of a sandbox provider: review, limits, delivery, faults.

Everything here is provider-neutral; each emulator maps the generic outcome (``RuleViolation.kind``)
to its own error codes. A ``Behaviour`` is persisted as JSON in the account's SQLite file, so a
setting made through the control API holds across processes and runs.

Two presets: ``Behaviour()`` is the permissive demo/test default (short review, no creation
spacing); ``Behaviour.realistic()`` carries the documented provider defaults (30 s spacing between
template creations, review that takes an hour).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NumberLimit(_Frozen):
    """At most ``max`` accepted sends to one number (within one limit scope) per ``window_s`` seconds.

    Windows are rolling, not calendar days: simpler, and stricter at day boundaries."""

    window_s: float = Field(gt=0)
    max: int = Field(ge=0)


class FaultSpec(_Frozen):
    """One kind of injected fault.

    ``rate`` is the probability per request; the draw for the n-th request of an account is a hash of
    (seed, kind, n), so a run is reproducible across processes. ``operations`` restricts the fault to
    those operation names (empty: all). ``limit`` caps how many times it fires (None: unlimited), which
    makes "fail the next CreateSmsTemplate once" a one-liner in tests.
    """

    rate: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int = 0
    operations: tuple[str, ...] = ()
    limit: int | None = Field(default=None, ge=0)
    latency_s: float = Field(default=0.5, ge=0.0)  # latency only: how long to stall
    retry_after_ms: int = Field(default=1000, ge=0)  # throttle only: advertised back-off
    status: int = Field(default=503, ge=500, le=599)  # server_error only


FAULT_KINDS = ("latency", "throttle", "server_error", "reset", "lost_response")


class Faults(_Frozen):
    """latency: stall then answer normally; throttle: provider's throttling error; server_error: HTTP 5xx;
    reset: close the socket without answering, nothing applied; lost_response: apply the change, then
    close the socket without answering (the client cannot know it succeeded)."""

    latency: FaultSpec = FaultSpec()
    throttle: FaultSpec = FaultSpec()
    server_error: FaultSpec = FaultSpec()
    reset: FaultSpec = FaultSpec()
    lost_response: FaultSpec = FaultSpec()

    def spec(self, kind: str) -> FaultSpec:
        spec: FaultSpec = getattr(self, kind)
        return spec


def _default_number_limits() -> dict[str, tuple[NumberLimit, ...]]:
    # Alibaba mainland defaults: verification 1/min, 5/h, 10/day; notification/marketing 50/day.
    day = 86400.0
    return {
        "verification": (
            NumberLimit(window_s=60, max=1),
            NumberLimit(window_s=3600, max=5),
            NumberLimit(window_s=day, max=10),
        ),
        "notification": (NumberLimit(window_s=day, max=50),),
        "marketing": (NumberLimit(window_s=day, max=50),),
    }


DEFAULT_BANNED_WORDS = ("casino", "gambling", "lottery", "赌博", "博彩", "发票")


class Behaviour(_Frozen):
    """How one sandbox account behaves. Times are seconds on the sandbox clock."""

    # Review: decided ``review_delay_s`` after submission, lazily when read. With ``auto_review`` off a
    # template stays pending until approved or rejected through the control API.
    review_delay_s: float = Field(default=2.0, ge=0)
    auto_review: bool = True
    reject_links_in_verification: bool = True
    require_remark: bool = True
    banned_words: tuple[str, ...] = DEFAULT_BANNED_WORDS
    # Template creation quota (Alibaba: 100/day, 30 s apart). Spacing 0 keeps demos and tests fast.
    create_daily_quota: int = Field(default=100, ge=0)
    create_spacing_s: float = Field(default=0.0, ge=0)
    # Sends: per-number limits by template kind, and an optional account-wide daily cap.
    number_limits: dict[str, tuple[NumberLimit, ...]] = Field(default_factory=_default_number_limits)
    send_daily_quota: int | None = Field(default=None, ge=0)
    # Per-operation API rate (requests per second) overriding an emulator's documented defaults
    # (Tencent: AddSmsTemplate 2/s ...); 0 switches an operation's limit off.
    api_rates: dict[str, float] = Field(default_factory=dict)
    # Delivery: waiting until ``delivery_delay_s`` after the send, then delivered, except designated
    # numbers (digits only compared): ending in a ``fail_suffixes`` entry -> failed; ending in a
    # ``never_deliver_suffixes`` entry -> waiting forever (for gate timeouts).
    delivery_delay_s: float = Field(default=1.0, ge=0)
    fail_suffixes: tuple[str, ...] = ("0000",)
    never_deliver_suffixes: tuple[str, ...] = ("9999",)
    faults: Faults = Faults()

    @classmethod
    def realistic(cls) -> Behaviour:
        """The documented provider defaults, for runs that should feel like the real service."""
        return cls(review_delay_s=3600.0, create_spacing_s=30.0, delivery_delay_s=5.0)

    def merged(self, changes: dict[str, Any]) -> Behaviour:
        """A copy with ``changes`` applied; nested ``faults`` dicts merge per kind and per field."""
        data = self.model_dump()
        for key, value in changes.items():
            if key == "faults" and isinstance(value, dict):
                for kind, spec in value.items():
                    if kind not in FAULT_KINDS:
                        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
                    spec_data = spec.model_dump() if isinstance(spec, FaultSpec) else dict(spec)
                    data["faults"][kind] = {**data["faults"][kind], **spec_data}
            else:
                data[key] = value.model_dump() if isinstance(value, BaseModel) else value
        return Behaviour.model_validate(data)
