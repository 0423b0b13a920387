"""``smsops import`` of an Alibaba signature: the ``alibaba`` block of a Signature document from what
GetSmsSign reports back (``signatures.read_sign``). Cheap to import: the traits name it."""

from __future__ import annotations

from typing import Any

FILLED_IN = "the provider does not report it: check it"  # the note on a guessed field


def adopted(settings: dict[str, str], stem: str) -> tuple[dict[str, Any], list[str], bool]:
    """``smsops import``: the ``alibaba`` block of a Signature from what GetSmsSign reports
    (``read_sign``, "" for an id that is not linked); complete, since no file is required. Every
    field reported is written as reported, so that plan compares equal."""
    block: dict[str, Any] = {}
    if settings.get("appIcpRecordId"):
        block["source"] = "app"
    elif settings.get("trademarkId"):
        block["source"] = "trademark"
    if "type" in settings:
        block["type"] = settings["type"]
    block["qualificationId"] = settings.get("qualificationId") or "0"
    if settings.get("thirdParty") == "true" or settings.get("authorizationLetterId"):
        block["thirdParty"] = True
    for key in ("appIcpRecordId", "trademarkId", "authorizationLetterId"):
        if settings.get(key):
            block[key] = settings[key]
    if settings.get("remark"):
        block["remark"] = settings["remark"]
    notes = [f"alibaba.source (inferred from the linked ids): {FILLED_IN}"]
    if "type" not in settings:
        notes.append(f"alibaba.type (general unless written here): {FILLED_IN}")
    if not settings.get("qualificationId"):
        notes.append("alibaba.qualificationId: the provider reported none; give the approved qualification's id")
    return block, notes, True
