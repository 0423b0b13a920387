"""AWS sender IDs as signatures (``kind: Signature``): DescribeSenderIds, RequestSenderId,
UpdateSenderId (deletion protection, the only field that can change) and ReleaseSenderId, and the
sender ID in every country it is in, for ``smsops import`` (``every_country``).

A sender ID has no content review: it exists (approved) or not; one in a country that needs a
registration is pending until the registration completes. The request for one country is the
Signature document's entry for the channel's country.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.config.signature import AwsSignature, SenderId
from reconciler.errors import ProviderError
from reconciler.providers.aws.adopt import SENDER_IDS
from reconciler.providers.base import ObservedSignature, ReviewStatus, SignatureRequest

AwsCall = Callable[[str, dict[str, Any], bool], dict[str, Any]]


def read(call: AwsCall, sender_id: str, country: str) -> ObservedSignature | None:
    """The sender ID in ``country``, in our words, or None when the account has none."""
    fields = {"SenderIds": [{"SenderId": sender_id, "IsoCountryCode": country}]}
    try:
        response = call("DescribeSenderIds", fields, False)
    except ProviderError as error:  # a missing sender ID is an answer, not a failure
        if error.code.startswith("ResourceNotFoundException"):
            return None
        raise
    for info in response.get("SenderIds", []):
        if info.get("SenderId") != sender_id or info.get("IsoCountryCode", "").upper() != country:
            continue
        # Every field of the Signature document's entry is returned: "" for no registration.
        settings = {
            "country": country,
            "deletionProtection": "true" if info.get("DeletionProtectionEnabled") else "false",
            "messageTypes": ",".join(sorted(info.get("MessageTypes") or ())),
            "registrationId": str(info.get("RegistrationId") or ""),
        }
        # A sender ID that exists can send: countries that need registration only provision it
        # once registered, the others never register. A registration still under way is pending.
        if info.get("RegistrationId") and not info.get("Registered"):
            return ObservedSignature(
                name=sender_id,
                status=ReviewStatus.PENDING,
                reason=f"sender ID registration {info['RegistrationId']} for {country} is not complete",
                settings=settings,
            )
        return ObservedSignature(name=sender_id, status=ReviewStatus.APPROVED, settings=settings)
    return None


def every_country(call: AwsCall, sender_id: str) -> ObservedSignature | None:
    """``sender_id`` in every country the account has it in (one DescribeSenderIds filtered by it,
    paged), as ``smsops import`` adopts it; None when the account has it nowhere."""
    found: list[dict[str, Any]] = []
    fields: dict[str, Any] = {"Filters": [{"Name": "sender-id", "Values": [sender_id]}]}
    while True:
        response = call("DescribeSenderIds", fields, False)
        found += [info for info in response.get("SenderIds", []) if info.get("SenderId") == sender_id]
        if not response.get("NextToken"):
            break
        fields = {**fields, "NextToken": response["NextToken"]}
    if not found:
        return None
    entries = []
    for info in sorted(found, key=lambda i: str(i.get("IsoCountryCode", ""))):
        entry: dict[str, Any] = {
            "country": str(info.get("IsoCountryCode", "")).upper(),
            "deletionProtection": bool(info.get("DeletionProtectionEnabled")),
            "messageTypes": sorted(info.get("MessageTypes") or ()),
        }
        if info.get("RegistrationId"):
            entry["registrationId"] = str(info["RegistrationId"])
        entries.append(entry)
    # The entries as JSON in the shape of the Signature document's ``aws.senderIds``: ``adopt`` reads them.
    settings = {SENDER_IDS: json.dumps(entries, sort_keys=True)}
    return ObservedSignature(name=sender_id, status=ReviewStatus.APPROVED, settings=settings)


def entry(request: SignatureRequest) -> SenderId:
    settings = request.settings
    assert isinstance(settings, AwsSignature) and len(settings.sender_ids) == 1, "one country per request"
    return settings.sender_ids[0]


def request(call: AwsCall, wanted: SignatureRequest) -> None:
    sender = entry(wanted)
    fields: dict[str, Any] = {
        "SenderId": wanted.name,
        "IsoCountryCode": sender.country,
        "MessageTypes": list(sender.message_types),
        "DeletionProtectionEnabled": sender.deletion_protection,
    }
    call("RequestSenderId", fields, True)


def update(call: AwsCall, observed: ObservedSignature, wanted: SignatureRequest) -> None:
    sender = entry(wanted)
    fields = {
        "SenderId": observed.name,
        "IsoCountryCode": sender.country,
        "DeletionProtectionEnabled": sender.deletion_protection,
    }
    call("UpdateSenderId", fields, True)


def release(call: AwsCall, observed: ObservedSignature, country: str) -> None:
    call("ReleaseSenderId", {"SenderId": observed.name, "IsoCountryCode": country}, True)
