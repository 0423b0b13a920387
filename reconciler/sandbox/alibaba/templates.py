"""The Alibaba emulator's template operations (create, update, delete, get, the two list APIs)."""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.alibaba.biz import (
    AUDIT,
    INTL,
    OUTER,
    STATUS,
    VARIABLE,
    Biz,
    existing_template,
    int_param,
    paging,
    required,
    sequence,
    template_tags,
)
from reconciler.sandbox.alibaba.wire import beijing
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.sandbox.store.records import TemplateRecord

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,34}$")


def template_code(n: int) -> str:
    """The n-th TemplateCode of an account."""
    return f"SMS_{470_000_000 + n}"


class TemplateOps:
    """``op_<Action>`` methods of ``AlibabaEmulator`` for templates."""

    def _template_fields(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        name, content = required(p, "TemplateName"), required(p, "TemplateContent")
        outer = int_param(p, "TemplateType")
        if outer not in (0, 1, 2, 3):
            raise Biz("isv.INVALID_PARAMETERS", "TemplateType must be 0, 1, 2 or 3.")
        if outer == 3:
            kind = next((k for k, v in INTL.items() if v == int_param(p, "IntlType")), None)
            if kind is None:
                raise Biz("isv.INVALID_PARAMETERS", "IntlType must be 0, 1 or 2.")
        else:
            kind = next(k for k, v in OUTER.items() if v == outer)
        remark = p.get("Remark", "")
        if len(name) > 30 or len(content) > 500 or len(remark) > 100:
            raise Biz("isv.PARAM_LENGTH_LIMIT", "TemplateName ≤30, TemplateContent ≤500, Remark ≤100 characters.")
        sign = p.get("RelatedSignName", "")
        if outer != 3:
            record = account.signature(required(p, "RelatedSignName"))
            if record is None or record.status is not ReviewStatus.APPROVED:
                raise Biz("isv.SMS_SIGNATURE_ILLEGAL", "RelatedSignName is not an approved signature of this account.")
            if record.scene == "verification" and kind is not TemplateKind.VERIFICATION:
                raise Biz(
                    "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
                    "A verification-code signature serves verification templates only.",
                )
        variables = VARIABLE.findall(content)
        if any(not _NAME.match(v) for v in variables) or len(set(variables)) != len(variables):
            raise Biz("isv.INVALID_PARAMETERS", "Variables must be ${name}, 1-35 characters, each used once.")
        rule = p.get("TemplateRule", "")
        if variables:
            try:
                parsed = json.loads(required(p, "TemplateRule"))
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
        fields["extra"]["order_id"] = str(sequence(account, "alibaba:order") + 20_000_000_000)
        record = account.create_template(code_factory=template_code, **fields)
        return {"TemplateCode": record.code, "TemplateName": record.name, "OrderId": record.extra["order_id"]}

    def op_UpdateSmsTemplate(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        code = required(p, "TemplateCode")
        if account.template(code) is None:
            raise Biz("isv.SMS_TEMPLATE_ILLEGAL", "The template does not exist under this account.")
        fields = self._template_fields(account, p)
        record = account.update_template(code, updatable=(ReviewStatus.REJECTED, ReviewStatus.CANCELLED), **fields)
        return {"TemplateCode": record.code, "TemplateName": record.name, "OrderId": record.extra.get("order_id")}

    def op_DeleteSmsTemplate(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        record = account.delete_template(required(p, "TemplateCode"))
        with account.transaction() as conn:
            conn.execute("DELETE FROM alibaba_tags WHERE resource_id = ?", (record.code,))
        return {"TemplateCode": record.code}

    def op_QuerySmsTemplate(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        """The old read GetSmsTemplate replaces: status and type as integers, the reason flat."""
        t = existing_template(account, required(p, "TemplateCode"))
        return {
            "TemplateCode": t.code,
            "TemplateName": t.name,
            "TemplateContent": t.content,
            "TemplateStatus": STATUS[t.status],
            "TemplateType": int(t.extra.get("type", OUTER[t.kind])),
            "CreateDate": beijing(t.created_at),
            "Reason": t.reason,
        }

    def op_GetSmsTemplate(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        t = existing_template(account, required(p, "TemplateCode"))
        decided = beijing(t.decided_at) if t.decided_at is not None else ""
        body: dict[str, Any] = {
            "TemplateCode": t.code,
            "TemplateName": t.name,
            "TemplateContent": t.content,
            "TemplateStatus": str(STATUS[t.status]),
            "TemplateType": str(t.extra.get("type", OUTER[t.kind])),
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
            body["IntlType"] = INTL[t.kind]
        return body

    def op_QuerySmsTemplateList(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        page, size = paging(p, "PageIndex")
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
                    "AuditStatus": AUDIT[t.status],
                    "OuterTemplateType": t.extra.get("type", OUTER[t.kind]),
                    "TemplateType": 6 if t.international else {0: 2, 1: 0, 2: 1}[OUTER[t.kind]],
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
        page, size = paging(p, "PageIndex")
        # Newest first, like QuerySmsTemplateList. Unfiltered, only the asked page is read.
        if any(p.get(f) for f in self._LIST_FILTERS):
            matching = [t for t in reversed(account.templates()) if self._listed(t, p)]
            templates, total = matching[(page - 1) * size : page * size], len(matching)
        else:
            templates, total = account.templates_page((page - 1) * size, size, newest_first=True)
        tags = template_tags(account, [t.code for t in templates])
        items = [
            {
                "TemplateCode": t.code,
                "TemplateName": t.name,
                "TemplateContent": t.content,
                # The IntlType numbering, for international templates too: the list has no such type.
                "TemplateType": INTL[t.kind],
                "AuditStatus": STATUS[t.status],
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
            (p.get("AuditStatus") and int(p["AuditStatus"]) != STATUS[t.status])
            or (p.get("TemplateType") and int(p["TemplateType"]) != INTL[t.kind])
            or (p.get("SignName") and p["SignName"] != t.sign_name)
            or (p.get("TemplateCode") and p["TemplateCode"] != t.code)
            or (p.get("TemplateName") and p["TemplateName"] not in t.name)
        )
