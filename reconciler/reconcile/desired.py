"""From the loaded config to what each channel should have, in provider-native form.

This is where logical templates meet a provider: content is translated into the provider's syntax
(its traits: ``reconciler.providers.<name>.traits``), fingerprinted and named ``<name>~<fingerprint>``.
"""

from __future__ import annotations

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel, Template
from reconciler.content.identity import fingerprint
from reconciler.content.parse import parse_content, render
from reconciler.content.segments import count_segments
from reconciler.content.translate import native, native_parameters
from reconciler.errors import ConfigError, SecretsError
from reconciler.providers.base import TemplateRequest
from reconciler.providers.traits import traits
from reconciler.reconcile.changes import Blocker, DesiredChannel, DesiredTemplate
from reconciler.reconcile.owner import owner_id
from reconciler.reconcile.signatures import desired_signature

__all__ = ["api_provider", "desired_channel", "desired_template", "example_values", "native_parameters"]


def api_provider(channel: Channel) -> str:
    """The API a channel speaks (an emulator speaks the API of the provider it emulates)."""
    return traits(channel.spec.provider).api


def example_values(template: Template) -> dict[str, str]:
    return {name: spec.example for name, spec in template.spec.variables.items()}


def desired_template(template: Template, channel: Channel) -> DesiredTemplate:
    own = traits(channel.spec.provider)
    provider = own.api
    parsed = parse_content(template.spec.content)
    if not parsed.ok:
        problem = parsed.problems[0]
        raise ConfigError(
            f"template {template.name}: {problem.message}", hint="run `smsops validate` and fix what it reports"
        )
    declared = template.spec.variables
    undeclared = [name for name in parsed.variables if name not in declared]
    if undeclared:
        raise ConfigError(
            f"template {template.name}: variable(s) {', '.join(undeclared)} used but not declared",
            hint="run `smsops validate` and fix what it reports",
        )
    content = native(parsed, provider)
    kind = template.spec.type
    fp = fingerprint(content, kind.value, template.spec.international)
    logical_by_native = native_parameters(parsed, provider, {name: name for name in parsed.variables})
    types = own.variable_types
    variable_types = {key: types[declared[logical].type] for key, logical in logical_by_native.items() if types}
    rendered = render(parsed, example_values(template))
    segments = count_segments(rendered, channel.spec.signature.name, bracketed=own.bracket_signature).segments
    adopt = next(
        (a.code for a in template.spec.adopt if a.channel in (None, channel.name)),
        "",
    )
    return DesiredTemplate(
        name=template.name,
        fingerprint=fp,
        request=TemplateRequest(
            name=f"{template.name}~{fp}",
            content=content,
            kind=kind,
            international=template.spec.international,
            remark=template.spec.remark,
            variable_types=variable_types,
        ),
        segments=segments,
        adopt_code=adopt,
        renamed_from=template.metadata.renamed_from or "",
    )


def desired_channel(config: LoadedConfig, located: Located[Channel]) -> DesiredChannel:
    """What ``located`` (one of ``config.channels``) should have."""
    channel = located.resource
    spec = channel.spec
    own = traits(spec.provider)
    try:
        managed, unreadable = desired_signature(config, located), None
    except SecretsError as error:  # blocks this channel only: channels are independent
        managed, unreadable = (
            None,
            Blocker(channel=channel.name, code="signature-files", message=error.message, hint=error.hint),
        )
    return DesiredChannel(
        name=channel.name,
        provider=spec.provider.value,
        enabled=spec.enabled,
        signature=spec.signature.name,
        templates=tuple(desired_template(t.resource, channel) for t in config.templates_for(channel.name)),
        prune=spec.rollout.prune,
        grace=spec.rollout.grace_period,
        registers_templates=own.registers_templates,
        updatable=own.updatable,
        managed_signature=managed,
        signature_unreadable=unreadable,
        owner=owner_id(config, located),
    )
