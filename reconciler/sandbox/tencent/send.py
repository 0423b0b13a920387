"""Tencent SendSms and PullSmsSendStatusByPhoneNumber over the sandbox store.

Request-level refusals raise ``TencentError``; per-number failures are not exceptions but entries in
``SendStatusSet`` with the error code, as the real service reports them. Checks run in the order the
service applies them: number format, template, signature, parameters, time window, frequency limits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from reconciler.providers.base import DeliveryState, ReviewStatus, TemplateKind
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.sandbox.store.records import RuleViolation, SendRecord, TemplateRecord, Violation
from reconciler.sandbox.tencent.ops import (
    APP_ID_META,
    TencentError,
    field,
    meta,
    page,
    status_code,
    str_list,
    variable_count,
)

_VARIABLE = re.compile(r"\{(\d+)\}")
_BEIJING = timedelta(hours=8)
_MAINLAND = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ISO = {
    "1": "US",
    "44": "GB",
    "852": "HK",
    "853": "MO",
    "886": "TW",
    "65": "SG",
    "81": "JP",
    "82": "KR",
    "49": "DE",
    "33": "FR",
    "61": "AU",
    "91": "IN",
    "60": "MY",
    "66": "TH",
    "84": "VN",
    "62": "ID",
}


class Phone(NamedTuple):
    number: str  # E.164
    mainland: bool
    iso: str  # ISO country code, "DEF" when unknown
    country_code: str  # calling code without "+"


def parse_phone(raw: str) -> Phone | None:
    """Parse as the service does: E.164, or a bare mainland mobile number; None when unparseable."""
    mainland = _MAINLAND.match(raw)
    if mainland:
        return Phone(f"+86{mainland[1]}", True, "CN", "86")
    if not _E164.match(raw) or raw.startswith("+86"):
        return None
    digits = raw[1:]
    code = next((c for c in sorted(_ISO, key=len, reverse=True) if digits.startswith(c)), "")
    return Phone(raw, False, _ISO.get(code, "DEF"), code)


def _content_error(
    account: SandboxAccount, params: dict[str, Any], template: TemplateRecord | None, values: list[str]
) -> tuple[str, str] | None:
    """The error every number of this request gets, if any (checked in the real service's order)."""
    if template is None or status_code(account, template) != 0:
        return "FailedOperation.TemplateIncorrectOrUnapproved", "template is not approved or does not exist"
    sign_name = params.get("SignName") or ""
    if not template.international:
        sign = account.signature(sign_name) if sign_name else None
        if sign is None or sign.status is not ReviewStatus.APPROVED:
            return "FailedOperation.SignatureIncorrectOrUnapproved", "signature is incorrect or not approved"
    if len(values) != variable_count(template.content):
        return (
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            "the number of template parameters does not match the approved template",
        )
    if template.kind is TemplateKind.VERIFICATION and not all(re.fullmatch(r"\d{0,6}", v) for v in values):
        return (
            "InvalidParameterValue.TemplateParameterFormatError",
            "verification template parameters must be 0-6 digits",
        )
    if template.kind is TemplateKind.MARKETING and not template.international:
        hour = (datetime.fromtimestamp(account.now(), UTC) + _BEIJING).hour
        if not 8 <= hour < 22:
            return "FailedOperation.MarketingSendTimeConstraint", "marketing SMS may only be sent 08:00-22:00"
    return None


def _limit_code(error: RuleViolation) -> str:
    if error.kind is Violation.SEND_QUOTA:
        return "LimitExceeded.AppDailyLimit"
    window = float(error.details.get("window_s", 86400))
    if window <= 30:
        return "LimitExceeded.PhoneNumberThirtySecondLimit"
    if window <= 3600:
        return "LimitExceeded.PhoneNumberOneHourLimit"
    return "LimitExceeded.PhoneNumberDailyLimit"


def _render(template: TemplateRecord, values: list[str], sign_name: str) -> str:
    body = _VARIABLE.sub(lambda m: values[int(m[1]) - 1] if int(m[1]) <= len(values) else m[0], template.content)
    return f"【{sign_name}】{body}" if sign_name and not template.international else body


def _fee(text: str) -> int:
    return 1 if len(text) <= 70 else math.ceil(len(text) / 67)


def send_sms(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    app_id, numbers = _app_and_numbers(account, params)
    template_id: str = field(params, "TemplateId", str)
    values = str_list(params, "TemplateParamSet")
    session: str = params.get("SessionContext") or ""
    parsed = [parse_phone(n) for n in numbers]
    regions = {p.mainland for p in parsed if p is not None}
    if len(regions) > 1:
        raise TencentError(
            "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
            "A request may not mix mainland China and international numbers.",
        )
    template = account.template(template_id) if template_id.isdigit() else None
    shared_error = _content_error(account, params, template, values)
    sign_name = params.get("SignName") or ""
    results = []
    for raw, phone in zip(numbers, parsed, strict=True):
        status = {
            "SerialNo": "",
            "PhoneNumber": raw,
            "Fee": 0,
            "SessionContext": session,
            "IsoCode": phone.iso if phone else "DEF",
        }
        error = _number_error(phone, template, shared_error)
        if error is None and template is not None and phone is not None:
            text = _render(template, values, sign_name)
            try:
                record = account.record_send(
                    phone=phone.number,
                    template_code=template.code,
                    sign_name=sign_name,
                    content=text,
                    kind=template.kind,
                    limit_scope=f"{app_id}:{template.code}",
                    message_id_factory=_serial_factory(account),
                    extra={"session": session, "iso": phone.iso},
                )
            except RuleViolation as violation:
                error = (_limit_code(violation), violation.message)
            else:
                status.update(SerialNo=record.message_id, PhoneNumber=phone.number, Fee=_fee(text))
        code, message = error if error else ("Ok", "send success")
        results.append({**status, "Code": code, "Message": message})
    return {"SendStatusSet": results}


def _app_and_numbers(account: SandboxAccount, params: dict[str, Any]) -> tuple[str, list[str]]:
    """The request's SmsSdkAppId and numbers, or the request-level refusal (wrong app, no or too many numbers)."""
    app_id = _app(account, params)
    numbers = str_list(params, "PhoneNumberSet")
    if not numbers:
        raise TencentError("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet is empty.")
    if len(numbers) > 200:
        raise TencentError("LimitExceeded.PhoneNumberCountLimit", "At most 200 phone numbers per request.")
    return app_id, numbers


def _number_error(
    phone: Phone | None, template: TemplateRecord | None, shared_error: tuple[str, str] | None
) -> tuple[str, str] | None:
    """(code, message) of why this number gets no message: its format, an error every number shares,
    or a template for the other region (mainland vs international); None when it may be sent."""
    if phone is None:
        return ("InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number")
    if shared_error is None and template is not None and template.international == phone.mainland:
        if phone.mainland:
            return ("UnsupportedOperation.GlobalTemplateToChineseMainlandPhone", "global template to mainland phone")
        return ("UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone", "mainland template to global phone")
    return shared_error


def _serial_factory(account: SandboxAccount) -> Callable[[int], str]:
    day = datetime.fromtimestamp(account.now(), UTC).strftime("%Y%m%d")
    return lambda n: f"2433:{day}{n:012d}"


def _app(account: SandboxAccount, params: dict[str, Any]) -> str:
    app_id: str = field(params, "SmsSdkAppId", str)
    if app_id != meta(account, APP_ID_META):
        raise TencentError(
            "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
            "SmsSdkAppId does not belong to the account of this SecretId.",
        )
    return app_id


def _report(send: SendRecord) -> dict[str, Any]:
    """One PullSmsSendStatus entry for a send the carrier has reported on."""
    phone = parse_phone("+" + send.phone)  # stored as digits with the country code
    country = phone.country_code if phone else ""
    number = phone.number if phone else "+" + send.phone
    delivered = send.state is DeliveryState.DELIVERED
    return {
        "UserReceiveTime": int(send.reported_at or 0),
        "CountryCode": country,
        "SubscriberNumber": number[1 + len(country) :],
        "PhoneNumber": number,
        "SerialNo": send.message_id,
        "ReportStatus": "SUCCESS" if delivered else "FAIL",
        "Description": "DELIVRD" if delivered else "UNDELIV",
        "SessionContext": str(send.extra.get("session", "")),
    }


def pull_status(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    """The status queue: each carrier report is handed out once, oldest first, ``Limit`` at a time."""
    _app(account, params)
    limit = field(params, "Limit", int)
    if not 0 <= limit <= 100:
        raise TencentError("InvalidParameterValue.LimitVerifyFail", "Limit must be between 0 and 100.")
    with account.read() as conn:
        pulled = {r[0] for r in conn.execute("SELECT message_id FROM tencent_pulled")}
    reported = [s for s in account.sends() if s.reported_at is not None and s.message_id not in pulled]
    reported.sort(key=lambda s: (s.reported_at or 0, s.message_id))
    batch = reported[:limit]
    with account.transaction() as conn:
        conn.executemany("INSERT OR IGNORE INTO tencent_pulled VALUES (?)", [(s.message_id,) for s in batch])
    return {"PullSmsSendStatusSet": [_report(s) for s in batch]}


def pull_status_by_phone(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    _app(account, params)
    begin, end = field(params, "BeginTime", int), field(params, "EndTime", int, required=False)
    phone: str = field(params, "PhoneNumber", str)
    limit, offset = page(params)
    if offset != 0:
        raise TencentError("InvalidParameterValue.OffsetVerifyFail", "Offset must be 0.")
    now = account.now()
    if begin < now - 7 * 86400:
        raise TencentError("InvalidParameterValue.BeginTimeVerifyFail", "BeginTime may be at most 7 days back.")
    if end is not None and end < begin:
        raise TencentError("InvalidParameterValue.InvalidStartTime", "BeginTime is later than EndTime.")
    parsed = parse_phone(phone)
    if parsed is None:
        raise TencentError("InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number")
    sends = account.sends(phone=parsed.number, since=begin, until=None if end is None else end + 1)
    # Only messages the carrier has reported on appear, as on the real service.
    reported = [s for s in sends if s.state is not DeliveryState.WAITING and s.reported_at is not None]
    return {"PullSmsSendStatusSet": [_report(s) for s in reported[:limit]]}
