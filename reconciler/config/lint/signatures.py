"""SMS305-SMS309 and SMS409: ``kind: Signature`` documents and the channels that name them.

A channel's ``spec.signature.managed`` must name a Signature document written in this config, with
the same provider-side name and settings for the API the channel speaks; an AWS-style channel's
country must be among the document's sender IDs. The files a Signature refers to must be SOPS-
encrypted binary files (``sops encrypt FILE``: a JSON document with ``data`` and ``sops.mac``);
they are inspected, never decrypted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from reconciler.config.files import TOO_LARGE, read_bounded
from reconciler.config.lint.catalogue import Reporter
from reconciler.config.lint.paths import OUTSIDE, outside
from reconciler.config.lint.references import written_names
from reconciler.providers.traits import traits

_MAX_FILE_BYTES = 20_000_000


def check_signatures(config: Any, out: Reporter) -> None:
    documents = {located.resource.name: located for located in config.signatures}
    written = written_names(config, "Signature")
    used: set[str] = set()
    for located in config.channels:
        spec = located.resource.spec
        name = spec.signature.managed
        if name is None:
            continue
        used.add(name)
        where = located.at("spec", "signature", "managed")
        document = documents.get(name)
        if document is None:
            if name not in written and not config.unread:
                known = ", ".join(sorted(documents)) or "none"
                out.report("SMS305", where, f"no Signature document named '{name}' (signatures: {known})")
            continue
        settings = document.resource.spec
        if settings.name != spec.signature.name:
            out.report(
                "SMS306",
                located.at("spec", "signature", "name"),
                f"signature.name is '{spec.signature.name}' but Signature '{name}' registers '{settings.name}'",
            )
        api = traits(spec.provider).api
        block = settings.for_api(api)
        if block is None:
            out.report("SMS307", where, f"Signature '{name}' has no {api} settings for this {spec.provider} channel")
            continue
        countries = [sender.country for sender in getattr(block, "sender_ids", ())]
        if countries and spec.signature.country not in countries:
            out.report(
                "SMS308",
                located.at("spec", "signature", "country"),
                f"Signature '{name}' requests no sender ID for {spec.signature.country} "
                f"(countries: {', '.join(countries)})",
            )
    # A channel that failed its schema (already reported) may still name a signature: not "unused".
    used |= _managed_in_raw_channels(config)
    for name, located in documents.items():
        if name not in used and not config.unread:
            out.report("SMS309", located.at("metadata", "name"), f"Signature '{name}' is named by no channel")
        for field, ref in signature_files(located.resource):
            if outside(config.root, located.resolve(ref.sops)):
                # a Signature has no allowOutside: proof documents come from the reviewed repository
                out.report(OUTSIDE, located.at(*field, "sops"), f"{ref.sops} is outside the config directory")
                continue
            problem = _file_problem(located.resolve(ref.sops))
            if problem is not None:
                out.report("SMS409", located.at(*field, "sops"), f"{ref.sops}: {problem}")


def _managed_in_raw_channels(config: Any) -> set[str]:
    names = set()
    for document in config.documents:
        data = document.data if isinstance(document.data, dict) else {}
        spec = data.get("spec") if data.get("kind") == "Channel" else None
        signature = spec.get("signature") if isinstance(spec, dict) else None
        managed = signature.get("managed") if isinstance(signature, dict) else None
        if isinstance(managed, str):
            names.add(managed)
    return names


def signature_files(signature: Any) -> list[tuple[tuple[str | int, ...], Any]]:
    """Every encrypted file a Signature refers to, with the YAML path of its reference."""
    found: list[tuple[tuple[str | int, ...], Any]] = []
    spec = signature.spec
    for api in type(spec).model_fields:  # the name, then one block per provider API
        block = getattr(spec, api)
        if not isinstance(block, BaseModel):
            continue
        for attribute, info in type(block).model_fields.items():
            value = getattr(block, attribute)
            alias = info.alias or attribute
            if hasattr(value, "sops"):
                found.append((("spec", api, alias), value))
            elif isinstance(value, tuple):
                found.extend((("spec", api, alias, i), item) for i, item in enumerate(value) if hasattr(item, "sops"))
    return found


def _file_problem(path: Path) -> str | None:
    raw, why = read_bounded(path, _MAX_FILE_BYTES)  # a FIFO is never opened, a huge file never read whole
    if why is TOO_LARGE:
        return "file is too large to be a SOPS-encrypted image or document"
    if raw is None:
        return why
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: thousands of '[' nested
        return "is not SOPS-encrypted (encrypt it: sops encrypt FILE > FILE.enc)"
    metadata = data.get("sops") if isinstance(data, dict) else None
    mac = metadata.get("mac") if isinstance(metadata, dict) else None
    if not isinstance(mac, str) or not mac.startswith("ENC[") or not str(data.get("data", "")).startswith("ENC["):
        return "is not a SOPS-encrypted binary file (no data and sops metadata with a mac)"
    return None
