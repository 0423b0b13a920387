"""A sandbox account's signatures: submitted for review like templates (the verdict fixed at
submission, shown once due as of the clock), updated only in the states a provider allows, deleted
only when not under review. Provider fields (qualification, sign type, Tencent's SignId, carrier
filing) live in each row's ``extra``; the scene ("verification" or "general") is a column because
sends check it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.store.base import AccountBase
from reconciler.sandbox.store.records import RuleViolation, SignatureRecord, Violation, signature_from_row
from reconciler.sandbox.store.review import Verdict, decide_signature


class SignatureStore(AccountBase):
    """Signature operations of ``SandboxAccount``."""

    def put_signature(
        self,
        name: str,
        status: ReviewStatus = ReviewStatus.APPROVED,
        *,
        reason: str = "",
        scene: str = "general",
        extra: Mapping[str, Any] | None = None,
        remark: str = "",
    ) -> SignatureRecord:
        """Create or replace a signature in a given state, no review (fixtures, the control API)."""
        now = self.now()
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO signatures (name, status, reason, scene, created_at, extra, decided_at, remark)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (
                    name,
                    ReviewStatus(status).value,
                    reason,
                    scene,
                    now,
                    json.dumps(dict(extra or {})),
                    None if ReviewStatus(status) is ReviewStatus.PENDING else now,
                    remark,
                ),
            )
        return self._signature_now(name)

    def create_signature(
        self,
        name: str,
        *,
        scene: str = "general",
        remark: str = "",
        extra: Mapping[str, Any] | None = None,
        problem: str = "",
    ) -> SignatureRecord:
        """Submit a new signature for review; ALREADY_EXISTS when one of that name exists.

        ``problem`` is what the emulator found wrong with the application (the reviewers reject it
        with that reason); the banned words of the behaviour are checked too."""
        behaviour = self.behaviour
        now = self.now()
        verdict = decide_signature(behaviour, name=name, problem=problem)
        due = now + behaviour.review_delay_s if behaviour.auto_review else None
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM signatures WHERE name = ?", (name,)).fetchone() is not None:
                raise RuleViolation(Violation.ALREADY_EXISTS, f"signature {name} already exists")
            conn.execute(
                "INSERT INTO signatures (name, status, reason, scene, created_at, extra, remark, verdict,"
                " verdict_reason, due_at, decided_at) VALUES (?, 'pending', '', ?, ?, ?, ?, ?, ?, ?, NULL)",
                (name, scene, now, json.dumps(dict(extra or {})), remark, verdict.status.value, verdict.reason, due),
            )
        return self._signature_now(name)

    def update_signature(
        self,
        name: str,
        *,
        new_name: str | None = None,
        scene: str | None = None,
        remark: str = "",
        extra: Mapping[str, Any] | None = None,
        problem: str = "",
        updatable: tuple[ReviewStatus, ...] = (ReviewStatus.REJECTED,),
    ) -> SignatureRecord:
        """Change a signature and resubmit it for review; only in the ``updatable`` states
        (IMMUTABLE_APPROVED for an approved one, STATE otherwise). ``new_name`` renames it."""
        behaviour = self.behaviour
        now = self.now()
        target = new_name or name
        verdict = decide_signature(behaviour, name=target, problem=problem)
        due = now + behaviour.review_delay_s if behaviour.auto_review else None
        with self.transaction() as conn:
            current = self._signature(conn, name, now)
            if current.status not in updatable:
                kind = Violation.IMMUTABLE_APPROVED if current.status is ReviewStatus.APPROVED else Violation.STATE
                raise RuleViolation(kind, f"signature {name} is {current.status.value} and cannot be updated")
            if target != name and conn.execute("SELECT 1 FROM signatures WHERE name = ?", (target,)).fetchone():
                raise RuleViolation(Violation.ALREADY_EXISTS, f"signature {target} already exists")
            conn.execute(
                "UPDATE signatures SET name=?, status='pending', reason='', scene=?, remark=?, extra=?, verdict=?,"
                " verdict_reason=?, due_at=?, decided_at=NULL WHERE name=?",
                (
                    target,
                    scene or current.scene,
                    remark,
                    json.dumps({**current.extra, **dict(extra or {})}),
                    verdict.status.value,
                    verdict.reason,
                    due,
                    name,
                ),
            )
        return self._signature_now(target)

    def delete_signature(self, name: str, *, allow_pending: bool = False) -> SignatureRecord:
        """Delete a signature; one under review cannot be (UNDER_REVIEW) unless ``allow_pending``."""
        now = self.now()
        with self.transaction() as conn:
            current = self._signature(conn, name, now)
            if current.status is ReviewStatus.PENDING and not allow_pending:
                raise RuleViolation(Violation.UNDER_REVIEW, f"signature {name} is under review and cannot be deleted")
            conn.execute("DELETE FROM signatures WHERE name = ?", (name,))
        return current

    def set_signature_extra(self, name: str, **extra: Any) -> SignatureRecord:
        """Merge provider fields into a signature (e.g. its carrier filing, from the control API)."""
        now = self.now()
        with self.transaction() as conn:
            current = self._signature(conn, name, now)
            conn.execute(
                "UPDATE signatures SET extra = ? WHERE name = ?", (json.dumps({**current.extra, **extra}), name)
            )
        return self._signature_now(name)

    def decide_signature(self, name: str, verdict: Verdict) -> SignatureRecord:
        """Approve or reject a signature now, whatever the rules said (control API)."""
        now = self.now()
        with self.transaction() as conn:
            self._signature(conn, name, now)
            conn.execute(
                "UPDATE signatures SET status=?, reason=?, due_at=NULL, decided_at=? WHERE name=?",
                (verdict.status.value, verdict.reason, now, name),
            )
        return self._signature_now(name)

    def approve_signature(self, name: str) -> SignatureRecord:
        return self.decide_signature(name, Verdict(ReviewStatus.APPROVED))

    def reject_signature(self, name: str, reason: str = "Rejected by the sandbox control API.") -> SignatureRecord:
        return self.decide_signature(name, Verdict(ReviewStatus.REJECTED, reason))

    def _signature(self, conn: sqlite3.Connection, name: str, now: float) -> SignatureRecord:
        row = conn.execute("SELECT * FROM signatures WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise RuleViolation(Violation.NOT_FOUND, f"signature {name} does not exist")
        return signature_from_row(row, now)

    def _signature_now(self, name: str) -> SignatureRecord:
        record = self.signature(name)
        assert record is not None
        return record

    def signature(self, name: str) -> SignatureRecord | None:
        with self.read() as conn:
            row = conn.execute("SELECT * FROM signatures WHERE name = ?", (name,)).fetchone()
        return None if row is None else signature_from_row(row, self.now())

    def signatures(self) -> list[SignatureRecord]:
        now = self.now()
        with self.read() as conn:
            rows = conn.execute("SELECT * FROM signatures ORDER BY created_at, name").fetchall()
        return [signature_from_row(r, now) for r in rows]
