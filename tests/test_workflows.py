"""The GitHub Actions pipelines: linted, schema-checked, held to a few policies, and run.

The run tests execute the workflows' own ``run:`` scripts, in job order, with bash as GitHub runs them
(``bash --noprofile --norc -eo pipefail``), in a config-only repository (``sms-config/`` and
``.sops.yaml``, no pyproject: what a team using smsops has) against the embedded sandbox: pull
request -> push to main -> reconcile, so the sandbox account carries state from one to the next like
a real one. ``${{ matrix.channel }}`` is ``sandbox``; the SOPS_AGE_KEY secret is the committed
test-only key; the SMSOPS_VERSION repository variable is a wheel built from this checkout.

Each job starts with an empty RUNNER_TEMP and PATH as a runner has them: the job's own "Install
smsops" step runs for real (uv, offline from its cache, installing the wheel) and what it appends to
GITHUB_PATH is on PATH for the job's later steps; nothing of this checkout's virtualenv is. A
``smsops`` shim in front records every invocation, its exit code and which smsops ran, so each smsops
line of each script is proven to run the installed one and to exit as expected. Steps that are
``uses:`` actions, and ``pip install`` (of uv), are not run here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.sandbox.store.account import Sandbox
from reconciler.sandbox.store.behaviour import Behaviour
from tests.configonly import (
    GIT_IDENTITY,
    make_config_repo,
    runner_path,
    smsops_wheel_fixture,  # noqa: F401
    tools_dir,
    uv_environment,
)

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
ACTION = ROOT / "action.yml"
BREAK_GLASS = WORKFLOW_DIR / "sms-config-break-glass.yml"
BIN = Path(sys.executable).parent
AGE_KEY = "\n".join(
    line for line in (ROOT / "sms-config/keys/sandbox.agekey").read_text().splitlines() if not line.startswith("#")
)
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
EXPECTED_CHANNELS = ["production", "sandbox", "staging", "tencent-cn"]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    value: dict[str, Any] = workflow.get("on", workflow.get(True))
    return value


def run_steps(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in load(path)["jobs"].items():
        for step in job.get("steps", []):
            if "run" in step:
                yield job_id, step


# A line that runs smsops: as its first word, or as the first word of a command substitution.
SMSOPS_CALL = re.compile(r"(?:^|\$\()smsops ([a-z][a-z-]*)")


def smsops_lines(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if SMSOPS_CALL.search(line.strip())]


def smsops_command(line: str) -> str:
    match = SMSOPS_CALL.search(line)
    assert match, line
    return match.group(1)


# -- linters ---------------------------------------------------------------------------------------


SHELLCHECK = shutil.which("shellcheck")
NO_SHELLCHECK = "shellcheck is needed to lint the scripts: apt-get install shellcheck (.ci/run installs it)"


def test_actionlint_passes_on_every_workflow() -> None:
    """actionlint runs shellcheck on every `run:` script when it finds it on PATH."""
    assert SHELLCHECK, NO_SHELLCHECK
    assert {p.name for p in WORKFLOWS} >= {
        "ci.yml",
        "sms-config-pr.yml",
        "sms-config-apply.yml",
        "sms-config-reconcile.yml",
        "sms-config-break-glass.yml",
    }
    result = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", "-oneline", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def actionlint_one(repo: Path, name: str, text: str) -> subprocess.CompletedProcess[str]:
    """actionlint on one workflow written into a scratch git repository (`repo`)."""
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / ".github/workflows" / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    return subprocess.run(
        [str(BIN / "actionlint"), "-no-color", "-oneline", f".github/workflows/{name}"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_actionlint_checks_action_yml_through_its_use_in_ci(tmp_path: Path) -> None:
    """actionlint reads action.yml where a workflow uses `./` (ci.yml does): a misspelled input, or
    broken metadata, fails. This shows the passing run above really covered action.yml."""
    shutil.copy(ACTION, tmp_path / "action.yml")
    ci = (WORKFLOW_DIR / "ci.yml").read_text()
    assert "uses: ./\n" in ci and "config-dir: sms-config" in ci
    result = actionlint_one(tmp_path, "ci.yml", ci.replace("config-dir: sms-config", "config-dri: sms-config"))
    assert result.returncode == 1
    assert 'input "config-dri" is not defined in action "smsops"' in result.stdout


def test_actionlint_runs_shellcheck_on_the_scripts(tmp_path: Path) -> None:
    """So the passing run above also means the scripts are clean, not that shellcheck was missing."""
    assert SHELLCHECK, NO_SHELLCHECK
    apply = (WORKFLOW_DIR / "sms-config-apply.yml").read_text()
    assert 'echo "channels: $channels"' in apply
    result = actionlint_one(
        tmp_path, "apply.yml", apply.replace('echo "channels: $channels"', "echo channels: $channels")
    )
    assert result.returncode == 1
    assert "SC2086" in result.stdout


def test_shellcheck_passes_on_the_action_scripts(tmp_path: Path) -> None:
    """actionlint reads action.yml's inputs but not its scripts: shellcheck reads them here."""
    assert SHELLCHECK, NO_SHELLCHECK
    scripts = [step["run"] for step in load(ACTION)["runs"]["steps"] if "run" in step]
    assert len(scripts) == 3
    for index, script in enumerate(scripts):
        path = tmp_path / f"step{index}.sh"
        path.write_text(EXPR.sub("x", script))
        result = subprocess.run([SHELLCHECK, "--shell=bash", str(path)], capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stdout) == (0, ""), script


def test_check_jsonschema_accepts_workflows_and_action() -> None:
    for schema, files in (("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", [ACTION])):
        result = subprocess.run(
            [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ok -- validation done" in result.stdout


# -- policies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_read_only_except_the_plan_comment(path: Path) -> None:
    """Read-only everywhere; the plan comment writes to the pull request; the per-channel jobs may ask
    for an OIDC token (the AWS role of the durable publish targets), nothing else."""
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}
    channel_jobs = {
        "sms-config-apply.yml": "apply",
        "sms-config-pr.yml": "plan-channel",
        "sms-config-reconcile.yml": "reconcile",
        "sms-config-break-glass.yml": "break-glass",
    }
    for job_id, job in workflow["jobs"].items():
        if path.name == "sms-config-pr.yml" and job_id == "plan":
            assert job["permissions"] == {"pull-requests": "write"}
        elif channel_jobs.get(path.name) == job_id:
            assert job["permissions"] == {"contents": "read", "id-token": "write"}
        else:
            assert "permissions" not in job, job_id


# The release commit of each tag (a tag can be moved to other code; a commit cannot).
PINNED = {
    "actions/checkout": ("08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0"),
    "actions/setup-python": ("e797f83bcb11b83ae66e0230d6156d7c80228e7c", "v6.0.0"),
    "actions/upload-artifact": ("b7c566a772e6b6bfb58ed0dc250532a479d7789f", "v6.0.0"),
    "actions/download-artifact": ("37930b1c2abaa49bbe596cd826c3c89aef350131", "v7.0.0"),
    "actions/github-script": ("ed597411d8f924073f98dfc5c65a23a2325f34cd", "v8.0.0"),
    "aws-actions/configure-aws-credentials": ("8df5847569e6427dd6c4fb1cf565c83acfa8afa7", "v6.0.0"),
}


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_with_the_tag_in_a_comment(path: Path) -> None:
    data = load(path)
    steps = data["runs"]["steps"] if "runs" in data else [s for j in data["jobs"].values() for s in j.get("steps", [])]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses
    text = path.read_text()
    for ref in uses:
        if ref == "./":
            continue
        action, _, commit = ref.partition("@")
        assert (commit, PINNED[action][0]) == (PINNED[action][0], commit), ref
        assert f"uses: {ref} # {PINNED[action][1]}\n" in text, ref


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_is_spliced_into_a_script(path: Path) -> None:
    """Values reach scripts as environment variables, so no PR title, branch name or channel name
    can inject shell."""
    for job_id, step in run_steps(path):
        assert "${{" not in step["run"], (job_id, step.get("name"))


def test_action_scripts_splice_no_input() -> None:
    for step in load(ACTION)["runs"]["steps"]:
        if "run" in step:
            assert not [e for e in EXPR.findall(step["run"]) if e != "github.action_path"], step["name"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_age_key_reaches_only_smsops_steps(path: Path) -> None:
    workflow = load(path)
    assert "SOPS_AGE_KEY" not in workflow.get("env", {})
    for job_id, job in workflow["jobs"].items():
        assert "SOPS_AGE_KEY" not in job.get("env", {}), job_id
        for step in job.get("steps", []):
            if "SOPS_AGE_KEY" in step.get("env", {}):
                assert step["env"]["SOPS_AGE_KEY"] == "${{ secrets.SOPS_AGE_KEY }}"
                assert smsops_lines(step["run"]), step.get("name")
                assert "SOPS_AGE_KEY" not in step["run"].replace("SOPS_AGE_KEY:", ""), "never echoed"


def test_sms_config_pipelines_trigger_on_sms_config_only() -> None:
    pr = triggers(load(WORKFLOW_DIR / "sms-config-pr.yml"))
    assert pr == {"pull_request": {"paths": ["sms-config/**"]}}
    apply = triggers(load(WORKFLOW_DIR / "sms-config-apply.yml"))
    assert apply == {"push": {"branches": ["main"], "paths": ["sms-config/**"]}}
    reconcile = triggers(load(WORKFLOW_DIR / "sms-config-reconcile.yml"))
    assert set(reconcile) == {"schedule", "workflow_dispatch"} and reconcile["schedule"][0]["cron"]


def test_break_glass_is_dispatched_by_a_person_with_a_channel_and_a_reason() -> None:
    workflow = load(BREAK_GLASS)
    inputs = triggers(workflow)["workflow_dispatch"]["inputs"]
    assert triggers(workflow) == {"workflow_dispatch": {"inputs": inputs}}
    for name in ("channel", "reason"):
        assert (inputs[name]["required"], inputs[name]["type"]) == (True, "string"), name
        assert inputs[name]["description"]
    (job,) = workflow["jobs"].values()
    # the environment is where a team sets required reviewers and the branches allowed
    assert job["environment"] == "break-glass"
    steps = [step for step in job["steps"] if "run" in step]
    assert steps[0]["name"] == "Only from the default branch", "checked before anything else"
    (glass,) = [step for step in steps if "--skip-gate" in step["run"]]
    assert glass["env"]["REASON"] == "${{ inputs.reason }}" and job["env"]["CHANNEL"] == "${{ inputs.channel }}"
    assert '--skip-gate --reason "$REASON"' in glass["run"] and '--channel "$CHANNEL"' in glass["run"]
    assert "inputs." not in " ".join(step["run"] for step in steps)


def test_applies_are_serialised_per_channel() -> None:
    """The group names the channel the same way in all three: `smsops-apply-sandbox` for each."""
    for name, job_id in (("sms-config-apply.yml", "apply"), ("sms-config-reconcile.yml", "reconcile")):
        job = load(WORKFLOW_DIR / name)["jobs"][job_id]
        assert job["concurrency"] == {"group": "smsops-apply-${{ matrix.channel }}", "cancel-in-progress": False}
        assert job["strategy"]["fail-fast"] is False
    job = load(BREAK_GLASS)["jobs"]["break-glass"]
    assert job["concurrency"] == {"group": "smsops-apply-${{ inputs.channel }}", "cancel-in-progress": False}


def test_required_checks_have_stable_names() -> None:
    """Branch protection requires `validate` and `plan`; matrix job names change with the channels."""
    jobs = load(WORKFLOW_DIR / "sms-config-pr.yml")["jobs"]
    assert jobs["validate"]["name"] == "validate"
    assert jobs["plan"]["name"] == "plan"
    assert set(jobs["plan"]["needs"]) == {"validate", "plan-channel"}


# The pipelines a team copies: the GitOps loop, in the order a change goes through it, then the
# break-glass workflow a person dispatches.
GITOPS_LOOP = [WORKFLOW_DIR / f"sms-config-{name}.yml" for name in ("pr", "apply", "reconcile")]
SMS_CONFIG_WORKFLOWS = [*GITOPS_LOOP, BREAK_GLASS]


def install_step(steps: list[dict[str, Any]]) -> dict[str, Any]:
    (step,) = [step for step in steps if step.get("name") == "Install smsops"]
    return step


@pytest.mark.parametrize("path", SMS_CONFIG_WORKFLOWS, ids=lambda p: p.name)
def test_smsops_is_installed_pinned_with_uv_never_from_the_checkout(path: Path) -> None:
    """The pipelines run in a config-only repository: no pyproject to install or to key a cache on."""
    workflow = load(path)
    assert workflow["env"]["SMSOPS_VERSION"] == "${{ vars.SMSOPS_VERSION }}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", workflow["env"]["UV_VERSION"])
    text = path.read_text()
    assert "pyproject" not in text and "cache:" not in text and "pip install ." not in text
    installs = []
    for job_id, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        if not any(smsops_lines(step.get("run", "")) for step in steps):
            continue
        names = [step.get("name") for step in steps]
        assert names.index("Install uv") < names.index("Install smsops"), job_id
        (uv,) = [step for step in steps if step.get("name") == "Install uv"]
        assert uv["run"] == 'pip install --quiet "uv==$UV_VERSION"'
        installs.append(install_step(steps)["run"])
    assert len(installs) == (1 if path == BREAK_GLASS else 2)
    reference = install_step(load(WORKFLOW_DIR / "sms-config-apply.yml")["jobs"]["channels"]["steps"])["run"]
    assert set(installs) == {reference}, "every job of every pipeline installs smsops the same way"
    # --no-config: no uv.toml or pyproject.toml of the checkout (the pull request's) steers the install.
    assert 'uv venv --no-config --quiet --clear --python "$(command -v python)" "$RUNNER_TEMP/smsops"' in installs[0]
    assert (
        'uv pip install --no-config --quiet --python "$RUNNER_TEMP/smsops/bin/python" "$SMSOPS_VERSION"' in installs[0]
    )


def test_the_action_installs_its_own_commit_unless_told_otherwise() -> None:
    steps = load(ACTION)["runs"]["steps"]
    step = install_step(steps)
    assert step["env"] == {"SMSOPS_VERSION": "${{ inputs.smsops-version || github.action_path }}"}
    workflow_install = install_step(load(WORKFLOW_DIR / "sms-config-apply.yml")["jobs"]["apply"]["steps"])["run"]
    assert step["run"] in workflow_install, "the same install as the workflows, less the pin check"


@pytest.mark.parametrize("document", [".pre-commit-hooks.yaml", "action.yml", "README.md", "docs/team-guide.md"])
def test_no_pin_names_a_tag_that_does_not_exist(document: str) -> None:
    """smsops publishes no tags; the docs pin by commit (`@COMMIT`, `rev: COMMIT`)."""
    text = (ROOT / document).read_text(encoding="utf-8")
    assert not re.search(r"smsops@v\d|rev: v\d", text)


@pytest.mark.parametrize("document", ["docs/team-guide.md", "README.md"])
def test_docs_name_real_commands_and_options(document: str) -> None:
    """Every `smsops <command> --option` the docs show exists, so they cannot drift from the CLI."""
    import click

    from reconciler.cli import cli

    guide = (ROOT / document).read_text(encoding="utf-8")
    fenced = re.findall(r"```\w*\n(.*?)```", guide, flags=re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", guide, flags=re.S))
    uses = [use for code in (*fenced, *inline) for use in re.findall(r"\bsmsops ([a-z][a-z-]+)([^\n`|]*)", code)]
    assert {"import", "history", "plan", "apply", "wait", "test-send", "export", "status"} <= {name for name, _ in uses}
    context = click.Context(cli)
    for name, rest in uses:
        command = cli.get_command(context, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            continue  # `smsops sandbox serve …`: options belong to the subcommand
        known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
            assert option in known, f"smsops {name} {option}"


def test_ci_runs_the_project_entry_point() -> None:
    steps = load(WORKFLOW_DIR / "ci.yml")["jobs"]["test"]["steps"]
    assert [s["run"] for s in steps if "run" in s] == ["bash .ci/run"]


# -- running the scripts ---------------------------------------------------------------------------

# The expressions the scripts' environments use, as they evaluate on the happy path in this test
# (plus `vars.SMSOPS_VERSION`, the wheel, which `Pipeline` adds).
KNOWN_EXPRESSIONS = {
    "matrix.channel": "sandbox",
    "secrets.SOPS_AGE_KEY": AGE_KEY,
    "needs.plan-channel.result": "success",
    "github.server_url": "https://github.example",
    "github.repository": "example/sms-settings",
    "github.run_id": "1",
    "github.event.repository.default_branch": "main",
}
# Step conditions on the happy path (an unknown one fails the test: decide it here).
KNOWN_CONDITIONS = {
    "${{ !cancelled() }}": True,
    "${{ !cancelled() && steps.apply.outcome != 'skipped' }}": True,
    "needs.plan-channel.result != 'success' && needs.plan-channel.result != 'skipped'": False,
}
# ... and once a step of the job has failed, given the outcomes of the steps so far (by step id).
AFTER_A_FAILURE = {
    "${{ !cancelled() }}": lambda outcomes: True,
    "${{ !cancelled() && steps.apply.outcome != 'skipped' }}": lambda outcomes: outcomes.get("apply") == "failure",
}


def step_runs(condition: str | None, failed: bool, outcomes: dict[str, str]) -> bool:
    """Whether GitHub runs a step with this `if:` (none: only while every step so far succeeded)."""
    if condition is None:
        return not failed
    if not failed:
        assert condition in KNOWN_CONDITIONS, f"unknown condition {condition!r}: add it to the test"
        return KNOWN_CONDITIONS[condition]
    assert condition in AFTER_A_FAILURE, f"unknown condition {condition!r} after a failure: add it to the test"
    return AFTER_A_FAILURE[condition](outcomes)


def evaluate(value: Any, known: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        assert match.group(1) in known, f"unknown expression {match.group(0)}: add it to the test"
        return known[match.group(1)]

    return EXPR.sub(one, str(value))


@dataclass
class StepRun:
    job: str
    name: str
    returncode: int
    output: str
    calls: list[tuple[int, list[str]]]
    outputs: str
    # Which smsops executable ran each call.
    programs: list[str] = field(default_factory=list)


# Records each call: exit code, arguments, and the smsops that ran (the next one on PATH). An
# argument holding a tab or a newline (a dispatch input) is written shell-quoted (%q), so each call
# stays one line.
SHIM = """#!/usr/bin/env bash
PATH="${PATH#"$(dirname "$0"):"}"
rc=0; smsops "$@" || rc=$?
line="$rc"
for arg in "$@"; do
  case "$arg" in *$'\\t'* | *$'\\n'*) printf -v arg "%q" "$arg" ;; esac
  line+=$'\\t'"$arg"
done
printf "%s\\n" "$line" >> "$SMSOPS_CALLS"
command -v smsops >> "$SMSOPS_PROGRAMS"
exit "$rc"
"""


@dataclass
class Job:
    """What a runner keeps between the steps of one job: RUNNER_TEMP and what GITHUB_PATH added."""

    temp: Path
    path: list[str] = field(default_factory=list)


@dataclass
class Pipeline:
    """Runs workflow scripts in a config-only repository, each job with a fresh runner state."""

    root: Path
    wheel: Path
    runs: list[StepRun] = field(default_factory=list)

    def __post_init__(self) -> None:
        make_config_repo(self.root / "repo")
        shim = self.root / "bin/smsops"
        shim.parent.mkdir()
        shim.write_text(SHIM)
        shim.chmod(0o755)
        self.tools = tools_dir(self.root / "tools")
        self.summary = self.root / "summary.md"
        self.summary.touch()
        self.known = KNOWN_EXPRESSIONS | {"vars.SMSOPS_VERSION": str(self.wheel)}

    @property
    def work(self) -> Path:
        return self.root / "repo"

    def new_job(self) -> Job:
        """A runner's RUNNER_TEMP is one path, empty at the start of every job. Here it is one path
        for the session (beside the wheel; the tests of this file run one after another)."""
        temp = self.wheel.parent / "runner-temp"
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir()
        return Job(temp)

    def environment(
        self, *scopes: dict[str, Any], known: dict[str, str], job: Job, github: dict[str, str] | None = None
    ) -> dict[str, str]:
        """The step's environment; ``github`` holds the GITHUB_* variables the runner sets for the run."""
        env = {k: v for k, v in uv_environment().items() if not k.startswith(("SOPS_AGE_", "GITHUB_", "SMSOPS_"))}
        env |= github or {}
        env["PATH"] = runner_path(self.root / "bin", *reversed(job.path), self.tools)
        env.pop("VIRTUAL_ENV", None)
        # A runner compiles each job's smsops and its SDKs at first import. Here the bytecode is
        # kept outside RUNNER_TEMP, for speed only: each job's virtualenv has the same paths and the
        # same files from uv's cache, so later jobs reuse it, as a cache step would.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.wheel.parent / "pycache")
        env["RUNNER_TEMP"] = str(job.temp)
        for scope in scopes:
            env.update({key: evaluate(value, known) for key, value in (scope or {}).items()})
        return env

    def run_script(self, job: str, name: str, script: str, env: dict[str, str], runner: Job) -> StepRun:
        calls_file, outputs_file = self.root / "calls.tsv", self.root / "output.txt"
        programs_file, path_file = self.root / "programs.txt", self.root / "path.txt"
        for file in (calls_file, outputs_file, programs_file, path_file):
            file.write_text("")
        env |= {"SMSOPS_CALLS": str(calls_file), "SMSOPS_PROGRAMS": str(programs_file)}
        env |= {"GITHUB_OUTPUT": str(outputs_file), "GITHUB_PATH": str(path_file)}
        env |= {"GITHUB_STEP_SUMMARY": str(self.summary)}
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        runner.path.extend(path_file.read_text().splitlines())
        calls = []
        for line in calls_file.read_text().splitlines():
            rc, *argv = line.split("\t")
            calls.append((int(rc), argv))
        output = result.stdout + result.stderr
        run = StepRun(job, name, result.returncode, output, calls, outputs_file.read_text())
        run.programs = programs_file.read_text().splitlines()
        self.runs.append(run)
        return run

    def run_workflow(
        self,
        path: Path,
        *,
        inputs: dict[str, str] | None = None,
        github: dict[str, str] | None = None,
        succeeds: bool = True,
    ) -> list[StepRun]:
        """Each job's scripts in order. ``inputs`` are a dispatch's (``${{ inputs.* }}``). With
        ``succeeds`` every step must pass; without, a failed step is recorded and the job goes on as
        GitHub's would (only the steps whose `if:` holds after a failure), and no later job runs."""
        workflow = load(path)
        known = self.known | {f"inputs.{name}": value for name, value in (inputs or {}).items()}
        done: list[StepRun] = []
        failed = False
        for job_id, job in ordered_jobs(workflow["jobs"]):
            if failed:
                break
            runner = self.new_job()
            outcomes: dict[str, str] = {}
            for step in job.get("steps", []):
                if "run" not in step or step["run"].startswith("pip install"):
                    continue
                if not step_runs(step.get("if"), failed, outcomes):
                    outcomes[step.get("id", "")] = "skipped"
                    continue
                scopes = (workflow.get("env"), job.get("env"), step.get("env"))
                env = self.environment(*scopes, known=known, job=runner, github=github)
                # GitHub splices an expression into the script before bash reads it (the policy above
                # forbids that; were one there, the injection tests would see it run).
                script = evaluate(step["run"], known)
                run = self.run_script(job_id, step.get("name", ""), script, env, runner)
                outcomes[step.get("id", "")] = "success" if run.returncode == 0 else "failure"
                failed = failed or run.returncode != 0
                if succeeds:
                    assert run.returncode == 0, (
                        f"{path.name} {job_id} / {run.name}: exit {run.returncode}\n{run.output}"
                    )
                    assert_calls_match(step["run"], run)
                assert all(Path(p).is_relative_to(runner.temp / "smsops/bin") for p in run.programs), run.programs
                done.append(run)
        return done


def ordered_jobs(jobs: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Jobs in an order that respects `needs` (as GitHub runs them)."""
    ordered: list[tuple[str, dict[str, Any]]] = []
    placed: set[str] = set()
    while len(ordered) < len(jobs):
        for job_id, job in jobs.items():
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            if job_id not in placed and set(needs) <= placed:
                ordered.append((job_id, job))
                placed.add(job_id)
    return ordered


def assert_calls_match(script: str, run: StepRun) -> None:
    """Every smsops line of the script ran, in order, and exited as expected."""
    lines = smsops_lines(script)
    assert len(run.calls) == len(lines), (lines, run.calls)
    for line, (rc, argv) in zip(lines, run.calls, strict=True):
        assert argv[0] == smsops_command(line), (line, argv)
        expected = {0, 2} if "--detailed-exitcode" in argv else {0}
        assert rc in expected, f"`{line}` exited {rc}\n{run.output}"


# Break glass: who dispatches it, why, and the change it puts live without its gate.
DISPATCHER = "oncall-alice"
REASON = "INC-42: the test numbers' carrier is down"
ALERT = "sms-config/templates/alert-notification.yaml"


def dispatched(pipeline: Pipeline, *, ref: str = "refs/heads/main", rerun_by: str = "") -> dict[str, str]:
    """The GITHUB_* variables a runner sets for a workflow_dispatch run (those smsops and the workflow
    read): the ref and its commit, who dispatched it, and who started this attempt (a re-run's)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=pipeline.work, capture_output=True, text=True, check=True)
    return {
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_REF": ref,
        "GITHUB_SHA": head.stdout.strip(),
        "GITHUB_ACTOR": DISPATCHER,
        "GITHUB_TRIGGERING_ACTOR": rerun_by or DISPATCHER,
        "GITHUB_RUN_ID": "2",
    }


def by_hand(pipeline: Pipeline, *command: str) -> subprocess.CompletedProcess[str]:
    """A person's command in the config repository, with the key (git's identity: the config team's):
    this checkout's smsops, not a pipeline's, and not recorded as a step."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_AGE_", "GITHUB_", "SMSOPS_"))}
    env |= GIT_IDENTITY | {"SOPS_AGE_KEY": AGE_KEY, "SOPS_DISABLE_VERSION_CHECK": "1"}
    program = str(BIN / "smsops") if command[0] == "smsops" else command[0]
    done = subprocess.run(
        [program, *command[1:]], cwd=pipeline.work, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def merge_a_fix_whose_gate_cannot_pass(pipeline: Pipeline) -> None:
    """A fix to the alert text, merged to main and registered at the provider, which approves it at
    once (no review delay): the next apply would gate and promote it. Its gate is what cannot run (the
    test numbers' carrier is down), so it waits for break glass."""
    template = pipeline.work / ALERT
    template.write_text(template.read_text().replace("Started at {{ started }}.", "Since {{ started }}."))
    by_hand(pipeline, "git", "commit", "-q", "-am", "alert-notification: shorter, fits one segment")
    by_hand(pipeline, "smsops", "apply", "sms-config", "--channel", "sandbox", "--auto-approve")


@pytest.fixture(scope="module")
def gitops_loop(tmp_path_factory: pytest.TempPathFactory, smsops_wheel: Path) -> Pipeline:
    """The whole loop, once: PR -> merge (apply) -> scheduled reconcile; then a fix whose gate cannot
    pass, promoted by the break-glass workflow dispatched by the on-call engineer."""
    pipeline = Pipeline(tmp_path_factory.mktemp("pipeline"), smsops_wheel)
    # The embedded sandbox's account, made ahead with no review delay (it would be 2 s): `smsops wait`,
    # which checks every 10 s, then finds the versions approved on its first check instead of sleeping
    # 10 s. Waiting through a review is tested on a manual clock in tests/reconcile/test_status.py.
    state = pipeline.work / "sms-config/.smsops/sandbox"
    Sandbox(state).create_account("sandbox", provider="alibaba", behaviour=Behaviour(review_delay_s=0))
    for path in GITOPS_LOOP:
        pipeline.run_workflow(path)
    merge_a_fix_whose_gate_cannot_pass(pipeline)
    inputs = {"channel": "sandbox", "reason": REASON}
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


def test_each_job_installs_smsops_from_the_pin_into_its_own_runner_temp(gitops_loop: Pipeline) -> None:
    installs = [run for run in gitops_loop.runs if run.name == "Install smsops"]
    # pr: validate, plan-channel; apply: channels, apply; reconcile: channels, reconcile; break glass.
    jobs = ["validate", "plan-channel", "channels", "apply", "channels", "reconcile", "break-glass"]
    assert [run.job for run in installs] == jobs
    for run in installs:
        assert run.output == "smsops, version 0.1.0\n"
    # Nothing of smsops in the repository the pipelines ran in: they could not have used it.
    files = {path.name for path in gitops_loop.work.iterdir()}
    assert files == {".git", ".gitignore", ".sops.yaml", "sms-config", "plans", "smsops-out", "comment.md"}


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


def test_channel_lists_come_from_the_channel_documents(gitops_loop: Pipeline) -> None:
    listings = [run for run in gitops_loop.runs if run.name == "List channels"]
    assert len(listings) == 3
    for run in listings:
        assert run.outputs == f"channels={json.dumps(EXPECTED_CHANNELS)}\n"


def test_pull_request_comment_carries_the_marker_and_the_plan(gitops_loop: Pipeline) -> None:
    (combine,) = find(gitops_loop, "plan", "Combine the per-channel plans")
    assert combine.calls == []
    comment = (gitops_loop.work / "comment.md").read_text()
    assert comment.startswith("<!-- smsops-plan -->\n# smsops plan\n")
    assert "### Channel `sandbox` (sandbox)" in comment
    assert (
        "**Plan: 4 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete, 1 to record; 4 awaiting review.**"
        in (comment)
    )
    assert "https://github.example/example/sms-settings/actions/runs/1" in comment
    plan = json.loads((gitops_loop.work / "plans/plan-sandbox.json").read_text())
    assert plan["format_version"] == 1 and plan["channels"][0]["channel"] == "sandbox"
    # The github-script step finds its earlier comment by the same marker and edits it in place.
    steps = load(WORKFLOW_DIR / "sms-config-pr.yml")["jobs"]["plan"]["steps"]
    (github_script,) = [s["with"]["script"] for s in steps if s.get("uses", "").startswith("actions/github-script@")]
    assert "const marker = '<!-- smsops-plan -->';" in github_script
    assert "updateComment" in github_script and "createComment" in github_script


def test_merge_applies_gates_promotes_and_exports(gitops_loop: Pipeline) -> None:
    out = gitops_loop.work / "smsops-out"
    created = json.loads((out / "apply-report.json").read_text())
    # the adopted signature's baseline first (OnePro was made in the sandbox's console), then the templates
    assert [(r["action"], r["outcome"]) for r in created["results"]] == [("record", "done")] + [("create", "done")] * 4
    promoted = json.loads((out / "promote-report.json").read_text())
    # the four promotions, then the published config written in the same apply
    assert [(r["action"], r["outcome"]) for r in promoted["results"]] == [("promote", "done")] * 4 + [
        ("publish", "done")
    ]
    junit = (out / "junit.xml").read_text()
    assert 'failures="0" errors="0"' in junit and "<testcase " in junit
    runtime = json.loads((out / "runtime.json").read_text())
    templates = runtime["channels"]["sandbox"]["templates"]
    assert len(templates) == 4 and all(t["live"] for t in templates.values())
    (wait,) = find(gitops_loop, "apply", "Wait for the provider's review")
    assert "all 4 template(s) approved" in wait.output and "waiting for review" not in wait.output
    summary = gitops_loop.summary.read_text()
    assert "### Apply" in summary and "### Promote" in summary and "Gate passed on sandbox" in summary


def test_reconcile_finds_nothing_left_after_the_loop(gitops_loop: Pipeline) -> None:
    (drift,) = find(gitops_loop, "reconcile", "Detect drift")
    assert drift.calls[0][0] == 0
    assert "No drift: `sandbox` matches main." in gitops_loop.summary.read_text()


def test_the_key_is_never_printed(gitops_loop: Pipeline) -> None:
    secret = AGE_KEY.removeprefix("AGE-SECRET-KEY-")
    assert secret not in gitops_loop.summary.read_text()
    for run in gitops_loop.runs:
        assert secret not in run.output and secret not in run.outputs


def alert_versions(pipeline: Pipeline) -> list[Any]:
    """The sandbox's versions of alert-notification, oldest first."""
    account = Sandbox(pipeline.work / "sms-config/.smsops/sandbox").account("sandbox")
    versions = [t for t in account.templates() if t.name.startswith("alert-notification~")]
    return sorted(versions, key=lambda t: t.created_at)


def test_break_glass_promotes_with_no_send_and_records_who_dispatched_it_and_why(gitops_loop: Pipeline) -> None:
    work = gitops_loop.work
    old, new = alert_versions(gitops_loop)
    assert "Since ${started}." in new.content and "Started at" in old.content
    # promoted with no test send: the sandbox has none since the fix was registered
    account = Sandbox(work / "sms-config/.smsops/sandbox").account("sandbox")
    assert account.sends(since=new.created_at) == []
    assert len(account.sends()) > 0  # the loop's promotions went through their gate
    runtime = json.loads((work / "smsops-out/runtime.json").read_text())
    assert runtime["channels"]["sandbox"]["templates"]["alert-notification"]["code"] == new.code != old.code
    # the report names the reason, the person who dispatched the run and the commit it ran at
    commit = subprocess.run(["git", "log", "-1", "--format=%H", "--", ALERT], cwd=work, capture_output=True, text=True)
    report = json.loads((work / "smsops-out/break-glass-report.json").read_text())
    glass = report["break_glass"]
    assert (glass["reason"], glass["actor"], glass["commit"], glass["dirty"]) == (
        REASON,
        DISPATCHER,
        commit.stdout.strip(),
        False,
    )
    assert [address.split("~")[0] for address in glass["promoted"]] == ["sandbox/alert-notification"]
    assert report["actor"] == DISPATCHER
    (step,) = find(gitops_loop, "break-glass", "Apply, promoting without the test-send gate")
    sha = commit.stdout[:12]
    assert f"warning: --skip-gate: 1 promotion(s) without test sends: {REASON} ({DISPATCHER}, {sha})" in step.output
    assert (
        f"> :warning: test-send gate skipped for 1 promotion(s) by {DISPATCHER} at commit {sha}, reason: {REASON}"
    ) in gitops_loop.summary.read_text()
    # what an auditor sees later, from a laptop
    status = by_hand(gitops_loop, "smsops", "status", "sms-config", "--channel", "sandbox").stdout
    [line] = [line.strip() for line in status.splitlines() if "gate skipped" in line]
    assert line.startswith("! gate skipped ") and line.endswith(f" by {DISPATCHER} at commit {sha}: {REASON}")
    assert "1 live version(s) promoted without their test-send gate." in status


def copy_of(loop: Pipeline, where: Path) -> Pipeline:
    """A pipeline on a copy of the loop's repository and sandbox account as they stand, so that its
    runs leave the loop's record alone."""
    pipeline = Pipeline(where, loop.wheel)
    shutil.rmtree(pipeline.work)
    shutil.copytree(loop.work, pipeline.work, symlinks=True)
    return pipeline


def hostile(marker: Path) -> str:
    """Text that runs `touch marker` if any shell reads it as code, and starts a workflow command on a
    line of its own if anything prints it across lines."""
    return (
        f"$(touch {marker}) `touch {marker}` \"; touch {marker}; echo \" '; touch {marker}; ' "
        "\n::error title=injected::from an input"
    )


def test_a_dispatched_reason_is_recorded_as_text_never_run(
    gitops_loop: Pipeline, tmp_path: Path, smsops_wheel: Path
) -> None:
    """Dispatched, then re-run by another engineer: the reason reaches smsops as one argument and is
    recorded as it was typed (on one line); the actor is who started this attempt."""
    pipeline = copy_of(gitops_loop, tmp_path / "copy")
    marker = tmp_path / "injected"
    reason = hostile(marker)
    inputs = {"channel": "sandbox", "reason": reason}
    github = dispatched(pipeline, rerun_by="oncall-bob")
    runs = pipeline.run_workflow(BREAK_GLASS, inputs=inputs, github=github, succeeds=False)
    assert not marker.exists()
    assert [(run.name, run.returncode) for run in runs if run.returncode] == []
    (step,) = [run for run in runs if run.name == "Apply, promoting without the test-send gate"]
    [(rc, argv)] = step.calls
    at = argv.index("--reason")
    assert rc == 0 and argv[at + 2] == "--auto-approve", "one argument, whatever it holds"
    glass = json.loads((pipeline.work / "smsops-out/break-glass-report.json").read_text())["break_glass"]
    assert (glass["reason"], glass["actor"]) == (" ".join(reason.split()), "oncall-bob")
    assert glass["promoted"] == []  # the loop's break glass left nothing to promote
    printed = [line for run in runs for line in run.output.splitlines()]
    printed += pipeline.summary.read_text().splitlines()
    assert not [line for line in printed if line.startswith("::error title=injected")]


def test_a_dispatched_channel_is_text_never_run(gitops_loop: Pipeline, tmp_path: Path, smsops_wheel: Path) -> None:
    pipeline = copy_of(gitops_loop, tmp_path / "copy")
    before = [t.code for t in Sandbox(pipeline.work / "sms-config/.smsops/sandbox").account("sandbox").templates()]
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
    after = [t.code for t in Sandbox(pipeline.work / "sms-config/.smsops/sandbox").account("sandbox").templates()]
    assert after == before


def test_break_glass_runs_from_the_default_branch_only(tmp_path: Path, smsops_wheel: Path) -> None:
    pipeline = Pipeline(tmp_path, smsops_wheel)
    github = dispatched(pipeline, ref="refs/heads/try-this")
    runs = pipeline.run_workflow(
        BREAK_GLASS, inputs={"channel": "sandbox", "reason": REASON}, github=github, succeeds=False
    )
    # nothing after the check runs: not the install, not smsops, not the export
    assert [(run.name, run.returncode, run.calls) for run in runs] == [("Only from the default branch", 1, [])]
    assert runs[0].output.startswith(
        "::error title=break glass runs from main only::this run is on refs/heads/try-this"
    )


def test_drift_fails_the_reconcile_step_with_a_summary(gitops_loop: Pipeline) -> None:
    """A change in git that the provider does not have yet: the drift step exits 2 and shows it."""
    template = gitops_loop.work / "sms-config/templates/task-status.yaml"
    original = template.read_text()
    template.write_text(original.replace("finished with status", "ended with status"))
    try:
        drift_fails_the_reconcile_step(gitops_loop)
    finally:
        template.write_text(original)  # the loop's repository stays as main has it, for the tests after


def drift_fails_the_reconcile_step(gitops_loop: Pipeline) -> None:
    workflow = load(WORKFLOW_DIR / "sms-config-reconcile.yml")
    job = workflow["jobs"]["reconcile"]
    step = next(s for s in job["steps"] if s.get("name") == "Detect drift")
    runner = gitops_loop.new_job()
    install = install_step(job["steps"])
    env = gitops_loop.environment(workflow["env"], job["env"], known=gitops_loop.known, job=runner)
    assert gitops_loop.run_script("reconcile", install["name"], install["run"], env, runner).returncode == 0
    env = gitops_loop.environment(workflow["env"], job["env"], step["env"], known=gitops_loop.known, job=runner)
    run = gitops_loop.run_script("reconcile", "Detect drift", step["run"], env, runner)
    assert run.returncode == 2
    assert [rc for rc, _ in run.calls] == [2]
    assert "::error title=smsops drift::sandbox differs from main after reconcile" in run.output
    summary = gitops_loop.summary.read_text()
    assert "### :warning: Drift on `sandbox`" in summary
    assert "1 to create" in summary.split("Drift on `sandbox`")[1]
