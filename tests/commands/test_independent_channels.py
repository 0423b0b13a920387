"""Channels are independent: one whose secrets cannot be decrypted (or whose keys the provider
refuses) is blocked with its reason, the others are planned, applied, shown, exported and waited
for, and the exit code is 1. Real sops with the committed test key, the official SDK, the emulator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import reconciler.commands.wait as wait_command
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import ROOT, SANDBOX_KEY, ConfigRepo, channel_doc, write_doc, write_sops
from tests.reconcile.test_status import FakeTime

# Encrypted to a recipient whose key is committed nowhere: the sandbox key cannot open it.
LOCKED_SECRETS = ROOT / "sms-config" / "secrets" / "production.enc.yaml"
CANNOT_DECRYPT = "secrets/locked.enc.yaml: cannot decrypt: the available key is not one this file is encrypted for"


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # secrets files are named relative to the working directory
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials, recipients=["+8613800000001"])
    config.channel("good", "alibaba", sms_sandbox.url())
    shutil.copy(LOCKED_SECRETS, config.root / "secrets" / "locked.enc.yaml")
    locked = channel_doc(
        "locked",
        "alibaba",
        sms_sandbox.url(),
        credentials={"sops": "../secrets/locked.enc.yaml"},
        testSend={"recipients": {"sops": "../secrets/locked.enc.yaml", "key": "test_recipients"}},
    )
    write_doc(config.root / "channels" / "locked.yaml", locked)
    config.template("alert", "Service {{ service }} is down", service="db")
    return config


def names(handle: SandboxHandle) -> list[str]:
    return sorted(t.name.split("~")[0] for t in handle.account.templates())


def test_plan_blocks_the_undecryptable_channel_and_plans_the_other(run_cli: Any, repo: ConfigRepo) -> None:
    code, out, err = run_cli("plan", str(repo.root))
    assert code == 1, err
    assert "Channel good (alibaba)\n  + create  good/alert~" in out
    blocked = out[out.index("Channel locked (alibaba)") :].splitlines()
    assert blocked[1] == f"  ! blocked: cfg/{CANNOT_DECRYPT}"
    assert blocked[2].startswith("    hint: use a key for age age1") and "SOPS_AGE_KEY_FILE=" in blocked[2]
    assert out.rstrip().endswith("1 awaiting review. 1 channel(s) blocked.")
    assert "Traceback" not in out + err and err == ""

    code, out, _ = run_cli("plan", str(repo.root), "--output", "json", "--detailed-exitcode")
    assert code == 1  # a blocker is an error, not drift
    channels = {c["channel"]: c for c in json.loads(out)["channels"]}
    assert [c["action"] for c in channels["good"]["changes"]] == ["create"]
    assert [(b["code"], b["message"]) for b in channels["locked"]["blockers"]] == [
        ("secrets-failed", f"cfg/{CANNOT_DECRYPT}")
    ]


def test_the_undecryptable_channel_selected_alone_still_says_why(run_cli: Any, repo: ConfigRepo) -> None:
    code, out, err = run_cli("plan", str(repo.root), "--channel", "locked")
    assert code == 1
    assert f"! blocked: cfg/{CANNOT_DECRYPT}" in out and "Traceback" not in out + err
    code, out, err = run_cli("test-send", str(repo.root), "--channel", "locked")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == f"error: cfg/{CANNOT_DECRYPT}"
    assert "SOPS_AGE_KEY_FILE=" in err and "Traceback" not in err


def test_apply_applies_the_other_channel_and_exits_1(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve", "--report", str(report))
    assert code == 1, out + err
    assert names(sms_sandbox) == ["alert"]
    assert f"! blocked: cfg/{CANNOT_DECRYPT}" in out
    assert out.rstrip().endswith("Apply: 1 done, 0 failed, 0 deferred, 0 skipped.")
    assert [(r["channel"], r["outcome"]) for r in json.loads(report.read_text())["results"]] == [("good", "done")]


def test_a_saved_plan_of_a_channel_that_cannot_be_decrypted_now_is_skipped(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan was made where both keys were at hand; apply runs where one is missing."""
    (repo.root / "channels" / "locked.yaml").unlink()
    write_doc(repo.root / "channels" / "later.yaml", channel_doc("later", "alibaba", sms_sandbox.url()))
    saved = tmp_path / "plan.json"
    assert run_cli("plan", str(repo.root), "--out", str(saved))[0] == 0
    later = channel_doc("later", "alibaba", sms_sandbox.url(), credentials={"sops": "../secrets/locked.enc.yaml"})
    write_doc(repo.root / "channels" / "later.yaml", later)
    code, out, err = run_cli("apply", str(repo.root), "--plan", str(saved), "--auto-approve")
    assert code == 1, out + err
    assert "  done     create  good/alert~" in out
    assert "  skipped  create  later/alert~" in out and f"channel blocked: cfg/{CANNOT_DECRYPT}" in out
    assert names(sms_sandbox) == ["alert"]


def test_refused_keys_block_one_channel_and_the_other_is_applied(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    write_sops(repo.root / "secrets" / "wrong.enc.yaml", {"access_key_id": "nobody", "access_key_secret": "wrong"})
    refused = channel_doc("locked", "alibaba", sms_sandbox.url(), credentials={"sops": "../secrets/wrong.enc.yaml"})
    write_doc(repo.root / "channels" / "locked.yaml", refused)
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve")
    assert code == 1, out + err
    assert "! blocked: credentials refused by the provider" in out
    assert names(sms_sandbox) == ["alert"]


def test_a_channel_whose_lease_is_held_elsewhere_is_blocked_and_the_other_is_applied(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another runner holds the apply lease of one channel (in its file target): that channel is
    blocked naming the holder, without waiting it out; the other channel is applied."""
    monkeypatch.setattr("reconciler.publish.lease.WAIT_S", 0.0)
    busy = channel_doc("busy", "alibaba", sms_sandbox.url(), publish={"file": "../published/busy.json"})
    write_doc(repo.root / "channels" / "locked.yaml", busy)
    (repo.root / "published").mkdir()
    holder = {
        "owner": "ci@runner-7 pid 41 run 9001",
        "acquired": "2026-12-05T08:00:00Z",
        "expires": "2999-01-01T00:00:00Z",
    }
    (repo.root / "published" / "busy.lock").write_text(json.dumps(holder))
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve")
    assert code == 1, out + err
    blocked = out[out.index("Channel busy (alibaba)") :].splitlines()
    assert blocked[1].startswith("  ! blocked: channel busy is locked by ci@runner-7 pid 41 run 9001's apply until")
    assert "  done     create  good/alert~" in out
    assert names(sms_sandbox) == ["alert"]  # only good's version: busy created nothing
    assert json.loads((repo.root / "published" / "busy.lock").read_text()) == holder  # not taken over
    assert "Traceback" not in out + err


def test_status_and_wait_show_the_other_channel_and_exit_1(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    run_cli("apply", str(repo.root), "--auto-approve")
    for template in sms_sandbox.account.templates():
        sms_sandbox.account.approve(template.code)
    for command in (["status"], ["wait", "--timeout", "10s"]):
        code, out, err = run_cli(*command, str(repo.root))
        assert code == 1, out + err
        lines = out.splitlines()
        assert lines[:3] == ["Channel good (alibaba)", "  signature OnePro: approved", lines[2]]
        assert lines[2].startswith("  alert  approved, awaiting promotion")
        assert f"  ! could not be observed: cfg/{CANNOT_DECRYPT}" in lines
        assert f"error: channel locked blocked: cfg/{CANNOT_DECRYPT}\n  hint: use a key for age" in err
        assert "Traceback" not in err


def test_export_publishes_the_other_channel_and_withholds_the_combined_document(
    run_cli: Any, repo: ConfigRepo, tmp_path: Path
) -> None:
    combined = tmp_path / "runtime.json"
    code, out, err = run_cli("export", str(repo.root), "--out", str(combined), "--output", "text")
    assert code == 1
    published = repo.root / ".smsops" / "published"
    assert sorted(p.name for p in published.iterdir()) == ["good.json"]
    assert out.splitlines()[0] == "Channel good (alibaba, enabled), signature OnePro"
    assert f"error: channel locked: nothing exported: cfg/{CANNOT_DECRYPT}" in err
    assert "the combined document was not written: it would lack the channel(s) above" in err
    assert not combined.exists()
    code, out, _ = run_cli("export", str(repo.root), "--channel", "good", "--out", str(combined))
    assert code == 0 and json.loads(combined.read_text())["channels"].keys() == {"good"}


def test_wait_keeps_waiting_for_the_other_channel_when_one_is_refused(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_sops(repo.root / "secrets" / "wrong.enc.yaml", {"access_key_id": "nobody", "access_key_secret": "wrong"})
    refused = channel_doc("locked", "alibaba", sms_sandbox.url(), credentials={"sops": "../secrets/wrong.enc.yaml"})
    write_doc(repo.root / "channels" / "locked.yaml", refused)
    run_cli("apply", str(repo.root), "--auto-approve")
    [pending] = sms_sandbox.account.templates()
    time = FakeTime(on_sleep=lambda n: sms_sandbox.account.approve(pending.code) if n == 2 else None)
    monkeypatch.setattr(wait_command, "CLOCK", time.clock)
    monkeypatch.setattr(wait_command, "SLEEP", time.sleep)

    code, out, err = run_cli("wait", str(repo.root), "--interval", "15s")
    assert code == 1, err
    assert time.sleeps == [15, 15]  # the refused channel did not end the wait for the other
    assert "  alert  approved, awaiting promotion; none live" in out
    assert "  ! could not be observed: credentials refused by the provider" in out
    assert "failed: locked: could not be observed: credentials refused by the provider" in err
    assert "Traceback" not in err
