"""`smsops sandbox accounts | add-signature | add-template | request-sender-id`: set up sandbox
fixtures by hand, e.g. a template made "in the console" to try ``smsops import`` on. They work on
the state directory (safe beside a running ``serve``); the account is found as for the other
control commands, among the accounts whose provider can hold the fixture."""

from __future__ import annotations

import dataclasses
import json

import click

from reconciler.commands.options import text_or_json_option
from reconciler.commands.sandbox_accounts import Accounts, account_option, control_state_dir_option, local_accounts
from reconciler.errors import EXIT_OK, SmsopsError
from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.fixtures import (
    MESSAGE_TYPES,
    SENDER_ID_PROVIDERS,
    SIGNATURE_PROVIDERS,
    TEMPLATE_PROVIDERS,
    FixtureError,
    add_signature,
    add_template,
    request_sender_id,
    summary,
)
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.secrets.redact import mask_key, redact

STATUSES = click.Choice([s.value for s in (ReviewStatus.APPROVED, ReviewStatus.PENDING, ReviewStatus.REJECTED)])


def _account(state_dir: str | None, account: str | None, providers: tuple[str, ...]) -> SandboxAccount:
    """The account to act on, chosen among those of ``providers``."""
    sandbox, accounts = local_accounts(state_dir)
    fitting = [n for n in accounts.names if sandbox.account(n).provider in providers]
    if account is not None and account in accounts.names and account not in fitting:
        raise SmsopsError(
            f"sandbox account {account!r} belongs to {sandbox.account(account).provider}",
            hint=f"this fixture needs an account of {' or '.join(providers)}",
        )
    narrowed: Accounts = dataclasses.replace(accounts, names=fitting)
    return sandbox.account(narrowed.choose(account))


@click.command(name="accounts")
@control_state_dir_option
@text_or_json_option
def accounts_command(state_dir: str | None, output: str, as_json: bool) -> int:
    """List the sandbox accounts: provider, access key ids (masked; never secrets), what each holds."""
    sandbox, _ = local_accounts(state_dir)
    rows = [row | {"access_key_ids": [mask_key(k) for k in row["access_key_ids"]]} for row in summary(sandbox)]
    if as_json or output == "json":
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
        return EXIT_OK
    for row in rows:
        held = f"{row['signatures']} signatures, {row['templates']} templates"
        if "sender_ids" in row:
            held = f"{row['sender_ids']} sender IDs"
        keys = ", ".join(row["access_key_ids"]) or "no keys"
        click.echo(f"{row['name']} ({row['provider']}): {held}; access key ids: {keys}")
    return EXIT_OK


@click.command(name="add-signature")
@click.argument("name")
@click.option("--status", type=STATUSES, default="approved", show_default=True)
@click.option("--scene", type=click.Choice(["general", "verification"]), default="general", show_default=True)
@click.option("--reason", default="", help="The rejection reason (with --status rejected).")
@control_state_dir_option
@account_option
def add_signature_command(
    name: str, status: str, scene: str, reason: str, state_dir: str | None, account: str | None
) -> int:
    """Make signature NAME by hand, already in review state --status (no review runs)."""
    target = _account(state_dir, account, SIGNATURE_PROVIDERS)
    try:
        record = add_signature(target, name, status=ReviewStatus(status), scene=scene, reason=reason)
    except FixtureError as error:
        raise SmsopsError(str(error), hint=error.hint) from None
    click.echo(redact(f"{target.name}: signature {record.name}: {record.status.value}"))
    return EXIT_OK


@click.command(name="add-template")
@click.argument("name")
@click.option("--content", required=True, help="The template text, with the provider's variables.")
@click.option("--kind", type=click.Choice([k.value for k in TemplateKind]), default="notification", show_default=True)
@click.option("--status", type=STATUSES, default="approved", show_default=True)
@click.option("--sign", "sign_name", default="", help="The signature the template is related to.")
@click.option("--international", is_flag=True, help="An international template.")
@click.option("--reason", default="", help="The rejection reason (with --status rejected).")
@control_state_dir_option
@account_option
def add_template_command(
    name: str,
    content: str,
    kind: str,
    status: str,
    sign_name: str,
    international: bool,
    reason: str,
    state_dir: str | None,
    account: str | None,
) -> int:
    """Make template NAME by hand, as if created in the provider's console; prints its code."""
    target = _account(state_dir, account, TEMPLATE_PROVIDERS)
    try:
        record = add_template(
            target,
            name=name,
            content=content,
            kind=TemplateKind(kind),
            status=ReviewStatus(status),
            sign_name=sign_name,
            international=international,
            reason=reason,
        )
    except FixtureError as error:
        raise SmsopsError(str(error)) from None
    click.echo(redact(f"{target.name}: template {record.code} {record.name}: {record.status.value}"))
    return EXIT_OK


@click.command(name="request-sender-id")
@click.argument("sender_id")
@click.option("--country", required=True, help="ISO country code, e.g. GB.")
@click.option("--promotional", is_flag=True, help="Also for promotional messages (default: transactional only).")
@click.option("--deletion-protection", is_flag=True, help="Refuse ReleaseSenderId until it is turned off.")
@control_state_dir_option
@account_option
def request_sender_id_command(
    sender_id: str,
    country: str,
    promotional: bool,
    deletion_protection: bool,
    state_dir: str | None,
    account: str | None,
) -> int:
    """Request AWS sender ID SENDER_ID for --country, with the API's format and country rules."""
    target = _account(state_dir, account, SENDER_ID_PROVIDERS)
    types = MESSAGE_TYPES if promotional else MESSAGE_TYPES[:1]
    try:
        answer = request_sender_id(
            target, sender_id, country=country, message_types=types, deletion_protection=deletion_protection
        )
    except FixtureError as error:
        raise SmsopsError(str(error), hint="a sender ID is 1-11 letters, digits, - or _, with a letter") from None
    click.echo(f"{target.name}: sender ID {answer['SenderId']} ({answer['IsoCountryCode']}): {answer['SenderIdArn']}")
    return EXIT_OK


COMMANDS = (accounts_command, add_signature_command, add_template_command, request_sender_id_command)
