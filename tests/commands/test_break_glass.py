"""Break glass through the CLI against the Alibaba emulator: `apply --skip-gate --reason` promotes a
reviewed version with no test send, and the reason, who and which commit show in the apply's output,
its report, the rollout marks, `status` and `history --marks`; the options' misuse stops before any
provider call. Then the pure parts: the mark written and read back, the reason check, the report's note."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest

from reconciler.commands.options import skip_gate_reason
from reconciler.reconcile.apply import ChangeOutcome, ChangeResult
from reconciler.reconcile.breakglass import BreakGlass
from reconciler.reconcile.changes import Action
from reconciler.reconcile.report import (
    break_glass_record,
    breaking_glass,
    build_report,
    render_break_glass,
    report_json,
)
from reconciler.reconcile.rollout import MAX_VALUE, SKIP_GATE
from reconciler.sandbox.store.account import ManualClock
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo

ALERT = "Service {{ service }} is down"
ALERT_V2 = "Service {{ service }} is down, on-call paged"
LOGIN = "Your login code is {{ code }}"
GOOD = "+8613812345678"
TEST_SEND = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}, "deliveryTimeout": "30s"}
REASON = "carrier outage INC-42"
ACTOR = "oncall-alice"


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock(time.time())  # delivery reports are due by the wall clock the gate waits on


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ops",
        "GIT_AUTHOR_EMAIL": "ops@example.com",
        "GIT_COMMITTER_NAME": "Ops",
        "GIT_COMMITTER_EMAIL": "ops@example.com",
    }
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setenv("GITHUB_ACTOR", ACTOR)  # who applies, as on a CI runner
    monkeypatch.delenv("GITHUB_SHA", raising=False)  # the commit: the config repository's HEAD
    sms_sandbox.account.configure(delivery_delay_s=0, number_limits={})
    monkeypatch.setattr("reconciler.verify.gate.DEFAULT_POLL_INTERVAL_S", 0.01)
    monkeypatch.setattr("reconciler.providers.alibaba.adapter.AlibabaProvider.number_limits", lambda self, kind: ())
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials, recipients=[GOOD])
    config.channel("prod", "alibaba", sms_sandbox.url(), testSend=TEST_SEND, rollout={"prune": True})
    config.template("alert", ALERT, service="db")
    config.template("login", LOGIN, "verification", code="123456")
    (config.root / ".gitignore").write_text(".smsops/\n")  # state and the published file: not config
    git(config.root, "init", "-q", "-b", "main")
    commit(config.root, "SMS config")
    return config


def run_ok(run_cli: Any, *args: str) -> tuple[str, str]:
    code, out, err = run_cli(*args)
    assert code == 0, out + err
    assert "Traceback" not in out + err
    return str(out), str(err)


def published(repo: ConfigRepo) -> dict[str, Any]:
    document = json.loads((repo.root / ".smsops" / "published" / "prod.json").read_text())
    return dict(document["channel"]["templates"])


def marks(repo: ConfigRepo) -> dict[str, dict[str, str]]:
    """The marks document beside the published config (none yet: no marks)."""
    path = repo.root / ".smsops" / "published" / "prod.marks.json"
    return dict(json.loads(path.read_text())["marks"]) if path.exists() else {}


def reviewed_change(run_cli: Any, repo: ConfigRepo, handle: SandboxHandle) -> tuple[str, str, str]:
    """Both templates live through their gate, then alert's content changed, committed, registered and
    approved: the old and the new code of alert, and the commit."""
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    for template in handle.account.templates():
        handle.account.approve(template.code)
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    old = next(t.code for t in handle.account.templates() if t.name.startswith("alert~"))
    repo.template("alert", ALERT_V2, service="db")
    sha = commit(repo.root, "alert: say the on-call engineer is paged")
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    new = next(t.code for t in handle.account.templates() if t.name.startswith("alert~") and t.code != old)
    handle.account.approve(new)
    return old, new, sha


def test_skip_gate_promotes_with_no_test_send_and_every_record_says_why(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    old, new, sha = reviewed_change(run_cli, repo, sms_sandbox)
    sends = len(sms_sandbox.account.sends())
    assert sends > 0  # the first promotions went through their gate
    report_file = tmp_path / "out" / "report.json"

    glass_args = ("--skip-gate", "--reason", REASON, "--report", str(report_file))
    out, err = run_ok(run_cli, "apply", str(repo.root), "--auto-approve", *glass_args)

    # promoted with zero test sends, and the application now reads the new code
    assert len(sms_sandbox.account.sends()) == sends
    assert published(repo)["alert"]["code"] == new
    # the terminal says the gate was skipped, by whom, at which commit, and why
    assert f"warning: --skip-gate: 1 promotion(s) without test sends: {REASON} ({ACTOR}, {sha[:12]})" in err
    assert "  done     promote prod/alert~" in out
    assert f" {new} (gate skipped: {REASON} ({ACTOR}, {sha[:12]}))" in out
    assert (
        f"Break glass (--skip-gate): test-send gate skipped for 1 promotion(s) by {ACTOR} at commit {sha[:12]}, "
        f"reason: {REASON}"
    ) in out
    # the report
    report = json.loads(report_file.read_text())
    glass = report["break_glass"]
    assert (glass["reason"], glass["actor"], glass["commit"], glass["dirty"]) == (REASON, ACTOR, sha, False)
    assert [a.split("~")[0] for a in glass["promoted"]] == ["prod/alert"]
    assert glass["note"].startswith("test-send gate skipped for 1 promotion(s)")
    # the rollout mark, beside the published config
    mark = marks(repo)[new][SKIP_GATE]
    assert mark.endswith(f" {REASON} ({ACTOR}, {sha[:12]})")
    assert SKIP_GATE not in marks(repo).get(old, {})

    # status: the live version went live without its gate
    out, _ = run_ok(run_cli, "status", str(repo.root))
    [line] = [line for line in out.splitlines() if "gate skipped" in line]
    assert line.strip().startswith("! gate skipped ")
    assert line.endswith(f" by {ACTOR} at commit {sha[:12]}: {REASON}")
    assert "1 live version(s) promoted without their test-send gate." in out.splitlines()[-1]
    out, _ = run_ok(run_cli, "status", str(repo.root), "--output", "json")
    live = {t["name"]: t["live"] for t in json.loads(out)["channels"][0]["templates"]}
    assert live["login"]["gate_skipped"] is None
    assert live["alert"]["code"] == new
    assert live["alert"]["gate_skipped"]["reason"] == REASON
    assert live["alert"]["gate_skipped"]["actor"] == ACTOR
    assert live["alert"]["gate_skipped"]["commit"] == sha[:12]
    assert live["alert"]["gate_skipped"]["at"] is not None

    # history --marks: beside the commits, who skipped which gate
    out, _ = run_ok(run_cli, "history", str(repo.root), "--marks")
    assert "Promotions without their test-send gate (apply --skip-gate, from the rollout marks):" in out
    [entry] = [line for line in out.splitlines() if "gate skipped" in line]
    assert entry.startswith(f"  prod/alert {new}: gate skipped 20")
    assert entry.endswith(f" by {ACTOR} at commit {sha[:12]}: {REASON}")
    assert out.splitlines()[-1].endswith("; 1 promotion(s) without their test-send gate")
    out, _ = run_ok(run_cli, "history", str(repo.root), "--marks", "--template", "login", "--output", "json")
    assert json.loads(out)["gate_skips"] == []
    out, _ = run_ok(run_cli, "history", str(repo.root), "--template", "alert", "--marks", "--output", "json")
    [skip] = json.loads(out)["gate_skips"]
    assert (skip["channel"], skip["template"], skip["code"]) == ("prod", "alert", new)
    assert skip["glass"]["reason"] == REASON and skip["glass"]["commit"] == sha[:12]
    out, _ = run_ok(run_cli, "history", str(repo.root))
    assert "gate skipped" not in out  # only with --marks: plain history reads git alone


def test_history_reads_break_glass_from_the_documents_the_pipeline_committed(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    spec = {"testSend": TEST_SEND, "rollout": {"prune": True}, "publish": {"file": "../published/prod.json"}}
    repo.channel("prod", "alibaba", sms_sandbox.url(), **spec)
    commit(repo.root, "prod: publish to a file the pipeline commits")
    _, new, _ = reviewed_change(run_cli, repo, sms_sandbox)
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve", "--skip-gate", "--reason", REASON)
    commit(repo.root, "published config of prod")  # what a pipeline keeping a file target does
    # A runner that starts without the documents: git still has them, and names the code.
    for document in (repo.root / "published").iterdir():
        document.unlink()
    out, _ = run_ok(run_cli, "history", str(repo.root), "--channel", "prod", "--marks", "--output", "json")
    [skip] = json.loads(out)["gate_skips"]
    assert (skip["template"], skip["code"], skip["glass"]["reason"]) == ("alert", new, REASON)
    assert skip["glass"]["actor"] == ACTOR


def test_history_marks_goes_on_past_a_target_it_cannot_read_and_exits_1(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    repo.channel("cloud", "alibaba", sms_sandbox.url(), publish={"ssmPrefix": "/smsops/cloud"})
    commit(repo.root, "cloud channel, published to SSM")
    code, out, err = run_cli("history", str(repo.root), "--marks")
    assert code == 1 and "Traceback" not in out + err
    assert (
        "warning: channel cloud: rollout marks not read: publish.ssmPrefix is set but no AWS region is known "
        "(the channel's provider is alibaba); set AWS_REGION"
    ) in out
    # No "none recorded": the channel's marks were not read, so its skips are unknown.
    assert "from the rollout marks):\nwarning: channel cloud: rollout marks not read:" in out
    assert out.count("rollout marks not read") == 1 and "none recorded" not in out
    assert "Channel cloud created" in out  # the git history is all there


def test_skip_gate_with_a_saved_plan_that_promotes_nothing_says_no_gate_was_skipped(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")  # registers both: nothing to promote yet
    plan_file, report_file = tmp_path / "plan.json", tmp_path / "report.json"
    run_ok(run_cli, "plan", str(repo.root), "--out", str(plan_file))
    args = ("apply", str(repo.root), "--plan", str(plan_file), "--auto-approve", "--skip-gate", "--reason", REASON)
    out, err = run_ok(run_cli, *args, "--report", str(report_file))
    assert "note: --skip-gate: this plan promotes nothing, so no gate is skipped" in err
    assert "Break glass (--skip-gate): no test-send gate was skipped: no promotion of this apply had one" in out
    glass = json.loads(report_file.read_text())["break_glass"]
    assert glass["promoted"] == [] and glass["reason"] == REASON
    assert not any(SKIP_GATE in values for values in marks(repo).values())


def test_skip_gate_on_a_channel_without_a_gate_marks_nothing_skipped(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    repo.channel("prod", "alibaba", sms_sandbox.url(), rollout={"prune": True})  # no testSend
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    for template in sms_sandbox.account.templates():
        sms_sandbox.account.approve(template.code)
    report_file = tmp_path / "report.json"
    args = ("--skip-gate", "--reason", REASON, "--report", str(report_file))
    out, err = run_ok(run_cli, "apply", str(repo.root), "--auto-approve", *args)
    assert "note: --skip-gate: no channel applied here has a test-send gate, so none is skipped" in err
    assert sorted(published(repo)) == ["alert", "login"]  # promoted, as without --skip-gate
    assert "gate skipped" not in out
    assert json.loads(report_file.read_text())["break_glass"]["promoted"] == []
    assert not any(SKIP_GATE in values for values in marks(repo).values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--skip-gate",), "Error: --skip-gate needs --reason TEXT saying why the gate is skipped"),
        (("--skip-gate", "--reason", " \t "), "Error: --skip-gate needs --reason TEXT saying why the gate is skipped"),
        (("--reason", REASON), "Error: --reason is only for --skip-gate: without it the gate runs and needs no reason"),
    ],
    ids=["no-reason", "blank-reason", "reason-alone"],
)
def test_misused_options_are_a_usage_error_before_any_provider_call(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, args: tuple[str, ...], message: str
) -> None:
    before = sms_sandbox.account.counters().get("requests", 0)
    code, out, err = run_cli("apply", str(repo.root), "--auto-approve", *args)
    assert code == 1
    assert message in err and "Usage: smsops apply" in err
    assert "Traceback" not in out + err
    assert sms_sandbox.account.counters().get("requests", 0) == before
    assert not sms_sandbox.account.templates()


# -- pure logic ------------------------------------------------------------------------------------

GLASS = BreakGlass(reason=REASON, actor=ACTOR, commit="0123456789abcdef0123")
AT = "2026-12-05T08:00:00+00:00"


def test_the_mark_reads_back_as_written() -> None:
    mark = GLASS.mark(AT)
    assert mark == f"{AT} {REASON} ({ACTOR}, 0123456789ab)"
    read = BreakGlass.from_mark(mark)
    at = datetime(2026, 12, 5, 8, tzinfo=UTC)
    assert read == BreakGlass(reason=REASON, actor=ACTOR, commit="0123456789ab", at=at)
    dirty = GLASS.model_copy(update={"dirty": True}).mark(AT)
    assert dirty.endswith("(oncall-alice, 0123456789ab+dirty)")
    assert BreakGlass.from_mark(dirty).dirty
    no_commit = BreakGlass(reason="outage (carrier B)", actor="Jane Doe").mark(AT)
    assert BreakGlass.from_mark(no_commit).model_dump(exclude={"at"}) == {
        "reason": "outage (carrier B)",
        "actor": "Jane Doe",
        "commit": "",
        "dirty": False,
    }


def test_a_long_reason_gives_way_so_who_and_which_commit_fit_in_a_mark() -> None:
    mark = GLASS.model_copy(update={"reason": "x" * 300}).mark(AT)
    assert len(mark) == MAX_VALUE
    assert mark.endswith(f"x… ({ACTOR}, 0123456789ab)")
    read = BreakGlass.from_mark(mark)
    assert (read.actor, read.commit) == (ACTOR, "0123456789ab")


def test_a_mark_without_time_or_closing_is_kept_as_the_reason() -> None:
    assert BreakGlass.from_mark(f"{REASON} ({ACTOR}, 0123456789ab)").model_dump() == {
        "reason": REASON,
        "actor": ACTOR,
        "commit": "0123456789ab",
        "dirty": False,
        "at": None,
    }
    cut = BreakGlass.from_mark(f"{AT} a reason cut short by an older smsops (oncall-al…")
    assert (cut.reason, cut.actor) == ("a reason cut short by an older smsops (oncall-al…", "")


def test_the_actor_is_who_started_this_run_also_a_re_run(tmp_path: Path) -> None:
    """A dispatched break glass re-run by another engineer: GitHub keeps GITHUB_ACTOR as the first
    attempt's dispatcher, GITHUB_TRIGGERING_ACTOR is who re-ran it, and it is that person who skipped
    the gate this time."""
    rerun = {"GITHUB_ACTOR": ACTOR, "GITHUB_TRIGGERING_ACTOR": "oncall-bob", "GITHUB_SHA": "0123456789abcdef"}
    assert breaking_glass(str(tmp_path), REASON, rerun).actor == "oncall-bob"
    dispatched = {"GITHUB_ACTOR": ACTOR, "GITHUB_TRIGGERING_ACTOR": ACTOR, "GITHUB_SHA": "0123456789abcdef"}
    assert breaking_glass(str(tmp_path), REASON, dispatched).actor == ACTOR
    older_runner = {"GITHUB_ACTOR": ACTOR, "GITHUB_SHA": "0123456789abcdef"}  # no triggering actor set
    assert breaking_glass(str(tmp_path), REASON, older_runner).actor == ACTOR


def test_skip_gate_reason() -> None:
    assert skip_gate_reason(False, None) == ""
    assert skip_gate_reason(True, "  carrier\noutage   INC-42 ") == REASON  # one line
    for skip, reason in ((True, None), (True, "   "), (False, REASON), (False, "")):
        with pytest.raises(click.UsageError):
            skip_gate_reason(skip, reason)


def test_the_reports_note_lists_the_promotions_made_without_the_gate() -> None:
    def result(action: Action, outcome: ChangeOutcome, address: str) -> ChangeResult:
        return ChangeResult(channel="prod", action=action, address=address, outcome=outcome)

    results = [
        result(Action.PROMOTE, ChangeOutcome.DONE, "prod/a~1").model_copy(update={"note": "gate skipped: …"}),
        result(Action.PROMOTE, ChangeOutcome.DONE, "prod/d~4"),  # its channel has no gate to skip
        result(Action.PROMOTE, ChangeOutcome.FAILED, "prod/b~2"),
        result(Action.CREATE, ChangeOutcome.DONE, "prod/c~3"),
    ]
    record = break_glass_record(GLASS, results)
    assert record.promoted == ("prod/a~1",)
    assert record.note == (
        f"test-send gate skipped for 1 promotion(s) by {ACTOR} at commit 0123456789ab, reason: {REASON}"
    )
    unskipped = break_glass_record(GLASS, results[1:])
    assert unskipped.note == "no test-send gate was skipped: no promotion of this apply had one"


def test_a_phone_number_in_the_reason_is_masked_in_the_mark_and_the_output() -> None:
    glass = GLASS.model_copy(update={"reason": f"{GOOD} gets no code; " + "y" * 200})
    mark = glass.mark(AT)
    assert GOOD not in mark and "+86 138****5678" in mark
    assert len(mark) == MAX_VALUE and BreakGlass.from_mark(mark).commit == "0123456789ab"
    record = break_glass_record(glass, [])
    for output in ("text", "markdown", "github"):
        assert GOOD not in render_break_glass(record, output)
    report = build_report(".", [], datetime.now(UTC), environ={}, break_glass=glass)
    assert GOOD not in report_json(report)
