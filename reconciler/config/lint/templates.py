"""SMS1xx (content and variables) for templates, and the SMS2xx provider limits each provider states
in its traits (``reconciler.providers.<name>.lint``), run here for every channel a template goes to.

Limits that hold whatever the provider (segments over the channel's maxSegments, SMS214) stay here.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.config.lint.catalogue import Reporter
from reconciler.config.lint.provider_rules import longest_values
from reconciler.config.lint.where import Sources, in_content
from reconciler.content.parse import ParsedContent, Var, parse_content, render
from reconciler.content.segments import count_segments
from reconciler.providers.traits import traits

__all__ = ["check_channels", "check_templates", "longest_values"]

_PLACEHOLDER = re.compile(r"\$\{|\{\d+\}")


def check_channels(config: Any, out: Reporter) -> None:
    for located in config.channels:
        traits(located.resource.spec.provider).lint_channel(located, out)


def check_templates(config: Any, out: Reporter, sources: Sources) -> None:
    channels = {located.resource.name: located for located in config.channels}
    for located in config.templates:
        template = located.resource
        parsed = parse_content(template.spec.content)
        _content(located, parsed, out, sources)
        _variables(located, parsed, out, sources)
        if not parsed.ok:
            continue  # provider forms and lengths of broken content mean nothing
        targets = [channels[name] for name in (template.spec.channels or channels) if name in channels]
        # Providers that speak the same API share its rules: each API's are checked once.
        by_api = {traits(target.resource.spec.provider).api: target for target in targets}
        for api in sorted(by_api):
            traits(api).lint_template(located, parsed, out, sources)
        values = longest_values(template.spec.variables)
        if any(name not in values for name in parsed.variables):
            continue  # undeclared variables are reported already; their length is unknown
        body = render(parsed, values)  # the same for every target: computed once
        for target in targets:
            _segments(located, body, target, out)


def _content(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    for problem in parsed.problems:
        out.report(
            problem.rule, in_content(located, problem.line, problem.column, sources), problem.message, problem.hint
        )
    if not parsed.ok:
        return
    previous: Any = None
    for part in parsed.parts:
        if isinstance(part, Var) and isinstance(previous, Var):
            out.report(
                "SMS112",
                in_content(located, part.line, part.column, sources),
                f"variables '{previous.name}' and '{part.name}' are adjacent; providers reject "
                "templates with no text between variables",
            )
        previous = part
    if parsed.variables and not parsed.literal_text.strip():
        out.report(
            "SMS113",
            located.at("spec", "content"),
            "content is only variables; providers reject templates without fixed text",
        )
    match = _PLACEHOLDER.search(parsed.literal_text)
    if match:
        out.report(
            "SMS117",
            located.at("spec", "content"),
            f"the text contains {match.group()!r}, which Alibaba or Tencent would read as a variable",
        )


def _variables(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    spec = located.resource.spec
    declared = spec.variables
    for name in parsed.variables:
        if name not in declared:
            var = next(var for var in parsed.occurrences() if var.name == name)
            out.report(
                "SMS110",
                in_content(located, var.line, var.column, sources),
                f"variable '{name}' is used in content but not declared in spec.variables",
            )
    if parsed.ok:
        for name in declared:
            if name not in parsed.variables:
                out.report(
                    "SMS111",
                    located.at("spec", "variables", name),
                    f"variable '{name}' is declared but not used in content",
                )
    for name, variable in declared.items():
        if variable.max_length is not None and len(variable.example) > variable.max_length:
            out.report(
                "SMS114",
                located.at("spec", "variables", name, "example"),
                f"example of '{name}' is {len(variable.example)} characters; maxLength is {variable.max_length}",
            )
    kind = spec.type
    if kind == "verification":
        codes = [name for name, variable in declared.items() if variable.type == "code"]
        if len(codes) != 1:
            found = "none" if not codes else f"{len(codes)} ({', '.join(codes)})"
            out.report(
                "SMS115",
                located.at("spec", "variables") if codes else located.at("spec", "type"),
                f"a verification template needs exactly one variable of type code; found {found}",
            )
        for name, variable in declared.items():
            if variable.type == "link":
                out.report(
                    "SMS116",
                    located.at("spec", "variables", name, "type"),
                    f"variable '{name}' is a link; verification templates may not carry links",
                )


def _segments(located: Any, body: str, channel: Any, out: Reporter) -> None:
    """``body``: the content with every variable at its longest value."""
    spec = channel.resource.spec
    own = traits(spec.provider)
    own.lint_message(located, body, channel, out)
    signature = spec.signature.name
    info = count_segments(body, signature, bracketed=own.bracket_signature)
    if info.segments > spec.max_segments:
        with_sign = f"with the signature 【{signature}】 " if own.bracket_signature else ""
        out.report(
            "SMS214",
            located.at("spec", "content"),
            f"the message {with_sign}is {info.characters} characters ({info.encoding}) with each variable "
            f"at its maxLength (else its example): {info.segments} segments, but channel "
            f"'{channel.resource.name}' allows maxSegments {spec.max_segments}",
        )
