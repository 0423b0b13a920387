"""`smsops test-send` and the gate in `apply`, end to end: real SOPS files, the official Alibaba SDK,
the sandbox emulator on loopback.

The adapter dates its delivery queries by the wall clock (QuerySendDetails takes the send date), so
the sandbox clock starts at the real time here. Reports arrive at once (delivery delay 0) and the
emulator's per-number limits are off, and so is the gate's pacing for them: pacing is tested in
test_gate.py, with a clock that moves."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.store.account import ManualClock
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo, template_doc, write_doc

GOOD = "+8613812345678"
FAILS = "+8613812340000"
ALERT = "Service {{ service }} is down"
LOGIN = "Your login code is {{ code }}"
TEST_SEND = {
    "recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"},
    "deliveryTimeout": "30s",
}


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock(time.time())


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    # Delivery reports arrive at once, and the gate's polls do not wait on the wall clock.
    sms_sandbox.account.configure(delivery_delay_s=0, number_limits={})
    monkeypatch.setattr("reconciler.verify.gate.DEFAULT_POLL_INTERVAL_S", 0.01)
    # The emulator's limits are off, so the gate's pacing for them is too (it waits in real time).
    monkeypatch.setattr("reconciler.providers.alibaba.adapter.AlibabaProvider.number_limits", lambda self, kind: ())
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials, recipients=[GOOD])
    config.channel("prod", "alibaba", sms_sandbox.url(), testSend=TEST_SEND)
    config.template("alert", ALERT, service="db")
    config.template("login", LOGIN, "verification", code="123456")
    return config


def approve_all(handle: SandboxHandle) -> None:
    for template in handle.account.templates():
        handle.account.approve(template.code)


def created(run_cli: Any, repo: ConfigRepo, handle: SandboxHandle) -> None:
    """Apply creates both templates; the provider approves them: both now await promotion."""
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve")
    assert code == 0, out + err
    approve_all(handle)


def json_result(run_cli: Any, repo: ConfigRepo, *extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli("test-send", str(repo.root), "--channel", "prod", "--output", "json", *extra)
    assert "Traceback" not in out + err
    return code, json.loads(out), err


def test_versions_awaiting_promotion_are_sent_and_delivered(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    created(run_cli, repo, sms_sandbox)
    junit = tmp_path / "reports" / "gate.xml"
    code, result, _ = json_result(run_cli, repo, "--junit", str(junit))
    assert code == 0, result
    assert (result["status"], result["mode"], result["proof"]) == ("passed", "templates", "delivered")
    assert sorted((r["template"], r["outcome"]) for r in result["results"]) == [
        ("alert", "delivered"),
        ("login", "delivered"),
    ]
    sent = {s.template_code: s.content for s in sms_sandbox.account.sends()}
    assert len(sent) == 2 and any("123456" in c for c in sent.values()) and any("db" in c for c in sent.values())
    cases = ET.parse(junit).getroot().findall("testcase")
    assert len(cases) == 2 and all(c.find("failure") is None for c in cases)


def test_var_overrides_the_example_value(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    created(run_cli, repo, sms_sandbox)
    code, result, _ = json_result(run_cli, repo, "--template", "alert", "--var", "service=cache")
    assert code == 0
    assert [r["template"] for r in result["results"]] == ["alert"]
    (send,) = sms_sandbox.account.sends()
    assert "Service cache is down" in send.content


def test_failed_delivery_exits_3_and_junit_records_the_failure(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    repo.secrets(*sms_sandbox.credentials, recipients=[FAILS])
    created(run_cli, repo, sms_sandbox)
    junit = tmp_path / "gate.xml"
    code, out, err = run_cli("test-send", str(repo.root), "--channel", "prod", "--junit", str(junit))
    assert code == 3, out + err
    assert "!! alert" in out and ": failed" in out
    assert out.strip().splitlines()[-1].startswith("Gate failed on prod: 2 failed; proof: none.")
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "2"


def test_channel_test_when_nothing_awaits_promotion(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    created(run_cli, repo, sms_sandbox)
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0  # promotes both (gate passes)
    before = len(sms_sandbox.account.sends())
    code, result, _ = json_result(run_cli, repo)
    assert code == 0, result
    assert result["mode"] == "channel"
    (only,) = result["results"]
    assert only["template"] == "login" and only["outcome"] == "delivered"  # the verification template
    assert len(sms_sandbox.account.sends()) == before + 1


def test_a_var_of_no_template_sent_lists_only_the_variables_of_those_sent(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    code, _, err = run_cli(
        "test-send", str(repo.root), "--channel", "prod", "--template", "login", "--var", "service=x"
    )
    assert code == 1
    assert err == (
        "error: --var service: no template sent to channel prod has such a variable\n"
        "  hint: variables of the template(s) sent: login: code\n"
    )
    assert sms_sandbox.account.counters().get("requests", 0) == 0  # refused before the provider is contacted

    # Without --template, the channel test sends the live verification template: its variables only.
    created(run_cli, repo, sms_sandbox)
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0  # promotes both: nothing awaits
    before = len(sms_sandbox.account.sends())
    code, _, err = run_cli("test-send", str(repo.root), "--channel", "prod", "--var", "service=x")
    assert code == 1
    assert err.endswith(
        "error: --var service: no template sent to channel prod has such a variable\n"
        "  hint: variables of the template(s) sent: login: code\n"
    )
    assert len(sms_sandbox.account.sends()) == before  # nothing sent with the --var left out


def test_a_var_value_that_does_not_fit_its_declaration_is_refused_before_anything_is_sent(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    alert = template_doc("alert", ALERT, service="db")
    alert["spec"]["variables"]["service"]["maxLength"] = 8
    write_doc(repo.root / "templates" / "alert.yaml", alert)

    def refused(template: str, var: str) -> str:
        code, out, err = run_cli("test-send", str(repo.root), "--channel", "prod", "--template", template, "--var", var)
        assert code == 1, out + err
        return err

    assert refused("alert", "service=") == (
        "error: --var service: empty value; template alert declares service as type text, maxLength 8\n"
        "  hint: give 1-8 characters, or leave out --var service to send the example\n"
    )
    assert refused("alert", "service=cache-cluster") == (
        "error: --var service: 13 characters; template alert declares service as type text, maxLength 8\n"
        "  hint: give 1-8 characters, or leave out --var service to send the example\n"
    )
    assert refused("login", "code=") == (
        "error: --var code: empty value; template login declares code as type code\n"
        "  hint: give a value, or leave out --var code to send the example\n"
    )
    # A code is what the lint holds the example to (SMS206): the provider's digits, here Alibaba's 4-6.
    for wrong in ("code=12ab", "code=123", "code=1234567"):
        assert refused("login", wrong) == (
            "error: --var code: not 4-6 digits (Alibaba codes); template login declares code as type code\n"
            "  hint: give 4-6 digits, or leave out --var code to send the example\n"
        )
    assert sms_sandbox.account.counters().get("requests", 0) == 0  # refused before the provider is contacted


def test_named_template_without_approved_version_fails(run_cli: Any, repo: ConfigRepo) -> None:
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0  # created, still in review
    code, result, _ = json_result(run_cli, repo, "--template", "login")
    assert code == 3
    (only,) = result["results"]
    assert only["outcome"] == "failed" and "no approved version" in only["detail"]


def test_disabled_channel_sends_nothing_and_says_so(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    repo.channel("prod", "alibaba", sms_sandbox.url(), testSend=TEST_SEND, enabled=False)
    code, out, _ = run_cli("test-send", str(repo.root), "--channel", "prod")
    assert code == 0
    assert "channel prod is disabled (spec.enabled: false): nothing was sent" in out
    assert not sms_sandbox.account.sends()


def test_channel_without_test_send_fails_with_how_to_configure(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    repo.channel("prod", "alibaba", sms_sandbox.url())
    code, out, _ = run_cli("test-send", str(repo.root), "--channel", "prod")
    assert code == 3
    assert "declares no spec.testSend" in out and "test_recipients" in out and "E.164" in out


def test_empty_recipient_list_fails(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    repo.secrets(*sms_sandbox.credentials, recipients=[])
    created(run_cli, repo, sms_sandbox)
    code, result, _ = json_result(run_cli, repo)
    assert code == 3 and "empty test recipient list" in result["message"]


def test_usage_errors(run_cli: Any, repo: ConfigRepo) -> None:
    code, _, err = run_cli("test-send", str(repo.root), "--channel", "prod", "--template", "nope")
    assert code == 1 and "no template 'nope' goes to channel prod" in err
    code, _, err = run_cli("test-send", str(repo.root), "--channel", "prod", "--var", "colour=red")
    assert code == 1 and "--var colour: no template of channel prod has such a variable" in err
    code, _, err = run_cli("test-send", str(repo.root), "--channel", "prod", "--timeout", "soon")
    assert code == 1 and "expected a duration" in err


def test_no_phone_number_in_any_output(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    repo.secrets(*sms_sandbox.credentials, recipients=[GOOD, FAILS])
    created(run_cli, repo, sms_sandbox)
    texts = []
    for output in ("text", "json", "markdown", "github"):
        junit = tmp_path / f"{output}.xml"
        _, out, err = run_cli("test-send", str(repo.root), "--channel", "prod", "-o", output, "--junit", str(junit))
        texts += [out, err, junit.read_text()]
    assert "138****5678" in texts[0] and "138****0000" in texts[0]
    # github: an annotation per send not confirmed (the one to the failing number), then the summary
    github = texts[9].splitlines()
    assert [line.split("::")[1] for line in github[:-1]] == ["error title=smsops test-send prod"]
    assert "138****0000" in github[0] and github[-1].startswith("Gate failed on prod")
    for text in texts:
        for number in (GOOD, FAILS):
            assert number[1:] not in text and number[3:] not in text


# -- the gate inside apply ------------------------------------------------------------------------


def test_apply_promotion_is_blocked_by_a_failed_gate_and_allowed_after_a_passing_one(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    repo.secrets(*sms_sandbox.credentials, recipients=[FAILS])
    created(run_cli, repo, sms_sandbox)
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve", "--output", "json")
    assert code == 1, out + err
    report = json.loads(out)
    promotes = [r for r in report["results"] if r["action"] == "promote"]
    assert len(promotes) == 2 and all(r["outcome"] == "failed" for r in promotes)
    assert all(r["error"].startswith("gate failed: ") and "138****0000: failed" in r["error"] for r in promotes)
    assert "13812340000" not in out + err
    plan = json.loads(run_cli("plan", str(repo.root), "--output", "json")[1])
    assert sorted(c["action"] for c in plan["channels"][0]["changes"]) == ["promote", "promote"]  # not promoted
    # status says why the approved versions are not live
    _, status, _ = run_cli("status", str(repo.root))
    alert = next(line for line in status.splitlines() if line.strip().startswith("alert"))
    assert "approved, awaiting promotion (test-send gate failed " in alert
    assert "alert to +86 138****0000: failed" in alert and "none live" in alert
    assert "13812340000" not in status

    repo.secrets(*sms_sandbox.credentials, recipients=[GOOD])
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve", "--output", "json")
    assert code == 0, out + err
    promotes = [r for r in json.loads(out)["results"] if r["action"] == "promote"]
    assert len(promotes) == 2 and all(r["outcome"] == "done" for r in promotes)
    plan = json.loads(run_cli("plan", str(repo.root), "--output", "json")[1])
    assert all(c["action"] == "noop" for c in plan["channels"][0]["changes"])


def test_apply_report_records_the_gate_with_masked_recipients(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    created(run_cli, repo, sms_sandbox)
    report_file = tmp_path / "report.json"
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve", "--report", str(report_file))
    assert code == 0, out + err
    report = json.loads(report_file.read_text())
    # two promotions, then the published config written in the same apply
    assert [(r["action"], r["outcome"]) for r in report["results"]] == [
        ("promote", "done"),
        ("promote", "done"),
        ("publish", "done"),
    ]
    sends = [send for gate in report["gates"] for send in gate["results"]]
    assert sorted((s["template"], s["outcome"], s["recipient"]) for s in sends) == [
        ("alert", "delivered", "+86 138****5678"),
        ("login", "delivered", "+86 138****5678"),
    ]
    assert "13812345678" not in report_file.read_text()


def test_apply_reports_a_refused_gate_as_annotations_markdown_and_junit(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    repo.secrets(*sms_sandbox.credentials, recipients=[FAILS])
    created(run_cli, repo, sms_sandbox)
    junit = tmp_path / "junit.xml"
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve", "--output", "github", "--junit", str(junit))
    assert code == 1, out + err
    errors = [line for line in out.splitlines() if line.startswith("::error title=smsops prod::promote prod/")]
    assert len(errors) == 2 and all("gate failed: " in line for line in errors)
    assert out.rstrip().endswith("Apply: 0 done, 2 failed, 0 deferred, 0 skipped.")
    suites = ET.fromstring(junit.read_text())
    assert suites.tag == "testsuites"
    cases = suites.findall("./testsuite/testcase")
    assert len(cases) == 2 and all(case.find("failure") is not None for case in cases)
    assert "13812340000" not in out + err + junit.read_text()

    code, out, _ = run_cli("apply", str(repo.root), "--auto-approve", "--output", "markdown")
    assert code == 1
    assert "## smsops plan" in out and "### Applied" in out
    assert "| failed | promote | `prod/alert~" in out
    assert out.rstrip().endswith("**Apply: 0 done, 2 failed, 0 deferred, 0 skipped.**")
