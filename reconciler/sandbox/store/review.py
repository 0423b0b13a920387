"""The review engine: which verdict a submitted template or signature gets, and what status it shows at a time.

The verdict is computed when the template is submitted (from its content and the account's rules)
and stored with the moment it becomes visible (``due_at``). Reading a template asks ``effective``
with the current clock: no background thread, and an injectable clock makes tests instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.store.behaviour import Behaviour

_LINK = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|cn|net|org|io|ly|me)\b", re.IGNORECASE)

REASON_LINK = "Verification templates must not contain links."
REASON_REMARK = "The remark is missing: describe where and why this message is sent."
REASON_BANNED = "The content contains a prohibited word: {word}."
REASON_BANNED_SIGN = "The signature name contains a prohibited word: {word}."


@dataclass(frozen=True)
class Verdict:
    status: ReviewStatus  # APPROVED or REJECTED
    reason: str = ""


def decide(behaviour: Behaviour, *, kind: TemplateKind, content: str, remark: str) -> Verdict:
    """The verdict the reviewers will reach; rules are checked in a fixed order, first hit wins."""
    if behaviour.reject_links_in_verification and kind is TemplateKind.VERIFICATION and _LINK.search(content):
        return Verdict(ReviewStatus.REJECTED, REASON_LINK)
    if behaviour.require_remark and not remark.strip():
        return Verdict(ReviewStatus.REJECTED, REASON_REMARK)
    lowered = content.lower()
    for word in behaviour.banned_words:
        if word.lower() in lowered:
            return Verdict(ReviewStatus.REJECTED, REASON_BANNED.format(word=word))
    return Verdict(ReviewStatus.APPROVED)


def decide_signature(behaviour: Behaviour, *, name: str, problem: str = "") -> Verdict:
    """The verdict on a submitted signature: a problem the emulator found in the application (no
    proof document, a third-party sign without its authorization) first, then a banned word."""
    if problem:
        return Verdict(ReviewStatus.REJECTED, problem)
    for word in behaviour.banned_words:
        if word.lower() in name.lower():
            return Verdict(ReviewStatus.REJECTED, REASON_BANNED_SIGN.format(word=word))
    return Verdict(ReviewStatus.APPROVED)


def effective(
    status: ReviewStatus, due_at: float | None, verdict: Verdict | None, now: float
) -> tuple[ReviewStatus, str]:
    """(status, reason) as seen at ``now``: a pending template whose review is due shows its verdict.

    ``due_at`` None means no automatic decision is scheduled (auto review off, or decided by hand)."""
    if status is ReviewStatus.PENDING and due_at is not None and verdict is not None and now >= due_at:
        return verdict.status, verdict.reason
    return status, ""
