"""The rest of the AWS SMS v2 resource surface the emulator serves: sender ID updates and releases
(deletion protection is the only mutable field, and a protected sender ID cannot be released),
configuration set deletion, tags on any resource by ARN, and the phone-number and pool reads (a
sandbox account owns neither: their lists are empty and a named one does not exist).
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.sandbox.aws.ops import Call, config_json, conflict, filters, not_found, page, required, validation

# ARN resource type -> (table, key columns, how the ARN's path splits into them)
_TAGGABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "sender-id": ("aws_sender_ids", ("sender_id", "iso")),
    "configuration-set": ("aws_configuration_sets", ("name",)),
    "verified-destination-number": ("aws_destinations", ("id",)),
}
MAX_TAGS = 200


def _sender_row(call: Call, params: dict[str, Any]) -> Any:
    sender_id, iso = str(required(params, "SenderId")), str(required(params, "IsoCountryCode"))
    with call.account.read() as conn:
        row = conn.execute("SELECT * FROM aws_sender_ids WHERE sender_id = ? AND iso = ?", (sender_id, iso)).fetchone()
    if row is None:
        raise not_found("sender-id", sender_id)
    return row


def _sender_out(call: Call, row: Any) -> dict[str, Any]:
    return {
        "SenderIdArn": call.arn(f"sender-id/{row['sender_id']}/{row['iso']}"),
        "SenderId": row["sender_id"],
        "IsoCountryCode": row["iso"],
        "MessageTypes": json.loads(row["message_types"]),
        "MonthlyLeasingPrice": "0.00",
        "Registered": bool(row["registered"]),
    }


def update_sender_id(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    row = _sender_row(call, params)
    if "DeletionProtectionEnabled" in params:
        with call.account.transaction() as conn:
            conn.execute(
                "UPDATE aws_sender_ids SET deletion_protection = ? WHERE sender_id = ? AND iso = ?",
                (int(bool(params["DeletionProtectionEnabled"])), row["sender_id"], row["iso"]),
            )
        row = _sender_row(call, params)
    return {**_sender_out(call, row), "DeletionProtectionEnabled": bool(row["deletion_protection"])}


def release_sender_id(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    row = _sender_row(call, params)
    if row["deletion_protection"]:
        raise conflict(
            "DELETION_PROTECTION_ENABLED",
            f"Sender ID {row['sender_id']} has deletion protection: turn it off with UpdateSenderId first.",
            "sender-id",
            row["sender_id"],
        )
    with call.account.transaction() as conn:
        conn.execute("DELETE FROM aws_sender_ids WHERE sender_id = ? AND iso = ?", (row["sender_id"], row["iso"]))
    return _sender_out(call, row)


def delete_configuration_set(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    name = str(required(params, "ConfigurationSetName"))
    name = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
    with call.account.transaction() as conn:
        row = conn.execute("SELECT * FROM aws_configuration_sets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise not_found("configuration-set", name)
        conn.execute("DELETE FROM aws_configuration_sets WHERE name = ?", (name,))
    return config_json(call, row)


# -- tags ------------------------------------------------------------------------------------------
def _resource(call: Call, arn: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(table, key columns, key values) of the resource an ARN names, or ResourceNotFound."""
    prefix = call.arn("")
    kind, _, path = arn.removeprefix(prefix).partition("/") if arn.startswith(prefix) else ("", "", "")
    if kind not in _TAGGABLE:
        raise not_found("resource", arn)
    table, columns = _TAGGABLE[kind]
    values = tuple(path.split("/"))
    if len(values) != len(columns):
        raise not_found(kind, arn)
    where = " AND ".join(f"{c} = ?" for c in columns)
    with call.account.read() as conn:
        if conn.execute(f"SELECT 1 FROM {table} WHERE {where}", values).fetchone() is None:
            raise not_found(kind, path)
    return table, columns, values


def _tags(call: Call, arn: str) -> tuple[str, str, tuple[str, ...], dict[str, str]]:
    table, columns, values = _resource(call, arn)
    where = " AND ".join(f"{c} = ?" for c in columns)
    with call.account.read() as conn:
        raw = conn.execute(f"SELECT tags FROM {table} WHERE {where}", values).fetchone()["tags"]
    return table, where, values, {t["Key"]: t["Value"] for t in json.loads(raw)}


def _store_tags(call: Call, table: str, where: str, values: tuple[str, ...], tags: dict[str, str]) -> None:
    listed = json.dumps([{"Key": k, "Value": v} for k, v in sorted(tags.items())])
    with call.account.transaction() as conn:
        conn.execute(f"UPDATE {table} SET tags = ? WHERE {where}", (listed, *values))


def tag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    table, where, values, tags = _tags(call, str(required(params, "ResourceArn")))
    for tag in required(params, "Tags"):
        key, value = str(tag.get("Key", "")), str(tag.get("Value", ""))
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
            raise validation("FIELD_VALIDATION_FAILED", "Tag keys are 1-128 characters not starting aws:.", "Tags")
        tags[key] = value
    if len(tags) > MAX_TAGS:
        raise validation("FIELD_VALIDATION_FAILED", f"A resource holds at most {MAX_TAGS} tags.", "Tags")
    _store_tags(call, table, where, values, tags)
    return {}


def untag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    table, where, values, tags = _tags(call, str(required(params, "ResourceArn")))
    for key in required(params, "TagKeys"):
        tags.pop(str(key), None)
    _store_tags(call, table, where, values, tags)
    return {}


def list_tags_for_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    arn = str(required(params, "ResourceArn"))
    *_, tags = _tags(call, arn)
    return {"ResourceArn": arn, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


# -- phone numbers and pools ------------------------------------------------------------------------
_NUMBER_FILTERS = {
    "status", "iso-country-code", "message-type", "number-capability", "number-type", "two-way-enabled",
    "self-managed-opt-outs-enabled", "opt-out-list-name", "deletion-protection-enabled", "two-way-channel-arn",
}  # fmt: skip
_POOL_FILTERS = {
    "status", "message-type", "two-way-enabled", "self-managed-opt-outs-enabled", "opt-out-list-name",
    "shared-routes-enabled", "deletion-protection-enabled", "two-way-channel-arn",
}  # fmt: skip


def describe_phone_numbers(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    filters(params, _NUMBER_FILTERS)
    for number in params.get("PhoneNumberIds") or []:
        raise not_found("phone-number", str(number))
    return page(params, [], "PhoneNumbers")


def describe_pools(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    filters(params, _POOL_FILTERS)
    for pool in params.get("PoolIds") or []:
        raise not_found("pool", str(pool))
    return page(params, [], "Pools")
