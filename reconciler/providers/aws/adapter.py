"""AWS End User Messaging SMS (``pinpoint-sms-voice-v2``) through boto3.

AWS does not fit the reviewed-template model (reference/providers.md §3): there is no template
object to register, SMS bodies are free text rendered client-side, and nobody reviews them.
So, deliberately:
- ``list_templates`` returns ``[]``: smsops publishes the rendered templates for the application
  instead of registering them, and the plan for an AWS channel has nothing to create.
- create/update/delete_template raise a non-retryable ``ProviderError`` (code ``NoTemplateRegistry``):
  a caller that gets there has a bug, and failing loudly beats pretending something was registered.
- The "signature" is the channel's sender ID for its country (``DescribeSenderIds``): present →
  approved (AWS provisions it in registration countries only once registered; elsewhere it needs
  none), present with an unfinished registration → pending, missing → None.
- ``send`` needs ``SendRequest.body`` (the rendered text); ``dry_run`` maps to ``DryRun`` (validated,
  not delivered). There is no delivery query: ``query_delivery`` says ACCEPTED (or VALIDATED).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import ErrorKind, ProviderError
from reconciler.providers._support import failure, missing_sdk, required_setting, utcnow, was_not_sent
from reconciler.providers.aws import sender_ids
from reconciler.providers.aws.traits import TRAITS
from reconciler.providers.base import (
    DeliveryReport,
    DeliveryState,
    NumberLimit,
    ObservedSignature,
    ObservedTemplate,
    SendReceipt,
    SendRequest,
    SignatureRequest,
    TemplateKind,
    TemplateRequest,
)
from reconciler.providers.ratelimit import Pacer, Sleep
from reconciler.providers.retry import RetryPolicy, call
from reconciler.secrets.redact import register_secret

if TYPE_CHECKING:
    from reconciler.config.load import Located
    from reconciler.config.models import Channel
    from reconciler.content.parse import ParsedContent
    from reconciler.secrets.sops import ChannelSecrets

PROVIDER = "aws"
SERVICE = "pinpoint-sms-voice-v2"
DEFAULT_REGION = "us-east-1"
_RETRYABLE = ("ThrottlingException", "InternalServerException", "ServiceUnavailable", "RequestTimeout")
_AUTH = ("UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException", "ExpiredToken")


_REFUSED = ("UnrecognizedClientException", "InvalidSignatureException", "InvalidClientTokenId", "ExpiredToken")


def error_kind(code: str, operation: str, status: int = 0) -> ErrorKind:
    """What ``code`` (``Code`` or ``Code.Reason``) means when ``operation`` answered it."""
    if code.startswith(_REFUSED):
        return ErrorKind.AUTH_REFUSED
    if code.startswith("AccessDenied"):
        return ErrorKind.FORBIDDEN
    if code.startswith("ThrottlingException"):
        return ErrorKind.THROTTLED
    if code.startswith(_RETRYABLE) or status >= 500:
        return ErrorKind.UNAVAILABLE
    if code.startswith("ServiceQuotaExceeded"):
        return ErrorKind.LIMITED if operation == "SendTextMessage" else ErrorKind.QUOTA_EXHAUSTED
    if code.startswith("ResourceNotFoundException"):
        return ErrorKind.NOT_FOUND
    return ErrorKind.OTHER


def _hint(code: str) -> str:
    if code.startswith(_AUTH):
        return "check the channel's AWS access key id/secret in its SOPS file and its IAM permissions (sms-voice:*)"
    if code.startswith("ThrottlingException"):
        return "AWS is throttling this account; try again in a minute"
    if "SENDER_ID" in code:
        return "register the sender ID for the channel's country in AWS End User Messaging SMS"
    return ""


class AwsProvider:
    """One AWS account/region and the sender ID of one country."""

    name = PROVIDER
    # DryRun validates content and sender without delivering (and without a per-number cost)
    dry_run_by_default = TRAITS.test_send_dry_run

    def number_limits(self, kind: TemplateKind) -> tuple[NumberLimit, ...]:
        """None published; the account-wide rate is the pacer's."""
        return TRAITS.number_limits(kind.value)

    def send_parameters(self, parsed: ParsedContent, values: Mapping[str, str]) -> dict[str, str]:
        """None: AWS sends the rendered text (``SendRequest.body``)."""
        return {}

    def __init__(
        self,
        *,
        access_key_id: str,
        secret_access_key: str,
        sender_id: str,
        country: str,
        endpoint: str | None = None,
        region: str = DEFAULT_REGION,
        configuration_set: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 15.0,
        pacer: Pacer | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        try:
            import boto3.session
            from botocore.config import Config
        except ImportError as exc:
            raise missing_sdk(PROVIDER, exc.name or "boto3", "boto3") from None
        register_secret(secret_access_key)
        # An explicit session: never pick up ambient credentials or profiles by accident.
        session = boto3.session.Session(
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key, region_name=region
        )
        config = Config(
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"total_max_attempts": 1, "mode": "standard"},  # retries are ours (providers.retry)
        )
        self._client = session.client(SERVICE, endpoint_url=endpoint, config=config)
        self.sender_id = sender_id
        self.country = country.upper()
        self.configuration_set = configuration_set
        self.endpoint = endpoint or f"https://sms-voice.{region}.amazonaws.com"
        self._pacer = pacer or Pacer(PROVIDER, sleep=sleep)
        self._retry = retry_policy or RetryPolicy.from_env()
        self._sleep = sleep
        self._now = now

    # -- transport -------------------------------------------------------------------------------

    def _call(self, operation: str, fields: dict[str, Any], *, write: bool) -> dict[str, Any]:
        method = getattr(self._client, _snake(operation))

        def once() -> dict[str, Any]:
            self._pacer.acquire(operation)
            try:
                return dict(method(**fields))
            except Exception as exc:  # every SDK failure becomes a ProviderError
                raise self._map_exception(operation, exc, write=write) from None

        return call(once, self._retry, sleep=self._sleep)

    def _map_exception(self, operation: str, exc: Exception, *, write: bool) -> ProviderError:
        from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, HTTPClientError

        if isinstance(exc, ClientError):
            response: dict[str, Any] = dict(exc.response)
            error = response.get("Error", {})
            code = str(error.get("Code") or "Unknown")
            reason = response.get("Reason") or error.get("Reason")
            full = f"{code}.{reason}" if reason else code
            meta = response.get("ResponseMetadata", {})
            status = int(meta.get("HTTPStatusCode") or 0)
            server = status >= 500 or code.startswith(("InternalServerException", "ServiceUnavailable"))
            return failure(
                PROVIDER,
                operation,
                full,
                str(error.get("Message") or ""),
                kind=error_kind(full, operation, status),
                request_id=str(meta.get("RequestId") or ""),
                extra={"http_status": str(status)},
                hint=_hint(full),
                lost=write and server,
            )
        if isinstance(exc, EndpointConnectionError | HTTPClientError | ConnectionClosedError):
            text = f"{type(exc).__name__}: {exc}"
            not_sent = isinstance(exc, EndpointConnectionError) or was_not_sent(text)
            code = "ConnectionRefused" if not_sent else type(exc).__name__
            return failure(PROVIDER, operation, code, text, kind=ErrorKind.UNAVAILABLE, lost=write and not not_sent)
        return failure(PROVIDER, operation, type(exc).__name__, str(exc))

    # -- observe ---------------------------------------------------------------------------------

    def list_templates(self) -> list[ObservedTemplate]:
        return []

    def get_signature(self) -> ObservedSignature | None:
        return self.read_signature(self.sender_id)

    # -- signatures: the sender ID of the channel's country (sender_ids.py) ----------------------

    def _sender_call(self, operation: str, fields: dict[str, Any], write: bool) -> dict[str, Any]:
        return self._call(operation, fields, write=write)

    def read_signature(self, name: str) -> ObservedSignature | None:
        return sender_ids.read(self._sender_call, name, self.country)

    def signature_to_adopt(self, name: str) -> ObservedSignature | None:
        return sender_ids.every_country(self._sender_call, name)

    def create_signature(self, request: SignatureRequest) -> None:
        sender_ids.request(self._sender_call, request)

    def update_signature(self, observed: ObservedSignature, request: SignatureRequest) -> None:
        sender_ids.update(self._sender_call, observed, request)

    def delete_signature(self, observed: ObservedSignature) -> None:
        sender_ids.release(self._sender_call, observed, self.country)

    def ensure_configuration_set(self, name: str) -> bool:
        """Create the configuration set (where delivery events are routed) if missing; True if created."""
        try:
            self._call("DescribeConfigurationSets", {"ConfigurationSetNames": [name]}, write=False)
            return False
        except ProviderError as error:
            if not error.code.startswith("ResourceNotFoundException"):
                raise
        # ClientToken makes the create idempotent, so it is safe to retry after a lost answer.
        self._call(
            "CreateConfigurationSet", {"ConfigurationSetName": name, "ClientToken": f"smsops-{name}"}, write=False
        )
        return True

    # -- change: none ----------------------------------------------------------------------------

    def _no_registry(self, operation: str) -> ProviderError:
        return failure(
            PROVIDER,
            operation,
            "NoTemplateRegistry",
            "aws has no template registry",
            retryable=False,
            hint="AWS SMS sends free text: smsops renders templates client-side and publishes them; "
            "nothing is registered, so the plan for an AWS channel should contain no template changes",
        )

    def create_template(self, request: TemplateRequest) -> str:
        raise self._no_registry("CreateTemplate")

    def update_template(self, code: str, request: TemplateRequest) -> None:
        raise self._no_registry("UpdateTemplate")

    def delete_template(self, code: str) -> None:
        raise self._no_registry("DeleteTemplate")

    # -- send ------------------------------------------------------------------------------------

    def send(self, request: SendRequest) -> SendReceipt:
        if request.body is None:
            raise failure(
                PROVIDER,
                "SendTextMessage",
                "MissingBody",
                "aws sends rendered text: SendRequest.body is required",
                retryable=False,
            )
        fields: dict[str, Any] = {
            "DestinationPhoneNumber": request.phone_number,
            "OriginationIdentity": self.sender_id,
            "MessageBody": request.body,
            "MessageType": "TRANSACTIONAL",
            "DryRun": request.dry_run,
        }
        if self.configuration_set:
            fields["ConfigurationSetName"] = self.configuration_set
        sent_at = self._now()
        try:
            response = self._call("SendTextMessage", fields, write=True)
        except ProviderError as error:
            # Refusals of this message (not verified, opted out, blocked country) are receipts.
            code = error.code
            if code.startswith(("ValidationException.", "ConflictException.")):
                return SendReceipt(
                    phone_number=request.phone_number,
                    message_id="",
                    sent_at=sent_at,
                    accepted=False,
                    code=code,
                    message=error.failure.message,
                    dry_run=request.dry_run,
                )
            raise
        return SendReceipt(
            phone_number=request.phone_number,
            message_id=str(response.get("MessageId", "")),
            sent_at=sent_at,
            code="OK",
            dry_run=request.dry_run,
        )

    def query_delivery(self, receipt: SendReceipt) -> DeliveryReport:
        if not receipt.accepted:
            state = DeliveryState.FAILED
        else:
            state = DeliveryState.VALIDATED if receipt.dry_run else DeliveryState.ACCEPTED
        description = "" if receipt.accepted else receipt.message
        if receipt.accepted and not receipt.dry_run:
            description = "AWS offers no delivery query; delivery events go to the configuration set's destinations"
        return DeliveryReport(
            phone_number=receipt.phone_number,
            message_id=receipt.message_id,
            state=state,
            code=receipt.code,
            description=description,
        )

    def close(self) -> None:
        self._client.close()


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def open_channel(channel: Located[Channel], secrets: ChannelSecrets, *, state_dir: Path | None = None) -> AwsProvider:
    spec = channel.resource.spec
    country = required_setting(spec.signature.country, channel.resource.name, "spec.signature.country")
    return AwsProvider(
        access_key_id=secrets.access_key_id.get_secret_value(),
        secret_access_key=secrets.access_key_secret.get_secret_value(),
        sender_id=spec.signature.name,
        country=country,
        endpoint=spec.endpoint,
        region=spec.region or DEFAULT_REGION,
    )
