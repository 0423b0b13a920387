"""Publish: the runtime config the application reads, per channel, and where it is written.

Invariants of the exported document (the application's contract, ``format_version`` 1):
- a template's ``code`` is the LIVE (promoted) version's code, or null while no version is live:
  the application must not send a template that is not live. Codes change only at promotion;
- ``content`` and ``variables`` are the live version's, as the provider has it registered
  (Alibaba ``${name}``; Tencent positional ``{1}`` with the name of each position where known;
  AWS: canonical ``{{ name }}`` text the application renders itself, ``code`` null);
- no secret and no phone number: credentials and test recipients are never read here, and the text
  still passes through ``redact`` before it leaves the process;
- deterministic: sorted keys, no timestamps, so an unchanged state gives a byte-identical file and
  no new SSM parameter version.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel, Template
from reconciler.content.parse import parse_content, to_tencent
from reconciler.errors import ConfigError, ProviderError, ProviderFailure, SmsopsError
from reconciler.reconcile.changes import ChannelObservation, DesiredChannel
from reconciler.reconcile.plan import live_version
from reconciler.reconcile.status import group_versions
from reconciler.secrets.redact import redact

FORMAT_VERSION: Literal[1] = 1
SSM_STANDARD_LIMIT = 4096  # bytes; the Advanced tier takes up to 8 KB
SSM_ADVANCED_LIMIT = 8192

_ALIBABA_VARIABLE = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")
_TENCENT_VARIABLE = re.compile(r"\{([1-9][0-9]*)\}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExportedVariable(_Frozen):
    # null for an older Tencent version whose position names git no longer describes
    name: str | None
    position: int | None = None  # Tencent only: the parameter's 1-based position


class ExportedTemplate(_Frozen):
    live: bool
    code: str | None = None
    content: str | None = None
    kind: str
    international: bool = False
    variables: tuple[ExportedVariable, ...] = ()


class ExportedSignature(_Frozen):
    name: str
    sms_sdk_app_id: str | None = None
    country: str | None = None


class ExportedChannel(_Frozen):
    name: str
    provider: str
    endpoint: str | None
    region: str | None
    enabled: bool
    signature: ExportedSignature
    templates: dict[str, ExportedTemplate]


def dumps(data: Any) -> str:
    return redact(json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)) + "\n"


def channel_document(channel: ExportedChannel) -> str:
    """What one channel's publish target holds."""
    return dumps({"format_version": FORMAT_VERSION, "channel": channel.model_dump(mode="json")})


def combined_document(channels: list[ExportedChannel]) -> str:
    """What ``export`` prints or writes with ``--out``: every selected channel, keyed by name."""
    data = {c.name: c.model_dump(mode="json") for c in channels}
    return dumps({"format_version": FORMAT_VERSION, "channels": data})


def _variables(provider: str, content: str, template: Template, matches_git: bool) -> tuple[ExportedVariable, ...]:
    if provider == "tencent":
        positions = sorted({int(p) for p in _TENCENT_VARIABLE.findall(content)})
        names: dict[int, str] = {}
        if matches_git:
            # Names are not stored at Tencent; they are known only for the version git describes.
            _, by_name = to_tencent(parse_content(template.spec.content))
            names = {position: name for name, position in by_name.items()}
        return tuple(ExportedVariable(name=names.get(p), position=p) for p in positions)
    if provider == "aws":
        return tuple(ExportedVariable(name=name) for name in parse_content(template.spec.content).variables)
    seen = dict.fromkeys(_ALIBABA_VARIABLE.findall(content))
    return tuple(ExportedVariable(name=name) for name in seen)


def export_channel(
    config: LoadedConfig, located: Located[Channel], desired: DesiredChannel, observed: ChannelObservation
) -> ExportedChannel:
    """One channel's runtime config from what the provider has. Refuses an observation that failed:
    publishing every template as "not live" would take a working application offline."""
    channel = located.resource
    spec = channel.spec
    if observed.error:
        raise SmsopsError(
            f"channel {channel.name}: could not read the provider, nothing exported: {redact(observed.error)}",
            hint="fix access to the provider (credentials, endpoint, network) and run export again",
        )
    resources = {t.resource.name: t.resource for t in config.templates_for(channel.name)}
    groups = group_versions(desired, observed.templates)
    templates: dict[str, ExportedTemplate] = {}
    for template in desired.templates:
        request = template.request
        base = {"kind": request.kind.value, "international": request.international}
        if not desired.registers_templates:
            variables = _variables(desired.provider, request.content, resources[template.name], True)
            templates[template.name] = ExportedTemplate(live=True, content=request.content, variables=variables, **base)
            continue
        live = live_version(groups.get(template.name, []), observed.tags_supported, template.adopt_code)
        if live is None:
            templates[template.name] = ExportedTemplate(live=False, **base)
            continue
        matches_git = live.content == request.content
        templates[template.name] = ExportedTemplate(
            live=True,
            code=live.code,
            content=live.content,
            kind=live.kind.value,
            international=live.international,
            variables=_variables(desired.provider, live.content, resources[template.name], matches_git),
        )
    signature = spec.signature
    return ExportedChannel(
        name=channel.name,
        provider=spec.provider.value,
        endpoint=spec.effective_endpoint(),
        region=spec.effective_region(),
        enabled=spec.enabled,
        signature=ExportedSignature(
            name=signature.name, sms_sdk_app_id=signature.sms_sdk_app_id, country=signature.country
        ),
        templates=templates,
    )


# -- targets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """Where one channel's document went. ``changed`` is False when the target already held it."""

    channel: str
    target: str
    changed: bool


def file_target(config: LoadedConfig, located: Located[Channel]) -> Path:
    """The configured ``publish.file`` (relative to the channel's YAML file), else
    ``<config dir>/.smsops/published/<channel>.json``."""
    publish = located.resource.spec.publish
    if publish is not None and publish.file is not None:
        return located.resolve(publish.file)
    return Path(config.root) / ".smsops" / "published" / f"{located.resource.name}.json"


def write_file(path: Path, text: str) -> bool:
    """Atomic replace (a reader never sees half a file); False when the file already holds ``text``."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def ssm_region(channel: Channel, environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """An aws channel publishes in its own region; other providers' regions (cn-hangzhou,
    ap-guangzhou) are not AWS regions, so those use the AWS environment's region."""
    if channel.spec.provider.value == "aws":
        return channel.spec.effective_region() or "us-east-1"
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError(
            f"channel {channel.name}: publish.ssmPrefix is set but no AWS region is known for a "
            f"{channel.spec.provider.value} channel",
            hint="set AWS_REGION (or AWS_DEFAULT_REGION) in the environment that runs export",
        )
    return region


def publish_ssm(prefix: str, text: str, *, region: str, client: Any = None) -> tuple[str, bool]:
    """Write ``<prefix>/config`` (String, Overwrite) unless it already holds ``text``. Credentials
    come from the normal AWS chain (environment, profile, role), never from the channel's SOPS file."""
    name = f"{prefix.rstrip('/')}/config"
    compact = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    size = len(compact.encode())
    if size > SSM_ADVANCED_LIMIT:
        raise SmsopsError(
            f"{name}: the channel's config is {size} bytes, more than SSM's {SSM_ADVANCED_LIMIT}-byte limit",
            hint="publish this channel to a file instead (spec.publish.file)",
        )
    if client is None:
        try:
            import boto3
        except ImportError:  # pragma: no cover - boto3 is a dependency
            raise SmsopsError("publishing to SSM needs boto3", hint="pip install boto3") from None
        client = boto3.client("ssm", region_name=region)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        try:
            current = client.get_parameter(Name=name)["Parameter"]["Value"]
        except client.exceptions.ParameterNotFound:
            current = None
        if current == compact:
            return f"ssm:{name} ({region})", False
        tier = "Standard" if size <= SSM_STANDARD_LIMIT else "Advanced"
        client.put_parameter(Name=name, Value=compact, Type="String", Overwrite=True, Tier=tier)
    except ClientError as error:
        details = error.response.get("Error", {})
        raise ProviderError(
            ProviderFailure(
                provider="aws",
                operation="ssm:PutParameter",
                code=str(details.get("Code", "ClientError")),
                message=redact(str(details.get("Message", error))),
                retryable=False,
            ),
            hint="check the AWS credentials and that they may ssm:GetParameter and ssm:PutParameter on "
            f"{name} in {region}",
        ) from None
    except BotoCoreError as error:
        raise ProviderError(
            ProviderFailure("aws", "ssm:PutParameter", type(error).__name__, redact(str(error)), retryable=True),
            hint="AWS credentials come from the normal chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE or an instance/role identity",
        ) from None
    return f"ssm:{name} ({region})", True


def publish_channel(
    config: LoadedConfig, located: Located[Channel], exported: ExportedChannel, *, ssm_client: Any = None
) -> list[Published]:
    """Write one channel's document to its file and, with ``publish.ssmPrefix``, to SSM."""
    text = channel_document(exported)
    path = file_target(config, located)
    done = [Published(exported.name, str(path), write_file(path, text))]
    publish = located.resource.spec.publish
    if publish is not None and publish.ssm_prefix:
        region = ssm_region(located.resource)
        target, changed = publish_ssm(publish.ssm_prefix, text, region=region, client=ssm_client)
        done.append(Published(exported.name, target, changed))
    return done
