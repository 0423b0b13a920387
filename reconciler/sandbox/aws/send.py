"""SendTextMessage (pinpoint-sms-voice-v2) over the sandbox store: the checks AWS makes before it
accepts a message (destination, configuration set, sender, price, sandbox tier, in that order here), then
the send recorded with the store's per-number limits and quota.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from reconciler.providers.base import TemplateKind
from reconciler.sandbox.aws.ops import (
    PHONE,
    PRICE_PER_PART,
    SENDER_ID_UNSUPPORTED,
    AwsError,
    Call,
    account_tier,
    conflict,
    country_of,
    describe_configuration_sets,
    not_found,
    required,
    sender_name,
    sender_rows,
    validation,
)
from reconciler.sandbox.store.records import RuleViolation, Violation


def send_text_message(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    phone, body, iso = _destination(params)
    if params.get("ConfigurationSetName"):  # an unknown one is refused like DescribeConfigurationSets refuses it
        describe_configuration_sets(call, {"ConfigurationSetNames": [params["ConfigurationSetName"]]})
    message_type = params.get("MessageType") or "TRANSACTIONAL"
    sender = _sender(call, params, phone=phone, iso=iso, message_type=message_type)
    if params.get("MaxPrice") and float(params["MaxPrice"]) < PRICE_PER_PART:
        raise validation("PRICE_OVER_THRESHOLD", "The message costs more than MaxPrice.", "MaxPrice")
    if account_tier(call.account) == "SANDBOX":
        _check_verified(call, phone)
    if params.get("DryRun"):
        return {"MessageId": str(uuid.uuid4())}  # validated, nothing sent or recorded
    kind = TemplateKind.MARKETING if message_type == "PROMOTIONAL" else TemplateKind.NOTIFICATION
    try:
        record = call.account.record_send(
            phone=phone,
            template_code="",
            sign_name=sender,
            content=body,
            kind=kind,
            limit_scope=f"aws:{sender}",
            message_id_factory=lambda _n: str(uuid.uuid4()),
            extra={
                "message_type": message_type,
                "configuration_set": params.get("ConfigurationSetName") or "",
                "context": params.get("Context") or {},
                "iso": iso,
            },
        )
    except RuleViolation as error:
        if error.kind is Violation.SEND_QUOTA:
            raise AwsError(
                "ServiceQuotaExceededException", error.message, Reason="MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"
            ) from None
        raise AwsError("ThrottlingException", f"Rate exceeded for this destination: {error.message}") from None
    return {"MessageId": record.message_id}


def _destination(params: dict[str, Any]) -> tuple[str, str, str]:
    """(phone, body, destination country), or the validation error AWS gives."""
    phone = str(required(params, "DestinationPhoneNumber"))
    if not PHONE.match(phone):
        raise validation(
            "INVALID_PARAMETER", "DestinationPhoneNumber must be in E.164 format.", "DestinationPhoneNumber"
        )
    body = str(required(params, "MessageBody"))
    if len(body) > 1600:
        raise validation("MAXIMUM_SIZE_EXCEEDED", "MessageBody is longer than 1600 characters.", "MessageBody")
    iso = country_of(phone)
    if iso is None:
        raise validation(
            "DESTINATION_COUNTRY_BLOCKED", "The destination country is not supported.", "DestinationPhoneNumber"
        )
    return phone, body, iso


def _sender(call: Call, params: dict[str, Any], *, phone: str, iso: str, message_type: str) -> str:
    """The sender ID the message goes from ("" for none), checked against the country and the type."""
    if not params.get("OriginationIdentity"):
        if iso in SENDER_ID_UNSUPPORTED:
            raise conflict(
                "NO_ORIGINATION_IDENTITIES_FOUND", f"No origination identity can send to {iso}.", "phone-number", phone
            )
        return ""
    sender = _origination(call, str(params["OriginationIdentity"]), iso)
    types = next(
        json.loads(r["message_types"]) for r in sender_rows(call) if (r["sender_id"], r["iso"]) == (sender, iso)
    )
    if message_type not in types:
        raise conflict(
            "MESSAGE_TYPE_MISMATCH",
            f"Sender ID {sender} does not send {message_type} messages.",
            "sender-id",
            sender,
        )
    return sender


def _origination(call: Call, identity: str, iso: str) -> str:
    """The sender ID to send from, checked against the destination country."""
    if identity.startswith("+") or (identity.startswith("arn:") and ":phone-number/" in identity):
        raise not_found("phone-number", identity)
    sender = sender_name(identity)
    countries = {r["iso"]: r for r in sender_rows(call) if r["sender_id"] == sender}
    if not countries:
        raise validation("SENDER_ID_NOT_REGISTERED", f"Sender ID {sender} is not registered.", "OriginationIdentity")
    if iso not in countries:
        raise validation(
            "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY",
            f"Sender ID {sender} cannot send to {iso}.",
            "OriginationIdentity",
        )
    return str(sender)


def _check_verified(call: Call, phone: str) -> None:
    """In the sandbox tier only verified destination numbers can receive messages."""
    with call.account.read() as conn:
        verified = conn.execute(
            "SELECT 1 FROM aws_destinations WHERE phone = ? AND status = 'VERIFIED'", (phone,)
        ).fetchone()
    if verified is None:
        raise conflict(
            "DESTINATION_PHONE_NUMBER_NOT_VERIFIED",
            "In the sandbox tier only verified destination numbers can receive messages.",
            "verified-destination-number",
            phone,
        )
