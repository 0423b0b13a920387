"""Per-number pacing for test sends: the providers' default limits and the sends made so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reconciler.providers.base import TemplateKind

# Added to every pacing window: our clock and the provider's are not the same clock.
PACING_MARGIN_S = 2.0


@dataclass(frozen=True)
class NumberLimit:
    """At most ``max`` messages to one number per ``window_s``, counted within ``scope``:
    the signature (all its verification templates share the limit), the template, or the number."""

    scope: Literal["sign", "template", "number"]
    window_s: float
    max: int
    label: str


def number_limits(provider: str, kind: TemplateKind) -> tuple[NumberLimit, ...]:
    """The providers' default per-number limits (reference/providers.md §1.4, §2.3)."""
    if provider == "alibaba":
        if kind is TemplateKind.VERIFICATION:
            return (
                NumberLimit("sign", 60, 1, "verification codes: 1 per minute per number"),
                NumberLimit("sign", 3600, 5, "verification codes: 5 per hour per number"),
                NumberLimit("sign", 86400, 10, "verification codes: 10 per day per number"),
            )
        return (NumberLimit("template", 86400, 50, "50 per day per number and template"),)
    if provider == "tencent":
        return (
            NumberLimit("template", 30, 1, "same content: 1 per 30 s per number"),
            NumberLimit("number", 86400, 10, "10 per day per number"),
        )
    return ()


@dataclass
class Pacing:
    """The sends made so far, per number and limit scope. ``make_gate`` shares one per channel
    across the gate runs of an apply, so two promotions in a row are paced like one run."""

    history: list[tuple[str, str, float]] = field(default_factory=list)  # (number, scope key, sent at)
    rotation: int = 0
