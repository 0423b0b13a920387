"""Tencent SMS signature actions: AddSmsSign, ModifySmsSign (only while under review or rejected,
else ``InvalidParameterValue.SignAlreadyPassedCheck``), DeleteSmsSign and DescribeSmsSignList (Limit
and Offset optional, 10 and 0 by default).

Rules from the SDK model's comments: SignType 0 (company), 1 (app), 4 (trademark) or 5 (government
or other organisation), each with its own DocumentTypes (0: 0/1; 1: 0-4; 4: 7; 5: 2/3); a
mismatched pair is accepted and then fails review, as the comment warns. ProofImage is required
(base64, stored only as a digest); SignPurpose 1 (for others) needs a CommissionImage, else review
fails; a mainland sign needs a QualificationId. A sign signed with a stored SignId keeps it when
renamed; fixture signatures get a stable id from their name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from typing import Any

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.sandbox.store.records import RuleViolation, SignatureRecord, Violation
from reconciler.sandbox.tencent.ops import STATUS_CODE, TencentError, field, page

DOCUMENT_TYPES = {0: (0, 1), 1: (0, 1, 2, 3, 4), 4: (7,), 5: (2, 3)}
MAX_SIGN_NAME = 12
REASON_DOCUMENT = "The proof document type does not match the signature type."
REASON_COMMISSION = "A signature for others needs a commission (authorization) image."
FIRST_SIGN_ID = 1_000_000  # above every name-derived id of a fixture signature


def sign_id(sign: SignatureRecord) -> int:
    """The SignId: the one given at AddSmsSign, else a stable number from the name (fixtures)."""
    stored = sign.extra.get("sign_id")
    return int(stored) if stored is not None else 100000 + zlib.crc32(sign.name.encode("utf-8")) % 900000


def _by_id(account: SandboxAccount, wanted: int, missing: str) -> SignatureRecord:
    found = next((s for s in account.signatures() if sign_id(s) == wanted), None)
    if found is None:
        raise TencentError(missing, f"Signature {wanted} does not exist.")
    return found


def _digest(params: dict[str, Any], name: str, *, required: bool) -> str:
    """sha256 of a base64 image, checked to decode; the image itself is never kept."""
    raw = field(params, name, str, required=required)
    if not raw:
        return ""
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise TencentError("InvalidParameterValue.ImageInvalid", f"{name} is not base64-encoded.") from None
    return hashlib.sha256(data).hexdigest()


def sign_name_error(name: str) -> TencentError | None:
    """Why AddSmsSign refuses SignName ``name``; None when it does not."""
    if len(name) > MAX_SIGN_NAME:
        return TencentError("InvalidParameterValue.SignNameLengthTooLong", "The signature name is too long.")
    if len(name) < 2:
        return TencentError("InvalidParameter", "The signature name must be at least 2 characters.")
    return None


def _application(params: dict[str, Any]) -> dict[str, Any]:
    name: str = field(params, "SignName", str)
    refused = sign_name_error(name)
    if refused is not None:
        raise refused
    sign_type, document = field(params, "SignType", int), field(params, "DocumentType", int)
    if sign_type not in DOCUMENT_TYPES:
        raise TencentError("InvalidParameter", "SignType must be 0, 1, 4 or 5.")
    if document not in {d for ds in DOCUMENT_TYPES.values() for d in ds}:
        raise TencentError("InvalidParameterValue.InvalidDocumentType", "DocumentType is not a supported type.")
    international = field(params, "International", int)
    if international not in (0, 1):
        raise TencentError("InvalidParameterValue.InvalidInternational", "International must be 0 or 1.")
    purpose = field(params, "SignPurpose", int)
    if purpose not in (0, 1):
        raise TencentError("InvalidParameterValue.InvalidSignPurpose", "SignPurpose must be 0 or 1.")
    qualification = field(params, "QualificationId", int, required=False)
    if international == 0 and not qualification:
        raise TencentError(
            "InvalidParameterValue.QualificationIdNotFound", "A mainland signature needs a QualificationId."
        )
    proof = _digest(params, "ProofImage", required=True)
    commission = _digest(params, "CommissionImage", required=False)
    problem = ""
    if document not in DOCUMENT_TYPES[sign_type]:
        problem = REASON_DOCUMENT
    elif purpose == 1 and not commission:
        problem = REASON_COMMISSION
    extra = {
        "sign_type": sign_type,
        "document_type": document,
        "international": international,
        "purpose": purpose,
        "qualification_id": qualification or 0,
        "proof_sha256": proof,
        "commission_sha256": commission,
    }
    remark = field(params, "Remark", str, required=False) or ""
    return {"name": name, "remark": remark, "extra": extra, "problem": problem}


def add_sign(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    fields = _application(params)
    existing = account.signature(fields["name"])
    if existing is not None:
        code = (
            "InvalidParameterValue.SignAlreadyPassedCheck"
            if existing.status is ReviewStatus.APPROVED
            else "InvalidParameterValue.SignExistAndUnapproved"
        )
        raise TencentError(code, f"A signature named {fields['name']} already exists.")
    with account.transaction() as conn:
        new_id = FIRST_SIGN_ID + account.next_sequence(conn, "tencent:sign")
    fields["extra"]["sign_id"] = new_id
    try:
        account.create_signature(fields.pop("name"), **fields)
    except RuleViolation as error:
        raise TencentError("InvalidParameterValue.SignExistAndUnapproved", error.message) from None
    return {"AddSignStatus": {"SignId": new_id}}


def modify_sign(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    wanted = field(params, "SignId", int)
    current = _by_id(account, wanted, "FailedOperation.MissingSignatureToModify")
    fields = _application(params)
    fields["extra"]["sign_id"] = wanted
    try:
        account.update_signature(
            current.name,
            new_name=fields.pop("name"),
            updatable=(ReviewStatus.PENDING, ReviewStatus.REJECTED),
            **fields,
        )
    except RuleViolation as error:
        if error.kind is Violation.IMMUTABLE_APPROVED:
            raise TencentError(
                "InvalidParameterValue.SignAlreadyPassedCheck",
                "This signature has already been approved and cannot be modified.",
            ) from None
        raise TencentError("InvalidParameterValue.SignExistAndUnapproved", error.message) from None
    return {"ModifySignStatus": {"SignId": wanted}}


def delete_sign(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    current = _by_id(account, field(params, "SignId", int), "FailedOperation.SignIdNotExist")
    account.delete_signature(current.name, allow_pending=True)  # Tencent withdraws one under review
    return {"DeleteSignStatus": {"DeleteStatus": "return successfully!", "DeleteTime": int(account.now())}}


def describe_signs(account: SandboxAccount, params: dict[str, Any]) -> dict[str, Any]:
    international = field(params, "International", int)
    if international not in (0, 1):
        raise TencentError("InvalidParameterValue.InvalidInternational", "International must be 0 or 1.")
    signs = [s for s in account.signatures() if int(s.extra.get("international", 0)) == international]
    wanted = params.get("SignIdSet")
    if wanted:
        if not isinstance(wanted, list) or not all(isinstance(i, int) for i in wanted):
            raise TencentError("InvalidParameter", "SignIdSet must be a list of integers.")
        if len(wanted) > 100:
            raise TencentError("InvalidParameterValue.LimitVerifyFail", "SignIdSet holds at most 100 ids.")
        signs = [s for s in signs if sign_id(s) in set(wanted)]
    else:
        limit, offset = page(params, default_limit=10)
        signs = signs[offset : offset + limit]
    return {"DescribeSignListStatusSet": [_sign_json(s, international) for s in signs]}


def _sign_json(sign: SignatureRecord, international: int) -> dict[str, Any]:
    qualification = int(sign.extra.get("qualification_id", 0))
    return {
        "SignId": sign_id(sign),
        "International": international,
        "StatusCode": STATUS_CODE[sign.status],
        "ReviewReply": sign.reason,
        "SignName": sign.name,
        "CreateTime": int(sign.created_at),
        "QualificationId": qualification,
        "QualificationName": f"qualification {qualification}" if qualification else "",
        "QualificationStatusCode": 1 if qualification else 0,
    }
