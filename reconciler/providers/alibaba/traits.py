"""Alibaba's static traits (reference/providers.md §1): ``${name}`` variables, templates rewritable
only after rejection, typed variables (TemplateRule), rollout marks in template tags."""

from __future__ import annotations

from reconciler.content.translate import by_name
from reconciler.providers.alibaba import adopt, lint, syntax
from reconciler.providers.base import ReviewStatus
from reconciler.providers.traits import NumberLimit, ProviderTraits

# Our variable types -> Alibaba TemplateRule types (what its reviewers check values against).
VARIABLE_TYPES: dict[str, str] = {
    "code": "numberCaptcha",
    "number": "other_number2",
    "text": "characterWithNumber2",
    "name": "name",
    "time": "time",
    "money": "money",
    "phone": "phone_number2",
    "link": "link",
}


def number_limits(kind: str) -> tuple[NumberLimit, ...]:
    """Default per-number limits (reference/providers.md §1.4)."""
    if kind == "verification":
        return (
            NumberLimit("sign", 60, 1, "verification codes: 1 per minute per number"),
            NumberLimit("sign", 3600, 5, "verification codes: 5 per hour per number"),
            NumberLimit("sign", 86400, 10, "verification codes: 10 per day per number"),
        )
    return (NumberLimit("template", 86400, 50, "50 per day per number and template"),)


TRAITS = ProviderTraits(
    adopt_signature=adopt.adopted,
    name="alibaba",
    api="alibaba",
    display="Alibaba",
    to_native=syntax.to_native,
    native_keys=by_name,
    from_native=syntax.from_native,
    exported_variables=syntax.exported_variables,
    updatable=(ReviewStatus.REJECTED,),
    signature_updatable=(ReviewStatus.REJECTED,),
    signature_immutable=(
        "Alibaba changes an approved signature only in the console (UpdateSmsSign takes rejected ones): "
        "revert the change here, or give the Signature a new spec.name (a new signature is registered and "
        "reviewed; templates follow once it is approved)"
    ),
    variable_types=VARIABLE_TYPES,
    code_digits=lint.CODE_DIGITS,
    marks="tags",
    observes_remark=True,
    number_limits=number_limits,
    bracket_signature=True,
    default_region="cn-hangzhou",
    default_endpoint="https://dysmsapi.aliyuncs.com",
    lint_template=lint.lint_template,
)
