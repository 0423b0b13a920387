"""`smsops plan` and `smsops apply` end to end: real SOPS files, the official Alibaba SDK, the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo

ALERT = "Service {{ service }} is down"
LOGIN = "Your login code is {{ code }}"


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials, recipients=["+8613800000001"])
    config.channel("prod", "alibaba", sms_sandbox.url(), rollout={"prune": True, "gracePeriod": "1s"})
    config.template("alert", ALERT, service="db")
    config.template("login", LOGIN, "verification", code="123456")
    return config


def plan_json(run_cli: Any, repo: ConfigRepo, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli("plan", str(repo.root), "--output", "json", *extra)
    assert "Traceback" not in out + err
    return code, json.loads(out)


def actions(plan: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["action"], c["template"]) for ch in plan["channels"] for c in ch["changes"]]


def by_hand(handle: SandboxHandle, name: str, content: str) -> Any:
    """A template made in the provider console, not by smsops."""
    return handle.account.create_template(
        name=name,
        content=content,
        kind=TemplateKind.NOTIFICATION,
        remark="made in the console",
        code_factory=lambda n: f"SMS_{470_000_000 + n}",
    )


def codes_by_name(handle: SandboxHandle) -> dict[str, str]:
    return {t.name.split("~")[0]: t.code for t in handle.account.templates()}


def test_fresh_account_plans_a_create_for_every_template(run_cli: Any, repo: ConfigRepo) -> None:
    code, plan = plan_json(run_cli, repo, "--detailed-exitcode")
    assert code == 2
    assert sorted(actions(plan)) == [("create", "alert"), ("create", "login")]
    assert plan["format_version"] == 1 and plan["channels"][0]["observed_digest"]


def test_rollout_create_review_promote_then_new_version_keeps_old_live(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0
    for code in codes_by_name(sms_sandbox).values():
        sms_sandbox.account.approve(code)
    assert sorted(actions(plan_json(run_cli, repo)[1])) == [("promote", "alert"), ("promote", "login")]
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0
    code, plan = plan_json(run_cli, repo, "--detailed-exitcode")
    assert code == 0, plan
    # Edit the content in git: a new version is planned; the approved one stays live.
    old = codes_by_name(sms_sandbox)["alert"]
    repo.template("alert", "Service {{ service }} is down again", service="db")
    code, plan = plan_json(run_cli, repo, "--detailed-exitcode")
    assert code == 2
    create = next(c for c in plan["channels"][0]["changes"] if c["template"] == "alert")
    assert create["action"] == "create" and create["before"]["code"] == old
    assert create["after"]["content"] == "Service ${service} is down again"


def test_rejected_version_shows_its_reason(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0
    sms_sandbox.account.reject(codes_by_name(sms_sandbox)["alert"], "the service name is not allowed")
    _, plan = plan_json(run_cli, repo)
    alert = next(c for c in plan["channels"][0]["changes"] if c["template"] == "alert")
    assert alert["action"] == "noop"
    assert alert["reason"] == "rejected by the provider: the service name is not allowed"
    _, out, _ = run_cli("plan", str(repo.root))
    assert "rejected by the provider: the service name is not allowed" in out


def test_template_deleted_by_hand_is_created_again(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0
    for code in codes_by_name(sms_sandbox).values():
        sms_sandbox.account.approve(code)
    sms_sandbox.account.delete_template(codes_by_name(sms_sandbox)["login"])
    _, plan = plan_json(run_cli, repo)
    assert ("create", "login") in actions(plan)


def test_hand_made_template_is_reported_unmanaged(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    hand = by_hand(sms_sandbox, "手工通知", "您的包裹已发货")
    _, plan = plan_json(run_cli, repo)
    assert [t["code"] for t in plan["channels"][0]["unmanaged"]] == [hand.code]
    _, out, _ = run_cli("plan", str(repo.root))
    assert f"? unmanaged {hand.code} '手工通知'" in out


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("Nope", "signature 'Nope' does not exist at the provider"),
        ("Pending", "signature 'Pending' is pending"),
        ("Refused", "signature 'Refused' is rejected"),
    ],
)
def test_missing_or_unapproved_signature_blocks_the_channel(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, signature: str, message: str
) -> None:
    repo.channel("prod", "alibaba", sms_sandbox.url(), signature={"name": signature})
    code, out, err = run_cli("plan", str(repo.root))
    assert code == 1
    assert f"! blocked: {message}" in out
    assert "Traceback" not in err


def test_saved_plan_is_refused_when_the_provider_changed(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    assert run_cli("plan", str(repo.root), "--out", str(saved))[0] == 0
    by_hand(sms_sandbox, "intruder", "hello")
    code, _, err = run_cli("apply", str(repo.root), "--plan", str(saved), "--auto-approve")
    assert code == 1
    assert "error: channel prod changed at the provider since the plan was made" in err
    assert all(t.name in ("intruder",) for t in sms_sandbox.account.templates())
    # A fresh plan applies.
    assert run_cli("plan", str(repo.root), "--out", str(saved))[0] == 0
    assert run_cli("apply", str(repo.root), "--plan", str(saved), "--auto-approve")[0] == 0
    assert len(sms_sandbox.account.templates()) == 3


def test_apply_without_a_terminal_needs_auto_approve(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    code, _, err = run_cli("apply", str(repo.root))
    assert code == 1
    assert "error: apply needs confirmation and there is no terminal to ask on" in err
    assert sms_sandbox.account.templates() == []


def test_superseded_version_is_retired_after_grace_and_removed_template_pruned(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    import time

    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0
    for code in codes_by_name(sms_sandbox).values():
        sms_sandbox.account.approve(code)
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0
    repo.template("alert", "Service {{ service }} is down again", service="db")
    repo.remove_template("login")
    _, plan = plan_json(run_cli, repo)
    assert sorted(actions(plan)) == [("create", "alert"), ("unpublish", "login")]
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0
    new = next(t for t in sms_sandbox.account.templates() if t.status is ReviewStatus.PENDING)
    sms_sandbox.account.approve(new.code)
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0  # promotes v2
    time.sleep(1.1)  # the channel's grace period is 1s
    _, plan = plan_json(run_cli, repo)
    # login's grace (from its unpublishing) may already have passed during the promoting apply
    assert ("retire", "alert") in actions(plan)
    assert set(actions(plan)) <= {("noop", "alert"), ("retire", "alert"), ("delete", "login")}
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0
    assert [t.code for t in sms_sandbox.account.templates()] == [new.code]
    assert run_cli("plan", str(repo.root), "--detailed-exitcode")[0] == 0
