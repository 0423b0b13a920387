"""`smsops status`: review status per channel and template (read-only)."""

from __future__ import annotations

import click

from reconciler.commands.options import config_dir_argument, note_unopened, output_option
from reconciler.errors import EXIT_ERROR, EXIT_OK
from reconciler.pipeline import load_valid_config
from reconciler.reconcile.observe import open_session
from reconciler.reconcile.status import observe_statuses
from reconciler.render.status import render


@click.command(name="status")
@config_dir_argument
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable). Default: all.")
@output_option
def command(config_dir: str, channels: tuple[str, ...], output: str) -> int:
    """Show which version of each template is live, in review or rejected, and the signature status.
    A channel that could not be observed (its secrets unreadable, its provider unreachable or refusing
    the keys) is shown as such while the others are shown in full; the exit code is then 1."""
    config = load_valid_config(config_dir)
    with open_session(config, channels) as session:
        statuses = observe_statuses(session)
    click.echo(render(statuses, output), nl=False)
    note_unopened(session.unopened)
    return EXIT_ERROR if any(status.error for status in statuses) else EXIT_OK
