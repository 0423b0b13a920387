"""Options shared by commands."""

from __future__ import annotations

import click

OUTPUT_FORMATS = ("text", "json", "markdown", "github")

output_option = click.option(
    "--output",
    "-o",
    "output",
    type=click.Choice(OUTPUT_FORMATS),
    default="text",
    show_default=True,
    help="Report format. json is the stable contract; markdown is for PR comments; github writes annotations.",
)

config_dir_argument = click.argument(
    "config_dir", type=click.Path(file_okay=False, path_type=str), default="sms-config", required=False
)
