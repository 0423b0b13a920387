"""pytest fixtures: the sandbox emulators in-process on a free loopback port, state in tmp_path.

Fixtures (registered in tests/conftest.py):
    ``sandbox_clock``   a ``ManualClock``; ``.advance(s)`` makes review and delivery delays pass.
    ``sandbox_factory`` ``start(*providers, behaviour=None) -> SandboxHandle`` for any emulator mix;
                        everything started is closed at teardown.
    ``sms_sandbox``     a ``SandboxHandle`` with the Alibaba emulator running and an account
                        ``test-alibaba`` ready: keys ``credentials``; signatures OnePro (approved,
                        general), CodeOnly (approved, verification only), Pending (pending),
                        Refused (rejected).
``SandboxHandle.alibaba_client()`` builds the official SDK client against the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.behaviour import Behaviour
from reconciler.sandbox.server import RunningSandbox, start
from reconciler.sandbox.store import ManualClock, Sandbox, SandboxAccount

TEST_ACCOUNT = "test-alibaba"
TEST_KEY_ID = "LTAI5tSandboxTestKey0001"
TEST_KEY_SECRET = "sandbox-test-secret-0001"
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


__all__ = ["SandboxFactory", "SandboxHandle", "sandbox_clock", "sandbox_factory", "sms_sandbox"]
