"""Publish: the runtime config the application reads, per channel, and where it is written.

Invariants of the exported document (the application's contract, ``formats.EXPORT_FORMAT_VERSION``):
- a template's ``code`` is the LIVE (promoted) version's code, or null while no version is live:
  the application must not send a template that is not live. Codes change only at promotion;
- ``content`` and ``variables`` are the live version's, as the provider has it registered
  (e.g. Alibaba ``${name}``; Tencent positional ``{1}`` with the name of each position where known;
  a provider without templates: canonical ``{{ name }}`` text the application renders itself,
  ``code`` null). Each provider's syntax is its trait (``exported_variables``);
- no secret and no phone number: credentials and test recipients are never read here, and the text
  still passes through ``redact`` before it leaves the process;
- deterministic: sorted keys, no timestamps, so an unchanged state gives a byte-identical file and
  no new SSM parameter version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel, Template
from reconciler.content.identity import parse_provider_name
from reconciler.errors import SmsopsError
from reconciler.formats import EXPORT_FORMAT_VERSION
from reconciler.models import Frozen
from reconciler.providers.base import ReviewStatus
from reconciler.providers.traits import traits
from reconciler.publish.store import CONFIG, channel_store, local_copy
from reconciler.publish.targets import Published
from reconciler.reconcile.changes import ChannelObservation, DesiredChannel
from reconciler.reconcile.desired import desired_channel
from reconciler.reconcile.matching import match_templates
from reconciler.reconcile.observe import Session
from reconciler.reconcile.owner import split_owned
from reconciler.reconcile.rollout import LIVE, RENAMED, UNPUBLISHED, write_marks
from reconciler.reconcile.versions import alias_of
from reconciler.secrets.redact import redact


class ExportedVariable(Frozen):
    # null for an older Tencent version whose position names git no longer describes
    name: str | None
    position: int | None = None  # Tencent only: the parameter's 1-based position


class ExportedTemplate(Frozen):
    live: bool
    # set on the old name of a renamed template while its grace period lasts: the same code as the
    # new name, so an application that still asks for the old name keeps sending
    alias_of: str | None = None
    code: str | None = None
    content: str | None = None
    kind: str
    international: bool = False
    variables: tuple[ExportedVariable, ...] = ()


class ExportedSignature(Frozen):
    name: str
    sms_sdk_app_id: str | None = None
    country: str | None = None


class ExportedChannel(Frozen):
    name: str
    provider: str
    endpoint: str | None
    region: str | None
    enabled: bool
    signature: ExportedSignature
    templates: dict[str, ExportedTemplate]


def dumps(data: Any) -> str:
    return redact(json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)) + "\n"


def _json(channel: ExportedChannel) -> dict[str, Any]:
    """The channel as JSON; ``alias_of`` only on the aliases, so other entries read as before."""
    data = channel.model_dump(mode="json")
    for entry in data["templates"].values():
        if entry["alias_of"] is None:
            del entry["alias_of"]
    return data


def channel_document(channel: ExportedChannel) -> str:
    """What one channel's publish target holds."""
    return dumps({"format_version": EXPORT_FORMAT_VERSION, "channel": _json(channel)})


def combined_document(channels: list[ExportedChannel]) -> str:
    """What ``export`` prints or writes with ``--out``: every selected channel, keyed by name."""
    data = {c.name: _json(c) for c in channels}
    return dumps({"format_version": EXPORT_FORMAT_VERSION, "channels": data})


def _variables(provider: str, content: str, template: Template, matches_git: bool) -> tuple[ExportedVariable, ...]:
    found = traits(provider).exported_variables(content, template.spec.content if matches_git else None)
    return tuple(ExportedVariable(name=name, position=position) for name, position in found)


def export_channel(
    config: LoadedConfig,
    located: Located[Channel],
    desired: DesiredChannel,
    observed: ChannelObservation,
    *,
    now: datetime | None = None,
) -> ExportedChannel:
    """One channel's runtime config from what the provider has. Refuses an observation that failed:
    publishing every template as "not live" would take a working application offline."""
    channel = located.resource
    spec = channel.spec
    if observed.error:
        if observed.error.startswith("publish target:"):  # see reconcile.observe
            raise SmsopsError(
                f"channel {channel.name}: could not read its publish target, nothing exported: "
                f"{redact(observed.error.removeprefix('publish target:').strip())}",
                hint="check spec.publish, that the target can be reached from here, and that the AWS "
                "credentials in the environment may read and write it; then run export again",
            )
        raise SmsopsError(
            f"channel {channel.name}: could not read the provider, nothing exported: {redact(observed.error)}",
            hint="fix access to the provider (credentials, endpoint, network) and run export again",
        )
    now = now or datetime.now(UTC)
    resources = {t.resource.name: t.resource for t in config.templates_for(channel.name)}
    matches = match_templates(desired, observed)
    templates: dict[str, ExportedTemplate] = {}
    for template in desired.templates:
        request = template.request
        base = {"kind": request.kind.value, "international": request.international}
        if not desired.registers_templates:
            variables = _variables(desired.provider, request.content, resources[template.name], True)
            templates[template.name] = ExportedTemplate(live=True, content=request.content, variables=variables, **base)
            continue
        live = matches[template.name].live
        if live is None:
            templates[template.name] = ExportedTemplate(live=False, **base)
            continue
        matches_git = live.content == request.content
        entry = ExportedTemplate(
            live=True,
            code=live.code,
            content=live.content,
            kind=live.kind.value,
            international=live.international,
            variables=_variables(desired.provider, live.content, resources[template.name], matches_git),
        )
        templates[template.name] = entry
        alias = alias_of(live, template.name, desired.grace, now)
        if alias and alias not in resources:
            templates[alias] = entry.model_copy(update={"alias_of": template.name})
    signature = spec.signature
    return ExportedChannel(
        name=channel.name,
        provider=spec.provider.value,
        endpoint=spec.effective_endpoint(),
        region=spec.effective_region(),
        enabled=spec.enabled,
        signature=ExportedSignature(
            name=signature.name, sms_sdk_app_id=signature.sms_sdk_app_id, country=signature.country
        ),
        templates=templates,
    )


def publish_channel(
    config: LoadedConfig, located: Located[Channel], exported: ExportedChannel, *, clients: dict[str, Any] | None = None
) -> list[Published]:
    """Write one channel's document to its durable target (``reconciler.publish.store``) and, for an
    SSM or S3 channel, a runner-local copy at the default file path."""
    text = channel_document(exported)
    done: list[Published] = []
    for store in (channel_store(config, located, clients=clients), local_copy(config, located)):
        if store is not None:
            done.append(Published(exported.name, store.location(CONFIG), store.write(CONFIG, text)))
    return done


def record_unpublished(
    observed: ChannelObservation,
    exported: ExportedChannel,
    mark: Callable[[str, dict[str, str]], None],
    now: datetime,
    desired: DesiredChannel,
) -> list[str]:
    """After a publish: mark each approved managed version that the published config stopped naming
    (its grace period before retiring counts from now), and clear the mark of one it names again
    (a rollback), so an old mark never shortens a later grace period. Only this channel's versions
    (``owner.split_owned``) are marked: another channel's are not ours to mark. Returns the codes marked."""
    named = {t.code for t in exported.templates.values() if t.code}
    before = set((observed.published or {}).values())
    stamp = now.isoformat(timespec="seconds")
    marked: list[str] = []
    for version in split_owned(desired, observed)[0]:
        if version.status is not ReviewStatus.APPROVED or not parse_provider_name(version.name):
            continue
        if version.code in named:
            if version.tags.get(UNPUBLISHED):
                mark(version.code, {UNPUBLISHED: ""})
            continue
        left_now = version.code in before  # named until this publish: its grace starts now
        earlier = not version.tags.get(UNPUBLISHED) and (version.tags.get(LIVE) or version.tags.get(RENAMED))
        if left_now or earlier:
            mark(version.code, {UNPUBLISHED: stamp})
            marked.append(version.code)
    return marked


def publish_live(session: Session, config: LoadedConfig, located: Located[Channel], *, now: datetime) -> str:
    """Publish what is live now for one channel (what ``apply`` does right after promoting, and
    ``export`` on demand): read the provider again, write the document, mark what left it."""
    desired = desired_channel(config, located)
    observed = session.observe(desired)
    exported = export_channel(config, located, desired, observed, now=now)
    done = publish_channel(config, located, exported)
    record_unpublished(observed, exported, marker(session, located.resource.name), now, desired)
    return ", ".join(d.target for d in done)


def marker(session: Session, channel: str) -> Callable[[str, dict[str, str]], None]:
    """Writes rollout marks of one channel's templates where that channel keeps them."""
    provider, marks = session.provider(channel), session.marks.get(channel)
    return lambda code, values: write_marks(provider, marks, code, values)
