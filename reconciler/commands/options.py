"""Options, and checks around them, shared by commands."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.errors import SecretsError, SmsopsError
from reconciler.secrets.redact import redact

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
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        flag = _flag(option)
        if path.is_dir():
            raise SmsopsError(f"{flag} {path} is a directory", hint=f"give {flag} a file path")
        if path.resolve() in seen:
            raise SmsopsError(f"{flag} and {seen[path.resolve()]} both name {path}", hint="give each its own file")
        seen[path.resolve()] = flag
        if path.exists() and not os.access(path, os.W_OK):
            raise SmsopsError(f"{flag} {path} is not writable", hint=f"choose another {flag} path")
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise SmsopsError(f"{flag} {path}: {parent} is a file, not a directory", hint=f"choose another {flag} path")
        if not os.access(parent, os.W_OK):
            raise SmsopsError(f"{flag} {path}: {parent} is not writable", hint=f"choose another {flag} path")


def write_output(option: str, path: Path, text: str) -> None:
    """Write an output file (``option`` names its option, ``report`` for ``--report``); a failure the
    early check could not foresee (a full disk, a path changed meanwhile) is a clear error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise SmsopsError(
            f"{_flag(option)} {path}: cannot write: {error.strerror or type(error).__name__}",
            hint=f"check the {_flag(option)} path and the space left on its disk",
        ) from None


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def note_unopened(unopened: dict[str, SecretsError]) -> None:
    """On stderr, each channel that could not be opened (its secrets could not be read) and what to do:
    the others went on, and the command will exit 1."""
    for name, error in unopened.items():
        click.echo(redact(f"error: channel {name} blocked: {error}"), err=True)
