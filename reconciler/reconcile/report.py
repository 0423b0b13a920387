"""The apply report: who applied which commit when, and what happened to each change."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from reconciler.formats import APPLY_REPORT_FORMAT_VERSION
from reconciler.models import Frozen
from reconciler.reconcile.apply import ChangeOutcome, ChangeResult, summarize
from reconciler.render.escape import markdown_cell, workflow_data
from reconciler.secrets.redact import redact


class ApplyReport(Frozen):
    format_version: int = APPLY_REPORT_FORMAT_VERSION
    commit: str
    actor: str
    started_at: datetime
    finished_at: datetime
    config_dir: str
    results: tuple[ChangeResult, ...]
    # test-send gates run before promotions: per send, the masked recipient, outcome and proof
    gates: tuple[dict[str, Any], ...] = ()
    summary: str

    @property
    def ok(self) -> bool:
        return all(r.outcome is not ChangeOutcome.FAILED for r in self.results)


def current_commit(path: str, environ: Mapping[str, str]) -> str:
    if environ.get("GITHUB_SHA"):
        return environ["GITHUB_SHA"]
    try:
        done = subprocess.run(
            ["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def current_actor(environ: Mapping[str, str]) -> str:
    for key in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR", "USER", "USERNAME"):
        if environ.get(key):
            return environ[key]
    return "unknown"


def build_report(
    config_dir: str,
    results: Sequence[ChangeResult],
    started_at: datetime,
    *,
    environ: Mapping[str, str] | None = None,
    gates: Sequence[BaseModel] = (),
) -> ApplyReport:
    env = os.environ if environ is None else environ
    return ApplyReport(
        commit=current_commit(config_dir, env),
        actor=current_actor(env),
        started_at=started_at,
        finished_at=datetime.now(UTC),
        config_dir=config_dir,
        results=tuple(results),
        gates=tuple(gate.model_dump(mode="json") for gate in gates),
        summary=summarize(results),
    )


def render_results(results: Sequence[ChangeResult], output: str) -> str:
    """What apply did, per change, ending with the summary line (json: the list of results)."""
    if output == "json":
        return redact(json.dumps([r.model_dump(mode="json") for r in results], indent=2, ensure_ascii=False)) + "\n"
    if output == "markdown":
        lines = ["### Applied", ""]
        if results:
            lines += ["| outcome | action | template | code | detail |", "|---|---|---|---|---|"]
            lines += [
                f"| {r.outcome.value} | {r.action.value} | `{r.address}` | {r.code or ''} | {markdown_cell(r.error)} |"
                for r in results
            ]
            lines.append("")
        lines.append(f"**{summarize(results)}**")
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
        lines.append(summarize(results))
        return redact("\n".join(lines)) + "\n"
    lines = []
    for r in results:
        code = f" {r.code}" if r.code else ""
        error = f": {r.error}" if r.error else ""
        lines.append(f"  {r.outcome.value:<8} {r.action.value:<7} {r.address}{code}{error}")
    lines.append(summarize(results))
    return redact("\n".join(lines)) + "\n"


def write_report(report: ApplyReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact(report.model_dump_json(indent=2)) + "\n", encoding="utf-8")
