"""What the soak tests share: one channel per provider publishing to a durable target in moto (SSM
or S3), the CLI's clock following the sandbox clock, and the check run after every provider API call.

Time: the grace period passes by moving the sandbox clock (``Setup.grace``). The CLI reads its own
clock where it plans, stamps rollout marks and publishes; ``follow`` points those reads at the
sandbox clock, so a one-hour grace period passes in no time through the same code (a reader of the
wall clock missing from ``CLOCK_READERS`` shows as a version not retired). The clock starts
at the wall clock's time, and review is decided by hand (``Setup.review``) rather than by moving
the clock: the gate's delivery queries ask the provider about the sends of the last minutes by the
wall clock (Tencent's status pull), which must not find the sandbox's sends in their future.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import boto3
import pytest

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.core import SandboxRequest, SandboxResponse
from reconciler.sandbox.store.account import ManualClock, SandboxAccount
from reconciler.sandbox.tencent.emulator import DEFAULT_RATES as TENCENT_RATES
from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    TEST_KEY_ID,
    TEST_KEY_SECRET,
    SandboxFactory,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo

PROVIDERS = ("alibaba", "tencent", "aws")
CHANNEL = "prod"
REGION = "eu-west-1"
BUCKET = "smsops-soak"
# Delivered by the sandbox. Three numbers: Tencent's status pull does not say which template a past
# send was for, so a number sent to in the last 30 s waits for any template; the gate picks a free one.
RECIPIENTS = ["+8613812345671", "+8613812345672", "+8613812345673"]
GRACE_S = 3600.0
TEST_SEND = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}, "deliveryTimeout": "30s"}
# Two templates: ``alert`` gets a new version; the soak test also removes ``notice`` from git (prune is on).
ALERT_V1, ALERT_V2 = "Service {{ service }} is down", "Service {{ service }} has stopped answering"
NOTICE = "Maintenance starts at {{ time }}"

# The modules that read the CLI's clock (``datetime.now``) to plan, stamp marks and publish.
CLOCK_READERS = (
    "reconciler.pipeline",
    "reconciler.reconcile.apply",
    "reconciler.commands.apply",
    "reconciler.commands.export",
    "reconciler.publish.export",
)


def follow(clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI's clock the sandbox clock (see the module docstring)."""

    class SandboxTime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return datetime.fromtimestamp(clock.now(), tz)

    for module in CLOCK_READERS:
        monkeypatch.setattr(f"{module}.datetime", SandboxTime)


@dataclass
class Target:
    """Reads the channel's published document where apply writes it: SSM or S3 in moto."""

    provider: str
    endpoint: str
    _clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def spec(self) -> dict[str, Any]:
        if self.provider == "tencent":
            s3 = {"bucket": BUCKET, "prefix": "published", "endpoint": self.endpoint, "region": REGION}
            return {"s3": s3}
        return {"ssmPrefix": f"/smsops/{CHANNEL}"}

    def create(self) -> None:
        if self.provider == "tencent":
            self._client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})

    def read(self) -> dict[str, Any] | None:
        """The published document, None while there is none."""
        if self.provider == "tencent":
            client = self._client("s3")
            try:
                body = client.get_object(Bucket=BUCKET, Key=f"published/{CHANNEL}.json")["Body"].read()
            except client.exceptions.NoSuchKey:
                return None
        else:
            client = self._client("ssm")
            try:
                body = client.get_parameter(Name=f"/smsops/{CHANNEL}/config")["Parameter"]["Value"]
            except client.exceptions.ParameterNotFound:
                return None
        document: dict[str, Any] = json.loads(body)
        return document

    def templates(self) -> dict[str, dict[str, Any]]:
        document = self.read()
        return dict(document["channel"]["templates"]) if document else {}

    def _client(self, service: str) -> Any:
        # one client per service, made once under a lock: the check runs in the sandbox's threads
        with self._lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)
            return self._clients[service]


def operation(request: SandboxRequest) -> str:
    """The API operation of a request, whichever provider's convention it follows."""
    return (
        request.params().get("Action")
        or request.headers.get("x-tc-action")
        or request.headers.get("x-amz-target", "").rpartition(".")[2]
        or f"{request.method} {request.path}"
    )


@dataclass
class PublishedCodesCheck:
    """The soak invariant, as a ``RunningSandbox.after_request`` callback: every code the published
    document names exists at the provider and is approved (for AWS, which renders templates in the
    application, the sender ID it names exists). Figures, not exceptions: a violation is recorded
    with the operation that left it, and the test asserts there were none."""

    target: Target
    account: SandboxAccount
    checks: int = 0
    verified: int = 0
    violations: list[str] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, emulator: str, request: SandboxRequest, response: SandboxResponse) -> None:
        found = self.verify()
        where = operation(request)
        with self._lock:
            self.checks += 1
            self.operations[where] += 1
            self.verified += found.count("")
            self.violations += [f"after {where}: {problem}" for problem in found if problem]

    def verify(self) -> list[str]:
        """One entry per code the published document names: "" when it holds, else what is wrong
        (a template published as live without a code is wrong too)."""
        document = self.target.read()
        if document is None:
            return []
        channel = document["channel"]
        if self.target.provider == "aws":
            signature = channel["signature"]
            with self.account.read() as conn:
                row = conn.execute(
                    "SELECT 1 FROM aws_sender_ids WHERE sender_id = ? AND iso = ?",
                    (signature["name"], signature["country"]),
                ).fetchone()
            return ["" if row else f"sender ID {signature['name']} ({signature['country']}) is not in the account"]
        at_provider = {t.code: t for t in self.account.templates()}
        results = []
        for name, entry in sorted(channel["templates"].items()):
            code = entry.get("code")
            record = at_provider.get(code) if code else None
            if not code:
                if entry["live"]:
                    results.append(f"{name} is live without a code")
            elif record is None:
                results.append(f"{name} names {code}, which the provider does not have")
            elif record.status is not ReviewStatus.APPROVED:
                results.append(f"{name} names {code}, which is {record.status.value}")
            else:
                results.append("")
        return results

    def figure(self, provider: str) -> str:
        named = "published sender IDs" if provider == "aws" else "published codes"
        return (
            f"soak {provider}: {self.checks} checks after provider API calls, {self.verified} {named} "
            f"verified, {len(self.violations)} violations"
        )


@dataclass
class Setup:
    """A provider's sandbox, its account, and a config repository with one channel ``prod``."""

    provider: str
    handle: SandboxHandle
    account: SandboxAccount
    repo: ConfigRepo
    target: Target
    clock: ManualClock

    def review(self) -> None:
        """The provider's reviewer approves every pending template."""
        for template in self.account.templates():
            if template.status is ReviewStatus.PENDING:
                self.account.approve(template.code)

    def grace(self) -> None:
        self.clock.advance(GRACE_S + 1)

    def codes(self, prefix: str) -> list[str]:
        """The codes at the provider of the versions of one template (by provider-side name)."""
        return [t.code for t in self.account.templates() if t.name.startswith(f"{prefix}~")]

    def sends_by_code(self) -> Counter[str]:
        return Counter(send.template_code for send in self.account.sends())


def set_up(provider: str, root: Path, factory: SandboxFactory, moto: str, monkeypatch: pytest.MonkeyPatch) -> Setup:
    """One provider's emulator with a ready account (review by hand, delivery at once), and a config
    repository whose channel publishes to SSM (Alibaba, AWS) or S3 (Tencent) and gates promotions
    with a test send."""
    handle = factory.start(provider)
    repo = ConfigRepo(root)
    target = Target(provider, moto)
    target.create()
    rollout = {"prune": True, "gracePeriod": f"{GRACE_S:.0f}s"}
    common = {"rollout": rollout, "publish": target.spec}
    if provider == "alibaba":
        account = handle.account
        repo.secrets(TEST_KEY_ID, TEST_KEY_SECRET, recipients=RECIPIENTS)
        repo.channel(CHANNEL, provider, handle.url(provider), testSend=TEST_SEND, **common)
    elif provider == "tencent":
        account = handle.tencent_account
        repo.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY, recipients=RECIPIENTS)
        signature = {"name": "OnePro", "smsSdkAppId": TENCENT_TEST_APP_ID}
        repo.channel(CHANNEL, provider, handle.url(provider), signature=signature, testSend=TEST_SEND, **common)
        # Per-second API rates count on the sandbox clock, which stands still between jumps here.
        account.configure(api_rates=dict.fromkeys(TENCENT_RATES, 0))
    else:
        account = handle.aws_account
        handle.aws_client().request_sender_id(SenderId="OnePro", IsoCountryCode="GB")
        repo.secrets(AWS_TEST_KEY_ID, AWS_TEST_SECRET)
        repo.channel(
            CHANNEL,
            provider,
            handle.url(provider),
            region=REGION,
            signature={"name": "OnePro", "country": "GB"},
            **common,
        )
    account.configure(auto_review=False, delivery_delay_s=0)
    repo.template("alert", ALERT_V1, service="db")
    repo.template("notice", NOTICE, time="22:00")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setattr("reconciler.commands.apply.GATE_POLL_INTERVAL_S", 0.01)
    follow(handle.clock, monkeypatch)
    return Setup(provider, handle, account, repo, target, handle.clock)


def applied(run_cli: Callable[..., tuple[int, str, str]], root: Path, *extra: str) -> str:
    """``smsops apply --auto-approve`` that must succeed; its output."""
    code, out, err = run_cli("apply", str(root), "--auto-approve", *extra)
    assert code == 0, out + err
    assert "Traceback" not in out + err
    return str(out)
