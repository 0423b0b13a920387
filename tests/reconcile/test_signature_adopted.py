"""An approved signature smsops never submitted (registered in a console before smsops managed it),
adopted by a channel's ``spec.signature.managed``, through the CLI against the Alibaba, Tencent and
AWS emulators: what the provider returns is compared with git at once; what it never returns (the
source, the type, the proof files) gets a baseline recorded by the first apply, shown as its own
row, and a later edit of it is planned like any other. Nothing is resubmitted for review on the way,
and no proof byte is ever printed or written to a plan."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo, write_doc, write_sops_binary
from tests.reconcile.test_signature_providers import Cli

CANARY = b"\x89PNG\r\n\x1a\nCANARY-ADOPTED-PROOF-4e1b"
ALIBABA_REMARK = "Made in the console by OnePro."
RECORDED = "approved, not submitted by smsops: baseline recorded (the provider does not return {fields}); later"


@pytest.fixture(autouse=True)
def _age_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)


def signature(root: Path, **block: Any) -> None:
    doc = {"apiVersion": "smsops/v1", "kind": "Signature", "metadata": {"name": "adopted"}, "spec": {"name": "Adopted"}}
    doc["spec"].update(block)
    write_doc(root / "signatures" / "adopted.yaml", doc)


def proof(root: Path, content: bytes = CANARY) -> None:
    write_sops_binary(root / "signatures" / "proof.png.enc", content)


def rows(out: str) -> str:
    """The plan's rows with their column padding squeezed to one space."""
    return "\n".join(" ".join(line.split()) for line in out.splitlines())


def assert_no_proof(cli: Cli, *files: Path) -> None:
    written = "".join(cli.outputs) + "".join(path.read_text() for path in files)
    for shown in (CANARY[8:].decode(), base64.b64encode(CANARY).decode()):
        assert shown not in written


def alibaba_block(remark: str = ALIBABA_REMARK, **more: Any) -> dict[str, Any]:
    block = {"qualificationId": "10000007", "remark": remark, "moreData": [{"sops": "proof.png.enc"}]}
    return {"alibaba": {**block, **more}}


def test_alibaba_adopted_signature_gets_a_baseline_once_then_every_edit_is_planned(
    run_cli: Any, tmp_path: Path, sms_sandbox: SandboxHandle
) -> None:
    account = sms_sandbox.account
    fields = {"source": 0, "sign_type": 1, "qualification_id": 10000007}
    account.put_signature("Adopted", ReviewStatus.APPROVED, extra=fields, remark=ALIBABA_REMARK)
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(*sms_sandbox.credentials)
    repo.channel("prod", "alibaba", sms_sandbox.url(), signature={"name": "Adopted", "managed": "adopted"})
    proof(repo.root)
    signature(repo.root, **alibaba_block())
    cli = Cli(run_cli, repo.root, sms_sandbox.clock)

    # Unchanged YAML: nothing to change at the provider, one visible row to record the baseline.
    code, out = cli("plan", "--detailed-exitcode")
    assert code == 2
    assert f"~ record prod/signature/Adopted signature approved {RECORDED.format(fields='moreData, source')}" in rows(
        out
    )
    assert "to create, 0 to update" in out and "0 to delete, 1 to record; 0 awaiting review." in out
    plan_file = tmp_path / "plan.json"
    cli.ok("plan", "--out", str(plan_file))
    (row,) = [c for c in json.loads(plan_file.read_text())["channels"][0]["changes"] if c["action"] == "record"]
    assert len(row["baseline"]) == 16 and row["signature"]["files"][0]["sha256"]
    out = cli.ok("apply", "--plan", str(plan_file), "--auto-approve")
    assert "done     record  prod/signature/Adopted" in out
    assert cli("plan", "--detailed-exitcode")[0] == 0  # recorded once
    assert "noop prod/signature/Adopted signature approved approved" in rows(cli.ok("plan"))
    proof(repo.root)  # encrypted again, the same image: not a change
    assert cli("plan", "--detailed-exitcode")[0] == 0

    # A field GetSmsSign returns, edited in git: planned (Alibaba takes no change to an approved one).
    signature(repo.root, **alibaba_block("A new remark.", type="verification"))
    code, out = cli("plan")
    assert code == 1 and "signature 'Adopted' is approved, and remark, type changed in git" in out
    assert "only in the console" in out
    # A field it never returns, or the proof file, edited after the baseline: planned too.
    signature(repo.root, **alibaba_block(source="trademark", trademarkId="88"))
    code, out = cli("plan")
    assert code == 1 and "trademarkId changed in git; and moreData or source changed in git since its baseline" in out
    signature(repo.root, **alibaba_block())
    proof(repo.root, CANARY + b" a clearer scan")
    code, out = cli("plan")
    assert (
        code == 1
        and (
            "signature 'Adopted' is approved, and moreData or source changed in git since its baseline was recorded "
            "(the provider does not return them)"
        )
        in out
    )
    assert "delete the 'signature:Adopted' entry of the channel's marks document" in out
    code, out = cli("plan", "--output", "json", "--out", str(tmp_path / "blocked.json"))
    assert "signature-immutable" in out

    stored = account.signature("Adopted")
    assert stored is not None and stored.status is ReviewStatus.APPROVED and stored.remark == ALIBABA_REMARK
    assert "order_id" not in stored.extra  # never resubmitted
    assert_no_proof(cli, plan_file, tmp_path / "blocked.json", *(repo.root / ".smsops").rglob("*.json"))


def tencent_block(**more: Any) -> dict[str, Any]:
    block = {"type": "company", "documentType": 0, "qualificationId": 7, "proofImage": {"sops": "proof.png.enc"}}
    return {"tencent": {**block, **more}}


def test_tencent_adopted_signature_gets_a_baseline_once_then_every_edit_is_planned(
    run_cli: Any, tmp_path: Path, tencent_sandbox: SandboxHandle
) -> None:
    account = tencent_sandbox.tencent_account
    fields = {"sign_type": 0, "document_type": 0, "international": 0, "purpose": 0, "qualification_id": 7}
    account.put_signature("Adopted", ReviewStatus.APPROVED, extra=fields)
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY)
    signed = {"name": "Adopted", "smsSdkAppId": TENCENT_TEST_APP_ID, "managed": "adopted"}
    repo.channel("cn", "tencent", tencent_sandbox.url("tencent"), signature=signed)
    proof(repo.root)
    signature(repo.root, **tencent_block())
    cli = Cli(run_cli, repo.root, tencent_sandbox.clock)

    hidden = "documentType, proofImage, purpose, remark, type"
    code, out = cli("plan", "--detailed-exitcode")
    assert code == 2 and f"~ record cn/signature/Adopted signature approved {RECORDED.format(fields=hidden)}" in rows(
        out
    )
    plan_file = tmp_path / "plan.json"
    cli.ok("plan", "--out", str(plan_file))
    cli.ok("apply", "--plan", str(plan_file), "--auto-approve")
    assert cli("plan", "--detailed-exitcode")[0] == 0

    # DescribeSmsSignList returns the qualification: an edit is planned at once.
    signature(repo.root, **tencent_block(qualificationId=8))
    code, out = cli("plan")
    assert code == 1 and "signature 'Adopted' is approved, and qualificationId changed in git" in out
    assert "SignAlreadyPassedCheck" in out
    # It never returns the remark, the type or the proof image: compared with the baseline.
    signature(repo.root, **tencent_block(remark="Our brand."))
    code, out = cli("plan")
    assert code == 1 and f"and {hidden.replace(', ', ' or ')} changed in git since its baseline" in out
    signature(repo.root, **tencent_block())
    proof(repo.root, CANARY + b" v2")
    code, out = cli("plan", "--out", str(tmp_path / "blocked.json"))
    assert code == 1 and "changed in git since its baseline was recorded" in out

    stored = account.signature("Adopted")
    assert stored is not None and stored.status is ReviewStatus.APPROVED
    assert "proof_sha256" not in stored.extra  # ModifySmsSign was never called: no review restarted
    assert_no_proof(cli, plan_file, *(repo.root / ".smsops").rglob("*.json"))


def sender_ids(protection: bool = True, **more: Any) -> dict[str, Any]:
    entry = {"country": "GB", "deletionProtection": protection, "messageTypes": ["TRANSACTIONAL"], **more}
    return {"aws": {"senderIds": [entry]}}


def test_aws_adopted_sender_id_is_compared_field_by_field_and_needs_no_baseline(
    run_cli: Any, tmp_path: Path, aws_sandbox: SandboxHandle
) -> None:
    client = aws_sandbox.aws_client()
    client.request_sender_id(
        SenderId="Adopted", IsoCountryCode="GB", MessageTypes=["TRANSACTIONAL"], DeletionProtectionEnabled=True
    )
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(AWS_TEST_KEY_ID, AWS_TEST_SECRET)
    repo.channel(
        "uk", "aws", aws_sandbox.url("aws"), signature={"name": "Adopted", "country": "GB", "managed": "adopted"}
    )
    signature(repo.root, **sender_ids())
    cli = Cli(run_cli, repo.root, aws_sandbox.clock)

    # DescribeSenderIds returns every field of the entry: nothing hidden, so no baseline row.
    code, out = cli("plan", "--detailed-exitcode")
    assert code == 0 and "noop uk/signature/Adopted signature approved approved" in rows(out)
    assert "record" not in out

    signature(repo.root, **sender_ids(registrationId="registration-0123"))
    code, out = cli("plan")
    assert code == 1 and "signature 'Adopted' is approved, and registrationId changed in git" in out
    signature(repo.root, **sender_ids(False))
    out = cli.ok("plan")
    assert (
        "update uk/signature/Adopted" in rows(out)
        and "deletionProtection changed: updated in place (sender IDs have no review)" in out
    )
    cli.ok("apply", "--auto-approve")
    assert client.describe_sender_ids()["SenderIds"][0]["DeletionProtectionEnabled"] is False
    assert cli("plan", "--detailed-exitcode")[0] == 0
