"""A Tencent signature for another party's brand (purpose ``others``): the commission image, a
SOPS-encrypted file in git, goes to Tencent with AddSmsSign and, changed after a rejection, with
ModifySmsSign; its bytes never reach the plan, its file, apply's output or its report."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.testing import (
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo, write_doc, write_sops_binary
from tests.reconcile.test_signature_providers import Cli, signature_doc, tencent_block

CANARY = "CANARY-COMMISSION-93be"
LETTER = b"%PDF-1.7\nauthorisation letter " + CANARY.encode()
SIGNED_AGAIN = b"%PDF-1.7\nauthorisation letter, signed by the brand owner " + CANARY.encode()


@pytest.fixture
def repo(tmp_path: Path, tencent_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    tencent_sandbox.tencent_account.configure(auto_review=False)
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY)
    signature = {"name": "BrandSign", "smsSdkAppId": TENCENT_TEST_APP_ID, "managed": "newsign"}
    repo.channel("cn", "tencent", tencent_sandbox.url("tencent"), signature=signature)
    repo.template("alert", "Service {{ service }} is down", service="db")
    write_sops_binary(repo.root / "signatures" / "proof.png.enc", b"\x89PNG\r\n\x1a\nbrand owner's licence")
    write_sops_binary(repo.root / "signatures" / "letter.pdf.enc", LETTER)
    block = {**tencent_block("We send for the brand owner."), "purpose": "others"}
    block["commissionImage"] = {"sops": "letter.pdf.enc"}
    write_doc(repo.root / "signatures" / "newsign.yaml", signature_doc("BrandSign", tencent=block))
    return repo


def test_the_commission_image_goes_to_tencent_on_create_and_resubmit_and_never_shows(
    run_cli: Any, repo: ConfigRepo, tencent_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    account = tencent_sandbox.tencent_account
    cli = Cli(run_cli, repo.root, tencent_sandbox.clock)
    assert cli.ok("validate")
    plan_file = tmp_path / "plan.json"
    cli.ok("plan", "--out", str(plan_file))
    assert "letter.pdf.enc" in plan_file.read_text()  # named, with a digest; never the bytes
    cli.ok("apply", "--plan", str(plan_file), "--auto-approve", "--report", str(tmp_path / "create.json"))
    created = account.signature("BrandSign")
    assert created is not None and created.status.value == "pending"
    assert created.extra["purpose"] == 1  # SignPurpose: for others
    assert created.extra["commission_sha256"] == hashlib.sha256(LETTER).hexdigest()

    account.reject_signature("BrandSign", "the authorisation letter is not signed")
    write_sops_binary(repo.root / "signatures" / "letter.pdf.enc", SIGNED_AGAIN)
    out = cli.ok("plan", "--output", "json")
    [change] = [c for c in json.loads(out)["channels"][0]["changes"] if "signature" in c["address"]]
    assert change["action"] == "update"
    out = cli.ok("plan")
    assert "update  cn/signature/BrandSign" in out and "resubmitted in place" in out
    cli.ok("apply", "--auto-approve", "--report", str(tmp_path / "resubmit.json"))
    modified = account.signature("BrandSign")
    assert modified is not None and modified.status.value == "pending"
    assert modified.extra["sign_id"] == created.extra["sign_id"]  # ModifySmsSign: the same SignId
    assert modified.extra["commission_sha256"] == hashlib.sha256(SIGNED_AGAIN).hexdigest()

    written = "".join(cli.outputs) + plan_file.read_text()
    written += "".join(p.read_text() for p in tmp_path.glob("*.json"))
    written += "".join(p.read_text() for p in (repo.root / ".smsops").rglob("*.json"))
    assert CANARY not in written
    assert not any(base64.b64encode(data).decode() in written for data in (LETTER, SIGNED_AGAIN))
