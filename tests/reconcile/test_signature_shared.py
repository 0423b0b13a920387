"""One signature shared by several channels of one provider account is one resource, through the
CLI against the emulators: the plan shows one row naming the channels that use it, apply creates it
once, its review, resubmission and deletion happen once, and a channel applied alone leaves the
others knowing what was submitted. The same name on two accounts is two signatures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo, write_doc, write_sops, write_sops_binary
from tests.reconcile.test_signature_providers import Cli

SHARED = {"name": "NewSign", "managed": "newsign"}


@pytest.fixture(autouse=True)
def _age_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)


def rows(out: str) -> str:
    """The plan's rows with their column padding squeezed to one space."""
    return "\n".join(" ".join(line.split()) for line in out.splitlines())


def signature_doc(root: Path, name: str = "NewSign", remark: str = "Our company name.") -> None:
    block = {"qualificationId": "10000001", "remark": remark, "moreData": [{"sops": "proof.png.enc"}]}
    doc = {"apiVersion": "smsops/v1", "kind": "Signature", "metadata": {"name": name.lower()}}
    doc["spec"] = {"name": name, "alibaba": block}
    write_doc(root / "signatures" / f"{name.lower()}.yaml", doc)


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle) -> ConfigRepo:
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(*sms_sandbox.credentials)
    for name in ("a", "b"):
        repo.channel(name, "alibaba", sms_sandbox.url(), signature=SHARED)
    repo.template("shipped", "Your order {{ order }} has shipped.", order="A-1001")
    write_sops_binary(repo.root / "signatures" / "proof.png.enc", b"\x89PNG\r\n\x1a\nproof")
    signature_doc(repo.root)
    return repo


def test_one_signature_of_two_channels_is_created_reviewed_and_resubmitted_once(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    account = sms_sandbox.account
    cli = Cli(run_cli, repo.root, sms_sandbox.clock)
    out = rows(cli.ok("plan"))
    assert out.count("/signature/NewSign") == 1
    created = "+ create a/signature/NewSign signature to review new signature: submitted for review (shared by a, b)"
    assert created in out
    assert out.count("waits for signature 'NewSign' (to be created)") == 2
    assert out.splitlines()[-1].startswith("Plan: 1 to create,")
    plan_file = tmp_path / "plan.json"
    cli.ok("plan", "--out", str(plan_file))
    out = cli.ok("apply", "--plan", str(plan_file), "--auto-approve")  # b's digest leaves a's row out
    assert "Apply: 1 done, 0 failed" in out
    assert account.signature("NewSign").status.value == "pending"

    out = rows(cli.ok("plan"))
    assert "+ create" not in out and out.count("waits for signature 'NewSign' (pending review)") == 2
    assert out.count("/signature/NewSign") == 1 and "; 1 awaiting review." in out

    account.reject_signature("NewSign", "the company name is missing")
    code, out = cli("plan", "--detailed-exitcode")
    assert code == 2 and out.count("rejected by the provider: the company name is missing") == 1
    assert " 1 rejected by the provider." in out
    signature_doc(repo.root, remark="OnePro Ltd, our registered company name.")
    out = rows(cli.ok("plan"))
    assert out.count("update a/signature/NewSign") == 1 and "/signature/" not in out.split("Channel b")[1]
    assert "Apply: 1 done, 0 failed" in cli.ok("apply", "--auto-approve")
    assert account.signature("NewSign").status.value == "pending"

    account.approve_signature("NewSign")
    out = rows(cli.ok("plan"))
    assert "create a/shipped~" in out and "create b/shipped~" in out and "record" not in out


def test_a_channel_applied_alone_creates_it_and_the_other_sees_it_submitted(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    cli = Cli(run_cli, repo.root, sms_sandbox.clock)
    assert "Apply: 1 done, 0 failed" in cli.ok("apply", "--auto-approve", "--channel", "a")
    out = rows(cli.ok("plan", "--channel", "b"))
    assert "noop b/signature/NewSign signature pending awaiting provider review (shared by a, b)" in out
    sms_sandbox.account.reject_signature("NewSign", "the company name is missing")
    out = rows(cli.ok("plan", "--channel", "b"))  # what a submitted is what git says: nothing to resubmit
    assert "update b/" not in out and "rejected by the provider: the company name is missing" in out
    sms_sandbox.account.approve_signature("NewSign")
    out = rows(cli.ok("plan", "--channel", "b"))  # submitted by smsops: no baseline to record
    assert "noop b/signature/NewSign signature approved approved (shared by a, b)" in out and "record" not in out


def second_account(sms_sandbox: SandboxHandle, repo: ConfigRepo) -> dict[str, str]:
    """Another Alibaba account on the same emulator, with its own credentials file."""
    keys = {"LTAI5tSandboxOtherKey02": "sandbox-other-secret-02"}
    sms_sandbox.sandbox.create_account("test-alibaba-other", provider="alibaba", access_keys=keys)
    ((key_id, secret),) = keys.items()
    write_sops(repo.root / "secrets" / "other.enc.yaml", {"access_key_id": key_id, "access_key_secret": secret})
    return {"sops": "../secrets/other.enc.yaml"}


def test_the_same_name_on_two_accounts_is_two_signatures(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    other = second_account(sms_sandbox, repo)
    repo.channel("c", "alibaba", sms_sandbox.url(), signature=SHARED, credentials=other)
    cli = Cli(run_cli, repo.root, sms_sandbox.clock)
    out = rows(cli.ok("plan"))
    assert "create a/signature/NewSign" in out and "create c/signature/NewSign" in out and "(shared by a, b)" in out
    assert "Apply: 2 done, 0 failed" in cli.ok("apply", "--auto-approve")
    assert sms_sandbox.sandbox.account("test-alibaba-other").signature("NewSign") is not None
    assert sms_sandbox.account.signature("NewSign") is not None


def test_a_shared_signature_is_kept_while_a_channel_of_its_account_names_it_then_deleted_once(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    other = second_account(sms_sandbox, repo)
    cli = Cli(run_cli, repo.root, sms_sandbox.clock)
    cli.ok("apply", "--auto-approve")
    sms_sandbox.account.approve_signature("NewSign")
    signature_doc(repo.root, "NextSign")
    moved = {"name": "NextSign", "managed": "nextsign"}
    repo.channel("a", "alibaba", sms_sandbox.url(), signature=moved, rollout={"prune": True})
    # a channel of another account sending with a signature of that name keeps nothing here
    repo.channel("c", "alibaba", sms_sandbox.url(), signature={"name": "NewSign"}, credentials=other)
    out = rows(cli("plan")[1])
    assert "noop a/signature/NewSign signature approved kept: channel(s) b in git send with it" in out

    repo.channel("b", "alibaba", sms_sandbox.url(), signature=moved, rollout={"prune": True})
    (repo.root / "channels" / "c.yaml").unlink()
    out = rows(cli("plan")[1])
    assert "- delete a/signature/NewSign signature approved no longer used by any channel: deleted (prune)" in out
    assert "b/signature/NewSign signature approved deleted by channel a's row (one signature of the account)" in out
    assert out.count("delete ") == 1
    out = cli.ok("apply", "--auto-approve")
    assert "failed" not in out.replace("0 failed", "")
    assert sms_sandbox.account.signature("NewSign") is None
    assert "/signature/NewSign" not in cli.ok("plan")


def test_tencent_signature_shared_by_two_channels_is_created_and_modified_once(
    run_cli: Any, tmp_path: Path, tencent_sandbox: SandboxHandle
) -> None:
    account = tencent_sandbox.tencent_account
    account.configure(auto_review=False)
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY)
    for name in ("cn", "cn-ops"):
        signature = {**SHARED, "smsSdkAppId": TENCENT_TEST_APP_ID}
        repo.channel(name, "tencent", tencent_sandbox.url("tencent"), signature=signature)
    repo.template("alert", "Service {{ service }} is down", service="db")
    write_sops_binary(repo.root / "signatures" / "proof.png.enc", b"\x89PNG\r\n\x1a\nproof")
    write_doc(repo.root / "signatures" / "newsign.yaml", tencent_doc("OnePro"))
    cli = Cli(run_cli, repo.root, tencent_sandbox.clock)
    out = rows(cli.ok("plan"))
    assert out.count("/signature/NewSign") == 1 and "+ create cn/signature/NewSign" in out
    assert "(shared by cn, cn-ops)" in out
    plan_file = tmp_path / "plan.json"
    cli.ok("plan", "--out", str(plan_file))  # cn-ops is applied first: its digest leaves cn's row out
    assert "Apply: 1 done, 0 failed" in cli.ok("apply", "--plan", str(plan_file), "--auto-approve")
    created = account.signature("NewSign")
    assert created is not None and created.status.value == "pending"

    account.reject_signature("NewSign", "the proof does not show the company name")
    write_doc(repo.root / "signatures" / "newsign.yaml", tencent_doc("OnePro Ltd"))
    out = rows(cli.ok("plan", "--channel", "cn-ops"))  # applied alone: the other channel's marks follow
    assert "update cn-ops/signature/NewSign" in out and "resubmitted in place (shared by cn, cn-ops)" in out
    assert "Apply: 1 done, 0 failed" in cli.ok("apply", "--auto-approve", "--channel", "cn-ops")
    modified = account.signature("NewSign")
    assert modified is not None and modified.extra["sign_id"] == created.extra["sign_id"]
    account.approve_signature("NewSign")
    out = rows(cli.ok("plan"))
    assert "noop cn/signature/NewSign signature approved approved (shared by cn, cn-ops)" in out
    assert "record" not in out and "update" not in out.replace("0 to update", "")


def tencent_doc(remark: str) -> dict[str, Any]:
    block = {"type": "company", "documentType": 0, "qualificationId": 1, "proofImage": {"sops": "proof.png.enc"}}
    spec = {"name": "NewSign", "tencent": {**block, "remark": remark}}
    return {"apiVersion": "smsops/v1", "kind": "Signature", "metadata": {"name": "newsign"}, "spec": spec}


def test_aws_sender_id_shared_by_two_channels_of_one_country_is_requested_once(
    run_cli: Any, tmp_path: Path, aws_sandbox: SandboxHandle
) -> None:
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(AWS_TEST_KEY_ID, AWS_TEST_SECRET)
    for name, country in (("uk", "GB"), ("uk-ops", "GB"), ("fr", "FR")):
        signature = {**SHARED, "country": country}
        repo.channel(name, "aws", aws_sandbox.url("aws"), signature=signature)
    senders = [{"country": c, "deletionProtection": False, "messageTypes": ["TRANSACTIONAL"]} for c in ("GB", "FR")]
    doc = {"apiVersion": "smsops/v1", "kind": "Signature", "metadata": {"name": "newsign"}}
    doc["spec"] = {"name": "NewSign", "aws": {"senderIds": senders}}
    write_doc(repo.root / "signatures" / "newsign.yaml", doc)
    cli = Cli(run_cli, repo.root, aws_sandbox.clock)
    out = rows(cli.ok("plan"))
    assert "+ create fr/signature/NewSign" in out and "+ create uk/signature/NewSign" in out  # one per country
    assert "(shared by uk, uk-ops)" in out and "uk-ops/signature" not in out
    assert "Apply: 2 done, 0 failed" in cli.ok("apply", "--auto-approve")
    client = aws_sandbox.aws_client()
    assert sorted(s["IsoCountryCode"] for s in client.describe_sender_ids()["SenderIds"]) == ["FR", "GB"]
    assert cli("plan", "--detailed-exitcode")[0] == 0

    # Both GB channels move on: one row releases the GB sender ID; FR's, named by fr, is another resource.
    doc["metadata"]["name"], doc["spec"]["name"] = "nextsign", "NextSign"
    write_doc(repo.root / "signatures" / "nextsign.yaml", doc)
    for name in ("uk", "uk-ops"):
        signature = {"name": "NextSign", "managed": "nextsign", "country": "GB"}
        repo.channel(name, "aws", aws_sandbox.url("aws"), signature=signature, rollout={"prune": True})
    out = rows(cli.ok("plan"))
    assert "- delete uk/signature/NewSign" in out and out.count("delete ") == 1
    assert "noop uk-ops/signature/NewSign signature approved deleted by channel uk's row" in out
    cli.ok("apply", "--auto-approve")
    found = sorted((s["SenderId"], s["IsoCountryCode"]) for s in client.describe_sender_ids()["SenderIds"])
    assert found == [("NewSign", "FR"), ("NextSign", "GB")]
