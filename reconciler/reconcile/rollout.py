"""Rollout marks: which version of a template is live, and why a gate refused one.

Marks are what lets a rollout resume in any later run with no local state. Where the provider can
tag templates (Alibaba ``TagResources``), marks are template tags. Providers without tags (Tencent)
keep them in a small JSON document beside the channel's published runtime config, in its durable
target (``reconciler.publish.store``): the SSM parameter ``<ssmPrefix>/marks``, the S3 object
``<prefix>/<channel>.marks.json`` or the file ``<publish file>.marks.json``. For CI, publish to SSM,
S3 or a file the pipeline keeps; a default file under ``.smsops/`` only lasts as long as the workspace.

Keys: ``smsops-live`` (ISO time of promotion), ``smsops-gate`` (``failed <time>: <reason>`` when a
gate refused the version), ``smsops-removed`` (ISO time a live template removed from git was
unpublished; it is deleted after the grace period), ``smsops-unpublished`` (ISO time the published
runtime config stopped naming the code: the grace period before retiring counts from it),
``smsops-renamed`` (``<time> <old name>``: the old name stays published as an alias for the grace
period), ``smsops-remark`` (digest of the remark last submitted for review: a changed remark on a
rejected version is resubmitted) and ``smsops-skip-gate`` (``<time> <reason> (<actor>, <commit>)``
when a version was promoted without its gate: ``reconcile.breakglass``), ``smsops-owner``
(``<channel>@<id>``, written when smsops creates the template: which channel may retire or delete it,
``reconcile.owner``; a tag where the provider has tags, so every channel on the account sees it).
Values never hold a phone
number unmasked or a secret.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Protocol

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import SmsopsError
from reconciler.formats import MARKS_FORMAT_VERSION
from reconciler.providers.base import Tagging
from reconciler.providers.retry import RetryPolicy, call
from reconciler.publish.store import MARKS, Store, channel_store
from reconciler.secrets.redact import redact

LIVE = "smsops-live"
GATE = "smsops-gate"
REMOVED = "smsops-removed"  # a live template removed from git: when it was unpublished
UNPUBLISHED = "smsops-unpublished"  # when the published config stopped naming the code
RENAMED = "smsops-renamed"  # "<time> <old name>": the live code published under a new name
REMARK = "smsops-remark"  # digest of the remark last submitted with the version
SKIP_GATE = "smsops-skip-gate"  # promoted without a gate: when, why, by whom, at which commit
OWNER = "smsops-owner"  # "<channel>@<id>": the channel that created the template (reconcile.owner)
# The marks a provider with template tags keeps as tags (its listing shows them at no extra cost per
# key); every other mark goes to the marks document beside the channel's published config.
TAG_KEYS = (LIVE, GATE, REMOVED, OWNER)
MAX_VALUE = 120  # Alibaba tag values are short; keep every mark within what any store accepts


class MarkStore(Protocol):
    def read(self) -> dict[str, dict[str, str]]: ...

    def write(self, code: str, marks: dict[str, str]) -> None: ...


def _document(marks: dict[str, dict[str, str]]) -> str:
    return (
        json.dumps(
            {"format_version": MARKS_FORMAT_VERSION, "marks": marks}, sort_keys=True, ensure_ascii=False, indent=2
        )
        + "\n"
    )


def parse_marks(text: str, where: str) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(text)
        marks = data["marks"]
        return {str(code): {str(k): str(v) for k, v in values.items()} for code, values in marks.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SmsopsError(
            f"{where} is not a marks document smsops wrote",
            hint="restore it from its previous version, or delete it to let the next apply promote again",
        ) from None


MERGE_POLICY = RetryPolicy(attempts=5, base_delay=0.05, max_delay=1.0)  # another writer of the marks


class StoredMarks:
    """The marks document in the channel's durable target (``reconciler.publish.store``). A write
    reads, merges and replaces only if nobody wrote in between, else merges again: two applies
    marking different codes both keep their marks."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def read(self) -> dict[str, dict[str, str]]:
        found = self.store.read(MARKS)
        return {} if found is None else parse_marks(found.text, self.store.location(MARKS))

    def write(self, code: str, marks: dict[str, str]) -> None:
        call(lambda: self._merge(code, marks), MERGE_POLICY, retry_if=lambda e: isinstance(e, _Raced))

    def _merge(self, code: str, marks: dict[str, str]) -> None:
        found = self.store.read(MARKS)
        current = {} if found is None else parse_marks(found.text, self.store.location(MARKS))
        wanted = {**current.get(code, {}), **{k: bound(v) for k, v in marks.items()}}
        if found is not None and current.get(code) == wanted:
            return  # already marked: no new version of the document
        text = _document({**current, code: wanted})
        done = self.store.create(MARKS, text) if found is None else self.store.replace(MARKS, text, found.token)
        if not done:
            raise _Raced(f"{self.store.location(MARKS)} changed while smsops was writing it", hint="run apply again")


class _Raced(SmsopsError):
    """The marks document changed between our read and our write."""


def remark_digest(remark: str) -> str:
    """A short digest of a remark: marks say whether it changed without keeping its text."""
    return hashlib.sha256(remark.strip().encode()).hexdigest()[:12]


def bound(value: str) -> str:
    value = redact(value)
    return value if len(value) <= MAX_VALUE else value[: MAX_VALUE - 1] + "…"


def write_marks(provider: object, store: MarkStore | None, code: str, marks: dict[str, str]) -> None:
    """Record rollout marks: ``TAG_KEYS`` as the provider's template tags where it has them, the
    rest in the channel's mark store beside its published config."""
    tagged = {k: bound(v) for k, v in marks.items() if k in TAG_KEYS} if isinstance(provider, Tagging) else {}
    kept = {k: v for k, v in marks.items() if k not in tagged}
    if tagged:
        assert isinstance(provider, Tagging)
        provider.set_tags(code, tagged)
    if kept and store is None:
        raise SmsopsError(
            f"no place to keep rollout marks for {code}", hint="give the channel a publish target (spec.publish)"
        )
    if kept and store is not None:
        store.write(code, kept)


def mark_store(config: LoadedConfig, located: Located[Channel], environ: Any = os.environ) -> MarkStore:
    """Where a channel whose provider has no tags keeps its marks: beside its published config."""
    return StoredMarks(channel_store(config, located, environ))
