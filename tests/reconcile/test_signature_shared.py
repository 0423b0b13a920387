"""One signature shared by several channels of one provider account is one resource, through the
CLI against the emulators: the plan shows one create naming the channels that use it, apply creates
it once, and its review, resubmission and deletion happen once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo, write_doc, write_sops_binary
from tests.reconcile.test_signature_providers import Cli


@pytest.fixture(autouse=True)
def _age_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)


def rows(out: str) -> str:
    return "\n".join(" ".join(line.split()) for line in out.splitlines())


def alibaba_signature(root: Path, remark: str = "Our company name.") -> None:
    block = {"qualificationId": "10000001", "remark": remark, "moreData": [{"sops": "proof.png.enc"}]}
    doc = {"apiVersion": "smsops/v1", "kind": "Signature", "metadata": {"name": "newsign"}}
    doc["spec"] = {"name": "NewSign", "alibaba": block}
    write_doc(root / "signatures" / "newsign.yaml", doc)


@pytest.fixture
def alibaba_repo(tmp_path: Path, sms_sandbox: SandboxHandle) -> ConfigRepo:
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(*sms_sandbox.credentials)
    for name in ("a", "b"):
        repo.channel(name, "alibaba", sms_sandbox.url(), signature={"name": "NewSign", "managed": "newsign"})
    repo.template("shipped", "Your order {{ order }} has shipped.", order="A-1001")
    write_sops_binary(repo.root / "signatures" / "proof.png.enc", b"\x89PNG\r\n\x1a\nproof")
    alibaba_signature(repo.root)
    return repo


def test_alibaba_signature_shared_by_two_channels_is_created_once(
    run_cli: Any, alibaba_repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    cli = Cli(run_cli, alibaba_repo.root, sms_sandbox.clock)
    out = cli.ok("plan")
    cli.ok("apply", "--auto-approve")
