"""Template identity without a state file.

What the provider reviews (provider-native content, type, international flag) is hashed into a
short fingerprint. The provider-side template name is ``<logical-name>~<fingerprint>``, so any
observed template maps back to ``(logical name, version)`` and a changed template is a new name.
Templates whose names do not have this shape were not created by smsops: they are never deleted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

FINGERPRINT_LENGTH = 7
# "~" + 7 hex digits: the 8 characters lint budgets for on top of the logical name.
SUFFIX_LENGTH = FINGERPRINT_LENGTH + 1
_MANAGED_NAME = re.compile(rf"^(?P<name>[a-z][a-z0-9-]*)~(?P<fp>[0-9a-f]{{{FINGERPRINT_LENGTH}}})$")
# What json.dumps(..., ensure_ascii=False) writes for a string (its C encoder).
_json_string: Callable[[str], str] = json.encoder.encode_basestring


@dataclass(frozen=True)
class Identity:
    name: str
    fingerprint: str

    @property
    def provider_name(self) -> str:
        return f"{self.name}~{self.fingerprint}"


def fingerprint(native_content: str, kind: str, international: bool) -> str:
    """Hash of exactly what the provider reviews; anything else may change without a new version.

    The payload is ``json.dumps({"content": …, "kind": …, "international": …}, sort_keys=True,
    ensure_ascii=False)``, written out with the json module's own string encoder: a plan hashes
    every listed template up to six times, and the general ``dumps`` was most of that time.
    tests/content/test_identity.py holds the two to the same bytes; every fingerprint ever written depends on it."""
    flag = "true" if international else "false"
    payload = f'{{"content": {_json_string(native_content)}, "international": {flag}, "kind": {_json_string(kind)}}}'
    return hashlib.sha256(payload.encode()).hexdigest()[:FINGERPRINT_LENGTH]


def parse_provider_name(provider_name: str) -> Identity | None:
    """``login-verification~3f2a1c9`` -> Identity; None for a template smsops did not create."""
    match = _MANAGED_NAME.match(provider_name)
    return Identity(match["name"], match["fp"]) if match else None
