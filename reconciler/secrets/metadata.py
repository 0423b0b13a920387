"""What makes a document SOPS data, and which of its values are still in the clear.

A file is SOPS data only if it is one document with a full ``sops`` block as ``sops`` writes it:
a MAC in ``ENC[AES256_GCM,…]`` form, ``lastmodified``, ``version`` and at least one key to decrypt
with. Anything less (``sops: {mac: x}``) is a config document like any other, so no resource and
no plaintext secret can hide behind a fake block. Pure functions over parsed data, no I/O.

``plaintext_paths`` follows the block's own rules on what is left in the clear
(``unencrypted_suffix``, ``encrypted_suffix``, ``unencrypted_regex``, ``encrypted_regex``): a value
that should be encrypted and is not ``ENC[…]`` was pasted in after encryption.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

ENCRYPTED = re.compile(r"ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:[a-z]+\]")
_KEY_GROUPS = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "key_groups")
_MAX_REGEX = 1000  # a regex from the file is compiled; a long one is not a sops setting


def metadata_problem(metadata: Any) -> str | None:
    """Why ``metadata`` (the value of a top-level ``sops`` key) is not a SOPS block, or None."""
    if not isinstance(metadata, Mapping):
        return "the sops block is not a mapping"
    mac = metadata.get("mac")
    if not isinstance(mac, str) or not ENCRYPTED.fullmatch(mac):
        return "sops.mac is not an encrypted MAC (ENC[AES256_GCM,…])"
    for field in ("lastmodified", "version"):
        if metadata.get(field) in (None, ""):
            return f"sops.{field} is missing"
    if not any(isinstance(metadata.get(group), list) and metadata.get(group) for group in _KEY_GROUPS):
        return "the sops block names no key to decrypt with (age, pgp, kms, gcp_kms, azure_kv, hc_vault)"
    for field in ("unencrypted_regex", "encrypted_regex"):
        if field in metadata and _regex(metadata[field]) is None:
            return f"sops.{field} is not a valid regular expression"
    return None


def plaintext_paths(document: Mapping[Any, Any]) -> list[tuple[Any, ...]]:
    """Paths (keys and list indexes) of the values of a SOPS document that should be ``ENC[…]`` and
    are not. The document's ``sops`` block must have passed ``metadata_problem``."""
    metadata = document["sops"]
    return sorted(_plaintext({k: v for k, v in document.items() if k != "sops"}, (), _Rules(metadata)), key=str)


class _Rules:
    def __init__(self, metadata: Mapping[str, Any]) -> None:
        self.unencrypted_suffix = _text(metadata.get("unencrypted_suffix"))
        self.encrypted_suffix = _text(metadata.get("encrypted_suffix"))
        self.unencrypted_regex = _regex(metadata.get("unencrypted_regex"))
        self.encrypted_regex = _regex(metadata.get("encrypted_regex"))
        rules = (self.unencrypted_suffix, self.encrypted_suffix, self.unencrypted_regex, self.encrypted_regex)
        if not any(rule for rule in rules):
            self.unencrypted_suffix = "_unencrypted"  # sops's default

    def encrypted(self, path: tuple[Any, ...]) -> bool:
        """Whether sops encrypts the value at ``path``: each rule looks at every key on the way."""
        keys = [str(part) for part in path if not isinstance(part, int)]
        if self.unencrypted_suffix and any(key.endswith(self.unencrypted_suffix) for key in keys):
            return False
        if self.encrypted_suffix and not any(key.endswith(self.encrypted_suffix) for key in keys):
            return False
        if self.unencrypted_regex is not None and any(self.unencrypted_regex.search(key) for key in keys):
            return False
        return self.encrypted_regex is None or any(self.encrypted_regex.search(key) for key in keys)


def _plaintext(value: Any, path: tuple[Any, ...], rules: _Rules) -> Iterator[tuple[Any, ...]]:
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, Mapping):
            stack.extend((item, (*path, key)) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
        elif value is None or (isinstance(value, str) and ENCRYPTED.fullmatch(value)):
            continue
        elif rules.encrypted(path):
            yield path


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _regex(value: Any) -> re.Pattern[str] | None:
    if not isinstance(value, str) or len(value) > _MAX_REGEX:
        return None
    try:
        return re.compile(value)
    except re.error:
        return None
