"""Per-number pacing for test sends: the sends made so far, including those of earlier processes as
the provider's own record shows them, counted against the limits the adapter states
(``Provider.number_limits``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from reconciler.errors import ProviderError
from reconciler.providers.base import NumberLimit, PastSend, Provider, SendHistory, TemplateKind
from reconciler.secrets.redact import mask_phone, redact

log = logging.getLogger(__name__)

# Added to every pacing window: our clock and the provider's are not the same clock.
PACING_MARGIN_S = 2.0
# The scope key of a past send whose template the provider does not name (Tencent's status pull):
# it counts for every template, since it may have been any of them.
ANY_TEMPLATE = "template:*"

__all__ = ["ANY_TEMPLATE", "PACING_MARGIN_S", "NumberLimit", "Pacing", "scope_keys", "seed_history"]


@dataclass
class Pacing:
    """The sends made so far, per number and limit scope. ``make_gate`` shares one per channel
    across the gate runs of an apply, so two promotions in a row are paced like one run."""

    history: list[tuple[str, str, float]] = field(default_factory=list)  # (number, scope key, sent at)
    rotation: int = 0
    # numbers whose provider record was read into ``history``: once per Pacing, because after that
    # the sends of this process are in ``history`` already and would otherwise count twice
    seeded: set[str] = field(default_factory=set)


def scope_keys(past: PastSend, kinds: Mapping[str, TemplateKind]) -> tuple[str, ...]:
    """The scope keys a past send counts in. Its kind is looked up in ``kinds``; unknown, it is
    treated as a verification code (the signature-wide scope), the conservative choice: at worst
    a test send waits a minute longer than it had to."""
    code = past.template_code
    keys = ["number", f"template:{code}" if code else ANY_TEMPLATE]
    if kinds.get(code, TemplateKind.VERIFICATION) is TemplateKind.VERIFICATION:
        keys.append("sign")
    return tuple(keys)


def seed_history(
    pacing: Pacing,
    provider: Provider,
    numbers: Iterable[str],
    limits: Iterable[NumberLimit],
    kinds: Mapping[str, TemplateKind],
    now: float,
    report: Callable[[str], None],
) -> None:
    """Add the provider's record of recent sends to each of ``numbers`` to ``pacing``, placed on
    the gate's clock (``now`` minus their age), so waits count the sends of earlier runs.

    The window is the longest of ``limits`` (a day for every default limit): Alibaba answers it in
    one or two day queries, Tencent in one pull, per test number, once per Pacing. A provider
    without a record, or a query that fails, leaves pacing to this process's own sends, as before;
    a limit hit anyway is still reported ``limited``."""
    window = max((limit.window_s for limit in limits), default=0.0)
    if window <= 0 or not isinstance(provider, SendHistory):
        return
    for number in numbers:
        if number in pacing.seeded:
            continue
        pacing.seeded.add(number)
        try:
            past = provider.recent_sends(number, timedelta(seconds=window))
        except (ProviderError, ValueError, TypeError) as error:
            why = f"{error.code}: {error.failure.message}" if isinstance(error, ProviderError) else repr(error)
            message = redact(f"send history of {mask_phone(number)} unavailable ({why}): pacing counts this run only")
            log.warning("%s", message)
            report(message)
            continue
        for sent in past:
            pacing.history.extend((number, key, now - sent.age_s) for key in scope_keys(sent, kinds))
