"""``smsops import`` of a Tencent signature: the ``tencent`` block of a Signature document from what
DescribeSmsSignList reports back (``signatures.find``). Cheap to import: the traits name it."""

from __future__ import annotations

from typing import Any

FILLED_IN = "the provider does not report it: check it"  # the note on a guessed field


def adopted(settings: dict[str, str], slug: str) -> tuple[dict[str, Any], list[str], bool]:
    """``smsops import``: the ``tencent`` block of a Signature from what DescribeSmsSignList reports
    (``find``); incomplete: the proof image is never returned and must be added."""
    block: dict[str, Any] = {"type": "company", "documentType": 0}
    if settings.get("international") == "true":
        block["international"] = True
    if settings.get("qualificationId"):
        block["qualificationId"] = int(settings["qualificationId"])
    block["proofImage"] = {"sops": f"{slug}-proof.png.enc"}
    notes = [
        f"tencent.type and tencent.documentType: {FILLED_IN}",
        f"tencent.proofImage: add the proof image encrypted (sops encrypt proof.png > {slug}-proof.png.enc); "
        f"the provider never returns it. Then rename this file {slug}.yaml",
    ]
    return block, notes, False
