"""Options, and checks around them, shared by commands."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from reconciler.errors import SmsopsError
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


class _NamedPath(click.Path):
    """A path option or argument that refuses an empty value, naming itself: as a path "" would be
    ".", and the command would read or write a directory nobody named. ``kind`` is what it takes
    ("file", "directory"), for the message."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> str | bytes | os.PathLike[str]:
        if value == "":
            if isinstance(param, click.Option) and param.opts:
                name = param.opts[0]
            else:
                name = param.human_readable_name if param is not None else "the path"
            raise click.UsageError(f"{name}: empty path; give a {self.kind} path", ctx=ctx)
        return super().convert(value, param, ctx)


def directory_path(path_type: type[str] | type[Path] = str) -> click.Path:
    """The type of every option or argument naming a directory (values are ``path_type``)."""
    return _NamedPath("directory", file_okay=False, path_type=path_type)


def text_or_json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--output text|json`` for a command that reports nothing for PRs or workflows (the sandbox's),
    passed as ``output``; ``--json``, as they spelled it first, stays as a hidden ``as_json`` flag."""
    command = click.option("--json", "as_json", is_flag=True, hidden=True, help="Same as --output json.")(command)
    return click.option(
        "--output",
        "-o",
        "output",
        type=click.Choice(("text", "json")),
        default="text",
        show_default=True,
        help="Report format. json is for scripts.",
    )(command)


DEFAULT_CONFIG_DIR = "sms-config"


def _config_dir(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """The default ``sms-config`` from the root of the config repository; run from inside that
    directory (no ``sms-config`` below it, and it holds channels/ or a Channel document), the
    current directory, said once on stderr."""
    if ctx.get_parameter_source(param.name or "") is not click.core.ParameterSource.DEFAULT:
        return value
    if os.path.exists(value) or not _looks_like_config(Path.cwd()):
        return value
    click.echo(f"note: no {value}/ here; the current directory looks like it: using .", err=True)
    return "."


def _looks_like_config(where: Path) -> bool:
    if (where / "channels").is_dir():
        return True
    for path in [*where.glob("*.yaml"), *where.glob("*.yml")]:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if path.is_file() and path.stat().st_size < 1_000_000 and _CHANNEL_KIND.search(path.read_text("utf-8")):
                return True
    return False


_CHANNEL_KIND = re.compile(r"^kind:\s*Channel\s*$", re.M)

config_dir_argument = click.argument(
    "config_dir",
    type=directory_path(),
    default=DEFAULT_CONFIG_DIR,
    required=False,
    callback=_config_dir,
)


def skip_gate_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--skip-gate`` and ``--reason TEXT`` (apply's break glass; see ``skip_gate_reason``)."""
    command = click.option(
        "--reason", default=None, metavar="TEXT", help="Why the gate is skipped (required with --skip-gate)."
    )(command)
    return click.option(
        "--skip-gate",
        is_flag=True,
        help="Break glass: promote without test sends. Needs --reason; recorded in the report and rollout marks.",
    )(command)


def skip_gate_reason(skip_gate: bool, reason: str | None) -> str:
    """The reason for breaking glass, on one line ("" without --skip-gate). A usage error, before
    anything is contacted, when one option comes without the other or the reason is blank."""
    if reason is not None and not skip_gate:
        raise click.UsageError(
            "--reason is only for --skip-gate: without it the gate runs and needs no reason",
            ctx=click.get_current_context(silent=True),
        )
    if not skip_gate:
        return ""
    text = " ".join((reason or "").split())
    if not text:
        raise click.UsageError(
            '--skip-gate needs --reason TEXT saying why the gate is skipped (e.g. --reason "carrier outage INC-42")',
            ctx=click.get_current_context(silent=True),
        )
    return text


def output_file_option(flag: str, dest: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An option naming a file the command writes (``Path | None``). Missing parent folders are
    created (CI writes ``--report out/report.json`` into a fresh checkout), and its help says so."""
    file_path = _NamedPath("file", dir_okay=False, path_type=Path)
    return click.option(flag, dest, type=file_path, help=f"{help} Missing parent folders are created.")


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


def note_unopened(unopened: Mapping[str, SmsopsError]) -> None:
    """On stderr, each channel that could not be opened (its secrets could not be read) and what to do:
    the others went on, and the command will exit 1."""
    for name, error in unopened.items():
        click.echo(redact(f"error: channel {name} blocked: {error}"), err=True)
