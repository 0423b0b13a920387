"""The sandbox control API: JSON over HTTP under ``/_sandbox/`` on every emulator port, and a small
client for it (used by ``smsops sandbox approve/reject/status``). In-process code uses the
``Sandbox`` / ``SandboxAccount`` objects directly; this is the same surface over the wire.

    GET  /_sandbox/health                                  {"ok": true, "emulators": {name: host:port}}
    GET  /_sandbox/accounts                                [{"name", "provider"}]
    POST /_sandbox/accounts                                {name, provider, access_keys: {id: secret},
                                                            signatures: [[name, status]], behaviour: {...}}
                                                           (409 if a key ID is another account's)
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
    GET  /_sandbox/accounts/A/sends                        [send] (phone numbers masked: 138****0000)
    POST /_sandbox/accounts/A/reset                        forget templates (and their tags), sends, counters

Every request carries ``Authorization: Bearer <token>`` and, unless a GET, ``Content-Type:
application/json`` (checked first, by ``reconciler.sandbox.guard``). No route returns an access key
secret or a whole phone number. Bodies are validated: a malformed one is a 400 that says what is
wrong. Errors: 400/401/403/404/409/413/415/421 with {"error": message}.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.core import EMULATORS, SandboxRequest, SandboxResponse
from reconciler.sandbox.guard import refusal
from reconciler.sandbox.store.account import Sandbox, SandboxAccount
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.store.records import RuleViolation, SendRecord, SignatureRecord, Violation
from reconciler.secrets.redact import mask_key, mask_phone


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewAccount(_Body):
    name: str
    provider: str
    access_keys: dict[str, str] = {}
    signatures: list[tuple[str, ReviewStatus]] = []
    behaviour: dict[str, Any] | None = None


class NewSignature(_Body):
    name: str
    status: ReviewStatus = ReviewStatus.APPROVED
    reason: str = ""
    scene: Literal["general", "verification"] = "general"


class Decision(_Body):
    reason: str = ""


_T = TypeVar("_T")
_NEW_ACCOUNT = TypeAdapter(NewAccount)
_NEW_SIGNATURE = TypeAdapter(NewSignature)
_DECISION = TypeAdapter(Decision)
_BEHAVIOUR = TypeAdapter(Behaviour)
_BEHAVIOUR_CHANGES: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
_FILING: TypeAdapter[dict[str, int]] = TypeAdapter(dict[str, int])
# A value of a send's provider fields that is a phone number as dialled (e.g. the number as sent).
_PHONE_SHAPED = re.compile(r"^\+?[0-9][0-9 -]{4,}$")
REJECTED_HERE = "Rejected by the sandbox control API."


class BadRequest(ValueError):
    """A control request body that is not what its route takes (answered 400)."""


def _ok(data: Any) -> SandboxResponse:
    return SandboxResponse.json(data, content_type="application/json")


def _parse(request: SandboxRequest) -> Any:
    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, or nested past the parser
        raise BadRequest(f"the body is not JSON: {str(error)[:200]}") from None


def _validated(adapter: TypeAdapter[_T], data: Any) -> _T:
    try:
        return adapter.validate_python(data)
    except ValidationError as error:
        raise BadRequest(_problems(error)) from None


def _problems(error: ValidationError) -> str:
    """``field.path: what is wrong`` per problem, without pydantic's input echo and links."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors(include_url=False)
    )


def masked_send(record: SendRecord) -> dict[str, Any]:
    """A send as the control API lists it: the number, and any provider field holding it, masked."""
    extra = {
        key: mask_phone(value) if isinstance(value, str) and _PHONE_SHAPED.match(value) else value
        for key, value in record.extra.items()
    }
    return {**record.to_json(), "phone": mask_phone(record.phone), "extra": extra}


def handle_control(sandbox: Sandbox, endpoints: Mapping[str, str], request: SandboxRequest) -> SandboxResponse:
    """One (authenticated) control request against ``sandbox``, served with ``endpoints`` (emulator
    -> host:port). Every refusal is a JSON ``{"error": ...}``: 400 bad body, 404, 409 rule."""
    parts = [unquote(p) for p in request.path.split("/") if p][1:]  # drop "_sandbox"
    try:
        return _route(sandbox, endpoints, request.method, parts, _parse(request)) or refusal(
            404, f"no control route {request.method} {request.path}"
        )
    except KeyError as error:
        return refusal(404, str(error.args[0]) if error.args else "not found")
    except RuleViolation as error:
        return refusal(404 if error.kind == "not_found" else 409, error.message)
    except ValidationError as error:  # a behaviour that does not validate once merged
        return refusal(400, _problems(error)[:500])
    except (ValueError, TypeError, RecursionError) as error:  # BadRequest, a bad name or behaviour value
        return refusal(400, str(error)[:500])


def _route(
    sandbox: Sandbox, endpoints: Mapping[str, str], method: str, parts: list[str], body: Any
) -> SandboxResponse | None:
    if parts == ["health"]:
        return _ok({"ok": True, "emulators": dict(endpoints)})
    if parts == ["accounts"] and method == "GET":
        return _ok([{"name": a.name, "provider": a.provider} for a in sandbox.accounts()])
    if parts == ["accounts"] and method == "POST":
        return _ok(_create(sandbox, _validated(_NEW_ACCOUNT, body)).snapshot())
    if len(parts) < 2 or parts[0] != "accounts":
        return None
    account = sandbox.account(parts[1])
    rest = parts[2:]
    if rest == [] and method == "GET":
        return _ok(account.snapshot())
    if rest == ["behaviour"] and method == "POST":
        return _ok(account.configure(**_validated(_BEHAVIOUR_CHANGES, body)).model_dump(mode="json"))
    if rest == ["behaviour"] and method == "PUT":
        return _ok(account.set_behaviour(_validated(_BEHAVIOUR, body)).model_dump(mode="json"))
    if rest == ["signatures"] and method == "POST":
        new = _validated(_NEW_SIGNATURE, body)
        return _ok(account.put_signature(new.name, new.status, reason=new.reason, scene=new.scene).to_json())
    if len(rest) == 3 and rest[0] == "signatures" and method == "POST":
        return _ok(_signature_action(account, rest[1], rest[2], body).to_json())
    if len(rest) == 3 and rest[0] == "templates" and rest[2] == "approve" and method == "POST":
        _validated(_DECISION, body)
        return _ok(account.approve(rest[1]).to_json())
    if len(rest) == 3 and rest[0] == "templates" and rest[2] == "reject" and method == "POST":
        return _ok(account.reject(rest[1], _validated(_DECISION, body).reason or REJECTED_HERE).to_json())
    if rest == ["counters"] and method == "GET":
        return _ok(account.counters())
    if rest == ["sends"] and method == "GET":
        return _ok([masked_send(s) for s in account.sends()])
    if rest == ["reset"] and method == "POST":
        account.reset()
        return _ok({"reset": account.name})
    return None


def _create(sandbox: Sandbox, new: NewAccount) -> SandboxAccount:
    """The account ``new`` asks for; a key ID another account holds (or this one, with another
    secret) is refused: claiming it would make the provider refuse its real holder's requests."""
    if new.provider not in EMULATORS:
        raise BadRequest(f"unknown provider {new.provider!r}; known: {', '.join(sorted(EMULATORS))}")
    claimed = sandbox.claimed_keys(new.name, new.access_keys)
    if claimed:
        message = f"access key ID {mask_key(claimed[0])} belongs to another account"
        raise RuleViolation(Violation.ALREADY_EXISTS, message)
    behaviour = Behaviour().merged(new.behaviour) if new.behaviour else None
    return sandbox.create_account(
        new.name,
        provider=new.provider,
        access_keys=new.access_keys,
        signatures=new.signatures,
        behaviour=behaviour,
    )


def _signature_action(account: SandboxAccount, name: str, action: str, body: Any) -> SignatureRecord:
    if action == "approve":
        _validated(_DECISION, body)
        return account.approve_signature(name)
    if action == "reject":
        return account.reject_signature(name, _validated(_DECISION, body).reason or REJECTED_HERE)
    if action == "filing":
        return account.set_signature_extra(name, filing=_validated(_FILING, body))
    raise KeyError(f"no signature action {action!r}: approve, reject or filing")


class ControlError(Exception):
    """A control request that failed; ``status`` is the HTTP status (0: the server was not reached)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


# Never through a proxy: the token and the account data stay on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlClient:
    """Talks to a running sandbox's control API, e.g. ``ControlClient("http://127.0.0.1:8701",
    token=...)``: the token is the one ``smsops sandbox serve`` prints (``guard.read_token``)."""

    def __init__(self, base_url: str, *, token: str | None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            f"{self.base_url}/_sandbox/{path.lstrip('/')}", data=data, method=method, headers=headers
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            raise ControlError(f"{method} {path}: HTTP {error.code}: {_detail(error)}", error.code) from None
        except (urllib.error.URLError, OSError) as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            raise ControlError(f"cannot reach the sandbox at {self.base_url}: {reason}") from None
        except ValueError:
            raise ControlError(f"{method} {path}: the answer from {self.base_url} is not JSON") from None

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


def _detail(error: urllib.error.HTTPError) -> str:
    """The ``error`` of a control API refusal, or the HTTP reason if the answer is not one."""
    try:
        detail = json.loads(error.read() or b"{}").get("error")
    except (ValueError, AttributeError, OSError):
        detail = None
    return str(detail or error.reason)
