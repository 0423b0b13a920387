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
from dataclasses import dataclass

FINGERPRINT_LENGTH = 7
# "~" + 7 hex digits: the 8 characters lint budgets for on top of the logical name.
SUFFIX_LENGTH = FINGERPRINT_LENGTH + 1
_MANAGED_NAME = re.compile(rf"^(?P<name>[a-z][a-z0-9-]*)~(?P<fp>[0-9a-f]{{{FINGERPRINT_LENGTH}}})$")


@dataclass(frozen=True)
class Identity:
    name: str
    fingerprint: str

    @property
    def provider_name(self) -> str:
        return f"{self.name}~{self.fingerprint}"


def fingerprint(native_content: str, kind: str, international: bool) -> str:
    """Hash of exactly what the provider reviews; anything else may change without a new version."""
    payload = json.dumps(
        {"content": native_content, "kind": kind, "international": international},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:FINGERPRINT_LENGTH]


def parse_provider_name(provider_name: str) -> Identity | None:
    """``login-verification~3f2a1c9`` -> Identity; None for a template smsops did not create."""
    match = _MANAGED_NAME.match(provider_name)
    return Identity(match["name"], match["fp"]) if match else None
