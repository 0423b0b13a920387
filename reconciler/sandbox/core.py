"""The contract between the HTTP server and the provider emulators, and fault injection.

An emulator is a class registered in ``EMULATORS`` (name -> "module:Class", imported on use):

    class MyEmulator:
        name = "tencent"                       # also the account ``provider`` it serves
        schema_sql = "CREATE TABLE IF NOT EXISTS ..."   # its own tables, "" if none
        reset_tables = ("my_tags",)            # optional: those of them a reset empties
        demo = DemoAccount(...)                # seeded by ``smsops sandbox serve``
        def __init__(self, sandbox: Sandbox) -> None: ...
        def handle(self, request: SandboxRequest) -> SandboxResponse: ...

``handle`` authenticates (``sandbox.find_access_key``), picks the operation, and runs it through
``perform(account, operation, apply, throttled=..., server_error=...)``, which counts the request
and injects the account's configured faults around ``apply``. Rule violations from the store
(``RuleViolation``) are the emulator's to translate into the provider's error shape.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qsl

from reconciler.sandbox.store.account import DemoAccount, Sandbox, SandboxAccount
from reconciler.sandbox.store.behaviour import Faults

# name -> "module:Class". The emulator modules import no provider SDK.
EMULATORS: dict[str, str] = {
    "alibaba": "reconciler.sandbox.alibaba.emulator:AlibabaEmulator",
    "tencent": "reconciler.sandbox.tencent.emulator:TencentEmulator",
    "aws": "reconciler.sandbox.aws.emulator:AwsEmulator",
}


@dataclass(frozen=True)
class SandboxRequest:
    """One HTTP request as received. ``headers`` keys are lower-cased; ``query`` is decoded pairs in
    wire order; ``raw_query`` is the undecoded query string (signature checks need both)."""

    method: str
    path: str
    raw_query: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    body: bytes = b""

    @classmethod
    def build(cls, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> SandboxRequest:
        path, _, raw_query = target.partition("?")
        return cls(
            method=method.upper(),
            path=path or "/",
            raw_query=raw_query,
            query=tuple(parse_qsl(raw_query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )

    def form(self) -> dict[str, str]:
        """The body decoded as x-www-form-urlencoded ({} for other content types)."""
        if "application/x-www-form-urlencoded" not in self.headers.get("content-type", "") or not self.body:
            return {}
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    def params(self) -> dict[str, str]:
        """Query parameters, then form fields (a form field wins on a clash)."""
        return {**dict(self.query), **self.form()}

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class SandboxResponse:
    """What to answer. ``drop`` closes the socket without writing anything (reset / response lost)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    @classmethod
    def json(
        cls,
        data: Any,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json;charset=utf-8",
    ) -> SandboxResponse:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status=status, body=body, headers={"Content-Type": content_type, **(headers or {})})

    @classmethod
    def dropped(cls) -> SandboxResponse:
        return cls(drop=True)


class Emulator(Protocol):
    name: ClassVar[str]
    schema_sql: ClassVar[str]
    demo: ClassVar[DemoAccount]

    def handle(self, request: SandboxRequest) -> SandboxResponse: ...


def load_emulator(name: str, sandbox: Sandbox) -> Emulator:
    """Import, instantiate and register an emulator's tables with ``sandbox``."""
    if name not in EMULATORS:
        raise KeyError(f"unknown emulator {name!r}; known: {', '.join(sorted(EMULATORS))}")
    module_name, _, class_name = EMULATORS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    sandbox.add_schema(cls.schema_sql, reset_tables=getattr(cls, "reset_tables", ()))
    emulator: Emulator = cls(sandbox)
    return emulator


def _draw(seed: int, kind: str, n: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, kind, n): reproducible across processes."""
    digest = hashlib.sha256(f"{seed}:{kind}:{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _fired(conn: sqlite3.Connection, account: SandboxAccount, faults: Faults, operation: str, n: int) -> list[str]:
    """The fault kinds that fire for request ``n``, in ``perform``'s order, stopping at the first one
    that ends the request; each counted (``fault:<kind>``) inside the caller's transaction."""
    fired: list[str] = []
    for kind in _ORDER:
        spec = faults.spec(kind)
        if spec.rate <= 0 or (spec.operations and operation not in spec.operations):
            continue
        if _draw(spec.seed, kind, n) >= spec.rate:
            continue
        if spec.limit is not None:
            row = conn.execute("SELECT value FROM counters WHERE name = ?", (f"fault:{kind}",)).fetchone()
            if row is not None and int(row[0]) >= spec.limit:
                continue
        account.bump(conn, f"fault:{kind}")
        fired.append(kind)
        if kind != "latency":
            break
    return fired


# Latency stalls and carries on; each later kind ends the request.
_ORDER = ("latency", "reset", "throttle", "server_error", "lost_response")


def perform(
    account: SandboxAccount,
    operation: str,
    apply: Callable[[], SandboxResponse],
    *,
    throttled: Callable[[int], SandboxResponse],
    server_error: Callable[[int], SandboxResponse],
    sleep: Callable[[float], None] = time.sleep,
    rate_limit: float = 0.0,
) -> SandboxResponse:
    """Count the request, then inject faults in this order: latency (stall, then carry on), reset
    (drop, nothing applied), throttle (``throttled(retry_after_ms)``), server error
    (``server_error(status)``), lost response (apply, then drop). Otherwise answer ``apply()``.

    ``rate_limit`` > 0 admits at most that many requests of ``operation`` per second of the sandbox
    clock; a request over it is answered ``throttled(ms until a slot frees)`` before any fault.
    Counting, the rate check and the fault draws share one write transaction: one commit per request."""
    faults = account.behaviour.faults
    with account.transaction() as conn:
        n = account.bump(conn, "requests")
        account.bump(conn, f"op:{operation}")
        wait = account.admit_call(conn, operation, rate_limit) if rate_limit > 0 else 0.0
        if wait > 0:
            account.bump(conn, "throttled:rate")
            fired: list[str] = []
        else:
            fired = _fired(conn, account, faults, operation, n)
    if wait > 0:
        return throttled(max(1, math.ceil(wait * 1000)))
    if "latency" in fired:
        sleep(faults.latency.latency_s)  # outside the transaction: a stall must not hold the write lock
    if "reset" in fired:
        return SandboxResponse.dropped()
    if "throttle" in fired:
        return throttled(faults.throttle.retry_after_ms)
    if "server_error" in fired:
        return server_error(faults.server_error.status)
    if "lost_response" in fired:
        apply()
        return SandboxResponse.dropped()
    return apply()
