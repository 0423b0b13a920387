"""How the `smsops sandbox` control commands find their state and account (see ``sandbox``'s
docstring for the order they look in), locally or behind a running sandbox's control API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconciler.config.load import load_config
from reconciler.errors import SmsopsError
from reconciler.providers.traits import traits
from reconciler.sandbox.control import ControlClient, ControlError
from reconciler.sandbox.store.account import Sandbox

DEFAULT_STATE_DIR = ".smsops/sandbox"
# Where the control commands look for state when none is given: the config directory each belongs
# to (``serve``'s, from the current directory; the example config's, which ``smsops demo`` uses).
CONFIG_DIRS = (".", "sms-config")

control_state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="SMSOPS_SANDBOX_STATE",
    help="Directory of the sandbox accounts. Default: .smsops/sandbox, else sms-config/.smsops/sandbox.",
)
account_option = click.option(
    "--account",
    default=None,
    help="Sandbox account name. Default: the one holding CODE, the config's sandbox channel, or the only one.",
)
url_option = click.option(
    "--url", envvar="SMSOPS_SANDBOX_URL", default=None, help="Control a running sandbox at this URL instead."
)


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


def remote_accounts(url: str) -> Accounts:
    names = [entry["name"] for entry in control(url, "GET", "accounts")]

    return Accounts(url, names, lambda name: _held(control(url, "GET", f"accounts/{name}")))


def control(url: str, method: str, path: str, body: Any = None) -> Any:
    try:
        return ControlClient(url).call(method, path, body)
    except ControlError as error:
        raise SmsopsError(str(error), hint="is `smsops sandbox serve` running at that URL?") from None
