"""Tencent signatures (``kind: Signature``): AddSmsSign, ModifySmsSign, DeleteSmsSign and reading one
back from DescribeSmsSignList (there is no read by name).

ModifySmsSign takes a signature only while it is pending review or rejected
(``SignAlreadyPassedCheck`` otherwise). ProofImage and CommissionImage are the decrypted files,
base64-encoded in memory for the call only.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

from reconciler.config.signature import TencentSignature
from reconciler.providers.base import ObservedSignature, ReviewStatus, SignatureRequest
from reconciler.providers.tencent.codes import STATUS

SIGN_TYPE = {"company": 0, "app": 1, "trademark": 4, "government": 5}
PURPOSE = {"self": 0, "others": 1}

TencentCall = Callable[[str, dict[str, Any]], Any]


def find(items: Iterable[Any], name: str) -> ObservedSignature | None:
    """The listed signature called ``name``, in our words (its SignId is the handle for changes)."""
    for item in items:
        if item.SignName != name:
            continue
        status = STATUS.get(int(item.StatusCode), ReviewStatus.PENDING)
        # What the list returns of what was submitted (SignType, DocumentType, SignPurpose, Remark
        # and the images never are): "" for no qualification.
        settings = {
            "international": "true" if item.International == 1 else "false",
            "qualificationId": str(item.QualificationId) if item.QualificationId else "",
        }
        return ObservedSignature(
            name=item.SignName,
            status=status,
            reason=(item.ReviewReply or "") if status is ReviewStatus.REJECTED else "",
            id=str(item.SignId),
            settings=settings,
        )
    return None


def fields(request: SignatureRequest) -> dict[str, Any]:
    settings = request.settings
    assert isinstance(settings, TencentSignature), "a Tencent signature request carries Tencent settings"
    found: dict[str, Any] = {
        "SignName": request.name,
        "SignType": SIGN_TYPE[settings.type],
        "DocumentType": settings.document_type,
        "International": 1 if settings.international else 0,
        "SignPurpose": PURPOSE[settings.purpose],
        "ProofImage": base64.b64encode(request.file("proofImage")).decode(),
        "Remark": settings.remark,
    }
    if settings.commission_image is not None:
        found["CommissionImage"] = base64.b64encode(request.file("commissionImage")).decode()
    if settings.qualification_id is not None:
        found["QualificationId"] = settings.qualification_id
    return found


def create(call: TencentCall, request: SignatureRequest) -> None:
    call("AddSmsSign", fields(request))


def update(call: TencentCall, observed: ObservedSignature, request: SignatureRequest) -> None:
    call("ModifySmsSign", {"SignId": int(observed.id), **fields(request)})


def delete(call: TencentCall, observed: ObservedSignature) -> None:
    call("DeleteSmsSign", {"SignId": int(observed.id)})
