"""A sandbox account's sends: per-number limits and the daily quota checked at acceptance, the
delivery outcome fixed then by the number, the delivery state read lazily as of the clock."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.providers.base import TemplateKind
from reconciler.sandbox.store.base import AccountBase
from reconciler.sandbox.store.records import RuleViolation, SendRecord, Violation, send_from_row

if TYPE_CHECKING:
    import sqlite3

    from reconciler.sandbox.store.behaviour import Behaviour


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


class SendStore(AccountBase):
    """Send operations of ``SandboxAccount``."""

    def record_send(
        self,
        *,
        phone: str,
        template_code: str,
        sign_name: str,
        content: str,
        kind: TemplateKind,
        limit_scope: str,
        message_id_factory: Callable[[int], str],
        extra: Mapping[str, Any] | None = None,
    ) -> SendRecord:
        """Accept one message to one number, or raise NUMBER_LIMIT / SEND_QUOTA.

        ``limit_scope`` groups sends that share a per-number limit (Alibaba: the sign for verification
        codes, sign+template otherwise). The delivery outcome is fixed now by the number's suffix."""
        behaviour = self.behaviour
        now = self.now()
        digits = _digits(phone)
        with self.transaction() as conn:
            _check_limits(conn, behaviour, digits=digits, kind=kind, limit_scope=limit_scope, now=now)
            outcome = _outcome(behaviour, digits)
            message_id = message_id_factory(self.next_sequence(conn, "send"))
            conn.execute(
                "INSERT INTO sends VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    message_id,
                    digits,
                    template_code,
                    sign_name,
                    content,
                    kind.value,
                    limit_scope,
                    now,
                    now + behaviour.delivery_delay_s,
                    outcome,
                    json.dumps(dict(extra or {})),
                ),
            )
        return self.sends(message_id=message_id)[0]

    def sends(
        self,
        *,
        phone: str | None = None,
        message_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[SendRecord]:
        """Sends (oldest first) with their delivery state as of now; ``phone`` compares digits only."""
        clauses, args = ["1=1"], []
        for column, value in (
            ("phone = ?", _digits(phone) if phone else None),
            ("message_id = ?", message_id),
            ("sent_at >= ?", since),
            ("sent_at < ?", until),
        ):
            if value is not None:
                clauses.append(column)
                args.append(value)
        with self.read() as conn:
            rows = conn.execute(
                f"SELECT * FROM sends WHERE {' AND '.join(clauses)} ORDER BY sent_at, message_id", args
            ).fetchall()
        now = self.now()
        return [send_from_row(r, now) for r in rows]


def _check_limits(
    conn: sqlite3.Connection, behaviour: Behaviour, *, digits: str, kind: TemplateKind, limit_scope: str, now: float
) -> None:
    """Raise NUMBER_LIMIT when the number has had its sends in one of the kind's windows, SEND_QUOTA
    when the account has had its sends of the day."""
    for limit in behaviour.number_limits.get(kind.value, ()):
        used = conn.execute(
            "SELECT COUNT(*) FROM sends WHERE phone = ? AND limit_scope = ? AND sent_at > ?",
            (digits, limit_scope, now - limit.window_s),
        ).fetchone()[0]
        if used >= limit.max:
            raise RuleViolation(
                Violation.NUMBER_LIMIT,
                f"at most {limit.max} per {limit.window_s:g}s",
                limit=limit.max,
                window_s=limit.window_s,
            )
    if behaviour.send_daily_quota is not None:
        used = conn.execute("SELECT COUNT(*) FROM sends WHERE sent_at > ?", (now - 86400,)).fetchone()[0]
        if used >= behaviour.send_daily_quota:
            raise RuleViolation(
                Violation.SEND_QUOTA,
                f"at most {behaviour.send_daily_quota} sends a day",
                limit=behaviour.send_daily_quota,
            )


def _outcome(behaviour: Behaviour, digits: str) -> str:
    """The delivery outcome, fixed at acceptance by the number's suffix."""
    if any(digits.endswith(s) for s in behaviour.fail_suffixes):
        return "failed"
    if any(digits.endswith(s) for s in behaviour.never_deliver_suffixes):
        return "never"
    return "delivered"
