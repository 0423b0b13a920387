"""Publishing to AWS SSM Parameter Store, a publish target (``spec.publish.ssmPrefix``) of any
channel: an AWS service, so its client and its errors live with the AWS provider."""

from __future__ import annotations

import json
from typing import Any

from reconciler.errors import ProviderError, ProviderFailure, SmsopsError
from reconciler.secrets.redact import redact

SSM_STANDARD_LIMIT = 4096  # bytes; the Advanced tier takes up to 8 KB
SSM_ADVANCED_LIMIT = 8192


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


def read_ssm(prefix: str, *, region: str, client: Any = None) -> str | None:
    """The document ``publish_ssm`` wrote under ``prefix``, None when there is none."""
    name = f"{prefix.rstrip('/')}/config"
    if client is None:
        import boto3

        client = boto3.client("ssm", region_name=region)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return str(client.get_parameter(Name=name)["Parameter"]["Value"])
    except client.exceptions.ParameterNotFound:
        return None
    except (ClientError, BotoCoreError) as error:
        raise SmsopsError(
            f"cannot read the published config ssm:{name} ({region}): {type(error).__name__}",
            hint=f"check the AWS credentials and that they may ssm:GetParameter on {name} in {region}",
        ) from None
