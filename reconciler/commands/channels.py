"""`smsops channels`: the names of the config's channels, for a pipeline's job matrix.

Names come from the Channel documents (a file may hold several, and its name says nothing), after
the same load and lint as every other command: a channel whose document has an error would
otherwise be left out of the matrix without a word. Offline: no secrets, no provider SDKs.

A channel whose provider is embedded (the sandbox) is left out unless ``--include-embedded``: its
provider account and its published config live on the machine that runs smsops, so a CI runner,
which starts empty, would find an empty account on every run and report drift forever. Which
channels were left out is said on stderr, never on stdout (a workflow reads stdout as the matrix).

``--output json`` prints one line, a JSON array of the names sorted (``["production", "staging"]``),
which a workflow passes to ``fromJSON`` as ``strategy.matrix.channel``; ``text`` prints one name a line.
"""

from __future__ import annotations

import json

import click

from reconciler.commands.options import config_dir_argument
from reconciler.errors import EXIT_OK
from reconciler.pipeline import load_valid_config
from reconciler.providers.traits import traits


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
@click.option(
    "--include-embedded",
    is_flag=True,
    help="Also list channels on the embedded sandbox, whose state stays on this machine (left out by default).",
)
def command(config_dir: str, output: str, include_embedded: bool) -> int:
    """List the channel names of the config, sorted; exit 1 with the diagnostics if it has errors."""
    config = load_valid_config(config_dir)
    names: list[str] = []
    embedded: list[str] = []
    for located in config.channels:
        channel = located.resource
        listed = include_embedded or not traits(channel.spec.provider).embedded
        (names if listed else embedded).append(channel.name)
    if embedded:
        click.echo(
            f"note: left out the embedded sandbox channel(s) {', '.join(sorted(embedded))}: their provider state "
            "stays on the machine that runs smsops (a CI runner starts empty); --include-embedded lists them",
            err=True,
        )
    if output == "json":
        click.echo(json.dumps(sorted(names)))
    else:
        click.echo("".join(f"{name}\n" for name in sorted(names)), nl=False)
    return EXIT_OK
