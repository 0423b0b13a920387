"""`smsops history`: the audit trail of a channel or template, from git (read-only, offline)."""

from __future__ import annotations

import click

from reconciler.commands.options import config_dir_argument
from reconciler.errors import EXIT_ERROR, EXIT_OK
from reconciler.history.git import open_repository
from reconciler.history.marks import skipped_gates
from reconciler.history.walk import collect_history
from reconciler.pipeline import load_valid_config
from reconciler.render.history import render


@click.command(name="history")
@config_dir_argument
@click.option("--channel", default=None, help="This channel's changes, its secret file's and its templates'.")
@click.option("--template", default=None, help="This template's changes only.")
@click.option("--reverse", is_flag=True, help="Oldest first (default: newest first).")
@click.option(
    "--marks",
    is_flag=True,
    help="Also list promotions made without their test-send gate (apply --skip-gate), read from each "
    "channel's rollout marks in its publish target.",
)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Choice(("text", "json", "markdown")),
    default="text",
    show_default=True,
    help="Report format. json is the stable contract; markdown is for reports.",
)
def command(config_dir: str, channel: str | None, template: str | None, reverse: bool, marks: bool, output: str) -> int:
    """Show who changed what in the config and when, per commit, with pull request numbers.

    Secret files are followed through their SOPS metadata only: a rotation shows, its value never does.
    With --marks, a channel whose publish target cannot be read is a warning, and the exit code is 1.
    """
    history = collect_history(config_dir, channel=channel, template=template, newest_first=not reverse)
    unread = False
    if marks:  # who skipped a gate is kept with the rollout marks (and in git where the pipeline commits them)
        repository = open_repository(config_dir)
        read = skipped_gates(load_valid_config(config_dir), repository, channel=channel, template=template)
        skips = read.skips if reverse else read.skips[::-1]
        history = history.model_copy(update={"gate_skips": skips, "marks_unread": read.unread})
        unread = bool(read.unread)  # shown as warnings, with what could be read
    click.echo(render(history, output), nl=False)
    return EXIT_ERROR if unread else EXIT_OK
