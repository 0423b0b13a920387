"""AWS End User Messaging SMS v2 (``pinpoint-sms-voice-v2``) operations over the sandbox store.

Each takes the call context and the JSON input and returns the output shape of the botocore model
(``botocore/data/pinpoint-sms-voice-v2/2022-03-31``); refusals raise ``AwsError`` carrying the
modeled exception's members (``Reason``, ``ResourceType``, ``ResourceId``, ``Fields``). Sender IDs,
configuration sets and verified destination numbers live in this emulator's own tables.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.store.account import SandboxAccount

SCHEMA = """
CREATE TABLE IF NOT EXISTS aws_sender_ids (
  sender_id TEXT NOT NULL, iso TEXT NOT NULL, message_types TEXT NOT NULL, deletion_protection INTEGER NOT NULL,
  registered INTEGER NOT NULL, tags TEXT NOT NULL, client_token TEXT, created_at REAL NOT NULL,
  PRIMARY KEY (sender_id, iso));
CREATE TABLE IF NOT EXISTS aws_configuration_sets (
  name TEXT PRIMARY KEY, tags TEXT NOT NULL, client_token TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS aws_destinations (
  id TEXT PRIMARY KEY, phone TEXT NOT NULL UNIQUE, status TEXT NOT NULL, code TEXT, tags TEXT NOT NULL,
  client_token TEXT, created_at REAL NOT NULL);
"""
TIER_META = "demo:AccountTier"  # where DemoAccount.extra["AccountTier"] lands; absent means SANDBOX
PRICE_PER_PART = 0.00581  # what MaxPrice is compared against
# Countries where AWS offers no alphanumeric sender ID, and where one must be registered first.
SENDER_ID_UNSUPPORTED = frozenset({"US", "CA", "CN", "BR"})
SENDER_ID_REGISTRATION = frozenset({"IN", "SA", "AE", "QA", "KW", "JO", "EG", "VN", "PH"})
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9_-]{1,11}$")
PHONE = re.compile(r"^\+[1-9]\d{4,14}$")
_CALLING = {
    "1": "US", "7": "RU", "20": "EG", "27": "ZA", "31": "NL", "32": "BE", "33": "FR", "34": "ES", "39": "IT",
    "41": "CH", "43": "AT", "44": "GB", "45": "DK", "46": "SE", "47": "NO", "48": "PL", "49": "DE", "52": "MX",
    "55": "BR", "60": "MY", "61": "AU", "62": "ID", "63": "PH", "64": "NZ", "65": "SG", "66": "TH", "81": "JP",
    "82": "KR", "84": "VN", "86": "CN", "90": "TR", "91": "IN", "353": "IE", "852": "HK", "886": "TW",
    "962": "JO", "965": "KW", "966": "SA", "971": "AE", "974": "QA",
}  # fmt: skip


class AwsError(Exception):
    """A modeled exception: ``code`` is its shape name, ``members`` its extra fields."""

    def __init__(self, code: str, message: str, status: int = 400, **members: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.members = code, message, status, members


def validation(reason: str, message: str, field: str | None = None) -> AwsError:
    error = AwsError("ValidationException", message, Reason=reason)
    if field:
        error.members["Fields"] = [{"Name": field, "Message": message}]
    return error


def not_found(resource_type: str, resource_id: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"The {resource_type} {resource_id} does not exist.",
        ResourceType=resource_type,
        ResourceId=resource_id,
    )


def conflict(reason: str, message: str, resource_type: str, resource_id: str) -> AwsError:
    return AwsError("ConflictException", message, Reason=reason, ResourceType=resource_type, ResourceId=resource_id)


@dataclass(frozen=True)
class Call:
    """Who is calling: the account, and the region from the signature's credential scope."""

    account: SandboxAccount
    region: str

    @property
    def account_id(self) -> str:
        return f"{zlib.crc32(self.account.name.encode()) % 10**12:012d}"

    def arn(self, resource: str) -> str:
        return f"arn:aws:sms-voice:{self.region}:{self.account_id}:{resource}"


def country_of(phone: str) -> str | None:
    digits = phone.lstrip("+")
    return next((_CALLING[c] for c in sorted(_CALLING, key=len, reverse=True) if digits.startswith(c)), None)


def required(params: dict[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise validation("MISSING_PARAMETER", f"{name} is required.", name)
    return params[name]


def page(params: dict[str, Any], items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """NextToken/MaxResults paging over an already filtered list (tokens are opaque offsets)."""
    start = 0
    if params.get("NextToken"):
        try:
            start = int(json.loads(base64.b64decode(params["NextToken"]))["offset"])
        except (ValueError, KeyError, TypeError):
            raise validation("INVALID_NEXT_TOKEN", "The NextToken is not valid.", "NextToken") from None
    size = int(params.get("MaxResults") or 100)
    if not 1 <= size <= 100:
        raise validation("FIELD_VALIDATION_FAILED", "MaxResults must be between 1 and 100.", "MaxResults")
    result: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        result["NextToken"] = base64.b64encode(json.dumps({"offset": start + size}).encode()).decode()
    return result


def filters(params: dict[str, Any], allowed: set[str]) -> list[tuple[str, set[str]]]:
    result = []
    for item in params.get("Filters") or []:
        if item.get("Name") not in allowed:
            raise validation("INVALID_FILTER_VALUES", f"Unknown filter {item.get('Name')!r}.", "Filters")
        result.append((item["Name"], set(item.get("Values") or [])))
    return result


# -- account ------------------------------------------------------------------------------------------
def account_tier(account: SandboxAccount) -> str:
    with account.read() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (TIER_META,)).fetchone()
    return "SANDBOX" if row is None else str(row["value"])


def set_account_tier(account: SandboxAccount, tier: str) -> None:
    with account.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (TIER_META, tier))


def verify_destination(account: SandboxAccount, phone: str) -> None:
    """Mark a destination as verified (what VerifyDestinationNumber does once the code is entered)."""
    with account.transaction() as conn:
        conn.execute(
            "INSERT INTO aws_destinations VALUES (?, ?, 'VERIFIED', NULL, '[]', NULL, ?)"
            " ON CONFLICT(phone) DO UPDATE SET status = 'VERIFIED'",
            (destination_id(phone), phone, account.now()),
        )


def destination_id(phone: str) -> str:
    """A stable VerifiedDestinationNumberId for a number."""
    return f"verifieddestinationnumber-{uuid.uuid5(uuid.NAMESPACE_URL, 'tel:' + phone).hex}"


def describe_account_attributes(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    return {"AccountAttributes": [{"Name": "ACCOUNT_TIER", "Value": account_tier(call.account)}]}


# -- sender IDs ---------------------------------------------------------------------------------------
def _sender_json(call: Call, row: Any) -> dict[str, Any]:
    return {
        "SenderIdArn": call.arn(f"sender-id/{row['sender_id']}/{row['iso']}"), "SenderId": row["sender_id"],
        "IsoCountryCode": row["iso"], "MessageTypes": json.loads(row["message_types"]),
        "MonthlyLeasingPrice": "0.00", "DeletionProtectionEnabled": bool(row["deletion_protection"]),
        "Registered": bool(row["registered"]),
    }  # fmt: skip


def sender_name(value: str) -> str:
    """A sender ID from itself or its ARN (``...:sender-id/<SenderId>/<IsoCountryCode>``)."""
    return value.split("sender-id/", 1)[1].split("/")[0] if value.startswith("arn:") else value


def sender_rows(call: Call) -> list[Any]:
    with call.account.read() as conn:
        return list(conn.execute("SELECT * FROM aws_sender_ids ORDER BY created_at, rowid"))


def request_sender_id(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sender_id, iso = str(required(params, "SenderId")), str(required(params, "IsoCountryCode"))
    if not _SENDER_ID.match(sender_id):
        raise validation(
            "FIELD_VALIDATION_FAILED",
            "A sender ID is 1-11 letters, digits, - or _, with at least one letter.",
            "SenderId",
        )
    if iso in SENDER_ID_UNSUPPORTED:
        raise validation("SENDER_ID_NOT_SUPPORTED", f"Sender IDs are not supported in {iso}.", "IsoCountryCode")
    if iso in SENDER_ID_REGISTRATION:
        raise validation(
            "SENDER_ID_REQUIRES_REGISTRATION", f"Sender IDs in {iso} must be registered before use.", "IsoCountryCode"
        )
    types = params.get("MessageTypes") or ["TRANSACTIONAL"]
    token, tags = params.get("ClientToken"), params.get("Tags") or []
    with call.account.transaction() as conn:
        row = conn.execute("SELECT * FROM aws_sender_ids WHERE sender_id = ? AND iso = ?", (sender_id, iso)).fetchone()
        if row is not None and (token is None or row["client_token"] != token):
            raise conflict(
                "RESOURCE_ALREADY_EXISTS", f"Sender ID {sender_id} already exists in {iso}.", "sender-id", sender_id
            )
        if row is None:  # a retry with the same ClientToken gets the first answer again
            conn.execute(
                "INSERT INTO aws_sender_ids VALUES (?,?,?,?,?,?,?,?)",
                (
                    sender_id,
                    iso,
                    json.dumps(types),
                    int(bool(params.get("DeletionProtectionEnabled"))),
                    0,
                    json.dumps(tags),
                    token,
                    call.account.now(),
                ),
            )
        row = conn.execute("SELECT * FROM aws_sender_ids WHERE sender_id = ? AND iso = ?", (sender_id, iso)).fetchone()
    return {**_sender_json(call, row), "Tags": json.loads(row["tags"])}


def describe_sender_ids(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    rows = sender_rows(call)
    wanted = [(sender_name(i["SenderId"]), i["IsoCountryCode"]) for i in params.get("SenderIds") or []]
    if wanted:
        keys = {(r["sender_id"], r["iso"]) for r in rows}
        missing = [sender for sender, iso in wanted if (sender, iso) not in keys]
        if missing:
            raise not_found("sender-id", missing[0])
        rows = [r for r in rows if (r["sender_id"], r["iso"]) in wanted]
    items = [_sender_json(call, r) for r in rows]
    fields = {
        "sender-id": "SenderId",
        "iso-country-code": "IsoCountryCode",
        "deletion-protection-enabled": "DeletionProtectionEnabled",
        "registered": "Registered",
    }
    for name, values in filters(params, {*fields, "message-type"}):
        if name == "message-type":
            items = [i for i in items if values & set(i["MessageTypes"])]
        else:
            items = [i for i in items if str(i[fields[name]]).lower() in {v.lower() for v in values}]
    return page(params, items, "SenderIds")


# -- configuration sets -----------------------------------------------------------------------------
def config_json(call: Call, row: Any) -> dict[str, Any]:
    return {
        "ConfigurationSetArn": call.arn(f"configuration-set/{row['name']}"),
        "ConfigurationSetName": row["name"],
        "EventDestinations": [],
        "DefaultMessageFeedbackEnabled": False,
        "CreatedTimestamp": row["created_at"],
    }


def _config_name(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def create_configuration_set(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    name, token = str(required(params, "ConfigurationSetName")), params.get("ClientToken")
    with call.account.transaction() as conn:
        row = conn.execute("SELECT * FROM aws_configuration_sets WHERE name = ?", (name,)).fetchone()
        if row is not None and (token is None or row["client_token"] != token):
            raise conflict(
                "RESOURCE_ALREADY_EXISTS", f"Configuration set {name} already exists.", "configuration-set", name
            )
        if row is None:
            conn.execute(
                "INSERT INTO aws_configuration_sets VALUES (?,?,?,?)",
                (name, json.dumps(params.get("Tags") or []), token, call.account.now()),
            )
        row = conn.execute("SELECT * FROM aws_configuration_sets WHERE name = ?", (name,)).fetchone()
    info = config_json(call, row)
    return {
        "ConfigurationSetArn": info["ConfigurationSetArn"],
        "ConfigurationSetName": name,
        "Tags": json.loads(row["tags"]),
        "CreatedTimestamp": row["created_at"],
    }


def describe_configuration_sets(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with call.account.read() as conn:
        rows = list(conn.execute("SELECT * FROM aws_configuration_sets ORDER BY created_at, rowid"))
    names = [_config_name(n) for n in params.get("ConfigurationSetNames") or []]
    missing = [n for n in names if n not in {r["name"] for r in rows}]
    if missing:
        raise not_found("configuration-set", missing[0])
    items = [config_json(call, r) for r in rows if not names or r["name"] in names]
    allowed = {
        "event-destination-name",
        "matching-event-types",
        "default-message-type",
        "default-sender-id",
        "default-message-feedback-enabled",
        "protect-configuration-id",
    }
    for name, values in filters(params, allowed):
        # Sandbox configuration sets have no event destinations or defaults: only "false" can match.
        if not (name == "default-message-feedback-enabled" and "false" in {v.lower() for v in values}):
            items = []
    return page(params, items, "ConfigurationSets")
