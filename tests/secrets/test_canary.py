"""Canary: recognisable fake secrets and phone numbers go into the SOPS files; none may come out.

Checked in every plan format, the saved plan, apply's output and report, log records, and the
error text when the provider refuses the credentials.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo

CANARY_ID = "LTAI5tCanaryKeyId77777"
CANARY_SECRET = "CanarySecretValue-7f3e9a1b"
CANARY_PHONES = ["+8613912345678", "+14155550123"]
CANARIES = [CANARY_ID, CANARY_SECRET, "13912345678", "4155550123", "3912345678"]


def assert_clean(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"leaked {canary[:6]}…"


@pytest.fixture
def canary_repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    sms_sandbox.sandbox.create_account(
        "canary",
        provider="alibaba",
        access_keys={CANARY_ID: CANARY_SECRET},
        signatures=[("OnePro", ReviewStatus.APPROVED)],
    )
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(CANARY_ID, CANARY_SECRET, recipients=CANARY_PHONES)
    repo.channel(
        "prod",
        "alibaba",
        sms_sandbox.url(),
        testSend={"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}},
    )
    repo.template("alert", "Service {{ service }} is down", service="db")
    return repo


def test_no_secret_or_phone_number_in_any_output(
    run_cli: Any, canary_repo: ConfigRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    for output in ("text", "json", "markdown", "github"):
        code, out, err = run_cli("plan", str(canary_repo.root), "--output", output, "--out", str(tmp_path / "p.json"))
        assert code == 0, err
        seen += [out, err, (tmp_path / "p.json").read_text()]
    code, out, err = run_cli(
        "apply", str(canary_repo.root), "--auto-approve", "--report", str(tmp_path / "report.json")
    )
    assert code == 0, err
    seen += [out, err, (tmp_path / "report.json").read_text()]
    seen += [record.getMessage() for record in caplog.records]
    assert "create" in seen[0]  # the outputs are real, not empty
    for text in seen:
        assert_clean(text)


def test_provider_error_about_refused_credentials_does_not_echo_them(
    run_cli: Any, canary_repo: ConfigRepo, sms_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary_repo.secrets(CANARY_ID, CANARY_SECRET + "-wrong", recipients=CANARY_PHONES)
    for output in ("text", "json", "markdown", "github"):
        code, out, err = run_cli("plan", str(canary_repo.root), "--output", output)
        assert code == 1
        assert "credentials refused by the provider" in out
        for text in (out, err, *(r.getMessage() for r in caplog.records)):
            assert_clean(text)
            assert "-wrong" not in text
