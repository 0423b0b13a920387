"""`smsops demo`: the main job end to end on the embedded sandbox."""

from __future__ import annotations

import click

from reconciler.commands.options import config_dir_argument


@click.command(name="demo")
@config_dir_argument
def command(config_dir: str) -> int:
    """Run the whole loop on the embedded sandbox config."""
    from reconciler.cli import main

    click.echo(f"== smsops validate {config_dir}")
    return main(["validate", config_dir])
