"""Status renderers: text, json, markdown and github, for ``status`` and ``wait``.

They consume ``ChannelStatus`` as computed; every string returned has passed through ``redact``
and every format ends with the one summary line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from reconciler.formats import STATUS_FORMAT_VERSION
from reconciler.reconcile.changes import Action
from reconciler.reconcile.status import (
    ChannelStatus,
    LeavingVersion,
    SignatureState,
    TemplateState,
    TemplateStatus,
    summary,
)
from reconciler.render.escape import markdown_cell as _md
from reconciler.render.escape import workflow_data
from reconciler.secrets.redact import redact


def _when(moment: datetime | None) -> str:
    """Every time in UTC: providers answer in their own zone (Alibaba in Beijing time)."""
    if moment is None:
        return "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="minutes")


def _live(template: TemplateStatus) -> str:
    live = template.live
    if live is None:
        return "none live"
    adopted = ", adopted" if live.adopted else ""
    return f"live {live.code} since {_when(live.since)}{adopted}" if live.since else f"live {live.code}{adopted}"


def gate_skipped(template: TemplateStatus) -> str:
    """The live version went live without its test-send gate: when, who, at which commit, why."""
    live = template.live
    if live is None or live.gate_skipped is None:
        return ""
    glass = live.gate_skipped
    commit = f" at commit {glass.short_commit}" if glass.commit else ""
    who = f" by {glass.actor}" if glass.actor else ""
    return f"gate skipped {_when(glass.at or live.since)}{who}{commit}: {glass.reason}"


def _state(template: TemplateStatus) -> str:
    version = template.desired_version
    if template.state is TemplateState.REJECTED:
        return f"rejected: {template.reason or 'no reason given'}"
    if template.state is TemplateState.APPROVED:
        gate = f" (test-send gate {version.gate})" if version is not None and version.gate else ""
        return f"approved, awaiting promotion{gate}"
    if template.state is TemplateState.PENDING and version is not None:
        return f"pending review since {_when(version.since)}, code {version.code}"
    return template.state.value


def _leaving(version: LeavingVersion) -> str:
    """A version on its way out: kept until the time the plan's reason names, or due now."""
    if version.action is Action.NOOP:
        return f"{version.code}: {version.reason}"
    return f"{version.code}: {version.reason}; the next apply will {version.action.value} it"


def _signature(channel: ChannelStatus) -> str:
    reason = f": {channel.signature_reason}" if channel.signature_reason else ""
    # A filing done with every carrier is the normal state: only unfinished ones are worth a line's
    # space (``--output json`` has them all).
    unfinished = [filing for filing in channel.signature_filings if not filing.endswith(" filed")]
    filings = f" (carrier filing: {', '.join(channel.signature_filings)})" if unfinished else ""
    return f"signature {channel.signature_name}: {channel.signature.value}{reason}{filings}"


def render_text(statuses: Sequence[ChannelStatus]) -> str:
    lines: list[str] = []
    for channel in statuses:
        state = "" if channel.enabled else " (disabled)"
        lines.append(f"Channel {channel.channel} ({channel.provider}){state}")
        if channel.error:
            lines.append(f"  ! could not be observed: {channel.error}")
            continue
        lines.append(f"  {_signature(channel)}")
        width = max((len(t.name) for t in channel.templates), default=0)
        for template in channel.templates:
            shown = (
                _live(template) if template.state is TemplateState.LIVE else f"{_state(template)}; {_live(template)}"
            )
            lines.append(f"  {template.name:<{width}}  {shown}")
            if gate_skipped(template):
                lines.append(f"  {'':<{width}}    ! {gate_skipped(template)}")
            for version in template.versions:
                if version.desired:
                    continue
                reason = f": {version.reason}" if version.reason else ""
                lines.append(
                    f"  {'':<{width}}    also {version.code} {version.status.value} since {_when(version.since)}"
                    f"{reason}"
                )
            lines.extend(f"  {'':<{width}}    old {_leaving(version)}" for version in template.leaving)
        if channel.removed:
            lines.append("  removed from git, waiting for deletion:")
            lines.extend(f"    {version.template} {_leaving(version)}" for version in channel.removed)
    lines.append(summary(statuses))
    return redact("\n".join(lines)) + "\n"


def render_json(statuses: Sequence[ChannelStatus]) -> str:
    data = {
        "format_version": STATUS_FORMAT_VERSION,
        "channels": [c.model_dump(mode="json") for c in statuses],
        "summary": summary(statuses),
    }
    return redact(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def render_markdown(statuses: Sequence[ChannelStatus]) -> str:
    lines = ["## smsops status", ""]
    for channel in statuses:
        state = "" if channel.enabled else " — disabled"
        lines += [f"### Channel `{channel.channel}` ({channel.provider}){state}", ""]
        if channel.error:
            lines += [f"> :no_entry: could not be observed: {_md(channel.error)}", ""]
            continue
        lines += [_md(_signature(channel)), ""]
        if channel.templates:
            lines += ["| template | desired version | live version |", "|---|---|---|"]
            for template in channel.templates:
                skipped = f" ({gate_skipped(template)})" if gate_skipped(template) else ""
                lines.append(f"| `{template.name}` | {_md(_state(template))} | {_md(_live(template) + skipped)} |")
            lines.append("")
        if channel.leaving:
            lines += ["Waiting to be retired or deleted:", ""]
            lines += [f"- `{version.template}` {_md(_leaving(version))}" for version in channel.leaving]
            lines.append("")
    lines += [f"**{summary(statuses)}**", ""]
    return redact("\n".join(lines))


def render_github(statuses: Sequence[ChannelStatus]) -> str:
    """An error per rejection or unusable signature, a notice per version still in review."""
    lines: list[str] = []
    for channel in statuses:
        title = f"title=smsops {channel.channel}"
        if channel.error:
            lines.append(f"::error {title}::{workflow_data(redact('could not be observed: ' + channel.error))}")
            continue
        if channel.signature not in (SignatureState.APPROVED,):
            lines.append(f"::error {title}::{workflow_data(redact(_signature(channel)))}")
        for template in channel.templates:
            text = f"{channel.channel}/{template.name}: {_state(template)}"
            if template.state in (TemplateState.REJECTED, TemplateState.CANCELLED):
                lines.append(f"::error {title}::{workflow_data(redact(text))}")
            elif template.state in (TemplateState.PENDING, TemplateState.APPROVED, TemplateState.NOT_REGISTERED):
                lines.append(f"::notice {title}::{workflow_data(redact(text))}")
        for template in channel.templates:
            if gate_skipped(template):
                text = f"{channel.channel}/{template.name}: live version {gate_skipped(template)}"
                lines.append(f"::warning {title}::{workflow_data(redact(text))}")
        for version in channel.leaving:
            text = f"{channel.channel}/{version.template}: {_leaving(version)}"
            lines.append(f"::notice {title}::{workflow_data(redact(text))}")
    lines.append(summary(statuses))
    return "\n".join(lines) + "\n"


def render(statuses: Sequence[ChannelStatus], output: str) -> str:
    if output == "json":
        return render_json(statuses)
    if output == "markdown":
        return render_markdown(statuses)
    if output == "github":
        return render_github(statuses)
    return render_text(statuses)
