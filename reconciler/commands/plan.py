"""`smsops plan`: decrypt, observe, diff."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.commands.options import (
    check_output_paths,
    config_dir_argument,
    output_file_option,
    output_option,
    write_output,
)
from reconciler.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from reconciler.pipeline import compute_plan, load_valid_config
from reconciler.reconcile.observe import open_session
from reconciler.render.plan import render
from reconciler.secrets.redact import redact


@click.command(name="plan")
@config_dir_argument
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable). Default: all.")
@output_file_option("--out", "out", "Write the JSON plan here.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none, 1 on error.")
@output_option
def command(config_dir: str, channels: tuple[str, ...], out: Path | None, detailed_exitcode: bool, output: str) -> int:
    """Show what apply would change at each channel's provider."""
    check_output_paths(out=out)
    config = load_valid_config(config_dir)
    with open_session(config, channels) as session:
        plan = compute_plan(session, config_dir=config_dir)
    if out is not None:
        write_output("out", out, redact(plan.to_json()))
    colour = output == "text" and sys.stdout.isatty()
    click.echo(render(plan, output, colour=colour), nl=False)
    if plan.blockers:
        return EXIT_ERROR
    if detailed_exitcode and plan.drift:
        return EXIT_CHANGES
    return EXIT_OK
