"""The Tencent Cloud SMS 2021-01-11 emulator: API 3.0 wire format, TC3 signature, common errors.

Every answer that carries a ``Response`` is HTTP 200 with ``Content-Type: application/json`` exactly:
the SDK only looks for ``Response.Error`` under that content type (with ``; charset=utf-8`` it
silently returns an empty model). Injected 5xx answers are non-200, which the SDK reports as
``ServerNetworkError``. The actions themselves live in ``tencent_ops``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.core import SandboxRequest, SandboxResponse, perform
from reconciler.sandbox.store.account import DemoAccount, Sandbox, SandboxAccount
from reconciler.sandbox.tencent import ops, signs, tc3
from reconciler.sandbox.tencent import send as sending
from reconciler.sandbox.tencent.ops import APP_ID_META, TencentError

VERSION = "2021-01-11"
SERVICE = "sms"
REGIONS = ("ap-guangzhou", "ap-beijing", "ap-nanjing")
CONTENT_TYPE = "application/json"
# Documented API rates, requests per second per account (providers.md §2.3); overridable per account
# through the behaviour's ``api_rates``.
DEFAULT_RATES: dict[str, float] = {
    "AddSmsTemplate": 2,
    "DeleteSmsTemplate": 1,
    "ModifySmsTemplate": 20,
    "DescribeSmsTemplateList": 20,
    "DescribeSmsSignList": 20,
    "AddSmsSign": 1,
    "ModifySmsSign": 1,
    "DeleteSmsSign": 1,
    "PullSmsSendStatus": 100,
    "PullSmsSendStatusByPhoneNumber": 20,
}
# Tencent's default per-number frequency limits (same template: 1 per 30 s, 10 per day).
NUMBER_LIMITS: dict[str, list[dict[str, float]]] = {
    kind: [{"window_s": 30, "max": 1}, {"window_s": 86400, "max": 10}]
    for kind in ("verification", "notification", "marketing")
}


OPERATIONS: dict[str, Callable[[SandboxAccount, dict[str, Any]], dict[str, Any]]] = {
    "AddSmsTemplate": ops.add_template,
    "ModifySmsTemplate": ops.modify_template,
    "DeleteSmsTemplate": ops.delete_template,
    "DescribeSmsTemplateList": ops.describe_templates,
    "AddSmsSign": signs.add_sign,
    "ModifySmsSign": signs.modify_sign,
    "DeleteSmsSign": signs.delete_sign,
    "DescribeSmsSignList": signs.describe_signs,
    "SendSms": sending.send_sms,
    "PullSmsSendStatus": sending.pull_status,
    "PullSmsSendStatusByPhoneNumber": sending.pull_status_by_phone,
}


def _reply(data: dict[str, Any], request_id: str, status: int = 200) -> SandboxResponse:
    return SandboxResponse.json({"Response": {**data, "RequestId": request_id}}, status, content_type=CONTENT_TYPE)


def error_response(code: str, message: str, request_id: str, status: int = 200) -> SandboxResponse:
    return _reply({"Error": {"Code": code, "Message": message}}, request_id, status)


class TencentEmulator:
    name: ClassVar[str] = "tencent"
    schema_sql: ClassVar[str] = (
        "CREATE TABLE IF NOT EXISTS tencent_calls (op TEXT NOT NULL, at REAL NOT NULL);"
        "CREATE INDEX IF NOT EXISTS tencent_calls_by_op ON tencent_calls (op, at);"
        # The reports PullSmsSendStatus has handed out (its queue gives each one once).
        "CREATE TABLE IF NOT EXISTS tencent_pulled (message_id TEXT PRIMARY KEY);"
    )
    demo: ClassVar[DemoAccount] = DemoAccount(
        name="tencent-demo",
        access_key_id="AKIDsandboxTencentDemo0000000000000",
        access_key_secret="sandbox-tencent-demo-secret-key",
        signatures=(("OnePro", "approved"),),
        extra={"SmsSdkAppId": "1400000000"},
    )

    def __init__(self, sandbox: Sandbox, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sandbox = sandbox
        self.sleep = sleep  # injected latency faults stall through this (tests pass a no-op)
        # Signature freshness is judged against the wall clock, as the SDK signs with it; the sandbox
        # clock (review, delivery, limits) may be a ManualClock far from it. Tests skew this one.
        self.wall_clock: Callable[[], float] = time.time

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        request_id = str(uuid.uuid4())
        try:
            account, action, params = self._admit(request)
        except TencentError as error:
            return error_response(error.code, error.message, request_id)

        def apply() -> SandboxResponse:
            try:
                self._check_rate(account, action)
                return _reply(OPERATIONS[action](account, params), request_id)
            except TencentError as error:
                return error_response(error.code, error.message, request_id)

        return perform(
            account,
            action,
            apply,
            sleep=self.sleep,
            throttled=lambda _ms: error_response(
                "RequestLimitExceeded", "The request frequency exceeds the limit.", request_id
            ),
            server_error=lambda status: error_response(
                "InternalError", "An internal error occurred; please retry.", request_id, status
            ),
        )

    def _admit(self, request: SandboxRequest) -> tuple[SandboxAccount, str, dict[str, Any]]:
        """Transport, signature and routing checks, in the order the API gateway applies them."""
        headers = request.headers
        if request.method != "POST" or request.path != "/":
            raise TencentError("UnsupportedProtocol", "Only POST / is supported by the sandbox.")
        if headers.get("content-type") != CONTENT_TYPE:
            raise TencentError("InvalidParameter", "Content-Type must be application/json.")
        found: dict[str, tuple[SandboxAccount, str]] = {}

        def secret_for(secret_id: str) -> str | None:
            hit = self.sandbox.find_access_key(secret_id, self.name)
            if hit is not None:
                found[secret_id] = hit
            return None if hit is None else hit[1]

        try:
            secret_id = tc3.verify(
                method=request.method,
                path=request.path,
                query=request.raw_query,
                headers=headers,
                body=request.body,
                secret_for=secret_for,
                now=self.wall_clock(),
                service=SERVICE,
            )
        except tc3.Tc3Error as error:
            raise TencentError(error.code, error.message) from None
        account = found[secret_id][0]
        action = headers.get("x-tc-action", "")
        if action not in OPERATIONS:
            raise TencentError("InvalidAction", f"The action `{action}` is not supported by the sandbox.")
        if headers.get("x-tc-version") != VERSION:
            raise TencentError("NoSuchVersion", f"Version must be {VERSION}.")
        region = headers.get("x-tc-region", "")
        if region not in REGIONS:
            raise TencentError("UnsupportedRegion", f"SMS is not offered in region `{region}`.")
        try:
            params = json.loads(request.body or b"{}")
        except ValueError:
            raise TencentError("FailedOperation.JsonParseFail", "The request body is not valid JSON.") from None
        if not isinstance(params, dict):
            raise TencentError("FailedOperation.JsonParseFail", "The request body must be a JSON object.")
        return account, action, params

    def _check_rate(self, account: SandboxAccount, action: str) -> None:
        """At most N requests of ``action`` per rolling second of the sandbox clock."""
        rate = {**DEFAULT_RATES, **account.behaviour.api_rates}.get(action, 0)
        if rate <= 0:
            return
        now = account.now()
        with account.transaction() as conn:
            conn.execute("DELETE FROM tencent_calls WHERE at <= ?", (now - 60,))
            used = conn.execute(
                "SELECT COUNT(*) FROM tencent_calls WHERE op = ? AND at > ?", (action, now - 1.0)
            ).fetchone()[0]
            if used >= rate:
                raise TencentError("RequestLimitExceeded", f"{action} is limited to {rate:g} requests per second.")
            conn.execute("INSERT INTO tencent_calls VALUES (?, ?)", (action, now))


def create_account(
    sandbox: Sandbox,
    name: str,
    *,
    secret_id: str,
    secret_key: str,
    sdk_app_id: str = "1400000000",
    signatures: tuple[tuple[str, str], ...] = (("OnePro", ReviewStatus.APPROVED.value),),
) -> SandboxAccount:
    """A Tencent account with one SmsSdkAppId and Tencent's default per-number limits."""
    sandbox.add_schema(TencentEmulator.schema_sql)
    account = sandbox.ensure_demo(
        TencentEmulator.name,
        DemoAccount(
            name=name,
            access_key_id=secret_id,
            access_key_secret=secret_key,
            signatures=signatures,
            extra={APP_ID_META.removeprefix("demo:"): sdk_app_id},
        ),
    )
    account.configure(number_limits=NUMBER_LIMITS)
    return account
