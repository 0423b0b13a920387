"""`smsops sandbox`: run the local provider emulators, and control their accounts.

``serve`` runs until interrupted: SIGINT (Ctrl-C) exits 130 like every smsops command, SIGTERM
(a supervisor's orderly stop) exits 0; both close the listening sockets first. The control
subcommands work on the state directory directly (SQLite is safe to share with a running server),
or on a running server's control API with ``--url`` and its token (``--token``, else read from the
state directory). ``status --output json`` shows access key IDs masked (``LTAI****0001``).

The control subcommands find their account rather than assume one: the state directory is the
one given, else ``.smsops/sandbox`` (what ``serve`` uses) or ``sms-config/.smsops/sandbox`` (what
``smsops demo`` and the embedded sandbox channels use), whichever exists; the account is the one
given, else the only one holding the template CODE, else the config's only sandbox channel (an
embedded channel's account is named after it), else the only account there. Anything else is an
error that lists the accounts.
"""

from __future__ import annotations

import json
import signal
import threading
from types import FrameType
from typing import Any
from urllib.parse import quote

import click

from reconciler.commands.options import directory_path, text_or_json_option
from reconciler.commands.sandbox_accounts import (
    DEFAULT_STATE_DIR,
    account_option,
    control,
    control_state_dir_option,
    local_accounts,
    remote,
    remote_accounts,
    url_option,
)
from reconciler.commands.sandbox_fixtures import COMMANDS as FIXTURE_COMMANDS
from reconciler.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, SmsopsError
from reconciler.sandbox.control import ControlClient
from reconciler.sandbox.server import describe, start
from reconciler.sandbox.store.account import Sandbox
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.sandbox.store.records import RuleViolation
from reconciler.secrets.redact import mask_key, redact

state_dir_option = click.option(
    "--state-dir",
    type=directory_path(),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    envvar="SMSOPS_SANDBOX_STATE",
    help="Directory of the sandbox accounts (one SQLite file each).",
)


@click.group(name="sandbox")
def command() -> None:
    """Run the local provider emulators (the embedded default) and control their accounts."""


@command.command()
@state_dir_option
@click.option("--alibaba-port", type=int, default=None, help="Port of the Alibaba emulator (0: any free one).")
@click.option("--tencent-port", type=int, default=None, help="Serve the Tencent emulator on this port (0: free).")
@click.option("--aws-port", type=int, default=None, help="Serve the AWS emulator on this port (0: free).")
@click.option("--realistic", is_flag=True, help="Seed new demo accounts with the real providers' delays and spacing.")
@click.option("--verbose", is_flag=True, help="Log every request to stderr.")
def serve(
    state_dir: str,
    alibaba_port: int | None,
    tencent_port: int | None,
    aws_port: int | None,
    realistic: bool,
    verbose: bool,
) -> int:
    """Serve the emulators on 127.0.0.1 until interrupted; print endpoints, demo accounts and the
    control API token (kept in STATE_DIR/control-token, where the --url commands find it). Demo key
    ids are shown masked and secrets never: the key pairs are in STATE_DIR/demo-keys.json (mode 0600).

    Alibaba always runs (port 0 unless given); Tencent and AWS run when their port is given."""
    ports = {"alibaba": alibaba_port or 0}
    ports.update({name: port for name, port in (("tencent", tencent_port), ("aws", aws_port)) if port is not None})
    sandbox = Sandbox(state_dir)
    stop = threading.Event()
    how: dict[str, int] = {}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        how["code"] = EXIT_OK if signum == signal.SIGTERM else EXIT_INTERRUPTED
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            running = start(sandbox, ports, seed_demo=True, verbose=verbose)
        except OSError as error:
            taken = ", ".join(f"{name} {port}" for name, port in ports.items() if port)
            raise SmsopsError(
                f"cannot listen on 127.0.0.1 ({taken or 'a free port'}): {error.strerror or error}",
                hint="choose other ports, or 0 to let the system pick free ones",
            ) from None
        if realistic:
            for emulator in running.emulators.values():
                account = sandbox.account(emulator.demo.name)
                if not account.templates():
                    account.set_behaviour(Behaviour.realistic())
        try:
            click.echo(describe(running))
            click.echo(f"state: {sandbox.state_dir}")
            click.echo("ready (Ctrl-C to stop)", nl=True)
            while not stop.wait(0.5):
                pass
        finally:
            running.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("sandbox stopped", err=True)
    return how.get("code", EXIT_OK)


@command.command()
@click.argument("code")
@control_state_dir_option
@account_option
@url_option
def approve(code: str, state_dir: str | None, account: str | None, url: str | None, token: str | None) -> int:
    """Approve template CODE now, whatever the review rules say."""
    if url:
        client = remote(url, token, state_dir)
        name = remote_accounts(client).choose(account, code)
        record = control(client, "POST", f"accounts/{name}/templates/{code}/approve", {})
    else:
        record = _decide(state_dir, account, code, None)
    click.echo(f"{record['code']}: {record['status']}")
    return EXIT_OK


@command.command()
@click.argument("code")
@click.option("--reason", default="Rejected by the sandbox control API.", show_default=True)
@control_state_dir_option
@account_option
@url_option
def reject(
    code: str, reason: str, state_dir: str | None, account: str | None, url: str | None, token: str | None
) -> int:
    """Reject template CODE now, with --reason as the provider's rejection reason."""
    if url:
        client = remote(url, token, state_dir)
        name = remote_accounts(client).choose(account, code)
        record = control(client, "POST", f"accounts/{name}/templates/{code}/reject", {"reason": reason})
    else:
        record = _decide(state_dir, account, code, reason)
    click.echo(redact(f"{record['code']}: {record['status']} ({record['reason']})"))
    return EXIT_OK


def _decide(state_dir: str | None, account: str | None, code: str, reason: str | None) -> dict[str, Any]:
    sandbox, accounts = local_accounts(state_dir)
    target = sandbox.account(accounts.choose(account, code))
    try:
        record = target.approve(code) if reason is None else target.reject(code, reason)
    except RuleViolation as error:
        raise SmsopsError(error.message, hint="`smsops sandbox status` lists the templates") from None
    data: dict[str, Any] = record.to_json()
    return data


@command.command(name="approve-signature")
@click.argument("name")
@control_state_dir_option
@account_option
@url_option
def approve_signature(name: str, state_dir: str | None, account: str | None, url: str | None, token: str | None) -> int:
    """Approve signature NAME now, whatever the review rules say."""
    record = _decide_signature(state_dir, account, remote(url, token, state_dir) if url else None, name, None)
    click.echo(f"signature {record['name']}: {record['status']}")
    return EXIT_OK


@command.command(name="reject-signature")
@click.argument("name")
@click.option("--reason", default="Rejected by the sandbox control API.", show_default=True)
@control_state_dir_option
@account_option
@url_option
def reject_signature(
    name: str, reason: str, state_dir: str | None, account: str | None, url: str | None, token: str | None
) -> int:
    """Reject signature NAME now, with --reason as the provider's rejection reason."""
    record = _decide_signature(state_dir, account, remote(url, token, state_dir) if url else None, name, reason)
    click.echo(redact(f"signature {record['name']}: {record['status']} ({record['reason']})"))
    return EXIT_OK


def _decide_signature(
    state_dir: str | None, account: str | None, client: ControlClient | None, name: str, reason: str | None
) -> dict[str, Any]:
    """Approve (``reason`` None) or reject signature ``name`` locally or through ``client``."""
    if client is not None:
        chosen = remote_accounts(client).choose(account, name)
        action = "approve" if reason is None else "reject"
        path = f"accounts/{chosen}/signatures/{quote(name, safe='')}/{action}"
        result: dict[str, Any] = control(client, "POST", path, {} if reason is None else {"reason": reason})
        return result
    sandbox, accounts = local_accounts(state_dir)
    target = sandbox.account(accounts.choose(account, name))
    try:
        record = target.approve_signature(name) if reason is None else target.reject_signature(name, reason)
    except RuleViolation as error:
        raise SmsopsError(error.message, hint="`smsops sandbox status` lists the signatures") from None
    return record.to_json()


@command.command()
@control_state_dir_option
@account_option
@url_option
@text_or_json_option
def status(
    state_dir: str | None, account: str | None, url: str | None, token: str | None, output: str, as_json: bool
) -> int:
    """Show an account: signatures, templates with review status, request counters."""
    if url:
        client = remote(url, token, state_dir)
        snapshot = control(client, "GET", f"accounts/{remote_accounts(client).choose(account)}")
    else:
        sandbox, accounts = local_accounts(state_dir)
        snapshot = sandbox.account(accounts.choose(account)).snapshot()
    if as_json or output == "json":
        # Key IDs are half of a credential: shown as the console shows them (LTAI****0001).
        shown = {**snapshot, "access_key_ids": [mask_key(k) for k in snapshot.get("access_key_ids", [])]}
        click.echo(redact(json.dumps(shown, ensure_ascii=False, indent=2, sort_keys=True)))
        return EXIT_OK
    click.echo(f"account {snapshot['name']} ({snapshot['provider']})")
    for sign in snapshot["signatures"]:
        reason = f" ({sign['reason']})" if sign.get("reason") else ""
        click.echo(redact(f"  signature {sign['name']}: {sign['status']}{reason}"))
    for template in snapshot["templates"]:
        reason = f" ({template['reason']})" if template["reason"] else ""
        click.echo(redact(f"  template {template['code']} {template['name']}: {template['status']}{reason}"))
    counters = ", ".join(f"{k}={v}" for k, v in snapshot["counters"].items()) or "none"
    click.echo(f"  counters: {counters}")
    return EXIT_OK if snapshot else EXIT_ERROR


for _fixture_command in FIXTURE_COMMANDS:
    command.add_command(_fixture_command)
