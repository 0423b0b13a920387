"""Adopt a signature registered outside smsops (in the provider console) into a ``kind: Signature``.

``smsops import`` writes one next to the templates when the channel's signature exists at the
provider and no Signature document in git describes it. The document holds what the provider reports
back (``ObservedSignature.settings``), so that once the channel names it in
``spec.signature.managed``, ``plan`` finds nothing to change. What the provider never returns is
written as a placeholder with a comment: proof and commission images (Tencent, required), the sign
type and document type (Tencent), the source, type and remark (Alibaba, from the reported ids where
they tell). Images are never fetched: the placeholder names an encrypted file the user must add.

Pure: the caller writes the file.
"""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.adopt import slugify
from reconciler.providers.base import ObservedSignature

SCHEMA = "signature.schema.json"
FILLED_IN = "the provider does not report it: check it"


def _alibaba(settings: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
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
    return block, notes


def _tencent(settings: dict[str, str], slug: str) -> tuple[dict[str, Any], list[str]]:
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
    return block, notes


def signature_document(observed: ObservedSignature, api: str) -> tuple[str, dict[str, Any], list[str], bool]:
    """(metadata.name, the document, notes on what to check, whether it is complete: valid without
    files to add) for ``observed`` as provider API ``api`` reports it; api is ``alibaba`` or
    ``tencent`` (AWS has no template registry to import from)."""
    slug = slugify(observed.name) or "signature"
    settings = dict(observed.settings)
    block, notes = _alibaba(settings) if api == "alibaba" else _tencent(settings, slug)
    document = {
        "apiVersion": "smsops/v1",
        "kind": "Signature",
        "metadata": {"name": slug},
        "spec": {"name": observed.name, api: block},
    }
    return slug, document, notes, api == "alibaba"


def render_signature(document: dict[str, Any], notes: list[str], *, schema: str, channel: str) -> str:
    lines = [
        f"# yaml-language-server: $schema={schema}",
        f"# Imported by `smsops import` from channel {channel}: signature '{document['spec']['name']}'.",
        f"# To manage it, set `managed: {document['metadata']['name']}` in the channel's spec.signature.",
        *(f"# NOTE: {' '.join(note.split())}" for note in notes),
    ]
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=4096)
    return "\n".join(lines) + "\n" + body
