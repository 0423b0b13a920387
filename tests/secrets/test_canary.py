"""Canary: recognisable fake secrets and phone numbers go into the SOPS files; none may come out.

Checked in every plan format, the saved plan, apply's output and report, log records, and the
error text when the provider refuses the credentials; and for a Signature's encrypted proof image
and qualification document, also in status, history and the files apply writes.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo, write_doc, write_sops_binary
from tests.history.test_history import _commit, _git

CANARY_ID = "LTAI5tCanaryKeyId77777"
CANARY_SECRET = "CanarySecretValue-7f3e9a1b"
CANARY_PHONES = ["+8613912345678", "+14155550123"]
CANARIES = [CANARY_ID, CANARY_SECRET, "13912345678", "4155550123", "3912345678"]


def assert_clean(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"leaked {canary[:6]}…"


@pytest.fixture
def canary_repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    sms_sandbox.sandbox.create_account(
        "canary",
        provider="alibaba",
        access_keys={CANARY_ID: CANARY_SECRET},
        signatures=[("OnePro", ReviewStatus.APPROVED)],
    )
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(CANARY_ID, CANARY_SECRET, recipients=CANARY_PHONES)
    repo.channel(
        "prod",
        "alibaba",
        sms_sandbox.url(),
        testSend={"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}},
    )
    repo.template("alert", "Service {{ service }} is down", service="db")
    return repo


def test_no_secret_or_phone_number_in_any_output(
    run_cli: Any, canary_repo: ConfigRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    for output in ("text", "json", "markdown", "github"):
        code, out, err = run_cli("plan", str(canary_repo.root), "--output", output, "--out", str(tmp_path / "p.json"))
        assert code == 0, err
        seen += [out, err, (tmp_path / "p.json").read_text()]
    code, out, err = run_cli(
        "apply", str(canary_repo.root), "--auto-approve", "--report", str(tmp_path / "report.json")
    )
    assert code == 0, err
    seen += [out, err, (tmp_path / "report.json").read_text()]
    seen += [record.getMessage() for record in caplog.records]
    assert "create" in seen[0]  # the outputs are real, not empty
    for text in seen:
        assert_clean(text)


def test_provider_error_about_refused_credentials_does_not_echo_them(
    run_cli: Any, canary_repo: ConfigRepo, sms_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary_repo.secrets(CANARY_ID, CANARY_SECRET + "-wrong", recipients=CANARY_PHONES)
    for output in ("text", "json", "markdown", "github"):
        code, out, err = run_cli("plan", str(canary_repo.root), "--output", output)
        assert code == 1
        assert "credentials refused by the provider" in out
        for text in (out, err, *(r.getMessage() for r in caplog.records)):
            assert_clean(text)
            assert "-wrong" not in text


PROOF_CANARY = b"\x89PNG\r\n\x1a\nCANARY-PROOF-IMAGE-a61f"
DOCUMENT_CANARY = b"%PDF-1.7\nCANARY-QUALIFICATION-DOC-93be"


def assert_no_file(text: str) -> None:
    """Neither canary file shows, as text or as the base64 the provider API is sent."""
    for content in (PROOF_CANARY, DOCUMENT_CANARY):
        for shown in (content[8:].decode().strip(), base64.b64encode(content).decode()):
            assert shown not in text, f"leaked {shown[:8]}…"


def test_no_proof_image_or_qualification_document_in_any_output(
    run_cli: Any, canary_repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    root = canary_repo.root
    write_sops_binary(root / "signatures" / "proof.png.enc", PROOF_CANARY)
    write_sops_binary(root / "signatures" / "licence.pdf.enc", DOCUMENT_CANARY)
    files = [{"sops": "proof.png.enc"}, {"sops": "licence.pdf.enc", "suffix": "pdf"}]
    block = {"qualificationId": "10000001", "remark": "Canary Ltd.", "moreData": files}
    spec = {"name": "CanarySig", "alibaba": block}
    write_doc(
        root / "signatures" / "canary.yaml",
        {"apiVersion": "smsops/v1", "kind": "Signature", "metadata": {"name": "canary"}, "spec": spec},
    )
    canary_repo.channel("signed", "alibaba", sms_sandbox.url(), signature={"name": "CanarySig", "managed": "canary"})
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "Register CanarySig", "alice", 1)
    write_sops_binary(root / "signatures" / "proof.png.enc", PROOF_CANARY + b" v2")
    _commit(root, "A new proof image", "bob", 2)

    seen: list[str] = []
    for output in ("text", "json", "markdown", "github"):
        code, out, err = run_cli("plan", str(root), "--output", output, "--out", str(tmp_path / "p.json"))
        seen += [out, err, (tmp_path / "p.json").read_text()]
    assert "create  signed/signature/CanarySig" in seen[0]  # the outputs are real, not empty
    code, out, err = run_cli("apply", str(root), "--auto-approve", "--report", str(tmp_path / "report.json"))
    assert code == 0, err
    seen += [out, err, (tmp_path / "report.json").read_text()]
    assert sms_sandbox.sandbox.account("canary").signature("CanarySig") is not None  # the files went out
    for command in (("status",), ("history",), ("history", "-o", "json"), ("validate",)):
        code, out, err = run_cli(command[0], str(root), *command[1:])
        seen += [out, err]
    assert "content changed" in seen[-6]  # history saw the new proof image, by its metadata only
    seen += [record.getMessage() for record in caplog.records]
    seen += [path.read_text() for path in (root / ".smsops").rglob("*") if path.is_file()]
    for text in seen:
        assert_no_file(text)
        assert_clean(text)
