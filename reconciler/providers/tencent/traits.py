"""Tencent's static traits (reference/providers.md §2): positional ``{1}`` variables whose names
Tencent does not keep, templates rewritable while pending or rejected, an SmsSdkAppId per signature."""

from __future__ import annotations

import re

from reconciler.content.parse import ParsedContent, parse_content
from reconciler.content.translate import by_position, positions, read_native, spell
from reconciler.providers.base import ReviewStatus
from reconciler.providers.tencent import adopt, lint
from reconciler.providers.traits import NativeVariable, NumberLimit, ProviderTraits, SignatureField

_VARIABLE = re.compile(r"\{([0-9]+)\}")
_POSITION = re.compile(r"\{([1-9][0-9]*)\}")


def to_native(parsed: ParsedContent) -> str:
    """Tencent native content: ``{1}``, ``{2}``… in order of first appearance."""
    where = positions(parsed)
    return spell(parsed, lambda name: f"{{{where[name]}}}")


def from_native(content: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``{N}`` becomes ``{{ varN }}``."""
    canonical, names = read_native(content, _VARIABLE, lambda raw: f"var{int(raw)}")
    return canonical, names, ()


def exported_variables(content: str, canonical: str | None) -> tuple[NativeVariable, ...]:
    """Each position used, with its name when ``canonical`` (git's content) is the version stored:
    Tencent does not keep names."""
    names: dict[int, str] = {}
    if canonical is not None:
        names = {index: name for name, index in positions(parse_content(canonical)).items()}
    return tuple((names.get(p), p) for p in sorted({int(p) for p in _POSITION.findall(content)}))


def number_limits(kind: str) -> tuple[NumberLimit, ...]:
    """Default per-number limits (reference/providers.md §2.3), whatever the kind."""
    return (
        NumberLimit("template", 30, 1, "same content: 1 per 30 s per number"),
        NumberLimit("number", 86400, 10, "10 per day per number"),
    )


TRAITS = ProviderTraits(
    adopt_signature=adopt.adopted,
    name="tencent",
    api="tencent",
    display="Tencent",
    to_native=to_native,
    native_keys=by_position,
    from_native=from_native,
    exported_variables=exported_variables,
    updatable=(ReviewStatus.REJECTED, ReviewStatus.PENDING),
    code_digits=lint.CODE_DIGITS,
    signature_updatable=(ReviewStatus.REJECTED, ReviewStatus.PENDING),
    signature_immutable=(
        "Tencent refuses to modify an approved signature (SignAlreadyPassedCheck): revert the change here, or "
        "give the Signature a new spec.name (a new signature is registered and reviewed; templates follow once "
        "it is approved), then delete the old one in the console"
    ),
    marks="published",
    number_limits=number_limits,
    bracket_signature=True,
    default_region="ap-guangzhou",
    default_endpoint="https://sms.tencentcloudapi.com",
    signature_fields=(SignatureField("sms_sdk_app_id", "smsSdkAppId"),),
    lint_template=lint.lint_template,
    lint_message=lint.lint_message,
)
