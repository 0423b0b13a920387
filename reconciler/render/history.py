"""History renderers: text for an auditor at a terminal, json (the contract), markdown for reports.

They consume ``History`` as computed by ``reconciler.history.walk`` and never diff anything themselves;
every string returned has passed through ``redact`` and ends with the one summary line.
"""

from __future__ import annotations

import json

from reconciler.formats import HISTORY_FORMAT_VERSION
from reconciler.history.marks import describe
from reconciler.history.walk import Event, History
from reconciler.secrets.redact import redact

_SKIPS_TITLE = "Promotions without their test-send gate (apply --skip-gate, from the rollout marks):"


def _title(history: History) -> str:
    if history.channel is not None:
        what = f"channel {history.channel} (and the templates it sends)"
    elif history.template is not None:
        what = f"template {history.template}"
    else:
        what = "all channels and templates"
    return f"History of {history.config_dir}: {what}"


def _headline(event: Event) -> str:
    pr = f"  PR #{event.pr}" if event.pr is not None else ""
    return f"{event.short}  {event.date}  {event.author} <{event.email}>{pr}"


def _what(event: Event) -> str:
    return f"{event.resource.kind} {event.resource.name} {event.action} ({event.file})"


def render_text(history: History) -> str:
    lines = [_title(history), ""]
    commit = None
    for event in history.events:
        if event.commit != commit:
            if commit is not None:
                lines.append("")
            commit = event.commit
            lines += [_headline(event), f"  {event.subject}"]
        lines.append(f"  {_what(event)}")
        lines += [f"    {change.summary}" for change in event.changes]
    if not history.events:
        lines.append("No changes recorded in git.")
    if history.gate_skips is not None:
        lines += ["", _SKIPS_TITLE]
        lines += [f"  {describe(skip)}" for skip in history.gate_skips]
        lines += [f"warning: {unread}" for unread in history.marks_unread]
        lines += [] if history.gate_skips or history.marks_unread else ["  none recorded"]
    lines.append("")
    lines += [f"warning: {warning}" for warning in history.warnings]
    lines.append(history.summary())
    return redact("\n".join(lines)) + "\n"


def render_json(history: History) -> str:
    data = {
        "format_version": HISTORY_FORMAT_VERSION,
        "config_dir": history.config_dir,
        "filter": {"channel": history.channel, "template": history.template},
        "events": [
            {
                "commit": event.commit,
                "short": event.short,
                "author": {"name": event.author, "email": event.email},
                "date": event.date,
                "subject": event.subject,
                "pr": event.pr,
                "resource": {"kind": event.resource.kind, "name": event.resource.name},
                "action": event.action,
                "file": event.file,
                "changes": [change.model_dump(mode="json") for change in event.changes],
            }
            for event in history.events
        ],
        "gate_skips": None
        if history.gate_skips is None
        else [skip.model_dump(mode="json") for skip in history.gate_skips],
        "warnings": [*history.warnings, *history.marks_unread],
        "summary": history.summary(),
    }
    return redact(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def render_markdown(history: History) -> str:
    lines = [f"### {_title(history)}", ""]
    if history.events:
        lines += ["| Commit | Date | Author | PR | Resource | Changes |", "|---|---|---|---|---|---|"]
        for event in history.events:
            pr = f"#{event.pr}" if event.pr is not None else ""
            changes = "<br>".join(_cell(change.summary) for change in event.changes) or ""
            resource = f"{event.resource.kind} `{event.resource.name}` {event.action}"
            lines.append(f"| `{event.short}` | {event.date} | {_cell(event.author)} | {pr} | {resource} | {changes} |")
    else:
        lines.append("No changes recorded in git.")
    if history.gate_skips is not None:
        lines += ["", f"**{_SKIPS_TITLE}**", ""]
        lines += [f"- {_cell(describe(skip))}" for skip in history.gate_skips]
        lines += [f"- warning: {_cell(unread)}" for unread in history.marks_unread]
        lines += [] if history.gate_skips or history.marks_unread else ["- none recorded"]
    lines.append("")
    lines += [f"> warning: {_cell(warning)}" for warning in history.warnings]
    lines.append(f"**{history.summary()}**")
    return redact("\n".join(lines)) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}


def render(history: History, output: str) -> str:
    return RENDERERS[output](history)
