"""Sandbox state: one SQLite file per account, safe for several processes writing at once.

Every connection uses WAL and a busy timeout; every read-modify-write runs inside ``BEGIN
IMMEDIATE`` (``SandboxAccount.transaction``), which takes the write lock before reading, so two
processes creating templates concurrently serialise instead of losing an update.

Connections are pooled per account and per process: opening one (and setting its pragmas) cost
more than the query it served, on every request. ``synchronous = NORMAL`` with WAL fsyncs only at
checkpoints; a sandbox may lose its last commits on power loss, never its consistency.

The generic tables (access keys, signatures, templates, sends, counters, sequences, meta) serve all
emulators; provider-specific fields go in each row's ``extra`` JSON, or in an emulator's own tables
(its ``schema_sql``, applied when an account is opened).
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.behaviour import Behaviour
from reconciler.sandbox.records import (
    RuleViolation,
    SendRecord,
    SignatureRecord,
    TemplateRecord,
    Violation,
    send_from_row,
    template_from_row,
)
from reconciler.sandbox.review import Verdict, decide

CORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS access_keys (key_id TEXT PRIMARY KEY, secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS signatures (
  name TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  scene TEXT NOT NULL DEFAULT 'general', created_at REAL NOT NULL, extra TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS templates (
  code TEXT PRIMARY KEY, name TEXT NOT NULL, content TEXT NOT NULL, kind TEXT NOT NULL,
  international INTEGER NOT NULL, remark TEXT NOT NULL, sign_name TEXT NOT NULL,
  status TEXT NOT NULL, reason TEXT NOT NULL, verdict TEXT, verdict_reason TEXT NOT NULL DEFAULT '',
  due_at REAL, decided_at REAL, created_at REAL NOT NULL, submitted_at REAL NOT NULL,
  extra TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS creations (at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sends (
  message_id TEXT PRIMARY KEY, phone TEXT NOT NULL, template_code TEXT NOT NULL,
  sign_name TEXT NOT NULL, content TEXT NOT NULL, kind TEXT NOT NULL, limit_scope TEXT NOT NULL,
  sent_at REAL NOT NULL, deliver_at REAL NOT NULL, outcome TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS sends_by_phone ON sends (phone, sent_at);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_calls (op TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS api_calls_by_op ON api_calls (op, at);
"""

_ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


@dataclass
class ManualClock:
    """A clock tests move by hand: review and delivery delays pass instantly."""

    current: float = 1_767_225_600.0  # 2026-01-01T00:00:00Z

    def now(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


@dataclass(frozen=True)
class DemoAccount:
    """The account an emulator seeds for demos; its keys are printed by ``smsops sandbox serve``."""

    name: str
    access_key_id: str
    access_key_secret: str
    signatures: tuple[tuple[str, str], ...] = ()  # (name, review status)
    extra: dict[str, str] = field(default_factory=dict)  # e.g. tencent SmsSdkAppId


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


class SandboxAccount:
    """One sandbox account (one SQLite file). Thread- and process-safe: no connection is shared."""

    def __init__(self, path: Path, *, clock: Clock, extra_schema: Sequence[str] = ()) -> None:
        self.path = path
        self.name = path.stem
        self.clock = clock
        # Idle connections of this process (a forked child must not reuse its parent's).
        self._pool: list[sqlite3.Connection] = []
        self._pool_pid = os.getpid()
        self._pool_lock = threading.Lock()
        self._behaviour_cache: tuple[str, Behaviour] | None = None
        self._calls_purged = 0.0
        with self.read() as conn:
            conn.executescript(CORE_SCHEMA + "".join(extra_schema))

    # -- connections ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _checkout(self) -> sqlite3.Connection:
        with self._pool_lock:
            if self._pool_pid != os.getpid():
                self._pool, self._pool_pid = [], os.getpid()
            if self._pool:
                return self._pool.pop()
        return self._connect()

    def _checkin(self, conn: sqlite3.Connection) -> None:
        # A connection left inside a transaction (a failed ROLLBACK) is not safe to hand out again.
        if conn.in_transaction:
            conn.close()
            return
        with self._pool_lock:
            if self._pool_pid == os.getpid() and len(self._pool) < 16:
                self._pool.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle pooled connections (the account stays usable; new ones open on demand)."""
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        conn = self._checkout()
        try:
            yield conn
        finally:
            self._checkin(conn)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the write lock from its first statement (BEGIN IMMEDIATE)."""
        conn = self._checkout()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            self._checkin(conn)

    def now(self) -> float:
        return self.clock.now()

    # -- meta, behaviour, keys, sequences, counters -------------------------------------------
    def _meta(self, conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    @property
    def provider(self) -> str:
        with self.read() as conn:
            return self._meta(conn, "provider") or ""

    @property
    def behaviour(self) -> Behaviour:
        with self.read() as conn:
            raw = self._meta(conn, "behaviour")
        return self._parse_behaviour(raw)

    def _parse_behaviour(self, raw: str | None) -> Behaviour:
        # Read on every request; parsing the JSON each time cost more than the read. The stored text
        # is the cache key, so a change made by another process is seen at once.
        if raw is None:
            return Behaviour()
        cached = self._behaviour_cache
        if cached is not None and cached[0] == raw:
            return cached[1]
        behaviour = Behaviour.model_validate_json(raw)
        self._behaviour_cache = (raw, behaviour)
        return behaviour

    def set_behaviour(self, behaviour: Behaviour) -> Behaviour:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('behaviour', ?)", (behaviour.model_dump_json(),))
        return behaviour

    def configure(self, **changes: Any) -> Behaviour:
        """Change some behaviour fields (``faults={'throttle': {'rate': 1}}`` merges per kind)."""
        with self.transaction() as conn:
            current = self._parse_behaviour(self._meta(conn, "behaviour"))
            updated = current.merged(changes)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('behaviour', ?)", (updated.model_dump_json(),))
        return updated

    def add_access_key(self, key_id: str, secret: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO access_keys VALUES (?, ?)", (key_id, secret))

    def access_keys(self) -> dict[str, str]:
        with self.read() as conn:
            return {r["key_id"]: r["secret"] for r in conn.execute("SELECT * FROM access_keys")}

    def next_sequence(self, conn: sqlite3.Connection, name: str, start: int = 1) -> int:
        """The next number of a named sequence, inside the caller's transaction."""
        row = conn.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
        value = start if row is None else int(row["value"]) + 1
        conn.execute("INSERT OR REPLACE INTO sequences VALUES (?, ?)", (name, value))
        return value

    def bump(self, conn: sqlite3.Connection, name: str, by: int = 1) -> int:
        conn.execute(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?",
            (name, by, by),
        )
        return int(conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def count(self, name: str) -> int:
        """Add one to counter ``name`` and return the new value."""
        with self.transaction() as conn:
            return self.bump(conn, name)

    def admit_call(self, conn: sqlite3.Connection, operation: str, rate: float) -> float:
        """Rate limit inside the caller's transaction: record a call of ``operation`` and return 0, or,
        when ``rate`` calls were already admitted in the last second of the sandbox clock, record
        nothing and return the seconds until one of them leaves that window."""
        now = self.now()
        if now - self._calls_purged > 60:
            conn.execute("DELETE FROM api_calls WHERE at <= ?", (now - 60,))
            self._calls_purged = now
        recent = [
            r[0]
            for r in conn.execute(
                "SELECT at FROM api_calls WHERE op = ? AND at > ? ORDER BY at DESC LIMIT ?",
                (operation, now - 1.0, max(math.ceil(rate), 1)),
            )
        ]
        if len(recent) >= rate:
            return max(float(recent[-1]) + 1.0 - now, 0.001)
        conn.execute("INSERT INTO api_calls VALUES (?, ?)", (operation, now))
        return 0.0

    def counters(self) -> dict[str, int]:
        """Requests per operation (``op:<Operation>``, ``requests``) and fired faults (``fault:<kind>``)."""
        with self.read() as conn:
            return {r["name"]: int(r["value"]) for r in conn.execute("SELECT * FROM counters ORDER BY name")}

    # -- signatures ----------------------------------------------------------------------------
    def put_signature(
        self, name: str, status: ReviewStatus = ReviewStatus.APPROVED, *, reason: str = "", scene: str = "general"
    ) -> SignatureRecord:
        """Create or replace a signature; ``scene`` is 'verification' (code-only) or 'general'."""
        now = self.now()
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO signatures (name, status, reason, scene, created_at) VALUES (?,?,?,?,?)",
                (name, ReviewStatus(status).value, reason, scene, now),
            )
        return SignatureRecord(name, ReviewStatus(status), reason, scene, now)

    def signature(self, name: str) -> SignatureRecord | None:
        return next((s for s in self.signatures() if s.name == name), None)

    def signatures(self) -> list[SignatureRecord]:
        with self.read() as conn:
            rows = conn.execute("SELECT * FROM signatures ORDER BY created_at, name").fetchall()
        return [
            SignatureRecord(r["name"], ReviewStatus(r["status"]), r["reason"], r["scene"], r["created_at"])
            for r in rows
        ]

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

    # -- sends ---------------------------------------------------------------------------------
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
            if any(digits.endswith(s) for s in behaviour.fail_suffixes):
                outcome = "failed"
            elif any(digits.endswith(s) for s in behaviour.never_deliver_suffixes):
                outcome = "never"
            else:
                outcome = "delivered"
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

    # -- whole account -------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget templates, sends, counters and sequences; keep keys, signatures and behaviour."""
        with self.transaction() as conn:
            for table in ("templates", "creations", "sends", "counters", "sequences", "api_calls"):
                conn.execute(f"DELETE FROM {table}")

    def snapshot(self) -> dict[str, Any]:
        """Everything about the account except secrets, as JSON-ready data (control API, status)."""
        return {
            "name": self.name,
            "provider": self.provider,
            "access_key_ids": sorted(self.access_keys()),
            "behaviour": self.behaviour.model_dump(mode="json"),
            "signatures": [s.to_json() for s in self.signatures()],
            "templates": [t.to_json() for t in self.templates()],
            "counters": self.counters(),
        }


class Sandbox:
    """All sandbox accounts under one state directory (``<state_dir>/<account>.sqlite3``)."""

    def __init__(self, state_dir: Path | str, *, clock: Clock | None = None, extra_schema: Sequence[str] = ()) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.clock: Clock = clock or SystemClock()
        self.extra_schema: list[str] = list(extra_schema)
        # Opened accounts, so the schema script runs once per process and not on every request.
        self._open: dict[str, tuple[int, SandboxAccount]] = {}

    def add_schema(self, sql: str) -> None:
        """Tables an emulator needs in every account (applied on open; must be idempotent)."""
        if sql and sql not in self.extra_schema:
            self.extra_schema.append(sql)

    def _path(self, name: str) -> Path:
        if not _ACCOUNT_NAME.match(name):
            raise ValueError(f"account name {name!r} must match {_ACCOUNT_NAME.pattern}")
        return self.state_dir / f"{name}.sqlite3"

    def create_account(
        self,
        name: str,
        *,
        provider: str,
        access_keys: Mapping[str, str] = {},
        signatures: Sequence[tuple[str, ReviewStatus | str]] = (),
        behaviour: Behaviour | None = None,
    ) -> SandboxAccount:
        """Create (or reopen and extend) an account; existing state is kept."""
        account = SandboxAccount(self._path(name), clock=self.clock, extra_schema=self.extra_schema)
        self._open[name] = (len(self.extra_schema), account)
        with account.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('provider', ?)", (provider,))
            if behaviour is not None:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('behaviour', ?)", (behaviour.model_dump_json(),))
            for key_id, secret in access_keys.items():
                conn.execute("INSERT OR REPLACE INTO access_keys VALUES (?, ?)", (key_id, secret))
        for sign, status in signatures:
            if account.signature(sign) is None:
                account.put_signature(sign, ReviewStatus(status))
        return account

    def ensure_demo(self, provider: str, demo: DemoAccount) -> SandboxAccount:
        account = self.create_account(
            demo.name,
            provider=provider,
            access_keys={demo.access_key_id: demo.access_key_secret},
            signatures=demo.signatures,
        )
        if demo.extra:
            with account.transaction() as conn:
                for key, value in demo.extra.items():
                    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"demo:{key}", value))
        return account

    def account(self, name: str) -> SandboxAccount:
        path = self._path(name)
        if not path.exists():
            raise KeyError(f"no sandbox account {name!r} in {self.state_dir}")
        cached = self._open.get(name)
        if cached is not None and cached[0] == len(self.extra_schema):
            return cached[1]
        account = SandboxAccount(path, clock=self.clock, extra_schema=self.extra_schema)
        self._open[name] = (len(self.extra_schema), account)
        return account

    def accounts(self) -> list[SandboxAccount]:
        return [self.account(p.stem) for p in sorted(self.state_dir.glob("*.sqlite3"))]

    def find_access_key(self, key_id: str, provider: str) -> tuple[SandboxAccount, str] | None:
        """The account of ``provider`` holding ``key_id`` and the key's secret (None: unknown key).

        Looked up on every request (keys may change from another process): one query per account."""
        for account in self.accounts():
            with account.read() as conn:
                row = conn.execute(
                    "SELECT (SELECT value FROM meta WHERE key = 'provider'),"
                    " (SELECT secret FROM access_keys WHERE key_id = ?)",
                    (key_id,),
                ).fetchone()
            if row[0] == provider and row[1] is not None:
                return account, str(row[1])
        return None
