"""`smsops channels`: the names of the config's channels, for a pipeline's job matrix.

Names come from the Channel documents (a file may hold several, and its name says nothing), after
the same load and lint as every other command: a channel whose document has an error would
otherwise be left out of the matrix without a word. Offline: no secrets, no provider SDKs.

``--output json`` prints one line, a JSON array of the names sorted (``["production", "sandbox"]``),
which a workflow passes to ``fromJSON`` as ``strategy.matrix.channel``; ``text`` prints one name a line.
"""

from __future__ import annotations

import json

import click

from reconciler.commands.options import config_dir_argument
from reconciler.errors import EXIT_OK
from reconciler.pipeline import load_valid_config


@click.command(name="channels")
@config_dir_argument
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="text: one name a line; json: one line, a JSON array of the names (for a job matrix).",
)
def command(config_dir: str, output: str) -> int:
    """List the channel names of the config, sorted; exit 1 with the diagnostics if it has errors."""
    config = load_valid_config(config_dir)
    names = sorted(located.resource.name for located in config.channels)
    if output == "json":
        click.echo(json.dumps(names))
    else:
        click.echo("".join(f"{name}\n" for name in names), nl=False)
    return EXIT_OK
