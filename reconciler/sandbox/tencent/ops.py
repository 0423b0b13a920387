"""Tencent Cloud SMS 2021-01-11 operations over the sandbox store, one function per action.

Each takes the account and the request's JSON body and returns the ``Response`` object without
``RequestId``; request-level refusals raise ``TencentError``. Shapes follow
``tencentcloud.sms.v20210111.models`` exactly (TemplateId is a string in AddTemplateStatus and an
integer in DescribeTemplateListStatus). Per-number send failures are not exceptions: they land in
``SendStatusSet`` with the error code, as the real service reports them.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.sandbox.store.records import RuleViolation, TemplateRecord, Violation

UNSUBSCRIBE = "拒收请回复R"  # mainland marketing templates must end with this
MAX_CONTENT = 500
KIND_BY_SMS_TYPE = {1: TemplateKind.MARKETING, 2: TemplateKind.NOTIFICATION, 3: TemplateKind.VERIFICATION}
STATUS_CODE = {ReviewStatus.APPROVED: 0, ReviewStatus.PENDING: 1, ReviewStatus.REJECTED: -1, ReviewStatus.CANCELLED: -1}
APP_ID_META = "demo:SmsSdkAppId"  # where DemoAccount.extra["SmsSdkAppId"] lands in the account meta
EFFECT_DELAY_META = "tencent:effect_delay_s"  # approved templates show StatusCode 2 for this long
_VARIABLE = re.compile(r"\{(\d+)\}")


class TencentError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# -- parameters ---------------------------------------------------------------------------------
def field(params: dict[str, Any], name: str, kind: type, *, required: bool = True) -> Any:
    value = params.get(name)
    if value is None:
        if required:
            raise TencentError("MissingParameter", f"The request is missing a required parameter `{name}`.")
        return None
    # bool is an int subclass; the SDK never sends one for these fields.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TencentError("InvalidParameter", f"The parameter `{name}` must be of type {kind.__name__}.")
    return value


def str_list(params: dict[str, Any], name: str) -> list[str]:
    value = params.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TencentError("InvalidParameter", f"The parameter `{name}` must be a list of strings.")
    return value


def _international(params: dict[str, Any]) -> bool:
    value = field(params, "International", int)
    if value not in (0, 1):
        raise TencentError("InvalidParameterValue.InvalidInternational", "International must be 0 or 1.")
    return bool(value)


def page(params: dict[str, Any], *, default_limit: int | None = None) -> tuple[int, int]:
    """Limit and Offset: required unless ``default_limit`` is given (then Offset defaults to 0)."""
    optional = default_limit is not None
    given_limit = field(params, "Limit", int, required=not optional)
    given_offset = field(params, "Offset", int, required=not optional)
    limit = int(given_limit if given_limit is not None else default_limit or 0)
    offset = int(given_offset or 0)
    if not 0 <= limit <= 100:
        raise TencentError("InvalidParameterValue.LimitVerifyFail", "Limit must be between 0 and 100.")
    if offset < 0:
        raise TencentError("InvalidParameterValue.OffsetVerifyFail", "Offset must not be negative.")
    return limit, offset


def _template_content(params: dict[str, Any], kind: TemplateKind, international: bool) -> str:
    """The format rules checked at submission (review rules come later, from the review engine)."""
    content: str = field(params, "TemplateContent", str)
    numbers = [int(n) for n in _VARIABLE.findall(content)]
    if numbers and sorted(set(numbers)) != list(range(1, max(numbers) + 1)):
        raise TencentError(
            "InvalidParameterValue.InvalidTemplateFormat",
            "Template variables must be numbered {1}, {2}, ... without gaps.",
        )
    if len(content) > MAX_CONTENT:
        raise TencentError(
            "InvalidParameterValue.ContentLengthLimit", f"The template content is longer than {MAX_CONTENT} characters."
        )
    if kind is TemplateKind.MARKETING and not international and not content.rstrip().endswith(UNSUBSCRIBE):
        raise TencentError(
            "InvalidParameterValue.MarketingTemplateWithoutUnsubscribe",
            f"Marketing templates must end with the unsubscribe text “{UNSUBSCRIBE}”.",
        )
    return content


def _submission(params: dict[str, Any]) -> dict[str, Any]:
    name: str = field(params, "TemplateName", str)
    sms_type = field(params, "SmsType", int)
    if sms_type not in KIND_BY_SMS_TYPE:
        raise TencentError(
            "InvalidParameterValue.InvalidSmsType",
            "SmsType must be 1 (marketing), 2 (notification) or 3 (verification).",
        )
    international = _international(params)
    remark: str = field(params, "Remark", str)
    kind = KIND_BY_SMS_TYPE[sms_type]
    content = _template_content(params, kind, international)
    return {"name": name, "content": content, "kind": kind, "international": international, "remark": remark}


def variable_count(content: str) -> int:
    return len(set(_VARIABLE.findall(content)))


# -- presentation -------------------------------------------------------------------------------
def meta(account: SandboxAccount, key: str) -> str | None:
    with account.read() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row["value"])


def set_effect_delay(account: SandboxAccount, seconds: float) -> None:
    """How long an approved template shows StatusCode 2 (approved, not yet effective) before 0."""
    with account.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (EFFECT_DELAY_META, str(float(seconds))))


def status_code(account: SandboxAccount, template: TemplateRecord) -> int:
    """0 approved and effective, 1 reviewing, 2 approved but not yet effective, -1 rejected."""
    code = STATUS_CODE[template.status]
    if code == 0 and template.decided_at is not None:
        delay = float(meta(account, EFFECT_DELAY_META) or 0)
        if account.now() < template.decided_at + delay:
            return 2
    return code


def _template_json(account: SandboxAccount, template: TemplateRecord) -> dict[str, Any]:
    return {
        "TemplateId": int(template.code),
        "International": int(template.international),
        "StatusCode": status_code(account, template),
        "ReviewReply": template.reason,
        "TemplateName": template.name,
        "CreateTime": int(template.created_at),
        "TemplateContent": template.content,
    }


def _template(account: SandboxAccount, template_id: int, missing: str) -> TemplateRecord:
    template = account.template(str(template_id))
    if template is None:
        raise TencentError(missing, f"Template {template_id} does not exist.")
    return template


def template_code(n: int) -> str:
    """The n-th TemplateId of an account (a number, kept as text by the store)."""
    return str(1_000_000 + n)


# -- template and signature actions ---------------------------------------------------------------
def add_template(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    fields = _submission(params)
    try:
        record = account.create_template(code_factory=template_code, **fields)
    except RuleViolation as error:
        if error.kind is Violation.DAILY_QUOTA:
            raise TencentError("FailedOperation.TemplateNumberLimit", error.message) from None
        raise TencentError("RequestLimitExceeded", error.message) from None
    return {"AddTemplateStatus": {"TemplateId": record.code}}


def modify_template(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    template_id = field(params, "TemplateId", int)
    fields = _submission(params)
    current = _template(account, template_id, "FailedOperation.MissingTemplateToModify")
    if current.international != fields["international"]:
        raise TencentError(
            "InvalidParameterValue.InvalidInternational", "International cannot be changed by ModifySmsTemplate."
        )
    try:
        account.update_template(str(template_id), **fields)
    except RuleViolation as error:
        if error.kind is Violation.IMMUTABLE_APPROVED:
            raise TencentError(
                "FailedOperation.TemplateAlreadyPassedCheck",
                "This template has already been approved and cannot be modified.",
            ) from None
        raise TencentError("FailedOperation.MissingTemplateToModify", error.message) from None
    return {"ModifyTemplateStatus": {"TemplateId": template_id}}


def delete_template(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    template_id = field(params, "TemplateId", int)
    _template(account, template_id, "FailedOperation.TemplateIdNotExist")
    try:
        # Tencent lets a template under review be withdrawn by deleting it.
        account.delete_template(str(template_id), allow_pending=True)
    except RuleViolation as error:
        raise TencentError("FailedOperation.TemplateIdNotExist", error.message) from None
    return {"DeleteTemplateStatus": {"DeleteStatus": "return successfully!", "DeleteTime": int(account.now())}}


def describe_templates(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    international = _international(params)
    wanted = params.get("TemplateIdSet")
    templates = [t for t in account.templates() if t.international == international]
    if wanted:
        if not isinstance(wanted, list) or not all(isinstance(i, int) for i in wanted):
            raise TencentError("InvalidParameter", "TemplateIdSet must be a list of integers.")
        if len(wanted) > 100:
            raise TencentError("InvalidParameterValue.LimitVerifyFail", "TemplateIdSet holds at most 100 ids.")
        ids = {str(i) for i in wanted}
        selected = [t for t in templates if t.code in ids]
    else:
        limit, offset = page(params)
        selected = templates[offset : offset + limit]
    return {"DescribeTemplateStatusSet": [_template_json(account, t) for t in selected]}
