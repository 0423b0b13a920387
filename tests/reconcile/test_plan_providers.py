"""The plan scenarios for Tencent (no template tags: the newest approved version is live) and for
AWS (no template registry: only the sender ID is observed), end to end through the official SDKs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo


def plan(run_cli: Any, repo: ConfigRepo, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli("plan", str(repo.root), "--output", "json", *extra)
    assert "Traceback" not in out + err
    return code, json.loads(out)


def changes(data: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((c["action"], c["template"]) for ch in data["channels"] for c in ch["changes"])


@pytest.fixture
def tencent_repo(tmp_path: Path, tencent_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY)
    repo.channel(
        "cn",
        "tencent",
        tencent_sandbox.url("tencent"),
        signature={"name": "OnePro", "smsSdkAppId": TENCENT_TEST_APP_ID},
        rollout={"prune": True, "gracePeriod": "1s"},
    )
    repo.template("alert", "Service {{ service }} is down", service="db")
    repo.template("login", "Your login code is {{ code }}", "verification", code="123456")
    return repo


def test_tencent_fresh_rejected_new_version_and_hand_made(
    run_cli: Any, tencent_repo: ConfigRepo, tencent_sandbox: SandboxHandle
) -> None:
    account = tencent_sandbox.tencent_account
    code, data = plan(run_cli, tencent_repo, "--detailed-exitcode")
    assert code == 2 and changes(data) == [("create", "alert"), ("create", "login")]
    create = next(c for c in data["channels"][0]["changes"] if c["template"] == "alert")
    assert create["after"]["content"] == "Service {1} is down"  # positional, the way Tencent stores it

    assert run_cli("apply", str(tencent_repo.root), "--auto-approve")[0] == 0
    codes = {t.name.split("~")[0]: t.code for t in account.templates()}
    account.reject(codes["alert"], "service names are not allowed")
    account.approve(codes["login"])
    tencent_sandbox.clock.advance(3600)  # past the approved-pending-effect window
    _, data = plan(run_cli, tencent_repo)
    by_name = {c["template"]: c for c in data["channels"][0]["changes"]}
    assert by_name["alert"]["reason"] == "rejected by the provider: service names are not allowed"
    assert by_name["login"]["action"] == "promote"  # approved is not yet live: promotion is smsops' step
    assert run_cli("apply", str(tencent_repo.root), "--auto-approve")[0] == 0
    # Tencent has no template tags: the live mark is kept beside the published config.
    marks = json.loads((tencent_repo.root / ".smsops" / "published" / "cn.marks.json").read_text())["marks"]
    assert sorted(marks) == sorted(codes.values())  # each with the remark it was submitted with
    assert [code for code, kept in marks.items() if "smsops-live" in kept] == [codes["login"]]
    _, data = plan(run_cli, tencent_repo)
    assert {c["template"]: c["reason"] for c in data["channels"][0]["changes"]}["login"] == "live"

    # Editing the rejected template rewrites it in place; editing the live one makes a new version.
    tencent_repo.template("alert", "Service {{ service }} has stopped", service="db")
    tencent_repo.template("login", "Your sign-in code is {{ code }}", "verification", code="123456")
    _, data = plan(run_cli, tencent_repo)
    assert changes(data) == [("create", "login"), ("update", "alert")]
    login = next(c for c in data["channels"][0]["changes"] if c["template"] == "login")
    assert login["before"]["code"] == codes["login"]

    # A template made in the console is reported, never touched.
    client = tencent_sandbox.tencent_client()
    from tencentcloud.sms.v20210111 import models

    request = models.AddSmsTemplateRequest()
    request.from_json_string(
        json.dumps(
            {
                "TemplateName": "手工模板",
                "TemplateContent": "您的订单{1}已发货",
                "SmsType": 2,
                "International": 0,
                "Remark": "made in the console",
            }
        )
    )
    hand = client.AddSmsTemplate(request).AddTemplateStatus.TemplateId
    _, data = plan(run_cli, tencent_repo)
    assert [t["code"] for t in data["channels"][0]["unmanaged"]] == [str(hand)]


def test_tencent_refused_credentials_block_the_channel(run_cli: Any, tencent_repo: ConfigRepo) -> None:
    tencent_repo.secrets(TENCENT_TEST_SECRET_ID, "not-the-secret-at-all")
    code, out, _ = run_cli("plan", str(tencent_repo.root))
    assert code == 1
    assert "! blocked: credentials refused by the provider: tencent" in out
    assert "AuthFailure.SignatureFailure" in out
    assert "not-the-secret-at-all" not in out


@pytest.fixture
def aws_repo(tmp_path: Path, aws_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(AWS_TEST_KEY_ID, AWS_TEST_SECRET)
    repo.channel("us", "aws", aws_sandbox.url("aws"), signature={"name": "OnePro", "country": "GB"})
    repo.template("alert", "Service {{ service }} is down", service="db")
    return repo


def test_aws_checks_the_sender_id_and_renders_templates_in_the_application(
    run_cli: Any, aws_repo: ConfigRepo, aws_sandbox: SandboxHandle
) -> None:
    code, out, _ = run_cli("plan", str(aws_repo.root))
    assert code == 1
    assert "! blocked: sender ID 'OnePro' is not registered in this AWS account for the channel's country" in out

    aws_sandbox.aws_client().request_sender_id(SenderId="OnePro", IsoCountryCode="GB")
    code, data = plan(run_cli, aws_repo, "--detailed-exitcode")
    assert code == 2  # nothing published yet
    channel = data["channels"][0]
    assert channel["signature"]["status"] == ReviewStatus.APPROVED.value
    change, publish = channel["changes"]
    assert (publish["action"], publish["reason"]) == ("publish", "no published config in the channel's target yet")
    assert change["action"] == "noop"
    assert change["reason"] == "rendered by the application; published by apply and export"
    assert change["after"]["content"] == "Service {{ service }} is down"
    code, out, err = run_cli("apply", str(aws_repo.root), "--auto-approve")
    assert code == 0, out + err
    assert plan(run_cli, aws_repo, "--detailed-exitcode")[0] == 0
