"""The composite action (action.yml) run as a runner runs it: its install step, then its smsops step,
with smsops from the built wheel (``tests.test_workflows_run`` runs the workflows; a file of its own so
that xdist runs the two side by side)."""

from __future__ import annotations

from pathlib import Path

from tests.configonly import smsops_wheel_fixture  # noqa: F401
from tests.workflowrun import ACTION, AGE_KEY, Pipeline, StepRun, install_step, load


def run_action(pipeline: Pipeline, inputs: dict[str, str]) -> StepRun:
    """The action's install step, then its smsops step, in one job. `github.action_path` is a copy of
    the package files (what a runner checks out for `uses: OWNER/smsops@COMMIT`), beside the wheel."""
    metadata = load(ACTION)
    defaults = {name: str(spec.get("default", "")) for name, spec in metadata["inputs"].items()}
    values = defaults | inputs
    known = {f"inputs.{name}": value for name, value in values.items()}
    action_path = pipeline.wheel.parent.parent / "src"
    known["inputs.smsops-version || github.action_path"] = values["smsops-version"] or str(action_path)
    runner = pipeline.new_job()
    install = install_step(metadata["runs"]["steps"])
    env = pipeline.environment(install["env"], known=known, job=runner)
    installed = pipeline.run_script("action", install["name"], install["run"], env, runner)
    assert installed.returncode == 0, installed.output
    step = next(s for s in metadata["runs"]["steps"] if s.get("id") == "smsops")
    env = pipeline.environment(step["env"], known=known, job=runner)
    run = pipeline.run_script("action", step["name"], step["run"], env, runner)
    assert all(Path(p).is_relative_to(runner.temp / "smsops/bin") for p in run.programs), run.programs
    return run


def test_action_runs_smsops_and_reports_the_exit_code(tmp_path: Path, smsops_wheel: Path) -> None:
    pipeline = Pipeline(tmp_path, smsops_wheel)
    # Without smsops-version: the smsops of the action's own files.
    run = run_action(pipeline, {"command": "validate", "args": "--output github"})
    assert (run.returncode, run.outputs) == (0, "exit-code=0\n")
    assert [argv for _, argv in run.calls] == [["validate", "sms-config", "--output", "github"]]

    plan = {"command": "plan", "channel": "sandbox", "args": "--detailed-exitcode --output json", "age-key": AGE_KEY}
    plan["smsops-version"] = str(smsops_wheel)
    run = run_action(pipeline, plan)
    assert (run.returncode, run.outputs) == (2, "exit-code=2\n")
    assert run.calls[0][1] == ["plan", "sms-config", "--channel", "sandbox", "--detailed-exitcode", "--output", "json"]
    run = run_action(pipeline, plan | {"allowed-exit-codes": "0 2"})
    assert (run.returncode, run.outputs) == (0, "exit-code=2\n")


def test_action_without_a_key_fails_with_a_message(tmp_path: Path, smsops_wheel: Path) -> None:
    inputs = {"command": "plan", "channel": "sandbox", "smsops-version": str(smsops_wheel)}
    run = run_action(Pipeline(tmp_path, smsops_wheel), inputs)
    assert (run.returncode, run.outputs) == (1, "exit-code=1\n")
    assert "Traceback" not in run.output
    assert "sandbox.enc.yaml" in run.output
