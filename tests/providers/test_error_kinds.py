"""Error kinds: each adapter classifies its provider's codes, and nothing outside ``providers/`` (and
the emulators in ``sandbox/``) holds a provider error code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.errors import ErrorKind, ProviderError, ProviderFailure, ResponseLost
from reconciler.providers._support import failure
from reconciler.providers.alibaba import codes as alibaba
from reconciler.providers.aws.adapter import error_kind as aws_kind
from reconciler.providers.tencent.codes import error_kind as tencent_kind

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"
# The provider error codes of /work/shared/tools/shape.py (CODES), as quoted string literals.
CODE_LITERAL = re.compile(
    r"""["'](isv\.[A-Z_]+|FailedOperation\.\w+|LimitExceeded\.\w+|AuthFailure\.\w+|"""
    r"""InvalidAccessKeyId[\w.]*|SignatureDoesNotMatch|ThrottlingException|ServiceQuotaExceededException)["']"""
)


def code_literals_outside_the_adapters() -> list[str]:
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] in ("providers", "sandbox"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            hits.extend(
                f"{path.relative_to(PACKAGE.parent)}:{number}: {m.group(1)}" for m in CODE_LITERAL.finditer(line)
            )
    return hits


def test_no_provider_error_code_outside_the_adapters() -> None:
    hits = code_literals_outside_the_adapters()
    assert hits == [], "provider error codes belong in providers/<name>/ (switch on ErrorKind):\n" + "\n".join(hits)


def test_the_scan_finds_a_code_literal_where_one_is(tmp_path: Path) -> None:
    # The pattern itself must match what it is meant to keep out.
    line = 'if error.code in {"isv.BUSINESS_LIMIT_CONTROL", "LimitExceeded.AppDailyLimit"}:'
    assert [m.group(1) for m in CODE_LITERAL.finditer(line)] == [
        "isv.BUSINESS_LIMIT_CONTROL",
        "LimitExceeded.AppDailyLimit",
    ]


@pytest.mark.parametrize(
    ("code", "operation", "kind"),
    [
        ("SignatureDoesNotMatch", "GetSmsSign", ErrorKind.AUTH_REFUSED),
        ("InvalidAccessKeyId.NotFound", "GetSmsSign", ErrorKind.AUTH_REFUSED),
        ("isp.RAM_PERMISSION_DENY", "GetSmsSign", ErrorKind.FORBIDDEN),
        ("Throttling.User", "QuerySmsTemplateList", ErrorKind.THROTTLED),
        ("isp.SYSTEM_ERROR", "CreateSmsTemplate", ErrorKind.UNAVAILABLE),
        ("isv.BUSINESS_LIMIT_CONTROL", "SendSms", ErrorKind.LIMITED),
        ("isv.BUSINESS_LIMIT_CONTROL", "CreateSmsTemplate", ErrorKind.SPACING),
        ("isv.DAY_LIMIT_CONTROL", "SendSms", ErrorKind.LIMITED),
        ("isv.DAY_LIMIT_CONTROL", "CreateSmsTemplate", ErrorKind.QUOTA_EXHAUSTED),
        ("isv.TEMPLATE_COUNT_OVER_LIMIT", "CreateSmsTemplate", ErrorKind.QUOTA_EXHAUSTED),
        ("isv.SMS_SIGNATURE_ILLEGAL", "GetSmsSign", ErrorKind.NOT_FOUND),
        ("isv.SMS_TEMPLATE_STATE_ILLEGAL", "UpdateSmsTemplate", ErrorKind.OTHER),
    ],
)
def test_alibaba_kinds(code: str, operation: str, kind: ErrorKind) -> None:
    assert alibaba.kind(code, operation) is kind


@pytest.mark.parametrize(
    ("code", "operation", "kind"),
    [
        ("AuthFailure.SignatureFailure", "DescribeSmsSignList", ErrorKind.AUTH_REFUSED),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SendSms", ErrorKind.FORBIDDEN),
        ("RequestLimitExceeded", "DescribeSmsTemplateList", ErrorKind.THROTTLED),
        ("InternalError.Timeout", "AddSmsTemplate", ErrorKind.UNAVAILABLE),
        ("LimitExceeded.PhoneNumberThirtySecondLimit", "SendSms", ErrorKind.LIMITED),
        ("LimitExceeded.TemplateDailyLimit", "AddSmsTemplate", ErrorKind.QUOTA_EXHAUSTED),
        ("LimitExceeded.TemplateFrequencyLimit", "AddSmsTemplate", ErrorKind.SPACING),
        ("FailedOperation.TemplateAlreadyPassedCheck", "ModifySmsTemplate", ErrorKind.OTHER),
    ],
)
def test_tencent_kinds(code: str, operation: str, kind: ErrorKind) -> None:
    assert tencent_kind(code, operation) is kind


@pytest.mark.parametrize(
    ("code", "operation", "status", "kind"),
    [
        ("UnrecognizedClientException", "DescribeSenderIds", 400, ErrorKind.AUTH_REFUSED),
        ("InvalidSignatureException", "DescribeSenderIds", 400, ErrorKind.AUTH_REFUSED),
        ("AccessDeniedException", "SendTextMessage", 403, ErrorKind.FORBIDDEN),
        ("ThrottlingException", "SendTextMessage", 429, ErrorKind.THROTTLED),
        ("InternalServerException", "SendTextMessage", 500, ErrorKind.UNAVAILABLE),
        ("ServiceQuotaExceededException", "SendTextMessage", 402, ErrorKind.LIMITED),
        ("ResourceNotFoundException.SENDER_ID", "DescribeSenderIds", 404, ErrorKind.NOT_FOUND),
        ("ValidationException.DESTINATION_COUNTRY_BLOCKED", "SendTextMessage", 400, ErrorKind.OTHER),
    ],
)
def test_aws_kinds(code: str, operation: str, status: int, kind: ErrorKind) -> None:
    assert aws_kind(code, operation, status) is kind


def test_retryable_follows_the_kind_except_for_a_lost_answer() -> None:
    throttled = failure("alibaba", "GetSmsSign", "Throttling.User", "slow down", kind=ErrorKind.THROTTLED)
    refused = failure("alibaba", "GetSmsSign", "SignatureDoesNotMatch", "no", kind=ErrorKind.AUTH_REFUSED)
    lost = failure("alibaba", "CreateSmsTemplate", "isp.SYSTEM_ERROR", "?", kind=ErrorKind.UNAVAILABLE, lost=True)
    assert (throttled.kind, throttled.retryable) == (ErrorKind.THROTTLED, True)
    assert (refused.kind, refused.retryable) == (ErrorKind.AUTH_REFUSED, False)
    assert isinstance(lost, ResponseLost) and lost.kind is ErrorKind.UNAVAILABLE and not lost.retryable
    # The message shown to users is unchanged by the kind.
    assert str(refused) == "alibaba GetSmsSign failed: SignatureDoesNotMatch: no"


def test_a_failure_built_without_a_kind_is_other() -> None:
    error = ProviderError(ProviderFailure("memory", "mark", "NoMarkStore", "no place to keep rollout marks", False))
    assert error.kind is ErrorKind.OTHER and not error.retryable
