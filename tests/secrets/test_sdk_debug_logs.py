"""SDK debug logging on, for each provider against its emulator: nothing secret reaches stderr.

Each SDK logs whole HTTP requests when asked to: the Alibaba SDK through a handler of its own when
``DEBUG=sdk`` is set, the Tencent SDK and botocore through their loggers once a handler is attached at
DEBUG (what a user does to debug a failing call). The CLI runs in a fresh process, as a user runs it,
so the SDKs' own handlers write to the real stderr; every record must pass through redaction on its way.

Each run also registers a managed Signature whose files are canaries: a proof image (Tencent's
ProofImage, sent as base64 in a JSON body) and, for Alibaba, a qualification document too (MoreData:
data URIs in a JSON array in the query string). None of the forms a file takes on the wire (base64,
data URI, percent-encoded) may show in stderr, stdout, a log file, the plan or the report, which name
a file by its path and sha256 only. AWS sender IDs take no files: its run has no Signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from reconciler.sandbox.testing import (
    AWS_TEST_KEY_ID,
    AWS_TEST_SECRET,
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxFactory,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo, write_doc, write_sops_binary

ALIBABA_ID, ALIBABA_SECRET = "LTAI5tDebugCanaryKey0042", "DebugCanarySecret-9d8c7b6a"
PHONES = {"alibaba": "+8613912345678", "tencent": "+8613912345678", "aws": "+447700900123"}
# Debug logging on in the SDKs that need a handler; then the CLI exactly as `smsops` runs it.
# Every record also goes to a log file, as a user who keeps debug logs sets up.
WRAPPER = """
import logging, os, sys
logging.getLogger().addHandler(logging.FileHandler(os.environ["CANARY_LOG_FILE"]))
for name in ("tencentcloud_sdk_common", "botocore", "urllib3"):
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.StreamHandler(sys.stderr))
from reconciler.cli import main
sys.exit(main(sys.argv[1:]))
"""


def canary_file(tag: bytes, header: bytes) -> bytes:
    """A file of some kilobytes whose base64 holds every character that percent-encoding changes."""
    body = header + tag + b"".join(hashlib.sha256(tag + bytes([i])).digest() for i in range(200))
    body += b"!" * ((1 - len(body)) % 3)  # base64 padding: "=="
    assert {"+", "/", "="} <= set(base64.b64encode(body).decode())
    return body


PROOF = canary_file(b"CANARY-PROOF-IMAGE-d41e", b"\x89PNG\r\n\x1a\n")
DOCUMENT = canary_file(b"CANARY-QUALIFICATION-DOC-7c0a", b"%PDF-1.7\n")


def wire_forms(content: bytes, media: str) -> list[str]:
    """How a file's bytes can show in a request or a log line, and pieces of each (a log that
    cut a body short still shows its start)."""
    encoded = base64.b64encode(content).decode()
    uri = f"data:{media};base64,{encoded}"
    forms = [encoded, uri, quote(encoded, safe=""), quote(uri, safe=""), json.dumps([uri])]
    pieces = [form[start : start + 40] for form in forms[:3] for start in (0, len(form) // 2, len(form) - 40)]
    return forms + pieces + [content[8:40].decode(errors="replace")]


def managed_signature(root: Path, provider: str) -> dict[str, Any]:
    """A Signature document with the canary files, and the channel's ``signature`` that manages it."""
    write_sops_binary(root / "signatures" / "proof.png.enc", PROOF)
    signature: dict[str, Any] = {"name": "CanarySig", "managed": "canary"}
    if provider == "alibaba":
        write_sops_binary(root / "signatures" / "licence.pdf.enc", DOCUMENT)
        files = [{"sops": "proof.png.enc"}, {"sops": "licence.pdf.enc", "suffix": "pdf"}]
        block = {"alibaba": {"qualificationId": "10000001", "remark": "Canary Ltd.", "moreData": files}}
    else:
        signature["smsSdkAppId"] = TENCENT_TEST_APP_ID
        proof = {"sops": "proof.png.enc"}
        block = {"tencent": {"type": "company", "documentType": 0, "qualificationId": 1, "proofImage": proof}}
    spec = {"name": "CanarySig", **block}
    document = {"apiVersion": "smsops/v1", "kind": "Signature", "metadata": {"name": "canary"}, "spec": spec}
    write_doc(root / "signatures" / "canary.yaml", document)
    return signature


def signature_files(plan: Any) -> list[Any]:
    """Every ``files`` entry of a signature anywhere in a plan or report document."""
    if isinstance(plan, dict):
        found = [f for f in plan.get("files") or () if isinstance(f, dict) and "sha256" in f]
        return found + [f for value in plan.values() for f in signature_files(value)]
    if isinstance(plan, list):
        return [f for value in plan for f in signature_files(value)]
    return []


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBUG": "sdk", "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "NO_COLOR": "1"}
    env["CANARY_LOG_FILE"] = str(cwd / "smsops-debug.log")
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [sys.executable, "-c", WRAPPER, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("provider", ["alibaba", "tencent", "aws"])
def test_sdk_debug_logs_carry_no_key_id_secret_or_phone_number(
    provider: str, tmp_path: Path, sandbox_factory: SandboxFactory
) -> None:
    handle = sandbox_factory.start(provider)
    repo = ConfigRepo(tmp_path / "cfg")
    phone = PHONES[provider]
    signature: dict[str, str] = {"name": "OnePro"}
    if provider == "alibaba":
        key_id, secret = ALIBABA_ID, ALIBABA_SECRET
        handle.sandbox.create_account("canary", provider="alibaba", access_keys={key_id: secret})
        handle.account.put_signature("OnePro", "approved", scene="")
        handle.sandbox.account("canary").put_signature("OnePro", "approved", scene="")
    elif provider == "tencent":
        key_id, secret = TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY
        signature["smsSdkAppId"] = TENCENT_TEST_APP_ID
    else:
        key_id, secret = AWS_TEST_KEY_ID, AWS_TEST_SECRET
        signature["country"] = "GB"
        handle.aws_client().request_sender_id(SenderId="OnePro", IsoCountryCode="GB")
    repo.secrets(key_id, secret, recipients=[phone])
    test_send = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}}
    repo.channel("ch", provider, handle.url(provider), signature=signature, testSend=test_send)
    repo.template("alert", "Service {{ service }} is down", service="db")
    files: list[str] = []
    if provider != "aws":
        files = wire_forms(PROOF, "image/png")
        files += wire_forms(DOCUMENT, "application/pdf") if provider == "alibaba" else []
        repo.channel("signed", provider, handle.url(provider), signature=managed_signature(repo.root, provider))

    planned = run("plan", "cfg", "--out", "plan.json", cwd=tmp_path)
    applied = run("apply", "cfg", "--auto-approve", "--report", "report.json", cwd=tmp_path)
    sent = run("test-send", "cfg", "--channel", "ch", "--timeout", "1s", cwd=tmp_path)
    stderr = planned.stderr + applied.stderr + sent.stderr
    # The SDK did log its requests (else this test proves nothing) ...
    assert len(stderr) > 2000, stderr
    assert "Traceback" not in stderr
    assert planned.returncode == 0 and applied.returncode == 0, planned.stderr[-2000:] + applied.stderr[-2000:]
    logged = (tmp_path / "smsops-debug.log").read_text()
    assert "POST" in logged or "Request" in logged  # the log file got the SDK's records too
    plan, report = (json.loads((tmp_path / name).read_text()) for name in ("plan.json", "report.json"))
    if provider != "aws":
        assert "CanarySig" in stderr  # the signature request went out, logged by the SDK
        digests = {hashlib.sha256(PROOF).hexdigest(), hashlib.sha256(DOCUMENT).hexdigest()}
        for entry in signature_files(plan):  # a file is its path and digest, nothing of its content
            assert set(entry) == {"field", "path", "suffix", "sha256"} and entry["sha256"] in digests
        assert len(signature_files(plan)) == (2 if provider == "alibaba" else 1)
    # ... and no credential, number or file content came through.
    national = phone.removeprefix("+44").removeprefix("+86")
    seen = stderr + planned.stdout + applied.stdout + sent.stdout + logged + json.dumps(plan) + json.dumps(report)
    seen += "".join(p.read_text(errors="replace") for p in (tmp_path / "cfg" / ".smsops").rglob("*") if p.is_file())
    for canary in (key_id, secret, national, phone.removeprefix("+"), *files):
        assert canary not in seen, f"{provider} leaks {canary[:12]}…"
