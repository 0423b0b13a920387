"""Semantic diffs for ``smsops history``: what changed in a resource between two commits, field by
field, and what changed in the SOPS metadata of a channel's secret file.

Resources are compared as their validated models dumped with defaults filled in, so writing out
a default (``enabled: true``), reordering keys or reformatting YAML is not a change. Secret files
are compared by metadata: recipients, ``lastmodified`` and a digest of each value's ciphertext;
where a value's ciphertext changed, ``KeyedValues`` (a key being at hand) tells a re-encryption from
a real change by keyed digests. No ciphertext or plaintext ever reaches a ``FieldChange``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.history.values import KeyedValues
from reconciler.models import Frozen


class FieldChange(Frozen):
    """``field`` is the YAML path below ``spec`` (camelCase, dotted; ``metadata.name`` and
    ``metadata.labels`` for metadata). ``before`` is None when the field was added, ``after`` when
    it was removed. ``summary`` is for display only."""

    field: str
    before: Any = None
    after: Any = None
    summary: str


# Values compared as a whole rather than field by field: a variable's spec is one thing to review.
_ATOMIC_BELOW = {"variables"}


def flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """The comparable leaves of a dumped resource; empty values (None, {}, []) are absent."""
    leaves: dict[str, Any] = {}
    metadata = data.get("metadata") or {}
    if metadata.get("labels"):
        leaves["metadata.labels"] = metadata["labels"]

    def walk(prefix: str, value: Any, atomic: bool) -> None:
        if value is None or value == {} or value == []:
            return
        if isinstance(value, dict) and not atomic:
            for key, child in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child, prefix in _ATOMIC_BELOW)
            return
        leaves[prefix] = value

    walk("", data.get("spec") or {}, False)
    return leaves


def show(value: Any) -> str:
    """A value as it reads in a change line: JSON, so strings are quoted and nothing is ambiguous."""
    if value is None:
        return "(none)"
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


def _summary(field: str, before: Any, after: Any) -> str:
    if field.startswith("variables."):
        name = field.removeprefix("variables.")
        if before is None:
            return f"variable {name} added: {show(after)}"
        if after is None:
            return f"variable {name} removed (was {show(before)})"
        return f"variable {name}: {show(before)} → {show(after)}"
    if field == "enabled" and isinstance(after, bool) and isinstance(before, bool):
        return f"enabled: {show(before)} → {show(after)} ({'enabled' if after else 'disabled'})"
    if field == "channels" and (before is None or after is None):
        # No channels list means every channel (see Template.targets).
        return f"channels: {show(before) if before else 'every channel'} → {show(after) if after else 'every channel'}"
    if before is None:
        return f"{field}: set to {show(after)}"
    if after is None:
        return f"{field}: removed (was {show(before)})"
    text = f"{field}: {show(before)} → {show(after)}"
    if isinstance(before, list) and isinstance(after, list):
        added = [item for item in after if item not in before]
        removed = [item for item in before if item not in after]
        text += f" (+{len(added)} −{len(removed)})"
    return text


def diff_resources(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[FieldChange]:
    """Field changes from ``before`` to ``after`` (dumped resources; None for absent), in the order
    the fields are declared. A metadata.name change comes first as ``renamed from``."""
    old, new = flatten(before or {}), flatten(after or {})
    changes: list[FieldChange] = []
    if before is not None and after is not None:
        old_name, new_name = before["metadata"]["name"], after["metadata"]["name"]
        if old_name != new_name:
            changes.append(FieldChange(field="metadata.name", before=old_name, after=new_name,
                                       summary=f"renamed from {old_name}"))  # fmt: skip
    for field in [*new, *(key for key in old if key not in new)]:
        if old.get(field) != new.get(field):
            changes.append(
                FieldChange(field=field, before=old.get(field), after=new.get(field),
                            summary=_summary(field, old.get(field), new.get(field)))
            )  # fmt: skip
    return changes


@dataclass(frozen=True)
class SopsMeta:
    """What may be said about a SOPS file without decrypting it. ``values`` maps each top-level key
    to a digest of its ciphertext: comparable, yet useless to anyone reading memory or output."""

    lastmodified: str
    recipients: frozenset[str]
    values: Mapping[str, str]
    text: str = dataclasses.field(default="", compare=False, repr=False)  # the encrypted file, for KeyedValues


def sops_meta(text: str) -> SopsMeta | None:
    """The metadata of a SOPS-encrypted YAML file, or None if ``text`` is not one."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sops"), dict) or not data["sops"].get("mac"):
        return None
    metadata: dict[str, Any] = data["sops"]
    recipients = set()
    for kind, field in (("age", "recipient"), ("kms", "arn"), ("pgp", "fp"), ("gcp_kms", "resource_id"),
                        ("azure_kv", "vault_url"), ("hc_vault", "vault_address")):  # fmt: skip
        for entry in metadata.get(kind) or ():
            if isinstance(entry, dict) and entry.get(field):
                recipients.add(f"{kind}:{entry[field]}")
    values = {
        str(key): hashlib.blake2b(repr(value).encode(), digest_size=16).hexdigest()
        for key, value in data.items()
        if key != "sops"
    }
    return SopsMeta(str(metadata.get("lastmodified", "")), frozenset(recipients), values, text)


def diff_credentials(
    before: SopsMeta | None,
    after: SopsMeta | None,
    keys: tuple[str, ...],
    *,
    field: str = "credentials",
    values: KeyedValues | None = None,
    name: str = "",
) -> list[FieldChange]:
    """Changes of a channel's secret file (``name``) seen through the keys it uses. ``before``/``after``
    of a value change are the files' ``lastmodified`` stamps. A new ciphertext is a re-encryption or
    a new value: ``values`` decrypts both revisions to tell which; without it (no key) it is reported
    as a re-encryption that could not be compared, never as a value change."""
    if before is None and after is None:
        return []
    if before is None or after is None:
        assert before is not None or after is not None
        what = "added" if before is None else "deleted"
        stamp_before = before.lastmodified if before else None
        stamp_after = after.lastmodified if after else None
        return [FieldChange(field=field, before=stamp_before, after=stamp_after, summary=f"{field} file {what}")]
    changes: list[FieldChange] = []
    if before.recipients != after.recipients:
        added, removed = after.recipients - before.recipients, before.recipients - after.recipients
        changes.append(
            FieldChange(
                field=f"{field}.recipients",
                before=sorted(before.recipients),
                after=sorted(after.recipients),
                summary=f"recipients changed: +{len(added)} −{len(removed)}",
            )
        )
    reencrypted = [key for key in keys if before.values.get(key) != after.values.get(key)]
    if reencrypted:
        summary = _value_summary(
            field, reencrypted, values.changed(before.text, after.text, name, keys) if values else None
        )
        changes.append(FieldChange(field=field, before=before.lastmodified, after=after.lastmodified, summary=summary))
    return changes


def _value_summary(field: str, reencrypted: list[str], changed: list[str] | None) -> str:
    if changed is None:
        return f"{field} re-encrypted (no key here to compare the values): {', '.join(reencrypted)}"
    if not changed:
        return f"{field} re-encrypted (values unchanged)"
    label = "credentials rotated" if field == "credentials" else f"{field} changed"
    return f"{label}: value changed: {', '.join(changed)}"
