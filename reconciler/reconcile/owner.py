"""Whose template is it: the ``smsops-owner`` mark, and what a channel may do to templates it does not own.

One provider account may serve several channels: of one config, or of several config repositories.
A template's provider-side name (``<name>~<fingerprint>``) says which template a version is of, not
which channel created it, so smsops marks every template it creates with its owner
(``smsops-owner``, written right after the create: a template tag where the provider has tags, else
in the channel's marks document). The owner is ``<channel>@<id>`` (``owner_id``): ``id`` is
``spec.rollout.owner``, else a digest of where the channel publishes (its SSM prefix, its S3 store,
bucket and prefix, or its file path relative to the config directory). The config says it, not the
machine: a fresh clone on an empty runner computes the same owner.

Invariants (``ownership``):
- ``OWN`` (the mark names this channel's owner): the only versions a channel retires, deletes or
  counts as copies of one another.
- ``KNOWN`` (no mark naming this owner, but the channel uses the version: its published config
  names the code or git adopts it; or, with no owner mark at all, its marks document has marks for
  it, or where owner marks are tags it has exactly the name git asks for - templates created before
  smsops recorded owners, or whose mark an interrupted apply never wrote): used as before (live,
  promoted, renamed, published), never retired or deleted. The plan says how to claim one.
- ``FOREIGN``: everything else - another channel's, another repository's, or unproven. The channel's
  plan, apply, status and export leave it alone.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Collection, Sequence
from enum import StrEnum
from typing import Any

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.content.identity import parse_provider_name
from reconciler.errors import SmsopsError
from reconciler.providers.base import ObservedTemplate
from reconciler.providers.traits import traits
from reconciler.publish.document import document_reader
from reconciler.publish.targets import file_target
from reconciler.reconcile.changes import Change, ChannelObservation, DesiredChannel
from reconciler.reconcile.rollout import OWNER

ID_LENGTH = 10  # digest characters of a publish target: the mark stays short (tag values are)


class Ownership(StrEnum):
    OWN = "own"
    KNOWN = "known"
    FOREIGN = "foreign"


def target_location(config: LoadedConfig, located: Located[Channel]) -> str:
    """Where the channel publishes, as the config states it (never a path of this machine)."""
    publish = located.resource.spec.publish
    if publish is not None and publish.ssm_prefix:
        return f"ssm:{publish.ssm_prefix.rstrip('/')}"
    if publish is not None and publish.s3 is not None:
        s3 = publish.s3
        return f"s3:{s3.endpoint or ''}/{s3.bucket}/{s3.prefix.rstrip('/')}/{located.resource.name}"
    relative = os.path.relpath(file_target(config, located), os.path.abspath(config.root))
    return f"file:{relative.replace(os.sep, '/')}"


def owner_id(config: LoadedConfig, located: Located[Channel]) -> str:
    """``<channel>@<id>``: the ``smsops-owner`` mark of the templates this channel creates."""
    channel = located.resource
    explicit = channel.spec.rollout.owner
    if explicit:
        return f"{channel.name}@{explicit}"
    digest = hashlib.sha256(target_location(config, located).encode()).hexdigest()[:ID_LENGTH]
    return f"{channel.name}@{digest}"


def ownership(
    template: ObservedTemplate,
    owner: str,
    *,
    used: Collection[str] = (),
    recorded: Collection[str] = (),
    wanted: Collection[str] = (),
) -> Ownership:
    """``template`` as seen by the channel whose owner is ``owner``. ``used``: codes its published
    config names or git adopts; ``recorded``: codes its marks document holds marks for; ``wanted``:
    the provider-side names git asks this channel for, where owner marks are template tags every
    channel sees (so a missing mark is a template whose mark was never written: an apply stopped
    between the create and the mark, or an older smsops; using it, never deleting it, is what keeps
    such an apply from registering the template twice)."""
    mark = template.tags.get(OWNER, "")
    if mark and mark == owner:
        return Ownership.OWN
    if template.code in used:
        return Ownership.KNOWN
    if not mark and (template.code in recorded or template.name in wanted):
        return Ownership.KNOWN
    return Ownership.FOREIGN


def split_owned(
    desired: DesiredChannel, observed: ChannelObservation
) -> tuple[tuple[ObservedTemplate, ...], tuple[ObservedTemplate, ...]]:
    """The templates this channel may plan for (its own, those its target proves it uses, and
    templates smsops did not name) and the smsops-named ones it leaves alone (``reconcile.owner``)."""
    used = {*(observed.published or {}).values(), *(t.adopt_code for t in desired.templates if t.adopt_code)}
    # Without template tags, another channel's owner mark is out of sight: a name proves nothing.
    wanted = {t.request.name for t in desired.templates} if traits(desired.provider).marks == "tags" else set()
    recorded = set(observed.recorded)
    usable: list[ObservedTemplate] = []
    foreign: list[ObservedTemplate] = []
    for template in observed.templates:
        named = parse_provider_name(template.name) is not None or template.code in used
        seen = ownership(template, desired.owner, used=used, recorded=recorded, wanted=wanted)
        mine = seen is not Ownership.FOREIGN
        (usable if mine or not named else foreign).append(template)
    return tuple(usable), tuple(foreign)


def claim_hint(owner: str) -> str:
    """How a person claims a template smsops cannot prove this channel's (see the team guide)."""
    return f"mark it smsops-owner={owner} to let this channel delete it"


def named_codes(text: str, where: str) -> set[str]:
    """Every code a published config names (live or not yet): what no channel may delete."""
    try:
        data: Any = json.loads(text)
        templates = data["channel"]["templates"]
        return {str(entry["code"]) for entry in templates.values() if entry.get("code")}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SmsopsError(
            f"{where} is not a published config smsops wrote: nothing is deleted while it cannot be read",
            hint="restore it from its previous version, or run `smsops export` for that channel",
        ) from None


# Every code a published config of a channel on the same provider names -> those channels (a last
# look before anything is deleted); raises SmsopsError when one of them cannot be read.
ReadNamed = Callable[[], dict[str, str]]


def still_named(read: ReadNamed | None, clean_up: Sequence[Change]) -> dict[str, str]:
    """Apply's last look before retiring or deleting: address -> why not, for each version a
    published config of a channel on the same provider names (all of them when one cannot be read)."""
    if read is None:
        return {}
    try:
        named = read()
    except SmsopsError as error:
        why = f"not done: could not read every published config on this provider: {error.message}"
        return {change.address: why for change in clean_up}
    return {
        change.address: f"not done: the published config of channel {named[change.before.code]} names "
        f"{change.before.code}"
        for change in clean_up
        if change.before is not None and change.before.code in named
    }


def same_account(config: LoadedConfig, located: Located[Channel]) -> list[Located[Channel]]:
    """The channels of the config that may share ``located``'s provider account (itself included):
    the same API at the same address. Credentials are not compared: two keys may open one account."""
    spec = located.resource.spec
    api = traits(spec.provider).api
    return [
        c
        for c in config.channels
        if traits(c.resource.spec.provider).api == api and c.resource.spec.endpoint == spec.endpoint
    ]


def named_on_account(config: LoadedConfig, located: Located[Channel]) -> ReadNamed:
    """Reads every code the published configs of ``same_account`` name -> those channels: apply's
    last look before it deletes. Raises ``SmsopsError`` when one cannot be read: nothing is deleted
    on a guess of what an application reads."""
    readers = [(c.resource.name, document_reader(config, c)) for c in same_account(config, located)]

    def read() -> dict[str, str]:
        named: dict[str, list[str]] = {}
        for channel, document in readers:
            try:
                text = document()
            except SmsopsError as error:
                raise SmsopsError(f"channel {channel}: {error.message}", hint=error.hint) from None
            for code in named_codes(text, f"the published config of channel {channel}") if text else ():
                named.setdefault(code, []).append(channel)
        return {code: ", ".join(channels) for code, channels in named.items()}

    return read
