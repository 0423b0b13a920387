"""pytest fixtures: the sandbox emulators in-process on a free loopback port, state in tmp_path.

Fixtures (registered in tests/conftest.py):
    ``sandbox_clock``   a ``ManualClock``; ``.advance(s)`` makes review and delivery delays pass.
    ``sandbox_factory`` ``start(*providers, behaviour=None) -> SandboxHandle`` for any emulator mix;
                        everything started is closed at teardown.
    ``sms_sandbox``     a ``SandboxHandle`` with the Alibaba emulator running and an account
                        ``test-alibaba`` ready: keys ``credentials``; signatures OnePro (approved,
                        general), CodeOnly (approved, verification only), Pending (pending),
                        Refused (rejected).
    ``tencent_sandbox`` / ``aws_sandbox``  the same with the Tencent / AWS emulator and a ready
                        account: Tencent ``test-tencent`` (SmsSdkAppId ``TENCENT_TEST_APP_ID``,
                        signature OnePro approved, Tencent's per-number limits); AWS ``test-aws``
                        (SANDBOX tier, ``AWS_TEST_VERIFIED`` verified).
``SandboxHandle.alibaba_client()`` / ``.tencent_client()`` / ``.aws_client()`` build the official SDK
clients against the emulators; ``.tencent_account`` / ``.aws_account`` are their test accounts;
``.control_client(provider)`` is a ``ControlClient`` with the server's control token (``.token``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.aws.emulator import create_account as create_aws
from reconciler.sandbox.control import ControlClient
from reconciler.sandbox.server import RunningSandbox, start
from reconciler.sandbox.store.account import ManualClock, Sandbox, SandboxAccount
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.tencent.emulator import create_account as create_tencent

TEST_ACCOUNT = "test-alibaba"
TEST_KEY_ID = "LTAI5tSandboxTestKey0001"
TEST_KEY_SECRET = "sandbox-test-secret-0001"
TENCENT_TEST_ACCOUNT = "test-tencent"
TENCENT_TEST_SECRET_ID = "AKIDSandboxTestTencent000000000000001"
TENCENT_TEST_SECRET_KEY = "sandbox-tencent-test-secret-0001"
TENCENT_TEST_APP_ID = "1400000001"
AWS_TEST_ACCOUNT = "test-aws"
AWS_TEST_KEY_ID = "AKIASANDBOXTEST00001"
AWS_TEST_SECRET = "sandbox-aws-test-secret-0001"
AWS_TEST_VERIFIED = ("+447700900123", "+14155550123")
TEST_SIGNATURES: tuple[tuple[str, ReviewStatus, str], ...] = (
    ("OnePro", ReviewStatus.APPROVED, "general"),
    ("CodeOnly", ReviewStatus.APPROVED, "verification"),
    ("Pending", ReviewStatus.PENDING, "general"),
    ("Refused", ReviewStatus.REJECTED, "general"),
)


@dataclass
class SandboxHandle:
    """A running sandbox: ``sandbox`` is the Python control object, ``account`` the test account."""

    running: RunningSandbox
    sandbox: Sandbox
    clock: ManualClock
    account: SandboxAccount
    access_key_id: str = TEST_KEY_ID
    access_key_secret: str = TEST_KEY_SECRET

    @property
    def credentials(self) -> tuple[str, str]:
        return self.access_key_id, self.access_key_secret

    @property
    def control(self) -> SandboxAccount:
        return self.account

    def endpoint(self, provider: str = "alibaba") -> str:
        """host:port of one emulator (the form the SDKs take)."""
        return self.running.endpoint(provider)

    def url(self, provider: str = "alibaba") -> str:
        return self.running.url(provider)

    @property
    def token(self) -> str:
        """The control API token (as ``smsops sandbox serve`` prints it)."""
        return self.running.token

    def control_client(self, provider: str = "alibaba") -> ControlClient:
        """The control API over HTTP on one emulator's port, with the token."""
        return ControlClient(self.url(provider), token=self.token)

    def alibaba_client(
        self,
        *,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        signature_algorithm: str | None = None,
        read_timeout_ms: int | None = None,
    ) -> Any:
        """The official ``alibabacloud_dysmsapi20170525`` client pointed at the emulator."""
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.models import Config

        config = Config(
            access_key_id=access_key_id or self.access_key_id,
            access_key_secret=access_key_secret or self.access_key_secret,
            endpoint=self.endpoint("alibaba"),
            protocol="http",
        )
        if signature_algorithm:
            config.signature_algorithm = signature_algorithm
        if read_timeout_ms:
            config.read_timeout = read_timeout_ms
        return Client(config)

    @property
    def tencent_account(self) -> SandboxAccount:
        return self.sandbox.account(TENCENT_TEST_ACCOUNT)

    @property
    def aws_account(self) -> SandboxAccount:
        return self.sandbox.account(AWS_TEST_ACCOUNT)

    def tencent_client(
        self, *, secret_id: str | None = None, secret_key: str | None = None, region: str = "ap-guangzhou"
    ) -> Any:
        """The official ``tencentcloud`` SMS 2021-01-11 client pointed at the emulator."""
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111.sms_client import SmsClient

        profile = ClientProfile(httpProfile=HttpProfile(endpoint=self.endpoint("tencent"), protocol="http"))
        credential = Credential(secret_id or TENCENT_TEST_SECRET_ID, secret_key or TENCENT_TEST_SECRET_KEY)
        return SmsClient(credential, region, profile)

    def aws_client(
        self, *, access_key_id: str | None = None, secret_access_key: str | None = None, max_attempts: int = 1
    ) -> Any:
        """A boto3 ``pinpoint-sms-voice-v2`` client pointed at the emulator (SDK retries off by default)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "pinpoint-sms-voice-v2",
            endpoint_url=self.url("aws"),
            region_name="us-east-1",
            aws_access_key_id=access_key_id or AWS_TEST_KEY_ID,
            aws_secret_access_key=secret_access_key or AWS_TEST_SECRET,
            config=Config(retries={"mode": "standard", "total_max_attempts": max_attempts}),
        )


class SandboxFactory:
    def __init__(self, state_dir: Path, clock: ManualClock) -> None:
        self.state_dir, self.clock = state_dir, clock
        self.started: list[RunningSandbox] = []

    def start(self, *providers: str, behaviour: Behaviour | None = None) -> SandboxHandle:
        """Start emulators on free ports (demo accounts seeded) plus the ``test-alibaba`` account."""
        sandbox = Sandbox(self.state_dir, clock=self.clock)
        running = start(sandbox, dict.fromkeys(providers or ("alibaba",), 0), seed_demo=True)
        self.started.append(running)
        account = sandbox.create_account(
            TEST_ACCOUNT,
            provider="alibaba",
            access_keys={TEST_KEY_ID: TEST_KEY_SECRET},
            behaviour=behaviour or Behaviour(),
        )
        for name, status, scene in TEST_SIGNATURES:
            account.put_signature(
                name, status, scene=scene, reason="Rejected by the sandbox." if status == "rejected" else ""
            )
        if "tencent" in providers:
            create_tencent(
                sandbox,
                TENCENT_TEST_ACCOUNT,
                secret_id=TENCENT_TEST_SECRET_ID,
                secret_key=TENCENT_TEST_SECRET_KEY,
                sdk_app_id=TENCENT_TEST_APP_ID,
            )
        if "aws" in providers:
            create_aws(
                sandbox,
                AWS_TEST_ACCOUNT,
                access_key_id=AWS_TEST_KEY_ID,
                secret_access_key=AWS_TEST_SECRET,
                verified=AWS_TEST_VERIFIED,
            )
        return SandboxHandle(running=running, sandbox=sandbox, clock=self.clock, account=account)

    def close(self) -> None:
        for running in self.started:
            running.close()


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox_factory(tmp_path: Path, sandbox_clock: ManualClock) -> Iterator[SandboxFactory]:
    factory = SandboxFactory(tmp_path / "sandbox-state", sandbox_clock)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def sms_sandbox(sandbox_factory: SandboxFactory) -> SandboxHandle:
    return sandbox_factory.start("alibaba")


@pytest.fixture
def tencent_sandbox(sandbox_factory: SandboxFactory) -> SandboxHandle:
    return sandbox_factory.start("tencent")


@pytest.fixture
def aws_sandbox(sandbox_factory: SandboxFactory) -> SandboxHandle:
    return sandbox_factory.start("aws")


__all__ = [
    "SandboxFactory",
    "SandboxHandle",
    "aws_sandbox",
    "sandbox_clock",
    "sandbox_factory",
    "sms_sandbox",
    "tencent_sandbox",
]
