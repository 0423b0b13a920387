"""The GitHub Actions pipelines: linted, schema-checked and held to a few policies.

tests/test_workflows_run.py runs them (tests/workflowrun.py is how); tests/test_action.py runs action.yml.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.workflowrun import (
    ACTION,
    BREAK_GLASS,
    EXPR,
    ROOT,
    SMS_CONFIG_WORKFLOWS,
    WORKFLOW_DIR,
    install_step,
    load,
    run_steps,
    smsops_lines,
)

WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
BIN = Path(sys.executable).parent


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    value: dict[str, Any] = workflow.get("on", workflow.get(True))
    return value


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
