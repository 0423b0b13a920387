"""Checks that several providers' own lint rules share, parameterised by what differs between
them. The providers' rules themselves live with each provider (``reconciler.providers.<name>.lint``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.config.lint.catalogue import Reporter

REMARK_MAX = 100


def remark(located: Any, shown: str, out: Reporter) -> None:
    """SMS203/SMS204: the explanation ``shown``'s reviewers read."""
    text = located.resource.spec.remark
    if not text.strip():
        out.report(
            "SMS203",
            located.at("spec", "remark"),
            f"spec.remark is empty; {shown} reviewers require an explanation of the template",
        )
    elif len(text) > REMARK_MAX:
        out.report(
            "SMS204",
            located.at("spec", "remark"),
            f"spec.remark is {len(text)} characters; {shown} allows at most {REMARK_MAX}",
        )


def is_code(value: str, digits: tuple[int, int]) -> bool:
    """``value`` is a verification code the provider takes: ASCII digits, as many as ``digits``
    (least, most) allows. The lint checks examples with it, test-send the values of --var."""
    low, high = digits
    return value.isascii() and value.isdigit() and low <= len(value) <= high


def code_wanted(digits: tuple[int, int]) -> str:
    """``digits`` in words: "4-6 digits", or "at most 6 digits" where a single digit will do."""
    low, high = digits
    return f"at most {high} digits" if low <= 1 else f"{low}-{high} digits"


def code_example(located: Any, shown: str, digits: tuple[int, int], out: Reporter) -> None:
    """SMS206: each code variable's example is a code ``shown`` takes (``is_code``)."""
    for name, variable in located.resource.spec.variables.items():
        if variable.type != "code":
            continue
        example = variable.example
        if not is_code(example, digits):
            out.report(
                "SMS206",
                located.at("spec", "variables", name, "example"),
                f"example of code variable '{name}' must be {code_wanted(digits)} for {shown}; "
                f"got {len(example)} characters{'' if example.isdigit() else ', not all digits'}",
            )


def longest_values(variables: Mapping[str, Any]) -> dict[str, str]:
    """Each variable's example, repeated out to its maxLength: the longest message the application
    can send, written in the example's alphabet (which decides GSM-7 or UCS-2)."""
    values = {}
    for name, variable in variables.items():
        example = variable.example
        size = max(variable.max_length or 0, len(example))
        values[name] = (example * (size // len(example) + 1))[:size]
    return values
