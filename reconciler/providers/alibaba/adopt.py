"""``smsops import`` of an Alibaba signature: the ``alibaba`` block of a Signature document from what
GetSmsSign reports back (``signatures.read_sign``). Cheap to import: the traits name it."""

from __future__ import annotations

from typing import Any

FILLED_IN = "the provider does not report it: check it"  # the note on a guessed field


def adopted(settings: dict[str, str], stem: str) -> tuple[dict[str, Any], list[str], bool]:
    """``smsops import``: the ``alibaba`` block of a Signature from what GetSmsSign reports
    (``read_sign``); complete, since no file is required."""
    block: dict[str, Any] = {}
    if "appIcpRecordId" in settings:
        block["source"] = "app"
    elif "trademarkId" in settings:
        block["source"] = "trademark"
    block["qualificationId"] = settings.get("qualificationId", "0")
    if "authorizationLetterId" in settings:
        block["thirdParty"] = True
    for key in ("appIcpRecordId", "trademarkId", "authorizationLetterId"):
        if key in settings:
            block[key] = settings[key]
    notes = [f"alibaba.type (general unless written here): {FILLED_IN}"]
    if "qualificationId" not in settings:
        notes.append("alibaba.qualificationId: the provider reported none; give the approved qualification's id")
    return block, notes, True
