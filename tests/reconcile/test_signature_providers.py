"""A new channel whose signature does not exist yet, through the CLI against the Tencent and AWS
emulators: the signature is created and reviewed (Tencent: rejected, fixed by a commit and modified
in place with ModifySmsSign), then the templates are created, reviewed, gated by a test send and
promoted; ``status`` and the plan show each wait. AWS sender IDs have no review: a change of the one
field UpdateSenderId takes is made in place, any other is a blocker that says what to do."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.providers.aws import sender_ids
from reconciler.sandbox.store.account import ManualClock
from reconciler.sandbox.tencent.ops import set_effect_delay
from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    AWS_TEST_VERIFIED,
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo, write_doc, write_sops_binary

CANARY = "CANARY-TENCENT-PROOF-51d2"
TEST_SEND = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}, "deliveryTimeout": "30s"}


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock(time.time())  # delivery reports are due by the wall clock the gate waits on


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setattr("reconciler.verify.gate.DEFAULT_POLL_INTERVAL_S", 0.01)


def signature_doc(name: str, **blocks: Any) -> dict[str, Any]:
    return {
        "apiVersion": "smsops/v1",
        "kind": "Signature",
        "metadata": {"name": "newsign"},
        "spec": {"name": name, **blocks},
    }


def tencent_block(remark: str) -> dict[str, Any]:
    return {
        "type": "company",
        "documentType": 0,
        "qualificationId": 1,
        "proofImage": {"sops": "proof.png.enc"},
        "remark": remark,
    }


class Cli:
    """The CLI in-process, keeping every output to check for the canary at the end. The sandbox
    clock moves a second before each command, as between a pipeline's runs (the emulators' API
    rates count requests per second of that clock)."""

    def __init__(self, run_cli: Any, root: Path, clock: ManualClock) -> None:
        self.run_cli, self.root, self.clock, self.outputs = run_cli, str(root), clock, []

    def __call__(self, command: str, *args: str) -> tuple[int, str]:
        self.clock.advance(1.1)
        code, out, err = self.run_cli(command, self.root, *args)
        self.outputs.extend([out, err])
        assert "Traceback" not in out + err, err
        return code, out

    def ok(self, command: str, *args: str) -> str:
        code, out = self(command, *args)
        assert code == 0, self.outputs[-2:]
        return out


@pytest.fixture
def tencent_repo(tmp_path: Path, tencent_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    # Reviews by hand; the gate's delivery polls are not held to a rate of the clock it does not move.
    rates = {"PullSmsSendStatusByPhoneNumber": 0}
    tencent_sandbox.tencent_account.configure(delivery_delay_s=0, number_limits={}, auto_review=False, api_rates=rates)
    set_effect_delay(tencent_sandbox.tencent_account, 0)  # an approved template is usable at once
    monkeypatch.setattr("reconciler.providers.tencent.adapter.TencentProvider.number_limits", lambda self, kind: ())
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY, recipients=["+8613812345678"])
    signature = {"name": "NewSign", "smsSdkAppId": TENCENT_TEST_APP_ID, "managed": "newsign"}
    rollout = {"prune": True, "gracePeriod": "1s"}
    repo.channel(
        "cn", "tencent", tencent_sandbox.url("tencent"), signature=signature, testSend=TEST_SEND, rollout=rollout
    )
    repo.template("alert", "Service {{ service }} is down", service="db")
    write_sops_binary(repo.root / "signatures" / "proof.png.enc", b"\x89PNG\r\n\x1a\n" + CANARY.encode())
    write_doc(repo.root / "signatures" / "newsign.yaml", signature_doc("NewSign", tencent=tencent_block("OnePro")))
    return repo


def test_tencent_signature_rejected_modified_approved_then_templates_gated_and_promoted(
    run_cli: Any, tencent_repo: ConfigRepo, tencent_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    account = tencent_sandbox.tencent_account
    cli = Cli(run_cli, tencent_repo.root, tencent_sandbox.clock)
    assert cli.ok("validate")
    out = cli.ok("plan")
    assert "create  cn/signature/NewSign" in out
    assert "waits for signature 'NewSign' (to be created): create once it is approved" in out
    plan_file = tmp_path / "plan.json"
    cli.ok("plan", "--out", str(plan_file))
    cli.ok("apply", "--plan", str(plan_file), "--auto-approve")
    created = account.signature("NewSign")
    assert created is not None and created.status.value == "pending" and not account.templates()
    assert "signature NewSign: pending" in cli("status")[1]
    assert "waits for signature 'NewSign' (pending review)" in cli.ok("plan")
    code, out = cli("wait", "--timeout", "1s")
    assert code != 0 and "signature 'NewSign' (pending review)" in out + cli.outputs[-1], cli.outputs[-2:]

    account.reject_signature("NewSign", "the proof does not show the company name")
    code, out = cli("plan", "--detailed-exitcode")
    assert code == 2 and "rejected by the provider: the proof does not show the company name" in out
    write_sops_binary(
        tencent_repo.root / "signatures" / "proof.png.enc", b"\x89PNG\r\n\x1a\nclearer " + CANARY.encode()
    )
    out = cli.ok("plan")
    assert "update  cn/signature/NewSign" in out and "resubmitted in place" in out
    cli.ok("apply", "--auto-approve")
    modified = account.signature("NewSign")
    assert modified is not None and modified.status.value == "pending"
    assert modified.extra["sign_id"] == created.extra["sign_id"]  # ModifySmsSign: the same SignId

    account.approve_signature("NewSign")
    # Tencent reports no carrier filing (DescribeSmsSignList has none): status shows none.
    assert "signature NewSign: approved\n" in cli.ok("status")
    [channel] = json.loads(cli.ok("status", "--output", "json"))["channels"]
    assert channel["signature"] == "approved" and channel["signature_filings"] == []
    # the review wait is over: what waited for the signature is the next apply's to register
    out = cli.ok("wait", "--timeout", "1s")
    assert "the next apply registers 1 template(s) that waited for it: cn/alert" in cli.outputs[-1], cli.outputs[-2:]
    out = cli.ok("plan")
    assert "create  cn/alert~" in out and "waits for" not in out
    cli.ok("apply", "--auto-approve")
    (template,) = account.templates()
    assert "pending" in cli("status")[1]
    assert "awaiting provider review" in cli.ok("plan")

    account.approve(template.code)
    out = cli.ok("plan")
    assert "promote" in out and "cn/alert" in out
    out = cli.ok("apply", "--auto-approve")
    assert "done     publish cn/published" in out
    assert [s.template_code for s in account.sends()] == [template.code]  # the gate's test send
    assert "1 live" in cli.ok("status")
    assert cli("plan", "--detailed-exitcode")[0] == 0

    written = plan_file.read_text() + "".join(cli.outputs)
    written += "".join(p.read_text() for p in (tencent_repo.root / ".smsops").rglob("*.json"))
    assert CANARY not in written


@pytest.fixture
def aws_repo(tmp_path: Path, aws_sandbox: SandboxHandle) -> ConfigRepo:
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(AWS_TEST_KEY_ID, AWS_TEST_SECRET, recipients=[AWS_TEST_VERIFIED[0]])
    signature = {"name": "NewSign", "country": "GB", "managed": "newsign"}
    repo.channel("uk", "aws", aws_sandbox.url("aws"), signature=signature, testSend=TEST_SEND)
    repo.template("alert", "Service {{ service }} is down", service="db")
    return repo


def sender(protection: bool, types: tuple[str, ...] = ("TRANSACTIONAL",)) -> dict[str, Any]:
    entry = {"country": "GB", "deletionProtection": protection, "messageTypes": list(types)}
    return {"senderIds": [entry]}


def test_aws_sender_id_requested_then_templates_published_and_updated_in_place(
    run_cli: Any, aws_repo: ConfigRepo, aws_sandbox: SandboxHandle
) -> None:
    write_doc(aws_repo.root / "signatures" / "newsign.yaml", signature_doc("NewSign", aws=sender(True)))
    cli = Cli(run_cli, aws_repo.root, aws_sandbox.clock)
    out = cli.ok("plan")
    assert "+ create  uk/signature/NewSign  signature" in out  # the kind in the code column, not "(new)"
    assert "new sender ID: requested (sender IDs have no content review)" in out
    assert "waits for signature 'NewSign' (to be created): publish once it is approved" in out
    cli.ok("apply", "--auto-approve")
    client = aws_sandbox.aws_client()
    (found,) = client.describe_sender_ids()["SenderIds"]
    assert (found["SenderId"], found["IsoCountryCode"], found["DeletionProtectionEnabled"]) == ("NewSign", "GB", True)
    assert "signature NewSign: approved" in cli("status")[1]

    out = cli.ok("plan")
    assert "noop    uk/signature/NewSign  signature      approved" in out
    assert "waits for" not in out and "* publish uk/published" in out
    cli.ok("apply", "--auto-approve")
    published = json.loads((aws_repo.root / ".smsops" / "published" / "uk.json").read_text())
    assert "alert" in published["channel"]["templates"]
    assert cli("plan", "--detailed-exitcode")[0] == 0

    # Deletion protection is the one field UpdateSenderId changes: in place.
    write_doc(aws_repo.root / "signatures" / "newsign.yaml", signature_doc("NewSign", aws=sender(False)))
    out = cli.ok("plan")
    assert "update  uk/signature/NewSign" in out and "deletionProtection changed: updated in place" in out
    cli.ok("apply", "--auto-approve")
    assert client.describe_sender_ids()["SenderIds"][0]["DeletionProtectionEnabled"] is False

    # Message types cannot change by API: a blocker that says what to do.
    write_doc(
        aws_repo.root / "signatures" / "newsign.yaml",
        signature_doc("NewSign", aws=sender(False, ("TRANSACTIONAL", "PROMOTIONAL"))),
    )
    code, out = cli("plan")
    assert code == 1 and "messageTypes changed in git" in out and "release it" in out


def next_signature(repo: ConfigRepo) -> None:
    """A new managed Signature, NextSign, with NewSign's settings; NewSign's document is gone."""
    spec = yaml.safe_load((repo.root / "signatures" / "newsign.yaml").read_text())["spec"]
    next_doc = signature_doc("NextSign", **{key: value for key, value in spec.items() if key != "name"})
    next_doc["metadata"]["name"] = "nextsign"
    write_doc(repo.root / "signatures" / "nextsign.yaml", next_doc)
    (repo.root / "signatures" / "newsign.yaml").unlink()


def rows(out: str) -> str:
    """The plan's rows with their column padding squeezed to one space."""
    return "\n".join(" ".join(line.split()) for line in out.splitlines())


def test_tencent_signature_no_longer_used_is_deleted_with_prune(
    run_cli: Any, tencent_repo: ConfigRepo, tencent_sandbox: SandboxHandle
) -> None:
    account = tencent_sandbox.tencent_account
    cli = Cli(run_cli, tencent_repo.root, tencent_sandbox.clock)
    cli.ok("apply", "--auto-approve")
    account.approve_signature("NewSign")
    next_signature(tencent_repo)
    signature = {"name": "NextSign", "smsSdkAppId": TENCENT_TEST_APP_ID, "managed": "nextsign"}
    url = tencent_sandbox.url("tencent")
    tencent_repo.channel("cn", "tencent", url, signature=signature, testSend=TEST_SEND)
    assert "cn/signature/NewSign signature approved kept: no longer used; rollout.prune is off" in rows(cli.ok("plan"))

    rollout = {"prune": True, "gracePeriod": "1s"}
    tencent_repo.channel("cn", "tencent", url, signature=signature, testSend=TEST_SEND, rollout=rollout)
    out = rows(cli.ok("plan"))
    assert "- delete cn/signature/NewSign signature approved no longer used by any channel: deleted (prune)" in out
    cli.ok("apply", "--auto-approve")
    assert account.signature("NewSign") is None  # DeleteSmsSign
    assert account.signature("NextSign") is not None
    assert "cn/signature/NewSign" not in cli.ok("plan")


def test_aws_sender_id_no_longer_used_is_released_with_prune_unless_deletion_protected(
    run_cli: Any, aws_repo: ConfigRepo, aws_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_doc(aws_repo.root / "signatures" / "newsign.yaml", signature_doc("NewSign", aws=sender(True)))
    cli = Cli(run_cli, aws_repo.root, aws_sandbox.clock)
    cli.ok("apply", "--auto-approve")
    next_signature(aws_repo)
    signature = {"name": "NextSign", "country": "GB", "managed": "nextsign"}
    aws_repo.channel("uk", "aws", aws_sandbox.url("aws"), signature=signature, rollout={"prune": True})
    out = rows(cli.ok("plan"))
    assert "uk/signature/NewSign signature approved kept: deletion protection is on" in out
    code, shown = cli("plan", "--detailed-exitcode")  # prune wants it gone, protection keeps it: a person decides
    said = shown + cli.outputs[-1]
    assert code == 2 and "signature 'NewSign' is no longer used, but its deletion protection keeps it" in said
    cli.ok("apply", "--auto-approve")
    client = aws_sandbox.aws_client()
    assert sorted(s["SenderId"] for s in client.describe_sender_ids()["SenderIds"]) == ["NewSign", "NextSign"]

    # Protection turned off by hand: the plan releases it. Turned on again before the apply: a saved
    # plan is refused as stale; a protection turned on during the apply makes the provider refuse
    # ReleaseSenderId, and the apply says so.
    client.update_sender_id(SenderId="NewSign", IsoCountryCode="GB", DeletionProtectionEnabled=False)
    plan_file = tmp_path / "plan.json"
    cli.ok("plan", "--out", str(plan_file))
    assert "- delete uk/signature/NewSign" in rows(cli.ok("plan"))
    client.update_sender_id(SenderId="NewSign", IsoCountryCode="GB", DeletionProtectionEnabled=True)
    code, out = cli("apply", "--plan", str(plan_file), "--auto-approve")
    assert code == 1 and "changed at the provider since the plan was made" in cli.outputs[-1]

    client.update_sender_id(SenderId="NewSign", IsoCountryCode="GB", DeletionProtectionEnabled=False)
    release = sender_ids.release

    def protected_meanwhile(*args: Any) -> None:
        client.update_sender_id(SenderId="NewSign", IsoCountryCode="GB", DeletionProtectionEnabled=True)
        release(*args)

    monkeypatch.setattr(sender_ids, "release", protected_meanwhile)
    code, out = cli("apply", "--auto-approve")
    assert code == 1 and "failed   delete  uk/signature/NewSign" in out, cli.outputs[-2:]
    assert "deletion protection" in out + cli.outputs[-1], cli.outputs[-2:]
    assert sorted(s["SenderId"] for s in client.describe_sender_ids()["SenderIds"]) == ["NewSign", "NextSign"]
    monkeypatch.setattr(sender_ids, "release", release)

    client.update_sender_id(SenderId="NewSign", IsoCountryCode="GB", DeletionProtectionEnabled=False)
    cli.ok("apply", "--auto-approve")
    assert [s["SenderId"] for s in client.describe_sender_ids()["SenderIds"]] == ["NextSign"]  # ReleaseSenderId
    assert "uk/signature/NewSign" not in cli.ok("plan")
