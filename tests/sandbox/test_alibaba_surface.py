"""The Alibaba emulator's batch send, its old template read, and V2 signing as other clients send
it, through the official SDKs over loopback."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit
from urllib.request import Request, urlopen

from alibabacloud_dysmsapi20170525 import models as m
from aliyunsdkcore.auth.composer.rpc_signature_composer import get_signed_url

from reconciler.sandbox.testing import SandboxHandle
from tests.sandbox.test_alibaba import approved_template, create, details


def test_batch_send_aligns_numbers_signs_and_parameters(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    code = approved_template(sms_sandbox, client)
    batch = m.SendBatchSmsRequest(
        template_code=code,
        phone_number_json=json.dumps(["13800001234", "+8613800005678"]),
        sign_name_json=json.dumps(["OnePro", "CodeOnly"]),
        template_param_json=json.dumps([{"code": "1111"}, {"code": "2222"}]),
    )
    sent = client.send_batch_sms(batch).body
    assert sent.code == "OK"
    rows = [details(client, phone, sent.biz_id).sms_send_detail_dtos.sms_send_detail_dto[0] for phone in
            ("13800001234", "13800005678")]  # fmt: skip
    assert [r.content for r in rows] == [
        "【OnePro】Your login code is 1111. It expires in 5 minutes.",
        "【CodeOnly】Your login code is 2222. It expires in 5 minutes.",
    ]
    batch.sign_name_json = json.dumps(["OnePro"])
    assert client.send_batch_sms(batch).body.code == "isv.INVALID_PARAMETERS"  # arrays differ in length
    batch.sign_name_json = json.dumps(["OnePro", "Pending"])
    assert client.send_batch_sms(batch).body.code == "isv.SMS_SIGNATURE_ILLEGAL"


def test_old_query_sms_template_answers_integers(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    code = create(client).template_code
    old = client.query_sms_template(m.QuerySmsTemplateRequest(template_code=code)).body
    assert (old.template_status, old.template_type, old.reason, old.template_code) == (0, 0, "", code)


def test_v2_signed_request_entirely_in_a_post_form_body(sms_sandbox: SandboxHandle) -> None:
    """What @alicloud/pop-core sends for POST: every parameter, Signature included, in the form."""
    params = {"Action": "GetSmsSign", "Version": "2017-05-25", "SignName": "OnePro"}
    url, _ = get_signed_url(params, *sms_sandbox.credentials, "JSON", "POST", {})
    form = urlencode(parse_qsl(urlsplit(url).query, keep_blank_values=True)).encode()
    request = Request(sms_sandbox.url(), data=form, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urlopen(request, timeout=10) as answer:
        body = json.loads(answer.read())
    assert (body["Code"], body["SignName"], body["SignStatus"]) == ("OK", "OnePro", 1)
