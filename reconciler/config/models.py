"""Desired state: the Channel and Template documents of the config, as frozen pydantic models.

These models are the single source of ``schemas/*.json`` (``smsops schema``), so every field carries
a ``description``. YAML keys are camelCase (aliases); Python attributes are snake_case.
Cross-field rules that need only one document live here as model validators; rules that span
documents (references between channels and templates) live in ``reconciler.config.lint.run``.

Keep this module cheap to import: it is on the path of ``smsops validate``; pydantic only.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from reconciler.config.base import NAME_PATTERN, ConfigModel, ResourceName, field_error
from reconciler.config.signature import Signature
from reconciler.providers import traits as provider_traits
from reconciler.providers.base import TemplateKind

API_VERSION = "smsops/v1"

VARIABLE_NAME_PATTERN = r"^[a-zA-Z][a-zA-Z0-9_]{0,34}$"
DURATION_PATTERN = r"^(?:0|[1-9][0-9]*)[smhd]$"

_DURATION = re.compile(DURATION_PATTERN)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# The providers a channel may name (the schema lists them); what each one is, is its traits:
# ``reconciler.providers.traits.traits(name)``.
class ProviderName(StrEnum):
    ALIBABA = "alibaba"
    TENCENT = "tencent"
    AWS = "aws"
    SANDBOX = "sandbox"


class VariableType(StrEnum):
    CODE = "code"
    NUMBER = "number"
    TEXT = "text"
    NAME = "name"
    TIME = "time"
    MONEY = "money"
    PHONE = "phone"
    LINK = "link"


def parse_duration(value: Any) -> timedelta:
    """``90s``, ``5m``, ``2h``, ``1d`` -> timedelta. Only that form: one unit, no ISO 8601, no bare numbers."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not _DURATION.match(value):
        raise PydanticCustomError(
            "duration", "expected a duration such as 90s, 5m, 2h or 1d, got {value}", {"value": repr(value)}
        )
    return timedelta(seconds=int(value[:-1]) * _UNIT_SECONDS[value[-1]])


def format_duration(value: timedelta) -> str:
    """The inverse of ``parse_duration``, using the largest unit that divides exactly."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN}),
]
VariableName = Annotated[str, StringConstraints(pattern=VARIABLE_NAME_PATTERN)]


def _some_channels(channels: tuple[str, ...]) -> tuple[str, ...]:
    """An empty list would send the template nowhere, which is never what was meant: leaving the
    field out is how a template goes to every channel."""
    if not channels:
        raise PydanticCustomError("smsops_empty_channels", "an empty list sends this template to no channel")
    return channels


_field_error = field_error
_Model = ConfigModel


class Metadata(_Model):
    name: ResourceName = Field(
        description="Unique name within its kind: a DNS label ([a-z0-9-], at most 63, starts with a letter)."
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form labels, e.g. env: prod.")
    renamed_from: ResourceName | None = Field(
        None,
        description="Templates: the name this template had before. Its live code is published under the new "
        "name at once (no new review, no gate); the old name stays published as an alias for the grace period.",
    )


class SecretRef(_Model):
    sops: str = Field(
        min_length=1, description="Path of a SOPS-encrypted YAML file, relative to the file that refers to it."
    )
    key: str = Field(min_length=1, description="Name of the key inside the SOPS file.")


class CredentialsRef(_Model):
    sops: str = Field(
        min_length=1, description="Path of a SOPS-encrypted YAML file, relative to the file that refers to it."
    )
    access_key_id: str = Field(
        "access_key_id", min_length=1, description="Key inside the SOPS file holding the access key id."
    )
    access_key_secret: str = Field(
        "access_key_secret", min_length=1, description="Key inside the SOPS file holding the access key secret."
    )


class SignatureSpec(_Model):
    name: str = Field(
        min_length=2,
        max_length=12,
        description="Alibaba/Tencent SignName (2-12 characters), or the AWS sender ID.",
    )
    sms_sdk_app_id: str | None = Field(
        None, pattern=r"^[0-9]+$", description="Tencent only (required there): the SmsSdkAppId, digits."
    )
    country: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}$",
        description="AWS only (required there): ISO 3166 country code of the sender ID.",
    )
    managed: ResourceName | None = Field(
        None,
        description="metadata.name of the kind: Signature document that registers this signature: smsops "
        "creates it, resubmits it when rejected, and registers templates only once it is approved. "
        "Without it the signature is managed by hand in the provider console.",
    )


class TestSendSpec(_Model):
    recipients: SecretRef = Field(
        description="SOPS reference to a list of E.164 phone numbers the gate sends test messages to."
    )
    templates: tuple[ResourceName, ...] | None = Field(
        None, description="Templates to test-send; default: every template of the channel."
    )
    delivery_timeout: Duration = Field(
        "120s", validate_default=True, description="How long to wait for delivery reports: 90s, 5m, 2h, 1d."
    )


class RolloutPolicy(_Model):
    prune: StrictBool = Field(
        False,
        description="Delete the templates this channel created (its smsops-owner mark) once no longer in the config.",
    )
    grace_period: Duration = Field(
        "24h", validate_default=True, description="How long a superseded version stays live after promotion."
    )
    create_spacing: Duration | None = Field(
        None,
        description=(
            "Least time between two template creations. Default: the provider's rule (Alibaba 30s). "
            "Set it only for an account whose limit differs, such as a local emulator."
        ),
    )
    owner: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._-]{1,40}$",
        description="Names who owns the templates this channel creates, beside the channel's name "
        "(the smsops-owner mark, <channel>@<owner>). Default: a digest of the channel's publish target. "
        "Set it when two config repositories on one provider account both have a channel of this name "
        "publishing to a file at the same path, or to keep ownership when moving the publish target.",
    )


class S3Target(_Model):
    bucket: str = Field(
        pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$",
        description="Bucket name (3-63 lowercase letters, digits, dots and hyphens).",
    )
    prefix: str = Field(
        pattern=r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*/?$",
        description="Folder of the objects in the bucket, e.g. smsops/prod: <prefix>/<channel>.json, "
        "<prefix>/<channel>.marks.json and <prefix>/<channel>.lock.",
    )
    endpoint: str | None = Field(
        None,
        pattern=r"^https?://[^\s/@]+(/[^\s]*)?$",  # no user:password@ (credentials come from the AWS chain)
        description="S3 API address of another S3-compatible store (Alibaba OSS, Tencent COS, MinIO); default AWS S3.",
    )
    region: str | None = Field(
        None,
        min_length=1,
        description="Region of the bucket; default the channel's region for aws channels, else AWS_REGION.",
    )
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        "auto",
        description="How the bucket is named in requests: auto (path style with an endpoint, virtual-hosted "
        "on AWS), path (MinIO by host name), virtual (Alibaba OSS, Tencent COS).",
    )


class PublishTarget(_Model):
    file: str | None = Field(
        None,
        min_length=1,
        description="JSON file to write, relative to the file that declares it. Durable only if the "
        "pipeline keeps it between runs.",
    )
    ssm_prefix: str | None = Field(
        None, pattern=r"^/[A-Za-z0-9_.\-/]+$", description="AWS SSM Parameter Store prefix, e.g. /smsops/prod."
    )
    s3: S3Target | None = Field(None, description="An S3-compatible bucket (AWS S3, Alibaba OSS, Tencent COS, MinIO).")

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["file"]}, {"required": ["ssmPrefix"]}, {"required": ["s3"]}]}
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> PublishTarget:
        if sum(target is not None for target in (self.file, self.ssm_prefix, self.s3)) != 1:
            raise PydanticCustomError("smsops_one_of", "set exactly one of file, ssmPrefix or s3")
        return self


class ChannelSpec(_Model):
    provider: ProviderName = Field(description="SMS provider: alibaba, tencent, aws or sandbox.")
    endpoint: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="API address; default per provider (sandbox: chosen at run time).",
    )
    region: str | None = Field(
        None,
        min_length=1,
        description="Provider region; default alibaba cn-hangzhou, tencent ap-guangzhou, aws us-east-1.",
    )
    credentials: CredentialsRef | None = Field(
        None, description="Where the access key lives (SOPS). Required except for provider sandbox."
    )
    signature: SignatureSpec = Field(description="The SMS signature (sign name / sender ID).")
    enabled: StrictBool = Field(True, description="Whether the application may send through this channel.")
    max_segments: int = Field(2, ge=1, le=10, description="Lint budget: SMS segments per message, signature included.")
    test_send: TestSendSpec | None = Field(None, description="The test-send gate run after apply.")
    rollout: RolloutPolicy = Field(
        default_factory=RolloutPolicy, description="How new template versions replace old ones."
    )
    publish: PublishTarget | None = Field(
        None, description="Where live template codes are published; default .smsops/published/<channel>.json."
    )
    allow_outside: StrictBool = Field(
        False,
        description="Let credentials.sops, testSend.recipients.sops and publish.file point outside the config "
        "directory (each such path is then a warning, shown by validate and plan).",
    )

    @model_validator(mode="after")
    def _provider_requirements(self) -> ChannelSpec:
        # What each provider requires is its trait; this only reports it at the right field.
        problem = provider_traits.spec_problem(self)
        if problem is not None:
            raise _field_error(*problem)
        return self

    def effective_endpoint(self) -> str | None:
        """The endpoint to use: the configured one, else the provider default (None for sandbox:
        its emulator is started at run time on a free loopback port)."""
        if self.endpoint:
            return self.endpoint
        return provider_traits.traits(self.provider).endpoint(self.effective_region())

    def effective_region(self) -> str | None:
        return self.region or provider_traits.traits(self.provider).default_region


class Channel(_Model):
    api_version: Literal["smsops/v1"] = Field(description="Always smsops/v1.")
    kind: Literal["Channel"] = Field(description="Always Channel.")
    metadata: Metadata = Field(description="Name and labels.")
    spec: ChannelSpec = Field(description="Provider settings of one provider account / environment.")

    @property
    def name(self) -> str:
        return self.metadata.name


class VariableSpec(_Model):
    type: VariableType = Field(description="code, number, text, name, time, money, phone or link.")
    example: str = Field(
        min_length=1, description="A realistic value, used for test sends and provider review. Quote it."
    )
    max_length: int | None = Field(None, ge=1, le=500, description="Longest value the application sends.")


class AdoptSpec(_Model):
    code: str = Field(min_length=1, description="Existing provider template code, e.g. SMS_123456789.")
    channel: ResourceName | None = Field(
        None, description="Channel the code belongs to; may be omitted when the template has one channel."
    )


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


def _adopt_schema(schema: dict[str, Any]) -> None:
    """Document that ``adopt`` takes one mapping or a list of them (the validator wraps a single one)."""
    item = schema.pop("items")
    kept: dict[str, Any] = {key: schema.pop(key) for key in ("description", "title") if key in schema}
    schema.clear()
    schema.update(kept, anyOf=[item, {"type": "array", "items": item}])


class TemplateSpec(_Model):
    type: TemplateKind = Field(description="verification, notification or marketing.")
    international: StrictBool = Field(False, description="For recipients outside mainland China.")
    content: str = Field(
        min_length=1, description="Message text; variables as {{ name }}, nothing else (no filters, no logic)."
    )
    variables: dict[VariableName, VariableSpec] = Field(
        default_factory=dict,
        description="Every variable used in content: name -> spec.",
        # pydantic renders the key pattern as patternProperties, which alone lets other keys through
        json_schema_extra={"additionalProperties": False},
    )
    remark: str = Field("", description="Explanation for the provider's reviewers: where and why it is sent.")
    channels: (
        Annotated[tuple[ResourceName, ...], AfterValidator(_some_channels), Field(json_schema_extra={"minItems": 1})]
        | None
    ) = Field(None, description="Channels this template goes to; default: every channel.")
    adopt: Annotated[tuple[AdoptSpec, ...], BeforeValidator(_one_or_many)] = Field(
        (),
        description="Existing provider templates to take over instead of creating new ones.",
        json_schema_extra=_adopt_schema,
    )

    @model_validator(mode="after")
    def _adopt_channels(self) -> TemplateSpec:
        for index, adopt in enumerate(self.adopt):
            # With no channels list the template goes to every channel; only lint knows how many.
            if adopt.channel is None and self.channels is not None and len(self.channels) != 1:
                raise _field_error(
                    f"adopt.{index}",
                    "adopt needs a channel unless the template lists exactly one channel",
                )
            if adopt.channel is not None and self.channels is not None and adopt.channel not in self.channels:
                raise _field_error(
                    f"adopt.{index}.channel",
                    f"channel {adopt.channel!r} is not in this template's channels",
                )
        return self


class Template(_Model):
    api_version: Literal["smsops/v1"] = Field(description="Always smsops/v1.")
    kind: Literal["Template"] = Field(description="Always Template.")
    metadata: Metadata = Field(description="Name and labels; the name is the template's logical name.")
    spec: TemplateSpec = Field(description="Content, variables and review information of one SMS template.")

    @property
    def name(self) -> str:
        return self.metadata.name

    def targets(self, channel: str) -> bool:
        """Whether this template goes to ``channel`` (no ``channels`` list means every channel)."""
        return self.spec.channels is None or channel in self.spec.channels


Resource = Channel | Template | Signature
KINDS: dict[str, type[Channel] | type[Template] | type[Signature]] = {
    "Channel": Channel,
    "Template": Template,
    "Signature": Signature,
}

__all__ = ["NAME_PATTERN", "ResourceName", "Signature"]
