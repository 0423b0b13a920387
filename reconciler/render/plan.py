"""Plan renderers: text, json, markdown (the PR comment) and github (annotations + step summary).

Renderers consume the Plan as it is; they never compute diffs. Every string they return has
passed through ``redact``. Every format ends with the plan's one summary line.
"""

from __future__ import annotations

import click

from reconciler.reconcile.changes import Action, Change, ChannelPlan, Plan
from reconciler.render.escape import markdown_cell, workflow_data
from reconciler.secrets.redact import redact

MARKDOWN_LIMIT = 65_000
_SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.PROMOTE: "^",
    Action.RETIRE: "-",
    Action.DELETE: "-",
    Action.UNPUBLISH: "!",
    Action.RENAME: ">",
    Action.PUBLISH: "*",
    Action.RECORD: "~",
    Action.NOOP: " ",
}
_COLOURS = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.PROMOTE: "cyan",
    Action.RETIRE: "red",
    Action.DELETE: "red",
    Action.UNPUBLISH: "yellow",
    Action.RENAME: "cyan",
    Action.PUBLISH: "cyan",
    Action.RECORD: "cyan",
    Action.NOOP: "bright_black",
}


def _status(change: Change) -> str:
    if change.action is Action.PUBLISH:
        return "-"
    if (change.signature or change.retired_signature) is not None and change.action in (
        Action.NOOP,
        Action.DELETE,
        Action.RECORD,
    ):
        return change.signature_status.value if change.signature_status else "-"
    version = change.after or change.before
    if change.action in (Action.CREATE, Action.UPDATE):
        return "to review"
    return version.status.value if version and version.status else "-"


def _code(change: Change) -> str:
    version = (
        change.before
        if change.action in (Action.RETIRE, Action.DELETE, Action.UNPUBLISH)
        else (change.after or change.before)
    )
    if change.action is Action.PUBLISH:
        return ""
    if (change.signature or change.retired_signature) is not None:  # a signature row: not a template code
        return "signature"
    return version.code if version and version.code else "(new)"


def render_text(plan: Plan, *, colour: bool = False, verbose: bool = False) -> str:
    def style(text: str, fg: str) -> str:
        return click.style(text, fg=fg) if colour else text

    lines: list[str] = []
    for channel in plan.channels:
        state = "" if channel.enabled else " (disabled)"
        lines.append(style(f"Channel {channel.channel} ({channel.provider}){state}", "bright_white"))
        for blocker in channel.blockers:
            lines.append(style(f"  ! blocked: {blocker.message}", "red"))
            if blocker.hint:
                lines.append(f"    hint: {blocker.hint}")
        for item in channel.attention:
            lines.append(style(f"  ! {item.message}", "red"))
            if item.hint:
                lines.append(f"    hint: {item.hint}")
        shown = [c for c in channel.changes if verbose or c.action is not Action.NOOP or c.reason != "live"]
        width = max((len(c.address) for c in shown), default=0)
        for change in shown:
            symbol = _SYMBOLS[change.action]
            segments = f"{change.segments} seg" if change.segments else ""
            row = (
                f"  {symbol} {change.action.value:<7} {change.address:<{width}}  {_code(change):<14} "
                f"{_status(change):<9} {segments:<6} {change.reason}"
            )
            lines.append(style(row.rstrip(), _COLOURS[change.action]))
            if change.action in (Action.CREATE, Action.UPDATE) and change.after is not None:
                if change.before is not None and change.before.content != change.after.content:
                    lines.append(style(f"      - {change.before.content}", "red"))
                lines.append(style(f"      + {change.after.content}", "green"))
        live = sum(1 for c in channel.changes if c.action is Action.NOOP and c.reason == "live")
        if live and not verbose:
            lines.append(style(f"    {live} template(s) live and unchanged", "bright_black"))
        for template in channel.unmanaged:
            lines.append(f"  ? unmanaged {template.code} {template.name!r} ({template.status.value})")
        lines.append("")
    lines.append(plan.summary())
    return redact("\n".join(lines)) + "\n"


def render_json(plan: Plan) -> str:
    return redact(plan.to_json())


def _markdown_channel(channel: ChannelPlan, rows: int | None = None) -> list[str]:
    """One channel's section; with ``rows``, only the first ``rows`` changes (the rest counted)."""
    state = "" if channel.enabled else " — disabled"
    lines = [f"### Channel `{channel.channel}` ({channel.provider}){state}", ""]
    for blocker in channel.blockers:
        hint = f" — {blocker.hint}" if blocker.hint else ""
        lines.append(f"> :no_entry: **Blocked:** {markdown_cell(blocker.message)}{hint}")
        lines.append("")
    for item in channel.attention:
        hint = f" — {item.hint}" if item.hint else ""
        lines.append(f"> :warning: **Rejected:** {markdown_cell(item.message)}{hint}")
        lines.append("")
    shown = channel.changes if rows is None else channel.changes[:rows]
    if shown:
        lines += ["| | action | template | code | status | segments | reason |", "|---|---|---|---|---|---|---|"]
        for change in shown:
            lines.append(
                f"| {_SYMBOLS[change.action].strip() or '·'} | {change.action.value} | `{change.address}` | "
                f"{_code(change)} | {_status(change)} | {change.segments or ''} | {markdown_cell(change.reason)} |"
            )
        lines.append("")
        if len(shown) < len(channel.changes):
            lines += [f"_… and {len(channel.changes) - len(shown)} more change(s) in this channel._", ""]
        for change in shown:
            if change.action in (Action.CREATE, Action.UPDATE) and change.after is not None:
                body = []
                if change.before is not None and change.before.content != change.after.content:
                    body.append(f"- {change.before.content}")
                body.append(f"+ {change.after.content}")
                lines += [
                    f"<details><summary>{change.action.value} <code>{change.address}</code></summary>",
                    "",
                    "```diff",
                    *body,
                    "```",
                    "</details>",
                    "",
                ]
    if channel.unmanaged:
        names = ", ".join(f"`{t.code}` {markdown_cell(t.name)}" for t in channel.unmanaged)
        lines += [f"Unmanaged at the provider (left alone): {names}", ""]
    return lines


def render_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The PR comment: one section per channel, kept under ``limit`` characters."""
    head = ["## smsops plan", ""]
    tail = ["", f"**{plan.summary()}**", ""]
    budget = limit - len(redact("\n".join(head + tail))) - 200
    body: list[str] = []
    used = 0
    omitted = 0
    truncated = False
    for channel in plan.channels:
        section = redact("\n".join(_markdown_channel(channel)))
        rows = len(channel.changes)
        while used + len(section) + 1 > budget and rows > 0:  # keep the first changes that fit
            rows = rows // 2 if rows > 8 else rows - 1
            section = redact("\n".join(_markdown_channel(channel, rows)))
            truncated = True
        if used + len(section) + 1 > budget:
            omitted += 1
            continue
        body.append(section)
        used += len(section) + 1
    if omitted or truncated:
        left_out = f"{omitted} channel section(s) and some changes" if omitted else "some changes"
        body.append(
            f"_Truncated: {left_out} left out to stay under {limit:,} characters; "
            "the full plan is in the JSON artifact._"
        )
    return redact("\n".join(head + body + tail))


def render_github(plan: Plan) -> str:
    """Workflow commands: an error per blocker, a notice per change, then the summary."""
    lines = []
    for blocker in plan.blockers:
        lines.append(f"::error title=smsops {blocker.channel}::{workflow_data(redact(blocker.message))}")
    for item in plan.attention:
        lines.append(f"::error title=smsops {item.channel}::{workflow_data(redact(item.message))}")
    for change in plan.changes:
        if change.action is not Action.NOOP:
            text = f"{change.action.value} {change.address}: {change.reason}"
            lines.append(f"::notice title=smsops {change.channel}::{workflow_data(redact(text))}")
    lines.append(plan.summary())
    return "\n".join(lines) + "\n"


def render(plan: Plan, output: str, *, colour: bool = False) -> str:
    if output == "json":
        return render_json(plan)
    if output == "markdown":
        return render_markdown(plan)
    if output == "github":
        return render_github(plan)
    return render_text(plan, colour=colour)
