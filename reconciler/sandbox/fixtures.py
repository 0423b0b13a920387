"""Hand-made sandbox fixtures, for trying smsops (``import`` above all) without SDK code: a
template or signature in a chosen review state, an AWS sender ID, and a summary of the accounts.

Each fixture goes through the store with the emulator's own numbering (Alibaba ``SMS_…`` codes,
Tencent numeric ids), so the emulators list and serve it as if it had been created over the API.
AWS has no templates or signatures: its counterpart of a signature is a sender ID.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.alibaba.biz import Biz
from reconciler.sandbox.alibaba.signs import sign_name_error as alibaba_sign_name_error
from reconciler.sandbox.alibaba.templates import template_code as alibaba_code
from reconciler.sandbox.aws import ops as aws_ops
from reconciler.sandbox.store.account import Sandbox, SandboxAccount
from reconciler.sandbox.store.records import SignatureRecord, TemplateRecord
from reconciler.sandbox.tencent.ops import TencentError
from reconciler.sandbox.tencent.ops import template_code as tencent_code
from reconciler.sandbox.tencent.signs import sign_name_error as tencent_sign_name_error

CODES: dict[str, Callable[[int], str]] = {"alibaba": alibaba_code, "tencent": tencent_code}
# Each provider's rule for signature names, as its emulator applies it to a new signature.
SIGN_NAME_RULES: dict[str, Callable[[str], Biz | TencentError | None]] = {
    "alibaba": alibaba_sign_name_error,
    "tencent": tencent_sign_name_error,
}
# Which providers' accounts can hold each kind of fixture.
TEMPLATE_PROVIDERS = SIGNATURE_PROVIDERS = tuple(CODES)
SENDER_ID_PROVIDERS = ("aws",)
MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")
# Alibaba's TemplateType numbering (Create/Get), kept in the template as the API would.
_ALIBABA_TYPE = {TemplateKind.VERIFICATION: 0, TemplateKind.NOTIFICATION: 1, TemplateKind.MARKETING: 2}


HAND_MADE_REMARK = "Made by hand in the sandbox."
# What a console stores with a signature made there, in the emulators' own fields.
_CONSOLE_FIELDS: dict[str, dict[str, Any]] = {
    "alibaba": {"source": 0, "qualification_id": 10000001, "third_party": False},
    "tencent": {"sign_type": 0, "document_type": 0, "international": 0, "purpose": 0, "qualification_id": 1},
}


class FixtureError(ValueError):
    """A fixture the account's provider cannot hold; the message or ``hint`` says what to do instead."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def summary(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Each account's name, provider, access key ids (never secrets) and what it holds."""
    rows = []
    for account in sorted(sandbox.accounts(), key=lambda a: a.name):
        row: dict[str, Any] = {
            "name": account.name,
            "provider": account.provider,
            "access_key_ids": sorted(account.access_keys()),
            "signatures": len(account.signatures()),
            "templates": len(account.templates()),
        }
        if account.provider == "aws":
            row["sender_ids"] = len(aws_ops.sender_rows(aws_ops.Call(account, "us-east-1")))
        rows.append(row)
    return rows


def add_signature(
    account: SandboxAccount, name: str, *, status: ReviewStatus, scene: str = "general", reason: str = ""
) -> SignatureRecord:
    """A signature as a console leaves one made by hand: with a qualification and the provider's
    other submitted fields, which its read returns (``import`` writes them, ``plan`` compares them)."""
    if account.provider == "aws":
        raise FixtureError("AWS has no signatures: request a sender ID instead (`smsops sandbox request-sender-id`)")
    refused = SIGN_NAME_RULES[account.provider](name)
    if refused is not None:
        raise FixtureError(
            f"signature name {name!r}: {refused.message}",
            hint="choose a name the provider accepts; `smsops sandbox status` lists the account's signatures",
        )
    if status is ReviewStatus.REJECTED and not reason:
        reason = "Rejected by the sandbox."
    fields = dict(_CONSOLE_FIELDS.get(account.provider, {}))
    if account.provider == "alibaba":
        fields["sign_type"] = 0 if scene == "verification" else 1
    return account.put_signature(name, status, reason=reason, scene=scene, extra=fields, remark=HAND_MADE_REMARK)


def add_template(
    account: SandboxAccount,
    *,
    name: str,
    content: str,
    kind: TemplateKind,
    status: ReviewStatus,
    sign_name: str = "",
    international: bool = False,
    remark: str = HAND_MADE_REMARK,
    reason: str = "",
) -> TemplateRecord:
    """A template as the provider would hold it after review ended in ``status``."""
    factory = CODES.get(account.provider)
    if factory is None:
        raise FixtureError(f"{account.provider} accounts hold no templates: messages are rendered by smsops")
    extra: dict[str, Any] = {}
    if account.provider == "alibaba":
        extra["type"] = 3 if international else _ALIBABA_TYPE[kind]
    record = account.create_template(
        name=name,
        content=content,
        kind=kind,
        code_factory=factory,
        international=international,
        remark=remark,
        sign_name=sign_name,
        extra=extra,
    )
    if status is ReviewStatus.APPROVED:
        return account.approve(record.code)
    if status is ReviewStatus.REJECTED:
        return account.reject(record.code, reason or "Rejected by the sandbox.")
    return record  # pending: the account's review decides it, as for one submitted over the API


def request_sender_id(
    account: SandboxAccount,
    sender_id: str,
    *,
    country: str,
    message_types: tuple[str, ...] = ("TRANSACTIONAL",),
    deletion_protection: bool = False,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """RequestSenderId as the API would answer it (its format and country rules included)."""
    if account.provider != "aws":
        raise FixtureError(f"sender IDs are AWS's; {account.name} is a {account.provider} account")
    params = {
        "SenderId": sender_id,
        "IsoCountryCode": country.upper(),
        "MessageTypes": list(message_types),
        "DeletionProtectionEnabled": deletion_protection,
    }
    try:
        return aws_ops.request_sender_id(aws_ops.Call(account, region), params)
    except aws_ops.AwsError as error:
        raise FixtureError(f"{error.members.get('Reason', error.code)}: {error.message}") from None
