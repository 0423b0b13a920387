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
from typing import Any

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel, Template
from reconciler.errors import SmsopsError
from reconciler.formats import EXPORT_FORMAT_VERSION
from reconciler.models import Frozen
from reconciler.providers.traits import traits
from reconciler.publish.store import CONFIG, channel_store, local_copy
from reconciler.publish.targets import Published
from reconciler.reconcile.changes import ChannelObservation, DesiredChannel
from reconciler.reconcile.plan import live_version
from reconciler.reconcile.status import group_versions
from reconciler.secrets.redact import redact


class ExportedVariable(Frozen):
    # null for an older Tencent version whose position names git no longer describes
    name: str | None
    position: int | None = None  # Tencent only: the parameter's 1-based position


class ExportedTemplate(Frozen):
    live: bool
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


def channel_document(channel: ExportedChannel) -> str:
    """What one channel's publish target holds."""
    return dumps({"format_version": EXPORT_FORMAT_VERSION, "channel": channel.model_dump(mode="json")})


def combined_document(channels: list[ExportedChannel]) -> str:
    """What ``export`` prints or writes with ``--out``: every selected channel, keyed by name."""
    data = {c.name: c.model_dump(mode="json") for c in channels}
    return dumps({"format_version": EXPORT_FORMAT_VERSION, "channels": data})


def _variables(provider: str, content: str, template: Template, matches_git: bool) -> tuple[ExportedVariable, ...]:
    found = traits(provider).exported_variables(content, template.spec.content if matches_git else None)
    return tuple(ExportedVariable(name=name, position=position) for name, position in found)


def export_channel(
    config: LoadedConfig, located: Located[Channel], desired: DesiredChannel, observed: ChannelObservation
) -> ExportedChannel:
    """One channel's runtime config from what the provider has. Refuses an observation that failed:
    publishing every template as "not live" would take a working application offline."""
    channel = located.resource
    spec = channel.spec
    if observed.error:
        raise SmsopsError(
            f"channel {channel.name}: could not read the provider, nothing exported: {redact(observed.error)}",
            hint="fix access to the provider (credentials, endpoint, network) and run export again",
        )
    resources = {t.resource.name: t.resource for t in config.templates_for(channel.name)}
    groups = group_versions(desired, observed.templates)
    templates: dict[str, ExportedTemplate] = {}
    for template in desired.templates:
        request = template.request
        base = {"kind": request.kind.value, "international": request.international}
        if not desired.registers_templates:
            variables = _variables(desired.provider, request.content, resources[template.name], True)
            templates[template.name] = ExportedTemplate(live=True, content=request.content, variables=variables, **base)
            continue
        live = live_version(groups.get(template.name, []), observed.tags_supported, template.adopt_code)
        if live is None:
            templates[template.name] = ExportedTemplate(live=False, **base)
            continue
        matches_git = live.content == request.content
        templates[template.name] = ExportedTemplate(
            live=True,
            code=live.code,
            content=live.content,
            kind=live.kind.value,
            international=live.international,
            variables=_variables(desired.provider, live.content, resources[template.name], matches_git),
        )
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
