"""Tencent's own lint rules.

Limits from reference/providers.md: positional variables, marketing content ends 拒收请回复R, the
whole SMS <=500 with signature and values, code <=6, personal accounts <=12 per value, no links.
"""

from __future__ import annotations

from typing import Any

from reconciler.config.lint import provider_rules
from reconciler.config.lint.catalogue import Reporter
from reconciler.config.lint.where import Sources
from reconciler.content.parse import ParsedContent
from reconciler.content.segments import message_text

TAIL_OPT_OUT = "拒收请回复R"
MESSAGE_MAX = 500
CODE_MAX = 6
CODE_DIGITS = (1, CODE_MAX)
PERSONAL_VALUE_MAX = 12


def lint_template(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    spec = located.resource.spec
    provider_rules.remark(located, "Tencent", out)
    kind = spec.type
    if kind == "verification":
        provider_rules.code_example(located, "Tencent", CODE_DIGITS, out)
        if spec.international and "code" not in parsed.literal_text.lower():
            out.report(
                "SMS207",
                located.at("spec", "content"),
                "Tencent requires international verification content to contain the word 'code'",
            )
    if kind == "marketing" and not spec.content.rstrip().endswith(TAIL_OPT_OUT):
        out.report(
            "SMS208",
            located.at("spec", "content"),
            f"Tencent marketing content must end with {TAIL_OPT_OUT} (the opt-out notice)",
        )
    _values(located, out)


def _values(located: Any, out: Reporter) -> None:
    for name, variable in located.resource.spec.variables.items():
        longest = variable.max_length or len(variable.example)
        if variable.type == "link":
            out.report(
                "SMS213",
                located.at("spec", "variables", name, "type"),
                f"variable '{name}' is a link; Tencent does not allow link variables",
            )
        if variable.type == "code" and longest > CODE_MAX:
            out.report(
                "SMS210",
                located.at("spec", "variables", name),
                f"code variable '{name}' may be {longest} characters; Tencent allows at most {CODE_MAX}",
            )
        elif longest > PERSONAL_VALUE_MAX:
            out.report(
                "SMS211",
                located.at("spec", "variables", name),
                f"variable '{name}' may be {longest} characters; Tencent personal accounts allow "
                f"at most {PERSONAL_VALUE_MAX} per value",
            )


def lint_message(located: Any, body: str, channel: Any, out: Reporter) -> None:
    """SMS209: the whole SMS, signature included, with every variable at its longest."""
    signature = channel.resource.spec.signature.name
    whole = message_text(body, signature, bracketed=True)
    if len(whole) > MESSAGE_MAX:
        out.report(
            "SMS209",
            located.at("spec", "content"),
            f"the message is {len(whole)} characters with the signature 【{signature}】 and each "
            f"variable at its maxLength (else its example); Tencent allows at most {MESSAGE_MAX}",
        )
