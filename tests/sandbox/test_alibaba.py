"""The Alibaba emulator driven only through the official SDK over loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alibabacloud_dysmsapi20170525 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from darabonba.exceptions import UnretryableException

from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.store.review import REASON_BANNED, REASON_LINK, REASON_REMARK
from reconciler.sandbox.testing import SandboxHandle

CODE_RULE = json.dumps({"code": "numberCaptcha"})
DAY = "20260101"  # the ManualClock starts at 2026-01-01T00:00Z = 08:00 Beijing


def create(client: Any, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "template_name": "login v1",
        "template_content": "Your login code is ${code}. It expires in 5 minutes.",
        "template_type": 0,
        "related_sign_name": "OnePro",
        "template_rule": CODE_RULE,
        "remark": "Sent when a user signs in with two-factor authentication.",
    }
    fields.update(overrides)
    return client.create_sms_template(m.CreateSmsTemplateRequest(**fields)).body


def get(client: Any, code: str) -> Any:
    return client.get_sms_template(m.GetSmsTemplateRequest(template_code=code)).body


def approved_template(sms_sandbox: SandboxHandle, client: Any, **overrides: Any) -> str:
    code: str = create(client, **overrides).template_code
    sms_sandbox.clock.advance(Behaviour().review_delay_s)
    assert get(client, code).template_status == "1"
    return code


def send(client: Any, template: str, /, phone: str = "13800001234", sign: str = "OnePro", **params: str) -> Any:
    request = m.SendSmsRequest(
        phone_numbers=phone,
        sign_name=sign,
        template_code=template,
        template_param=json.dumps(params or {"code": "1234"}),
    )
    return client.send_sms(request).body


def details(client: Any, phone: str = "13800001234", biz_id: str | None = None) -> Any:
    request = m.QuerySendDetailsRequest(phone_number=phone, send_date=DAY, page_size=10, current_page=1, biz_id=biz_id)
    return client.query_send_details(request).body


def test_create_then_approved_after_review_delay(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    body = create(client)
    assert body.code == "OK" and body.template_code.startswith("SMS_") and body.order_id
    assert body.to_map()["TemplateName"] == "login v1"
    pending = get(client, body.template_code)
    assert (pending.template_status, pending.template_type) == ("0", "0")
    assert pending.variable_attribute == CODE_RULE and pending.related_sign_name == "OnePro"
    sms_sandbox.clock.advance(Behaviour().review_delay_s - 0.5)
    assert get(client, body.template_code).template_status == "0"
    sms_sandbox.clock.advance(0.5)
    approved = get(client, body.template_code)
    assert approved.template_status == "1"
    assert approved.audit_info.audit_date == "2026-01-01 08:00:02"
    assert approved.to_map()["AuditInfo"]["RejectInfo"] == ""


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"template_content": "Code ${code}, or visit https://evil.example.com"}, REASON_LINK),
        ({"remark": ""}, REASON_REMARK),
        ({"template_type": 1, "template_content": "Win the lottery now ${code}"}, REASON_BANNED.format(word="lottery")),
    ],
)
def test_review_rejects_by_rule(sms_sandbox: SandboxHandle, overrides: dict[str, Any], reason: str) -> None:
    client = sms_sandbox.alibaba_client()
    code = create(client, **overrides).template_code
    sms_sandbox.clock.advance(5)
    rejected = get(client, code)
    assert (rejected.template_status, rejected.audit_info.reject_info) == ("2", reason)
    listed = client.query_sms_template_list(m.QuerySmsTemplateListRequest()).body.sms_template_list[0]
    assert (listed.audit_status, listed.reason.reject_info) == ("AUDIT_STATE_NOT_PASS", reason)


def test_template_type_numberings_in_each_api(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    verification = create(client).template_code
    intl = create(client, template_type=3, intl_type=2, related_sign_name=None).template_code
    notice = create(
        client,
        template_type=1,
        template_content="Your order ${order} shipped.",
        template_rule=json.dumps({"order": "other_number2"}),
    ).template_code
    assert get(client, intl).template_type == "3" and get(client, intl).intl_type == 2
    body = client.query_sms_template_list(m.QuerySmsTemplateListRequest(page_index=1, page_size=10)).body
    assert body.total_count == 3 and isinstance(body.total_count, int)
    by_code = {t.template_code: t for t in body.sms_template_list}
    assert (by_code[verification].template_type, by_code[verification].outer_template_type) == (2, 0)
    assert (by_code[notice].template_type, by_code[notice].outer_template_type) == (0, 1)
    assert (by_code[intl].template_type, by_code[intl].outer_template_type) == (6, 3)
    assert by_code[notice].audit_status == "AUDIT_STATE_INIT"
    data = client.get_sms_template_list(m.GetSmsTemplateListRequest(page_index=1, page_size=10)).body.data
    assert data.total == 3 and {t.template_code: t.template_type for t in data.list} == {
        verification: 2,
        notice: 0,
        intl: 2,
    }
    filtered = client.get_sms_template_list(m.GetSmsTemplateListRequest(template_type=0)).body.data
    assert [t.template_code for t in filtered.list] == [notice] and filtered.list[0].audit_status == 0


def test_paging_and_page_size_limit(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    codes = [create(client, template_name=f"t{i}").template_code for i in range(3)]
    page2 = client.query_sms_template_list(m.QuerySmsTemplateListRequest(page_index=2, page_size=2)).body
    assert [t.template_code for t in page2.sms_template_list] == [codes[0]] and page2.current_page == 2
    too_big = client.query_sms_template_list(m.QuerySmsTemplateListRequest(page_size=51)).body
    assert too_big.code == "isv.INVALID_PARAMETERS"


def test_update_only_rejected_templates(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    code = approved_template(sms_sandbox, client)
    request = m.UpdateSmsTemplateRequest(
        template_code=code,
        template_name="login v1",
        template_content="New ${code}",
        template_type=0,
        related_sign_name="OnePro",
        template_rule=CODE_RULE,
        remark="2fa",
    )
    refused = client.update_sms_template(request).body
    assert refused.code == "isv.SMS_TEMPLATE_STATE_ILLEGAL" and refused.request_id
    bad = create(client, remark="").template_code
    assert (
        client.update_sms_template(
            m.UpdateSmsTemplateRequest(
                template_code=bad,
                template_name="x",
                template_content="y",
                template_type=1,
                related_sign_name="OnePro",
                remark="r",
            )
        ).body.code
        == "isv.SMS_TEMPLATE_STATE_ILLEGAL"
    )  # still under review
    sms_sandbox.clock.advance(5)
    request.template_code = bad
    updated = client.update_sms_template(request).body
    assert (updated.code, updated.template_code) == ("OK", bad)
    assert get(client, bad).template_status == "0" and get(client, bad).template_content == "New ${code}"


def test_delete_rules(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    pending = create(client).template_code
    body = client.delete_sms_template(m.DeleteSmsTemplateRequest(template_code=pending)).body
    assert body.code == "isv.SMS_TEMPLATE_STATE_ILLEGAL"
    sms_sandbox.clock.advance(5)
    deleted = client.delete_sms_template(m.DeleteSmsTemplateRequest(template_code=pending)).body
    assert (deleted.code, deleted.template_code) == ("OK", pending)
    assert get(client, pending).code == "isv.SMS_TEMPLATE_ILLEGAL"


def test_create_validation_errors(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    assert create(client, related_sign_name="Pending").code == "isv.SMS_SIGNATURE_ILLEGAL"
    assert create(client, template_rule=None).code == "isv.INVALID_PARAMETERS"
    assert create(client, template_rule="{nope").code == "isv.INVALID_JSON_PARAM"
    assert create(client, template_content="x" * 501).code == "isv.PARAM_LENGTH_LIMIT"
    assert create(client, template_content="${a}${a}", template_rule='{"a":"name"}').code == "isv.INVALID_PARAMETERS"


def test_daily_quota_and_spacing(sms_sandbox: SandboxHandle) -> None:
    assert Behaviour().create_daily_quota == 100 and Behaviour.realistic().create_spacing_s == 30
    client = sms_sandbox.alibaba_client()
    sms_sandbox.account.set_behaviour(Behaviour.realistic().merged({"create_daily_quota": 2}))
    assert create(client).code == "OK"
    too_soon = create(client)
    assert too_soon.code == "isv.BUSINESS_LIMIT_CONTROL" and "30s" in too_soon.message
    sms_sandbox.clock.advance(30)
    assert create(client).code == "OK"
    sms_sandbox.clock.advance(30)
    assert create(client).code == "isv.DAY_LIMIT_CONTROL"
    sms_sandbox.clock.advance(86400)
    assert create(client).code == "OK"


def test_signatures(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    sign = client.get_sms_sign(m.GetSmsSignRequest(sign_name="OnePro")).body
    assert (sign.code, sign.sign_status, sign.sign_name) == ("OK", 1, "OnePro")
    assert sign.sign_isp_register_detail_list[0].register_status == 3
    assert client.get_sms_sign(m.GetSmsSignRequest(sign_name="Pending")).body.sign_status == 0
    refused = client.get_sms_sign(m.GetSmsSignRequest(sign_name="Refused")).body
    assert (refused.sign_status, refused.audit_info.reject_info) == (2, "Rejected by the sandbox.")
    assert client.get_sms_sign(m.GetSmsSignRequest(sign_name="Nobody")).body.code == "isv.SMS_SIGNATURE_ILLEGAL"
    listed = client.query_sms_sign_list(m.QuerySmsSignListRequest(page_index=1, page_size=10)).body
    assert listed.total_count == 4
    assert {s.sign_name: s.audit_status for s in listed.sms_sign_list} == {
        "OnePro": "AUDIT_STATE_PASS",
        "CodeOnly": "AUDIT_STATE_PASS",
        "Pending": "AUDIT_STATE_INIT",
        "Refused": "AUDIT_STATE_NOT_PASS",
    }


def test_send_and_delivery_report(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    code = approved_template(sms_sandbox, client)
    sent = send(client, code, phone="+8613800001234", code="4821")
    assert sent.code == "OK" and sent.biz_id.endswith("^0")
    waiting = details(client, biz_id=sent.biz_id)
    assert waiting.total_count == "1"
    row = waiting.sms_send_detail_dtos.sms_send_detail_dto[0]
    assert (row.send_status, row.err_code, row.receive_date) == (1, "", "")
    assert row.content == "【OnePro】Your login code is 4821. It expires in 5 minutes."
    sms_sandbox.clock.advance(Behaviour().delivery_delay_s)
    row = details(client, biz_id=sent.biz_id).sms_send_detail_dtos.sms_send_detail_dto[0]
    assert (row.send_status, row.err_code, row.template_code) == (3, "DELIVERED", code)
    assert row.receive_date == "2026-01-01 08:00:03"


def test_designated_numbers_fail_or_never_deliver(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    code = approved_template(sms_sandbox, client)
    send(client, code, phone="13800000000")
    send(client, code, phone="13800009999")
    sms_sandbox.clock.advance(3600)
    failed = details(client, phone="13800000000").sms_send_detail_dtos.sms_send_detail_dto[0]
    assert (failed.send_status, failed.err_code) == (2, "MN:0001")
    assert details(client, phone="13800009999").sms_send_detail_dtos.sms_send_detail_dto[0].send_status == 1


def test_send_errors(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    approved = approved_template(sms_sandbox, client)
    notice = approved_template(
        sms_sandbox,
        client,
        template_type=1,
        template_content="Order ${order} shipped.",
        template_rule=json.dumps({"order": "other_number2"}),
    )
    unapproved = create(client).template_code
    assert send(client, unapproved).code == "isv.SMS_TEMPLATE_ILLEGAL"
    assert send(client, "SMS_000000001").code == "isv.SMS_TEMPLATE_ILLEGAL"
    assert send(client, approved, other="1").code == "isv.TEMPLATE_MISSING_PARAMETERS"
    assert send(client, approved, sign="Nobody").code == "isv.SMS_SIGNATURE_ILLEGAL"
    assert send(client, approved, sign="Pending").code == "isv.SMS_SIGNATURE_ILLEGAL"
    assert send(client, approved, phone="12345").code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert send(client, notice, sign="CodeOnly", order="1").code == "isv.SMS_SIGNATURE_SCENE_ILLEGAL"
    assert send(client, approved, code="https://x.example.com").code == "isv.PARAM_NOT_SUPPORT_URL"
    body = send(client, approved, phone="123")
    assert body.biz_id is None and body.request_id and body.message


def test_per_number_limits(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    code = approved_template(sms_sandbox, client)
    assert send(client, code).code == "OK"
    limited = send(client, code)
    assert (limited.code, limited.message) == ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
    assert send(client, code, phone="13800005678").code == "OK"  # another number is not affected
    for _ in range(4):
        sms_sandbox.clock.advance(61)
        assert send(client, code).code == "OK"
    sms_sandbox.clock.advance(61)
    assert send(client, code).message == "触发小时级流控Permits:5"
    notice = approved_template(
        sms_sandbox,
        client,
        template_type=1,
        template_content="Order ${order} shipped.",
        template_rule=json.dumps({"order": "other_number2"}),
    )
    for _ in range(50):
        assert send(client, notice, phone="13900001111", order="7").code == "OK"
    assert send(client, notice, phone="13900001111", order="7").message == "触发天级流控Permits:50"


def test_tags(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    code = create(client).template_code
    tag = m.TagResourcesRequestTag(key="managed-by", value="smsops")
    tagged = client.tag_resources(
        m.TagResourcesRequest(region_id="cn-hangzhou", resource_type="TEMPLATE", resource_id=[code], tag=[tag])
    ).body
    assert (tagged.code, tagged.data) == ("OK", "true")
    listed = client.list_tag_resources(
        m.ListTagResourcesRequest(region_id="cn-hangzhou", resource_type="TEMPLATE", resource_id=[code])
    ).body
    assert [(t.resource_id, t.tag_key, t.tag_value) for t in listed.tag_resources.tag_resource] == [
        (code, "managed-by", "smsops")
    ]
    item = client.get_sms_template_list(m.GetSmsTemplateListRequest()).body.data.list[0]
    assert item.template_tag[0].to_map() == {"TagKey": "managed-by", "TagValue": "smsops"}
    client.untag_resources(
        m.UntagResourcesRequest(
            region_id="cn-hangzhou", resource_type="TEMPLATE", resource_id=[code], tag_key=["managed-by"]
        )
    )
    empty = client.list_tag_resources(
        m.ListTagResourcesRequest(region_id="cn-hangzhou", resource_type="TEMPLATE", resource_id=[code])
    ).body
    assert empty.tag_resources.tag_resource == []


def test_wrong_secret_and_unknown_key_are_rejected(sms_sandbox: SandboxHandle) -> None:
    request = m.GetSmsSignRequest(sign_name="OnePro")
    with pytest.raises(ClientException) as wrong:
        sms_sandbox.alibaba_client(access_key_secret="not-the-secret").get_sms_sign(request)
    assert (wrong.value.code, wrong.value.status_code) == ("SignatureDoesNotMatch", 400)
    # The real gateway's message: its own string to sign after a colon.
    assert wrong.value.data["Message"].split(":", 1)[1].startswith("ACS3-HMAC-SHA256\n")
    assert {"RequestId", "HostId", "Code", "Message", "Recommend"} <= set(wrong.value.data)
    with pytest.raises(ClientException) as unknown:
        sms_sandbox.alibaba_client(access_key_id="LTAI5tNobody").get_sms_sign(request)
    assert (unknown.value.code, unknown.value.status_code) == ("InvalidAccessKeyId.NotFound", 404)
    with pytest.raises(ClientException) as wrong_v2:
        sms_sandbox.alibaba_client(access_key_secret="nope", signature_algorithm="v2").get_sms_sign(request)
    assert wrong_v2.value.code == "SignatureDoesNotMatch"
    assert sms_sandbox.account.counters().get("op:GetSmsSign") is None  # rejected before counting


def test_legacy_v2_signing(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client(signature_algorithm="v2")
    code = create(client, template_name="with spaces + plus").template_code
    assert get(client, code).template_name == "with spaces + plus"


def test_faults_seen_by_the_sdk(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    account = sms_sandbox.account
    account.configure(faults={"throttle": {"rate": 1, "limit": 1, "retry_after_ms": 2500}})
    with pytest.raises(ThrottlingException) as throttled:
        create(client)
    assert (throttled.value.code, throttled.value.retry_after) == ("Throttling.User", 2500)
    account.configure(faults={"server_error": {"rate": 1, "limit": 1}})
    with pytest.raises(ServerException) as failed:
        create(client)
    assert (failed.value.code, failed.value.status_code) == ("ServiceUnavailable", 503)
    account.configure(faults={"reset": {"rate": 1, "limit": 1}})
    with pytest.raises(UnretryableException, match="reset"):
        create(client)
    assert account.templates() == []  # nothing was applied by a throttle, a 5xx or a reset
    account.configure(faults={"lost_response": {"rate": 1, "limit": 1, "operations": ["CreateSmsTemplate"]}})
    with pytest.raises(UnretryableException):
        create(client)
    listed = client.query_sms_template_list(m.QuerySmsTemplateListRequest()).body
    assert listed.total_count == 1  # the change was applied although the answer was lost
    account.configure(faults={"latency": {"rate": 1, "limit": 1, "latency_s": 0.6}})
    with pytest.raises(UnretryableException, match="timed out"):
        sms_sandbox.alibaba_client(read_timeout_ms=200).get_sms_sign(m.GetSmsSignRequest(sign_name="OnePro"))
    counters = account.counters()
    assert {k: counters[f"fault:{k}"] for k in ("throttle", "server_error", "reset", "lost_response", "latency")} == {
        "throttle": 1,
        "server_error": 1,
        "reset": 1,
        "lost_response": 1,
        "latency": 1,
    }
    assert counters["op:CreateSmsTemplate"] == 4 and counters["op:QuerySmsTemplateList"] == 1


def test_fault_rates_are_reproducible_with_a_seed(sandbox_factory: Any) -> None:
    outcomes = []
    for _ in range(2):
        handle = sandbox_factory.start("alibaba")
        handle.account.reset()
        handle.account.configure(faults={"server_error": {"rate": 0.5, "seed": 42}})
        client = handle.alibaba_client()
        run = []
        for _ in range(12):
            try:
                client.get_sms_sign(m.GetSmsSignRequest(sign_name="OnePro"))
                run.append("ok")
            except ServerException:
                run.append("5xx")
        outcomes.append(run)
    assert outcomes[0] == outcomes[1] and "ok" in outcomes[0] and "5xx" in outcomes[0]
