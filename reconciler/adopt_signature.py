"""Adopt a signature registered outside smsops (in the provider console) into a ``kind: Signature``.

``smsops import`` writes one next to the templates when the channel's signature exists at the
provider and no Signature document in git describes it. The document holds what the provider reports
back (``ObservedSignature.settings``), so that once the channel names it in
``spec.signature.managed``, ``plan`` finds nothing to change. What the provider never returns is
written as a placeholder with a note (each provider's ``adopt_signature`` trait says which): images
are never fetched, so a placeholder names an encrypted file the user must add.

Pure: the caller writes the file.
"""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.adopt import schema_line, slugify
from reconciler.providers.base import ObservedSignature
from reconciler.providers.traits import traits

SCHEMA = "signature.schema.json"


def signature_document(
    observed: ObservedSignature, provider: str
) -> tuple[str, dict[str, Any], list[str], bool] | None:
    """(metadata.name, the document, notes on what to check, whether it is complete: valid without
    files to add) for ``observed`` as ``provider``'s API reports it (its ``adopt_signature`` trait);
    None when that provider's signatures are not adopted."""
    own = traits(provider)
    if own.adopt_signature is None:
        return None
    slug = slugify(observed.name) or "signature"
    api = own.api
    block, notes, complete = own.adopt_signature(dict(observed.settings), slug)
    document = {
        "apiVersion": "smsops/v1",
        "kind": "Signature",
        "metadata": {"name": slug},
        "spec": {"name": observed.name, api: block},
    }
    return slug, document, notes, complete


def render_signature(document: dict[str, Any], notes: list[str], *, schema: str, channel: str) -> str:
    lines = [
        *schema_line(schema),
        f"# Imported by `smsops import` from channel {channel}: signature '{document['spec']['name']}'.",
        f"# To manage it, set `managed: {document['metadata']['name']}` in the channel's spec.signature.",
        *(f"# NOTE: {' '.join(note.split())}" for note in notes),
    ]
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=4096)
    return "\n".join(lines) + "\n" + body
