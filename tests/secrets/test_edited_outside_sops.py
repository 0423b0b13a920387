"""A plaintext line appended by hand to a SOPS file: `plan` says the file was edited outside sops,
not that a ciphertext was corrupted, and never echoes the plaintext (sops' own message holds it)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.secrets.sops import clear_cache

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., tuple[int, str, str]]


def test_a_plaintext_line_appended_by_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Run) -> None:
    clear_cache()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(ROOT / "sms-config" / "keys" / "sandbox.agekey"))
    for part in ("channels", "templates", "secrets", "signatures"):
        shutil.copytree(ROOT / "sms-config" / part, tmp_path / "cfg" / part)
    secret = tmp_path / "cfg" / "secrets" / "sandbox.enc.yaml"
    secret.write_text(secret.read_text() + "extra_token: HandAddedCanary0001\n")
    code, out, err = run_cli("plan", "cfg", "--channel", "sandbox")
    assert code == 1
    assert "HandAddedCanary0001" not in out + err
    # Found before anything is decrypted: validation reads every SOPS file in the config, at the line.
    shown = out + err
    assert (
        "cfg/secrets/sandbox.enc.yaml:22:14: error SMS008: value 'extra_token' in this SOPS file is not encrypted"
        in shown
    )
    assert "add the value with `sops edit FILE`" in shown
    assert "AES-GCM" not in shown
