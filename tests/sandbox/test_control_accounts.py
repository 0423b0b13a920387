"""`smsops sandbox approve|reject|status` find the account of the demo channel without being told:
the embedded sandbox keeps its accounts in ``<config>/.smsops/sandbox``, one per sandbox channel,
named after it. When the account cannot be told, or a wrong one is named, the error lists those
that exist. Real CLI, real sops, the Alibaba SDK against the embedded emulator."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.sandbox.store.account import Sandbox, SandboxAccount
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.secrets.sops import decrypt_file

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., tuple[int, str, str]]

CHANNEL = """\
apiVersion: smsops/v1
kind: Channel
metadata: {name: sandbox}
spec:
  provider: sandbox
  credentials: {sops: ../secrets/sandbox.enc.yaml}
  signature: {name: OnePro}
"""
TEMPLATE = """\
apiVersion: smsops/v1
kind: Template
metadata: {name: login}
spec:
  type: verification
  content: "Your login code is {{ code }}."
  variables:
    code: {type: code, example: "482913", maxLength: 6}
  remark: Sent when a user signs in.
"""


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Run) -> SandboxAccount:
    """``sms-config/`` as in the quickstart, applied once: one template pending review. The current
    directory is its parent, as after ``make demo``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(ROOT / "sms-config" / "keys" / "sandbox.agekey"))
    config = tmp_path / "sms-config"
    for name, text in (("channels/sandbox.yaml", CHANNEL), ("templates/login.yaml", TEMPLATE)):
        (config / name).parent.mkdir(parents=True, exist_ok=True)
        (config / name).write_text(text)
    secrets = config / "secrets" / "sandbox.enc.yaml"
    secrets.parent.mkdir()
    shutil.copy(ROOT / "sms-config" / "secrets" / "sandbox.enc.yaml", secrets)
    keys = decrypt_file(secrets)
    # Review decided by hand, so the template is still pending when the test decides it.
    account = Sandbox(config / ".smsops" / "sandbox").create_account(
        "sandbox",
        provider="alibaba",
        access_keys={
            keys.get_str("access_key_id").get_secret_value(): keys.get_str("access_key_secret").get_secret_value()
        },
        behaviour=Behaviour(auto_review=False),
    )
    code, out, err = run_cli("apply", "sms-config", "--auto-approve")
    assert code == 0, out + err
    return account


def test_the_demo_channel_account_is_found_without_options(demo: SandboxAccount, run_cli: Run) -> None:
    [template] = demo.templates()
    assert run_cli("sandbox", "reject", template.code, "--reason", "too vague") == (
        0, f"{template.code}: rejected (too vague)\n", "",
    )  # fmt: skip
    assert run_cli("sandbox", "approve", template.code) == (0, f"{template.code}: approved\n", "")
    code, out, _ = run_cli("sandbox", "status")
    assert code == 0
    assert out.splitlines()[:3] == [
        "account sandbox (alibaba)",
        "  signature OnePro: approved",
        f"  template {template.code} {template.name}: approved",
    ]


def test_the_config_names_the_account_among_several(demo: SandboxAccount, run_cli: Run, tmp_path: Path) -> None:
    state = tmp_path / "sms-config" / ".smsops" / "sandbox"
    Sandbox(state).create_account("other", provider="alibaba", access_keys={})
    [template] = demo.templates()
    assert run_cli("sandbox", "approve", template.code)[:2] == (0, f"{template.code}: approved\n")
    assert run_cli("sandbox", "status")[1].startswith("account sandbox (alibaba)\n")

    code, _, err = run_cli("sandbox", "approve", template.code, "--account", "demo-alibaba")
    assert code == 1
    assert err == (
        f"error: no sandbox account 'demo-alibaba' in {Path('sms-config/.smsops/sandbox')}\n"
        "  hint: accounts there: other, sandbox\n"
    )


def test_several_accounts_and_no_config_is_an_error_listing_them(tmp_path: Path, run_cli: Run) -> None:
    state = tmp_path / "state"
    for name in ("alpha", "beta"):
        Sandbox(state).create_account(name, provider="alibaba", access_keys={})
    code, _, err = run_cli("sandbox", "status", "--state-dir", str(state))
    assert code == 1
    assert err == f"error: 2 sandbox accounts in {state}: alpha, beta\n  hint: pass one with --account\n"


def test_no_state_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Run) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SMSOPS_SANDBOX_STATE", raising=False)
    code, _, err = run_cli("sandbox", "approve", "SMS_1")
    assert code == 1
    assert err == (
        "error: no sandbox state in .smsops/sandbox or sms-config/.smsops/sandbox\n"
        "  hint: run `smsops demo` (or `smsops sandbox serve`) first, or pass --state-dir\n"
    )
