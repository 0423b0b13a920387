"""The Alibaba emulator's sending and tag operations."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from reconciler.providers.base import DeliveryState, ReviewStatus, TemplateKind
from reconciler.sandbox.alibaba.biz import (
    VARIABLE,
    Biz,
    existing_template,
    paging,
    required,
    sequence,
)
from reconciler.sandbox.alibaba.wire import BEIJING, beijing
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.sandbox.store.records import TemplateRecord

_MAINLAND = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
_INTERNATIONAL = re.compile(r"^\+?(\d{8,15})$")
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)


def _member_id(biz_id: str, index: int) -> Callable[[int], str]:
    """Every number of one SendSms shares its BizId; rows after the first get a suffix to stay unique."""
    return lambda _n: biz_id if index == 0 else f"{biz_id}#{index}"


BATCH_MAX = 100


def _json_list(p: dict[str, str], name: str) -> list[Any]:
    try:
        value = json.loads(required(p, name))
    except json.JSONDecodeError:
        raise Biz("isv.INVALID_JSON_PARAM", f"{name} is not valid JSON.") from None
    if not isinstance(value, list) or not value:
        raise Biz("isv.INVALID_JSON_PARAM", f"{name} must be a non-empty JSON array.")
    return value


class MessagingOps:
    """``op_<Action>`` methods of ``AlibabaEmulator`` for sending and tags."""

    # -- sending -------------------------------------------------------------------------------
    def op_SendSms(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        numbers = [n.strip() for n in required(p, "PhoneNumbers").split(",") if n.strip()]
        if len(numbers) > 1000:
            raise Biz("isv.MOBILE_COUNT_OVER_LIMIT", "At most 1000 numbers per request.")
        sign = required(p, "SignName")
        raw = p.get("TemplateParam", "")
        return self._deliver(account, required(p, "TemplateCode"), [(n, sign, raw) for n in numbers], p)

    def op_SendBatchSms(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        """Index-aligned JSON arrays: numbers, signs and (when the template has variables) parameters."""
        numbers, signs = _json_list(p, "PhoneNumberJson"), _json_list(p, "SignNameJson")
        params = _json_list(p, "TemplateParamJson") if p.get("TemplateParamJson") else [{}] * len(numbers)
        if len(numbers) > BATCH_MAX:
            raise Biz("isv.MOBILE_COUNT_OVER_LIMIT", f"At most {BATCH_MAX} numbers per batch.")
        if not (len(numbers) == len(signs) == len(params)):
            raise Biz("isv.INVALID_PARAMETERS", "PhoneNumberJson, SignNameJson and TemplateParamJson differ in length.")
        items = [(str(n), str(s), json.dumps(v)) for n, s, v in zip(numbers, signs, params, strict=True)]
        return self._deliver(account, required(p, "TemplateCode"), items, p)

    def _deliver(
        self, account: SandboxAccount, code: str, items: list[tuple[str, str, str]], p: dict[str, str]
    ) -> dict[str, Any]:
        """Check every (number, sign, TemplateParam) against the template, then record each send
        under one BizId; nothing is sent when one item is refused."""
        template = account.template(code)
        if template is None or template.status is not ReviewStatus.APPROVED:
            raise Biz("isv.SMS_TEMPLATE_ILLEGAL", "The template does not exist or is not approved.")
        checked = []
        for number, sign_name, raw in items:
            sign = account.signature(sign_name)
            if sign is None or sign.status is not ReviewStatus.APPROVED:
                raise Biz("isv.SMS_SIGNATURE_ILLEGAL", "The signature does not exist or is not approved.")
            if sign.scene == "verification" and template.kind is not TemplateKind.VERIFICATION:
                raise Biz(
                    "isv.SMS_SIGNATURE_SCENE_ILLEGAL", "A verification signature sends verification templates only."
                )
            mainland, intl = _MAINLAND.match(number), _INTERNATIONAL.match(number)
            if (template.international and intl is None) or (not template.international and mainland is None):
                raise Biz("isv.MOBILE_NUMBER_ILLEGAL", "Invalid mobile number.")
            stored = mainland.group(1) if mainland and not template.international else number.lstrip("+")
            checked.append((number, stored, sign.name, self._render(template, raw)))
        n = sequence(account, "alibaba:biz")
        biz_id = f"{n:06d}{int(account.now() * 1000) % 10**12:012d}^0"
        for i, (number, stored, sign_name, content) in enumerate(checked):
            scope = sign_name if template.kind is TemplateKind.VERIFICATION else f"{sign_name}|{template.code}"
            account.record_send(
                phone=stored,
                template_code=template.code,
                sign_name=sign_name,
                content=f"【{sign_name}】{content}",
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
        missing = [v for v in VARIABLE.findall(template.content) if v not in values]
        if missing:
            raise Biz("isv.TEMPLATE_MISSING_PARAMETERS", f"TemplateParam lacks: {', '.join(missing)}.")
        for value in values.values():
            if len(str(value)) > 35:
                raise Biz("isv.PARAM_LENGTH_LIMIT", "A variable value is longer than 35 characters.")
            if _URL.search(str(value)):
                raise Biz("isv.PARAM_NOT_SUPPORT_URL", "Variable values must not contain links.")
        return VARIABLE.sub(lambda m: str(values[m.group(1)]), template.content)

    def op_QuerySendDetails(self, account: SandboxAccount, p: dict[str, str]) -> dict[str, Any]:
        phone = required(p, "PhoneNumber")
        page, size = paging(p, "CurrentPage")
        try:
            day = datetime.strptime(required(p, "SendDate"), "%Y%m%d").replace(tzinfo=BEIJING).timestamp()
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
        required(p, "RegionId")
        ids, tags = self._tag_request(account, p)
        for code in ids:
            existing_template(account, code)
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
