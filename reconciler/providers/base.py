"""The Provider protocol and the observed-state models every adapter returns.

Adapters take and return these models, never SDK dicts. Content is always provider-native
(Alibaba ``${name}``, Tencent ``{1}``, AWS rendered text), because that is what the provider reviews.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from pydantic import Field, SecretBytes

from reconciler.config.signature import AlibabaSignature, AwsSignature, TencentSignature
from reconciler.models import Frozen

if TYPE_CHECKING:
    from reconciler.content.parse import ParsedContent


class TemplateKind(StrEnum):
    VERIFICATION = "verification"
    NOTIFICATION = "notification"
    MARKETING = "marketing"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class DeliveryState(StrEnum):
    WAITING = "waiting"
    DELIVERED = "delivered"
    FAILED = "failed"
    ACCEPTED = "accepted"  # the provider took it but offers no delivery query (AWS without events)
    VALIDATED = "validated"  # dry run only: content and identity validated, nothing sent


class ObservedTemplate(Frozen):
    """A template as the provider has it registered."""

    code: str
    name: str
    content: str
    kind: TemplateKind
    international: bool = False
    status: ReviewStatus
    reason: str = ""
    created_at: datetime | None = None
    remark: str = ""
    # rollout marks kept at the provider (Alibaba template tags); empty where the provider has none
    tags: dict[str, str] = Field(default_factory=dict)
    # True when the provider does not report the type and ``kind`` was inferred (Tencent's list API
    # has no SmsType: smsops-named templates are matched exactly by fingerprint, others by content)
    kind_inferred: bool = False


class CarrierFiling(Frozen):
    """The signature's filing with one carrier (Alibaba SignIspRegisterDetailList), in our words."""

    operator: str
    status: str  # filed, filing, failed, expired, not filed, pending verification


class ObservedSignature(Frozen):
    """The channel's signature (Alibaba SignName, Tencent SignName, AWS sender ID).

    ``id`` is the provider's handle where it is not the name (Tencent SignId); ``settings`` are the
    submitted fields the provider reports back, keyed and valued as the Signature document writes
    them (what the plan compares): every field the provider's read returns is a key, "" when the
    provider holds none, so a key that is absent is one the provider never returns (only a
    baseline digest watches those); ``tags`` are smsops' marks kept for it (the digest of what was
    last submitted, or the baseline of an adopted one, see ``reconciler.reconcile.signatures``)."""

    name: str
    status: ReviewStatus
    reason: str = ""
    id: str = ""
    filings: tuple[CarrierFiling, ...] = ()
    settings: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)


class SignatureFile(Frozen):
    """An image or document submitted with a signature. ``content`` is the decrypted file, filled in
    memory just before the provider call and never serialised (plans carry ``sha256`` only)."""

    field: str  # where the Signature document names it: proofImage, commissionImage, moreData.0
    path: str  # the encrypted file, as the plan's config dir reaches it
    suffix: str
    sha256: str
    content: SecretBytes | None = Field(None, exclude=True, repr=False)


class SignatureRequest(Frozen):
    """What to register: the name, the Signature document's block for this provider (sender-ID
    providers: only the channel's country), and the files, by digest."""

    name: str
    settings: AlibabaSignature | TencentSignature | AwsSignature
    files: tuple[SignatureFile, ...] = ()
    digest: str = ""  # of the settings and the files' sha256: what a mark remembers as submitted

    def file(self, field: str) -> bytes:
        """The decrypted content of the file named at ``field`` (apply fills it in; plans never hold it)."""
        found = next((f for f in self.files if f.field == field), None)
        if found is None or found.content is None:
            raise KeyError(f"signature file {field} was not decrypted")
        return found.content.get_secret_value()


class TemplateRequest(Frozen):
    """What to register: provider-native content plus the fields the provider reviews."""

    name: str
    content: str
    kind: TemplateKind
    international: bool = False
    remark: str = ""
    # native variable name -> provider variable type (Alibaba TemplateRule), e.g. {"code": "numberCaptcha"}
    variable_types: dict[str, str] = Field(default_factory=dict)


class SendRequest(Frozen):
    template_code: str
    phone_number: str
    # native variable name -> value; Tencent names are positions "1", "2", ...
    params: dict[str, str] = Field(default_factory=dict)
    # the rendered message, for providers without a template registry (AWS renders client-side)
    body: str | None = None
    # validate content and sender without delivering (AWS DryRun); providers without one refuse it
    dry_run: bool = False


class SendReceipt(Frozen):
    """The provider's answer to one send. ``message_id`` is BizId / SerialNo / MessageId."""

    phone_number: str
    message_id: str
    sent_at: datetime
    accepted: bool = True
    # not accepted because of a per-number send limit (the adapter's reading of ``code``)
    limited: bool = False
    code: str = ""
    message: str = ""
    dry_run: bool = False


class DeliveryReport(Frozen):
    phone_number: str
    message_id: str
    state: DeliveryState
    code: str = ""
    description: str = ""

    @classmethod
    def never_sent(cls, receipt: SendReceipt) -> DeliveryReport:
        """A send the provider refused (or never identified) cannot be delivered: no query to make."""
        return cls(
            phone_number=receipt.phone_number,
            message_id=receipt.message_id,
            state=DeliveryState.FAILED,
            code=receipt.code,
            description=receipt.message,
        )


@dataclass(frozen=True)
class NumberLimit:
    """A per-number send limit: at most ``max`` messages to one number per ``window_s``, counted
    within ``scope``: the signature (all its verification templates share the limit), the template,
    or the number. Each provider states its own in its traits; the gate asks the opened adapter."""

    scope: Literal["sign", "template", "number"]
    window_s: float
    max: int
    label: str


@runtime_checkable
class Provider(Protocol):
    """One provider account as seen by smsops. Observing is read-only.

    Errors are raised as ``reconciler.errors.ProviderError`` with ``kind`` and ``retryable`` set,
    after the adapter's own retries (the only ones); a request whose answer was lost raises
    ``ResponseLost`` so callers re-observe before trying again.

    Facts the verify stage needs are stated by the adapter (from its provider's static traits), so
    nothing above it names a provider: ``dry_run_by_default`` (test sends validate without delivering
    where the provider can), ``number_limits`` (its default per-number send limits) and
    ``send_parameters`` (a template's values keyed as its send API wants them).
    """

    name: str
    dry_run_by_default: bool

    def number_limits(self, kind: TemplateKind) -> tuple[NumberLimit, ...]: ...

    def send_parameters(self, parsed: ParsedContent, values: Mapping[str, str]) -> dict[str, str]: ...

    def list_templates(self) -> list[ObservedTemplate]: ...

    def get_signature(self) -> ObservedSignature | None: ...

    def create_template(self, request: TemplateRequest) -> str: ...

    def update_template(self, code: str, request: TemplateRequest) -> None: ...

    def delete_template(self, code: str) -> None: ...

    def send(self, request: SendRequest) -> SendReceipt: ...

    def query_delivery(self, receipt: SendReceipt) -> DeliveryReport: ...

    def close(self) -> None: ...


@runtime_checkable
class Signing(Protocol):
    """Providers whose signatures smsops can register (``kind: Signature``). ``read_signature`` is
    read-only and returns None when there is no such signature; writes raise ``ProviderError``.
    ``update_signature`` resubmits in place (a rejected or pending signature, or a provider-mutable
    field of an approved one); ``delete_signature`` removes it (releases a sender ID)."""

    def read_signature(self, name: str) -> ObservedSignature | None: ...

    def create_signature(self, request: SignatureRequest) -> None: ...

    def update_signature(self, observed: ObservedSignature, request: SignatureRequest) -> None: ...

    def delete_signature(self, observed: ObservedSignature) -> None: ...


@runtime_checkable
class AdoptsSignatures(Protocol):
    """Signing providers whose signature, as ``smsops import`` adopts it, is more than the plan's
    read of it (an AWS sender ID in every country, not only the channel's). Read-only; None when
    there is no such signature."""

    def signature_to_adopt(self, name: str) -> ObservedSignature | None: ...


@runtime_checkable
class Tagging(Protocol):
    """Providers that can keep smsops' rollout marks on templates (Alibaba TagResources).

    ``list_templates`` of such a provider fills ``ObservedTemplate.tags``.
    """

    def set_tags(self, code: str, tags: dict[str, str]) -> None: ...


@runtime_checkable
class ReadsWhole(Protocol):
    """Providers that read the signature and the templates in one pass, faster than one after the
    other (Alibaba: the signature is read beside the template pages)."""

    def read_whole(self) -> tuple[ObservedSignature | None, list[ObservedTemplate]]: ...


class PastSend(Frozen):
    """One message the provider's own record shows to a number. ``template_code`` is "" where the
    provider does not say (Tencent's status pull). ``age_s`` is how long before the query it was
    sent, by the adapter's clock: callers on another clock (the gate's monotonic one) place it
    with that, never with ``sent_at``."""

    template_code: str
    sent_at: datetime
    age_s: float


@runtime_checkable
class SendHistory(Protocol):
    """Providers that can list recent sends to one number from their own record, so pacing can
    count the sends of earlier processes (Alibaba QuerySendDetails, Tencent
    PullSmsSendStatusByPhoneNumber). Times are approximate to a second or so."""

    def recent_sends(self, phone_number: str, within: timedelta) -> list[PastSend]: ...
