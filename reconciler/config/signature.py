"""``kind: Signature``: an SMS signature registered and reviewed at the provider, as a frozen model.

One document describes one signature (its provider-side ``spec.name``) with a block of settings per
provider API; a channel names the document in ``spec.signature.managed`` and uses the block of the
API it speaks (``alibaba`` for alibaba and sandbox channels, ``tencent``, ``aws``). Several channels
of one account may name the same document: the signature is registered once.

Images and documents (Tencent proof and commission images, Alibaba supplementary materials) are
files in the config repository encrypted with SOPS (``sops encrypt proof.png > proof.png.enc``):
the model holds only their paths. They are decrypted in memory when a plan is made
(``reconciler.reconcile.signatures``); plans and reports carry a sha256 digest, never the bytes.

Keep this module cheap to import, like ``reconciler.config.models``: pydantic only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from reconciler.config.base import ConfigModel, ResourceName, field_error

Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


_field_error = field_error
_Model = ConfigModel


class EncryptedFile(_Model):
    sops: str = Field(
        min_length=1,
        description="Path of a SOPS-encrypted binary file (sops encrypt proof.png > proof.png.enc), relative "
        "to the file that refers to it. Decrypted in memory only; plans show its sha256.",
    )
    suffix: Literal["png", "jpg", "jpeg", "pdf"] = Field(
        "png", description="What the decrypted file is: png, jpg, jpeg or pdf."
    )


class AlibabaSignature(_Model):
    """CreateSmsSign / UpdateSmsSign fields (the offline AddSmsSign is not used)."""

    source: Literal["organisation", "app", "trademark"] = Field(
        "organisation",
        description="SignSource: organisation (enterprise or institution, 0), app (2) or trademark (5).",
    )
    type: Literal["verification", "general"] = Field(
        "general",
        description="SignType: verification (sends verification templates only) or general (sends every type).",
    )
    qualification_id: Digits = Field(
        description="QualificationId of an approved qualification (console: Qualification Management). Quote it."
    )
    third_party: StrictBool = Field(False, description="ThirdParty: the signature is for another party's brand.")
    remark: str = Field("", max_length=200, description="Explanation for the reviewers (at most 200 characters).")
    app_icp_record_id: Digits | None = Field(None, description="AppIcpRecordId; required for source app.")
    trademark_id: Digits | None = Field(None, description="TrademarkId; required for source trademark.")
    authorization_letter_id: Digits | None = Field(
        None, description="AuthorizationLetterId; required when thirdParty is true."
    )
    more_data: tuple[EncryptedFile, ...] = Field(
        (), max_length=5, description="Supplementary materials (business proof, screenshots), SOPS-encrypted."
    )

    @model_validator(mode="after")
    def _ids_for_source(self) -> AlibabaSignature:
        if self.source == "app" and self.app_icp_record_id is None:
            raise _field_error("appIcpRecordId", "source app requires appIcpRecordId")
        if self.source == "trademark" and self.trademark_id is None:
            raise _field_error("trademarkId", "source trademark requires trademarkId")
        if self.third_party and self.authorization_letter_id is None:
            raise _field_error("authorizationLetterId", "thirdParty: true requires authorizationLetterId")
        return self


class TencentSignature(_Model):
    """AddSmsSign / ModifySmsSign fields."""

    type: Literal["company", "app", "trademark", "government"] = Field(
        description="SignType: company (0), app (1), trademark (4) or government (5)."
    )
    document_type: int = Field(ge=0, le=13, description="DocumentType: the kind of proof document (0-13).")
    purpose: Literal["self", "others"] = Field("self", description="SignPurpose: for self (0) or for others (1).")
    international: StrictBool = Field(False, description="For messages outside mainland China.")
    qualification_id: int | None = Field(None, ge=0, description="QualificationId of an approved qualification.")
    proof_image: EncryptedFile = Field(description="ProofImage: the proof document, SOPS-encrypted.")
    commission_image: EncryptedFile | None = Field(
        None, description="CommissionImage: the authorisation letter; required for purpose others."
    )
    remark: str = Field("", max_length=200, description="Explanation for the reviewers.")

    @model_validator(mode="after")
    def _commission_for_others(self) -> TencentSignature:
        if self.purpose == "others" and self.commission_image is None:
            raise _field_error("commissionImage", "purpose others requires commissionImage")
        return self


class SenderId(_Model):
    country: Country = Field(description="ISO 3166 country code of the sender ID, e.g. GB.")
    deletion_protection: StrictBool = Field(
        True, description="DeletionProtectionEnabled: the sender ID cannot be released while true."
    )
    registration_id: str | None = Field(
        None, min_length=1, description="Registration of the sender ID, where the country requires one."
    )
    message_types: tuple[Literal["TRANSACTIONAL", "PROMOTIONAL"], ...] = Field(
        ("TRANSACTIONAL",), min_length=1, description="MessageTypes the sender ID is requested for."
    )


class AwsSignature(_Model):
    """RequestSenderId / UpdateSenderId / ReleaseSenderId: one sender ID per country."""

    sender_ids: tuple[SenderId, ...] = Field(min_length=1, description="The sender ID in each country.")

    @model_validator(mode="after")
    def _one_per_country(self) -> AwsSignature:
        seen: set[str] = set()
        for index, sender in enumerate(self.sender_ids):
            if sender.country in seen:
                raise _field_error(f"senderIds.{index}.country", f"country {sender.country} is listed twice")
            seen.add(sender.country)
        return self


class SignatureSettings(_Model):
    name: str = Field(
        min_length=1,
        max_length=12,
        description="The signature at the provider: Alibaba/Tencent SignName (2-12 characters) or the AWS "
        "sender ID (1-11). Channels that use it have the same spec.signature.name.",
    )
    alibaba: AlibabaSignature | None = Field(None, description="Settings for alibaba and sandbox channels.")
    tencent: TencentSignature | None = Field(None, description="Settings for tencent channels.")
    aws: AwsSignature | None = Field(None, description="Settings for aws channels.")

    @model_validator(mode="after")
    def _some_provider(self) -> SignatureSettings:
        if self.alibaba is None and self.tencent is None and self.aws is None:
            raise PydanticCustomError("smsops_signature_empty", "give the settings of at least one provider")
        return self

    def for_api(self, api: str) -> AlibabaSignature | TencentSignature | AwsSignature | None:
        """The block of the provider API ``api`` (a traits ``api`` name), if this document has one."""
        block: AlibabaSignature | TencentSignature | AwsSignature | None = getattr(self, api, None)
        return block


class SignatureMetadata(_Model):
    name: ResourceName = Field(description="Name channels refer to in spec.signature.managed: a DNS label.")
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form labels.")


class Signature(_Model):
    api_version: Literal["smsops/v1"] = Field(description="Always smsops/v1.")
    kind: Literal["Signature"] = Field(description="Always Signature.")
    metadata: SignatureMetadata = Field(description="Name and labels.")
    spec: SignatureSettings = Field(description="The signature and what each provider reviews it with.")

    @property
    def name(self) -> str:
        return self.metadata.name
