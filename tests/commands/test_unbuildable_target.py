"""A channel whose publish target cannot even be made (``publish.ssmPrefix`` with no AWS region
known) is blocked on its own, like one whose target cannot be reached: plan, apply, status, export,
history --marks and test-send go on with the other channel. Real sops, the official SDK, the
emulator, a real git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo, channel_doc, write_doc

NO_REGION = (
    "channel dev2: publish.ssmPrefix is set but no AWS region is known (the channel's provider is alibaba); "
    "set AWS_REGION (or AWS_DEFAULT_REGION) in the environment that runs smsops"
)
TEST_SEND = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}}


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    for variable in ("SOPS_AGE_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials, recipients=["+8613800000001"])
    config.channel("dev", "alibaba", sms_sandbox.url(), testSend=TEST_SEND)
    dev2 = channel_doc("dev2", "alibaba", sms_sandbox.url(), publish={"ssmPrefix": "/sms/dev2"}, testSend=TEST_SEND)
    write_doc(config.root / "channels" / "dev2.yaml", dev2)
    config.template("alert", "Service {{ service }} is down", service="db")
    return config


def test_plan_and_apply_block_the_channel_without_a_region_and_go_on(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    for command in (["plan"], ["apply", "--auto-approve"]):
        code, out, err = run_cli(*command, str(repo.root))
        assert code == 1, out + err
        assert "Channel dev (alibaba)\n  + create  dev/alert~" in out
        blocked = out[out.index("Channel dev2 (alibaba)") :].splitlines()
        assert blocked[1].startswith("  ! blocked: ") and blocked[1].endswith(NO_REGION)
        assert "Traceback" not in err and "error:" not in err
    assert [t.name.split("~")[0] for t in sms_sandbox.account.templates()] == ["alert"]  # dev's, applied

    code, out, _ = run_cli("plan", str(repo.root), "--output", "json")
    channels = {c["channel"]: c for c in json.loads(out)["channels"]}
    assert [c["action"] for c in channels["dev"]["changes"]] == ["noop"]
    assert channels["dev2"]["blockers"][0]["message"].endswith(NO_REGION)


def test_status_and_export_show_the_other_channel(run_cli: Any, repo: ConfigRepo) -> None:
    run_cli("apply", str(repo.root), "--auto-approve")
    code, out, err = run_cli("status", str(repo.root))
    assert code == 1, out + err
    assert out.startswith("Channel dev (alibaba)\n  signature OnePro: approved\n  alert  pending review")
    assert f"  ! could not be observed: publish target: {NO_REGION}" in out.splitlines()

    code, out, err = run_cli("export", str(repo.root), "--output", "text")
    assert code == 1
    assert (repo.root / ".smsops" / "published" / "dev.json").is_file()
    assert out.splitlines()[0] == "Channel dev (alibaba, enabled), signature OnePro"
    assert f"error: channel dev2: could not read its publish target, nothing exported: {NO_REGION}" in err


def test_history_marks_reads_the_other_channel(run_cli: Any, repo: ConfigRepo) -> None:
    subprocess.run(["git", "init", "-q", str(repo.root)], check=True)
    code, out, err = run_cli("history", str(repo.root), "--marks")
    assert code == 1, out + err  # a channel whose marks were not read: the answer is incomplete
    assert out.startswith(f"History of {repo.root}: all channels and templates")
    assert f"warning: channel dev2: rollout marks not read: {NO_REGION.removeprefix('channel dev2: ')}" in out
    assert "Traceback" not in err


def test_test_send_of_the_other_channel_is_not_stopped(run_cli: Any, repo: ConfigRepo) -> None:
    code, out, err = run_cli("test-send", str(repo.root), "--channel", "dev", "--template", "alert")
    assert out.startswith("Test send on channel dev (alibaba, templates gate)\n  !! alert")  # not sent: in review
    assert "no AWS region" not in out + err
    code, out, err = run_cli("test-send", str(repo.root), "--channel", "dev2", "--template", "alert")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == f"error: channel dev2: publish target: {NO_REGION}"
