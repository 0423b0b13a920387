"""The AWS adapter through boto3 (``pinpoint-sms-voice-v2``) against the sandbox's AWS emulator.

moto has no ``pinpoint-sms-voice-v2`` (reference/providers.md §3.4), so the sandbox emulator is the seam.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.errors import ProviderError, ResponseLost
from reconciler.providers.aws.adapter import AwsProvider
from reconciler.providers.base import DeliveryState, Provider, ReviewStatus, SendRequest, TemplateKind, TemplateRequest
from reconciler.providers.ratelimit import Pacer
from reconciler.providers.retry import RetryPolicy
from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    AWS_TEST_VERIFIED,
    SandboxFactory,
    SandboxHandle,
)

VERIFIED = AWS_TEST_VERIFIED[0]  # a UK number verified in the sandbox tier
UNVERIFIED = "+447700900999"
BODY = "OnePro: your login code is 482913."


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def aws(sandbox_factory: SandboxFactory) -> SandboxHandle:
    return sandbox_factory.start("aws")


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make(
    handle: SandboxHandle, sleeps: Sleeps, *, secret: str = AWS_TEST_SECRET, sender: str = "OnePro", country: str = "GB"
) -> AwsProvider:
    return AwsProvider(
        access_key_id=AWS_TEST_KEY_ID,
        secret_access_key=secret,
        sender_id=sender,
        country=country,
        endpoint=handle.url("aws"),
        region="us-east-1",
        read_timeout_s=5,
        pacer=Pacer("aws", limits={}, sleep=sleeps),
        retry_policy=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
        sleep=sleeps,
        now=lambda: datetime.fromtimestamp(handle.clock.now(), UTC),
    )


@pytest.fixture
def provider(aws: SandboxHandle, sleeps: Sleeps) -> AwsProvider:
    aws.aws_client().request_sender_id(SenderId="OnePro", IsoCountryCode="GB")
    return make(aws, sleeps)


def calls(handle: SandboxHandle, operation: str) -> int:
    return handle.aws_account.counters().get(f"op:{operation}", 0)


def test_no_template_registry(provider: AwsProvider) -> None:
    assert isinstance(provider, Provider)
    assert provider.list_templates() == []
    request = TemplateRequest(name="login~0000001", content=BODY, kind=TemplateKind.VERIFICATION)
    for attempt in (
        lambda: provider.create_template(request),
        lambda: provider.update_template("x", request),
        lambda: provider.delete_template("x"),
    ):
        with pytest.raises(ProviderError) as caught:
            attempt()
        assert caught.value.code == "NoTemplateRegistry" and not caught.value.retryable
        assert "renders templates client-side" in caught.value.hint


def test_sender_id_is_the_signature(provider: AwsProvider, aws: SandboxHandle, sleeps: Sleeps) -> None:
    signature = provider.get_signature()
    assert signature is not None and (signature.name, signature.status) == ("OnePro", ReviewStatus.APPROVED)
    assert make(aws, sleeps, sender="Nobody").get_signature() is None
    assert make(aws, sleeps, country="DE").get_signature() is None  # OnePro exists only for GB


def test_dry_run_validates_without_sending(provider: AwsProvider, aws: SandboxHandle) -> None:
    receipt = provider.send(SendRequest(template_code="login", phone_number=VERIFIED, body=BODY, dry_run=True))
    assert receipt.accepted and receipt.dry_run and receipt.message_id
    assert provider.query_delivery(receipt).state is DeliveryState.VALIDATED
    assert aws.aws_account.sends() == []


def test_send_is_accepted_with_no_delivery_query(provider: AwsProvider, aws: SandboxHandle) -> None:
    receipt = provider.send(SendRequest(template_code="login", phone_number=VERIFIED, body=BODY))
    assert receipt.accepted and not receipt.dry_run
    report = provider.query_delivery(receipt)
    assert report.state is DeliveryState.ACCEPTED and "no delivery query" in report.description
    [sent] = aws.aws_account.sends()
    assert sent.content == BODY and sent.message_id == receipt.message_id


def test_refused_destination_is_a_receipt_with_code_and_no_number(provider: AwsProvider) -> None:
    receipt = provider.send(SendRequest(template_code="login", phone_number=UNVERIFIED, body=BODY))
    assert (receipt.accepted, receipt.code) == (False, "ConflictException.DESTINATION_PHONE_NUMBER_NOT_VERIFIED")
    assert "7700900999" not in receipt.message
    assert provider.query_delivery(receipt).state is DeliveryState.FAILED


def test_unregistered_sender_is_refused(aws: SandboxHandle, sleeps: Sleeps) -> None:
    receipt = make(aws, sleeps, sender="Ghost").send(SendRequest(template_code="x", phone_number=VERIFIED, body=BODY))
    assert (receipt.accepted, receipt.code) == (False, "ValidationException.SENDER_ID_NOT_REGISTERED")


def test_send_needs_a_rendered_body(provider: AwsProvider) -> None:
    with pytest.raises(ProviderError) as caught:
        provider.send(SendRequest(template_code="login", phone_number=VERIFIED, params={"code": "1"}))
    assert caught.value.code == "MissingBody"


def test_wrong_secret_is_terminal_and_leaks_no_secret(aws: SandboxHandle, sleeps: Sleeps) -> None:
    wrong = "aws-wrong-secret-M2p7"
    with pytest.raises(ProviderError) as caught:
        make(aws, sleeps, secret=wrong).get_signature()
    assert caught.value.code in ("InvalidSignatureException", "UnrecognizedClientException")
    assert not caught.value.retryable and sleeps == []
    assert "IAM" in caught.value.hint
    text = f"{caught.value} {caught.value.failure!r}"
    assert wrong not in text and AWS_TEST_SECRET not in text


def test_throttled_reads_are_retried(provider: AwsProvider, aws: SandboxHandle, sleeps: Sleeps) -> None:
    aws.aws_account.configure(faults={"throttle": {"rate": 1, "operations": ["DescribeSenderIds"], "limit": 2}})
    assert provider.get_signature() is not None
    assert calls(aws, "DescribeSenderIds") == 3 and len(sleeps) == 2


@pytest.mark.parametrize("fault", ["lost_response", "server_error"])
def test_send_whose_answer_is_lost_is_response_lost(provider: AwsProvider, aws: SandboxHandle, fault: str) -> None:
    aws.aws_account.configure(faults={fault: {"rate": 1, "operations": ["SendTextMessage"], "limit": 1}})
    with pytest.raises(ResponseLost):
        provider.send(SendRequest(template_code="login", phone_number=VERIFIED, body=BODY))
    assert calls(aws, "SendTextMessage") == 1  # never re-sent blindly


def test_ensure_configuration_set_is_idempotent(provider: AwsProvider) -> None:
    assert provider.ensure_configuration_set("smsops-events") is True
    assert provider.ensure_configuration_set("smsops-events") is False
