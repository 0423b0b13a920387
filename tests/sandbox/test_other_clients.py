"""Every operation the emulators serve, driven through an official client other than the one smsops
uses (the older Alibaba SDK, tccli, the aws CLI), and every raw answer checked against the response
metadata of the official SDKs (Alibaba Tea models, Tencent models.py and errorcodes.py, botocore's
service-2.json and paginators)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkdysmsapi.request.v20170525 import (
    AddSmsSignRequest,
    QuerySmsSignRequest,
    QuerySmsTemplateRequest,
    SendBatchSmsRequest,
)
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from reconciler.sandbox.alibaba.emulator import AlibabaEmulator
from reconciler.sandbox.aws.emulator import OPERATIONS as AWS_OPERATIONS
from reconciler.sandbox.tencent.emulator import OPERATIONS as TENCENT_OPERATIONS
from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    AWS_TEST_VERIFIED,
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxFactory,
)
from tests.sandbox.clients import AwsCli, OldAlibaba, Recorder, Tccli, aws_environment
from tests.sandbox.metadata import alibaba_problems, aws_model, aws_problems, tea_problems, tencent_problems

# tccli's own import of the deprecated ``imp`` module.
pytestmark = pytest.mark.filterwarnings("ignore:the imp module is deprecated:DeprecationWarning")

ALIBABA_OPERATIONS = {name[3:] for name in dir(AlibabaEmulator) if name.startswith("op_")}


def problems_of(recorder: Recorder) -> list[str]:
    check = {"alibaba": alibaba_problems, "tencent": tencent_problems, "aws": aws_problems}
    return [
        f"{a.provider} {a.operation}: {p}"
        for a in recorder.answers
        for p in check[a.provider](a.operation, a.status, a.body)
    ]


def test_aws_cli_drives_every_operation(
    sandbox_factory: SandboxFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    handle = sandbox_factory.start("aws")
    recorder = Recorder()
    recorder.install(handle.running, monkeypatch)
    with aws_environment(monkeypatch, AWS_TEST_KEY_ID, AWS_TEST_SECRET, str(tmp_path)):
        aws = AwsCli(handle.url("aws"))
        assert aws("describe-account-attributes")[1]["AccountAttributes"][0]["Value"] == "SANDBOX"
        for sender in ("OnePro", "Second", "Third"):
            code, out = aws("request-sender-id", "--sender-id", sender, "--iso-country-code", "GB",
                            "--deletion-protection-enabled", "--tags", "Key=team,Value=a")  # fmt: skip
            assert code == 0, out
        released_arn = out["SenderIdArn"]
        # The CLI pages through NextToken itself (botocore's paginator for DescribeSenderIds).
        code, listed = aws("describe-sender-ids", "--page-size", "1")
        assert [s["SenderId"] for s in listed["SenderIds"]] == ["OnePro", "Second", "Third"]
        assert aws("release-sender-id", "--sender-id", "Third", "--iso-country-code", "GB")[0] == 255  # protected
        assert aws("update-sender-id", "--sender-id", "Third", "--iso-country-code", "GB",
                   "--no-deletion-protection-enabled")[0] == 0  # fmt: skip
        assert aws("release-sender-id", "--sender-id", "Third", "--iso-country-code", "GB")[1]["SenderId"] == "Third"
        arn = aws("describe-sender-ids")[1]["SenderIds"][0]["SenderIdArn"]
        assert aws("tag-resource", "--resource-arn", arn, "--tags", "Key=owner,Value=ops")[0] == 0
        assert aws("untag-resource", "--resource-arn", arn, "--tag-keys", "owner")[0] == 0
        assert aws("list-tags-for-resource", "--resource-arn", arn)[1]["Tags"] == [{"Key": "team", "Value": "a"}]
        assert aws("list-tags-for-resource", "--resource-arn", released_arn)[0] == 255
        assert aws("create-configuration-set", "--configuration-set-name", "events")[0] == 0
        assert aws("describe-configuration-sets")[1]["ConfigurationSets"][0]["ConfigurationSetName"] == "events"
        assert aws("delete-configuration-set", "--configuration-set-name", "events")[0] == 0
        assert aws("describe-phone-numbers")[1] == {"PhoneNumbers": []}
        assert aws("describe-pools")[1] == {"Pools": []}
        assert aws("describe-pools", "--pool-ids", "pool-1")[0] == 255
        phone = "+447700900555"
        verified = aws("create-verified-destination-number", "--destination-phone-number", phone)[1]
        number_id = verified["VerifiedDestinationNumberId"]
        assert aws("send-destination-number-verification-code", "--verified-destination-number-id", number_id,
                   "--verification-channel", "TEXT")[0] == 0  # fmt: skip
        code_sent = [s for s in handle.aws_account.sends() if s.phone == phone.lstrip("+")][-1]
        otp = "".join(ch for ch in code_sent.content if ch.isdigit())[-6:]
        assert aws("verify-destination-number", "--verified-destination-number-id", number_id,
                   "--verification-code", otp)[1]["Status"] == "VERIFIED"  # fmt: skip
        assert len(aws("describe-verified-destination-numbers")[1]["VerifiedDestinationNumbers"]) == 3
        sent = aws("send-text-message", "--destination-phone-number", AWS_TEST_VERIFIED[0],
                   "--origination-identity", "OnePro", "--message-body", "hello")[1]  # fmt: skip
        assert sent["MessageId"]
    assert "\n".join(problems_of(recorder)) == ""
    assert recorder.operations("aws") == set(AWS_OPERATIONS)
    assert set(AWS_OPERATIONS) <= set(aws_model().operation_names)


def test_aws_paginated_answers_carry_the_paginators_keys(sandbox_factory: SandboxFactory) -> None:
    import botocore.session

    paginators = botocore.session.get_session().get_paginator_model("pinpoint-sms-voice-v2")
    client = sandbox_factory.start("aws").aws_client()
    served = [op for op in AWS_OPERATIONS if paginators._paginator_config.get(op)]
    assert served, "no paginated operation served"
    for operation in served:
        config = paginators.get_paginator(operation)
        answer = getattr(client, botocore.xform_name(operation))(MaxResults=1)
        assert config["result_key"] in answer, operation
        assert config["output_token"] == "NextToken" and config["input_token"] == "NextToken"


def test_tccli_drives_every_operation(
    sandbox_factory: SandboxFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    handle = sandbox_factory.start("tencent")
    handle.tencent_account.configure(api_rates={"AddSmsSign": 0, "ModifySmsSign": 0, "DeleteSmsSign": 0})
    recorder = Recorder()
    recorder.install(handle.running, monkeypatch)
    monkeypatch.setenv("HOME", str(tmp_path))  # tccli reads ~/.tccli; there is none
    for name, value in (("TENCENTCLOUD_SECRET_ID", TENCENT_TEST_SECRET_ID),
                        ("TENCENTCLOUD_SECRET_KEY", TENCENT_TEST_SECRET_KEY),
                        ("TENCENTCLOUD_REGION", "ap-guangzhou")):  # fmt: skip
        monkeypatch.setenv(name, value)
    tccli = Tccli(handle.endpoint("tencent"), monkeypatch)
    proof = base64.b64encode(b"proof").decode()
    sign = {"SignType": 0, "DocumentType": 1, "International": 0, "SignPurpose": 0, "ProofImage": proof,
            "QualificationId": 7}  # fmt: skip
    sign_id = tccli("AddSmsSign", SignName="Acme", **sign)["AddSignStatus"]["SignId"]
    assert tccli("ModifySmsSign", SignId=sign_id, SignName="AcmeCo", **sign)["ModifySignStatus"]["SignId"] == sign_id
    listed = tccli("DescribeSmsSignList", International=0)["DescribeSignListStatusSet"]
    assert {s["SignName"] for s in listed} == {"OnePro", "AcmeCo"}
    assert tccli("DeleteSmsSign", SignId=sign_id)["DeleteSignStatus"]["DeleteStatus"] == "return successfully!"
    template = {"TemplateName": "login", "TemplateContent": "Code {1}", "SmsType": 3, "International": 0,
                "Remark": "sign-in"}  # fmt: skip
    template_id = tccli("AddSmsTemplate", **template)["AddTemplateStatus"]["TemplateId"]
    modified = tccli("ModifySmsTemplate", TemplateId=int(template_id), **{**template, "TemplateContent": "Code: {1}"})
    assert modified["ModifyTemplateStatus"]["TemplateId"] == int(template_id)
    handle.clock.advance(handle.tencent_account.behaviour.review_delay_s)
    described = tccli("DescribeSmsTemplateList", International=0, TemplateIdSet=[int(template_id)])
    assert described["DescribeTemplateStatusSet"][0]["StatusCode"] == 0
    sent = tccli("SendSms", PhoneNumberSet=["+8613812345678"], SmsSdkAppId=TENCENT_TEST_APP_ID,
                 TemplateId=template_id, SignName="OnePro", TemplateParamSet=["1234"])  # fmt: skip
    assert sent["SendStatusSet"][0]["Code"] == "Ok"
    handle.clock.advance(handle.tencent_account.behaviour.delivery_delay_s)
    pulled = tccli("PullSmsSendStatus", Limit=10, SmsSdkAppId=TENCENT_TEST_APP_ID)["PullSmsSendStatusSet"]
    assert [p["ReportStatus"] for p in pulled] == ["SUCCESS"]
    begin = int(handle.clock.now()) - 60
    by_phone = tccli("PullSmsSendStatusByPhoneNumber", BeginTime=begin, Offset=0, Limit=10,
                     PhoneNumber="+8613812345678", SmsSdkAppId=TENCENT_TEST_APP_ID)  # fmt: skip
    assert len(by_phone["PullSmsSendStatusSet"]) == 1
    assert tccli("DeleteSmsTemplate", TemplateId=int(template_id))["DeleteTemplateStatus"]["DeleteTime"] > 0
    with pytest.raises(TencentCloudSDKException) as gone:
        tccli("DeleteSmsSign", SignId=sign_id)
    assert gone.value.code == "FailedOperation.SignIdNotExist"
    assert "\n".join(problems_of(recorder)) == ""
    assert recorder.operations("tencent") == set(TENCENT_OPERATIONS)


def test_older_alibaba_sdk_drives_every_operation(
    sandbox_factory: SandboxFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = sandbox_factory.start("alibaba")
    recorder = Recorder()
    recorder.install(handle.running, monkeypatch)
    old = OldAlibaba(AcsClient(*handle.credentials, "cn-hangzhou"), handle.endpoint("alibaba"))
    # Signatures: the current writes, with every parameter in the POST form body (signed there too).
    sign = {"SignName": "Acme", "SignSource": 0, "QualificationId": 42, "SignType": 1, "Remark": "brand"}
    assert old.call("CreateSmsSign", body=sign)["Code"] == "OK"
    assert old.call("UpdateSmsSign", body=sign)["Code"] == "isv.SIGN_STATE_ILLEGAL"  # under review
    assert old.call("QuerySmsSign", SignName="Acme")["SignStatus"] == 0
    handle.clock.advance(handle.account.behaviour.review_delay_s)
    assert old.call("GetSmsSign", SignName="Acme")["SignIspRegisterDetailList"][0]["RegisterStatus"] == 3
    assert old.call("QuerySmsSignList", PageIndex=1, PageSize=50)["TotalCount"] == 5
    offline = AddSmsSignRequest.AddSmsSignRequest()
    offline.set_SignName("Old")
    offline.set_SignSource(0)
    offline.set_Remark("r")
    offline.set_SignFileLists([{"FileContents": base64.b64encode(b"x").decode(), "FileSuffix": "jpg"}])
    assert old.send(offline)["Code"] == "isv.INTERFACE_OFFLINE"
    for action in ("ModifySmsSign", "AddSmsTemplate", "ModifySmsTemplate"):
        assert old.call(action, SignName="Old", TemplateCode="SMS_1")["Code"] == "isv.INTERFACE_OFFLINE"
    # Templates.
    rule = json.dumps({"code": "numberCaptcha"})
    template = {"TemplateName": "login", "TemplateContent": "Code ${code}", "TemplateType": 0,
                "RelatedSignName": "Acme", "TemplateRule": rule, "Remark": "r"}  # fmt: skip
    code = old.call("CreateSmsTemplate", **template)["TemplateCode"]
    handle.account.reject(code, "too short")
    assert old.call("UpdateSmsTemplate", TemplateCode=code, **template)["Code"] == "OK"
    handle.clock.advance(handle.account.behaviour.review_delay_s)
    query = QuerySmsTemplateRequest.QuerySmsTemplateRequest()
    query.set_TemplateCode(code)
    assert old.send(query)["TemplateStatus"] == 1
    assert old.call("GetSmsTemplate", TemplateCode=code)["TemplateStatus"] == "1"
    assert old.call("QuerySmsTemplateList", PageIndex=1, PageSize=10)["TotalCount"] == 1
    assert old.call("GetSmsTemplateList", PageIndex=1, PageSize=10)["Data"]["Total"] == 1
    tags = {"RegionId": "cn-hangzhou", "ResourceType": "TEMPLATE", "ResourceId.1": code}
    assert old.call("TagResources", **tags, **{"Tag.1.Key": "team", "Tag.1.Value": "a"})["Code"] == "OK"
    assert old.call("ListTagResources", **tags)["TagResources"]["TagResource"][0]["TagKey"] == "team"
    assert old.call("UntagResources", **tags, **{"TagKey.1": "team"})["Code"] == "OK"
    # Sending.
    assert old.call("SendSms", PhoneNumbers="13800001234", SignName="Acme", TemplateCode=code,
                    TemplateParam=json.dumps({"code": "1234"}))["Code"] == "OK"  # fmt: skip
    batch = SendBatchSmsRequest.SendBatchSmsRequest()
    batch.set_TemplateCode(code)
    batch.set_PhoneNumberJson(json.dumps(["13800005678"]))
    batch.set_SignNameJson(json.dumps(["Acme"]))
    batch.set_TemplateParamJson(json.dumps([{"code": "5678"}]))
    biz_id = old.send(batch)["BizId"]
    day = "20260101"
    details = old.call("QuerySendDetails", PhoneNumber="13800005678", SendDate=day, PageSize=10, CurrentPage=1,
                       BizId=biz_id)  # fmt: skip
    assert details["SmsSendDetailDTOs"]["SmsSendDetailDTO"][0]["Content"] == "【Acme】Code 5678"
    assert old.call("DeleteSmsTemplate", TemplateCode=code)["TemplateCode"] == code
    assert old.call("DeleteSmsSign", SignName="Acme")["SignName"] == "Acme"
    # A wrong secret: the gateway's string to sign lets the old SDK tell a wrong secret from a bad request.
    wrong = OldAlibaba(AcsClient(handle.access_key_id, "not-the-secret", "cn-hangzhou"), old.endpoint)
    sign_query = QuerySmsSignRequest.QuerySmsSignRequest()
    sign_query.set_SignName("OnePro")
    with pytest.raises(ServerException) as refused:
        wrong.send(sign_query)
    assert (refused.value.get_error_code(), refused.value.get_http_status()) == ("InvalidAccessKeySecret", 400)
    assert "\n".join(problems_of(recorder)) == ""
    assert recorder.operations("alibaba") == ALIBABA_OPERATIONS


def test_the_metadata_checks_find_what_is_wrong() -> None:
    from alibabacloud_dysmsapi20170525.models import GetSmsSignResponseBody

    alibaba = tea_problems({"SignStatus": "1", "Bogus": 1, "AuditInfo": {"RejectInfo": 2}}, GetSmsSignResponseBody)
    assert alibaba == [
        "SignStatus: '1' is not int",
        "Bogus: not a field of GetSmsSignResponseBody",
        "AuditInfo.RejectInfo: 2 is not str",
    ]
    tencent = {"Response": {"AddSignStatus": {"SignId": "7"}, "RequestId": "r"}}
    assert tencent_problems("AddSmsSign", 200, tencent) == ["Response.AddSignStatus.SignId: '7' is not int"]
    unknown = {"Response": {"Error": {"Code": "FailedOperation.Nope", "Message": "m"}, "RequestId": "r"}}
    assert tencent_problems("AddSmsSign", 200, unknown) == ["error code FailedOperation.Nope unknown to the SDK"]
    aws = aws_problems("RequestSenderId", 200, {"SenderId": "A", "MessageTypes": ["LOUD"]})
    assert "RequestSenderId.MessageTypes[0]: 'LOUD' is not one of MessageType" in aws
    assert "RequestSenderId.SenderIdArn: required member missing" in aws
    assert aws_problems("UpdateSenderId", 409, {"__type": "ConflictException", "Message": "m"}) == [
        "ConflictException is not an error UpdateSenderId declares"
    ]
