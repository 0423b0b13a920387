"""What every durable publish target offers: a few small documents by key, read and written
atomically, with conditional create, replace and delete (the lease lock is built on those).

A target is one place per channel: a directory of files, an SSM Parameter Store prefix, or an
S3-compatible bucket prefix. Its keys (``KEYS``) are the published runtime config the application
reads, the rollout marks, and the apply lease. ``reconciler.publish.store`` chooses a channel's
target; the implementations live in ``targets/file.py`` and, being AWS services reached through
boto3, in ``reconciler.providers.aws`` (``ssm.py``, ``s3.py``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal, Protocol

from reconciler.errors import SmsopsError

StoreKey = Literal["config", "marks", "lock"]
CONFIG: StoreKey = "config"  # the published runtime config the application reads
MARKS: StoreKey = "marks"  # rollout marks of a provider without template tags
LOCK: StoreKey = "lock"  # the apply lease (reconciler.publish.lease)
KEYS: tuple[StoreKey, ...] = (CONFIG, MARKS, LOCK)


@dataclass(frozen=True)
class Stored:
    """One document as the target holds it. ``token`` names this exact version (S3 ETag, SSM
    version and digest, a file's digest): pass it to ``replace``/``delete`` to act only if the
    document is still this one."""

    text: str
    token: str


class TargetUnreachable(SmsopsError):
    """The target cannot be read or written (network, credentials, permissions, a path that is not
    a file). Raised before any change at the provider when ``Store.check`` fails."""


class Store(Protocol):
    """Every method takes one of ``KEYS``. ``read`` returns None for an absent document.
    ``write`` replaces atomically (a reader sees the old or the new text, never a mix) and returns
    False when the target already held ``text``; ``create`` writes only if absent; ``replace`` only
    if the document is still at ``token``; ``delete`` removes it (with a token, only if unchanged);
    each conditional method returns False when its condition did not hold. Every failure to reach
    the target raises ``TargetUnreachable``, never a library exception.

    A target may hold JSON in a canonical form (SSM keeps it compact to fit its size limit), so
    compare what ``read`` returns as JSON, not as text."""

    where: str

    def location(self, key: StoreKey) -> str: ...

    def read(self, key: StoreKey) -> Stored | None: ...

    def write(self, key: StoreKey, text: str) -> bool: ...

    def create(self, key: StoreKey, text: str) -> bool: ...

    def replace(self, key: StoreKey, text: str, token: str) -> bool: ...

    def delete(self, key: StoreKey, token: str | None = None) -> bool: ...

    def check(self) -> None: ...


def digest(text: str) -> str:
    """A content token, where the target has no version of its own."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def same_document(a: str, b: str) -> bool:
    """Whether two texts hold the same document: equal JSON values, or equal text when not JSON."""
    if a == b:
        return True
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return False
