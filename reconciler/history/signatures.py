"""``smsops history`` for ``kind: Signature``: the encrypted images and documents a Signature names.

A proof image or qualification document is a SOPS-encrypted binary file (``proof.png.enc``), not a
config file, so the walk does not parse it. It is followed here, like a channel's secret file,
through its SOPS metadata only: a commit that writes it is a change of the Signature that names it,
on the field that names it (``tencent.proofImage``, ``alibaba.moreData.0``). Where a key is at hand,
both revisions are compared by keyed digests (``KeyedValues``) to tell new content from a
re-encryption; the content itself is never read into an event, never shown.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping

from reconciler.config.lint.signatures import signature_files
from reconciler.config.models import Channel, Signature
from reconciler.history.diff import FieldChange, SopsMeta, sops_meta
from reconciler.history.state import Doc, Key
from reconciler.history.values import KeyedValues


def referenced(doc: Doc) -> list[tuple[str, str]]:
    """(field below spec, repo-relative path) of every encrypted file a Signature document names."""
    assert isinstance(doc.resource, Signature)
    folder = posixpath.dirname(doc.file)
    return [
        (".".join(str(part) for part in path[1:]), posixpath.normpath(posixpath.join(folder, ref.sops)))
        for path, ref in signature_files(doc.resource)
    ]


def managing(channels: Iterable[Doc], name: str) -> frozenset[str]:
    """The channels whose ``spec.signature.managed`` names the Signature document ``name``."""
    return frozenset(
        doc.resource.name
        for doc in channels
        if isinstance(doc.resource, Channel) and doc.resource.spec.signature.managed == name
    )


class SignatureFiles:
    """The last committed SOPS metadata of each encrypted file, and the changes a commit makes to them."""

    def __init__(self, values: KeyedValues | None) -> None:
        self.values = values
        self.seen: dict[str, SopsMeta | None] = {}

    def changes(self, signatures: Iterable[Doc], written: Mapping[str, bytes | None]) -> dict[Key, list[FieldChange]]:
        """Field changes of each Signature whose files ``written`` (path -> new content, None for
        deleted) touches; every written path is remembered for the next commit."""
        found: dict[Key, list[FieldChange]] = {}
        after = {path: sops_meta(raw.decode(errors="replace")) if raw else None for path, raw in written.items()}
        for doc in signatures:
            for field, path in referenced(doc):
                if path not in after:
                    continue
                change = self._change(field, path, self.seen.get(path), after[path])
                if change is not None:
                    found.setdefault(doc.key, []).append(change)
        self.seen.update(after)
        return found

    def _change(self, field: str, path: str, before: SopsMeta | None, now: SopsMeta | None) -> FieldChange | None:
        if before is None and now is None:
            return None
        if before is None or now is None:
            what = "added" if before is None else "deleted or no longer SOPS-encrypted"
            told = f"encrypted file {what}"
        elif before.values != now.values:
            changed = self.values.changed(before.text, now.text, path, ("data",)) if self.values else None
            told = (
                "new ciphertext (no key here to tell new content from a re-encryption)"
                if changed is None
                else ("content changed" if changed else "re-encrypted (content unchanged)")
            )
        elif before.recipients != now.recipients:
            told = "recipients changed"
        else:
            return None
        return FieldChange(
            field=field,
            before=before.lastmodified if before else None,
            after=now.lastmodified if now else None,
            summary=f"{field}: {told} ({path})",
        )
