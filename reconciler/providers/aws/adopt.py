"""``smsops import`` of an AWS sender ID: the ``aws`` block of a Signature document, one
``senderIds`` entry per country the account has the sender ID in (``sender_ids.every_country``).
Cheap to import: the traits name it."""

from __future__ import annotations

import json
from typing import Any

SENDER_IDS = "senderIds"  # the settings key ``sender_ids.every_country`` fills


def adopted(settings: dict[str, str], slug: str) -> tuple[dict[str, Any], list[str], bool]:
    """The ``aws`` block from the entries DescribeSenderIds reports; complete, since a sender ID
    has no files. Without the per-country entries (a plain read of one country) nothing is adopted
    that the plan could not confirm: the block is empty and the note says so."""
    entries = json.loads(settings.get(SENDER_IDS, "[]"))
    notes = [] if entries else ["aws.senderIds: the provider reported no country for it; add one entry per country"]
    return {"senderIds": entries}, notes, bool(entries)
