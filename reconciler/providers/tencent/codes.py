"""Tencent SMS numberings, statuses and error codes, and their translation to ours
(reference/providers.md §2).

- Status codes: 0 approved, 1 reviewing, 2 approved but not yet effective (still unusable, so
  pending here), -1 rejected. SmsType 1 marketing, 2 notification, 3 verification.
- The template list reports no ``SmsType``: for templates smsops named (``name~fingerprint``) the
  kind is recovered exactly, since the fingerprint hashes the kind; others get a content guess.
"""

from __future__ import annotations

from reconciler.content.identity import fingerprint, parse_provider_name
from reconciler.errors import ErrorKind
from reconciler.providers.base import ReviewStatus, TemplateKind

UNSUBSCRIBE = "拒收请回复R"  # mainland marketing templates must end with this

SMS_TYPE = {TemplateKind.MARKETING: 1, TemplateKind.NOTIFICATION: 2, TemplateKind.VERIFICATION: 3}
STATUS = {0: ReviewStatus.APPROVED, 1: ReviewStatus.PENDING, 2: ReviewStatus.PENDING, -1: ReviewStatus.REJECTED}
_AUTH_PREFIXES = ("AuthFailure", "UnauthorizedOperation")
_QUOTA_CODES = ("LimitExceeded.TemplateDailyLimit", "LimitExceeded.AppDailyLimit")


def error_kind(code: str, operation: str) -> ErrorKind:
    """What ``code`` means when ``operation`` answered it (a send's ``LimitExceeded.*`` is a
    per-number limit, e.g. ``LimitExceeded.PhoneNumberThirtySecondLimit``)."""
    if code.startswith("AuthFailure"):
        return ErrorKind.AUTH_REFUSED
    if code.startswith("UnauthorizedOperation"):
        return ErrorKind.FORBIDDEN
    if code.startswith("RequestLimitExceeded"):
        return ErrorKind.THROTTLED
    if code.startswith(("InternalError", "ServerNetworkError")):
        return ErrorKind.UNAVAILABLE
    if code.startswith("LimitExceeded."):
        if operation == "SendSms":
            return ErrorKind.LIMITED
        if code in _QUOTA_CODES:
            return ErrorKind.QUOTA_EXHAUSTED
        if code == "LimitExceeded.TemplateFrequencyLimit":
            return ErrorKind.SPACING
    if code.startswith("ResourceNotFound") or code.endswith("NotExist"):
        return ErrorKind.NOT_FOUND
    return ErrorKind.OTHER


def hint_for(code: str) -> str:
    if code.startswith(_AUTH_PREFIXES):
        return "check the channel's SecretId/SecretKey in its SOPS file and signature.smsSdkAppId"
    if code.startswith("RequestLimitExceeded"):
        return "the provider is rate-limiting this account; try again in a minute"
    if code.startswith("LimitExceeded.PhoneNumber"):
        return "the per-number send limit was reached; wait or use another test number"
    return ""


def infer_kind(name: str, content: str, international: bool) -> tuple[TemplateKind, bool]:
    """(kind, inferred). Exact for smsops-named templates; a content guess for the rest."""
    identity = parse_provider_name(name)
    if identity is not None:
        for kind in TemplateKind:
            if fingerprint(content, kind.value, international) == identity.fingerprint:
                return kind, False
    lowered = content.lower()
    if content.rstrip().endswith(UNSUBSCRIBE) or "reply stop" in lowered:
        return TemplateKind.MARKETING, True
    if "验证码" in content or "code" in lowered:
        return TemplateKind.VERIFICATION, True
    return TemplateKind.NOTIFICATION, True
