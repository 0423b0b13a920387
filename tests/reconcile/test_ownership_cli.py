"""Channels sharing one provider account, through the CLI on the emulators: a channel with prune
deletes only the templates it created (the smsops-owner mark), never another channel's or another
repository's, and never a code any published config of the config names; its own removed
templates are still pruned."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.testing import (
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo, template_doc, write_doc

NOTICES = [f"notice-{n}" for n in range(1, 7)]
PRUNE = {"prune": True, "gracePeriod": "1s"}


def run_ok(run_cli: Any, *args: str) -> str:
    code, out, err = run_cli(*args)
    assert code == 0, out + err
    assert "Traceback" not in out + err
    return str(out)


def plan_json(run_cli: Any, repo: ConfigRepo, *extra: str) -> dict[str, Any]:
    code, out, err = run_cli("plan", str(repo.root), "--output", "json", *extra)
    assert code in (0, 2) and "Traceback" not in out + err, err
    return dict(json.loads(out))


def actions(plan: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((c["action"], c["template"]) for ch in plan["channels"] for c in ch["changes"])


def template(repo: ConfigRepo, name: str, channel: str) -> None:
    doc = template_doc(name, f"Notice {name}: {{{{ item }}}} is ready", item="parcel")
    doc["spec"]["channels"] = [channel]
    write_doc(repo.root / "templates" / f"{name}.yaml", doc)


def published(repo: ConfigRepo, channel: str) -> dict[str, str]:
    document = json.loads((repo.root / ".smsops" / "published" / f"{channel}.json").read_text())
    return {name: entry["code"] for name, entry in document["channel"]["templates"].items() if entry.get("code")}


def two_channels(repo: ConfigRepo, provider: str, url: str, notices: list[str] = NOTICES, **spec: Any) -> None:
    """The reported setup: notice-1..6 on ``ali``, ``bee`` on ``ali-b``, one account, both pruning."""
    for channel in ("ali", "ali-b"):
        repo.channel(channel, provider, url, rollout=PRUNE, **spec)
    for name in notices:
        template(repo, name, "ali")
    template(repo, "bee", "ali-b")


def roll_out(run_cli: Any, repo: ConfigRepo, approve: Approver, channels: tuple[str, ...] = ("ali", "ali-b")) -> None:
    # One channel per apply: each paces its own creations, and the account's rate counts both.
    for channel in channels:
        run_ok(run_cli, "apply", str(repo.root), "--channel", channel, "--auto-approve")
        approve.clock.advance(2)  # the emulator's clock: its rate window is per second
    approve()
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)


class Approver:
    """Approves every template of the account; ``clock`` is the emulator's."""

    def __init__(self, handle: SandboxHandle, account: Any) -> None:
        self.clock, self.account = handle.clock, account

    def __call__(self) -> None:
        for found in self.account.templates():
            self.account.approve(found.code)
        self.clock.advance(3600)  # past Tencent's approved-pending-effect window


def assert_other_channel_untouched(
    run_cli: Any, repo: ConfigRepo, codes: set[str], notices: list[str] = NOTICES
) -> None:
    """``ali-b`` plans and applies past its grace period: nothing of ``ali``'s goes."""
    plan = plan_json(run_cli, repo, "--channel", "ali-b")
    assert actions(plan) == [("noop", "bee")]
    assert sorted(t["name"].split("~")[0] for t in plan["channels"][0]["foreign"]) == notices
    text = run_ok(run_cli, "plan", str(repo.root), "--channel", "ali-b")
    assert f"{len(notices)} smsops template(s) of other channels or config repositories on this account" in text
    time.sleep(1.1)  # ali-b's grace period is 1s
    out = run_ok(run_cli, "apply", str(repo.root), "--channel", "ali-b", "--auto-approve")
    assert "Apply: 0 done" in out and "done delete" not in out
    status = run_ok(run_cli, "status", str(repo.root), "--channel", "ali")
    assert "bee" not in status  # another channel's template is never "waiting for deletion" here
    assert actions(plan_json(run_cli, repo, "--channel", "ali")) == [("noop", name) for name in notices]
    assert set(published(repo, "ali").values()) <= codes


def test_a_pruning_channel_leaves_the_other_channels_templates_on_one_alibaba_account(
    run_cli: Any, tmp_path: Path, sms_sandbox: SandboxHandle, keyed: None
) -> None:
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(*sms_sandbox.credentials)
    two_channels(repo, "alibaba", sms_sandbox.url())
    roll_out(run_cli, repo, Approver(sms_sandbox, sms_sandbox.account))
    assert len(published(repo, "ali")) == 6
    assert_other_channel_untouched(run_cli, repo, {t.code for t in sms_sandbox.account.templates()})
    assert len(sms_sandbox.account.templates()) == 7

    # The channel's own removed template is still pruned (no regression).
    gone = published(repo, "ali")["notice-6"]
    (repo.root / "templates" / "notice-6.yaml").unlink()
    assert ("unpublish", "notice-6") in actions(plan_json(run_cli, repo, "--channel", "ali"))
    run_ok(run_cli, "apply", str(repo.root), "--channel", "ali", "--auto-approve")
    time.sleep(1.1)
    assert ("delete", "notice-6") in actions(plan_json(run_cli, repo, "--channel", "ali"))
    run_ok(run_cli, "apply", str(repo.root), "--channel", "ali", "--auto-approve")
    left = {t.code for t in sms_sandbox.account.templates()}
    assert gone not in left and len(left) == 6


def test_a_pruning_channel_leaves_the_other_channels_templates_on_one_tencent_account(
    run_cli: Any, tmp_path: Path, tencent_sandbox: SandboxHandle, keyed: None
) -> None:
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY)
    signature = {"name": "OnePro", "smsSdkAppId": TENCENT_TEST_APP_ID}
    notices = NOTICES[:2]  # the emulator holds AddSmsTemplate to Tencent's rate
    two_channels(repo, "tencent", tencent_sandbox.url("tencent"), notices, signature=signature)
    account = tencent_sandbox.tencent_account
    roll_out(run_cli, repo, Approver(tencent_sandbox, account))
    assert len(published(repo, "ali")) == 2
    assert_other_channel_untouched(run_cli, repo, {t.code for t in account.templates()}, notices)
    assert len(account.templates()) == 3


def test_a_code_another_channels_published_config_names_is_never_deleted(
    run_cli: Any, tmp_path: Path, sms_sandbox: SandboxHandle, keyed: None
) -> None:
    """The last look at apply: even a version the channel owns stays while any published config
    of a channel on the same provider names it."""
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(*sms_sandbox.credentials)
    two_channels(repo, "alibaba", sms_sandbox.url())
    roll_out(run_cli, repo, Approver(sms_sandbox, sms_sandbox.account))
    code = published(repo, "ali")["notice-6"]
    # ali-b's application was pointed at ali's notice-6 (a document written by hand, or by an
    # older smsops): ali removing notice-6 from git must not take it away from ali-b.
    path = repo.root / ".smsops" / "published" / "ali-b.json"
    document = json.loads(path.read_text())
    document["channel"]["templates"]["shared"] = {**document["channel"]["templates"]["bee"], "code": code}
    path.write_text(json.dumps(document))
    (repo.root / "templates" / "notice-6.yaml").unlink()
    run_ok(run_cli, "apply", str(repo.root), "--channel", "ali", "--auto-approve")
    time.sleep(1.1)
    assert ("delete", "notice-6") in actions(plan_json(run_cli, repo, "--channel", "ali"))
    _, out, err = run_cli("apply", str(repo.root), "--channel", "ali", "--auto-approve")
    assert "Traceback" not in out + err
    assert f"the published config of channel ali-b names {code}" in out + err
    assert code in {t.code for t in sms_sandbox.account.templates()}


@pytest.mark.parametrize("provider", ["alibaba", "tencent"])
def test_two_repositories_on_one_account_leave_each_others_templates(
    run_cli: Any, tmp_path: Path, provider: str, request: pytest.FixtureRequest, keyed: None
) -> None:
    """Both repositories call their channel ``prod``, publish to a file at the same path and have a
    template ``shared`` of the same content: the second names itself with ``rollout.owner``. Each
    registers its own ``shared``; a prune in either deletes nothing of the other's."""
    handle: SandboxHandle = request.getfixturevalue("sms_sandbox" if provider == "alibaba" else "tencent_sandbox")
    account = handle.account if provider == "alibaba" else handle.tencent_account
    first, second = ConfigRepo(tmp_path / "first"), ConfigRepo(tmp_path / "second")
    for repo, owner, names in ((first, {}, ["notice-1", "shared"]), (second, {"owner": "team-b"}, ["bee", "shared"])):
        if provider == "alibaba":
            repo.secrets(*handle.credentials)
            repo.channel("prod", provider, handle.url(), rollout={**PRUNE, **owner})
        else:
            repo.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY)
            signature = {"name": "OnePro", "smsSdkAppId": TENCENT_TEST_APP_ID}
            repo.channel("prod", provider, handle.url(provider), rollout={**PRUNE, **owner}, signature=signature)
        for name in names:
            template(repo, name, "prod")
    for repo in (first, second):
        roll_out(run_cli, repo, Approver(handle, account), ("prod",))
    codes = {t.code for t in account.templates()}
    assert len(codes) == 4  # shared twice: once per repository
    assert published(first, "prod")["shared"] != published(second, "prod")["shared"]
    time.sleep(1.1)
    plan = plan_json(run_cli, second)
    assert actions(plan) == [("noop", "bee"), ("noop", "shared")] and len(plan["channels"][0]["foreign"]) == 2
    run_ok(run_cli, "apply", str(second.root), "--auto-approve")
    assert {t.code for t in account.templates()} == codes

    # The first repository drops shared: its own copy goes, the second's stays published and there.
    own = published(first, "prod")["shared"]
    (first.root / "templates" / "shared.yaml").unlink()
    run_ok(run_cli, "apply", str(first.root), "--auto-approve")  # unpublished
    time.sleep(1.1)
    run_ok(run_cli, "apply", str(first.root), "--auto-approve")  # deleted after the grace period
    assert {t.code for t in account.templates()} == codes - {own}
    assert set(published(second, "prod").values()) <= codes - {own}
