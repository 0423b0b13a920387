"""The part of a sandbox account every other part stands on: its SQLite file, the pooled
connections and transactions over it, and its meta, behaviour, access keys, sequences and counters.

Templates and signatures (``store_templates``) and sends (``store_sends``) build on this class;
``store.SandboxAccount`` joins them.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.store.clock import Clock

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
CREATE INDEX IF NOT EXISTS templates_by_age ON templates (created_at, code);
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


# Columns added after the first release: a state file made before them gets them on open.
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "signatures": (
        ("remark", "TEXT NOT NULL DEFAULT ''"),
        ("verdict", "TEXT"),
        ("verdict_reason", "TEXT NOT NULL DEFAULT ''"),
        ("due_at", "REAL"),
        ("decided_at", "REAL"),
    ),
}


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns:
            if name in present:
                continue
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
            except sqlite3.OperationalError as error:  # another process added it first
                if "duplicate column" not in str(error):
                    raise


class AccountBase:
    """What every operation of a ``SandboxAccount`` uses; never instantiated on its own."""

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
            _add_missing_columns(conn)

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
        # Counted in SQL: a high documented rate (5000/s) must not read thousands of rows per request.
        used = conn.execute(
            "SELECT COUNT(*) FROM api_calls WHERE op = ? AND at > ?", (operation, now - 1.0)
        ).fetchone()[0]
        if used >= rate:
            oldest_needed = conn.execute(
                "SELECT at FROM api_calls WHERE op = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?",
                (operation, now - 1.0, max(math.ceil(rate), 1) - 1),
            ).fetchone()
            return max(float(oldest_needed[0]) + 1.0 - now, 0.001)
        conn.execute("INSERT INTO api_calls VALUES (?, ?)", (operation, now))
        return 0.0

    def counters(self) -> dict[str, int]:
        """Requests per operation (``op:<Operation>``, ``requests``) and fired faults (``fault:<kind>``)."""
        with self.read() as conn:
            return {r["name"]: int(r["value"]) for r in conn.execute("SELECT * FROM counters ORDER BY name")}
