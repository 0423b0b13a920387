"""SDK debug logging on, for each provider against its emulator: nothing secret reaches stderr.

Each SDK logs whole HTTP requests when asked to: the Alibaba SDK through a handler of its own when
``DEBUG=sdk`` is set, the Tencent SDK and botocore through their loggers once a handler is attached at
DEBUG (what a user does to debug a failing call). The CLI runs in a fresh process, as a user runs it,
so the SDKs' own handlers write to the real stderr; every record must pass through redaction on its way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxFactory,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo

ALIBABA_ID, ALIBABA_SECRET = "LTAI5tDebugCanaryKey0042", "DebugCanarySecret-9d8c7b6a"
PHONES = {"alibaba": "+8613912345678", "tencent": "+8613912345678", "aws": "+447700900123"}
# Debug logging on in the SDKs that need a handler; then the CLI exactly as `smsops` runs it.
WRAPPER = """
import logging, sys
for name in ("tencentcloud_sdk_common", "botocore", "urllib3"):
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.StreamHandler(sys.stderr))
from reconciler.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBUG": "sdk", "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "NO_COLOR": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [sys.executable, "-c", WRAPPER, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("provider", ["alibaba", "tencent", "aws"])
def test_sdk_debug_logs_carry_no_key_id_secret_or_phone_number(
    provider: str, tmp_path: Path, sandbox_factory: SandboxFactory
) -> None:
    handle = sandbox_factory.start(provider)
    repo = ConfigRepo(tmp_path / "cfg")
    phone = PHONES[provider]
    signature: dict[str, str] = {"name": "OnePro"}
    if provider == "alibaba":
        key_id, secret = ALIBABA_ID, ALIBABA_SECRET
        handle.sandbox.create_account("canary", provider="alibaba", access_keys={key_id: secret})
        handle.account.put_signature("OnePro", "approved", scene="")
        handle.sandbox.account("canary").put_signature("OnePro", "approved", scene="")
    elif provider == "tencent":
        key_id, secret = TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY
        signature["smsSdkAppId"] = TENCENT_TEST_APP_ID
    else:
        key_id, secret = AWS_TEST_KEY_ID, AWS_TEST_SECRET
        signature["country"] = "GB"
        handle.aws_client().request_sender_id(SenderId="OnePro", IsoCountryCode="GB")
    repo.secrets(key_id, secret, recipients=[phone])
    test_send = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}}
    repo.channel("ch", provider, handle.url(provider), signature=signature, testSend=test_send)
    repo.template("alert", "Service {{ service }} is down", service="db")

    applied = run("apply", "cfg", "--auto-approve", cwd=tmp_path)
    sent = run("test-send", "cfg", "--channel", "ch", "--timeout", "1s", cwd=tmp_path)
    stderr = applied.stderr + sent.stderr
    # The SDK did log its requests (else this test proves nothing) ...
    assert len(stderr) > 2000, stderr
    assert "Traceback" not in stderr
    # ... and no credential or number came through.
    national = phone.removeprefix("+44").removeprefix("+86")
    for canary in (key_id, secret, national, phone.removeprefix("+")):
        assert canary not in stderr + applied.stdout + sent.stdout, f"{provider} leaks {canary[:6]}…"
