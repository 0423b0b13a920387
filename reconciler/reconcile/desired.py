"""From the loaded config to what each channel should have, in provider-native form.

This is where logical templates meet a provider: content is translated (Alibaba ``${name}``,
Tencent positional ``{1}``, AWS canonical text), fingerprinted and named ``<name>~<fingerprint>``.
"""

from __future__ import annotations

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel, Template, VariableType
from reconciler.content.identity import fingerprint
from reconciler.content.parse import ParsedContent, parse_content, render, to_tencent
from reconciler.content.parse import native as native_content
from reconciler.content.segments import count_segments
from reconciler.errors import ConfigError
from reconciler.providers.base import ReviewStatus, TemplateRequest
from reconciler.reconcile.changes import DesiredChannel, DesiredTemplate

# Review states in which each provider lets a template be rewritten in place (providers.md §1.4, §2.3).
UPDATABLE: dict[str, tuple[ReviewStatus, ...]] = {
    "alibaba": (ReviewStatus.REJECTED,),
    "tencent": (ReviewStatus.REJECTED, ReviewStatus.PENDING),
}

# Our variable types -> Alibaba TemplateRule types (what its reviewers check values against).
ALIBABA_VARIABLE_TYPES: dict[VariableType, str] = {
    VariableType.CODE: "numberCaptcha",
    VariableType.NUMBER: "other_number2",
    VariableType.TEXT: "characterWithNumber2",
    VariableType.NAME: "name",
    VariableType.TIME: "time",
    VariableType.MONEY: "money",
    VariableType.PHONE: "phone_number2",
    VariableType.LINK: "link",
}


def api_provider(channel: Channel) -> str:
    """The API a channel speaks: the sandbox emulates Alibaba's."""
    provider = channel.spec.provider.value
    return "alibaba" if provider == "sandbox" else provider


def native_parameters(parsed: ParsedContent, provider: str, values: dict[str, str]) -> dict[str, str]:
    """Values keyed by the provider's variable names (Tencent: positions "1", "2", …)."""
    if provider == "tencent":
        _, positions = to_tencent(parsed)
        return {str(positions[name]): values[name] for name in parsed.variables}
    return {name: values[name] for name in parsed.variables}


def example_values(template: Template) -> dict[str, str]:
    return {name: spec.example for name, spec in template.spec.variables.items()}


def desired_template(template: Template, channel: Channel) -> DesiredTemplate:
    provider = api_provider(channel)
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
    content = native_content(parsed, provider)
    kind = template.spec.type
    fp = fingerprint(content, kind.value, template.spec.international)
    logical_by_native = native_parameters(parsed, provider, {name: name for name in parsed.variables})
    variable_types = {
        native: ALIBABA_VARIABLE_TYPES[declared[logical].type] for native, logical in logical_by_native.items()
    }
    rendered = render(parsed, example_values(template))
    segments = count_segments(rendered, channel.spec.signature.name, provider=provider).segments
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
    )


def desired_channel(config: LoadedConfig, located: Located[Channel]) -> DesiredChannel:
    """What ``located`` (one of ``config.channels``) should have; computed once per config."""
    key = ("desired", located.resource.name)
    found = config.derived.get(key)
    if not isinstance(found, DesiredChannel):
        found = config.derived[key] = _desired_channel(config, located)
    return found


def _desired_channel(config: LoadedConfig, located: Located[Channel]) -> DesiredChannel:
    channel = located.resource
    spec = channel.spec
    return DesiredChannel(
        name=channel.name,
        provider=spec.provider.value,
        enabled=spec.enabled,
        signature=spec.signature.name,
        templates=tuple(desired_template(t.resource, channel) for t in config.templates_for(channel.name)),
        prune=spec.rollout.prune,
        grace=spec.rollout.grace_period,
        registers_templates=spec.provider.value != "aws",
        updatable=UPDATABLE.get(api_provider(channel), ()),
    )
