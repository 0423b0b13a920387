"""`smsops history` of a ``kind: Signature`` in a real git repository: its settings field by field,
its encrypted proof image through SOPS metadata only (new content told from a re-encryption with
the key at hand), and in the trail of the channel that manages it. The image's content never shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.configrepo import SANDBOX_KEY, ConfigRepo, channel_doc, write_doc, write_sops_binary
from tests.history.test_history import _commit, _git

CANARY = "CANARY-HISTORY-PROOF-0c41"


def signature(remark: str) -> dict[str, Any]:
    block = {"type": "company", "documentType": 0, "qualificationId": 1, "proofImage": {"sops": "proof.png.enc"}}
    return {
        "apiVersion": "smsops/v1",
        "kind": "Signature",
        "metadata": {"name": "newsign"},
        "spec": {"name": "NewSign", "tencent": {**block, "remark": remark}},
    }


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    root = tmp_path / "repo"
    config = ConfigRepo(root / "cfg")
    _git(root.parent, "init", "-q", "-b", "main", str(root))
    config.secrets("AKIDhistory", "history-secret")
    signed = {"name": "NewSign", "smsSdkAppId": "1400000001", "managed": "newsign"}
    write_doc(config.root / "channels" / "cn.yaml", channel_doc("cn", "tencent", signature=signed))
    write_doc(
        config.root / "channels" / "other.yaml",
        channel_doc("other", "tencent", signature={"name": "OnePro", "smsSdkAppId": "1400000001"}),
    )
    proof = config.root / "signatures" / "proof.png.enc"
    write_sops_binary(proof, b"\x89PNG" + CANARY.encode())
    write_doc(config.root / "signatures" / "newsign.yaml", signature("OnePro"))
    _commit(root, "Register NewSign (#7)", "alice", 1)
    write_doc(config.root / "signatures" / "newsign.yaml", signature("OnePro Ltd"))
    _commit(root, "Clearer remark", "bob", 2)
    write_sops_binary(proof, b"\x89PNG clearer " + CANARY.encode())
    _commit(root, "A clearer proof image", "bob", 3)
    write_sops_binary(proof, b"\x89PNG clearer " + CANARY.encode())
    _commit(root, "Re-encrypt the proof image", "carol", 4)
    return root


def history(run_cli: Any, repo: Path, *args: str) -> dict[str, Any]:
    code, out, err = run_cli("history", str(repo / "cfg"), "--reverse", "-o", "json", *args)
    assert code == 0, err
    assert CANARY not in out + err
    return dict(json.loads(out))


def test_signature_settings_and_encrypted_files_in_history(run_cli: Any, repo: Path) -> None:
    events = [e for e in history(run_cli, repo)["events"] if e["resource"]["kind"] == "Signature"]
    assert [(e["subject"], e["action"]) for e in events] == [
        ("Register NewSign (#7)", "created"),
        ("Clearer remark", "changed"),
        ("A clearer proof image", "changed"),
        ("Re-encrypt the proof image", "changed"),
    ]
    assert events[0]["pr"] == 7 and events[0]["resource"]["name"] == "newsign"
    created = [c["summary"] for c in events[0]["changes"]]
    assert 'name: set to "NewSign"' in created
    assert "tencent.proofImage: encrypted file added (cfg/signatures/proof.png.enc)" in created
    assert [c["summary"] for c in events[1]["changes"]] == ['tencent.remark: "OnePro" → "OnePro Ltd"']
    assert [c["summary"] for c in events[2]["changes"]] == [
        "tencent.proofImage: content changed (cfg/signatures/proof.png.enc)"
    ]
    assert [c["summary"] for c in events[3]["changes"]] == [
        "tencent.proofImage: re-encrypted (content unchanged) (cfg/signatures/proof.png.enc)"
    ]
    code, out, err = run_cli("history", str(repo / "cfg"))
    assert code == 0 and "Signature newsign" in out and CANARY not in out + err


def test_a_channels_trail_has_the_signature_it_manages(run_cli: Any, repo: Path) -> None:
    kinds = {
        (e["resource"]["kind"], e["resource"]["name"]) for e in history(run_cli, repo, "--channel", "cn")["events"]
    }
    assert ("Signature", "newsign") in kinds
    kinds = {
        (e["resource"]["kind"], e["resource"]["name"]) for e in history(run_cli, repo, "--channel", "other")["events"]
    }
    assert ("Signature", "newsign") not in kinds


def test_without_a_key_a_new_ciphertext_is_not_called_a_change(
    run_cli: Any, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nothing"))
    events = [e for e in history(run_cli, repo)["events"] if e["resource"]["kind"] == "Signature"]
    assert [c["summary"] for c in events[3]["changes"]] == [
        "tencent.proofImage: new ciphertext (no key here to tell new content from a re-encryption)"
        " (cfg/signatures/proof.png.enc)"
    ]
