"""The shipped pipelines run, each job on a runner that starts empty (tests/workflowrun.py): pull
request -> push to main -> scheduled reconcile, then a fix promoted by the break-glass workflow.

Every job clones the config repository afresh and leaves its workspace behind, so the only state
that carries from one job to the next is where a team's carries: at the provider and in the channel's
durable publish target. The loop's channel ``ci`` is the example's sandbox channel made real: an
Alibaba channel at the Alibaba emulator served over loopback for this module, publishing to SSM in
moto. The example's other channels are listed too, but need real accounts, so the matrices run
``ci`` only (``${{ matrix.channel }}``); its embedded ``sandbox`` channel is not listed at all,
since its account would be empty on every runner. The SOPS_AGE_KEY secret is the committed
test-only key; the SMSOPS_VERSION repository variable is a wheel built from this checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from reconciler.providers.base import ReviewStatus
from reconciler.providers.sandbox.adapter import CONSOLE_FIELDS, CONSOLE_REMARK
from reconciler.sandbox.store.account import ManualClock
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.testing import TEST_KEY_ID, TEST_KEY_SECRET, SandboxFactory, SandboxHandle
from tests.configonly import GIT_IDENTITY, smsops_wheel_fixture  # noqa: F401
from tests.configrepo import write_doc, write_sops
from tests.workflowrun import (
    AGE_KEY,
    BREAK_GLASS,
    CHECKED_OUT,
    GITOPS_LOOP,
    MATRIX_CHANNEL,
    SMS_CONFIG_WORKFLOWS,
    WORKFLOW_DIR,
    Pipeline,
    StepRun,
    git,
    install_step,
    load,
    run_steps,
    smsops_command,
    smsops_lines,
)

BIN = Path(sys.executable).parent
CHANNEL = MATRIX_CHANNEL
EXPECTED_CHANNELS = [CHANNEL, "production", "staging", "tencent-cn"]
SSM_PREFIX = f"/smsops/{CHANNEL}"
REGION = "eu-west-1"
# Delivered by the emulator; three, so the gate never waits on one number's send limits.
RECIPIENTS = ["+8613812345671", "+8613812345672", "+8613812345673"]
SECRETS = "../secrets/ci.enc.yaml"


class WallClock(ManualClock):
    """The served emulator on the wall clock, as a provider is: a version made later is later, and a
    delivery report is due when the gate looks for it."""

    def now(self) -> float:
        return time.time()


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """The loop channel's provider for the whole module: the Alibaba emulator on loopback, its account
    reviewing at once (the review delay would be 2 s, and `smsops wait`, which checks every 10 s,
    would sleep 10 s; waiting through a review is tested on a manual clock in
    tests/reconcile/test_status.py)."""
    factory = SandboxFactory(tmp_path_factory.mktemp("provider"), WallClock())
    try:
        handle = factory.start("alibaba", behaviour=Behaviour(review_delay_s=0))
        # OnePro as made by hand in the console, as signatures/onepro.yaml describes it: smsops adopts it
        handle.account.put_signature(
            "OnePro", ReviewStatus.APPROVED, scene="general", extra=CONSOLE_FIELDS, remark=CONSOLE_REMARK
        )
        yield handle
    finally:
        factory.close()


@pytest.fixture(scope="module")
def aws(moto_endpoint: str) -> dict[str, str]:
    """What the jobs' "AWS credentials" step gives them, for moto's SSM: the loop's publish target."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_SSM": moto_endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def published(aws: dict[str, str]) -> dict[str, Any]:
    """The loop channel's published config, where the application reads it: in SSM."""
    ssm = boto3.client(
        "ssm",
        endpoint_url=aws["AWS_ENDPOINT_URL_SSM"],
        region_name=REGION,
        aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
    )
    document: dict[str, Any] = json.loads(ssm.get_parameter(Name=f"{SSM_PREFIX}/config")["Parameter"]["Value"])
    return document


def add_the_loop_channel(pipeline: Pipeline, provider: SandboxHandle) -> None:
    """The example's sandbox channel as a team would run it from CI: the same settings, at the
    served emulator with its own encrypted keys and test numbers, publishing to SSM. Pushed to main."""
    laptop = pipeline.clone(pipeline.root / "laptop-setup")
    config = laptop / "sms-config"
    secrets = {"access_key_id": TEST_KEY_ID, "access_key_secret": TEST_KEY_SECRET, "test_recipients": RECIPIENTS}
    write_sops(config / "secrets/ci.enc.yaml", secrets)
    document = yaml.safe_load((config / "channels/sandbox.yaml").read_text())
    document["metadata"]["name"] = CHANNEL
    spec = document["spec"]
    spec |= {"provider": "alibaba", "endpoint": provider.url("alibaba"), "credentials": {"sops": SECRETS}}
    spec["testSend"]["recipients"]["sops"] = SECRETS
    # The emulator asks for no spacing between creations; an hour's grace keeps the old alert
    # version for the tests after the loop, however long it takes.
    spec["rollout"] |= {"createSpacing": "0s", "gracePeriod": "1h"}
    spec["publish"] = {"ssmPrefix": SSM_PREFIX}
    write_doc(config / "channels/ci.yaml", document)
    for template in (config / "templates").glob("*.yaml"):  # sent through ci wherever through the sandbox
        template.write_text(template.read_text().replace("channels: [sandbox,", f"channels: [sandbox, {CHANNEL},"))
    by_hand(pipeline, laptop, "git", "add", "-A")
    by_hand(pipeline, laptop, "git", "commit", "-q", "-m", "ci channel: the sandbox's settings, run from CI")
    by_hand(pipeline, laptop, "git", "push", "-q", "origin", "main")


def test_an_unpinned_smsops_fails_the_job_with_a_message(tmp_path: Path, smsops_wheel: Path) -> None:
    pipeline = Pipeline(tmp_path, smsops_wheel)
    workflow = load(WORKFLOW_DIR / "sms-config-apply.yml")
    step = install_step(workflow["jobs"]["channels"]["steps"])
    runner = pipeline.new_job()
    env = pipeline.environment(workflow["env"], known=pipeline.known | {"vars.SMSOPS_VERSION": ""}, job=runner)
    run = pipeline.run_script("channels", step["name"], step["run"], env, runner)
    assert run.returncode == 1
    assert run.output.startswith("::error title=smsops is not pinned::set the repository variable SMSOPS_VERSION")
    assert runner.path == [] and not (runner.temp / "smsops").exists()


# Break glass: who dispatches it, why, and the change it puts live without its gate.
DISPATCHER = "oncall-alice"
REASON = "INC-42: the test numbers' carrier is down"
ALERT = "sms-config/templates/alert-notification.yaml"


def dispatched(pipeline: Pipeline, *, ref: str = "refs/heads/main", rerun_by: str = "") -> dict[str, str]:
    """The GITHUB_* variables a runner sets for a workflow_dispatch run (those smsops and the workflow
    read): the ref and its commit, who dispatched it, and who started this attempt (a re-run's)."""
    return {
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_REF": ref,
        "GITHUB_SHA": git(pipeline.repository, "rev-parse", "HEAD").strip(),
        "GITHUB_ACTOR": DISPATCHER,
        "GITHUB_TRIGGERING_ACTOR": rerun_by or DISPATCHER,
        "GITHUB_RUN_ID": "2",
    }


def by_hand(pipeline: Pipeline, laptop: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """A person's command in their clone of the config repository, with the key and the AWS access
    the pipelines have (git's identity: the config team's): this checkout's smsops, not a
    pipeline's, and not recorded as a step."""
    mine = ("SOPS_AGE_", "GITHUB_", "SMSOPS_", "AWS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(mine)} | pipeline.aws
    env |= GIT_IDENTITY | {"SOPS_AGE_KEY": AGE_KEY, "SOPS_DISABLE_VERSION_CHECK": "1"}
    program = str(BIN / "smsops") if command[0] == "smsops" else command[0]
    done = subprocess.run([program, *command[1:]], cwd=laptop, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def merge_a_fix_whose_gate_cannot_pass(pipeline: Pipeline) -> None:
    """A fix to the alert text, merged to main and registered at the provider, which approves it at
    once (no review delay): the next apply would gate and promote it. Its gate is what cannot run (the
    test numbers' carrier is down), so it waits for break glass."""
    laptop = pipeline.clone(pipeline.root / "laptop-fix")
    template = laptop / ALERT
    template.write_text(template.read_text().replace("Started at {{ started }}.", "Since {{ started }}."))
    by_hand(pipeline, laptop, "git", "commit", "-q", "-am", "alert-notification: shorter, fits one segment")
    by_hand(pipeline, laptop, "git", "push", "-q", "origin", "main")
    by_hand(pipeline, laptop, "smsops", "apply", "sms-config", "--channel", CHANNEL, "--auto-approve")


@pytest.fixture(scope="module")
def gitops_loop(
    tmp_path_factory: pytest.TempPathFactory, smsops_wheel: Path, provider: SandboxHandle, aws: dict[str, str]
) -> Pipeline:
    """The whole loop, once: PR -> merge (apply) -> scheduled reconcile; then a fix whose gate cannot
    pass, promoted by the break-glass workflow dispatched by the on-call engineer."""
    pipeline = Pipeline(tmp_path_factory.mktemp("pipeline"), smsops_wheel, aws=aws)
    add_the_loop_channel(pipeline, provider)
    for path in GITOPS_LOOP:
        pipeline.run_workflow(path)
    merge_a_fix_whose_gate_cannot_pass(pipeline)
    inputs = {"channel": CHANNEL, "reason": REASON}
    pipeline.run_workflow(BREAK_GLASS, inputs=inputs, github=dispatched(pipeline))
    return pipeline


def find(pipeline: Pipeline, job: str, name: str) -> list[StepRun]:
    return [run for run in pipeline.runs if run.job == job and run.name == name]


def test_every_smsops_line_in_the_pipelines_ran(gitops_loop: Pipeline) -> None:
    ran = [" ".join(argv[:1]) for run in gitops_loop.runs for _, argv in run.calls]
    expected = [
        smsops_command(line)
        for path in SMS_CONFIG_WORKFLOWS
        for _, step in run_steps(path)
        for line in smsops_lines(step["run"])
    ]
    assert ran == expected
    assert expected == [
        *("validate", "channels", "plan"),
        *("validate", "channels", "plan", "apply", "wait", "apply", "export"),
        *("channels", "apply", "export", "plan"),
        *("validate", "apply", "export"),
    ]


LOOP_JOBS = ["validate", "plan-channel", "plan", "channels", "apply", "channels", "reconcile", "break-glass"]


def test_each_job_starts_empty_and_checks_out_a_fresh_clone(gitops_loop: Pipeline) -> None:
    """Nothing of one job's workspace (sandbox state, a local copy of the published config) is there
    for the next: each has its own, and what its checkout put there is the repository's files only
    (nothing of smsops: the pipelines could not have used it)."""
    jobs = gitops_loop.jobs[: len(LOOP_JOBS)]
    assert [job.name for job in jobs] == LOOP_JOBS
    assert len({job.workspace for job in jobs}) == len(jobs)
    for job in jobs:
        # the plan comment job checks nothing out: it has the plan-channel jobs' artifacts only
        assert job.checked_out == (None if job.name == "plan" else CHECKED_OUT), job.name
    assert {path.name for path in gitops_loop.workspace("plan").iterdir()} == {"plans", "comment.md"}


def test_each_job_installs_smsops_from_the_pin_into_its_own_runner_temp(gitops_loop: Pipeline) -> None:
    installs = [run for run in gitops_loop.runs if run.name == "Install smsops"]
    # pr: validate, plan-channel; apply: channels, apply; reconcile: channels, reconcile; break glass.
    jobs = ["validate", "plan-channel", "channels", "apply", "channels", "reconcile", "break-glass"]
    assert [run.job for run in installs] == jobs
    for run in installs:
        assert run.output == "smsops, version 0.1.0\n"


def test_channel_lists_come_from_the_channel_documents(gitops_loop: Pipeline) -> None:
    """The embedded sandbox channel is left out, and the log says so."""
    listings = [run for run in gitops_loop.runs if run.name == "List channels"]
    assert len(listings) == 3
    for run in listings:
        assert run.outputs == f"channels={json.dumps(EXPECTED_CHANNELS)}\n"
        assert "note: left out the embedded sandbox channel(s) sandbox:" in run.output


def test_pull_request_comment_carries_the_marker_and_the_plan(gitops_loop: Pipeline) -> None:
    (combine,) = find(gitops_loop, "plan", "Combine the per-channel plans")
    assert combine.calls == []
    comment = (gitops_loop.workspace("plan") / "comment.md").read_text()
    assert comment.startswith("<!-- smsops-plan -->\n# smsops plan\n")
    assert f"### Channel `{CHANNEL}` (alibaba)" in comment
    assert (
        "**Plan: 4 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete, 1 to record; 4 awaiting review.**"
        in (comment)
    )
    assert "https://github.example/example/sms-settings/actions/runs/1" in comment
    plan = json.loads((gitops_loop.artifacts / f"plan-{CHANNEL}/plan-{CHANNEL}.json").read_text())
    assert plan["format_version"] == 1 and plan["channels"][0]["channel"] == CHANNEL
    # The github-script step finds its earlier comment by the same marker and edits it in place.
    steps = load(WORKFLOW_DIR / "sms-config-pr.yml")["jobs"]["plan"]["steps"]
    (github_script,) = [s["with"]["script"] for s in steps if s.get("uses", "").startswith("actions/github-script@")]
    assert "const marker = '<!-- smsops-plan -->';" in github_script
    assert "updateComment" in github_script and "createComment" in github_script


def test_merge_applies_gates_promotes_and_exports(gitops_loop: Pipeline) -> None:
    out = gitops_loop.artifacts / f"apply-{CHANNEL}"
    created = json.loads((out / "apply-report.json").read_text())
    # the adopted signature's baseline first (OnePro was made in the provider's console), then the templates
    assert [(r["action"], r["outcome"]) for r in created["results"]] == [("record", "done")] + [("create", "done")] * 4
    promoted = json.loads((out / "promote-report.json").read_text())
    # the four promotions, then the published config written in the same apply
    assert [(r["action"], r["outcome"]) for r in promoted["results"]] == [("promote", "done")] * 4 + [
        ("publish", "done")
    ]
    junit = (out / "junit.xml").read_text()
    assert 'failures="0" errors="0"' in junit and "<testcase " in junit
    runtime = json.loads((out / "runtime.json").read_text())
    templates = runtime["channels"][CHANNEL]["templates"]
    assert len(templates) == 4 and all(t["live"] for t in templates.values())
    # published where the application reads it (and where the next job found it): in SSM
    assert sorted(published(gitops_loop.aws)["channel"]["templates"]) == sorted(templates)
    (wait,) = find(gitops_loop, "apply", "Wait for the provider's review")
    assert "all 4 template(s) approved" in wait.output and "waiting for review" not in wait.output
    summary = gitops_loop.summary.read_text()
    assert "### Apply" in summary and "### Promote" in summary and f"Gate passed on {CHANNEL}" in summary


def test_reconcile_finds_nothing_left_after_the_loop(gitops_loop: Pipeline) -> None:
    (drift,) = find(gitops_loop, "reconcile", "Detect drift")
    assert drift.calls[0][0] == 0
    assert f"No drift: `{CHANNEL}` matches main." in gitops_loop.summary.read_text()


def test_the_key_is_never_printed(gitops_loop: Pipeline) -> None:
    secret = AGE_KEY.removeprefix("AGE-SECRET-KEY-")
    assert secret not in gitops_loop.summary.read_text()
    for run in gitops_loop.runs:
        assert secret not in run.output and secret not in run.outputs


def alert_versions(provider: SandboxHandle) -> list[Any]:
    """The provider's versions of alert-notification, oldest first."""
    versions = [t for t in provider.account.templates() if t.name.startswith("alert-notification~")]
    return sorted(versions, key=lambda t: t.created_at)


def test_break_glass_promotes_with_no_send_and_records_who_dispatched_it_and_why(
    gitops_loop: Pipeline, provider: SandboxHandle, tmp_path: Path
) -> None:
    old, new = alert_versions(provider)
    assert "Since ${started}." in new.content and "Started at" in old.content
    # promoted with no test send: the provider has none since the fix was registered
    assert provider.account.sends(since=new.created_at) == []
    assert len(provider.account.sends()) > 0  # the loop's promotions went through their gate
    runtime = json.loads((gitops_loop.artifacts / "break-glass-1-1/runtime.json").read_text())
    assert runtime["channels"][CHANNEL]["templates"]["alert-notification"]["code"] == new.code != old.code
    assert published(gitops_loop.aws)["channel"]["templates"]["alert-notification"]["code"] == new.code
    # the report names the reason, the person who dispatched the run and the commit it ran at
    commit = git(gitops_loop.repository, "log", "-1", "--format=%H", "--", ALERT)
    report = json.loads((gitops_loop.artifacts / "break-glass-1-1/break-glass-report.json").read_text())
    glass = report["break_glass"]
    assert (glass["reason"], glass["actor"], glass["commit"], glass["dirty"]) == (
        REASON,
        DISPATCHER,
        commit.strip(),
        False,
    )
    assert [address.split("~")[0] for address in glass["promoted"]] == [f"{CHANNEL}/alert-notification"]
    assert report["actor"] == DISPATCHER
    (step,) = find(gitops_loop, "break-glass", "Apply, promoting without the test-send gate")
    sha = commit[:12]
    assert f"warning: --skip-gate: 1 promotion(s) without test sends: {REASON} ({DISPATCHER}, {sha})" in step.output
    assert (
        f"> :warning: test-send gate skipped for 1 promotion(s) by {DISPATCHER} at commit {sha}, reason: {REASON}"
    ) in gitops_loop.summary.read_text()
    # what an auditor sees later, from a laptop: the marks are in the publish target, not on a runner
    laptop = gitops_loop.clone(tmp_path / "laptop")
    status = by_hand(gitops_loop, laptop, "smsops", "status", "sms-config", "--channel", CHANNEL).stdout
    [line] = [line.strip() for line in status.splitlines() if "gate skipped" in line]
    assert line.startswith("! gate skipped ") and line.endswith(f" by {DISPATCHER} at commit {sha}: {REASON}")
    assert "1 live version(s) promoted without their test-send gate." in status


def beside(loop: Pipeline, where: Path) -> Pipeline:
    """A pipeline on the loop's repository, provider and publish target, with a record of its own
    (runs, summary, artifacts), so that its runs leave the loop's record alone."""
    return Pipeline(where, loop.wheel, origin=loop.origin, aws=loop.aws)


def hostile(marker: Path) -> str:
    """Text that runs `touch marker` if any shell reads it as code, and starts a workflow command on a
    line of its own if anything prints it across lines."""
    return (
        f"$(touch {marker}) `touch {marker}` \"; touch {marker}; echo \" '; touch {marker}; ' "
        "\n::error title=injected::from an input"
    )


def test_a_dispatched_reason_is_recorded_as_text_never_run(gitops_loop: Pipeline, tmp_path: Path) -> None:
    """Dispatched, then re-run by another engineer: the reason reaches smsops as one argument and is
    recorded as it was typed (on one line); the actor is who started this attempt."""
    pipeline = beside(gitops_loop, tmp_path / "beside")
    marker = tmp_path / "injected"
    reason = hostile(marker)
    inputs = {"channel": CHANNEL, "reason": reason}
    github = dispatched(pipeline, rerun_by="oncall-bob")
    runs = pipeline.run_workflow(BREAK_GLASS, inputs=inputs, github=github, succeeds=False)
    assert not marker.exists()
    assert [(run.name, run.returncode) for run in runs if run.returncode] == []
    (step,) = [run for run in runs if run.name == "Apply, promoting without the test-send gate"]
    [(rc, argv)] = step.calls
    at = argv.index("--reason")
    assert rc == 0 and argv[at + 2] == "--auto-approve", "one argument, whatever it holds"
    report = pipeline.artifacts / "break-glass-1-1/break-glass-report.json"
    glass = json.loads(report.read_text())["break_glass"]
    assert (glass["reason"], glass["actor"]) == (" ".join(reason.split()), "oncall-bob")
    assert glass["promoted"] == []  # the loop's break glass left nothing to promote
    printed = [line for run in runs for line in run.output.splitlines()]
    printed += pipeline.summary.read_text().splitlines()
    assert not [line for line in printed if line.startswith("::error title=injected")]


def test_a_dispatched_channel_is_text_never_run(gitops_loop: Pipeline, provider: SandboxHandle, tmp_path: Path) -> None:
    pipeline = beside(gitops_loop, tmp_path / "beside")
    before = [t.code for t in provider.account.templates()]
    marker = tmp_path / "injected"
    inputs = {"channel": hostile(marker), "reason": REASON}
    runs = pipeline.run_workflow(BREAK_GLASS, inputs=inputs, github=dispatched(pipeline), succeeds=False)
    assert not marker.exists()
    # smsops names the channel it was given and stops; the export after it does the same
    assert [(run.name, run.returncode) for run in runs[-2:]] == [
        ("Apply, promoting without the test-send gate", 1),
        ("Export the runtime config", 1),
    ]
    for run in runs[-2:]:
        assert "no channel named '$(touch " in run.output and "Traceback" not in run.output
        assert not [line for line in run.output.splitlines() if line.startswith("::error title=injected")]
    assert [t.code for t in provider.account.templates()] == before


def test_break_glass_runs_from_the_default_branch_only(tmp_path: Path, smsops_wheel: Path) -> None:
    pipeline = Pipeline(tmp_path, smsops_wheel)
    github = dispatched(pipeline, ref="refs/heads/try-this")
    runs = pipeline.run_workflow(
        BREAK_GLASS, inputs={"channel": CHANNEL, "reason": REASON}, github=github, succeeds=False
    )
    # nothing after the check runs: not the checkout, not the install, not smsops, not the export
    assert [(run.name, run.returncode, run.calls) for run in runs] == [("Only from the default branch", 1, [])]
    assert runs[0].output.startswith(
        "::error title=break glass runs from main only::this run is on refs/heads/try-this"
    )
    assert pipeline.jobs[0].checked_out is None


def test_drift_fails_the_reconcile_step_with_a_summary(gitops_loop: Pipeline, tmp_path: Path) -> None:
    """A change merged to main that the provider does not have yet: the drift step exits 2 and shows it."""
    laptop = gitops_loop.clone(tmp_path / "laptop")
    main = git(laptop, "rev-parse", "HEAD").strip()
    template = laptop / "sms-config/templates/task-status.yaml"
    template.write_text(template.read_text().replace("finished with status", "ended with status"))
    by_hand(gitops_loop, laptop, "git", "commit", "-q", "-am", "task-status: ended")
    by_hand(gitops_loop, laptop, "git", "push", "-q", "origin", "main")
    try:
        drift_fails_the_reconcile_step(gitops_loop)
    finally:  # main goes back to what the loop left, for the tests after
        by_hand(gitops_loop, laptop, "git", "push", "-q", "--force", "origin", f"{main}:main")


def drift_fails_the_reconcile_step(gitops_loop: Pipeline) -> None:
    workflow = load(WORKFLOW_DIR / "sms-config-reconcile.yml")
    job = workflow["jobs"]["reconcile"]
    step = next(s for s in job["steps"] if s.get("name") == "Detect drift")
    runner = gitops_loop.new_job("reconcile")
    install = install_step(job["steps"])
    env = gitops_loop.environment(workflow["env"], job["env"], known=gitops_loop.known, job=runner)
    assert gitops_loop.run_script("reconcile", install["name"], install["run"], env, runner).returncode == 0
    env = gitops_loop.environment(workflow["env"], job["env"], step["env"], known=gitops_loop.known, job=runner)
    run = gitops_loop.run_script("reconcile", "Detect drift", step["run"], env, runner)
    assert run.returncode == 2
    assert [rc for rc, _ in run.calls] == [2]
    assert f"::error title=smsops drift::{CHANNEL} differs from main after reconcile" in run.output
    summary = gitops_loop.summary.read_text()
    assert f"### :warning: Drift on `{CHANNEL}`" in summary
    assert "1 to create" in summary.split(f"Drift on `{CHANNEL}`")[1]
