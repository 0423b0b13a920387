"""Signature writes with review, in the three emulators, through the official SDKs smsops uses,
and the sandbox commands that decide a signature's review by hand."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from alibabacloud_dysmsapi20170525 import models as m
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20210111 import models as tm

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.alibaba.signs import REASON_NO_AUTHORIZATION
from reconciler.sandbox.control import ControlClient
from reconciler.sandbox.store.account import Sandbox
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.tencent.signs import REASON_COMMISSION
from reconciler.sandbox.testing import SandboxHandle

REVIEW = Behaviour().review_delay_s
PROOF = base64.b64encode(b"proof-document-bytes").decode()


def create_sign(client: Any, name: str = "Acme", **overrides: Any) -> Any:
    fields: dict[str, Any] = {"sign_name": name, "sign_source": 0, "qualification_id": 42, "remark": "Our brand."}
    fields.update(overrides)
    return client.create_sms_sign(m.CreateSmsSignRequest(**fields)).body


def get_sign(client: Any, name: str = "Acme") -> Any:
    return client.get_sms_sign(m.GetSmsSignRequest(sign_name=name)).body


def test_alibaba_sign_is_reviewed_then_filed_then_serves_templates(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    created = create_sign(client)
    assert (created.code, created.sign_name, created.order_id.isdigit()) == ("OK", "Acme", True)
    pending = get_sign(client)
    assert (pending.sign_status, pending.qualification_id) == (0, 42)
    assert {d.register_status for d in pending.sign_isp_register_detail_list} == {-2}
    template = m.CreateSmsTemplateRequest(
        template_name="n", template_content="Hello", template_type=1, related_sign_name="Acme", remark="r"
    )
    assert client.create_sms_template(template).body.code == "isv.SMS_SIGNATURE_ILLEGAL"  # not approved yet
    sms_sandbox.clock.advance(REVIEW)
    approved = get_sign(client)
    assert approved.sign_status == 1
    assert [(d.operator_code, d.register_status) for d in approved.sign_isp_register_detail_list] == [
        ("mobile", 3),
        ("unicom", 3),
        ("telecom", 3),
    ]
    assert client.create_sms_template(template).body.code == "OK"
    queried = client.query_sms_sign(m.QuerySmsSignRequest(sign_name="Acme")).body
    assert (queried.sign_status, queried.reason) == (1, "")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"sign_name": "A"}, "isv.SIGN_NAME_ILLEGAL"),
        ({"sign_name": "ThirteenChars"}, "isv.SIGN_NAME_ILLEGAL"),
        ({"sign_name": "【Acme】"}, "isv.SIGN_NAME_ILLEGAL"),
        ({"sign_name": "AcmeTest"}, "isv.SIGN_NAME_ILLEGAL"),
        ({"qualification_id": None}, "isv.INVALID_PARAMETERS"),
        ({"sign_source": 1}, "isv.INVALID_PARAMETERS"),
        ({"sign_source": 5}, "isv.INVALID_PARAMETERS"),  # a trademark sign names its TrademarkId
        ({"sign_type": 2}, "isv.INVALID_PARAMETERS"),
    ],
)
def test_alibaba_sign_rules(sms_sandbox: SandboxHandle, overrides: dict[str, Any], code: str) -> None:
    assert create_sign(sms_sandbox.alibaba_client(), **overrides).code == code


def test_alibaba_rejected_sign_is_updated_in_place_and_only_then(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    assert create_sign(client, third_party=True).code == "OK"
    assert client.update_sms_sign(
        m.UpdateSmsSignRequest(sign_name="Acme", sign_source=0, qualification_id=42)
    ).body.code == (
        "isv.SIGN_STATE_ILLEGAL"  # under review
    )
    assert client.delete_sms_sign(m.DeleteSmsSignRequest(sign_name="Acme")).body.code == "isv.SIGN_STATE_ILLEGAL"
    sms_sandbox.clock.advance(REVIEW)
    rejected = get_sign(client)
    assert (rejected.sign_status, rejected.audit_info.reject_info) == (2, REASON_NO_AUTHORIZATION)
    fixed = m.UpdateSmsSignRequest(
        sign_name="Acme", sign_source=0, qualification_id=42, third_party=True, authorization_letter_id=7
    )
    assert client.update_sms_sign(fixed).body.code == "OK"
    assert get_sign(client).sign_status == 0
    sms_sandbox.clock.advance(REVIEW)
    assert get_sign(client).sign_status == 1
    assert client.update_sms_sign(fixed).body.code == "isv.SIGN_STATE_ILLEGAL"  # approved: immutable
    assert create_sign(client).code == "isv.SIGN_NAME_ILLEGAL"  # the name is taken
    assert client.delete_sms_sign(m.DeleteSmsSignRequest(sign_name="Acme")).body.sign_name == "Acme"
    assert get_sign(client).code == "isv.SMS_SIGNATURE_ILLEGAL"


def test_alibaba_verification_sign_serves_verification_templates_only(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    create_sign(client, "Codes", sign_type=0)
    sms_sandbox.clock.advance(REVIEW)
    assert get_sign(client, "Codes").sign_usage == "验证码"
    notification = m.CreateSmsTemplateRequest(
        template_name="n", template_content="Hello", template_type=1, related_sign_name="Codes", remark="r"
    )
    assert client.create_sms_template(notification).body.code == "isv.SMS_SIGNATURE_SCENE_ILLEGAL"


def test_alibaba_old_sign_writes_are_offline(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    request = m.AddSmsSignRequest(sign_name="Acme", sign_source=0, remark="r", sign_file_list=[])
    assert client.add_sms_sign(request).body.code == "isv.INTERFACE_OFFLINE"


TENCENT_SIGN: dict[str, Any] = {
    "SignName": "Acme",
    "SignType": 0,
    "DocumentType": 1,
    "International": 0,
    "SignPurpose": 0,
    "ProofImage": PROOF,
    "QualificationId": 9,
}


def add_sign(client: Any, **overrides: Any) -> Any:
    request = tm.AddSmsSignRequest()
    fields = {**TENCENT_SIGN, **overrides}
    request.from_json_string(json.dumps({k: v for k, v in fields.items() if v is not None}))
    return client.AddSmsSign(request)


def describe_signs(client: Any, **fields: Any) -> list[Any]:
    request = tm.DescribeSmsSignListRequest()
    request.International = 0
    for key, value in fields.items():
        setattr(request, key, value)
    return list(client.DescribeSmsSignList(request).DescribeSignListStatusSet)


def modify_sign(client: Any, sign_id: int, **overrides: Any) -> Any:
    request = tm.ModifySmsSignRequest()
    request.SignId = sign_id
    for key, value in {**TENCENT_SIGN, **overrides}.items():
        setattr(request, key, value)
    return client.ModifySmsSign(request)


def test_tencent_sign_lifecycle(tencent_sandbox: SandboxHandle) -> None:
    client = tencent_sandbox.tencent_client()
    tencent_sandbox.tencent_account.configure(api_rates={"AddSmsSign": 0, "ModifySmsSign": 0, "DeleteSmsSign": 0})
    sign_id = add_sign(client, SignPurpose=1).AddSignStatus.SignId
    listed = {s.SignName: s for s in describe_signs(client)}  # Limit and Offset are optional
    assert (listed["Acme"].SignId, listed["Acme"].StatusCode, listed["Acme"].QualificationId) == (sign_id, 1, 9)
    tencent_sandbox.clock.advance(REVIEW)
    rejected = describe_signs(client, SignIdSet=[sign_id])[0]
    assert (rejected.StatusCode, rejected.ReviewReply) == (-1, REASON_COMMISSION)
    assert modify_sign(client, sign_id, SignName="AcmeCo").ModifySignStatus.SignId == sign_id
    tencent_sandbox.clock.advance(REVIEW)
    assert [(s.SignName, s.StatusCode) for s in describe_signs(client, SignIdSet=[sign_id])] == [("AcmeCo", 0)]
    with pytest.raises(TencentCloudSDKException) as passed:
        modify_sign(client, sign_id)
    assert passed.value.code == "InvalidParameterValue.SignAlreadyPassedCheck"
    with pytest.raises(TencentCloudSDKException) as taken:
        add_sign(client, SignName="AcmeCo")
    assert taken.value.code == "InvalidParameterValue.SignAlreadyPassedCheck"
    request = tm.DeleteSmsSignRequest()
    request.SignId = sign_id
    assert client.DeleteSmsSign(request).DeleteSignStatus.DeleteStatus == "return successfully!"
    with pytest.raises(TencentCloudSDKException) as gone:
        client.DeleteSmsSign(request)
    assert gone.value.code == "FailedOperation.SignIdNotExist"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"SignName": "A" * 13}, "InvalidParameterValue.SignNameLengthTooLong"),
        ({"ProofImage": "not base64!"}, "InvalidParameterValue.ImageInvalid"),
        ({"ProofImage": None}, "MissingParameter"),
        ({"QualificationId": None}, "InvalidParameterValue.QualificationIdNotFound"),
        ({"SignPurpose": 2}, "InvalidParameterValue.InvalidSignPurpose"),
        ({"DocumentType": 5}, "InvalidParameterValue.InvalidDocumentType"),
    ],
)
def test_tencent_sign_rules(tencent_sandbox: SandboxHandle, overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(TencentCloudSDKException) as refused:
        add_sign(tencent_sandbox.tencent_client(), **overrides)
    assert refused.value.code == code


def test_tencent_sign_writes_are_limited_to_one_a_second(tencent_sandbox: SandboxHandle) -> None:
    client = tencent_sandbox.tencent_client()
    add_sign(client)
    with pytest.raises(TencentCloudSDKException) as limited:
        add_sign(client, SignName="Other")
    assert limited.value.code == "RequestLimitExceeded"
    tencent_sandbox.clock.advance(1)
    assert add_sign(client, SignName="Other").AddSignStatus.SignId > 0


def test_aws_sender_id_deletion_protection_guards_release(aws_sandbox: SandboxHandle) -> None:
    client = aws_sandbox.aws_client()
    client.request_sender_id(SenderId="OnePro", IsoCountryCode="GB", DeletionProtectionEnabled=True)
    with pytest.raises(client.exceptions.ConflictException) as protected:
        client.release_sender_id(SenderId="OnePro", IsoCountryCode="GB")
    assert protected.value.response["Reason"] == "DELETION_PROTECTION_ENABLED"
    updated = client.update_sender_id(SenderId="OnePro", IsoCountryCode="GB", DeletionProtectionEnabled=False)
    assert updated["DeletionProtectionEnabled"] is False
    released = client.release_sender_id(SenderId="OnePro", IsoCountryCode="GB")
    assert (released["SenderId"], released["IsoCountryCode"]) == ("OnePro", "GB")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.update_sender_id(SenderId="OnePro", IsoCountryCode="GB")


def test_aws_tags_by_arn(aws_sandbox: SandboxHandle) -> None:
    client = aws_sandbox.aws_client()
    arn = client.request_sender_id(SenderId="OnePro", IsoCountryCode="GB", Tags=[{"Key": "team", "Value": "a"}])[
        "SenderIdArn"
    ]
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "ops"}, {"Key": "team", "Value": "b"}])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "owner", "Value": "ops"},
        {"Key": "team", "Value": "b"},
    ]
    client.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "owner", "Value": "ops"}]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_resource(ResourceArn=arn.replace("OnePro", "Nobody"))
    config = client.create_configuration_set(ConfigurationSetName="events")
    client.tag_resource(ResourceArn=config["ConfigurationSetArn"], Tags=[{"Key": "k", "Value": "v"}])
    assert client.delete_configuration_set(ConfigurationSetName="events")["ConfigurationSetName"] == "events"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_configuration_set(ConfigurationSetName="events")
    assert client.describe_phone_numbers()["PhoneNumbers"] == []
    assert client.describe_pools()["Pools"] == []


def test_sandbox_commands_decide_a_signature(tmp_path: Path, run_cli: Any) -> None:
    state = tmp_path / "state"
    account = Sandbox(state).create_account("acme", provider="alibaba", access_keys={})
    account.configure(auto_review=False)
    account.create_signature("Acme", remark="brand")
    assert run_cli("sandbox", "reject-signature", "Acme", "--reason", "blurry proof", "--state-dir", str(state)) == (
        0,
        "signature Acme: rejected (blurry proof)\n",
        "",
    )
    assert account.signature("Acme").reason == "blurry proof"  # type: ignore[union-attr]
    assert run_cli("sandbox", "approve-signature", "Acme", "--state-dir", str(state))[:2] == (
        0,
        "signature Acme: approved\n",
    )
    assert account.signature("Acme").status is ReviewStatus.APPROVED  # type: ignore[union-attr]
    code, _, err = run_cli("sandbox", "approve-signature", "Nobody", "--state-dir", str(state))
    assert (code, err.splitlines()[0]) == (1, "error: signature Nobody does not exist")


def test_control_api_decides_a_signature_and_its_filing(sms_sandbox: SandboxHandle) -> None:
    sms_sandbox.account.configure(auto_review=False)
    sms_sandbox.account.create_signature("品牌", remark="brand")
    control = ControlClient(sms_sandbox.url())
    assert control.approve_signature("test-alibaba", "品牌")["status"] == "approved"
    control.call("POST", f"accounts/test-alibaba/signatures/{quote('品牌')}/filing", {"mobile": 1})
    filed = get_sign(sms_sandbox.alibaba_client(), "品牌").sign_isp_register_detail_list
    assert [(d.operator_code, d.register_status) for d in filed][:2] == [("mobile", 1), ("unicom", 3)]
    assert control.reject_signature("test-alibaba", "品牌", "no")["reason"] == "no"
