"""AWS's own lint rules.

Limits from reference/providers.md: SenderId 1-11 ``[A-Za-z0-9_-]`` with a letter, MessageBody
<=1600; the destination number, not the template, decides whether a message is international.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.config.lint.catalogue import Reporter
from reconciler.config.lint.provider_rules import longest_values
from reconciler.config.lint.where import Sources
from reconciler.content.parse import ParsedContent, render

BODY_MAX = 1600
_SENDER_ID = re.compile(r"[A-Za-z0-9_-]{1,11}")


def lint_channel(located: Any, out: Reporter) -> None:
    name = located.resource.spec.signature.name
    if not (_SENDER_ID.fullmatch(name) and any(char.isalpha() for char in name)):
        out.report(
            "SMS212",
            located.at("spec", "signature", "name"),
            f"sender ID {name!r} is not valid on AWS: 1-11 characters A-Z a-z 0-9 _ -, at least one letter",
        )


def lint_template(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    spec = located.resource.spec
    values = longest_values(spec.variables)
    # An undeclared variable has no length (SMS110 reports it): the body cannot be measured.
    if all(name in values for name in parsed.variables):
        body = render(parsed, values)
        if len(body) > BODY_MAX:
            out.report(
                "SMS209",
                located.at("spec", "content"),
                f"the message is {len(body)} characters with each variable at its maxLength (else its "
                f"example); AWS allows at most {BODY_MAX}",
            )
    if spec.international:
        out.report(
            "SMS215",
            located.at("spec", "international"),
            "international has no effect on AWS: the destination number decides the country",
        )
