"""A sandbox account's templates: creation quota and spacing, review scheduled at
submission and decided lazily as of the clock, the rules on what may be updated or deleted."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.store.base import AccountBase
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.store.records import (
    RuleViolation,
    TemplateRecord,
    Violation,
    template_from_row,
)
from reconciler.sandbox.store.review import Verdict, decide


class TemplateStore(AccountBase):
    """Template operations of ``SandboxAccount``."""

    # -- templates -----------------------------------------------------------------------------
    def _verdict_columns(
        self, behaviour: Behaviour, kind: TemplateKind, content: str, remark: str, now: float
    ) -> tuple[str, str, float | None]:
        verdict = decide(behaviour, kind=kind, content=content, remark=remark)
        due = now + behaviour.review_delay_s if behaviour.auto_review else None
        return verdict.status.value, verdict.reason, due

    def create_template(
        self,
        *,
        name: str,
        content: str,
        kind: TemplateKind,
        code_factory: Callable[[int], str],
        international: bool = False,
        remark: str = "",
        sign_name: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> TemplateRecord:
        """Submit a new template for review. Enforces the daily creation quota and the spacing between
        creations (``RuleViolation`` DAILY_QUOTA / SPACING); ``code_factory(n)`` makes the n-th code."""
        behaviour = self.behaviour
        now = self.now()
        with self.transaction() as conn:
            times = [r[0] for r in conn.execute("SELECT at FROM creations WHERE at > ?", (now - 86400,))]
            if len(times) >= behaviour.create_daily_quota:
                raise RuleViolation(
                    Violation.DAILY_QUOTA,
                    f"at most {behaviour.create_daily_quota} templates a day",
                    limit=behaviour.create_daily_quota,
                )
            if times and behaviour.create_spacing_s and now - max(times) < behaviour.create_spacing_s:
                raise RuleViolation(
                    Violation.SPACING,
                    f"templates must be created at least {behaviour.create_spacing_s:g}s apart",
                    limit=behaviour.create_spacing_s,
                )
            code = code_factory(self.next_sequence(conn, "template"))
            verdict, reason, due = self._verdict_columns(behaviour, kind, content, remark, now)
            conn.execute(
                "INSERT INTO templates (code, name, content, kind, international, remark, sign_name, status,"
                " reason, verdict, verdict_reason, due_at, created_at, submitted_at, extra)"
                " VALUES (?,?,?,?,?,?,?,'pending','',?,?,?,?,?,?)",
                (
                    code,
                    name,
                    content,
                    kind.value,
                    int(international),
                    remark,
                    sign_name,
                    verdict,
                    reason,
                    due,
                    now,
                    now,
                    json.dumps(dict(extra or {})),
                ),
            )
            conn.execute("INSERT INTO creations VALUES (?)", (now,))
        record = self.template(code)
        assert record is not None
        return record

    def update_template(
        self,
        code: str,
        *,
        name: str,
        content: str,
        kind: TemplateKind,
        international: bool = False,
        remark: str = "",
        sign_name: str = "",
        extra: Mapping[str, Any] | None = None,
        updatable: tuple[ReviewStatus, ...] = (ReviewStatus.PENDING, ReviewStatus.REJECTED, ReviewStatus.CANCELLED),
    ) -> TemplateRecord:
        """Change a template and resubmit it for review; approved ones are immutable (IMMUTABLE_APPROVED)."""
        behaviour = self.behaviour
        now = self.now()
        with self.transaction() as conn:
            current = self._template(conn, code, now)
            if current.status not in updatable:
                kind_ = Violation.IMMUTABLE_APPROVED if current.status is ReviewStatus.APPROVED else Violation.STATE
                raise RuleViolation(kind_, f"template {code} is {current.status.value} and cannot be updated")
            verdict, reason, due = self._verdict_columns(behaviour, kind, content, remark, now)
            conn.execute(
                "UPDATE templates SET name=?, content=?, kind=?, international=?, remark=?, sign_name=?,"
                " status='pending', reason='', verdict=?, verdict_reason=?, due_at=?, decided_at=NULL,"
                " submitted_at=?, extra=? WHERE code=?",
                (
                    name,
                    content,
                    kind.value,
                    int(international),
                    remark,
                    sign_name,
                    verdict,
                    reason,
                    due,
                    now,
                    json.dumps({**current.extra, **dict(extra or {})}),
                    code,
                ),
            )
        record = self.template(code)
        assert record is not None
        return record

    def delete_template(self, code: str, *, allow_pending: bool = False) -> TemplateRecord:
        """Delete a template; one under review cannot be deleted (UNDER_REVIEW) unless ``allow_pending``."""
        now = self.now()
        with self.transaction() as conn:
            current = self._template(conn, code, now)
            if current.status is ReviewStatus.PENDING and not allow_pending:
                raise RuleViolation(Violation.UNDER_REVIEW, f"template {code} is under review and cannot be deleted")
            conn.execute("DELETE FROM templates WHERE code = ?", (code,))
        return current

    def _template(self, conn: sqlite3.Connection, code: str, now: float) -> TemplateRecord:
        row = conn.execute("SELECT * FROM templates WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise RuleViolation(Violation.NOT_FOUND, f"template {code} does not exist")
        return template_from_row(row, now)

    def template(self, code: str) -> TemplateRecord | None:
        with self.read() as conn:
            row = conn.execute("SELECT * FROM templates WHERE code = ?", (code,)).fetchone()
        return None if row is None else template_from_row(row, self.now())

    def templates(self) -> list[TemplateRecord]:
        now = self.now()
        with self.read() as conn:
            rows = conn.execute("SELECT * FROM templates ORDER BY created_at, code").fetchall()
        return [template_from_row(r, now) for r in rows]

    def templates_page(
        self, offset: int, limit: int, *, newest_first: bool = False
    ) -> tuple[list[TemplateRecord], int]:
        """One page of ``templates()`` (or of its reverse) and the total count, in one read: a list
        API then costs a page, not the whole account, per request."""
        order = "DESC" if newest_first else "ASC"
        now = self.now()
        with self.read() as conn:
            total = int(conn.execute("SELECT COUNT(*) FROM templates").fetchone()[0])
            rows = conn.execute(
                f"SELECT * FROM templates ORDER BY created_at {order}, code {order} LIMIT ? OFFSET ?",
                (max(limit, 0), max(offset, 0)),
            ).fetchall()
        return [template_from_row(r, now) for r in rows], total

    def decide(self, code: str, verdict: Verdict) -> TemplateRecord:
        """Approve or reject now, whatever the rules said (control API)."""
        now = self.now()
        with self.transaction() as conn:
            self._template(conn, code, now)
            conn.execute(
                "UPDATE templates SET status=?, reason=?, due_at=NULL, decided_at=? WHERE code=?",
                (verdict.status.value, verdict.reason, now, code),
            )
        record = self.template(code)
        assert record is not None
        return record

    def approve(self, code: str) -> TemplateRecord:
        return self.decide(code, Verdict(ReviewStatus.APPROVED))

    def reject(self, code: str, reason: str = "Rejected by the sandbox control API.") -> TemplateRecord:
        return self.decide(code, Verdict(ReviewStatus.REJECTED, reason))
