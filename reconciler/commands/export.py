"""`smsops export`: the runtime config the application reads, published to each channel's target."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.commands.options import check_output_paths, config_dir_argument, output_file_option
from reconciler.errors import EXIT_ERROR, EXIT_OK, SmsopsError
from reconciler.pipeline import load_valid_config
from reconciler.providers.traits import traits
from reconciler.publish.export import (
    ExportedChannel,
    combined_document,
    export_channel,
    marker,
    publish_channel,
    record_unpublished,
)
from reconciler.publish.targets import write_file
from reconciler.reconcile.desired import desired_channel
from reconciler.reconcile.observe import Session, observe_all, open_session
from reconciler.secrets.redact import redact

if TYPE_CHECKING:
    from reconciler.config.load import LoadedConfig, Located
    from reconciler.config.models import Channel
    from reconciler.reconcile.changes import ChannelObservation, DesiredChannel


def _text(channels: Sequence[ExportedChannel]) -> str:
    lines: list[str] = []
    for channel in channels:
        state = "enabled" if channel.enabled else "disabled"
        lines.append(f"Channel {channel.name} ({channel.provider}, {state}), signature {channel.signature.name}")
        width = max((len(name) for name in channel.templates), default=0)
        for name, template in sorted(channel.templates.items()):
            if not traits(channel.provider).registers_templates:
                shown = "rendered by the application"
            else:
                shown = f"live {template.code}" if template.live else "not live yet: do not send"
            lines.append(f"  {name:<{width}}  {shown}")
    live = sum(1 for c in channels for t in c.templates.values() if t.live)
    total = sum(len(c.templates) for c in channels)
    lines.append(f"Export: {live} of {total} template(s) live in {len(channels)} channel(s).")
    return "\n".join(lines) + "\n"


@click.command(name="export")
@config_dir_argument
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable). Default: all.")
@output_file_option("--out", "out", "Write the combined JSON document here.")
@click.option(
    "--publish/--no-publish",
    default=True,
    show_default=True,
    help="Also write each channel's document to its publish target (file, SSM or S3).",
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(("json", "text")),
    default="json",
    show_default=True,
    help="json prints the combined document (unless --out); text prints a summary.",
)
def command(config_dir: str, channels: tuple[str, ...], out: Path | None, publish: bool, output: str) -> int:
    """Export live template codes, signature and enabled flags per channel, and publish them.

    A channel that cannot be read (its secrets or its provider) is not exported and the exit code is
    1; the others are exported and published. The combined document (stdout, --out) is then not
    written: without that channel it would tell the application the channel has nothing live."""
    check_output_paths(out=out)
    config = load_valid_config(config_dir)
    with open_session(config, channels) as session:
        desired = [desired_channel(config, located) for located in session.channels]
        observed = observe_all(session, desired)
        exported, blocked = _export(config, session, desired, observed)
        if publish:
            now = datetime.now(UTC)
            for located, seen, channel in exported:
                for done in publish_channel(config, located, channel):
                    state = "published" if done.changed else "unchanged"
                    click.echo(f"{channel.name}: {state} {done.target}", err=True)
                # what the published config stopped naming starts its grace period now
                record_unpublished(seen, channel, marker(session, channel.name), now)
    if output == "text":
        click.echo(_text([channel for _, _, channel in exported]), nl=False)
    if blocked:
        for why in blocked:
            click.echo(redact(f"error: {why}"), err=True)
        if exported and (out is not None or output == "json"):
            click.echo("error: the combined document was not written: it would lack the channel(s) above", err=True)
        return EXIT_ERROR
    document = combined_document([channel for _, _, channel in exported])
    if out is not None:
        try:
            write_file(out, document)
        except OSError as error:
            raise SmsopsError(f"--out {out}: cannot write: {error.strerror or type(error).__name__}") from None
        click.echo(f"wrote {out}", err=True)
    if output == "json" and out is None:
        click.echo(document, nl=False)
    return EXIT_OK


def _export(
    config: LoadedConfig, session: Session, desired: list[DesiredChannel], observed: list[ChannelObservation]
) -> tuple[list[tuple[Located[Channel], ChannelObservation, ExportedChannel]], list[str]]:
    """Every readable channel is exported before anything is published: a failure publishes nothing.
    Returns the exported channels and why the others were not."""
    exported: list[tuple[Located[Channel], ChannelObservation, ExportedChannel]] = []
    blocked: list[str] = []
    for located, wanted, seen in zip(session.channels, desired, observed, strict=True):
        unopened = session.unopened.get(located.resource.name)
        if unopened is not None:
            blocked.append(f"channel {located.resource.name}: nothing exported: {unopened}")
            continue
        try:
            exported.append((located, seen, export_channel(config, located, wanted, seen)))
        except SmsopsError as refused:
            blocked.append(str(refused))
    return exported, blocked
