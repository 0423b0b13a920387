"""The Alibaba emulator's signature operations: CreateSmsSign / UpdateSmsSign (a qualification is
required; only a rejected sign can be updated), DeleteSmsSign (not while under review), the reads
QuerySmsSign, GetSmsSign (with carrier filing) and QuerySmsSignList, and the offline old writes.

Sign rules from the SDK's own comments: the name is 2-12 characters without brackets, spaces,
commas, periods or the word "test"; SignSource 0 (organisation), 2 (app, needs AppIcpRecordId) or 5
(trademark, needs TrademarkId); SignType 0 (verification code) or 1 (general, the default). A
third-party sign without an authorization letter is accepted and then rejected in review, as the
SDK comment says ("Otherwise, the signature review will not pass").
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.alibaba.biz import AUDIT, STATUS, Biz, int_param, paging, required, sequence
from reconciler.sandbox.alibaba.wire import beijing
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.sandbox.store.records import RuleViolation, SignatureRecord, Violation

_FORBIDDEN = re.compile(r"[【】()（）\[\]\s,，.。]|test", re.IGNORECASE)
SOURCES = (0, 2, 5)
OPERATORS = ("mobile", "unicom", "telecom")
REASON_NO_AUTHORIZATION = "A third-party signature needs an authorization letter (AuthorizationLetterId)."
# The old sign and template writes the service has taken offline (providers.md §1.2).
OFFLINE = ("AddSmsSign", "ModifySmsSign", "AddSmsTemplate", "ModifySmsTemplate")


def sign_scene(sign_type: int) -> str:
    return "verification" if sign_type == 0 else "general"


def _missing_sign() -> Biz:
    return Biz("isv.SMS_SIGNATURE_ILLEGAL", "The signature does not exist under this account.")


def _sign_violation(error: RuleViolation) -> Biz:
    if error.kind is Violation.NOT_FOUND:
        return _missing_sign()
    if error.kind is Violation.ALREADY_EXISTS:
        return Biz("isv.SIGN_NAME_ILLEGAL", f"{error.message}: apply for another name or update the rejected one.")
    return Biz("isv.SIGN_STATE_ILLEGAL", error.message)


def filing(sign: SignatureRecord) -> list[dict[str, Any]]:
    """SignIspRegisterDetailList: per operator 3 (filed) once approved, -2 (not filed) before;
    a status set through the control API (``extra["filing"]``) wins."""
    chosen = sign.extra.get("filing") or {}
    default = 3 if sign.status is ReviewStatus.APPROVED else -2
    rows = []
    for operator in OPERATORS:
        status = int(chosen.get(operator, default))
        row: dict[str, Any] = {"OperatorCode": operator, "RegisterStatus": status}
        if status in (0, 1, 3) and sign.decided_at is not None:
            row["OperatorCompleteTime"] = beijing(sign.decided_at)
        rows.append(row)
    return rows


def sign_name_error(name: str) -> Biz | None:
    """Why CreateSmsSign refuses SignName ``name``; None when it does not."""
    if not 2 <= len(name) <= 12 or _FORBIDDEN.search(name):
        return Biz(
            "isv.SIGN_NAME_ILLEGAL",
            "SignName must be 2-12 characters without brackets, spaces, commas, periods or the word test.",
        )
    return None


class SignOps:
    """``op_<Action>`` methods of ``AlibabaEmulator`` for signatures."""

    def _sign_fields(self, p: dict[str, str]) -> dict[str, Any]:
        name = required(p, "SignName")
        refused = sign_name_error(name)
        if refused is not None:
            raise refused
        source = int_param(p, "SignSource")
        if source not in SOURCES:
            raise Biz("isv.INVALID_PARAMETERS", "SignSource must be 0 (organisation), 2 (app) or 5 (trademark).")
        qualification = int_param(p, "QualificationId")
        if qualification <= 0:
            raise Biz("isv.INVALID_PARAMETERS", "QualificationId must name an approved qualification.")
        sign_type = int_param(p, "SignType", 1)
        if sign_type not in (0, 1):
            raise Biz("isv.INVALID_PARAMETERS", "SignType must be 0 (verification code) or 1 (general).")
        linked = {key: int_param(p, key, 0) for key in ("AppIcpRecordId", "TrademarkId", "AuthorizationLetterId")}
        if source == 2 and not linked["AppIcpRecordId"]:
            raise Biz("isv.INVALID_PARAMETERS", "AppIcpRecordId is required when SignSource is 2.")
        if source == 5 and not linked["TrademarkId"]:
            raise Biz("isv.INVALID_PARAMETERS", "TrademarkId is required when SignSource is 5.")
        remark = p.get("Remark", "")
        if len(remark) > 200:
            raise Biz("isv.PARAM_LENGTH_LIMIT", "Remark is at most 200 characters.")
        third_party = p.get("ThirdParty", "").lower() == "true"
        more = json.loads(p["MoreData"]) if p.get("MoreData") else []
        extra = {
            "source": source,
            "sign_type": sign_type,
            "qualification_id": qualification,
            "third_party": third_party,
            "more_data": len(more),  # how many documents, never their content
            "apply_scene": p.get("ApplySceneContent", ""),
            **{key: value for key, value in linked.items() if value},
        }
        problem = REASON_NO_AUTHORIZATION if third_party and not linked["AuthorizationLetterId"] else ""
        return {"name": name, "scene": sign_scene(sign_type), "remark": remark, "extra": extra, "problem": problem}

    def op_CreateSmsSign(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        fields = self._sign_fields(p)
        fields["extra"]["order_id"] = str(sequence(account, "alibaba:order") + 20_000_000_000)
        name = fields.pop("name")
        try:
            record = account.create_signature(name, **fields)
        except RuleViolation as error:
            raise _sign_violation(error) from None
        return {"SignName": record.name, "OrderId": record.extra["order_id"]}

    def op_UpdateSmsSign(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        fields = self._sign_fields(p)
        fields["extra"]["order_id"] = str(sequence(account, "alibaba:order") + 20_000_000_000)
        name = fields.pop("name")
        try:
            record = account.update_signature(name, updatable=(ReviewStatus.REJECTED,), **fields)
        except RuleViolation as error:
            raise _sign_violation(error) from None
        return {"SignName": record.name, "OrderId": record.extra["order_id"]}

    def op_DeleteSmsSign(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        try:
            record = account.delete_signature(required(p, "SignName"))
        except RuleViolation as error:
            raise _sign_violation(error) from None
        return {"SignName": record.name}

    def _existing_sign(self, account: SandboxAccount, p: dict[str, str]) -> SignatureRecord:
        sign = account.signature(required(p, "SignName"))
        if sign is None:
            raise _missing_sign()
        return sign

    def op_QuerySmsSign(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        sign = self._existing_sign(account, p)
        return {
            "SignName": sign.name,
            "SignStatus": STATUS[sign.status],
            "CreateDate": beijing(sign.created_at),
            "Reason": sign.reason,
        }

    def op_GetSmsSign(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        sign = self._existing_sign(account, p)
        extra = sign.extra
        body: dict[str, Any] = {
            "SignName": sign.name,
            "SignCode": f"SIGN_{zlib.crc32(sign.name.encode('utf-8')):010d}",
            "SignStatus": STATUS[sign.status],
            "CreateDate": beijing(sign.created_at),
            "OrderId": extra.get("order_id", ""),
            "SignUsage": "验证码" if sign.scene == "verification" else "通用",
            "SignTag": "2",
            "Remark": sign.remark,
            "ApplyScene": extra.get("apply_scene", ""),
            "ThirdParty": bool(extra.get("third_party", False)),
            "FileUrlList": [],
            "AuditInfo": {
                "AuditDate": beijing(sign.decided_at) if sign.decided_at is not None else "",
                "RejectInfo": sign.reason,
            },
            "SignIspRegisterDetailList": filing(sign),
        }
        for key, wire in (
            ("qualification_id", "QualificationId"),
            ("AppIcpRecordId", "AppIcpRecordId"),
            ("TrademarkId", "TrademarkId"),
            ("AuthorizationLetterId", "AuthorizationLetterId"),
        ):
            if extra.get(key):
                body[wire] = int(extra[key])
        if extra.get("AuthorizationLetterId"):
            body["AuthorizationLetterAuditPass"] = sign.status is ReviewStatus.APPROVED
        return body

    def op_QuerySmsSignList(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        page, size = paging(p, "PageIndex")
        signs = account.signatures()
        items = [
            {
                "SignName": s.name,
                "AuditStatus": AUDIT[s.status].replace("AUDIT_SATE", "AUDIT_STATE"),
                "BusinessType": "验证码" if s.scene == "verification" else "普通",
                "CreateDate": beijing(s.created_at),
                "OrderId": s.extra.get("order_id", ""),
                "Reason": {
                    "RejectDate": beijing(s.decided_at)
                    if s.status is ReviewStatus.REJECTED and s.decided_at is not None
                    else "",
                    "RejectInfo": s.reason,
                    "RejectSubInfo": "",
                },
            }
            for s in signs[(page - 1) * size : page * size]
        ]
        return {"SmsSignList": items, "TotalCount": len(signs), "CurrentPage": page, "PageSize": size}

    def _offline(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        raise Biz("isv.INTERFACE_OFFLINE", "This API is offline: use CreateSmsSign/UpdateSmsSign/CreateSmsTemplate.")

    op_AddSmsSign = op_ModifySmsSign = op_AddSmsTemplate = op_ModifySmsTemplate = _offline
