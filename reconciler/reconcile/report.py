"""The apply report: who applied which commit when, and what happened to each change."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from reconciler.formats import APPLY_REPORT_FORMAT_VERSION
from reconciler.models import Frozen
from reconciler.reconcile.apply import ChangeOutcome, ChangeResult, summarize
from reconciler.reconcile.breakglass import BreakGlass
from reconciler.reconcile.changes import Action
from reconciler.render.escape import markdown_cell, workflow_data
from reconciler.secrets.environment import git_environment
from reconciler.secrets.redact import redact


class BreakGlassRecord(Frozen):
    """``apply --skip-gate --reason``: who skipped the test-send gate, why, at which commit, and the
    promotions made without it (none: the apply promoted nothing, no gate was skipped)."""

    reason: str
    actor: str
    commit: str
    dirty: bool = False
    promoted: tuple[str, ...] = ()
    note: str


class ApplyReport(Frozen):
    format_version: int = APPLY_REPORT_FORMAT_VERSION
    commit: str
    actor: str
    # the config directory had changes git has not committed: ``commit`` is not exactly what was applied
    dirty: bool = False
    started_at: datetime
    finished_at: datetime
    config_dir: str
    results: tuple[ChangeResult, ...]
    # test-send gates run before promotions: per send, the masked recipient, outcome and proof
    gates: tuple[dict[str, Any], ...] = ()
    # An apply that did not finish: the signal that stopped it ("SIGINT", "SIGTERM") or the error;
    # ``results`` then holds what was done before it, ``under_way`` the change in progress (which may
    # or may not have taken effect) and ``not_started`` the planned changes never reached.
    interrupted: str = ""
    error: str = ""
    under_way: str = ""
    not_started: tuple[str, ...] = ()
    break_glass: BreakGlassRecord | None = None  # the gate was skipped (apply --skip-gate)
    summary: str

    @property
    def ok(self) -> bool:
        finished = not self.interrupted and not self.error
        return finished and all(r.outcome is not ChangeOutcome.FAILED for r in self.results)


def current_commit(path: str, environ: Mapping[str, str]) -> str:
    if environ.get("GITHUB_SHA"):
        return environ["GITHUB_SHA"]
    return _git(path, environ, "rev-parse", "HEAD") or ""


# Who is running: the CI's user first (a login, never an email), then git's, then the OS account.
# GITHUB_TRIGGERING_ACTOR is whoever started this run, also a re-run; GITHUB_ACTOR stays the one who
# started the first attempt (a dispatch re-run by someone else must name who re-ran it).
CI_ACTORS = ("GITHUB_TRIGGERING_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR")
OS_USERS = ("USER", "LOGNAME", "USERNAME")


def current_actor(path: str, environ: Mapping[str, str]) -> str:
    """The CI's user, else ``git config user.name`` of the config's repository, else the OS user.
    Only names: an email (git's user.name set to one) is cut to the part before the @."""
    for key in CI_ACTORS:
        if environ.get(key):
            return _name_only(environ[key])
    name = _git(path, environ, "config", "user.name")
    if name:
        return _name_only(name)
    for key in OS_USERS:
        if environ.get(key):
            return _name_only(environ[key])
    try:
        return _name_only(getpass.getuser())
    except (OSError, KeyError):
        return "unknown"


def breaking_glass(config_dir: str, reason: str, environ: Mapping[str, str] | None = None) -> BreakGlass:
    """``apply --skip-gate --reason``: the reason with who is applying which commit, as the report
    names them (``current_actor``, ``current_commit``, ``is_dirty``)."""
    env = os.environ if environ is None else environ
    return BreakGlass(
        reason=reason,
        actor=current_actor(config_dir, env),
        commit=current_commit(config_dir, env),
        dirty=is_dirty(config_dir, env),
    )


def break_glass_record(glass: BreakGlass, results: Sequence[ChangeResult]) -> BreakGlassRecord:
    """What the report says of a skipped gate: the promotions made without it, in a sentence."""
    # a promotion made without its gate carries a note saying so (one with no gate to skip does not)
    promoted = tuple(
        r.address for r in results if r.action is Action.PROMOTE and r.outcome is ChangeOutcome.DONE and r.note
    )
    if promoted:
        commit = f" at commit {glass.short_commit}" if glass.commit else ""
        note = (
            f"test-send gate skipped for {len(promoted)} promotion(s) by {glass.actor}{commit}, reason: {glass.reason}"
        )
    else:
        note = "no test-send gate was skipped: no promotion of this apply had one"
    return BreakGlassRecord(
        reason=glass.reason, actor=glass.actor, commit=glass.commit, dirty=glass.dirty, promoted=promoted, note=note
    )


def render_break_glass(record: BreakGlassRecord, output: str) -> str:
    """One line after the results, saying the gate was skipped and why (json: in the report)."""
    if output == "json":
        return ""
    if output == "github" and record.promoted:
        return f"::warning title=smsops apply::{workflow_data(redact(record.note))}\n"
    if output == "markdown":
        return redact(f"\n> :warning: {markdown_cell(record.note)}") + "\n"
    return redact(f"Break glass (--skip-gate): {record.note}") + "\n"


def is_dirty(path: str, environ: Mapping[str, str]) -> bool:
    """True when the config directory holds changes git has not committed (tracked or not, not ignored).
    A ``.smsops/`` directory is smsops' own state (locks, the runner-local published copy, the
    sandbox): what an apply writes there never makes the config dirty, even where no ``.gitignore``
    names it."""
    own_state = ":(exclude,glob)**/.smsops/**"
    return bool(_git(path, environ, "status", "--porcelain", "--untracked-files=normal", "--", ".", own_state))


def _name_only(value: str) -> str:
    return " ".join(value.split("@", 1)[0].split()) or "unknown"


def _git(path: str, environ: Mapping[str, str], *args: str) -> str | None:
    """``git -C path ARGS``' output, stripped; None when git is missing or fails (not a repository)."""
    try:
        done = subprocess.run(
            ["git", "-C", path, *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            env=git_environment(environ),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def stopped_note(*, interrupted: str = "", error: str = "", under_way: str = "", not_started: int = 0) -> str:
    """Why an apply did not finish and what it left, in one sentence ("" when it finished)."""
    if not interrupted and not error:
        return ""
    why = f"Interrupted by {interrupted}" if interrupted else f"Stopped by an error ({error})"
    left = [f"'{under_way}' was under way and may have taken effect"] if under_way else []
    if not_started:
        left.append(f"{not_started} planned change(s) not started")
    tail = "; ".join(left) or "nothing was under way"
    return redact(f"{why}: {tail}. Run `smsops plan` to see where things stand.")


def build_report(
    config_dir: str,
    results: Sequence[ChangeResult],
    started_at: datetime,
    *,
    environ: Mapping[str, str] | None = None,
    gates: Sequence[BaseModel] = (),
    interrupted: str = "",
    error: str = "",
    under_way: str = "",
    not_started: Sequence[str] = (),
    break_glass: BreakGlass | None = None,
) -> ApplyReport:
    env = os.environ if environ is None else environ
    note = stopped_note(interrupted=interrupted, error=error, under_way=under_way, not_started=len(not_started))
    return ApplyReport(
        commit=current_commit(config_dir, env),
        actor=current_actor(config_dir, env),
        dirty=is_dirty(config_dir, env),
        started_at=started_at,
        finished_at=datetime.now(UTC),
        config_dir=config_dir,
        results=tuple(results),
        gates=tuple(gate.model_dump(mode="json") for gate in gates),
        interrupted=interrupted,
        error=redact(error),
        under_way=under_way,
        not_started=tuple(not_started),
        break_glass=break_glass_record(break_glass, results) if break_glass is not None else None,
        summary=f"{summarize(results)} {note}".rstrip(),
    )


def render_results(results: Sequence[ChangeResult], output: str, *, last: str | None = None) -> str:
    """What apply did, per change, ending with the summary line (json: the list of results), or with
    ``last`` in its place: the line of an apply that stopped, which counts the results too."""
    if output == "json":
        return redact(json.dumps([r.model_dump(mode="json") for r in results], indent=2, ensure_ascii=False)) + "\n"
    if output == "markdown":
        lines = ["### Applied", ""]
        if results:
            lines += ["| outcome | action | template | code | detail |", "|---|---|---|---|---|"]
            lines += [
                f"| {r.outcome.value} | {r.action.value} | `{r.address}` | {r.code or ''} | "
                f"{markdown_cell(r.error or r.note)} |"
                for r in results
            ]
            lines.append("")
        lines.append(last if last is not None else f"**{summarize(results)}**")
        return redact("\n".join(lines)) + "\n"
    if output == "github":
        lines = []
        for r in results:
            if r.outcome is ChangeOutcome.FAILED:
                lines.append(
                    f"::error title=smsops {r.channel}::{workflow_data(f'{r.action.value} {r.address}: {r.error}')}"
                )
            elif r.outcome is ChangeOutcome.DEFERRED:
                lines.append(
                    f"::warning title=smsops {r.channel}::{workflow_data(f'{r.action.value} {r.address}: {r.error}')}"
                )
        lines.append(last if last is not None else summarize(results))
        return redact("\n".join(lines)) + "\n"
    lines = []
    for r in results:
        code = f" {r.code}" if r.code else ""
        error = f": {r.error}" if r.error else ""
        note = f" ({r.note})" if r.note else ""
        lines.append(f"  {r.outcome.value:<8} {r.action.value:<7} {r.address}{code}{error}{note}")
    lines.append(last if last is not None else summarize(results))
    return redact("\n".join(lines)) + "\n"


def render_unfinished(report: ApplyReport, output: str) -> str:
    """An apply that did not finish: what it did (``render_results``), ending with the report's
    summary, which says what was done and why the rest was not. It is the one summary line: the
    counts alone are not printed before it (json: the report, whose ``summary`` it is)."""
    if output == "json":
        return report_json(report)
    summary = redact(report.summary)
    if output == "github":
        last = f"::error title=smsops apply::{workflow_data(summary)}"
    elif output == "markdown":
        last = f"> :warning: {summary}"
    else:
        last = summary
    return render_results(report.results, output, last=last)


def report_json(report: ApplyReport) -> str:
    """The report as written to ``--report``: JSON, through redaction."""
    return redact(report.model_dump_json(indent=2)) + "\n"
