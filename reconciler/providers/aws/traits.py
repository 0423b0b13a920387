"""AWS End User Messaging SMS static traits (reference/providers.md §3): no template object (the
application renders canonical ``{{ name }}`` content itself), a sender ID per country sent out of
band, and an AWS region (where SSM publishing may go too)."""

from __future__ import annotations

from reconciler.content.parse import parse_content
from reconciler.content.translate import by_name, to_canonical
from reconciler.providers.aws import adopt, lint
from reconciler.providers.traits import NativeVariable, ProviderTraits, SignatureField


def from_native(content: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    parsed = parse_content(content)
    return content, parsed.variables, ()


def exported_variables(content: str, canonical: str | None) -> tuple[NativeVariable, ...]:
    return tuple((name, None) for name in parse_content(content).variables)


TRAITS = ProviderTraits(
    adopt_signature=adopt.adopted,
    name="aws",
    api="aws",
    display="AWS",
    to_native=to_canonical,
    native_keys=by_name,
    from_native=from_native,
    exported_variables=exported_variables,
    registers_templates=False,
    marks="none",
    test_send_dry_run=True,
    aws_region=True,
    default_region="us-east-1",
    default_endpoint="https://sms-voice.{region}.amazonaws.com",
    signature_fields=(SignatureField("country", "country"),),
    missing_signature=(
        "sender ID '{signature}' is not registered in this AWS account for the channel's country",
        "request it (End User Messaging SMS RequestSenderId, or the console's Sender IDs), then plan again",
    ),
    # Only DeletionProtectionEnabled can change (UpdateSenderId); the rest means a new sender ID.
    signature_created="new sender ID: requested (sender IDs have no content review)",
    signature_mutable=("deletionProtection",),
    signature_updated="updated in place (sender IDs have no review)",
    signature_immutable=(
        "a sender ID's message types and registration cannot change by API: set deletionProtection: false, "
        "apply, release it (smsops does, with prune, once nothing uses it), then request it again with the "
        "new settings, or revert the change"
    ),
    lint_channel=lint.lint_channel,
    lint_template=lint.lint_template,
)
