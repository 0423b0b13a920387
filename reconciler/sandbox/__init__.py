"""Local emulators of the SMS providers' real HTTP APIs, sharing one provider-neutral core.

Public API (stable; emulators, adapters and tests code against it)
-----------------------------------------------------------------
State — ``reconciler.sandbox.store.account``
    ``Sandbox(state_dir, *, clock=None)``: the accounts under a directory, one SQLite file each
    (``<state_dir>/<account>.sqlite3``; WAL, busy_timeout, writes under BEGIN IMMEDIATE, so several
    processes can share a state dir).
      ``.create_account(name, *, provider, access_keys={id: secret}, signatures=[(name, status)],
      behaviour=None) -> SandboxAccount`` (idempotent), ``.account(name)`` (KeyError if missing),
      ``.accounts()``, ``.find_access_key(key_id, provider) -> (account, secret) | None``,
      ``.ensure_demo(provider, DemoAccount)``, ``.add_schema(sql)``.
    ``SandboxAccount``: ``.behaviour`` / ``.configure(**changes)`` / ``.set_behaviour(b)``;
      ``.access_keys()``;
      ``.put_signature(name, status=APPROVED, *, reason="", scene="general"|"verification", extra={})``
      (no review: fixtures), ``.create_signature(name, *, scene, remark, extra, problem="")`` (review
      scheduled like a template's; ``problem`` is a rejection reason the emulator found),
      ``.update_signature(name, *, new_name=None, scene, remark, extra, problem, updatable=(REJECTED,))``,
      ``.delete_signature(name, *, allow_pending=False)``, ``.approve_signature(name)``,
      ``.reject_signature(name, reason)``, ``.set_signature_extra(name, **extra)``,
      ``.signature(name)``, ``.signatures()``;
      ``.create_template(*, name, content, kind, code_factory=lambda n: ..., international=False,
      remark="", sign_name="", extra={}) -> TemplateRecord`` (daily quota + spacing; review scheduled),
      ``.update_template(code, *, name, content, kind, ..., updatable=(PENDING, REJECTED, CANCELLED))``,
      ``.delete_template(code, *, allow_pending=False)``, ``.template(code)``, ``.templates()``,
      ``.approve(code)``, ``.reject(code, reason)``;
      ``.record_send(*, phone, template_code, sign_name, content, kind, limit_scope,
      message_id_factory=lambda n: ..., extra={}) -> SendRecord`` (per-number limits, daily quota,
      delivery outcome), ``.sends(*, phone=None, message_id=None, since=None, until=None)``;
      ``.count(name)``, ``.counters()``, ``.reset()``, ``.snapshot()``;
      ``.transaction()`` (BEGIN IMMEDIATE connection, for an emulator's own tables), ``.read()``,
      ``.next_sequence(conn, name)``, ``.bump(conn, counter)``, ``.now()``.
    Records (``reconciler.sandbox.store.records``): ``TemplateRecord`` (status/reason as of now, ``extra``
    dict for provider fields), ``SendRecord`` (``state`` WAITING/DELIVERED/FAILED as of now),
    ``SignatureRecord`` (status/reason as of now, ``extra`` for provider fields); ``RuleViolation(kind:
    Violation, message, **details)`` with kinds NOT_FOUND, IMMUTABLE_APPROVED, STATE, UNDER_REVIEW,
    DAILY_QUOTA, SPACING, NUMBER_LIMIT, SEND_QUOTA, ALREADY_EXISTS, which each
    emulator maps to its provider's error code.
    Clocks: ``SystemClock()``, ``ManualClock(current).advance(seconds)`` — review and delivery are
    evaluated lazily on read against the clock, so tests never sleep.

Behaviour — ``reconciler.sandbox.store.behaviour.Behaviour`` (frozen, persisted per account)
    review_delay_s, auto_review, reject_links_in_verification, require_remark, banned_words;
    create_daily_quota (100), create_spacing_s (0 here; ``Behaviour.realistic()`` has 30);
    number_limits {kind: (NumberLimit(window_s, max), ...)} (verification 1/60s, 5/h, 10/day;
    notification and marketing 50/day), send_daily_quota; delivery_delay_s; designated numbers:
    digits ending in ``fail_suffixes`` ("0000") fail, ending in ``never_deliver_suffixes`` ("9999")
    stay waiting forever; faults: ``Faults(latency, throttle, server_error, reset, lost_response)``
    each a ``FaultSpec(rate, seed, operations=(), limit=None, latency_s, retry_after_ms, status)``.
    ``account.configure(faults={"lost_response": {"rate": 1, "operations": ["CreateSmsTemplate"],
    "limit": 1}})`` loses exactly the next CreateSmsTemplate answer after applying it.

Review engine — ``reconciler.sandbox.store.review``: ``decide(behaviour, kind=, content=, remark=) ->
    Verdict`` (rules in order: link in a verification template, missing remark, banned word);
    ``decide_signature(behaviour, name=, problem="")`` (the emulator's problem, then a banned word).

Fixtures — ``reconciler.sandbox.fixtures``: ``add_signature``, ``add_template`` (a hand-made one in a
    chosen review state), ``request_sender_id`` (AWS), ``summary(sandbox)`` (behind ``smsops sandbox
    accounts | add-signature | add-template | request-sender-id``).

Emulators — ``reconciler.sandbox.core``
    Registered in ``EMULATORS`` {name: "module:Class"}; a class has ``name`` (= the account
    ``provider`` it serves), ``schema_sql`` (its own idempotent CREATE TABLE IF NOT EXISTS, or ""),
    ``demo: DemoAccount``, ``__init__(self, sandbox: Sandbox)`` and
    ``handle(self, request: SandboxRequest) -> SandboxResponse``.
    ``SandboxRequest``: method, path, raw_query, query (decoded pairs), headers (lower-case keys),
    body; ``.params()``, ``.form()``, ``.json()``. ``SandboxResponse(status, body, headers, drop)``,
    ``SandboxResponse.json(data, status, headers, content_type)``, ``SandboxResponse.dropped()``.
    ``perform(account, operation, apply, *, throttled=lambda retry_after_ms: ...,
    server_error=lambda status: ...)`` counts the request (``op:<operation>``) and injects faults;
    every emulated operation must go through it after authentication.

Serving — ``reconciler.sandbox.server.start(sandbox, {"alibaba": 0, ...}, seed_demo=False) ->
    RunningSandbox`` (``.endpoint(name)`` "127.0.0.1:PORT", ``.url(name)``, ``.close()``); one port per
    emulator, each also serving the JSON control API under ``/_sandbox/`` (``reconciler.sandbox.control``).
    Tests: fixtures in ``reconciler.sandbox.testing``.
"""

from __future__ import annotations

from reconciler.sandbox.core import EMULATORS, SandboxRequest, SandboxResponse, load_emulator, perform
from reconciler.sandbox.store.account import DemoAccount, ManualClock, Sandbox, SandboxAccount, SystemClock
from reconciler.sandbox.store.behaviour import Behaviour, Faults, FaultSpec, NumberLimit
from reconciler.sandbox.store.records import RuleViolation, SendRecord, SignatureRecord, TemplateRecord, Violation

__all__ = [
    "EMULATORS",
    "Behaviour",
    "DemoAccount",
    "FaultSpec",
    "Faults",
    "ManualClock",
    "NumberLimit",
    "RuleViolation",
    "Sandbox",
    "SandboxAccount",
    "SandboxRequest",
    "SandboxResponse",
    "SendRecord",
    "SignatureRecord",
    "SystemClock",
    "TemplateRecord",
    "Violation",
    "load_emulator",
    "perform",
]
