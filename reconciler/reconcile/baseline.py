"""The baseline of a signature smsops did not submit: one registered by hand (in a console) before
smsops managed it, adopted when a channel names it in ``spec.signature.managed``.

What the provider's read returns of a signature (``ObservedSignature.settings``) is compared with
git directly, adopted or not. What it never returns (files always; Alibaba's source; Tencent's type,
document type, purpose and remark) cannot be compared with anything: there is no way to know what
the provider holds. So the first apply that sees the adopted signature approved records a digest of
git's values of those (``Hidden.digest``, the ``smsops-baseline`` mark), and later plans compare git
with it: an edit after adoption is a change like any other.

Invariants: the digest covers only what the provider does not return (a field edited in the console
and in git alike is not a change twice over), files by their sha256 (neither their path nor their
ciphertext: re-encrypting changes nothing), and never a decrypted byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from reconciler.providers.base import ObservedSignature, SignatureRequest

BASELINE = "smsops-baseline"  # mark: digest of git's values the provider does not return, at adoption


@dataclass(frozen=True)
class Hidden:
    """The fields of a request the provider does not return, by their name in the Signature
    document (``source``, ``proofImage``, ...), and a digest of their values; empty when the
    provider returns every field the document sets (nothing for a baseline to watch)."""

    fields: tuple[str, ...]
    digest: str

    def __bool__(self) -> bool:
        return bool(self.fields)


def hidden(request: SignatureRequest, observed: ObservedSignature) -> Hidden:
    """What of ``request`` only a baseline can watch, given what ``observed`` shows the provider returns."""
    sha256 = {f.field: f.sha256 for f in request.files}
    leaves: dict[str, Any] = {}

    def walk(value: Any, path: str, key: str) -> None:
        if isinstance(value, dict) and "sops" in value:  # a file: never returned, known by its digest
            leaves[path] = {"suffix": value.get("suffix"), "sha256": sha256.get(path)}
        elif isinstance(value, dict):
            for inner, item in value.items():
                walk(item, f"{path}.{inner}" if path else inner, inner)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, item in enumerate(value):
                walk(item, f"{path}.{index}", key)
        elif value not in (None, []) and key not in observed.settings:
            leaves[path] = value

    walk(request.settings.model_dump(mode="json", by_alias=True), "", "")
    if not leaves:
        return Hidden((), "")
    fields = tuple(sorted({path.split(".")[0] for path in leaves}))
    digest = hashlib.sha256(json.dumps(leaves, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    return Hidden(fields, digest)
