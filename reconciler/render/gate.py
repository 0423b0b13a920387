"""Gate renderers: text, json (the contract), markdown (the PR comment) and github (annotations).

They consume a ``GateResult`` as it is. Recipients are already masked; every string returned still
passes through ``redact``, so a number in a provider's message is masked too. Every format ends
with the result's one summary line.
"""

from __future__ import annotations

import json

from reconciler.render.escape import workflow_data
from reconciler.secrets.redact import redact
from reconciler.verify.results import GateResult, SendOutcome, SendResult

_MARKS = {
    SendOutcome.DELIVERED: "ok",
    SendOutcome.ACCEPTED: "ok",
    SendOutcome.VALIDATED: "ok",
    SendOutcome.SKIPPED: "--",
}


def _mark(result: SendResult) -> str:
    return _MARKS.get(result.outcome, "!!")


def _detail(result: SendResult) -> str:
    parts = [p for p in (result.provider_code, result.detail) if p]
    return ": ".join(parts)


def render_text(result: GateResult) -> str:
    lines = [f"Test send on channel {result.channel} ({result.provider}, {result.mode} gate)"]
    if result.message:
        lines.append(f"  {result.message}")
    for sent in result.results:
        message_id = f" [{sent.message_id}]" if sent.message_id else ""
        detail = _detail(sent)
        lines.append(
            f"  {_mark(sent)} {sent.template} ({sent.code or '-'}) -> {sent.recipient}: {sent.outcome.value}"
            f"{message_id}{f' ({detail})' if detail else ''}"
        )
    lines.append(result.summary())
    return redact("\n".join(lines) + "\n")


def render_json(result: GateResult) -> str:
    data = result.model_dump(mode="json")
    data["passed"] = result.passed
    data["exit_code"] = result.exit_code
    data["summary"] = result.summary()
    return redact(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "-"


def render_markdown(result: GateResult) -> str:
    icon = {"passed": "✅", "failed": "❌", "skipped": "⏭️"}[result.status]
    lines = [f"### {icon} Test send: `{result.channel}` ({result.provider})", ""]
    if result.message:
        lines += [result.message, ""]
    if result.results:
        lines += [
            "| template | code | recipient | outcome | proof | message id | detail |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(r.template)} | `{_cell(r.code)}` | {_cell(r.recipient)} | **{r.outcome.value}** "
            f"| {r.proof.value} | {_cell(r.message_id)} | {_cell(_detail(r))} |"
            for r in result.results
        ]
        lines.append("")
    lines.append(f"**{result.summary()}**")
    return redact("\n".join(lines) + "\n")


def render_github(result: GateResult) -> str:
    """An error per send that was not confirmed, and the gate's message (why nothing was sent) as a
    notice; then the summary line."""
    title = f"title=smsops test-send {result.channel}"
    lines = [f"::notice {title}::{workflow_data(redact(result.message))}"] if result.message else []
    for sent in result.results:
        if _mark(sent) == "!!":
            detail = _detail(sent)
            text = f"{sent.template} ({sent.code or '-'}) -> {sent.recipient}: {sent.outcome.value}"
            lines.append(f"::error {title}::{workflow_data(redact(text + (f' ({detail})' if detail else '')))}")
    lines.append(result.summary())
    return redact("\n".join(lines) + "\n")


def render(result: GateResult, fmt: str) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "markdown":
        return render_markdown(result)
    if fmt == "github":
        return render_github(result)
    return render_text(result)
