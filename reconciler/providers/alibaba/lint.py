"""Alibaba's own lint rules (also the sandbox's, which speaks Alibaba's API).

Limits from reference/providers.md: TemplateName <=30, TemplateContent <=500, Remark <=100, code
example 4-6 digits.
"""

from __future__ import annotations

from typing import Any

from reconciler.config.lint import provider_rules
from reconciler.config.lint.catalogue import Reporter
from reconciler.config.lint.where import Sources
from reconciler.content.identity import SUFFIX_LENGTH
from reconciler.content.parse import ParsedContent
from reconciler.providers.alibaba.syntax import to_native

NAME_MAX = 30
CONTENT_MAX = 500
CODE_DIGITS = (4, 6)  # numberCaptcha: 4-6 digits


def lint_template(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    template = located.resource
    provider_name = len(template.name) + SUFFIX_LENGTH
    if provider_name > NAME_MAX:
        out.report(
            "SMS201",
            located.at("metadata", "name"),
            f"name '{template.name}' is {len(template.name)} characters; with the {SUFFIX_LENGTH}-character "
            f"version suffix the Alibaba template name would be {provider_name} (at most {NAME_MAX})",
            f"shorten metadata.name to at most {NAME_MAX - SUFFIX_LENGTH} characters",
        )
    native = to_native(parsed)
    if len(native) > CONTENT_MAX:
        out.report(
            "SMS202",
            located.at("spec", "content"),
            f"content is {len(native)} characters in Alibaba form; Alibaba allows at most {CONTENT_MAX}",
        )
    provider_rules.remark(located, "Alibaba", out)
    if template.spec.type == "verification":
        provider_rules.code_example(located, "Alibaba", CODE_DIGITS, out)
