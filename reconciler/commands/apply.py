"""`smsops apply`: execute a saved plan (refused when stale) or a fresh one."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.commands.options import check_output_paths, config_dir_argument, output_option
from reconciler.errors import EXIT_ERROR, EXIT_OK, SmsopsError
from reconciler.pipeline import compute_plan, load_valid_config
from reconciler.publish.export import publish_live
from reconciler.reconcile.apply import ChangeOutcome, ChangeResult, Gate, apply_plan, create_spacing
from reconciler.reconcile.changes import Plan
from reconciler.reconcile.desired import desired_channel
from reconciler.reconcile.lock import channel_locks
from reconciler.reconcile.observe import Session, open_session, state_dir
from reconciler.reconcile.report import ApplyReport, build_report, render_results, write_report
from reconciler.render.gate import render as render_gate
from reconciler.render.junit import junit_xml_suites
from reconciler.render.plan import render
from reconciler.render.progress import ProgressBar
from reconciler.verify.gate import make_gate
from reconciler.verify.results import GateProgress, GateResult

if TYPE_CHECKING:
    from reconciler.config.load import LoadedConfig

# The test-send gate's time: the real thing, which tests (and the demo, whose sandbox delivers in a
# second) replace, as in commands/wait.py. A None poll interval is the gate's default.
GATE_CLOCK: Callable[[], float] = time.monotonic
GATE_SLEEP: Callable[[float], None] = time.sleep
GATE_POLL_INTERVAL_S: float | None = None


@click.command(name="apply")
@config_dir_argument
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Saved plan.")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable). Default: all.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (required when not on a terminal).")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path), help="Write a JSON report.")
@click.option(
    "--junit",
    "junit_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the gate's sends as JUnit XML.",
)
@output_option
def command(
    config_dir: str,
    plan_file: Path | None,
    channels: tuple[str, ...],
    auto_approve: bool,
    report_file: Path | None,
    junit_file: Path | None,
    output: str,
) -> int:
    """Apply the plan: create, update, promote, retire and delete templates."""
    started = datetime.now(UTC)
    check_output_paths(report=report_file, junit=junit_file)
    config = load_valid_config(config_dir)
    saved = _read_plan(plan_file) if plan_file is not None else None
    if saved is not None:
        channels = channels or tuple(c.channel for c in saved.channels)

    def note(message: str) -> None:
        click.echo(message, err=True)

    gates: list[GateResult] = []
    results: list[ChangeResult] = []
    with open_session(config, channels) as session:
        selected = [c.resource.name for c in session.channels]
        # One apply per channel at a time: the lock is held from planning to the last change.
        with channel_locks(state_dir(config) / "locks", selected, notify=note):
            plan = saved or compute_plan(session, config_dir=config_dir)
            if output == "text":
                click.echo(render(plan, "text", colour=sys.stdout.isatty()), nl=False)
            if plan.has_changes:
                if not auto_approve and not _confirmed(plan, output):
                    click.echo("Nothing applied.")
                    return EXIT_OK
                results = _apply(session, config, plan, check_digest=saved is not None, gates=gates)
    report = build_report(config_dir, results, started, gates=gates)
    _write_files(report, gates, report_file=report_file, junit_file=junit_file)
    _print(report, plan, results, gates, output)
    # A blocked channel (not observable, signature missing) had nothing applied: not a success.
    failed = plan.blockers or any(r.outcome is ChangeOutcome.FAILED for r in results)
    return EXIT_ERROR if failed else EXIT_OK


def _read_plan(plan_file: Path) -> Plan:
    """The saved plan, or a clear error when the file is not one this version wrote."""
    try:
        return Plan.model_validate_json(plan_file.read_text(encoding="utf-8"))
    except ValueError as error:
        raise SmsopsError(
            f"{plan_file} is not a plan this smsops can read ({type(error).__name__})",
            hint="write plans with `smsops plan --out FILE` from the same smsops version",
        ) from None


def _confirmed(plan: Plan, output: str) -> bool:
    """Ask on the terminal whether to apply; without a terminal there is nobody to ask: an error."""
    if not sys.stdin.isatty():
        raise SmsopsError(
            "apply needs confirmation and there is no terminal to ask on",
            hint="review the plan, then run again with --auto-approve",
        )
    if output != "text":  # the report format goes to stdout; the plan to review goes with the question
        click.echo(render(plan, "text", colour=sys.stderr.isatty()), nl=False, err=True)
    return click.confirm("Apply these changes?", default=False, err=output != "text")


def _apply(
    session: Session, config: LoadedConfig, plan: Plan, *, check_digest: bool, gates: list[GateResult]
) -> list[ChangeResult]:
    """Apply ``plan`` to the session's channels, behind a progress bar; the gate's results go to ``gates``."""
    desired = {c.resource.name: desired_channel(config, c) for c in session.channels}
    located = {c.resource.name: c for c in session.channels}
    bar = ProgressBar(sum(1 for c in plan.changes if c.action.value != "noop"))
    results = apply_plan(
        plan.model_copy(update={"channels": tuple(c for c in plan.channels if c.channel in desired)}),
        session.providers,
        lambda name: session.observe(desired[name]),
        marks=session.marks,
        publish=lambda name: publish_live(session, config, located[name], now=datetime.now(UTC)),
        check_digest=check_digest,
        spacing={
            c.resource.name: create_spacing(
                session.provider(c.resource.name).name, c.resource.spec.rollout.create_spacing
            )
            for c in session.channels
        },
        progress=bar,
        gate=_gate(session, config, bar, gates),
    )
    bar.close()
    return results


def _write_files(
    report: ApplyReport, gates: list[GateResult], *, report_file: Path | None, junit_file: Path | None
) -> None:
    """The JSON report and the gate's sends as JUnit XML, where asked for."""
    if report_file is not None:
        write_report(report, report_file)
    if junit_file is not None:
        junit_file.parent.mkdir(parents=True, exist_ok=True)
        junit_file.write_text(junit_xml_suites(gates), encoding="utf-8")


def _print(report: ApplyReport, plan: Plan, results: list[ChangeResult], gates: list[GateResult], output: str) -> None:
    """The outcome on stdout: the report itself as json, else the plan (text showed it before applying),
    the gate's sends and the result of each change."""
    if output == "json":
        click.echo(report.model_dump_json(indent=2))
        return
    if output in ("markdown", "github"):
        click.echo(render(plan, output), nl=False)
    if output in ("text", "markdown"):
        for gate in gates:  # the test sends that decided promotions
            click.echo(render_gate(gate, output), nl=False)
    click.echo(render_results(results, output), nl=False)


def _gate(session: Session, config: LoadedConfig, bar: ProgressBar, gates: list[GateResult]) -> Gate | None:
    """The test-send gate (``reconciler.verify.gate``) when any selected channel declares testSend; its
    waits go to the progress bar and its results into the apply report."""
    if not any(c.resource.spec.test_send for c in session.channels):
        return None

    def progress(where: GateProgress) -> None:
        if where.waiting_s > 0:
            bar.wait(f"test-send gate: {where.message}", where.waiting_s)

    return make_gate(
        session,
        config,
        on_result=gates.append,
        progress=progress,
        clock=GATE_CLOCK,
        sleep=GATE_SLEEP,
        poll_interval=GATE_POLL_INTERVAL_S,
    )
