"""The Tencent SMS emulator, driven only through the official tencentcloud SDK over loopback."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20210111 import models

from reconciler.sandbox.store.account import ManualClock, SandboxAccount
from reconciler.sandbox.tencent.ops import set_effect_delay
from reconciler.sandbox.testing import TENCENT_TEST_APP_ID, SandboxHandle

# The SDK warns about response fields its models do not know; any such field is a bug here.
pytestmark = pytest.mark.filterwarnings("error:.*fileds are useless")

APP_ID = TENCENT_TEST_APP_ID
PHONE = "+8613812345678"
VERIFY = "Your login code is {1}. It expires in {2} minutes."


@dataclass
class Env:
    handle: SandboxHandle
    sleeps: list[float] = field(default_factory=list)

    @property
    def account(self) -> SandboxAccount:
        return self.handle.tencent_account

    @property
    def clock(self) -> ManualClock:
        return self.handle.clock

    @property
    def emulator(self) -> Any:
        return self.handle.running.emulators["tencent"]

    def client(self, **credentials: str) -> Any:
        return self.handle.tencent_client(**credentials)


@pytest.fixture
def env(tencent_sandbox: SandboxHandle) -> Env:
    result = Env(tencent_sandbox)
    result.emulator.sleep = result.sleeps.append  # latency faults are recorded, not slept
    return result


def call(client: Any, action: str, **params: Any) -> Any:
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return getattr(client, action)(request)


def error_of(client: Any, action: str, **params: Any) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as caught:
        call(client, action, **params)
    return caught.value


def add(client: Any, content: str = VERIFY, sms_type: int = 3, international: int = 0, **extra: Any) -> str:
    fields = {
        "TemplateName": "login",
        "TemplateContent": content,
        "SmsType": sms_type,
        "International": international,
        "Remark": "sent at sign-in",
        **extra,
    }
    template_id: str = call(client, "AddSmsTemplate", **fields).AddTemplateStatus.TemplateId
    return template_id


def describe(client: Any, *ids: str, international: int = 0) -> list[Any]:
    response = call(client, "DescribeSmsTemplateList", International=international, TemplateIdSet=[int(i) for i in ids])
    result: list[Any] = response.DescribeTemplateStatusSet
    return result


def approved(env: Env, content: str = VERIFY, **kwargs: Any) -> str:
    template_id = add(env.client(), content, **kwargs)
    env.clock.advance(env.account.behaviour.review_delay_s)
    return template_id


def send(
    client: Any,
    template_id: str,
    *phones: str,
    params: tuple[str, ...] = ("123456", "5"),
    sign: str = "OnePro",
    app: str = APP_ID,
) -> list[Any]:
    response = call(
        client,
        "SendSms",
        PhoneNumberSet=list(phones or (PHONE,)),
        SmsSdkAppId=app,
        TemplateId=template_id,
        SignName=sign,
        TemplateParamSet=list(params),
    )
    result: list[Any] = response.SendStatusSet
    return result


# -- templates -----------------------------------------------------------------------------------
def test_template_is_reviewed_then_approved(env: Env) -> None:
    client = env.client()
    template_id = add(client)
    assert template_id.isdigit()
    (pending,) = describe(client, template_id)
    assert (pending.TemplateId, pending.StatusCode, pending.TemplateContent) == (int(template_id), 1, VERIFY)
    assert pending.International == 0 and pending.TemplateName == "login" and pending.CreateTime > 0
    env.clock.advance(env.account.behaviour.review_delay_s)
    (done,) = describe(client, template_id)
    assert done.StatusCode == 0 and done.ReviewReply == ""
    assert (
        json.loads(call(client, "DescribeSmsTemplateList", International=0, Limit=10, Offset=0).to_json_string())[
            "DescribeTemplateStatusSet"
        ][0]["StatusCode"]
        == 0
    )


def test_review_rejects_by_rule_with_reply(env: Env) -> None:
    client = env.client()
    template_id = add(client, "Win big at the casino with code {1}", sms_type=2)
    env.clock.advance(env.account.behaviour.review_delay_s)
    (rejected,) = describe(client, template_id)
    assert rejected.StatusCode == -1
    assert "casino" in rejected.ReviewReply


def test_approved_pending_effect_shows_status_2(env: Env) -> None:
    set_effect_delay(env.account, 60)
    template_id = approved(env)
    assert describe(env.client(), template_id)[0].StatusCode == 2
    assert send(env.client(), template_id)[0].Code == "FailedOperation.TemplateIncorrectOrUnapproved"
    env.clock.advance(60)
    assert describe(env.client(), template_id)[0].StatusCode == 0


def test_add_validates_format_type_and_unsubscribe(env: Env) -> None:
    env.account.configure(api_rates={"AddSmsTemplate": 0})  # refused calls count against the rate too
    client = env.client()
    base = {"TemplateName": "t", "International": 0, "Remark": "r"}
    cases = {
        "InvalidParameterValue.InvalidSmsType": {**base, "TemplateContent": "hi", "SmsType": 7},
        "InvalidParameterValue.MarketingTemplateWithoutUnsubscribe": {
            **base,
            "TemplateContent": "Sale today",
            "SmsType": 1,
        },
        "InvalidParameterValue.InvalidTemplateFormat": {**base, "TemplateContent": "a {1} b {3}", "SmsType": 2},
        "InvalidParameterValue.InvalidInternational": {
            **base,
            "TemplateContent": "a",
            "SmsType": 2,
            "International": 5,
        },
        "MissingParameter": {"TemplateName": "t", "TemplateContent": "a", "SmsType": 2, "International": 0},
    }
    for code, fields in cases.items():
        assert error_of(client, "AddSmsTemplate", **fields).code == code, code
    assert add(client, "Sale today 拒收请回复R", sms_type=1)


def test_add_template_rate_is_two_per_second_and_configurable(env: Env) -> None:
    client = env.client()
    add(client)
    add(client)
    error = error_of(
        client, "AddSmsTemplate", TemplateName="x", TemplateContent="x", SmsType=2, International=0, Remark="r"
    )
    assert error.code == "RequestLimitExceeded"
    env.clock.advance(1.01)
    add(client)
    env.account.configure(api_rates={"AddSmsTemplate": 0})
    for _ in range(3):
        add(client)
    assert env.account.counters()["op:AddSmsTemplate"] == 7


def test_modify_only_while_reviewing_or_rejected(env: Env) -> None:
    client = env.client()
    template_id = add(client)
    fields = {"TemplateName": "login2", "TemplateContent": "Code {1}", "SmsType": 3, "International": 0, "Remark": "r"}
    modified = call(client, "ModifySmsTemplate", TemplateId=int(template_id), **fields)
    assert modified.ModifyTemplateStatus.TemplateId == int(template_id)
    (row,) = describe(client, template_id)
    assert (row.TemplateContent, row.StatusCode) == ("Code {1}", 1)
    env.clock.advance(env.account.behaviour.review_delay_s)
    assert error_of(client, "ModifySmsTemplate", TemplateId=int(template_id), **fields).code == (
        "FailedOperation.TemplateAlreadyPassedCheck"
    )
    assert error_of(client, "ModifySmsTemplate", TemplateId=999, **fields).code == (
        "FailedOperation.MissingTemplateToModify"
    )


def test_delete_and_missing_template(env: Env) -> None:
    client = env.client()
    template_id = add(client)
    deleted = call(client, "DeleteSmsTemplate", TemplateId=int(template_id))
    assert deleted.DeleteTemplateStatus.DeleteStatus and deleted.DeleteTemplateStatus.DeleteTime > 0
    assert describe(client, template_id) == []
    env.clock.advance(1)  # DeleteSmsTemplate: 1 request per second
    assert error_of(client, "DeleteSmsTemplate", TemplateId=int(template_id)).code == (
        "FailedOperation.TemplateIdNotExist"
    )


def test_describe_pages_with_limit_and_offset(env: Env) -> None:
    env.account.configure(api_rates={"AddSmsTemplate": 0})
    client = env.client()
    ids = [add(client, f"Notice {n}: {{1}}", sms_type=2) for n in range(5)]
    add(client, "Global code {1}", international=1)
    page = call(client, "DescribeSmsTemplateList", International=0, Limit=2, Offset=2).DescribeTemplateStatusSet
    assert [str(t.TemplateId) for t in page] == ids[2:4]
    assert len(describe(client, *ids, international=1)) == 0
    assert error_of(client, "DescribeSmsTemplateList", International=0, Limit=101, Offset=0).code == (
        "InvalidParameterValue.LimitVerifyFail"
    )


def test_sign_list(env: Env) -> None:
    env.account.put_signature("Pending", status="pending")  # type: ignore[arg-type]
    client = env.client()
    signs = call(client, "DescribeSmsSignList", International=0, Limit=10, Offset=0).DescribeSignListStatusSet
    assert {(s.SignName, s.StatusCode) for s in signs} == {("OnePro", 0), ("Pending", 1)}
    one = call(client, "DescribeSmsSignList", International=0, SignIdSet=[signs[0].SignId])
    assert [s.SignName for s in one.DescribeSignListStatusSet] == [signs[0].SignName]


# -- sending ---------------------------------------------------------------------------------------
def test_send_then_pull_delivery_status(env: Env) -> None:
    template_id = approved(env)
    failing = "+8613812340000"  # the sandbox fails numbers ending 0000
    statuses = send(env.client(), template_id, PHONE, failing, "12345")
    ok, fail, bad = statuses
    assert (ok.Code, ok.PhoneNumber, ok.IsoCode, ok.Fee) == ("Ok", PHONE, "CN", 1) and ok.SerialNo
    assert fail.Code == "Ok"
    assert (bad.Code, bad.SerialNo) == ("InvalidParameterValue.IncorrectPhoneNumber", "")
    begin = int(env.clock.now()) - 10
    pull = {"BeginTime": begin, "EndTime": begin + 3600, "Offset": 0, "Limit": 10, "SmsSdkAppId": APP_ID}
    assert (
        call(env.client(), "PullSmsSendStatusByPhoneNumber", PhoneNumber=PHONE, **pull).PullSmsSendStatusSet == []
    )  # no carrier report yet
    env.clock.advance(env.account.behaviour.delivery_delay_s)
    (report,) = call(env.client(), "PullSmsSendStatusByPhoneNumber", PhoneNumber=PHONE, **pull).PullSmsSendStatusSet
    assert (report.SerialNo, report.ReportStatus, report.CountryCode, report.SubscriberNumber) == (
        ok.SerialNo,
        "SUCCESS",
        "86",
        "13812345678",
    )
    (failed,) = call(env.client(), "PullSmsSendStatusByPhoneNumber", PhoneNumber=failing, **pull).PullSmsSendStatusSet
    assert failed.ReportStatus == "FAIL"
    old = {**pull, "BeginTime": begin - 8 * 86400}
    assert error_of(env.client(), "PullSmsSendStatusByPhoneNumber", PhoneNumber=PHONE, **old).code == (
        "InvalidParameterValue.BeginTimeVerifyFail"
    )


def test_pull_status_queue_hands_each_report_out_once(env: Env) -> None:
    template_id = approved(env)
    send(env.client(), template_id, PHONE, "+8613812340000")
    queue = {"Limit": 1, "SmsSdkAppId": APP_ID}
    assert call(env.client(), "PullSmsSendStatus", **queue).PullSmsSendStatusSet == []  # nothing reported yet
    env.clock.advance(env.account.behaviour.delivery_delay_s)
    first = call(env.client(), "PullSmsSendStatus", **queue).PullSmsSendStatusSet
    second = call(env.client(), "PullSmsSendStatus", **queue).PullSmsSendStatusSet
    assert [(r.PhoneNumber, r.ReportStatus) for r in first + second] == [
        (PHONE, "SUCCESS"),
        ("+8613812340000", "FAIL"),
    ]
    assert call(env.client(), "PullSmsSendStatus", **queue).PullSmsSendStatusSet == []
    assert error_of(env.client(), "PullSmsSendStatus", Limit=101, SmsSdkAppId=APP_ID).code == (
        "InvalidParameterValue.LimitVerifyFail"
    )


def test_send_errors_per_number(env: Env) -> None:
    template_id = approved(env)
    pending = add(env.client(), "Code {1}")
    client = env.client()
    assert send(client, pending, params=("1",))[0].Code == "FailedOperation.TemplateIncorrectOrUnapproved"
    assert send(client, "424242")[0].Code == "FailedOperation.TemplateIncorrectOrUnapproved"
    assert send(client, template_id, sign="Nobody")[0].Code == "FailedOperation.SignatureIncorrectOrUnapproved"
    assert send(client, template_id, params=("1",))[0].Code == (
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    )
    assert send(client, template_id, params=("abc", "5"))[0].Code == (
        "InvalidParameterValue.TemplateParameterFormatError"
    )
    assert send(client, template_id, "+14155550123")[0].Code == (
        "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone"
    )
    assert error_of(
        client,
        "SendSms",
        PhoneNumberSet=[PHONE],
        SmsSdkAppId="1400999999",
        TemplateId=template_id,
        SignName="OnePro",
        TemplateParamSet=["1", "2"],
    ).code == ("UnauthorizedOperation.SmsSdkAppIdVerifyFail")
    assert env.account.sends() == []


def test_per_number_limits(env: Env) -> None:
    template_id = approved(env)
    client = env.client()
    assert send(client, template_id)[0].Code == "Ok"
    assert send(client, template_id)[0].Code == "LimitExceeded.PhoneNumberThirtySecondLimit"
    for _ in range(9):  # Tencent's defaults: 1 per 30 s, 10 a day
        env.clock.advance(31)
        assert send(client, template_id)[0].Code == "Ok"
    env.clock.advance(31)
    assert send(client, template_id)[0].Code == "LimitExceeded.PhoneNumberDailyLimit"


def test_marketing_only_in_beijing_daytime(env: Env) -> None:
    env.clock.current = 1_767_225_600.0 + 2 * 3600  # 2026-01-01 10:00 in Beijing
    template_id = approved(env, "Sale {1} 拒收请回复R", sms_type=1)
    assert send(env.client(), template_id, params=("now",))[0].Code == "Ok"
    env.clock.advance(14 * 3600)  # 00:00 in Beijing
    assert send(env.client(), template_id, "+8613912345678", params=("now",))[0].Code == (
        "FailedOperation.MarketingSendTimeConstraint"
    )


# -- authentication ----------------------------------------------------------------------------------
def test_signature_checks(env: Env) -> None:
    assert (
        error_of(env.client(secret_key="wrong"), "DescribeSmsSignList", International=0, Limit=1, Offset=0).code
        == "AuthFailure.SignatureFailure"
    )
    assert (
        error_of(env.client(secret_id="AKIDnobody"), "DescribeSmsSignList", International=0, Limit=1, Offset=0).code
        == "AuthFailure.SecretIdNotFound"
    )
    outside = error_of(env.handle.tencent_client(region="ap-singapore"), "DescribeSmsSignList", International=0,
                       Limit=1, Offset=0)  # fmt: skip
    assert outside.code == "UnsupportedRegion"
    env.emulator.wall_clock = lambda: time.time() + 301  # the signer's clock is 5 minutes behind
    assert error_of(env.client(), "DescribeSmsSignList", International=0, Limit=1, Offset=0).code == (
        "AuthFailure.SignatureExpire"
    )
    assert "requests" not in env.account.counters()  # refused before counting


# -- faults --------------------------------------------------------------------------------------------
def test_faults(env: Env) -> None:
    client = env.client()
    one = {"rate": 1, "limit": 1, "operations": ["AddSmsTemplate"]}
    env.account.configure(faults={"throttle": one})
    assert (
        error_of(
            client, "AddSmsTemplate", TemplateName="t", TemplateContent="a", SmsType=2, International=0, Remark="r"
        ).code
        == "RequestLimitExceeded"
    )
    env.account.configure(faults={"server_error": {**one, "status": 502}})
    error = error_of(
        client, "AddSmsTemplate", TemplateName="t", TemplateContent="a", SmsType=2, International=0, Remark="r"
    )
    assert error.code == "ServerNetworkError"
    env.account.configure(faults={"reset": one})
    env.clock.advance(1)
    assert (
        error_of(
            client, "AddSmsTemplate", TemplateName="t", TemplateContent="a", SmsType=2, International=0, Remark="r"
        ).code
        == "ClientNetworkError"
    )
    assert env.account.templates() == []
    env.account.configure(faults={"lost_response": one})
    assert (
        error_of(
            client, "AddSmsTemplate", TemplateName="t", TemplateContent="a", SmsType=2, International=0, Remark="r"
        ).code
        == "ClientNetworkError"
    )
    assert [t.content for t in env.account.templates()] == ["a"]  # applied, answer lost
    env.account.configure(faults={"latency": {"rate": 1, "limit": 1, "latency_s": 2.5}})
    assert call(client, "DescribeSmsSignList", International=0, Limit=1, Offset=0).DescribeSignListStatusSet
    assert env.sleeps == [2.5]
    counters = env.account.counters()
    assert counters["op:AddSmsTemplate"] == 4 and counters["fault:lost_response"] == 1
