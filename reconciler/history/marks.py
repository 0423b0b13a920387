"""``smsops history --marks``: promotions made without their test-send gate (break glass).

Git holds who changed the config; who skipped a gate is recorded where the rollout marks are kept,
in each channel's durable target (``reconciler.publish.store``: the marks document beside the
published config). Its ``smsops-skip-gate`` marks are never removed, so the document lists every
promotion made without a gate, even of versions retired since. Each is named by the template the
channel's published config names it under; a code no longer published is shown by its code alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from reconciler.config.load import LoadedConfig
from reconciler.models import Frozen
from reconciler.providers.traits import traits
from reconciler.publish.document import published_map
from reconciler.publish.store import CONFIG, channel_store
from reconciler.reconcile.apply import BreakGlass
from reconciler.reconcile.rollout import SKIP_GATE, StoredMarks


class GateSkip(Frozen):
    """One promotion made without its gate. ``template``: the names the published config gives the
    code (a renamed template's alias too), "" when it names it no more."""

    channel: str
    code: str
    template: str = ""
    glass: BreakGlass


def skipped_gates(
    config: LoadedConfig,
    *,
    channel: str | None = None,
    template: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> tuple[GateSkip, ...]:
    """Every promotion recorded as made without its gate in the selected channels' marks documents,
    oldest first. Reads the durable targets (SmsopsError when one cannot be read); contacts no provider."""
    found: list[GateSkip] = []
    for located in config.channels:
        name = located.resource.name
        if channel is not None and name != channel:
            continue
        if traits(located.resource.spec.provider).marks == "none":
            continue  # nothing registered at the provider: nothing promoted, no gate to skip
        store = channel_store(config, located, environ)
        marks = {code: values[SKIP_GATE] for code, values in StoredMarks(store).read().items() if SKIP_GATE in values}
        if not marks:
            continue
        document = store.read(CONFIG)
        names = published_map(document.text, store.location(CONFIG)) if document is not None else {}
        by_code: dict[str, list[str]] = {}
        for published_name, code in sorted(names.items()):
            by_code.setdefault(code, []).append(published_name)  # a renamed template: its name and its alias
        for code, value in marks.items():
            named = by_code.get(code, [])
            if template is None or template in named:
                glass = BreakGlass.from_mark(value)
                found.append(GateSkip(channel=name, code=code, template=", ".join(named), glass=glass))
    return tuple(sorted(found, key=_order))


def _order(skip: GateSkip) -> tuple[str, str, str]:
    at = skip.glass.at.isoformat() if skip.glass.at is not None else ""
    return at, skip.channel, skip.code


def describe(skip: GateSkip) -> str:
    """One line: ``<channel>/<template> <code>: gate skipped <when> by <actor> at commit <c>: <reason>``."""
    glass = skip.glass
    where = f"{skip.channel}/{skip.template} {skip.code}" if skip.template else f"{skip.channel} {skip.code}"
    when = f" {glass.at.isoformat(timespec='minutes')}" if glass.at is not None else ""
    who = f" by {glass.actor}" if glass.actor else ""
    commit = f" at commit {glass.short_commit}" if glass.commit else ""
    return f"{where}: gate skipped{when}{who}{commit}: {glass.reason}"
