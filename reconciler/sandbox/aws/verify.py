"""Verified destination numbers, the sandbox tier's allow-list (pinpoint-sms-voice-v2).

A new AWS account may only text numbers it has verified: create the number (PENDING), have a code
sent to it, then verify with that code (VERIFIED). The code goes out as a recorded send, so a test
or a person reads it from the control API (``GET /_sandbox/accounts/A/sends``) like from a phone.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler.providers.base import TemplateKind
from reconciler.sandbox.aws.ops import (
    PHONE,
    AwsError,
    Call,
    conflict,
    destination_id,
    filters,
    not_found,
    page,
    required,
    validation,
)
from reconciler.sandbox.store.records import RuleViolation

MAX_VERIFIED = 10  # AWS sandbox: at most 10 verified destination numbers per account


def _info(call: Call, row: Any) -> dict[str, Any]:
    return {
        "VerifiedDestinationNumberArn": call.arn(f"verified-destination-number/{row['id']}"),
        "VerifiedDestinationNumberId": row["id"],
        "DestinationPhoneNumber": row["phone"],
        "Status": row["status"],
        "CreatedTimestamp": row["created_at"],
    }


def _row(call: Call, id_or_arn: str) -> Any:
    number_id = id_or_arn.rsplit("/", 1)[-1]
    with call.account.read() as conn:
        row = conn.execute("SELECT * FROM aws_destinations WHERE id = ?", (number_id,)).fetchone()
    if row is None:
        raise not_found("verified-destination-number", number_id)
    return row


def create_verified_destination_number(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    phone, token = str(required(params, "DestinationPhoneNumber")), params.get("ClientToken")
    if not PHONE.match(phone):
        raise validation(
            "INVALID_PARAMETER", "DestinationPhoneNumber must be in E.164 format.", "DestinationPhoneNumber"
        )
    with call.account.transaction() as conn:
        row = conn.execute("SELECT * FROM aws_destinations WHERE phone = ?", (phone,)).fetchone()
        if row is not None and (token is None or row["client_token"] != token):
            raise conflict("RESOURCE_ALREADY_EXISTS", "This destination number already exists.",
                           "verified-destination-number", row["id"])  # fmt: skip
        if row is None:
            if conn.execute("SELECT COUNT(*) FROM aws_destinations").fetchone()[0] >= MAX_VERIFIED:
                raise AwsError("ServiceQuotaExceededException", f"At most {MAX_VERIFIED} verified destination numbers.",
                               Reason="VERIFIED_DESTINATION_NUMBERS_PER_ACCOUNT")  # fmt: skip
            conn.execute(
                "INSERT INTO aws_destinations VALUES (?, ?, 'PENDING', NULL, ?, ?, ?)",
                (destination_id(phone), phone, json.dumps(params.get("Tags") or []), token, call.account.now()),
            )
        row = conn.execute("SELECT * FROM aws_destinations WHERE phone = ?", (phone,)).fetchone()
    return {**_info(call, row), "Tags": json.loads(row["tags"])}


def send_destination_number_verification_code(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    row = _row(call, str(required(params, "VerifiedDestinationNumberId")))
    required(params, "VerificationChannel")
    if row["status"] == "VERIFIED":
        raise conflict("VERIFICATION_ALREADY_COMPLETE", "This number is already verified.",
                       "verified-destination-number", row["id"])  # fmt: skip
    # Six digits derived from the number and the moment: reproducible under a manual clock.
    seed = f"{row['id']}:{call.account.now()}".encode()
    code = f"{int(hashlib.sha256(seed).hexdigest(), 16) % 1_000_000:06d}"
    try:
        record = call.account.record_send(
            phone=row["phone"], template_code="", sign_name="", kind=TemplateKind.VERIFICATION,
            content=f"Your AWS verification code is {code}.", limit_scope="aws:verification",
            message_id_factory=lambda _n: hashlib.sha256(seed + b":message").hexdigest()[:36],
            extra={"verification": True},
        )  # fmt: skip
    except RuleViolation as error:
        raise AwsError("ThrottlingException", f"Rate exceeded for this destination: {error.message}") from None
    with call.account.transaction() as conn:
        conn.execute("UPDATE aws_destinations SET code = ? WHERE id = ?", (code, row["id"]))
    return {"MessageId": record.message_id}


def verify_destination_number(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    row = _row(call, str(required(params, "VerifiedDestinationNumberId")))
    code = str(required(params, "VerificationCode"))
    if row["status"] != "VERIFIED":
        if row["code"] is None or code != row["code"]:
            raise validation("VERIFICATION_CODE_MISMATCH", "The verification code does not match.", "VerificationCode")
        with call.account.transaction() as conn:
            conn.execute("UPDATE aws_destinations SET status = 'VERIFIED', code = NULL WHERE id = ?", (row["id"],))
    return _info(call, _row(call, row["id"]))


def describe_verified_destination_numbers(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with call.account.read() as conn:
        rows = list(conn.execute("SELECT * FROM aws_destinations ORDER BY created_at, rowid"))
    ids = {i.rsplit("/", 1)[-1] for i in params.get("VerifiedDestinationNumberIds") or []}
    missing = ids - {r["id"] for r in rows}
    if missing:
        raise not_found("verified-destination-number", sorted(missing)[0])
    phones = set(params.get("DestinationPhoneNumbers") or [])
    items = [_info(call, r) for r in rows if (not ids or r["id"] in ids) and (not phones or r["phone"] in phones)]
    for name, values in filters(params, {"status", "rcs-agent-id"}):
        items = [i for i in items if name == "status" and i["Status"] in values]
    return page(params, items, "VerifiedDestinationNumbers")
