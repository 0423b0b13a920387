"""How the `smsops sandbox` control commands find their state and account (see ``sandbox``'s
docstring for the order they look in), locally or behind a running sandbox's control API.

Behind the control API (``--url``) they need the server's control token: ``--token`` (or
``SMSOPS_SANDBOX_TOKEN``), else the token file of the state directory given or found as above,
which is where ``smsops sandbox serve`` keeps it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconciler.commands.options import directory_path
from reconciler.config.load import load_config
from reconciler.errors import SmsopsError
from reconciler.providers.traits import traits
from reconciler.sandbox.control import ControlClient, ControlError
from reconciler.sandbox.guard import read_token
from reconciler.sandbox.store.account import Sandbox

DEFAULT_STATE_DIR = ".smsops/sandbox"
# Where the control commands look for state when none is given: the config directory each belongs
# to (``serve``'s, from the current directory; the example config's, which ``smsops demo`` uses).
CONFIG_DIRS = (".", "sms-config")

control_state_dir_option = click.option(
    "--state-dir",
    type=directory_path(),
    default=None,
    envvar="SMSOPS_SANDBOX_STATE",
    help="Directory of the sandbox accounts. Default: .smsops/sandbox, else sms-config/.smsops/sandbox.",
)
account_option = click.option(
    "--account",
    default=None,
    help="Sandbox account name. Default: the one holding the template or signature named, the config's sandbox "
    "channel, or the only one.",
)
_url = click.option(
    "--url", envvar="SMSOPS_SANDBOX_URL", default=None, help="Control a running sandbox at this URL instead."
)
_token = click.option(
    "--token",
    envvar="SMSOPS_SANDBOX_TOKEN",
    default=None,
    help="Control token of the sandbox at --url. Default: the one in the state directory.",
)


def url_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--url`` and the ``--token`` that goes with it."""
    return _url(_token(function))


@dataclass(frozen=True)
class Accounts:
    """The accounts the control commands may act on: in a state directory, or behind a control API."""

    where: str
    names: list[str]
    codes: Callable[[str], set[str]]  # account -> its template codes and signature names
    configured: tuple[str, ...] = ()  # accounts of the embedded channels of the config beside the state

    def choose(self, account: str | None, code: str | None = None) -> str:
        listed = ", ".join(self.names) or "none"
        if account is not None:
            if account in self.names:
                return account
            raise SmsopsError(f"no sandbox account {account!r} in {self.where}", hint=f"accounts there: {listed}")
        candidates = self.names
        if code is not None:
            holding = [name for name in self.names if code in self.codes(name)]
            candidates = holding or self.names  # none: the account will say the template does not exist
        for narrowed in ([n for n in candidates if n in self.configured], candidates):
            if len(narrowed) == 1:
                return narrowed[0]
        if not candidates:
            raise SmsopsError(
                f"no sandbox account in {self.where}",
                hint="`smsops demo` or an apply on a sandbox channel creates one; so does `smsops sandbox serve`",
            )
        which = f" holding template {code}" if code is not None and candidates != self.names else ""
        raise SmsopsError(
            f"{len(candidates)} sandbox accounts{which} in {self.where}: {', '.join(candidates)}",
            hint="pass one with --account",
        )


def _embedded_channels(config_dir: Path) -> tuple[str, ...]:
    """Names of the config's embedded sandbox channels (their accounts' names); () if it does not load."""
    try:
        config, _ = load_config(str(config_dir))
    except SmsopsError:
        return ()
    return tuple(c.resource.name for c in config.channels if traits(c.resource.spec.provider).embedded)


def local_accounts(state_dir: str | None) -> tuple[Sandbox, Accounts]:
    if state_dir is not None:
        found, config_dir = Path(state_dir), None
        if not found.is_dir():
            raise SmsopsError(f"no sandbox state in {state_dir}", hint="check --state-dir (or SMSOPS_SANDBOX_STATE)")
    else:
        tried = [(Path(c), Path(c) / DEFAULT_STATE_DIR) for c in CONFIG_DIRS]
        config_dir, found = next(((c, s) for c, s in tried if s.is_dir()), (None, Path(DEFAULT_STATE_DIR)))
        if config_dir is None:
            raise SmsopsError(
                f"no sandbox state in {' or '.join(str(s) for _, s in tried)}",
                hint="run `smsops demo` (or `smsops sandbox serve`) first, or pass --state-dir",
            )
    sandbox = Sandbox(found)
    names = [account.name for account in sandbox.accounts()]
    configured = _embedded_channels(config_dir) if config_dir is not None else ()
    return sandbox, Accounts(str(found), names, lambda name: _held(sandbox.account(name).snapshot()), configured)


def _held(snapshot: dict[str, Any]) -> set[str]:
    """What an account holds that a control command may name: template codes and signature names."""
    return {t["code"] for t in snapshot["templates"]} | {s["name"] for s in snapshot["signatures"]}


def remote(url: str, token: str | None, state_dir: str | None) -> ControlClient:
    """A client of the sandbox at ``url`` with its token: ``token``, else the state directory's."""
    if token is None:
        where = [Path(state_dir)] if state_dir is not None else [Path(c) / DEFAULT_STATE_DIR for c in CONFIG_DIRS]
        token = next((found for found in map(read_token, where) if found is not None), None)
    return ControlClient(url, token=token)


def remote_accounts(client: ControlClient) -> Accounts:
    names = [entry["name"] for entry in control(client, "GET", "accounts")]

    return Accounts(client.base_url, names, lambda name: _held(control(client, "GET", f"accounts/{name}")))


def control(client: ControlClient, method: str, path: str, body: Any = None) -> Any:
    try:
        return client.call(method, path, body)
    except ControlError as error:
        if error.status in (401, 403):
            hint = (
                "pass the --state-dir of that `smsops sandbox serve`, or its token with --token "
                "(or SMSOPS_SANDBOX_TOKEN); serve prints it"
            )
        else:
            hint = "is `smsops sandbox serve` running at that URL?"
        raise SmsopsError(str(error), hint=hint) from None
