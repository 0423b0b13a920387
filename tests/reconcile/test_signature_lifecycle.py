"""A new channel whose signature does not exist yet, through the CLI against the sandbox: the
signature is created, reviewed (rejected, fixed by a commit and resubmitted in place, approved),
and only then are the templates created, reviewed, gated by a test send, promoted and published.
A canary inside the encrypted proof file never shows."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.store.account import ManualClock
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import ROOT, SANDBOX_KEY, ConfigRepo, write_doc, write_sops_binary

CANARY = "CANARY-PROOF-7f3a9c"
TEST_SEND = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}, "deliveryTimeout": "30s"}


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock(time.time())  # delivery reports are due by the wall clock the gate waits on


@pytest.fixture(autouse=True)
def _age_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)


def signature_doc(remark: str) -> dict[str, Any]:
    return {
        "apiVersion": "smsops/v1",
        "kind": "Signature",
        "metadata": {"name": "newsign"},
        "spec": {
            "name": "NewSign",
            "alibaba": {
                "qualificationId": "10000001",
                "remark": remark,
                "moreData": [{"sops": "proof.png.enc"}],
            },
        },
    }


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    sms_sandbox.account.configure(delivery_delay_s=0, number_limits={})
    monkeypatch.setattr("reconciler.verify.gate.DEFAULT_POLL_INTERVAL_S", 0.01)
    monkeypatch.setattr("reconciler.providers.alibaba.adapter.AlibabaProvider.number_limits", lambda self, kind: ())
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials, recipients=["+8613812345678"])
    signature = {"name": "NewSign", "managed": "newsign"}
    config.channel("prod", "alibaba", sms_sandbox.url(), signature=signature, testSend=TEST_SEND)
    config.template("shipped", "Your order {{ order }} has shipped.", order="A-1001")
    write_sops_binary(config.root / "signatures" / "proof.png.enc", b"\x89PNG\r\n\x1a\n" + CANARY.encode())
    write_doc(config.root / "signatures" / "newsign.yaml", signature_doc("Our company name."))
    return config


def test_signature_created_rejected_resubmitted_approved_then_templates(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    cfg = str(repo.root)
    outputs: list[str] = []

    def cli(*args: str) -> tuple[int, str]:
        code, out, err = run_cli(*args)
        outputs.extend([out, err])
        return code, out

    assert cli("validate", cfg)[0] == 0
    code, out = cli("plan", cfg)
    assert "create  prod/signature/NewSign" in out and "new signature: submitted for review" in out
    assert "waits for signature 'NewSign' (to be created): create once it is approved" in out
    plan_file = tmp_path / "plan.json"
    assert cli("plan", cfg, "--out", str(plan_file))[0] == 0
    code, out = cli("apply", cfg, "--plan", str(plan_file), "--auto-approve")
    assert code == 0, outputs[-2:]
    assert sms_sandbox.account.signature("NewSign").status.value == "pending"  # created, in review
    code, out = cli("status", cfg)
    assert "signature NewSign: pending" in out
    code, out = cli("plan", cfg)
    assert "waits for signature 'NewSign' (pending review)" in out

    sms_sandbox.account.reject_signature("NewSign", "the company name is missing")
    code, out = cli("plan", cfg, "--detailed-exitcode")
    assert code == 2 and "rejected by the provider: the company name is missing" in out
    code, out = cli("status", cfg)
    assert out.splitlines()[-1] == (
        "Status: 0 live, 0 approved awaiting promotion, 0 pending review, 1 rejected (1 signature), "
        "1 not registered; 1 channel(s)."
    )
    write_doc(repo.root / "signatures" / "newsign.yaml", signature_doc("OnePro Ltd, our registered company name."))
    code, out = cli("plan", cfg)
    assert "update  prod/signature/NewSign" in out and "resubmitted in place" in out
    assert cli("apply", cfg, "--auto-approve")[0] == 0, outputs[-2:]
    assert sms_sandbox.account.signature("NewSign").status.value == "pending"

    sms_sandbox.account.approve_signature("NewSign")
    # Carrier filing (GetSmsSign SignIspRegisterDetailList): shown while one carrier is not done.
    sms_sandbox.account.set_signature_extra("NewSign", filing={"mobile": -1, "unicom": 1})
    code, out = cli("status", cfg)
    assert (
        "signature NewSign: approved (carrier filing: mobile filing, unicom pending verification, telecom filed)"
    ) in out
    sms_sandbox.account.set_signature_extra("NewSign", filing={})
    code, out = cli("status", cfg, "--output", "json")
    [channel] = json.loads(out)["channels"]
    assert channel["signature_filings"] == ["mobile filed", "unicom filed", "telecom filed"]
    assert "signature NewSign: approved\n" in cli("status", cfg)[1]  # all filed: nothing to say
    code, out = cli("plan", cfg)
    assert "create  prod/shipped~" in out and "waits for" not in out
    assert cli("apply", cfg, "--auto-approve")[0] == 0, outputs[-2:]
    (template,) = sms_sandbox.account.templates()
    assert template.name.startswith("shipped~") and template.status.value == "pending"
    code, out = cli("status", cfg)
    assert "signature NewSign: approved" in out and "pending" in out
    assert "awaiting provider review" in cli("plan", cfg)[1]

    sms_sandbox.account.approve(template.code)
    code, out = cli("plan", cfg)
    assert "promote" in out and "prod/shipped" in out
    code, out = cli("apply", cfg, "--auto-approve")
    assert code == 0 and "done     publish prod/published" in out, outputs[-2:]
    assert [s.template_code for s in sms_sandbox.account.sends()] == [template.code]  # the gate's test send
    published = json.loads((repo.root / ".smsops" / "published" / "prod.json").read_text())
    assert published["channel"]["templates"]["shipped"]["code"] == template.code
    assert "1 live" in cli("status", cfg)[1]
    assert cli("plan", cfg, "--detailed-exitcode")[0] == 0

    written = plan_file.read_text() + "".join(outputs)
    written += "".join(p.read_text() for p in (repo.root / ".smsops").rglob("*.json"))
    assert CANARY not in written and "proof.png.enc" in plan_file.read_text()


def test_a_signature_file_that_cannot_be_decrypted_blocks_only_its_channels(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    wrong = ROOT / "tests" / "keys" / "wrong.agekey"
    write_sops_binary(repo.root / "signatures" / "proof.png.enc", b"\x89PNG" + CANARY.encode(), key_file=wrong)
    repo.channel("other", "alibaba", sms_sandbox.url())  # signs with OnePro, managed by hand
    code, out, err = run_cli("plan", str(repo.root))
    assert code == 1 and CANARY not in out + err
    other, prod = out.split("Channel prod")  # channels in name order
    assert "! blocked: " in prod and "signatures/proof.png.enc" in prod and "+ create" not in prod
    assert "create  other/shipped~" in other and "Plan: 1 to create" in prod
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve")
    assert [t.name.split("~")[0] for t in sms_sandbox.account.templates()] == ["shipped"]
    assert sms_sandbox.account.signature("NewSign") is None


def rows(out: str) -> str:
    """The plan's rows with their column padding squeezed to one space."""
    return "\n".join(" ".join(line.split()) for line in out.splitlines())


def test_a_signature_no_longer_managed_is_deleted_only_with_prune_and_when_nothing_needs_it(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    cfg = str(repo.root)
    assert run_cli("apply", cfg, "--auto-approve")[0] == 0
    sms_sandbox.account.approve_signature("NewSign")
    # The channel moves to a new signature; another channel still sends with the old one.
    next_doc = signature_doc("Our company name.")
    next_doc["metadata"]["name"], next_doc["spec"]["name"] = "nextsign", "NextSign"
    write_doc(repo.root / "signatures" / "nextsign.yaml", next_doc)
    (repo.root / "signatures" / "newsign.yaml").unlink()
    repo.channel("prod", "alibaba", sms_sandbox.url(), signature={"name": "NextSign", "managed": "nextsign"})
    repo.channel("other", "alibaba", sms_sandbox.url(), signature={"name": "NewSign"})
    code, out, err = run_cli("plan", cfg, "--channel", "prod")
    assert "noop prod/signature/NewSign signature approved kept: channel(s) other in git send with it" in rows(out)

    (repo.root / "channels" / "other.yaml").unlink()
    code, out, err = run_cli("plan", cfg)
    assert "prod/signature/NewSign signature approved kept: no longer used; rollout.prune is off" in rows(out)

    signature = {"name": "NextSign", "managed": "nextsign"}
    repo.channel("prod", "alibaba", sms_sandbox.url(), signature=signature, rollout={"prune": True})
    code, out, err = run_cli("plan", cfg)
    assert "- delete prod/signature/NewSign signature approved no longer used by any channel: deleted (prune)" in rows(
        out
    )
    code, out, err = run_cli("apply", cfg, "--auto-approve")
    assert code == 0, out + err
    assert sms_sandbox.account.signature("NewSign") is None and sms_sandbox.account.signature("NextSign")
    assert "prod/signature/NewSign" not in run_cli("plan", cfg)[1]
