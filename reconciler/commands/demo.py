"""`smsops demo`: the main job end to end on the embedded sandbox channel.

It runs the same commands a pipeline runs, in order, and shows each one's output:
validate -> plan -> apply -> wait for review -> gate + promote (apply) -> export -> plan again.
The sandbox's state persists under ``<config>/.smsops/sandbox`` like a real account would;
``--reset`` starts from an empty account.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click

from reconciler.cli import COMMANDS, main
from reconciler.commands import apply as apply_command
from reconciler.commands.options import config_dir_argument
from reconciler.config.load import load_config
from reconciler.errors import EXIT_OK, SmsopsError
from reconciler.providers.traits import traits

SANDBOX_POLL_INTERVAL_S = 0.5


def _step(title: str, args: list[str]) -> int:
    if args[0] not in COMMANDS:
        click.secho(f"\n== smsops {' '.join(args)}  (not available in this build; skipped)", fg="yellow")
        return EXIT_OK
    click.secho(f"\n== {title}: smsops {' '.join(args)}", bold=True)
    return main(args)


@click.command(name="demo")
@config_dir_argument
@click.option("--channel", default="sandbox", show_default=True, help="The sandbox channel to run on.")
@click.option("--reset", is_flag=True, help="Start from an empty sandbox account.")
def command(config_dir: str, channel: str, reset: bool) -> int:
    """Run the whole loop on the embedded sandbox: no account, no network."""
    _refuse_a_real_provider(config_dir, channel)
    use_demo_key(config_dir)
    state = Path(config_dir) / ".smsops" / "sandbox"
    if reset and state.exists():
        shutil.rmtree(state)
        click.echo(f"(sandbox account reset: {state})")
    only = ["--channel", channel]
    steps: list[tuple[str, list[str], tuple[int, ...]]] = [
        ("Validate the config", ["validate", config_dir], (0,)),
        ("Plan against the sandbox", ["plan", config_dir, *only], (0,)),
        ("Apply: register new versions for review", ["apply", config_dir, *only, "--auto-approve"], (0,)),
        ("Wait for the provider's review", ["wait", config_dir, *only, "--timeout", "2m", "--interval", "1s"], (0,)),
        ("Apply again: test-send gate, then promote", ["apply", config_dir, *only, "--auto-approve"], (0,)),
        ("Status", ["status", config_dir, *only], (0,)),
        ("Export the runtime config for the application", ["export", config_dir, *only], (0,)),
        ("Plan again: nothing left to do", ["plan", config_dir, *only, "--detailed-exitcode"], (0,)),
    ]
    # The sandbox delivers a test message a second after it is sent: the gate need not wait the 5 s
    # between delivery queries a real provider is given.
    default, apply_command.GATE_POLL_INTERVAL_S = apply_command.GATE_POLL_INTERVAL_S, SANDBOX_POLL_INTERVAL_S
    try:
        for title, args, ok in steps:
            code = _step(title, args)
            if code not in ok:
                click.secho(f"\nDemo stopped: `smsops {' '.join(args)}` exited {code}.", fg="red", err=True)
                return code
    finally:
        apply_command.GATE_POLL_INTERVAL_S = default
    click.secho(f"\nDemo complete. Sandbox state is kept in {state}; `smsops demo --reset` starts over.", fg="green")
    key = Path(config_dir) / "keys" / "sandbox.agekey"
    if os.environ.get("SOPS_AGE_KEY_FILE") == str(key.resolve()):
        # the demo found the key itself; the commands it ran need it named when typed by hand
        click.echo(f"To run these commands yourself: export SOPS_AGE_KEY_FILE={key}")
    return EXIT_OK


def use_demo_key(config_dir: str) -> None:
    """With no age key set up, use the demo config's committed, test-only key (``keys/sandbox.agekey``)
    when there is one; real channels need their own key."""
    key = Path(config_dir) / "keys" / "sandbox.agekey"
    if not os.environ.get("SOPS_AGE_KEY_FILE") and not os.environ.get("SOPS_AGE_KEY") and key.exists():
        os.environ["SOPS_AGE_KEY_FILE"] = str(key.resolve())
        click.echo(f"(using the test-only demo key {key})")


def _refuse_a_real_provider(config_dir: str, channel: str) -> None:
    """The demo applies with --auto-approve and sends test messages: never against a real account.
    (A config that does not load is left to the validate step, which says what is wrong.)"""
    config, _ = load_config(config_dir)
    for located in config.channels:
        spec = located.resource.spec
        if located.resource.name == channel and not traits(spec.provider).embedded:
            raise SmsopsError(
                f"channel {channel} uses the {traits(spec.provider).display} provider: "
                "the demo runs only on the embedded sandbox (it applies and sends without asking)",
                hint="pick a channel with `provider: sandbox`, or run plan/apply yourself for a real one",
            )
