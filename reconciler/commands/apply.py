"""`smsops apply`: execute a saved plan (refused when stale) or a fresh one."""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.commands.interrupt import exit_code, signal_name, terminate_as_interrupt
from reconciler.commands.options import (
    check_output_paths,
    config_dir_argument,
    output_file_option,
    output_option,
    skip_gate_options,
    skip_gate_reason,
    write_output,
)
from reconciler.errors import EXIT_ERROR, EXIT_OK, SmsopsError
from reconciler.pipeline import block_unopened, compute_plan, load_valid_config
from reconciler.providers.traits import traits
from reconciler.publish.export import publish_live
from reconciler.publish.lease import Lease, channel_leases, default_owner
from reconciler.publish.store import channel_store
from reconciler.reconcile.apply import ChangeOutcome, ChangeResult, Gate, apply_plan, create_spacing
from reconciler.reconcile.breakglass import BreakGlass
from reconciler.reconcile.changes import Action, Plan
from reconciler.reconcile.desired import desired_channel
from reconciler.reconcile.lock import channel_locks
from reconciler.reconcile.observe import Session, open_session, state_dir
from reconciler.reconcile.owner import named_on_account
from reconciler.reconcile.report import (
    ApplyReport,
    breaking_glass,
    build_report,
    render_break_glass,
    render_results,
    render_unfinished,
    report_json,
)
from reconciler.render.gate import render as render_gate
from reconciler.render.junit import junit_xml_suites
from reconciler.render.plan import render
from reconciler.render.progress import ProgressBar
from reconciler.secrets.redact import redact
from reconciler.verify.gate import make_gate
from reconciler.verify.results import GateProgress, GateResult

if TYPE_CHECKING:
    from reconciler.config.load import LoadedConfig

# The test-send gate's time: the real thing, which tests (and the demo, whose sandbox delivers in a
# second) replace, as in commands/wait.py. A None poll interval is the gate's default.
GATE_CLOCK: Callable[[], float] = time.monotonic
GATE_SLEEP: Callable[[float], None] = time.sleep
GATE_POLL_INTERVAL_S: float | None = None


@dataclass
class _Done:
    """What this apply has got to, kept as it goes: an apply that fails or is interrupted reports it."""

    plan: Plan | None = None  # what is being applied (the selected channels only)
    results: list[ChangeResult] = field(default_factory=list)
    gates: list[GateResult] = field(default_factory=list)
    under_way: str = ""  # the change started and not finished
    gate_under_way: str = ""  # where a test-send gate run that has not finished is
    break_glass: BreakGlass | None = None  # --skip-gate: promote without the test-send gate, and why
    # keeps the apply leases of the channels being applied (renewed as changes start)
    renew: Callable[[], None] = lambda: None

    def step(self, message: str) -> None:
        self.under_way = message
        self.renew()

    def result(self, result: ChangeResult) -> None:
        self.results.append(result)
        self.under_way = ""

    def gate_step(self, message: str) -> None:
        self.gate_under_way = f"test-send gate: {message}"

    def gate_result(self, result: GateResult) -> None:
        self.gates.append(result)
        self.gate_under_way = ""

    def not_started(self) -> list[str]:
        """Planned changes apply never reached (results come in plan order, one per change)."""
        if self.plan is None:
            return []
        finished = {r.address for r in self.results}
        planned = [c.address for c in self.plan.changes if c.action is not Action.NOOP]
        return [a for a in planned if a not in finished and not self.under_way.endswith(f" {a}")]


@click.command(name="apply")
@config_dir_argument
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Saved plan.")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable). Default: all.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (required when not on a terminal).")
@output_file_option("--report", "report_file", "Write a JSON report.")
@output_file_option("--junit", "junit_file", "Write the gate's sends as JUnit XML.")
@skip_gate_options
@output_option
def command(
    config_dir: str,
    plan_file: Path | None,
    channels: tuple[str, ...],
    auto_approve: bool,
    report_file: Path | None,
    junit_file: Path | None,
    skip_gate: bool,
    reason: str | None,
    output: str,
) -> int:
    """Apply the plan: create, update, promote, retire and delete templates.

    The report (--report) is written whatever happens once apply has started: when it fails or is
    interrupted (Ctrl-C: exit 130; SIGTERM: exit 143) it lists what was done before."""
    started = datetime.now(UTC)
    why = skip_gate_reason(skip_gate, reason)
    check_output_paths(report=report_file, junit=junit_file)
    done = _Done(break_glass=breaking_glass(config_dir, why) if why else None)
    stopped = functools.partial(
        _stopped, done, config_dir, started, output, report_file=report_file, junit_file=junit_file
    )
    with terminate_as_interrupt():
        try:
            if not _run(done, config_dir, plan_file, channels, auto_approve=auto_approve, output=output):
                click.echo("Nothing applied.")
                return EXIT_OK
        except click.exceptions.Abort:
            raise  # the question was not answered: nothing was applied, as when it is answered no
        except KeyboardInterrupt as stop:
            stopped(interrupted=signal_name(stop))
            return exit_code(stop)
        except BaseException as error:
            stopped(error=_describe(error))
            raise
    report = build_report(config_dir, done.results, started, gates=done.gates, break_glass=done.break_glass)
    assert done.plan is not None
    _print(report, done.plan, done.results, done.gates, output)
    _note_dirty(report)
    _write_files(report, done.gates, report_file=report_file, junit_file=junit_file)
    # A blocked channel (not observable, secrets unreadable, signature missing) had nothing applied: not a success.
    failed = done.plan.blockers or any(r.outcome is ChangeOutcome.FAILED for r in done.results)
    return EXIT_ERROR if failed else EXIT_OK


def _run(
    done: _Done,
    config_dir: str,
    plan_file: Path | None,
    channels: tuple[str, ...],
    *,
    auto_approve: bool,
    output: str,
) -> bool:
    """Plan (or read the saved plan) and apply it, recording into ``done`` as it goes; False when
    the person at the terminal declined."""
    config = load_valid_config(config_dir)
    saved = _read_plan(plan_file) if plan_file is not None else None
    if saved is not None:
        channels = channels or tuple(c.channel for c in saved.channels)

    def note(message: str) -> None:
        click.echo(message, err=True)

    with open_session(config, channels) as session:
        selected = [c.resource.name for c in session.channels]
        # One apply per channel at a time, from planning to the last change: a lock on this machine,
        # and a lease in each channel's durable target for applies on other machines. Taking it is
        # also the first contact with the target: a channel whose target cannot be reached (or whose
        # lease another apply keeps) is blocked before any change; the other channels go on.
        stores = {c.resource.name: channel_store(config, c) for c in session.opened().channels}
        with (
            channel_locks(state_dir(config) / "locks", selected, notify=note),
            channel_leases(stores, owner=default_owner(os.environ), refused=session.unopened, notify=note) as leases,
        ):
            done.renew = _renewer(leases.values())
            plan = block_unopened(saved, session) if saved else compute_plan(session, config_dir=config_dir)
            done.plan = plan.model_copy(update={"channels": tuple(c for c in plan.channels if c.channel in selected)})
            if output == "text":
                click.echo(render(plan, "text", colour=sys.stdout.isatty()), nl=False)
            if done.break_glass is not None:
                _warn_skip(done.break_glass, done.plan, gated=any(c.resource.spec.test_send for c in session.channels))
            if plan.has_changes:
                if not auto_approve and not _confirmed(plan, output):
                    return False
                _apply(session, config, done, check_digest=saved is not None)
    return True


def _warn_skip(glass: BreakGlass, plan: Plan, *, gated: bool) -> None:
    """Before anything is applied: which promotions go without their gate, or that none does."""
    promotions = sum(1 for c in plan.changes if c.action is Action.PROMOTE)
    if not gated:
        click.echo("note: --skip-gate: no channel applied here has a test-send gate, so none is skipped", err=True)
    elif promotions:
        click.echo(
            redact(f"warning: --skip-gate: {promotions} promotion(s) without test sends: {glass.describe()}"),
            err=True,
        )
    else:
        click.echo("note: --skip-gate: this plan promotes nothing, so no gate is skipped", err=True)


def _stopped(
    done: _Done,
    config_dir: str,
    started: datetime,
    output: str,
    *,
    report_file: Path | None,
    junit_file: Path | None,
    interrupted: str = "",
    error: str = "",
) -> None:
    """An apply that did not finish: the report and the terminal say what was done before it stopped."""
    report = build_report(
        config_dir,
        done.results,
        started,
        gates=done.gates,
        interrupted=interrupted,
        error=error,
        under_way=done.under_way or done.gate_under_way,
        not_started=done.not_started(),
        break_glass=done.break_glass,
    )
    # The terminal first: it says what was done even if the report cannot be written. An apply that
    # stopped before it had a plan has nothing to list; the error says why. The results end with the
    # summary, which says why the rest was not done: once, not again on stderr.
    started_applying = bool(interrupted) or done.plan is not None
    if started_applying:
        click.echo(render_unfinished(report, output), nl=False)
        _note_dirty(report)
    _write_files(report, done.gates, report_file=report_file, junit_file=junit_file)
    if started_applying and report_file is not None:
        click.echo(f"the report of what was done is in {report_file}", err=True)


def _describe(error: BaseException) -> str:
    """One line for the report: ours as the CLI shows them, anything else named as a bug."""
    if isinstance(error, SmsopsError):
        return " ".join(error.message.split())
    return f"internal error: {type(error).__name__}: {' '.join(str(error).split())}"


def _note_dirty(report: ApplyReport) -> None:
    if report.dirty:
        commit = f"commit {report.commit[:12]}" if report.commit else "the last commit"
        click.echo(
            f"note: {report.config_dir} has uncommitted changes: what was applied is not exactly {commit} "
            "(the report records dirty: true)",
            err=True,
        )


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


def _apply(session: Session, config: LoadedConfig, done: _Done, *, check_digest: bool) -> None:
    """Apply ``done.plan`` to the session's open channels behind a progress bar; each result, the
    change under way and the gate's results are recorded in ``done`` as they happen."""
    assert done.plan is not None
    desired = {c.resource.name: desired_channel(config, c) for c in session.channels}
    located = {c.resource.name: c for c in session.channels}
    bar = ProgressBar(sum(1 for c in done.plan.changes if c.action.value != "noop"))
    try:
        apply_plan(
            done.plan,
            session.providers,
            lambda name: session.observe(desired[name]),
            marks=session.marks,
            marks_of=session.marks_of,
            publish=lambda name: publish_live(session, config, located[name], now=datetime.now(UTC)),
            remarks_observed={name for name, c in located.items() if traits(c.resource.spec.provider).observes_remark},
            named=lambda name: named_on_account(config, located[name])(),
            check_digest=check_digest,
            break_glass=done.break_glass,
            spacing={
                c.resource.name: create_spacing(
                    session.provider(c.resource.name).name, c.resource.spec.rollout.create_spacing
                )
                for c in session.opened().channels
            },
            progress=_StepRecorder(bar, done),
            gate=_gate(session, config, bar, done),
            on_result=done.result,
        )
    finally:
        bar.close()  # before anything else is printed, however apply ended


def _renewer(leases: Iterable[Lease], clock: Callable[[], float] = time.monotonic) -> Callable[[], None]:
    """Renews every lease when a third of its time has passed since the last renewal: a long apply
    (creation spacing, a gate waiting for delivery) keeps its leases, a crashed one lets them expire."""
    held = list(leases)
    last = clock()

    def renew() -> None:
        nonlocal last
        if held and clock() - last >= min(lease.ttl.total_seconds() for lease in held) / 3:
            for lease in held:
                lease.renew()
            last = clock()

    return renew


class _StepRecorder:
    """The progress bar, telling ``done`` which change is under way."""

    def __init__(self, bar: ProgressBar, done: _Done) -> None:
        self.bar = bar
        self.done = done

    def step(self, message: str) -> None:
        self.done.step(message)
        self.bar.step(message)

    def wait(self, message: str, seconds: float) -> None:
        self.bar.wait(message, seconds)


def _write_files(
    report: ApplyReport, gates: list[GateResult], *, report_file: Path | None, junit_file: Path | None
) -> None:
    """The JSON report and the gate's sends as JUnit XML, where asked for."""
    if report_file is not None:
        write_output("report", report_file, report_json(report))
    if junit_file is not None:
        write_output("junit", junit_file, junit_xml_suites(gates))


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
    if report.break_glass is not None:
        click.echo(render_break_glass(report.break_glass, output), nl=False)


def _gate(session: Session, config: LoadedConfig, bar: ProgressBar, done: _Done) -> Gate | None:
    """The test-send gate (``reconciler.verify.gate``) when any selected channel declares testSend; its
    waits go to the progress bar and its results into the apply report."""
    if not any(c.resource.spec.test_send for c in session.channels):
        return None

    def progress(where: GateProgress) -> None:
        done.gate_step(where.message)
        if where.waiting_s > 0:
            bar.wait(f"test-send gate: {where.message}", where.waiting_s)

    return make_gate(
        session,
        config,
        on_result=done.gate_result,
        progress=progress,
        clock=GATE_CLOCK,
        sleep=GATE_SLEEP,
        poll_interval=GATE_POLL_INTERVAL_S,
    )
