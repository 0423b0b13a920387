"""Options shared by commands."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.errors import SmsopsError

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


def check_output_paths(**paths: Path | None) -> None:
    """Refuse an output path that cannot be written, before the first provider call: a report that
    fails after templates were created or messages sent would lose the record of what was done.
    Keyword names are the options (``report=...`` is ``--report``)."""
    for option, path in paths.items():
        if path is None:
            continue
        flag = "--" + option.replace("_", "-")
        if path.is_dir():
            raise SmsopsError(f"{flag} {path} is a directory", hint=f"give {flag} a file path")
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise SmsopsError(f"{flag} {path}: {parent} is a file, not a directory", hint=f"choose another {flag} path")
        if not os.access(parent, os.W_OK):
            raise SmsopsError(f"{flag} {path}: {parent} is not writable", hint=f"choose another {flag} path")
