"""Alibaba dysmsapi numberings, statuses and error codes, and their translation to ours.

Three template-type numberings exist (reference/providers.md §1.3): Create/Update/Get and
``OuterTemplateType`` use 0 verification, 1 notification, 2 promotional, 3 international (+ ``IntlType``
0 notification, 1 promotional, 2 verification); QuerySmsTemplateList's ``TemplateType`` uses
0 notification, 1 promotional, 2 verification, 6 international. Times are Beijing time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from reconciler.errors import ErrorKind
from reconciler.providers.base import DeliveryState, ReviewStatus, TemplateKind

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

# Create/Update numbering, and IntlType for international templates.
CREATE_TYPE = {TemplateKind.VERIFICATION: 0, TemplateKind.NOTIFICATION: 1, TemplateKind.MARKETING: 2}
INTERNATIONAL_TYPE = 3
INTL_TYPE = {TemplateKind.NOTIFICATION: 0, TemplateKind.MARKETING: 1, TemplateKind.VERIFICATION: 2}
FROM_INTL_TYPE = {v: k for k, v in INTL_TYPE.items()}
OUTER_TYPE = {v: k for k, v in CREATE_TYPE.items()}
# TemplateStatus / SignStatus integers.
STATUS = {0: ReviewStatus.PENDING, 1: ReviewStatus.APPROVED, 2: ReviewStatus.REJECTED, 10: ReviewStatus.CANCELLED}
SEND_STATUS = {1: DeliveryState.WAITING, 2: DeliveryState.FAILED, 3: DeliveryState.DELIVERED}

LIMITED_CODE = "isv.BUSINESS_LIMIT_CONTROL"  # per-number send limit: wait, do not retry now
# GetSmsSign for a name the account lacks: the sandbox answers isv.SMS_SIGNATURE_ILLEGAL ("does not
# exist under this account"); the others are spellings from Alibaba's error lists.
SIGN_MISSING = (
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.SMS_SIGN_NOT_EXIST",
    "isv.SIGN_NOT_EXIST",
    "isv.SIGN_NAME_NOT_EXIST",
    "SignNotExist",
)
AUTH_PREFIXES = (
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "IncompleteSignature",
    "InvalidTimeStamp",
    "SignatureNonceUsed",
    "Forbidden",
    "isp.RAM_PERMISSION_DENY",
    "isv.ACCOUNT_NOT_EXISTS",
)
RETRYABLE_CODES = ("ServiceUnavailable", "InternalError", "isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR")
# The keys themselves were refused (a subset of AUTH_PREFIXES: a stale timestamp or a reused nonce is
# a problem of this one request, a missing RAM permission is FORBIDDEN).
_REFUSED_PREFIXES = ("SignatureDoesNotMatch", "InvalidAccessKeyId", "IncompleteSignature")
_FORBIDDEN_PREFIXES = ("Forbidden", "isp.RAM_PERMISSION_DENY")
# A template code the account lacks, answered by the template operations (on SendSms the same code
# also means "not approved", so there it stays a refusal of the message).
TEMPLATE_MISSING = "isv.SMS_TEMPLATE_ILLEGAL"
_TEMPLATE_OPERATIONS = ("GetSmsTemplate", "UpdateSmsTemplate", "DeleteSmsTemplate")
# Account-wide daily/monthly allowances; on SendSms the same codes are per number.
_DAY_LIMITS = ("isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL")
_TEMPLATE_QUOTAS = ("isv.TEMPLATE_COUNT_OVER_LIMIT", "isv.TEMPLATE_OVER_LIMIT")


def kind(code: str, operation: str) -> ErrorKind:
    """What ``code`` means when ``operation`` answered it. ``isv.BUSINESS_LIMIT_CONTROL`` is the
    per-number flow control on a send, and the creation-spacing rule on a template creation."""
    if code.startswith(_REFUSED_PREFIXES):
        return ErrorKind.AUTH_REFUSED
    if code.startswith(_FORBIDDEN_PREFIXES):
        return ErrorKind.FORBIDDEN
    if code.startswith("Throttling"):
        return ErrorKind.THROTTLED
    if code in RETRYABLE_CODES:
        return ErrorKind.UNAVAILABLE
    if code in SIGN_MISSING:
        return ErrorKind.NOT_FOUND
    if code == TEMPLATE_MISSING and operation in _TEMPLATE_OPERATIONS:
        return ErrorKind.NOT_FOUND
    sending = operation == "SendSms"
    if code == LIMITED_CODE:
        return ErrorKind.LIMITED if sending else ErrorKind.SPACING
    if code in _DAY_LIMITS:
        return ErrorKind.LIMITED if sending else ErrorKind.QUOTA_EXHAUSTED
    if code in _TEMPLATE_QUOTAS:
        return ErrorKind.QUOTA_EXHAUSTED
    return ErrorKind.OTHER


def hint(code: str) -> str:
    if code.startswith(AUTH_PREFIXES):
        return "check the channel's accessKeyId/accessKeySecret in its SOPS file and the RAM permissions"
    if code.startswith("Throttling"):
        return "the provider is rate-limiting this account; try again in a minute"
    if code == LIMITED_CODE:
        return "the per-number send limit was reached; wait (minutes to a day) or use another test number"
    return ""


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def beijing_time(text: str | None) -> datetime | None:
    """``2026-11-24 10:00:00`` (Beijing time, as Alibaba writes it) -> an aware datetime."""
    if not text or len(text) != 19 or text[10] != " ":
        return None
    try:  # fromisoformat: a listing has one per template, and strptime is ten times slower
        return datetime.fromisoformat(text).replace(tzinfo=BEIJING)
    except ValueError:
        return None
