"""Alibaba signatures (``kind: Signature``): GetSmsSign, CreateSmsSign, UpdateSmsSign, DeleteSmsSign.

The offline AddSmsSign/ModifySmsSign are not used. UpdateSmsSign takes only a rejected signature and
sends it back to review; DeleteSmsSign refuses one under review. Supplementary materials
(``moreData``) go in ``MoreData`` as data URIs of the decrypted files, built in memory for the call.
Carrier filings (``SignIspRegisterDetailList``) are read back in our words.
"""

from __future__ import annotations

import base64
from typing import Any

from reconciler.config.signature import AlibabaSignature
from reconciler.errors import ProviderError
from reconciler.providers.alibaba import codes
from reconciler.providers.alibaba.transport import AlibabaTransport
from reconciler.providers.base import CarrierFiling, ObservedSignature, ReviewStatus, SignatureRequest

SOURCE = {"organisation": 0, "app": 2, "trademark": 5}
TYPE = {"verification": 0, "general": 1}
# SignIspRegisterDetailList RegisterStatus (reference/providers.md §1.3)
FILING = {0: "failed", 1: "pending verification", 2: "expired", 3: "filed", -1: "filing", -2: "not filed"}
# SignUsage of a verification-code signature (SignType 0); any other usage is a general one.
VERIFICATION_USAGE = "验证码"
_MEDIA = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "pdf": "application/pdf"}


def read_sign(transport: AlibabaTransport, name: str) -> ObservedSignature | None:
    """The signature ``name`` as GetSmsSign reports it, or None when there is none."""
    request = transport.models.GetSmsSignRequest(sign_name=name)
    try:
        body = transport.call("GetSmsSign", "get_sms_sign", request, write=False)
    except ProviderError as error:
        if error.code in codes.SIGN_MISSING or error.code.endswith(("NOT_EXIST", "NotFound", "NOT_FOUND")):
            return None
        raise
    reason = body.audit_info.reject_info if body.audit_info is not None else ""
    filings = tuple(
        CarrierFiling(
            operator=str(item.operator_code or "?"),
            status=FILING.get(codes.as_int(item.register_status), str(item.register_status)),
        )
        for item in body.sign_isp_register_detail_list or ()
    )
    return ObservedSignature(
        name=body.sign_name or name,
        status=codes.STATUS.get(codes.as_int(body.sign_status), ReviewStatus.PENDING),
        reason=reason or "",
        filings=filings,
        settings=_reported(body),
    )


def _reported(body: Any) -> dict[str, str]:
    """What GetSmsSign returns of what was submitted, as the Signature document writes it: the ids
    always ("" when none is linked); remark, third party and type (from SignUsage) when answered.
    SignSource and the supplementary files are never returned."""
    settings = {
        key: "" if value in (None, "") else str(value)
        for key, value in (
            ("qualificationId", body.qualification_id),
            ("appIcpRecordId", body.app_icp_record_id),
            ("trademarkId", body.trademark_id),
            ("authorizationLetterId", body.authorization_letter_id),
        )
    }
    if body.remark is not None:
        settings["remark"] = body.remark
    if body.third_party is not None:
        settings["thirdParty"] = "true" if body.third_party else "false"
    if body.sign_usage:
        settings["type"] = "verification" if VERIFICATION_USAGE in body.sign_usage else "general"
    return settings


def _fields(request: SignatureRequest) -> dict[str, Any]:
    settings = request.settings
    assert isinstance(settings, AlibabaSignature), "an Alibaba signature request carries Alibaba settings"
    more = [
        f"data:{_MEDIA[ref.suffix]};base64,{base64.b64encode(request.file(f'moreData.{index}')).decode()}"
        for index, ref in enumerate(settings.more_data)
    ]
    return {
        "sign_name": request.name,
        "sign_source": SOURCE[settings.source],
        "sign_type": TYPE[settings.type],
        "qualification_id": int(settings.qualification_id),
        "third_party": settings.third_party,
        "remark": settings.remark or None,
        "app_icp_record_id": int(settings.app_icp_record_id) if settings.app_icp_record_id else None,
        "trademark_id": int(settings.trademark_id) if settings.trademark_id else None,
        "authorization_letter_id": int(settings.authorization_letter_id) if settings.authorization_letter_id else None,
        "more_data": more or None,
    }


class AlibabaSignatures:
    """The signature writes of ``AlibabaProvider``, through its transport."""

    def __init__(self, transport: AlibabaTransport) -> None:
        self.transport = transport

    def read(self, name: str) -> ObservedSignature | None:
        return read_sign(self.transport, name)

    def create(self, request: SignatureRequest) -> None:
        model = self.transport.models.CreateSmsSignRequest(**_fields(request))
        self.transport.call("CreateSmsSign", "create_sms_sign", model, write=True)

    def update(self, observed: ObservedSignature, request: SignatureRequest) -> None:
        model = self.transport.models.UpdateSmsSignRequest(**_fields(request))
        self.transport.call("UpdateSmsSign", "update_sms_sign", model, write=True)

    def delete(self, observed: ObservedSignature) -> None:
        model = self.transport.models.DeleteSmsSignRequest(sign_name=observed.name)
        self.transport.call("DeleteSmsSign", "delete_sms_sign", model, write=True)
