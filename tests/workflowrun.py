"""Runs the shipped GitHub Actions workflows' scripts as a runner would, for tests/test_workflows*.py
and tests/test_action.py.

Each job runs its ``run:`` scripts in order, with bash as GitHub runs them (``bash --noprofile --norc
-eo pipefail``), and starts as a hosted runner does, empty: an empty RUNNER_TEMP, PATH without this
checkout's virtualenv, and an empty workspace, into which its ``actions/checkout`` step clones the
config repository (``Pipeline.origin``, a bare repository holding what a team's has: ``sms-config/``,
``.sops.yaml`` and ``.gitignore``, no pyproject). Nothing a job leaves in its workspace reaches a
later job except through an artifact (``actions/upload-artifact`` copies into ``Pipeline.artifacts``,
``actions/download-artifact`` copies back), as on GitHub. What must outlive a job lives where it
would for a team: at the provider and in the durable publish target, which the tests serve over
loopback (``Pipeline.aws`` is the environment the job's AWS credentials step would give).

The job's own "Install smsops" step runs for real (uv, offline from its cache, installing the wheel
that ``vars.SMSOPS_VERSION`` names) and what it appends to GITHUB_PATH is on PATH for the job's later
steps. A ``smsops`` shim in front records every invocation, its exit code and which smsops ran.
Other ``uses:`` actions, and ``pip install`` (of uv), are not run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.configonly import make_config_repo, runner_path, tools_dir, uv_environment

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"
ACTION = ROOT / "action.yml"
BREAK_GLASS = WORKFLOW_DIR / "sms-config-break-glass.yml"
# The pipelines a team copies: the GitOps loop, in the order a change goes through it, then the
# break-glass workflow a person dispatches.
GITOPS_LOOP = [WORKFLOW_DIR / f"sms-config-{name}.yml" for name in ("pr", "apply", "reconcile")]
SMS_CONFIG_WORKFLOWS = [*GITOPS_LOOP, BREAK_GLASS]
AGE_KEY = "\n".join(
    line for line in (ROOT / "sms-config/keys/sandbox.agekey").read_text().splitlines() if not line.startswith("#")
)
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# The channel the run tests' matrices hold: the one whose provider and publish target the tests
# serve (the shipped example's other channels need real accounts).
MATRIX_CHANNEL = "ci"
# What a checkout holds: the config repository's files, nothing of smsops.
CHECKED_OUT = {".git", ".gitignore", ".sops.yaml", "sms-config"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


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


def install_step(steps: list[dict[str, Any]]) -> dict[str, Any]:
    (step,) = [step for step in steps if step.get("name") == "Install smsops"]
    return step


# The expressions the scripts' environments use, as they evaluate on the happy path in these tests
# (plus `vars.SMSOPS_VERSION`, the wheel, which `Pipeline` adds).
KNOWN_EXPRESSIONS = {
    "matrix.channel": MATRIX_CHANNEL,
    "secrets.SOPS_AGE_KEY": AGE_KEY,
    "needs.plan-channel.result": "success",
    "github.server_url": "https://github.example",
    "github.repository": "example/sms-settings",
    "github.run_id": "1",
    "github.run_attempt": "1",
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
# The conditions of the artifact uploads: both hold in a run nobody cancels.
UPLOAD_CONDITIONS = {"always()", "${{ !cancelled() }}"}


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
    """What a runner keeps between the steps of one job: RUNNER_TEMP, what GITHUB_PATH added, and
    the workspace (empty until the checkout; ``checked_out`` lists what the checkout put there)."""

    name: str
    temp: Path
    workspace: Path
    path: list[str] = field(default_factory=list)
    checked_out: set[str] | None = None


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


@dataclass
class Pipeline:
    """Runs workflow scripts against the config repository ``origin``, each job on a fresh runner.
    Pipelines made with the same ``origin`` and ``aws`` act on the same repository and targets."""

    root: Path
    wheel: Path
    origin: Path | None = None
    aws: dict[str, str] = field(default_factory=dict)
    runs: list[StepRun] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.origin is None:
            made = make_config_repo(self.root / "made")
            self.origin = self.root / "origin.git"
            subprocess.run(["git", "clone", "-q", "--bare", str(made), str(self.origin)], check=True, timeout=60)
            shutil.rmtree(made)
        shim = self.root / "bin/smsops"
        shim.parent.mkdir(parents=True)
        shim.write_text(SHIM)
        shim.chmod(0o755)
        self.tools = tools_dir(self.root / "tools")
        self.artifacts = self.root / "artifacts"
        self.summary = self.root / "summary.md"
        self.summary.touch()
        self.known = KNOWN_EXPRESSIONS | {"vars.SMSOPS_VERSION": str(self.wheel)}

    @property
    def repository(self) -> Path:
        assert self.origin is not None
        return self.origin

    def clone(self, where: Path) -> Path:
        """A fresh clone of the config repository's main (what actions/checkout gives, or a laptop has)."""
        subprocess.run(["git", "clone", "-q", str(self.repository), str(where)], check=True, timeout=60)
        return where

    def workspace(self, job: str) -> Path:
        """The workspace of the last job of that name."""
        return next(run.workspace for run in reversed(self.jobs) if run.name == job)

    def new_job(self, name: str = "job", *, checkout: bool = True) -> Job:
        """A runner's RUNNER_TEMP is one path, empty at the start of every job. Here it is one path
        for the session (beside the wheel; the tests of a file run one after another). The workspace
        is new; with ``checkout`` the job's checkout is done at once."""
        temp = self.wheel.parent / "runner-temp"
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir()
        workspace = self.root / "workspaces" / f"{len(self.jobs) + 1}-{name}"
        workspace.mkdir(parents=True)
        job = Job(name, temp, workspace)
        self.jobs.append(job)
        if checkout:
            self.checkout(job)
        return job

    def checkout(self, job: Job) -> None:
        self.clone(job.workspace)
        job.checked_out = {path.name for path in job.workspace.iterdir()}

    def upload(self, job: Job, name: str, path: str) -> None:
        source = job.workspace / path
        if source.exists():
            shutil.copytree(source, self.artifacts / name, dirs_exist_ok=True)

    def download(self, job: Job, pattern: str, path: str) -> None:
        """``merge-multiple: true``: every matching artifact's files into one directory."""
        for artifact in sorted(self.artifacts.glob(pattern)):
            shutil.copytree(artifact, job.workspace / path, dirs_exist_ok=True)

    def environment(
        self, *scopes: dict[str, Any], known: dict[str, str], job: Job, github: dict[str, str] | None = None
    ) -> dict[str, str]:
        """The step's environment; ``github`` holds the GITHUB_* variables the runner sets for the run."""
        mine = ("SOPS_AGE_", "GITHUB_", "SMSOPS_", "AWS_")
        env = {k: v for k, v in uv_environment().items() if not k.startswith(mine)}
        env |= self.aws | (github or {})
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
        env |= {"GITHUB_STEP_SUMMARY": str(self.summary), "GITHUB_WORKSPACE": str(runner.workspace)}
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=runner.workspace,
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

    def run_action(self, step: dict[str, Any], known: dict[str, str], job: Job) -> None:
        """The ``uses:`` steps that carry files: the checkout, and artifacts between jobs."""
        action = step["uses"].partition("@")[0]
        given = {key: evaluate(value, known) for key, value in step.get("with", {}).items()}
        if action == "actions/checkout":
            self.checkout(job)
        elif action == "actions/upload-artifact":
            self.upload(job, given["name"], given["path"])
        elif action == "actions/download-artifact":
            assert given["merge-multiple"] == "True", given
            self.download(job, given["pattern"], given["path"])

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
        with_known = known | {f"env.{key}": str(value) for key, value in workflow.get("env", {}).items()}
        done: list[StepRun] = []
        failed = False
        for job_id, job in ordered_jobs(workflow["jobs"]):
            if failed:
                break
            runner = self.new_job(job_id, checkout=False)
            outcomes: dict[str, str] = {}
            for step in job.get("steps", []):
                if "uses" in step:
                    action = step["uses"].partition("@")[0]
                    if action == "actions/upload-artifact":
                        assert step.get("if") in UPLOAD_CONDITIONS, step
                        self.run_action(step, with_known, runner)
                    elif action in ("actions/checkout", "actions/download-artifact"):
                        assert "if" not in step, step
                        if not failed:
                            self.run_action(step, with_known, runner)
                    continue
                if step["run"].startswith("pip install"):
                    continue
                if not step_runs(step.get("if"), failed, outcomes):
                    outcomes[step.get("id", "")] = "skipped"
                    continue
                scopes = (workflow.get("env"), job.get("env"), step.get("env"))
                env = self.environment(*scopes, known=known, job=runner, github=github)
                # GitHub splices an expression into the script before bash reads it (the policy
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
