"""`smsops import` adopts the channel's signature into a ``kind: Signature`` document (against the
Alibaba, Tencent and AWS emulators): what the provider reports back is written, what it never returns is
a placeholder with a note; once the channel manages it, plan finds nothing to change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo, channel_doc, write_doc


@pytest.fixture(autouse=True)
def _age_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)


def test_alibaba_signature_adopted_then_managed_with_no_change(
    run_cli: Any, tmp_path: Path, sms_sandbox: SandboxHandle
) -> None:
    # As a console leaves it: a qualification, a remark (GetSmsSign returns both, and the type).
    fields = {"source": 0, "sign_type": 0, "qualification_id": 10000003}
    account = sms_sandbox.account
    account.put_signature("OnePro", ReviewStatus.APPROVED, scene="verification", extra=fields, remark="Our brand.")
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(*sms_sandbox.credentials)
    repo.channel("prod", "alibaba", sms_sandbox.url())
    code, out, err = run_cli("import", str(repo.root), "--channel", "prod")
    assert code == 0, err
    written = repo.root / "signatures" / "onepro.yaml"
    assert f"+ wrote {written}: kind Signature for 'OnePro'" in out
    text = written.read_text()
    assert "set `managed: onepro` in the channel's spec.signature" in text
    assert text.startswith("# Imported by `smsops import`")  # no schemas/ here: no schema line to a dead address
    document = yaml.safe_load(text)
    assert (document["kind"], document["spec"]["name"], list(document["spec"])) == (
        "Signature",
        "OnePro",
        ["name", "alibaba"],
    )
    block = document["spec"]["alibaba"]
    assert (block["type"], block["qualificationId"], block["remark"]) == ("verification", "10000003", "Our brand.")
    assert run_cli("validate", str(repo.root))[0] == 0

    managed_with_no_change(run_cli, repo, sms_sandbox, "OnePro")
    assert "prod/signature/OnePro" in run_cli("plan", str(repo.root), "--output", "json")[1]

    # Managed now: a second import leaves it alone.
    code, out, _ = run_cli("import", str(repo.root), "--channel", "prod", "-o", "json")
    assert code == 0 and json.loads(out)["signature_file"] is None


def test_alibaba_signature_with_no_qualification_is_imported_then_planned_with_no_change(
    run_cli: Any, tmp_path: Path, sms_sandbox: SandboxHandle
) -> None:
    # Registered before qualifications were required: GetSmsSign reports no QualificationId.
    account = sms_sandbox.account
    account.put_signature("OldSign", ReviewStatus.APPROVED, extra={"source": 0, "sign_type": 1}, remark="Our brand.")
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(*sms_sandbox.credentials)
    repo.channel("prod", "alibaba", sms_sandbox.url(), signature={"name": "OldSign"})
    code, _, err = run_cli("import", str(repo.root), "--channel", "prod")
    assert code == 0, err
    block = yaml.safe_load((repo.root / "signatures" / "oldsign.yaml").read_text())["spec"]["alibaba"]
    assert block["qualificationId"] == "0"  # none: what the schema accepts for "no qualification"
    assert run_cli("validate", str(repo.root))[0] == 0

    managed_with_no_change(run_cli, repo, sms_sandbox, "OldSign")


def managed_with_no_change(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, name: str) -> None:
    """The channel ``prod`` manages the imported signature: nothing to change at the provider; what
    GetSmsSign never returns (the source) gets its baseline once, then the plan is clean."""
    doc = channel_doc("prod", "alibaba", sms_sandbox.url(), signature={"name": name, "managed": name.lower()})
    write_doc(repo.root / "channels" / "prod.yaml", doc)
    code, out, err = run_cli("plan", str(repo.root), "--detailed-exitcode")
    assert code == 2 and f"~ record  prod/signature/{name}" in out and "blocked" not in out, out + err
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0
    code, out, err = run_cli("plan", str(repo.root), "--detailed-exitcode")
    assert code == 0 and "approved" in out, out + err


def test_tencent_signature_adopted_with_placeholders_for_what_is_never_returned(
    run_cli: Any, tmp_path: Path, sandbox_factory: Any
) -> None:
    from reconciler.sandbox.testing import TENCENT_TEST_APP_ID, TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY

    handle: SandboxHandle = sandbox_factory.start("tencent")
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY)
    signature = {"name": "OnePro", "smsSdkAppId": TENCENT_TEST_APP_ID}
    repo.channel("tc", "tencent", handle.url("tencent"), signature=signature)
    code, out, err = run_cli("import", str(repo.root), "--channel", "tc", "-o", "json")
    assert code == 0, err
    path = Path(json.loads(out)["signature_file"])
    assert path.name == "onepro.yaml.draft"  # not loaded: the config stays valid until the image is added
    assert run_cli("validate", str(repo.root))[0] == 0
    text = path.read_text()
    assert "sops encrypt proof.png > onepro-proof.png.enc" in text
    assert yaml.safe_load(text)["spec"]["tencent"]["proofImage"] == {"sops": "onepro-proof.png.enc"}
    path.rename(path.with_suffix(""))
    code, out, err = run_cli("validate", str(repo.root))
    assert code == 1 and "onepro-proof.png.enc" in out + err  # the image must be added, encrypted


def test_aws_sender_id_adopted_in_every_country_then_managed_with_no_change(
    run_cli: Any, tmp_path: Path, aws_sandbox: SandboxHandle
) -> None:
    from reconciler.sandbox.testing import AWS_TEST_KEY_ID, AWS_TEST_SECRET

    client = aws_sandbox.aws_client()
    client.request_sender_id(SenderId="OneProUK", IsoCountryCode="GB", MessageTypes=["TRANSACTIONAL"])
    client.request_sender_id(
        SenderId="OneProUK",
        IsoCountryCode="DE",
        MessageTypes=["TRANSACTIONAL", "PROMOTIONAL"],
        DeletionProtectionEnabled=True,
    )
    client.request_sender_id(SenderId="Other", IsoCountryCode="GB")  # another sender ID: not adopted
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(AWS_TEST_KEY_ID, AWS_TEST_SECRET)
    url = aws_sandbox.url("aws")
    repo.channel("uk", "aws", url, signature={"name": "OneProUK", "country": "GB"})
    code, out, err = run_cli("import", str(repo.root), "--channel", "uk")
    assert code == 0, out + err
    written = repo.root / "signatures" / "oneprouk.yaml"
    assert f"+ wrote {written}: kind Signature for 'OneProUK'" in out
    assert "no templates to import: AWS messages are rendered by the application" in out
    document = yaml.safe_load(written.read_text())
    assert document["spec"] == {
        "name": "OneProUK",
        "aws": {
            "senderIds": [
                {"country": "DE", "deletionProtection": True, "messageTypes": ["PROMOTIONAL", "TRANSACTIONAL"]},
                {"country": "GB", "deletionProtection": False, "messageTypes": ["TRANSACTIONAL"]},
            ]
        },
    }
    assert run_cli("validate", str(repo.root))[0] == 0

    # Both countries' channels manage it: neither plan has anything to change.
    managed = {"name": "OneProUK", "managed": "oneprouk"}
    repo.channel("uk", "aws", url, signature={**managed, "country": "GB"})
    repo.channel("de", "aws", url, signature={**managed, "country": "DE"})
    assert run_cli("validate", str(repo.root))[0] == 0
    code, out, err = run_cli("plan", str(repo.root), "--detailed-exitcode")
    assert code == 0, out + err
    addresses = {
        c["address"]: c["action"]
        for ch in json.loads(run_cli("plan", str(repo.root), "--output", "json")[1])["channels"]
        for c in ch["changes"]
    }
    assert addresses == {"de/signature/OneProUK": "noop", "uk/signature/OneProUK": "noop"}

    code, out, _ = run_cli("import", str(repo.root), "--channel", "uk", "-o", "json")
    assert code == 0 and json.loads(out)["signature_file"] is None  # managed now: left alone
