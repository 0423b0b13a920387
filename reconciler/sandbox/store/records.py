"""What the sandbox store hands to emulators: records with their state as of a moment, and the
generic rule violations each emulator maps to its own error codes."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.providers.base import DeliveryState, ReviewStatus, TemplateKind
from reconciler.sandbox.store.review import Verdict, effective


class Violation(StrEnum):
    NOT_FOUND = "not_found"
    IMMUTABLE_APPROVED = "immutable_approved"  # update of an approved template
    STATE = "state"  # any other operation not allowed in the current review status
    UNDER_REVIEW = "under_review"  # delete while pending
    DAILY_QUOTA = "daily_quota"  # template creations per day
    SPACING = "spacing"  # template creations too close together
    NUMBER_LIMIT = "number_limit"  # per-number send limit
    SEND_QUOTA = "send_quota"  # account-wide sends per day
    ALREADY_EXISTS = "already_exists"  # a signature of that name exists (approved or under review)


class RuleViolation(Exception):
    """A provider rule refused the operation; ``details`` carry numbers for the provider's message."""

    def __init__(self, kind: Violation, message: str, **details: float | int | str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details


@dataclass(frozen=True)
class SignatureRecord:
    """A signature with its review status as of the moment it was read."""

    name: str
    status: ReviewStatus
    reason: str
    scene: str  # "verification" (may send verification templates only) or "general"
    created_at: float
    remark: str = ""
    decided_at: float | None = None  # when the shown verdict was reached; None while pending
    extra: dict[str, Any] = field(default_factory=dict)  # provider fields (qualification, sign id, ...)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TemplateRecord:
    """A template with its review status as of the moment it was read."""

    code: str
    name: str
    content: str
    kind: TemplateKind
    international: bool
    remark: str
    sign_name: str
    status: ReviewStatus
    reason: str
    created_at: float
    decided_at: float | None  # when the shown verdict was reached; None while pending
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SendRecord:
    """One message to one number with its delivery state as of the moment it was read."""

    message_id: str
    phone: str  # digits only
    template_code: str
    sign_name: str
    content: str
    kind: TemplateKind
    sent_at: float
    state: DeliveryState  # WAITING, DELIVERED or FAILED
    reported_at: float | None  # when the carrier report arrived; None while waiting
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _review(row: sqlite3.Row, now: float) -> tuple[ReviewStatus, str, float | None]:
    """(status, reason, decided_at) of a reviewed row as of ``now``: a due verdict shows itself."""
    stored = ReviewStatus(row["status"])
    verdict = Verdict(ReviewStatus(row["verdict"]), row["verdict_reason"]) if row["verdict"] else None
    status, auto_reason = effective(stored, row["due_at"], verdict, now)
    if status is stored:
        return status, row["reason"], row["decided_at"]
    return status, auto_reason, row["due_at"]


def template_from_row(row: sqlite3.Row, now: float) -> TemplateRecord:
    status, reason, decided = _review(row, now)
    return TemplateRecord(
        code=row["code"],
        name=row["name"],
        content=row["content"],
        kind=TemplateKind(row["kind"]),
        international=bool(row["international"]),
        remark=row["remark"],
        sign_name=row["sign_name"],
        status=status,
        reason=reason,
        created_at=row["created_at"],
        decided_at=decided,
        extra=json.loads(row["extra"]),
    )


def signature_from_row(row: sqlite3.Row, now: float) -> SignatureRecord:
    status, reason, decided = _review(row, now)
    return SignatureRecord(
        name=row["name"],
        status=status,
        reason=reason,
        scene=row["scene"],
        created_at=row["created_at"],
        remark=row["remark"],
        decided_at=decided,
        extra=json.loads(row["extra"]),
    )


def send_from_row(row: sqlite3.Row, now: float) -> SendRecord:
    outcome, deliver_at = row["outcome"], row["deliver_at"]
    if outcome == "never" or now < deliver_at:
        state, reported = DeliveryState.WAITING, None
    else:
        state = DeliveryState.DELIVERED if outcome == "delivered" else DeliveryState.FAILED
        reported = deliver_at
    return SendRecord(
        message_id=row["message_id"],
        phone=row["phone"],
        template_code=row["template_code"],
        sign_name=row["sign_name"],
        content=row["content"],
        kind=TemplateKind(row["kind"]),
        sent_at=row["sent_at"],
        state=state,
        reported_at=reported,
        extra=json.loads(row["extra"]),
    )
