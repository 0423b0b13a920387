"""Emulator of Alibaba Cloud SMS (dysmsapi 2017-05-25) for the operations smsops uses.

Wire format, signing and field names follow providers.md §1 and the SDK response models, so the
official SDK cannot tell this from the real service. Business errors are HTTP 200 bodies
``{"Code": "isv.…", "Message", "RequestId"}`` (the SDK returns them as normal responses); gateway
errors (signature, key, throttling, 5xx) are non-200 and raise in the SDK.

Codes used where the public docs name none (chosen, stable, not verified against the real service):
``isv.SMS_TEMPLATE_STATE_ILLEGAL`` (update of an approved or pending template, delete while under
review), ``isv.INVALID_PARAMETERS`` (malformed or missing fields), ``isv.DAY_LIMIT_CONTROL`` (daily
template-creation quota), ``isv.BUSINESS_LIMIT_CONTROL`` also for the 30 s creation spacing. Only
rejected (or cancelled) templates can be updated, as providers.md §1.4 states.
Delivery: ErrCode ``DELIVERED`` when delivered, ``MN:0001`` for the designated failing numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from reconciler.providers.base import DeliveryState, ReviewStatus, TemplateKind
from reconciler.sandbox.alibaba_wire import (
    BEIJING,
    Authenticator,
    GatewayError,
    beijing,
    gateway_response,
    request_id,
    server_error,
    throttled,
)
from reconciler.sandbox.core import SandboxRequest, SandboxResponse, perform
from reconciler.sandbox.records import RuleViolation, TemplateRecord, Violation
from reconciler.sandbox.store import DemoAccount, Sandbox, SandboxAccount

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,34}$")
_MAINLAND = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
_INTERNATIONAL = re.compile(r"^\+?(\d{8,15})$")
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)

# Create/Update/Get TemplateType: 0 verification, 1 notification, 2 promotional, 3 international.
_OUTER = {TemplateKind.VERIFICATION: 0, TemplateKind.NOTIFICATION: 1, TemplateKind.MARKETING: 2}
# IntlType, GetSmsTemplateList TemplateType: 0 notification, 1 promotional, 2 verification.
_INTL = {TemplateKind.NOTIFICATION: 0, TemplateKind.MARKETING: 1, TemplateKind.VERIFICATION: 2}
_STATUS = {ReviewStatus.PENDING: 0, ReviewStatus.APPROVED: 1, ReviewStatus.REJECTED: 2, ReviewStatus.CANCELLED: 10}
_AUDIT = {
    ReviewStatus.PENDING: "AUDIT_STATE_INIT",
    ReviewStatus.APPROVED: "AUDIT_STATE_PASS",
    ReviewStatus.REJECTED: "AUDIT_STATE_NOT_PASS",
    ReviewStatus.CANCELLED: "AUDIT_SATE_CANCEL",
}

TAGS_SQL = """
CREATE TABLE IF NOT EXISTS alibaba_tags (
  resource_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (resource_id, key));
"""


class Biz(Exception):
    """A business error: HTTP 200 with a non-OK Code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def _int(params: dict[str, str], name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        if default is None:
            raise Biz("isv.INVALID_PARAMETERS", f"{name} is required.")
        return default
    try:
        return int(raw)
    except ValueError:
        raise Biz("isv.INVALID_PARAMETERS", f"{name} must be an integer.") from None


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise Biz("isv.INVALID_PARAMETERS", f"{name} is required.")
    return value


def _violation(error: RuleViolation) -> Biz:
    if error.kind is Violation.NOT_FOUND:
        return Biz("isv.SMS_TEMPLATE_ILLEGAL", "The template does not exist under this account.")
    if error.kind in (Violation.IMMUTABLE_APPROVED, Violation.STATE, Violation.UNDER_REVIEW):
        return Biz("isv.SMS_TEMPLATE_STATE_ILLEGAL", error.message)
    if error.kind is Violation.DAILY_QUOTA:
        return Biz("isv.DAY_LIMIT_CONTROL", f"Template creation limit reached: {error.message}.")
    if error.kind is Violation.SEND_QUOTA:
        return Biz("isv.DAY_LIMIT_CONTROL", f"触发日发送限额 {error.message}")
    if error.kind is Violation.NUMBER_LIMIT:
        window = float(error.details.get("window_s", 0))
        level = "分钟" if window <= 60 else "小时" if window <= 3600 else "天"
        return Biz("isv.BUSINESS_LIMIT_CONTROL", f"触发{level}级流控Permits:{error.details.get('limit')}")
    return Biz("isv.BUSINESS_LIMIT_CONTROL", error.message)  # SPACING


def _sequence(account: SandboxAccount, name: str) -> int:
    with account.transaction() as conn:
        return account.next_sequence(conn, name)


def _member_id(biz_id: str, index: int) -> Callable[[int], str]:
    """Every number of one SendSms shares its BizId; rows after the first get a suffix to stay unique."""
    return lambda _n: biz_id if index == 0 else f"{biz_id}#{index}"


class AlibabaEmulator:
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
            except Biz as error:
                body = {"Code": error.code, "Message": error.message}
            except RuleViolation as error:
                biz = _violation(error)
                body = {"Code": biz.code, "Message": biz.message}
            return SandboxResponse.json({**body, "RequestId": rid})

        return perform(
            account,
            action,
            apply,
            throttled=lambda ms: throttled(rid, ms),
            server_error=lambda status: server_error(rid, status),
            rate_limit=account.behaviour.api_rates.get(action, 0.0),  # Throttling.User over it
        )

    # -- templates -----------------------------------------------------------------------------
    def _template_fields(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        name, content = _required(p, "TemplateName"), _required(p, "TemplateContent")
        outer = _int(p, "TemplateType")
        if outer not in (0, 1, 2, 3):
            raise Biz("isv.INVALID_PARAMETERS", "TemplateType must be 0, 1, 2 or 3.")
        if outer == 3:
            kind = next((k for k, v in _INTL.items() if v == _int(p, "IntlType")), None)
            if kind is None:
                raise Biz("isv.INVALID_PARAMETERS", "IntlType must be 0, 1 or 2.")
        else:
            kind = next(k for k, v in _OUTER.items() if v == outer)
        remark = p.get("Remark", "")
        if len(name) > 30 or len(content) > 500 or len(remark) > 100:
            raise Biz("isv.PARAM_LENGTH_LIMIT", "TemplateName ≤30, TemplateContent ≤500, Remark ≤100 characters.")
        sign = p.get("RelatedSignName", "")
        if outer != 3:
            record = account.signature(_required(p, "RelatedSignName"))
            if record is None or record.status is not ReviewStatus.APPROVED:
                raise Biz("isv.SMS_SIGNATURE_ILLEGAL", "RelatedSignName is not an approved signature of this account.")
        variables = _VARIABLE.findall(content)
        if any(not _NAME.match(v) for v in variables) or len(set(variables)) != len(variables):
            raise Biz("isv.INVALID_PARAMETERS", "Variables must be ${name}, 1-35 characters, each used once.")
        rule = p.get("TemplateRule", "")
        if variables:
            try:
                parsed = json.loads(_required(p, "TemplateRule"))
            except json.JSONDecodeError:
                raise Biz("isv.INVALID_JSON_PARAM", "TemplateRule is not valid JSON.") from None
            if not isinstance(parsed, dict) or set(parsed) != set(variables):
                raise Biz("isv.INVALID_PARAMETERS", "TemplateRule must name every variable of the content.")
        extra = {"type": outer, "rule": rule, "apply_scene": p.get("ApplySceneContent", "")}
        return {
            "name": name,
            "content": content,
            "kind": kind,
            "international": outer == 3,
            "remark": remark,
            "sign_name": sign,
            "extra": extra,
        }

    def op_CreateSmsTemplate(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        fields = self._template_fields(account, p)
        fields["extra"]["order_id"] = str(_sequence(account, "alibaba:order") + 20_000_000_000)
        record = account.create_template(code_factory=lambda n: f"SMS_{470_000_000 + n}", **fields)
        return {"TemplateCode": record.code, "TemplateName": record.name, "OrderId": record.extra["order_id"]}

    def op_UpdateSmsTemplate(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        code = _required(p, "TemplateCode")
        if account.template(code) is None:
            raise Biz("isv.SMS_TEMPLATE_ILLEGAL", "The template does not exist under this account.")
        fields = self._template_fields(account, p)
        record = account.update_template(code, updatable=(ReviewStatus.REJECTED, ReviewStatus.CANCELLED), **fields)
        return {"TemplateCode": record.code, "TemplateName": record.name, "OrderId": record.extra.get("order_id")}

    def op_DeleteSmsTemplate(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        record = account.delete_template(_required(p, "TemplateCode"))
        with account.transaction() as conn:
            conn.execute("DELETE FROM alibaba_tags WHERE resource_id = ?", (record.code,))
        return {"TemplateCode": record.code}

    def _get(self, account: SandboxAccount, code: str) -> TemplateRecord:
        record = account.template(code)
        if record is None:
            raise Biz("isv.SMS_TEMPLATE_ILLEGAL", "The template does not exist under this account.")
        return record

    def op_GetSmsTemplate(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        t = self._get(account, _required(p, "TemplateCode"))
        decided = beijing(t.decided_at) if t.decided_at is not None else ""
        body: dict[str, Any] = {
            "TemplateCode": t.code,
            "TemplateName": t.name,
            "TemplateContent": t.content,
            "TemplateStatus": str(_STATUS[t.status]),
            "TemplateType": str(t.extra.get("type", _OUTER[t.kind])),
            "RelatedSignName": t.sign_name,
            "Remark": t.remark,
            "VariableAttribute": t.extra.get("rule", ""),
            "OrderId": t.extra.get("order_id", ""),
            "CreateDate": beijing(t.created_at),
            "TemplateTag": 2,
            "ApplyScene": t.extra.get("apply_scene", ""),
            "AuditInfo": {"AuditDate": decided, "RejectInfo": t.reason},
        }
        if t.international:
            body["IntlType"] = _INTL[t.kind]
        return body

    @staticmethod
    def _page(p: dict[str, str], index: str) -> tuple[int, int]:
        page, size = _int(p, index, 1), _int(p, "PageSize", 10)
        if page < 1 or not 1 <= size <= 50:
            raise Biz("isv.INVALID_PARAMETERS", f"{index} must be ≥1 and PageSize 1-50.")
        return page, size

    def op_QuerySmsTemplateList(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        page, size = self._page(p, "PageIndex")
        # Newest first, like the console; only the asked page is read.
        templates, total = account.templates_page((page - 1) * size, size, newest_first=True)
        items = []
        for t in templates:
            rejected = t.status is ReviewStatus.REJECTED
            items.append(
                {
                    "TemplateCode": t.code,
                    "TemplateName": t.name,
                    "TemplateContent": t.content,
                    "AuditStatus": _AUDIT[t.status],
                    "OuterTemplateType": t.extra.get("type", _OUTER[t.kind]),
                    "TemplateType": 6 if t.international else {0: 2, 1: 0, 2: 1}[_OUTER[t.kind]],
                    "CreateDate": beijing(t.created_at),
                    "OrderId": t.extra.get("order_id", ""),
                    "SignatureName": t.sign_name,
                    "Reason": {
                        "RejectDate": beijing(t.decided_at) if rejected and t.decided_at else "",
                        "RejectInfo": t.reason if rejected else "",
                        "RejectSubInfo": "",
                    },
                }
            )
        return {"SmsTemplateList": items, "TotalCount": total, "CurrentPage": page, "PageSize": size}

    _LIST_FILTERS = ("AuditStatus", "TemplateType", "SignName", "TemplateCode", "TemplateName", "UsableStateList")

    def op_GetSmsTemplateList(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        page, size = self._page(p, "PageIndex")
        # Newest first, like QuerySmsTemplateList. Unfiltered, only the asked page is read.
        if any(p.get(f) for f in self._LIST_FILTERS):
            matching = [t for t in reversed(account.templates()) if self._listed(t, p)]
            templates, total = matching[(page - 1) * size : page * size], len(matching)
        else:
            templates, total = account.templates_page((page - 1) * size, size, newest_first=True)
        tags = self._tags(account, [t.code for t in templates])
        items = [
            {
                "TemplateCode": t.code,
                "TemplateName": t.name,
                "TemplateContent": t.content,
                # The IntlType numbering, for international templates too: the list has no such type.
                "TemplateType": _INTL[t.kind],
                "AuditStatus": _STATUS[t.status],
                "SignName": t.sign_name,
                "GmtCreate": beijing(t.created_at),
                "UsableStateList": self._usable(t),
                "WorkOrderId": t.extra.get("order_id", ""),
                # Every resource tag (TagResources) of the template, as the SDK model parses them.
                "TemplateTag": [{"TagKey": k, "TagValue": v} for k, v in tags.get(t.code, [])],
            }
            for t in templates
        ]
        data = {"List": items, "PageNo": page, "PageSize": size, "Total": total}
        return {"Data": data, "Success": True}

    @staticmethod
    def _usable(t: TemplateRecord) -> list[str]:
        return ["AVAILABLE"] if t.status is ReviewStatus.APPROVED else ["UNAVAILABLE"]

    def _listed(self, t: TemplateRecord, p: dict[str, str]) -> bool:
        if p.get("UsableStateList") and not set(json.loads(p["UsableStateList"])) & set(self._usable(t)):
            return False
        return not (
            (p.get("AuditStatus") and int(p["AuditStatus"]) != _STATUS[t.status])
            or (p.get("TemplateType") and int(p["TemplateType"]) != _INTL[t.kind])
            or (p.get("SignName") and p["SignName"] != t.sign_name)
            or (p.get("TemplateCode") and p["TemplateCode"] != t.code)
            or (p.get("TemplateName") and p["TemplateName"] not in t.name)
        )

    # -- signatures ----------------------------------------------------------------------------
    def op_GetSmsSign(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        sign = account.signature(_required(p, "SignName"))
        if sign is None:
            raise Biz("isv.SMS_SIGNATURE_ILLEGAL", "The signature does not exist under this account.")
        approved = sign.status is ReviewStatus.APPROVED
        return {
            "SignName": sign.name,
            "SignStatus": _STATUS[sign.status],
            "CreateDate": beijing(sign.created_at),
            "OrderId": "",
            "SignUsage": "验证码" if sign.scene == "verification" else "通用",
            "ThirdParty": False,
            "AuditInfo": {
                "AuditDate": beijing(sign.created_at) if sign.status is not ReviewStatus.PENDING else "",
                "RejectInfo": sign.reason,
            },
            "SignIspRegisterDetailList": [
                {"OperatorCode": op, "RegisterStatus": 3 if approved else -1} for op in ("CMCC", "CUCC", "CTCC")
            ],
        }

    def op_QuerySmsSignList(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        page, size = self._page(p, "PageIndex")
        signs = account.signatures()
        items = [
            {
                "SignName": s.name,
                "AuditStatus": _AUDIT[s.status].replace("AUDIT_SATE", "AUDIT_STATE"),
                "BusinessType": "验证码" if s.scene == "verification" else "普通",
                "CreateDate": beijing(s.created_at),
                "OrderId": "",
                "Reason": {"RejectDate": "", "RejectInfo": s.reason, "RejectSubInfo": ""},
            }
            for s in signs[(page - 1) * size : page * size]
        ]
        return {"SmsSignList": items, "TotalCount": len(signs), "CurrentPage": page, "PageSize": size}

    # -- sending -------------------------------------------------------------------------------
    def op_SendSms(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        numbers = [n.strip() for n in _required(p, "PhoneNumbers").split(",") if n.strip()]
        if len(numbers) > 1000:
            raise Biz("isv.MOBILE_COUNT_OVER_LIMIT", "At most 1000 numbers per request.")
        sign = account.signature(_required(p, "SignName"))
        if sign is None or sign.status is not ReviewStatus.APPROVED:
            raise Biz("isv.SMS_SIGNATURE_ILLEGAL", "The signature does not exist or is not approved.")
        template = account.template(_required(p, "TemplateCode"))
        if template is None or template.status is not ReviewStatus.APPROVED:
            raise Biz("isv.SMS_TEMPLATE_ILLEGAL", "The template does not exist or is not approved.")
        if sign.scene == "verification" and template.kind is not TemplateKind.VERIFICATION:
            raise Biz("isv.SMS_SIGNATURE_SCENE_ILLEGAL", "A verification signature sends verification templates only.")
        content = self._render(template, p.get("TemplateParam", ""))
        normalised = []
        for number in numbers:
            mainland, intl = _MAINLAND.match(number), _INTERNATIONAL.match(number)
            if (template.international and intl is None) or (not template.international and mainland is None):
                raise Biz("isv.MOBILE_NUMBER_ILLEGAL", "Invalid mobile number.")
            normalised.append(mainland.group(1) if mainland and not template.international else number.lstrip("+"))
        n = _sequence(account, "alibaba:biz")
        biz_id = f"{n:06d}{int(account.now() * 1000) % 10**12:012d}^0"
        scope = sign.name if template.kind is TemplateKind.VERIFICATION else f"{sign.name}|{template.code}"
        for i, number in enumerate(normalised):
            account.record_send(
                phone=number,
                template_code=template.code,
                sign_name=sign.name,
                content=f"【{sign.name}】{content}",
                kind=template.kind,
                limit_scope=scope,
                message_id_factory=_member_id(biz_id, i),
                extra={"biz_id": biz_id, "out_id": p.get("OutId", ""), "wire_number": number},
            )
        return {"BizId": biz_id}

    @staticmethod
    def _render(template: TemplateRecord, raw: str) -> str:
        try:
            values = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            raise Biz("isv.INVALID_JSON_PARAM", "TemplateParam is not valid JSON.") from None
        if not isinstance(values, dict):
            raise Biz("isv.INVALID_JSON_PARAM", "TemplateParam must be a JSON object.")
        missing = [v for v in _VARIABLE.findall(template.content) if v not in values]
        if missing:
            raise Biz("isv.TEMPLATE_MISSING_PARAMETERS", f"TemplateParam lacks: {', '.join(missing)}.")
        for value in values.values():
            if len(str(value)) > 35:
                raise Biz("isv.PARAM_LENGTH_LIMIT", "A variable value is longer than 35 characters.")
            if _URL.search(str(value)):
                raise Biz("isv.PARAM_NOT_SUPPORT_URL", "Variable values must not contain links.")
        return _VARIABLE.sub(lambda m: str(values[m.group(1)]), template.content)

    def op_QuerySendDetails(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        phone = _required(p, "PhoneNumber")
        page, size = self._page(p, "CurrentPage")
        try:
            day = datetime.strptime(_required(p, "SendDate"), "%Y%m%d").replace(tzinfo=BEIJING).timestamp()
        except ValueError:
            raise Biz("isv.INVALID_PARAMETERS", "SendDate must be yyyyMMdd.") from None
        if day < account.now() - 31 * 86400:
            raise Biz("isv.INVALID_PARAMETERS", "SendDate must be within the last 30 days.")
        match = _MAINLAND.match(phone)
        sends = account.sends(phone=match.group(1) if match else phone, since=day, until=day + 86400)
        if p.get("BizId"):
            sends = [s for s in sends if s.extra.get("biz_id") == p["BizId"]]
        status = {DeliveryState.WAITING: 1, DeliveryState.FAILED: 2, DeliveryState.DELIVERED: 3}
        codes = {DeliveryState.WAITING: "", DeliveryState.FAILED: "MN:0001", DeliveryState.DELIVERED: "DELIVERED"}
        details = [
            {
                "PhoneNum": s.extra.get("wire_number", s.phone),
                "SendStatus": status[s.state],
                "ErrCode": codes[s.state],
                "TemplateCode": s.template_code,
                "Content": s.content,
                "SendDate": beijing(s.sent_at),
                "ReceiveDate": beijing(s.reported_at) if s.reported_at is not None else "",
                "OutId": s.extra.get("out_id", ""),
            }
            for s in sends[(page - 1) * size : page * size]
        ]
        return {"TotalCount": str(len(sends)), "SmsSendDetailDTOs": {"SmsSendDetailDTO": details}}

    # -- tags ----------------------------------------------------------------------------------
    @staticmethod
    def _tags(account: SandboxAccount, codes: list[str]) -> dict[str, list[tuple[str, str]]]:
        tags: dict[str, list[tuple[str, str]]] = {}
        if not codes:
            return tags
        with account.read() as conn:
            rows = conn.execute(
                f"SELECT * FROM alibaba_tags WHERE resource_id IN ({','.join('?' * len(codes))})"
                " ORDER BY resource_id, key",
                codes,
            )
            for row in rows:
                tags.setdefault(row["resource_id"], []).append((row["key"], row["value"]))
        return tags

    @staticmethod
    def _indexed(p: dict[str, str], prefix: str) -> list[str]:
        return [
            p[k]
            for k in sorted(
                (k for k in p if re.fullmatch(rf"{prefix}\.\d+", k)), key=lambda k: int(k.rsplit(".", 1)[1])
            )
        ]

    def _tag_request(self, account: SandboxAccount, p: dict[str, str]) -> tuple[list[str], list[tuple[str, str]]]:
        if p.get("ResourceType", "").upper() != "TEMPLATE":
            raise Biz("isv.INVALID_PARAMETERS", "ResourceType must be TEMPLATE.")
        ids = self._indexed(p, "ResourceId")
        keys = [(p[f"Tag.{i}.Key"], p.get(f"Tag.{i}.Value", "")) for i in range(1, 21) if f"Tag.{i}.Key" in p]
        if len(ids) > 20 or len(keys) > 20:
            raise Biz("isv.INVALID_PARAMETERS", "At most 20 resources and 20 tags.")
        return ids, keys

    def op_TagResources(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        _required(p, "RegionId")
        ids, tags = self._tag_request(account, p)
        for code in ids:
            self._get(account, code)
        with account.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO alibaba_tags VALUES (?,?,?)", [(code, k, v) for code in ids for k, v in tags]
            )
        return {"Data": "true"}

    def op_UntagResources(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        ids, _ = self._tag_request(account, p)
        keys = self._indexed(p, "TagKey")
        with account.transaction() as conn:
            for code in ids:
                if keys:
                    conn.executemany(
                        "DELETE FROM alibaba_tags WHERE resource_id=? AND key=?", [(code, k) for k in keys]
                    )
                else:
                    conn.execute("DELETE FROM alibaba_tags WHERE resource_id=?", (code,))
        return {"Data": "true"}

    def op_ListTagResources(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        ids, wanted = self._tag_request(account, p)
        # Paged like the real API: PageSize (default and maximum 50) and an opaque NextToken.
        size = min(max(int(p.get("PageSize") or 50), 1), 50)
        start = int(p["NextToken"]) if p.get("NextToken", "").isdigit() else 0
        # The filter in SQL, one page read per request: a tag with an empty value matches any value.
        clauses, args = [], []
        if ids:
            clauses.append(f"resource_id IN ({','.join('?' * len(ids))})")
            args.extend(ids)
        if wanted:
            clauses.append("(" + " OR ".join("(key = ? AND (? = '' OR value = ?))" for _ in wanted) + ")")
            for key, value in wanted:
                args.extend((key, value, value))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with account.read() as conn:
            rows = conn.execute(
                f"SELECT resource_id, key, value FROM alibaba_tags {where}"
                " ORDER BY resource_id, key, value LIMIT ? OFFSET ?",
                (*args, size + 1, start),
            ).fetchall()
        page, more = rows[:size], len(rows) > size
        return {
            "TagResources": {
                "TagResource": [
                    {"ResourceId": c, "ResourceType": "ALIYUN::DYSMS::TEMPLATE", "TagKey": k, "TagValue": v}
                    for c, k, v in page
                ]
            },
            "NextToken": str(start + size) if more else "",
        }
