"""The AWS End User Messaging SMS v2 emulator (``pinpoint-sms-voice-v2``, which moto lacks).

Wire format is awsJson1.0: ``POST /`` with ``X-Amz-Target: PinpointSMSVoiceV2.<Operation>`` and
``Content-Type: application/x-amz-json-1.0``, SigV4-signed for the service ``sms-voice``. Errors are
4xx/5xx JSON ``{"__type": <exception>, "Message": ..., <modeled members>}``, which botocore turns into
``client.exceptions.<Exception>`` with ``Reason`` etc. at the top of ``error.response``.

AWS offers no delivery query: sends are recorded in the sandbox store, so their delivery state can
be read through the control API (``GET /_sandbox/accounts/A/sends``) the way an event destination
would report it. The operations live in ``ops``, ``send`` and ``verify``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from reconciler.sandbox.aws import ops, resources, send, sigv4, verify
from reconciler.sandbox.core import SandboxRequest, SandboxResponse, perform
from reconciler.sandbox.store.account import DemoAccount, Sandbox, SandboxAccount

SERVICE = "sms-voice"
TARGET_PREFIX = "PinpointSMSVoiceV2."
CONTENT_TYPE = "application/x-amz-json-1.0"

OPERATIONS: dict[str, Callable[[ops.Call, dict[str, Any]], dict[str, Any]]] = {
    "DescribeAccountAttributes": ops.describe_account_attributes,
    "RequestSenderId": ops.request_sender_id,
    "DescribeSenderIds": ops.describe_sender_ids,
    "UpdateSenderId": resources.update_sender_id,
    "ReleaseSenderId": resources.release_sender_id,
    "DeleteConfigurationSet": resources.delete_configuration_set,
    "TagResource": resources.tag_resource,
    "UntagResource": resources.untag_resource,
    "ListTagsForResource": resources.list_tags_for_resource,
    "DescribePhoneNumbers": resources.describe_phone_numbers,
    "DescribePools": resources.describe_pools,
    "CreateConfigurationSet": ops.create_configuration_set,
    "DescribeConfigurationSets": ops.describe_configuration_sets,
    "SendTextMessage": send.send_text_message,
    "CreateVerifiedDestinationNumber": verify.create_verified_destination_number,
    "SendDestinationNumberVerificationCode": verify.send_destination_number_verification_code,
    "VerifyDestinationNumber": verify.verify_destination_number,
    "DescribeVerifiedDestinationNumbers": verify.describe_verified_destination_numbers,
}


_GATEWAY_ERRORS = frozenset({
    "InvalidSignatureException", "UnrecognizedClientException", "IncompleteSignatureException",
    "MissingAuthenticationTokenException", "UnknownOperationException", "SerializationException",
})  # fmt: skip


def _answer(data: dict[str, Any], request_id: str, status: int = 200) -> SandboxResponse:
    return SandboxResponse.json(data, status, headers={"x-amzn-RequestId": request_id}, content_type=CONTENT_TYPE)


def error_response(error: ops.AwsError, request_id: str) -> SandboxResponse:
    # Authentication failures come from AWS's front door, which writes a lower-case "message".
    key = "message" if error.code in _GATEWAY_ERRORS else "Message"
    return _answer({"__type": error.code, key: error.message, **error.members}, request_id, error.status)


class AwsEmulator:
    name: ClassVar[str] = "aws"
    schema_sql: ClassVar[str] = ops.SCHEMA
    demo: ClassVar[DemoAccount] = DemoAccount(
        name="aws-demo",
        access_key_id="AKIASANDBOXDEMO00000",
        access_key_secret="sandbox-aws-demo-secret-access-key",
        extra={"AccountTier": "PRODUCTION"},  # the demo sends to any number; new accounts are SANDBOX
        note=(
            "no sender ID yet: request the channel's, e.g. boto3 pinpoint-sms-voice-v2 "
            "request_sender_id(SenderId='OnePro', IsoCountryCode='GB')"
        ),
    )

    def __init__(self, sandbox: Sandbox, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sandbox = sandbox
        self.sleep = sleep  # injected latency faults stall through this (tests pass a no-op)
        # Signature freshness is judged against the wall clock, as the SDK signs with it; the sandbox
        # clock (review, delivery, limits) may be a ManualClock far from it. Tests skew this one.
        self.wall_clock: Callable[[], float] = time.time

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        request_id = str(uuid.uuid4())
        try:
            call, operation, params = self._admit(request)
        except ops.AwsError as error:
            return error_response(error, request_id)

        def apply() -> SandboxResponse:
            try:
                return _answer(OPERATIONS[operation](call, params), request_id)
            except ops.AwsError as error:
                return error_response(error, request_id)

        return perform(
            call.account, operation, apply, sleep=self.sleep,
            throttled=lambda _ms: error_response(ops.AwsError("ThrottlingException", "Rate exceeded."), request_id),
            server_error=lambda status: error_response(
                ops.AwsError("InternalServerException", "Internal server error.", status, RequestId=request_id),
                request_id),
        )  # fmt: skip

    def _admit(self, request: SandboxRequest) -> tuple[ops.Call, str, dict[str, Any]]:
        """Signature first (nothing about the operation is revealed to an unauthenticated caller)."""
        headers = request.headers
        found: dict[str, SandboxAccount] = {}

        def secret_for(key_id: str) -> str | None:
            hit = self.sandbox.find_access_key(key_id, self.name)
            if hit is None:
                return None
            found[key_id] = hit[0]
            return hit[1]

        try:
            signer = sigv4.verify(
                method=request.method,
                host=headers.get("host", ""),
                path=request.path,
                query=request.raw_query,
                headers=headers,
                body=request.body,
                secret_for=secret_for,
                service=SERVICE,
                now=datetime.fromtimestamp(self.wall_clock(), UTC),
            )
        except sigv4.SigV4Error as error:
            raise ops.AwsError(error.code, error.message) from None
        target = headers.get("x-amz-target", "")
        operation = target.removeprefix(TARGET_PREFIX)
        if request.method != "POST" or not target.startswith(TARGET_PREFIX) or operation not in OPERATIONS:
            raise ops.AwsError("UnknownOperationException", f"Unknown operation {target!r}.")
        if headers.get("content-type", "").split(";")[0].strip() != CONTENT_TYPE:
            raise ops.AwsError("SerializationException", f"Content-Type must be {CONTENT_TYPE}.")
        try:
            params = json.loads(request.body or b"{}")
        except ValueError:
            raise ops.AwsError("SerializationException", "The request body is not valid JSON.") from None
        if not isinstance(params, dict):
            raise ops.AwsError("SerializationException", "The request body must be a JSON object.")
        return ops.Call(found[signer.access_key_id], signer.region), operation, params


def create_account(
    sandbox: Sandbox,
    name: str,
    *,
    access_key_id: str,
    secret_access_key: str,
    tier: str = "SANDBOX",
    verified: tuple[str, ...] = (),
) -> SandboxAccount:
    """An AWS account in the given tier with some verified destination numbers."""
    sandbox.add_schema(AwsEmulator.schema_sql)
    account = sandbox.create_account(name, provider=AwsEmulator.name, access_keys={access_key_id: secret_access_key})
    ops.set_account_tier(account, tier)
    for phone in verified:
        ops.verify_destination(account, phone)
    return account
