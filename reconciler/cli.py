"""Click wiring only. Commands live in ``reconciler.commands.<name>`` and are imported on use,
so ``smsops --help`` and ``smsops validate`` never pay for provider SDKs, nor ``--help`` for the
config models and every command (importing this module takes 0.03 s, all the commands 0.17 s more).

``main`` is the one place that maps exceptions to exit codes, and the process entry point
(``smsops``, ``python -m reconciler``) through ``sys.exit``. An exception that is not one of ours
(``SmsopsError``) is a bug: one redacted line names the stage it left (``errors.stage``), and
``--debug`` / ``SMSOPS_DEBUG=1`` adds the traceback, redacted too.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from reconciler import __version__
from reconciler.errors import EXIT_ERROR, EXIT_INTERRUPTED, ConfigError, SmsopsError, mark_stage, stage_of
from reconciler.secrets.redact import install_log_redaction, redact

# name -> (module under reconciler.commands, one-line help). The module defines `command`.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "Check the config offline: schema and lint rules, no secrets needed."),
    "schema": ("schema", "Write schemas/*.json from the models."),
    "channels": ("channels", "List the config's channel names (JSON for a pipeline's job matrix)."),
    "sandbox": ("sandbox", "Run the local provider emulators."),
    "demo": ("demo", "Run the whole loop on the embedded sandbox."),
    "plan": ("plan", "Decrypt, observe the providers and show what apply would change."),
    "apply": ("apply", "Apply a plan: create, update, promote, retire and delete templates."),
    "test-send": ("test_send", "Send test messages to the channel's test numbers and confirm delivery (the gate)."),
    "status": ("status", "Show review status per template: live, pending, approved or rejected."),
    "wait": ("wait", "Wait until every desired template version is approved, or one is rejected."),
    "export": ("export", "Export live template codes for the application and publish them."),
    "history": ("history", "Show the audit trail of a channel or template from git."),
    "check-encrypted": ("check_encrypted", "Check that secret files are SOPS-encrypted (the pre-commit hook)."),
    "import": ("import_", "Adopt a channel's existing provider templates into YAML files with adopt codes."),
    "console": ("console", "Serve the SMS settings page on loopback, backed by git (needs smsops[console])."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:  # a stage of ours names itself (errors.stage); else the command does
            mark_stage(error, ctx.invoked_subcommand or "smsops")
            raise

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"reconciler.commands.{COMMANDS[cmd_name][0]}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="smsops")
@click.option(
    "--debug",
    is_flag=True,
    envvar="SMSOPS_DEBUG",
    help="On an internal error, print the traceback (redacted). Also SMSOPS_DEBUG=1.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """smsops: SMS channels and templates as code, reconciled with the provider."""
    if isinstance(ctx.obj, dict):
        ctx.obj["debug"] = debug or ctx.obj.get("debug", False)


def _report(error: SmsopsError) -> None:
    if isinstance(error, ConfigError):
        for diagnostic in error.diagnostics:
            click.echo(redact(diagnostic.format()), err=True)
    click.echo(f"error: {redact(str(error))}", err=True)


def _report_internal(error: Exception, *, debug: bool) -> None:
    """A bug of ours or a library's: one redacted line, the traceback only when asked for."""
    if debug:
        click.echo(redact("".join(traceback.format_exception(error))).rstrip("\n"), err=True)
    message = " ".join(str(error).split())  # one line, whatever the message holds
    where = stage_of(error) or "smsops"
    click.echo(redact(f"smsops: internal error in {where}: {type(error).__name__}: {message}"), err=True)
    if not debug:
        click.echo("smsops: run again with --debug (or SMSOPS_DEBUG=1) to print the traceback", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    # Library and SDK warnings reach stderr, through redaction like everything else.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    args = list(argv) if argv is not None else sys.argv[1:]
    # --debug is the group's option, but users put it where they put every other option: after the
    # subcommand too. It takes no value, so it is taken out wherever it is (before a "--").
    end = args.index("--") if "--" in args else len(args)
    state: dict[str, bool] = {"debug": "--debug" in args[:end]}
    args = [a for i, a in enumerate(args) if a != "--debug" or i >= end]
    try:
        result = cli.main(args=args, standalone_mode=False, obj=state, prog_name="smsops")
    except SmsopsError as error:
        _report(error)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as error:
        error.show()
        # Exit 2 means "changes" (plan --detailed-exitcode): a mistyped option must not read as drift.
        return EXIT_ERROR
    except click.exceptions.Exit as done:
        return done.exit_code
    except Exception as error:
        _report_internal(error, debug=state.get("debug", False))
        return EXIT_ERROR
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
