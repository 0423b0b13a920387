"""``smsops history --marks``: promotions made without their test-send gate (break glass).

Git holds who changed the config; who skipped a gate is recorded where the rollout marks are kept,
in each channel's durable target (``reconciler.publish.store``): the ``smsops-skip-gate`` marks of
the marks document beside the published config. They are never removed, so the document lists
every promotion made without a gate, even of versions retired since. Where the target is a file the
pipeline commits to the config's repository, every committed version of the two documents is read
from git as well: a marks file lost since (a runner that started without it) still tells, and a
code the published config no longer names is named as it was when it was published. Otherwise a
code no longer published is shown by its code alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import SmsopsError
from reconciler.history.git import Repository, relative_to_repository
from reconciler.models import Frozen
from reconciler.providers.traits import traits
from reconciler.publish.document import published_map
from reconciler.publish.store import CONFIG, MARKS, Store, StoreKey, channel_store
from reconciler.publish.targets.file import FileStore
from reconciler.reconcile.breakglass import BreakGlass
from reconciler.reconcile.rollout import SKIP_GATE, parse_marks

_T = TypeVar("_T")


class GateSkip(Frozen):
    """One promotion made without its gate. ``template``: the names the published config gives the
    code (a renamed template's alias too), "" when it never named it as far as can be read."""

    channel: str
    code: str
    template: str = ""
    glass: BreakGlass


class GateSkips(Frozen):
    """What the marks tell: the promotions made without their gate, oldest first, and per channel
    whose target could not be read, why (the other channels are read all the same)."""

    skips: tuple[GateSkip, ...] = ()
    unread: tuple[str, ...] = ()


def skipped_gates(
    config: LoadedConfig,
    repository: Repository,
    *,
    channel: str | None = None,
    template: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> GateSkips:
    """Every promotion recorded as made without its gate in the selected channels' marks documents.
    Reads the durable targets and, for a file target inside ``repository``, its committed versions;
    contacts no provider."""
    found: list[GateSkip] = []
    unread: list[str] = []
    for located in config.channels:
        name = located.resource.name
        if channel is not None and name != channel:
            continue
        if traits(located.resource.spec.provider).marks == "none":
            continue  # nothing registered at the provider: nothing promoted, no gate to skip
        try:
            found += _channel_skips(config, located, repository, template, environ)
        except SmsopsError as error:  # an unreachable target, a region not known, a damaged document
            hint = f" ({error.hint})" if error.hint else ""
            why = error.message.removeprefix(f"channel {name}: ")  # said once
            unread.append(f"channel {name}: rollout marks not read: {why}{hint}")
    return GateSkips(skips=tuple(sorted(found, key=_order)), unread=tuple(unread))


def _channel_skips(
    config: LoadedConfig,
    located: Located[Channel],
    repository: Repository,
    template: str | None,
    environ: Mapping[str, str],
) -> list[GateSkip]:
    store = channel_store(config, located, environ)
    skips: dict[str, str] = {}
    for marks in _versions(store, MARKS, repository, parse_marks):
        skips.update((code, values[SKIP_GATE]) for code, values in marks.items() if SKIP_GATE in values)
    if not skips:
        return []
    names: dict[str, set[str]] = {}
    for published in _versions(store, CONFIG, repository, published_map):
        for published_name, code in published.items():
            names.setdefault(code, set()).add(published_name)
    found = []
    for code, value in skips.items():
        named = sorted(names.get(code, ()))
        if template is None or template in named:
            glass = BreakGlass.from_mark(value)
            found.append(GateSkip(channel=located.resource.name, code=code, template=", ".join(named), glass=glass))
    return found


def _versions(store: Store, key: StoreKey, repository: Repository, parse: Callable[[str, str], _T]) -> Iterator[_T]:
    """The document parsed: its committed versions (oldest first) when it is a file in
    ``repository``, then the target's current one. A committed version that does not parse is
    history that cannot tell anything: skipped; the current one must parse."""
    if isinstance(store, FileStore):
        for text, where in _committed(repository, store.path(key)):
            with contextlib.suppress(SmsopsError):
                yield parse(text, where)
    current = store.read(key)
    if current is not None:
        yield parse(current.text, store.location(key))


def _committed(repository: Repository, path: Path) -> Iterator[tuple[str, str]]:
    """Every version of ``path`` committed on HEAD's line, oldest first, and where it is from; none
    when the file lies outside the repository."""
    try:
        relative = relative_to_repository(repository.top, path)
    except SmsopsError:
        return
    if not repository.has_commits():
        return
    commits = repository.run("log", "--reverse", "--format=%H", "--", relative).split()
    with repository.blobs() as blobs:
        for sha in commits:
            raw = blobs.read(sha, relative)
            if raw is not None:
                yield raw.decode("utf-8", "replace"), f"{relative} at commit {sha[:12]}"


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
