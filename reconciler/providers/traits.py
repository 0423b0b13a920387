"""What core modules know about a provider without opening a channel: its static traits.

Each provider states its own in ``reconciler.providers.<name>.traits`` (``TRAITS``), and
``reconciler.providers.registry.traits`` finds them by name. Core modules (lint, desired state, plan,
publish, adopt, secrets) ask these traits instead of comparing provider names, so a new provider
touches ``providers/`` and the registry only.

Nothing here, nor in any provider's traits module, imports an SDK: ``validate`` reads traits.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, cast

from reconciler.errors import ConfigError
from reconciler.providers.base import NumberLimit as NumberLimit  # the adapter states these at run time

if TYPE_CHECKING:
    from reconciler.config.lint.catalogue import Reporter
    from reconciler.config.lint.where import Sources
    from reconciler.content.parse import ParsedContent
    from reconciler.providers.base import ReviewStatus

# Every provider smsops knows: ``reconciler.providers.<name>`` holds its adapter and its traits.
PROVIDERS: tuple[str, ...] = ("alibaba", "tencent", "aws", "sandbox")

# The content lint of one provider: (located template, parsed content, reporter, sources).
TemplateLint = Callable[[Any, "ParsedContent", "Reporter", "Sources"], None]
# Lint of one channel document: (located channel, reporter).
ChannelLint = Callable[[Any, "Reporter"], None]
# ``smsops import`` of a signature: (settings the provider reports back, file-name stem) -> (the
# Signature document's block for this API, notes on what to check, whether it is valid as written).
AdoptSignature = Callable[[dict[str, str], str], tuple[dict[str, Any], list[str], bool]]
# Lint of the whole message sent through one channel: (located template, body with every variable at
# its longest value, located channel, reporter).
MessageLint = Callable[[Any, str, Any, "Reporter"], None]
# A native variable of exported content: (logical name or None when unknown, 1-based position or None).
NativeVariable = tuple[str | None, int | None]


def _no_lint(*_: Any) -> None:
    return None


def _names(content: str, canonical: str | None) -> tuple[NativeVariable, ...]:
    return ()


def _no_limits(kind: str) -> tuple[NumberLimit, ...]:
    return ()


@dataclass(frozen=True)
class SignatureField:
    """A ``spec.signature`` field only some providers use (``attribute`` on the model, ``alias`` in YAML)."""

    attribute: str
    alias: str
    required: bool = True


@dataclass(frozen=True)
class ProviderTraits:
    """One provider's static traits. ``name`` is the value of ``spec.provider``; ``api`` the API it
    speaks (the sandbox speaks another provider's API, so its ``api`` is that provider's name)."""

    name: str
    api: str
    display: str  # as shown in messages: "Alibaba"
    # Content syntax, both directions. ``to_native``: canonical ``{{ name }}`` content -> what the
    # provider stores; ``native_keys``: logical variable name -> the provider's parameter name for a
    # send; ``from_native``: stored content -> (canonical content, names in order, notes for the user).
    to_native: Callable[[ParsedContent], str]
    native_keys: Callable[[ParsedContent], dict[str, str]]
    from_native: Callable[[str], tuple[str, tuple[str, ...], tuple[str, ...]]]
    # The variables of stored content for the published document; ``canonical`` is the git content
    # when it is the version stored (names the provider does not keep are known only then).
    exported_variables: Callable[[str, str | None], tuple[NativeVariable, ...]] = _names
    # Review statuses in which a template may be rewritten in place.
    updatable: tuple[ReviewStatus, ...] = ()
    # Our variable type -> the provider's variable type sent with a template; empty: none sent.
    variable_types: Mapping[str, str] = field(default_factory=dict)
    # How many digits (least, most) a value of a ``code`` variable may have, digits only: what the
    # lint holds examples to (SMS206) and test-send the values of --var; None: no such rule.
    code_digits: tuple[int, int] | None = None
    # False: the provider has no template object; the application renders canonical content itself.
    registers_templates: bool = True
    # True: the provider puts ``【signature】`` into the message body, so it counts in segments.
    bracket_signature: bool = False
    # Where smsops' rollout marks are kept: the four a listing must show (live, gate, removed, owner) in
    # the provider's template tags, or everything in the marks document beside the published config
    # (which holds the other marks of a provider with tags too); nowhere: no templates to mark.
    marks: Literal["tags", "published", "none"] = "published"
    # True: observing reports the remark a rejected template was submitted with (Alibaba
    # GetSmsTemplate), so no mark needs to remember it.
    observes_remark: bool = False
    # The provider's default per-number send limits for a template kind (the test-send gate paces
    # itself by them).
    number_limits: Callable[[str], tuple[NumberLimit, ...]] = _no_limits
    # True: a test send only validates by default (the provider offers a dry run; real sends cost).
    test_send_dry_run: bool = False
    # False: the channel may omit spec.credentials (the provider supplies its own).
    needs_credentials: bool = True
    # Runs against the emulator embedded in smsops: no account, no network (what `smsops demo` may use).
    embedded: bool = False
    # True: the channel's region is an AWS region (publishing to SSM may use it).
    aws_region: bool = False
    default_region: str | None = None
    # Default API address; ``{region}`` is replaced by the effective region.
    default_endpoint: str | None = None
    signature_fields: tuple[SignatureField, ...] = ()
    # Blocker shown when the signature is not found: (message with {signature}, hint).
    missing_signature: tuple[str, str] = (
        "signature '{signature}' does not exist at the provider",
        "create and get the signature approved in the provider console, then plan again",
    )
    # kind: Signature. Review states in which a signature may be resubmitted in place, and the
    # settings (as the Signature document writes them) the provider lets the API change on an
    # approved one; changing any other is a blocker with ``signature_immutable`` as its hint.
    signature_updatable: tuple[ReviewStatus, ...] = ()
    signature_created: str = "new signature: submitted for review"  # the plan's reason for a create
    signature_mutable: tuple[str, ...] = ()
    # The plan's reason for such a change: whether the provider sends the signature back to review.
    signature_updated: str = "updated in place: back to provider review until approved again"
    signature_immutable: str = (
        "the provider cannot change an approved signature by API: revert the change, or give the Signature "
        "a new spec.name (a new signature is registered and reviewed; templates follow once it is approved)"
    )
    adopt_signature: AdoptSignature | None = None  # None: signatures are not adopted by import
    lint_channel: ChannelLint = _no_lint
    lint_template: TemplateLint = _no_lint
    lint_message: MessageLint = _no_lint

    def endpoint(self, region: str | None) -> str | None:
        if self.default_endpoint is None:
            return None
        return self.default_endpoint.replace("{region}", region or "")


def unknown_provider(name: str) -> ConfigError:
    return ConfigError(f"unknown provider {name!r}", hint=f"spec.provider must be one of: {', '.join(PROVIDERS)}")


@cache
def traits(name: str) -> ProviderTraits:
    """The static traits of provider ``name`` (a ``spec.provider`` value, or an ``api`` name)."""
    if str(name) not in PROVIDERS:
        raise unknown_provider(str(name))
    return cast("ProviderTraits", importlib.import_module(f"reconciler.providers.{name!s}.traits").TRAITS)


def spec_problem(spec: Any) -> tuple[str, str] | None:
    """What a channel spec lacks or has too much of for its provider, as (field below the spec,
    message), or None. Fields of ``spec.signature`` some providers use are each provider's trait."""
    own = traits(spec.provider)
    name = own.name
    if spec.credentials is None and own.needs_credentials:
        return "credentials", f"provider {name} requires credentials"
    for other in map(traits, PROVIDERS):
        for wanted in other.signature_fields:
            value = getattr(spec.signature, wanted.attribute)
            mine = wanted in own.signature_fields
            if mine and wanted.required and not value:
                return "signature", f"provider {name} requires signature.{wanted.alias}"
            if not mine and value is not None:
                return f"signature.{wanted.alias}", f"{wanted.alias} is for provider {other.name}, not {name}"
    return None
