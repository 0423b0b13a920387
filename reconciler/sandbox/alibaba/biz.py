"""What the Alibaba emulator's operations share: the business error, parameter parsing, the
wire numberings of kinds and statuses, and the reads more than one operation makes."""

from __future__ import annotations

import re

from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.sandbox.store.records import RuleViolation, TemplateRecord, Violation

VARIABLE = re.compile(r"\$\{([^}]*)\}")

# Create/Update/Get TemplateType: 0 verification, 1 notification, 2 promotional, 3 international.
OUTER = {TemplateKind.VERIFICATION: 0, TemplateKind.NOTIFICATION: 1, TemplateKind.MARKETING: 2}
# IntlType, GetSmsTemplateList TemplateType: 0 notification, 1 promotional, 2 verification.
INTL = {TemplateKind.NOTIFICATION: 0, TemplateKind.MARKETING: 1, TemplateKind.VERIFICATION: 2}
STATUS = {ReviewStatus.PENDING: 0, ReviewStatus.APPROVED: 1, ReviewStatus.REJECTED: 2, ReviewStatus.CANCELLED: 10}
AUDIT = {
    ReviewStatus.PENDING: "AUDIT_STATE_INIT",
    ReviewStatus.APPROVED: "AUDIT_STATE_PASS",
    ReviewStatus.REJECTED: "AUDIT_STATE_NOT_PASS",
    ReviewStatus.CANCELLED: "AUDIT_SATE_CANCEL",
}


class Biz(Exception):
    """A business error: HTTP 200 with a non-OK Code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def int_param(params: dict[str, str], name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        if default is None:
            raise Biz("isv.INVALID_PARAMETERS", f"{name} is required.")
        return default
    try:
        return int(raw)
    except ValueError:
        raise Biz("isv.INVALID_PARAMETERS", f"{name} must be an integer.") from None


def required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise Biz("isv.INVALID_PARAMETERS", f"{name} is required.")
    return value


def violation(error: RuleViolation) -> Biz:
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


def sequence(account: SandboxAccount, name: str) -> int:
    with account.transaction() as conn:
        return account.next_sequence(conn, name)


def paging(p: dict[str, str], index: str) -> tuple[int, int]:
    page, size = int_param(p, index, 1), int_param(p, "PageSize", 10)
    if page < 1 or not 1 <= size <= 50:
        raise Biz("isv.INVALID_PARAMETERS", f"{index} must be ≥1 and PageSize 1-50.")
    return page, size


def existing_template(account: SandboxAccount, code: str) -> TemplateRecord:
    record = account.template(code)
    if record is None:
        raise Biz("isv.SMS_TEMPLATE_ILLEGAL", "The template does not exist under this account.")
    return record


def template_tags(account: SandboxAccount, codes: list[str]) -> dict[str, list[tuple[str, str]]]:
    tags: dict[str, list[tuple[str, str]]] = {}
    if not codes:
        return tags
    with account.read() as conn:
        rows = conn.execute(
            f"SELECT * FROM alibaba_tags WHERE resource_id IN ({','.join('?' * len(codes))}) ORDER BY resource_id, key",
            codes,
        )
        for row in rows:
            tags.setdefault(row["resource_id"], []).append((row["key"], row["value"]))
    return tags
