"""The sandbox control API: JSON over HTTP under ``/_sandbox/`` on every emulator port, and a small
client for it (used by ``smsops sandbox approve/reject/status``). In-process code uses the
``Sandbox`` / ``SandboxAccount`` objects directly; this is the same surface over the wire.

    GET  /_sandbox/health                                  {"ok": true, "emulators": {name: host:port}}
    GET  /_sandbox/accounts                                [{"name", "provider"}]
    POST /_sandbox/accounts                                {name, provider, access_keys: {id: secret},
                                                            signatures: [[name, status]], behaviour: {...}}
    GET  /_sandbox/accounts/A                              snapshot (no secrets)
    POST /_sandbox/accounts/A/behaviour                    partial behaviour, merged -> behaviour
    PUT  /_sandbox/accounts/A/behaviour                    whole behaviour, replaced -> behaviour
    POST /_sandbox/accounts/A/signatures                   {name, status, reason?, scene?}
    POST /_sandbox/accounts/A/signatures/NAME/approve      -> signature (NAME percent-encoded)
    POST /_sandbox/accounts/A/signatures/NAME/reject       {reason?} -> signature
    POST /_sandbox/accounts/A/signatures/NAME/filing       {operator: RegisterStatus} -> signature
    POST /_sandbox/accounts/A/templates/CODE/approve       -> template
    POST /_sandbox/accounts/A/templates/CODE/reject        {reason?} -> template
    GET  /_sandbox/accounts/A/counters                     {"requests": n, "op:SendSms": n, "fault:reset": n}
    GET  /_sandbox/accounts/A/sends                        [send] (phone numbers as stored: digits)
    POST /_sandbox/accounts/A/reset                        forget templates, sends, counters
Errors: 404/400 with {"error": message}.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from pydantic import ValidationError

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.core import SandboxRequest, SandboxResponse
from reconciler.sandbox.store.account import Sandbox, SandboxAccount
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.store.records import RuleViolation, SignatureRecord


def _error(status: int, message: str) -> SandboxResponse:
    return SandboxResponse.json({"error": message}, status, content_type="application/json")


def _ok(data: Any) -> SandboxResponse:
    return SandboxResponse.json(data, content_type="application/json")


def handle_control(sandbox: Sandbox, endpoints: Mapping[str, str], request: SandboxRequest) -> SandboxResponse:
    """One control request against ``sandbox``, served with ``endpoints`` (emulator -> host:port)."""
    parts = [unquote(p) for p in request.path.split("/") if p][1:]  # drop "_sandbox"
    method = request.method
    try:
        body: Any = request.json() if request.body else {}
        if parts == ["health"]:
            return _ok({"ok": True, "emulators": dict(endpoints)})
        if parts == ["accounts"] and method == "GET":
            return _ok([{"name": a.name, "provider": a.provider} for a in sandbox.accounts()])
        if parts == ["accounts"] and method == "POST":
            behaviour = Behaviour().merged(body["behaviour"]) if body.get("behaviour") else None
            account = sandbox.create_account(
                body["name"],
                provider=body["provider"],
                access_keys=body.get("access_keys", {}),
                signatures=[(s[0], s[1]) for s in body.get("signatures", [])],
                behaviour=behaviour,
            )
            return _ok(account.snapshot())
        if len(parts) < 2 or parts[0] != "accounts":
            return _error(404, f"no control route {method} {request.path}")
        account = sandbox.account(parts[1])
        rest = parts[2:]
        if rest == [] and method == "GET":
            return _ok(account.snapshot())
        if rest == ["behaviour"] and method == "POST":
            return _ok(account.configure(**body).model_dump(mode="json"))
        if rest == ["behaviour"] and method == "PUT":
            return _ok(account.set_behaviour(Behaviour.model_validate(body)).model_dump(mode="json"))
        if rest == ["signatures"] and method == "POST":
            record = account.put_signature(
                body["name"],
                ReviewStatus(body.get("status", "approved")),
                reason=body.get("reason", ""),
                scene=body.get("scene", "general"),
            )
            return _ok(record.to_json())
        if len(rest) == 3 and rest[0] == "signatures" and method == "POST":
            return _ok(_signature_action(account, rest[1], rest[2], body).to_json())
        if len(rest) == 3 and rest[0] == "templates" and rest[2] == "approve" and method == "POST":
            return _ok(account.approve(rest[1]).to_json())
        if len(rest) == 3 and rest[0] == "templates" and rest[2] == "reject" and method == "POST":
            reason = body.get("reason") or "Rejected by the sandbox control API."
            return _ok(account.reject(rest[1], reason).to_json())
        if rest == ["counters"]:
            return _ok(account.counters())
        if rest == ["sends"]:
            return _ok([s.to_json() for s in account.sends()])
        if rest == ["reset"] and method == "POST":
            account.reset()
            return _ok({"reset": account.name})
        return _error(404, f"no control route {method} {request.path}")
    except KeyError as error:
        return _error(404, str(error.args[0]) if error.args else "not found")
    except RuleViolation as error:
        return _error(404 if error.kind == "not_found" else 409, error.message)
    except (ValueError, ValidationError, TypeError) as error:
        return _error(400, str(error))


def _signature_action(account: SandboxAccount, name: str, action: str, body: Any) -> SignatureRecord:
    if action == "approve":
        return account.approve_signature(name)
    if action == "reject":
        return account.reject_signature(name, body.get("reason") or "Rejected by the sandbox control API.")
    if action == "filing":
        return account.set_signature_extra(name, filing={str(k): int(v) for k, v in body.items()})
    raise KeyError(f"no signature action {action!r}: approve, reject or filing")


class ControlError(Exception):
    pass


class ControlClient:
    """Talks to a running sandbox's control API, e.g. ``ControlClient("http://127.0.0.1:8701")``."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_sandbox/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("error", error.reason)
            raise ControlError(f"{method} {path}: HTTP {error.code}: {detail}") from None
        except urllib.error.URLError as error:
            raise ControlError(f"cannot reach the sandbox at {self.base_url}: {error.reason}") from None

    def account(self, name: str) -> Any:
        return self.call("GET", f"accounts/{name}")

    def approve(self, account: str, code: str) -> Any:
        return self.call("POST", f"accounts/{account}/templates/{code}/approve", {})

    def reject(self, account: str, code: str, reason: str = "") -> Any:
        return self.call("POST", f"accounts/{account}/templates/{code}/reject", {"reason": reason})

    def approve_signature(self, account: str, name: str) -> Any:
        return self.call("POST", f"accounts/{account}/signatures/{quote(name, safe='')}/approve", {})

    def reject_signature(self, account: str, name: str, reason: str = "") -> Any:
        return self.call("POST", f"accounts/{account}/signatures/{quote(name, safe='')}/reject", {"reason": reason})

    def configure(self, account: str, **changes: Any) -> Any:
        return self.call("POST", f"accounts/{account}/behaviour", changes)
