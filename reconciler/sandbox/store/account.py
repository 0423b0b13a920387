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

The account is split by concern: connections, meta, behaviour, keys and counters in
``store.base``; signatures in ``store.signatures``; templates in ``store.templates``; sends in ``store.sends``; clocks
in ``clock``. This module joins them and stays the public import path for all of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.store.base import CORE_SCHEMA
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.store.clock import Clock, ManualClock, SystemClock
from reconciler.sandbox.store.sends import SendStore
from reconciler.sandbox.store.signatures import SignatureStore
from reconciler.sandbox.store.templates import TemplateStore

__all__ = [
    "CORE_SCHEMA",
    "Clock",
    "DemoAccount",
    "ManualClock",
    "Sandbox",
    "SandboxAccount",
    "SystemClock",
]

_ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class DemoAccount:
    """The account an emulator seeds for demos; its keys are printed by ``smsops sandbox serve``."""

    name: str
    access_key_id: str
    access_key_secret: str
    signatures: tuple[tuple[str, str], ...] = ()  # (name, review status)
    extra: dict[str, str] = field(default_factory=dict)  # e.g. tencent SmsSdkAppId
    note: str = ""  # what a user must do before the account is usable, printed with the keys


class SandboxAccount(TemplateStore, SignatureStore, SendStore):
    """One sandbox account (one SQLite file). Thread- and process-safe: no connection is shared."""

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
