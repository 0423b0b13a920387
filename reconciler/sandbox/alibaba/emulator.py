"""Emulator of Alibaba Cloud SMS (dysmsapi 2017-05-25): templates, signatures, sends, tags, and
the old sign and template writes (answered ``isv.INTERFACE_OFFLINE``, as the service now does).

Wire format, signing and field names follow providers.md §1 and the SDK response models, so the
official SDK cannot tell this from the real service. Business errors are HTTP 200 bodies
``{"Code": "isv.…", "Message", "RequestId"}`` (the SDK returns them as normal responses); gateway
errors (signature, key, throttling, 5xx) are non-200 and raise in the SDK.

Codes used where the public docs name none (chosen, stable, not verified against the real service):
``isv.SMS_TEMPLATE_STATE_ILLEGAL`` (update of an approved or pending template, delete while under
review), ``isv.INVALID_PARAMETERS`` (malformed or missing fields), ``isv.DAY_LIMIT_CONTROL`` (daily
template-creation quota), ``isv.BUSINESS_LIMIT_CONTROL`` also for the 30 s creation spacing,
``isv.SIGN_NAME_ILLEGAL`` (a sign name against the rules, or taken) and ``isv.SIGN_STATE_ILLEGAL``
(update of a sign not rejected, delete while under review). Only rejected (or cancelled) templates
and rejected signs can be updated, as providers.md §1.4 states. Requests over an operation's
documented QPS get the gateway's ``Throttling.User``. V2 signatures are read from the query or a
POST form body; a wrong signature is answered with the server's string to sign after a colon.
Delivery: ErrCode ``DELIVERED`` when delivered, ``MN:0001`` for the designated failing numbers.
"""

from __future__ import annotations

from typing import Any, ClassVar

from reconciler.sandbox.alibaba.biz import Biz, violation
from reconciler.sandbox.alibaba.messaging import MessagingOps
from reconciler.sandbox.alibaba.signs import SignOps
from reconciler.sandbox.alibaba.templates import TemplateOps
from reconciler.sandbox.alibaba.wire import (
    Authenticator,
    GatewayError,
    gateway_response,
    request_id,
    server_error,
    throttled,
)
from reconciler.sandbox.core import SandboxRequest, SandboxResponse, perform
from reconciler.sandbox.store.account import DemoAccount, Sandbox, SandboxAccount
from reconciler.sandbox.store.records import RuleViolation

__all__ = ["TAGS_SQL", "AlibabaEmulator", "Biz"]

TAGS_SQL = """
CREATE TABLE IF NOT EXISTS alibaba_tags (
  resource_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (resource_id, key));
"""


# Documented QPS per account (providers.md §1.4); overridable per account through ``api_rates``.
DEFAULT_RATES: dict[str, float] = {
    "SendSms": 5000,
    "QuerySendDetails": 5000,
    "QuerySmsTemplate": 5000,
    "UpdateSmsTemplate": 1000,
    "DeleteSmsTemplate": 1000,
    "GetSmsTemplate": 1000,
    "CreateSmsTemplate": 500,
    "CreateSmsSign": 500,
    "GetSmsSign": 150,
    "UpdateSmsSign": 100,
    "QuerySmsTemplateList": 10,
    "AddSmsSign": 1,
}


# Successful answers whose response model has no Message field (the tag operations').
NO_MESSAGE = frozenset({"TagResources", "UntagResources", "ListTagResources"})


# The operations live in their mixins, one module per group; ``handle`` finds them by name.
class AlibabaEmulator(TemplateOps, SignOps, MessagingOps):
    name: ClassVar[str] = "alibaba"
    schema_sql: ClassVar[str] = TAGS_SQL
    demo: ClassVar[DemoAccount] = DemoAccount(
        name="demo-alibaba",
        access_key_id="LTAI5tSandboxDemoKey0001",
        access_key_secret="sandbox-demo-secret-not-real",
        signatures=(("OnePro", "approved"),),
    )

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._accounts: dict[str, SandboxAccount] = {}
        self.auth = Authenticator(self._secret)

    def _secret(self, key_id: str) -> str | None:
        found = self.sandbox.find_access_key(key_id, self.name)
        if found is None:
            return None
        self._accounts[key_id] = found[0]
        return found[1]

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        rid = request_id()
        try:
            if request.method not in ("POST", "GET") or request.path != "/":
                raise GatewayError(
                    404, "InvalidApi.NotFound", "Specified api is not found, please check your url and method."
                )
            key_id, action, params = self.auth.verify(request)
            operation = getattr(self, f"op_{action}", None)
            if operation is None:
                raise GatewayError(
                    404, "InvalidApi.NotFound", "Specified api is not found, please check your url and method."
                )
        except GatewayError as error:
            return gateway_response(error, rid)
        account = self._accounts[key_id]

        def apply() -> SandboxResponse:
            try:
                body: dict[str, Any] = {"Code": "OK", "Message": "OK", **operation(account, params)}
                if action in NO_MESSAGE:
                    del body["Message"]
            except Biz as error:
                body = {"Code": error.code, "Message": error.message}
            except RuleViolation as error:
                biz = violation(error)
                body = {"Code": biz.code, "Message": biz.message}
            return SandboxResponse.json({**body, "RequestId": rid})

        return perform(
            account,
            action,
            apply,
            throttled=lambda ms: throttled(rid, ms),
            server_error=lambda status: server_error(rid, status),
            rate_limit={**DEFAULT_RATES, **account.behaviour.api_rates}.get(action, 0.0),  # Throttling.User over it
        )
