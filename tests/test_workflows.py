"""The GitHub Actions pipelines: linted, schema-checked, held to a few policies, and run.

The run tests execute the workflows' own ``run:`` scripts, in job order, with bash as GitHub runs them
(``bash --noprofile --norc -eo pipefail``), against a copy of sms-config/ and the embedded sandbox:
pull request -> push to main -> reconcile, so the sandbox account carries state from one to the next
like a real one. ``${{ matrix.channel }}`` is ``sandbox``; the SOPS_AGE_KEY secret is the committed
test-only key. A ``smsops`` shim on PATH records every invocation and its exit code, so each smsops
line of each script is proven to run and to exit as expected. Steps that are ``uses:`` actions, and
``pip install``, are not run here (smsops is already installed in this environment).
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

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
ACTION = ROOT / "action.yml"
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


def smsops_lines(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if line.strip().startswith("smsops ")]


# -- linters ---------------------------------------------------------------------------------------


def test_actionlint_passes_on_every_workflow() -> None:
    assert {p.name for p in WORKFLOWS} >= {
        "ci.yml",
        "sms-config-pr.yml",
        "sms-config-apply.yml",
        "sms-config-reconcile.yml",
    }
    result = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", "-oneline", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_actionlint_checks_action_yml_through_its_use_in_ci(tmp_path: Path) -> None:
    """actionlint reads action.yml where a workflow uses `./` (ci.yml does): a misspelled input, or
    broken metadata, fails. This shows the passing run above really covered action.yml."""
    (tmp_path / ".github/workflows").mkdir(parents=True)
    shutil.copy(ACTION, tmp_path / "action.yml")
    ci = (WORKFLOW_DIR / "ci.yml").read_text()
    assert "uses: ./\n" in ci and "config-dir: sms-config" in ci
    (tmp_path / ".github/workflows/ci.yml").write_text(ci.replace("config-dir: sms-config", "config-dri: sms-config"))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    result = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", "-oneline", ".github/workflows/ci.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert 'input "config-dri" is not defined in action "smsops"' in result.stdout


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
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}
    for job_id, job in workflow["jobs"].items():
        if path.name == "sms-config-pr.yml" and job_id == "plan":
            assert job["permissions"] == {"pull-requests": "write"}
        else:
            assert "permissions" not in job, job_id


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_actions_are_pinned_to_a_major_version(path: Path) -> None:
    data = load(path)
    steps = data["runs"]["steps"] if "runs" in data else [s for j in data["jobs"].values() for s in j.get("steps", [])]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses
    for ref in uses:
        assert ref == "./" or re.fullmatch(r"actions/[a-z-]+@v\d+", ref), ref


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


def test_applies_are_serialised_per_channel() -> None:
    for name, job_id in (("sms-config-apply.yml", "apply"), ("sms-config-reconcile.yml", "reconcile")):
        job = load(WORKFLOW_DIR / name)["jobs"][job_id]
        assert job["concurrency"] == {"group": "smsops-apply-${{ matrix.channel }}", "cancel-in-progress": False}
        assert job["strategy"]["fail-fast"] is False


def test_required_checks_have_stable_names() -> None:
    """Branch protection requires `validate` and `plan`; matrix job names change with the channels."""
    jobs = load(WORKFLOW_DIR / "sms-config-pr.yml")["jobs"]
    assert jobs["validate"]["name"] == "validate"
    assert jobs["plan"]["name"] == "plan"
    assert set(jobs["plan"]["needs"]) == {"validate", "plan-channel"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_pip_cache_is_keyed_to_pyproject(path: Path) -> None:
    """setup-python's pip cache looks for requirements.txt by default and fails the job without one."""
    for job in load(path)["jobs"].values():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/setup-python@") and step["with"].get("cache") == "pip":
                assert step["with"]["cache-dependency-path"] == "pyproject.toml"
                assert (ROOT / "pyproject.toml").exists()


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

# The expressions the scripts' environments use, as they evaluate on the happy path in this test.
KNOWN_EXPRESSIONS = {
    "matrix.channel": "sandbox",
    "secrets.SOPS_AGE_KEY": AGE_KEY,
    "needs.plan-channel.result": "success",
    "github.server_url": "https://github.example",
    "github.repository": "example/sms-settings",
    "github.run_id": "1",
}
# Step conditions on the happy path (an unknown one fails the test: decide it here).
KNOWN_CONDITIONS = {
    "${{ !cancelled() }}": True,
    "needs.plan-channel.result != 'success' && needs.plan-channel.result != 'skipped'": False,
}


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


@dataclass
class Pipeline:
    """Runs workflow scripts in a scratch checkout: sms-config/ copied, a recording smsops shim."""

    root: Path
    runs: list[StepRun] = field(default_factory=list)

    def __post_init__(self) -> None:
        shutil.copytree(ROOT / "sms-config", self.root / "repo/sms-config", ignore=shutil.ignore_patterns(".smsops"))
        shim = self.root / "bin/smsops"
        shim.parent.mkdir()
        shim.write_text(
            "#!/usr/bin/env bash\n"
            f'rc=0; "{BIN / "smsops"}" "$@" || rc=$?\n'
            'printf "%s" "$rc" >> "$SMSOPS_CALLS"; printf "\\t%s" "$@" >> "$SMSOPS_CALLS"; echo >> "$SMSOPS_CALLS"\n'
            'exit "$rc"\n'
        )
        shim.chmod(0o755)
        self.summary = self.root / "summary.md"
        self.summary.touch()

    @property
    def work(self) -> Path:
        return self.root / "repo"

    def environment(self, *scopes: dict[str, Any], known: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_AGE_", "GITHUB_", "SMSOPS_"))}
        env["PATH"] = f"{self.root / 'bin'}{os.pathsep}{BIN}{os.pathsep}{env.get('PATH', '')}"
        for scope in scopes:
            env.update({key: evaluate(value, known) for key, value in (scope or {}).items()})
        return env

    def run_script(self, job: str, name: str, script: str, env: dict[str, str]) -> StepRun:
        calls_file, outputs_file = self.root / "calls.tsv", self.root / "output.txt"
        calls_file.write_text("")
        outputs_file.write_text("")
        env |= {"SMSOPS_CALLS": str(calls_file), "GITHUB_OUTPUT": str(outputs_file)}
        env |= {"GITHUB_STEP_SUMMARY": str(self.summary), "RUNNER_TEMP": str(self.root)}
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        calls = []
        for line in calls_file.read_text().splitlines():
            rc, *argv = line.split("\t")
            calls.append((int(rc), argv))
        run = StepRun(job, name, result.returncode, result.stdout + result.stderr, calls, outputs_file.read_text())
        self.runs.append(run)
        return run

    def run_workflow(self, path: Path) -> list[StepRun]:
        workflow = load(path)
        done: list[StepRun] = []
        for job_id, job in ordered_jobs(workflow["jobs"]):
            for step in job.get("steps", []):
                if "run" not in step or step["run"].startswith("pip install"):
                    continue
                condition = step.get("if")
                if condition is not None:
                    assert condition in KNOWN_CONDITIONS, f"unknown condition {condition!r}: add it to the test"
                    if not KNOWN_CONDITIONS[condition]:
                        continue
                env = self.environment(workflow.get("env"), job.get("env"), step.get("env"), known=KNOWN_EXPRESSIONS)
                run = self.run_script(job_id, step.get("name", ""), step["run"], env)
                assert run.returncode == 0, f"{path.name} {job_id} / {run.name}: exit {run.returncode}\n{run.output}"
                assert_calls_match(step["run"], run)
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
        assert argv[0] == line.split()[1], (line, argv)
        expected = {0, 2} if "--detailed-exitcode" in argv else {0}
        assert rc in expected, f"`{line}` exited {rc}\n{run.output}"


@pytest.fixture(scope="module")
def gitops_loop(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The whole loop, once: PR -> merge (apply) -> scheduled reconcile."""
    pipeline = Pipeline(tmp_path_factory.mktemp("pipeline"))
    # The embedded sandbox's account, made ahead with no review delay (it would be 2 s): `smsops wait`,
    # which checks every 10 s, then finds the versions approved on its first check instead of sleeping
    # 10 s. Waiting through a review is tested on a manual clock in tests/reconcile/test_status.py.
    state = pipeline.work / "sms-config/.smsops/sandbox"
    Sandbox(state).create_account("sandbox", provider="alibaba", behaviour=Behaviour(review_delay_s=0))
    for name in ("sms-config-pr.yml", "sms-config-apply.yml", "sms-config-reconcile.yml"):
        pipeline.run_workflow(WORKFLOW_DIR / name)
    return pipeline


def find(pipeline: Pipeline, job: str, name: str) -> list[StepRun]:
    return [run for run in pipeline.runs if run.job == job and run.name == name]


def test_every_smsops_line_in_the_pipelines_ran(gitops_loop: Pipeline) -> None:
    ran = [" ".join(argv[:1]) for run in gitops_loop.runs for _, argv in run.calls]
    expected = [
        line.split()[1]
        for name in ("sms-config-pr.yml", "sms-config-apply.yml", "sms-config-reconcile.yml")
        for _, step in run_steps(WORKFLOW_DIR / name)
        for line in smsops_lines(step["run"])
    ]
    assert ran == expected
    assert expected == [
        *("validate", "plan"),
        *("validate", "plan", "apply", "wait", "apply", "export"),
        *("apply", "export", "plan"),
    ]


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
    assert "**Plan: 4 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete; 4 awaiting review.**" in comment
    assert "https://github.example/example/sms-settings/actions/runs/1" in comment
    plan = json.loads((gitops_loop.work / "plans/plan-sandbox.json").read_text())
    assert plan["format_version"] == 1 and plan["channels"][0]["channel"] == "sandbox"
    # The github-script step finds its earlier comment by the same marker and edits it in place.
    steps = load(WORKFLOW_DIR / "sms-config-pr.yml")["jobs"]["plan"]["steps"]
    (github_script,) = [s["with"]["script"] for s in steps if s.get("uses") == "actions/github-script@v8"]
    assert "const marker = '<!-- smsops-plan -->';" in github_script
    assert "updateComment" in github_script and "createComment" in github_script


def test_merge_applies_gates_promotes_and_exports(gitops_loop: Pipeline) -> None:
    out = gitops_loop.work / "smsops-out"
    created = json.loads((out / "apply-report.json").read_text())
    assert [(r["action"], r["outcome"]) for r in created["results"]] == [("create", "done")] * 4
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


def test_drift_fails_the_reconcile_step_with_a_summary(gitops_loop: Pipeline) -> None:
    """A change in git that the provider does not have yet: the drift step exits 2 and shows it."""
    template = gitops_loop.work / "sms-config/templates/task-status.yaml"
    template.write_text(template.read_text().replace("finished with status", "ended with status"))
    workflow = load(WORKFLOW_DIR / "sms-config-reconcile.yml")
    job = workflow["jobs"]["reconcile"]
    step = next(s for s in job["steps"] if s.get("name") == "Detect drift")
    env = gitops_loop.environment(workflow["env"], job["env"], step["env"], known=KNOWN_EXPRESSIONS)
    run = gitops_loop.run_script("reconcile", "Detect drift", step["run"], env)
    assert run.returncode == 2
    assert [rc for rc, _ in run.calls] == [2]
    assert "::error title=smsops drift::sandbox differs from main after reconcile" in run.output
    summary = gitops_loop.summary.read_text()
    assert "### :warning: Drift on `sandbox`" in summary
    assert "1 to create" in summary.split("Drift on `sandbox`")[1]


# -- the composite action's script -----------------------------------------------------------------


def run_action(pipeline: Pipeline, inputs: dict[str, str]) -> StepRun:
    metadata = load(ACTION)
    defaults = {name: str(spec.get("default", "")) for name, spec in metadata["inputs"].items()}
    known = {f"inputs.{name}": value for name, value in (defaults | inputs).items()}
    step = next(s for s in metadata["runs"]["steps"] if s.get("id") == "smsops")
    env = pipeline.environment(step["env"], known=known)
    return pipeline.run_script("action", step["name"], step["run"], env)


def test_action_runs_smsops_and_reports_the_exit_code(tmp_path: Path) -> None:
    pipeline = Pipeline(tmp_path)
    run = run_action(pipeline, {"command": "validate", "args": "--output github"})
    assert (run.returncode, run.outputs) == (0, "exit-code=0\n")
    assert [argv for _, argv in run.calls] == [["validate", "sms-config", "--output", "github"]]

    plan = {"command": "plan", "channel": "sandbox", "args": "--detailed-exitcode --output json", "age-key": AGE_KEY}
    run = run_action(pipeline, plan)
    assert (run.returncode, run.outputs) == (2, "exit-code=2\n")
    assert run.calls[0][1] == ["plan", "sms-config", "--channel", "sandbox", "--detailed-exitcode", "--output", "json"]
    run = run_action(pipeline, plan | {"allowed-exit-codes": "0 2"})
    assert (run.returncode, run.outputs) == (0, "exit-code=2\n")


def test_action_without_a_key_fails_with_a_message(tmp_path: Path) -> None:
    run = run_action(Pipeline(tmp_path), {"command": "plan", "channel": "sandbox"})
    assert (run.returncode, run.outputs) == (1, "exit-code=1\n")
    assert "Traceback" not in run.output
    assert "sandbox.enc.yaml" in run.output
