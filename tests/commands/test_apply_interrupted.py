"""Honest partial failure: an apply stopped by Ctrl-C, SIGTERM or an error still writes its report,
which lists what was done, and says so on the terminal; nothing done is lost to the next plan.

The interrupted applies are real ``smsops`` processes against the emulator, signalled while they
wait out the channel's spacing between two template creations."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo

SPACING_WAIT = "the provider allows one template creation every 20s"


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials)
    config.channel("prod", "alibaba", sms_sandbox.url(), rollout={"createSpacing": "20s"})
    for name in ("alpha", "beta", "gamma"):
        config.template(name, f"Service {{{{ service }}}} is {name}", service="db")
    return config


def apply_until_spacing_then(signum: int, repo: ConfigRepo, report: Path) -> tuple[int, str, str]:
    """Start `smsops apply`, wait until it waits between two creations, then send ``signum``."""
    env = {
        **os.environ,
        "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY),
        "SOPS_DISABLE_VERSION_CHECK": "1",
        "GITHUB_ACTOR": "octo-deployer",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", str(repo.root), "--auto-approve", "--report", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 60
    while SPACING_WAIT not in seen and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen += line
    assert SPACING_WAIT in seen, seen
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, seen + err


@pytest.mark.parametrize(
    ("signum", "name", "exit_code"), [(signal.SIGINT, "SIGINT", 130), (signal.SIGTERM, "SIGTERM", 143)]
)
def test_an_interrupted_apply_reports_what_it_did_and_loses_nothing(
    run_cli: Any,
    repo: ConfigRepo,
    sms_sandbox: SandboxHandle,
    tmp_path: Path,
    signum: int,
    name: str,
    exit_code: int,
) -> None:
    report_file = tmp_path / "out" / "report.json"
    code, out, err = apply_until_spacing_then(signum, repo, report_file)
    assert code == exit_code, out + err
    assert "Traceback" not in out + err and "internal error" not in err

    [created] = sms_sandbox.account.templates()
    assert created.name.startswith("alpha~")
    report = json.loads(report_file.read_text())
    assert report["interrupted"] == name and report["error"] == ""
    assert [(r["action"], r["address"].split("~")[0], r["outcome"], r["code"]) for r in report["results"]] == [
        ("create", "prod/alpha", "done", created.code)
    ]
    assert report["under_way"].startswith("create prod/beta~")  # waiting its turn: it may or may not be sent
    assert [address.split("~")[0] for address in report["not_started"]] == ["prod/gamma"]
    assert report["summary"] == (
        f"Apply: 1 done, 0 failed, 0 deferred, 0 skipped. Interrupted by {name}: "
        f"'{report['under_way']}' was under way and may have taken effect; 1 planned change(s) not started. "
        "Run `smsops plan` to see where things stand."
    )
    assert report["actor"] == "octo-deployer"
    # The terminal says the same, once: what was done, then the summary line with why the rest was not.
    assert "  done     create  prod/alpha~" in out and f" {created.code}\n" in out
    assert out.endswith(f"\n{report['summary']}\n")
    assert (out + err).count("Apply: 1 done, 0 failed") == 1
    assert err.endswith(f"the report of what was done is in {report_file}\n")

    # Nothing lost: the next plan sees the created template and plans only the other two.
    code, plan_out, _ = run_cli("plan", str(repo.root), "--output", "json")
    assert code == 0
    changes = json.loads(plan_out)["channels"][0]["changes"]
    assert sorted((c["action"], c["template"]) for c in changes) == [
        ("create", "beta"),
        ("create", "gamma"),
        ("noop", "alpha"),
    ]


def stale_for_the_second_channel(run_cli: Any, repo: ConfigRepo, handle: SandboxHandle, tmp_path: Path) -> Path:
    """Two channels on one account and a saved plan: applying the first changes what the second
    observes, so the plan is stale for the second when apply reaches it, after the first's changes."""
    for name in ("beta", "gamma"):
        repo.remove_template(name)
    repo.channel("prod", "alibaba", handle.url())
    repo.channel("second", "alibaba", handle.url())
    saved = tmp_path / "plan.json"
    assert run_cli("plan", str(repo.root), "--out", str(saved))[0] == 0
    return saved


def test_an_apply_stopped_by_an_error_reports_the_changes_made_before_it(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    saved = stale_for_the_second_channel(run_cli, repo, sms_sandbox, tmp_path)
    report_file = tmp_path / "report.json"
    code, out, err = run_cli(
        "apply", str(repo.root), "--plan", str(saved), "--auto-approve", "--report", str(report_file)
    )
    assert code == 1
    assert "error: channel second changed at the provider since the plan was made" in err
    assert "  done     create  prod/alpha~" in out
    report = json.loads(report_file.read_text())
    assert [(r["address"].split("~")[0], r["outcome"]) for r in report["results"]] == [("prod/alpha", "done")]
    assert report["error"] == "channel second changed at the provider since the plan was made"
    assert report["interrupted"] == "" and report["under_way"] == ""
    assert [a.split("~")[0] for a in report["not_started"]] == ["second/alpha"]
    assert report["summary"].startswith("Apply: 1 done, 0 failed, 0 deferred, 0 skipped. Stopped by an error (")
    assert out.endswith(f"\n{report['summary']}\n") and "Apply: 1 done" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("output", "done_line", "stopped_line"),
    [
        (
            "markdown",
            "| done | create | `prod/alpha~",
            "> :warning: Apply: 1 done, 0 failed, 0 deferred, 0 skipped. Stopped",
        ),
        ("github", "", "::error title=smsops apply::Apply: 1 done, 0 failed, 0 deferred, 0 skipped. Stopped"),
        ("text", "  done     create  prod/alpha~", "Apply: 1 done, 0 failed, 0 deferred, 0 skipped. Stopped"),
        (
            "json",
            '"address": "prod/alpha~',
            '"error": "channel second changed at the provider since the plan was made"',
        ),
    ],
)
def test_a_stopped_apply_says_so_in_every_output_format(
    run_cli: Any,
    repo: ConfigRepo,
    sms_sandbox: SandboxHandle,
    tmp_path: Path,
    output: str,
    done_line: str,
    stopped_line: str,
) -> None:
    saved = stale_for_the_second_channel(run_cli, repo, sms_sandbox, tmp_path)
    code, out, err = run_cli("apply", str(repo.root), "--plan", str(saved), "--auto-approve", "--output", output)
    assert code == 1
    assert done_line in out and stopped_line in out
    # The summary once, where the format ends it (json: the report's summary field), and not again on stderr.
    assert (out + err).count("Apply: 1 done, 0 failed, 0 deferred, 0 skipped.") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["apply", "--auto-approve", "--report", "r.json", "--junit", "r.json"],
            "--junit and --report both name r.json",
        ),
        (["apply", "--auto-approve", "--report", "adir"], "Invalid value for '--report': File 'adir' is a directory."),
        (["apply", "--auto-approve", "--junit", "adir"], "Invalid value for '--junit': File 'adir' is a directory."),
        (["plan", "--out", "adir"], "Invalid value for '--out': File 'adir' is a directory."),
        (["export", "--out", "adir"], "Invalid value for '--out': File 'adir' is a directory."),
        (
            ["test-send", "--channel", "prod", "--junit", "adir"],
            "Invalid value for '--junit': File 'adir' is a directory.",
        ),
    ],
)
def test_an_output_path_that_cannot_be_written_is_refused_before_the_provider_is_contacted(
    run_cli: Any,
    repo: ConfigRepo,
    sms_sandbox: SandboxHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    code, out, err = run_cli(args[0], str(repo.root), *args[1:])
    assert code == 1
    assert message in err and "internal error" not in err and out == ""
    assert sms_sandbox.account.counters().get("requests", 0) == 0  # the provider was not contacted


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["apply", "--auto-approve", "--report", ""], "--report"),
        (["apply", "--auto-approve", "--junit", ""], "--junit"),
        (["plan", "--out", ""], "--out"),
        (["export", "--out", ""], "--out"),
        (["test-send", "--channel", "prod", "--junit", ""], "--junit"),
    ],
)
def test_an_empty_output_path_is_a_usage_error_naming_its_option(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, args: list[str], flag: str
) -> None:
    code, out, err = run_cli(args[0], str(repo.root), *args[1:])
    assert (code, out) == (1, "")
    assert err.startswith(f"Usage: smsops {args[0]} [OPTIONS]")  # as any other usage error
    assert err.endswith(f"Error: {flag}: empty path; give a file path\n")
    assert sms_sandbox.account.counters().get("requests", 0) == 0  # the provider was not contacted


@pytest.mark.parametrize(
    ("command", "flags"),
    [("apply", ("--report", "--junit")), ("plan", ("--out",)), ("export", ("--out",)), ("test-send", ("--junit",))],
)
def test_each_output_path_option_says_it_creates_missing_folders(
    run_cli: Any, command: str, flags: tuple[str, ...]
) -> None:
    code, out, _ = run_cli(command, "--help")
    assert code == 0
    # click wraps help text: compare with the line breaks and their indentation taken out
    text = " ".join(out.split())
    for flag in flags:
        option = text.split(f" {flag} FILE ", 1)[1].split(" --", 1)[0]
        assert "Missing parent folders are created." in option, (flag, option)


def test_an_apply_that_fails_before_any_change_still_writes_its_report(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    (repo.root / "templates" / "broken.yaml").write_text("apiVersion: smsops/v1\nkind: Template\n")
    report_file = tmp_path / "report.json"
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve", "--report", str(report_file))
    assert code == 1 and out == ""
    assert f"error: 2 problem(s) in {repo.root}; nothing was contacted" in err
    report = json.loads(report_file.read_text())
    assert report["results"] == [] and report["not_started"] == []
    assert report["error"] == f"2 problem(s) in {repo.root}; nothing was contacted"
    assert sms_sandbox.account.counters().get("requests", 0) == 0


def test_an_apply_interrupted_in_the_gate_reports_the_send_it_made(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """Ctrl-C while the gate waits for a delivery report: a message went out, so the report and the
    JUnit file list that send (interrupted, with its message id), not `gates: []`."""
    for name in ("beta", "gamma"):
        repo.remove_template(name)
    repo.secrets(*sms_sandbox.credentials, recipients=["+8613812345678"])
    test_send = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}, "deliveryTimeout": "5m"}
    repo.channel("prod", "alibaba", sms_sandbox.url(), testSend=test_send)
    assert run_cli("apply", str(repo.root), "--auto-approve")[0] == 0  # creates alpha: in review
    [alpha] = sms_sandbox.account.templates()
    sms_sandbox.account.approve(alpha.code)
    sms_sandbox.account.configure(delivery_delay_s=3600, number_limits={})  # the report will not come

    report_file, junit_file = tmp_path / "report.json", tmp_path / "junit.xml"
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "SOPS_DISABLE_VERSION_CHECK": "1"}
    command = [sys.executable, "-m", "reconciler", "apply", str(repo.root), "--auto-approve"]
    process = subprocess.Popen(
        [*command, "--report", str(report_file), "--junit", str(junit_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 60
    while "waiting for delivery reports" not in seen and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen += line
    assert "waiting for delivery reports" in seen, seen
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + seen + err
    assert "Traceback" not in out + seen + err

    [sent] = sms_sandbox.account.sends()
    report = json.loads(report_file.read_text())
    [gate] = report["gates"]
    assert (gate["channel"], gate["status"], gate["message"]) == ("prod", "failed", "stopped before it finished")
    [result] = gate["results"]
    assert (result["template"], result["outcome"], result["recipient"]) == ("alpha", "interrupted", "+86 138****5678")
    assert result["message_id"] == sent.message_id and result["code"] == alpha.code
    junit = junit_file.read_text()
    assert 'tests="1"' in junit and 'type="interrupted"' in junit and "13812345678" not in junit
