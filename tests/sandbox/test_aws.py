"""The AWS End User Messaging SMS v2 emulator, driven only through boto3 over loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from reconciler.providers.base import DeliveryState
from reconciler.sandbox.aws.ops import set_account_tier, verify_destination
from reconciler.sandbox.store.account import ManualClock, SandboxAccount
from reconciler.sandbox.testing import AWS_TEST_VERIFIED, SandboxHandle

VERIFIED = AWS_TEST_VERIFIED[0]
UNVERIFIED = "+447700900456"


GATEWAY_ERRORS = {"InvalidSignatureException", "UnrecognizedClientException"}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "long": (int,), "boolean": (bool,), "timestamp": (int, float),
}  # fmt: skip


def shape_problems(shape: Any, value: Any, path: str) -> list[str]:
    """Where a raw JSON value departs from a botocore shape: unknown or missing members, wrong types."""
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        problems = [f"{path}.{k}: not in the model" for k in value if k not in shape.members]
        problems += [f"{path}.{k}: required but missing" for k in shape.required_members if k not in value]
        for key, item in value.items():
            if key in shape.members:
                problems += shape_problems(shape.members[key], item, f"{path}.{key}")
        return problems
    if shape.type_name == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [p for i, item in enumerate(value) for p in shape_problems(shape.member, item, f"{path}[{i}]")]
    if shape.type_name == "map":
        return [p for k, item in value.items() for p in shape_problems(shape.value, item, f"{path}.{k}")]
    expected = _TYPES.get(shape.type_name, (object,))
    if not isinstance(value, expected) or (shape.type_name != "boolean" and isinstance(value, bool)):
        return [f"{path}: {value!r} is not a {shape.type_name}"]
    if getattr(shape, "enum", None) and value not in shape.enum:
        return [f"{path}: {value!r} is not one of the enum"]
    return []


@dataclass
class Env:
    handle: SandboxHandle
    sleeps: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def check_response(self, http_response: Any, model: Any, **_: Any) -> None:
        """Hold every raw answer against the botocore model, errors included."""
        body = json.loads(http_response.content or b"{}")
        self.checked.append(model.name)
        if http_response.status_code < 300:
            self.problems += shape_problems(model.output_shape, body, model.name)
            return
        code = body.get("__type", "")
        errors = {e.name: e for e in model.error_shapes}
        if code in GATEWAY_ERRORS:
            self.problems += [f"{model.name} {code}: {k}" for k in body if k not in ("__type", "message")]
        elif code not in errors:
            self.problems.append(f"{model.name}: {code!r} is not a modeled error of the operation")
        else:
            fields = {k: v for k, v in body.items() if k != "__type"}
            self.problems += shape_problems(errors[code], fields, f"{model.name} {code}")

    @property
    def account(self) -> SandboxAccount:
        return self.handle.aws_account

    @property
    def clock(self) -> ManualClock:
        return self.handle.clock

    @property
    def emulator(self) -> Any:
        return self.handle.running.emulators["aws"]

    def client(self, secret: str | None = None, key_id: str | None = None, retries: int = 1) -> Any:
        client = self.handle.aws_client(access_key_id=key_id, secret_access_key=secret, max_attempts=retries)
        client.meta.events.register("after-call.pinpoint-sms-voice-v2", self.check_response)
        return client


@pytest.fixture
def env(aws_sandbox: SandboxHandle) -> Iterator[Env]:
    result = Env(aws_sandbox)
    result.emulator.sleep = result.sleeps.append  # latency faults are recorded, not slept
    yield result
    assert result.checked, "no response was checked against the model"
    assert result.problems == []


def error_of(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response: dict[str, Any] = caught.value.response
    return response


def test_account_tier(env: Env) -> None:
    attributes = env.client().describe_account_attributes()["AccountAttributes"]
    assert attributes == [{"Name": "ACCOUNT_TIER", "Value": "SANDBOX"}]


def test_request_and_describe_sender_ids(env: Env) -> None:
    client = env.client()
    created = client.request_sender_id(
        SenderId="OnePro",
        IsoCountryCode="GB",
        MessageTypes=["TRANSACTIONAL"],
        Tags=[{"Key": "smsops", "Value": "managed"}],
    )
    assert created["SenderIdArn"].endswith(":sender-id/OnePro/GB") and created["Registered"] is False
    assert created["Tags"] == [{"Key": "smsops", "Value": "managed"}]
    for iso in ("DE", "FR", "AU"):
        client.request_sender_id(SenderId="OnePro", IsoCountryCode=iso, MessageTypes=["PROMOTIONAL"])
    page = client.describe_sender_ids(MaxResults=3)
    assert [s["IsoCountryCode"] for s in page["SenderIds"]] == ["GB", "DE", "FR"]
    rest = client.describe_sender_ids(MaxResults=3, NextToken=page["NextToken"])
    assert [s["IsoCountryCode"] for s in rest["SenderIds"]] == ["AU"] and "NextToken" not in rest
    one = client.describe_sender_ids(SenderIds=[{"SenderId": "OnePro", "IsoCountryCode": "DE"}])["SenderIds"]
    assert [(s["SenderId"], s["MessageTypes"], s["DeletionProtectionEnabled"]) for s in one] == [
        ("OnePro", ["PROMOTIONAL"], False)
    ]
    promo = client.describe_sender_ids(Filters=[{"Name": "message-type", "Values": ["PROMOTIONAL"]}])
    assert len(promo["SenderIds"]) == 3
    # Every paginator the SDK ships works on our tokens.
    pages = list(client.get_paginator("describe_sender_ids").paginate(PaginationConfig={"PageSize": 2}))
    assert sum(len(p["SenderIds"]) for p in pages) == 4


def test_sender_id_errors(env: Env) -> None:
    client = env.client()
    client.request_sender_id(SenderId="OnePro", IsoCountryCode="GB")
    conflict = error_of(client.request_sender_id, SenderId="OnePro", IsoCountryCode="GB")
    assert (conflict["Error"]["Code"], conflict["Reason"], conflict["ResourceType"]) == (
        "ConflictException",
        "RESOURCE_ALREADY_EXISTS",
        "sender-id",
    )
    assert error_of(client.request_sender_id, SenderId="12345", IsoCountryCode="GB")["Reason"] == (
        "FIELD_VALIDATION_FAILED"
    )
    assert error_of(client.request_sender_id, SenderId="OnePro", IsoCountryCode="US")["Reason"] == (
        "SENDER_ID_NOT_SUPPORTED"
    )
    assert error_of(client.request_sender_id, SenderId="OnePro", IsoCountryCode="IN")["Reason"] == (
        "SENDER_ID_REQUIRES_REGISTRATION"
    )
    missing = error_of(client.describe_sender_ids, SenderIds=[{"SenderId": "Nope", "IsoCountryCode": "GB"}])
    assert (missing["Error"]["Code"], missing["ResourceType"], missing["ResourceId"]) == (
        "ResourceNotFoundException",
        "sender-id",
        "Nope",
    )
    assert error_of(client.describe_sender_ids, NextToken="garbage")["Reason"] == "INVALID_NEXT_TOKEN"
    with pytest.raises(client.exceptions.ValidationException):
        client.describe_sender_ids(Filters=[{"Name": "sender-id", "Values": ["x"]}], NextToken="garbage")


def test_client_token_makes_retries_idempotent(env: Env) -> None:
    client = env.client()
    first = client.request_sender_id(SenderId="OnePro", IsoCountryCode="GB", ClientToken="t-1")
    again = client.request_sender_id(SenderId="OnePro", IsoCountryCode="GB", ClientToken="t-1")
    assert first["SenderIdArn"] == again["SenderIdArn"]
    client.create_configuration_set(ConfigurationSetName="smsops", ClientToken="c-1")
    assert client.create_configuration_set(ConfigurationSetName="smsops", ClientToken="c-1")["ConfigurationSetName"]


def test_configuration_sets(env: Env) -> None:
    client = env.client()
    created = client.create_configuration_set(ConfigurationSetName="smsops", Tags=[{"Key": "a", "Value": "b"}])
    assert created["ConfigurationSetArn"].endswith(":configuration-set/smsops")
    assert created["CreatedTimestamp"].timestamp() == pytest.approx(env.clock.now())
    client.create_configuration_set(ConfigurationSetName="other")
    sets = client.describe_configuration_sets()["ConfigurationSets"]
    assert [(s["ConfigurationSetName"], s["EventDestinations"]) for s in sets] == [("smsops", []), ("other", [])]
    named = client.describe_configuration_sets(ConfigurationSetNames=[created["ConfigurationSetArn"]])
    assert [s["ConfigurationSetName"] for s in named["ConfigurationSets"]] == ["smsops"]
    conflict = error_of(client.create_configuration_set, ConfigurationSetName="smsops")
    assert (conflict["Error"]["Code"], conflict["Reason"]) == ("ConflictException", "RESOURCE_ALREADY_EXISTS")
    missing = error_of(client.describe_configuration_sets, ConfigurationSetNames=["nope"])
    assert (missing["Error"]["Code"], missing["ResourceType"]) == ("ResourceNotFoundException", "configuration-set")


def test_send_records_delivery_readable_through_control_api(env: Env) -> None:
    client = env.client()
    client.request_sender_id(SenderId="OnePro", IsoCountryCode="GB")
    client.create_configuration_set(ConfigurationSetName="smsops")
    sent = client.send_text_message(
        DestinationPhoneNumber=VERIFIED,
        OriginationIdentity="OnePro",
        MessageBody="Your code is 123456",
        ConfigurationSetName="smsops",
        Context={"template": "login"},
    )
    (record,) = env.account.sends()
    assert (record.message_id, record.content, record.state) == (
        sent["MessageId"],
        "Your code is 123456",
        DeliveryState.WAITING,
    )
    env.clock.advance(env.account.behaviour.delivery_delay_s)
    (over_wire,) = env.handle.control_client("aws").call("GET", f"accounts/{env.account.name}/sends")
    assert (over_wire["message_id"], over_wire["state"]) == (sent["MessageId"], "delivered")
    assert over_wire["extra"]["context"] == {"template": "login"}


def test_dry_run_validates_and_sends_nothing(env: Env) -> None:
    client = env.client()
    assert client.send_text_message(DestinationPhoneNumber=VERIFIED, MessageBody="hi", DryRun=True)["MessageId"]
    assert env.account.sends() == []
    assert (
        error_of(client.send_text_message, DestinationPhoneNumber=UNVERIFIED, MessageBody="hi", DryRun=True)["Reason"]
        == "DESTINATION_PHONE_NUMBER_NOT_VERIFIED"
    )


def test_send_errors(env: Env) -> None:
    client = env.client()
    client.request_sender_id(SenderId="OnePro", IsoCountryCode="DE")
    send = client.send_text_message
    unverified = error_of(send, DestinationPhoneNumber=UNVERIFIED, MessageBody="hi")
    assert (unverified["Error"]["Code"], unverified["Reason"], unverified["ResourceType"]) == (
        "ConflictException",
        "DESTINATION_PHONE_NUMBER_NOT_VERIFIED",
        "verified-destination-number",
    )
    assert (
        error_of(send, DestinationPhoneNumber=VERIFIED, MessageBody="hi", OriginationIdentity="Ghost")["Reason"]
        == "SENDER_ID_NOT_REGISTERED"
    )
    assert (
        error_of(send, DestinationPhoneNumber=VERIFIED, MessageBody="hi", OriginationIdentity="OnePro")["Reason"]
        == "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY"
    )
    assert (
        error_of(send, DestinationPhoneNumber=VERIFIED, MessageBody="hi", ConfigurationSetName="none")["Error"]["Code"]
        == "ResourceNotFoundException"
    )
    assert (
        error_of(send, DestinationPhoneNumber=VERIFIED, MessageBody="hi", MaxPrice="0.001")["Reason"]
        == "PRICE_OVER_THRESHOLD"
    )
    assert error_of(send, DestinationPhoneNumber=VERIFIED)["Reason"] == "MISSING_PARAMETER"
    set_account_tier(env.account, "PRODUCTION")
    assert send(DestinationPhoneNumber=UNVERIFIED, MessageBody="hi")["MessageId"]
    assert len(env.account.sends()) == 1


def test_verify_a_destination_number_then_send(env: Env) -> None:
    client = env.client()
    created = client.create_verified_destination_number(DestinationPhoneNumber=UNVERIFIED)
    number_id = created["VerifiedDestinationNumberId"]
    assert created["Status"] == "PENDING" and created["VerifiedDestinationNumberArn"].endswith(number_id)
    conflict = error_of(client.create_verified_destination_number, DestinationPhoneNumber=UNVERIFIED)
    assert (conflict["Reason"], conflict["ResourceId"]) == ("RESOURCE_ALREADY_EXISTS", number_id)
    assert error_of(client.verify_destination_number, VerifiedDestinationNumberId=number_id,
                    VerificationCode="000000")["Reason"] == "VERIFICATION_CODE_MISMATCH"  # fmt: skip
    sent = client.send_destination_number_verification_code(
        VerifiedDestinationNumberId=number_id, VerificationChannel="TEXT"
    )
    # The code arrives as a recorded message, read here as from the phone.
    (message,) = [s for s in env.account.sends() if s.message_id == sent["MessageId"]]
    code = message.content.rstrip(".").rsplit(" ", 1)[-1]
    verified = client.verify_destination_number(VerifiedDestinationNumberId=number_id, VerificationCode=code)
    assert verified["Status"] == "VERIFIED"
    again = error_of(
        client.send_destination_number_verification_code, VerifiedDestinationNumberId=number_id,
        VerificationChannel="TEXT",
    )  # fmt: skip
    assert again["Reason"] == "VERIFICATION_ALREADY_COMPLETE"
    listed = client.describe_verified_destination_numbers(Filters=[{"Name": "status", "Values": ["VERIFIED"]}])
    assert {n["DestinationPhoneNumber"] for n in listed["VerifiedDestinationNumbers"]} == {
        *AWS_TEST_VERIFIED,
        UNVERIFIED,
    }
    assert client.send_text_message(DestinationPhoneNumber=UNVERIFIED, MessageBody="hi")["MessageId"]
    missing = error_of(client.verify_destination_number, VerifiedDestinationNumberId="nope", VerificationCode="1")
    assert missing["Error"]["Code"] == "ResourceNotFoundException"


def test_per_number_limit_is_throttling(env: Env) -> None:
    env.account.configure(number_limits={"notification": [{"window_s": 60, "max": 1}]})
    verify_destination(env.account, "+447700900789")
    client = env.client()
    client.send_text_message(DestinationPhoneNumber=VERIFIED, MessageBody="one")
    with pytest.raises(client.exceptions.ThrottlingException):
        client.send_text_message(DestinationPhoneNumber=VERIFIED, MessageBody="two")
    assert client.send_text_message(DestinationPhoneNumber="+447700900789", MessageBody="one")["MessageId"]


def test_signature_checks(env: Env) -> None:
    wrong = error_of(env.client(secret="wrong").describe_account_attributes)
    assert wrong["Error"]["Code"] == "InvalidSignatureException"
    assert wrong["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "signature we calculated does not match" in wrong["Error"]["Message"]
    unknown = error_of(env.client(key_id="AKIANOBODY0000000000").describe_account_attributes)
    assert unknown["Error"]["Code"] == "UnrecognizedClientException"
    env.emulator.wall_clock = lambda: time.time() + 16 * 60  # the signer's clock is 16 minutes behind
    expired = error_of(env.client().describe_account_attributes)
    assert expired["Error"]["Code"] == "InvalidSignatureException"
    assert expired["Error"]["Message"].startswith("Signature expired")
    assert "requests" not in env.account.counters()


def test_faults(env: Env) -> None:
    client = env.client()
    one = {"rate": 1, "limit": 1, "operations": ["CreateConfigurationSet"]}
    env.account.configure(faults={"throttle": one})
    with pytest.raises(client.exceptions.ThrottlingException):
        client.create_configuration_set(ConfigurationSetName="a")
    env.account.configure(faults={"server_error": {**one, "status": 500}})
    server = error_of(client.create_configuration_set, ConfigurationSetName="a")
    assert (server["Error"]["Code"], server["ResponseMetadata"]["HTTPStatusCode"]) == ("InternalServerException", 500)
    env.account.configure(faults={"reset": one})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client.create_configuration_set(ConfigurationSetName="a")
    assert client.describe_configuration_sets()["ConfigurationSets"] == []
    env.account.configure(faults={"lost_response": one})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client.create_configuration_set(ConfigurationSetName="a", ClientToken="lost-1")
    # The change was applied; retrying with the same ClientToken returns it instead of a conflict.
    assert client.create_configuration_set(ConfigurationSetName="a", ClientToken="lost-1")["ConfigurationSetArn"]
    env.account.configure(faults={"latency": {"rate": 1, "limit": 1, "latency_s": 1.5}})
    client.describe_account_attributes()
    assert env.sleeps == [1.5]
    counters = env.account.counters()
    assert counters["op:CreateConfigurationSet"] == 5 and counters["fault:reset"] == 1


def test_sdk_retries_a_throttled_call(env: Env) -> None:
    env.account.configure(faults={"throttle": {"rate": 1, "limit": 1}})
    client = env.client(retries=3)
    assert client.describe_account_attributes()["AccountAttributes"]
    assert env.account.counters()["op:DescribeAccountAttributes"] == 2
