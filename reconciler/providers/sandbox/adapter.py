"""``provider: sandbox``: the real Alibaba adapter and SDK against the in-process Alibaba emulator.

Nothing is faked on our side of the wire: the emulator serves the dysmsapi HTTP API on loopback
(signature checks, review, quotas, delivery), and this module only starts it, makes sure the
channel's account exists, and hands an ``AlibabaProvider`` its address and the emulator to close
with it (no subclass: the adapter is Alibaba's, unchanged). State lives in ``<state_dir>/sandbox``
(``<config root>/.smsops/sandbox``), so templates created in one run are there, and further along
in review, in the next.

One emulator server per state directory is shared by all sandbox channels of a process and stopped
when the last of them is closed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.providers.alibaba.adapter import DEFAULT_REGION, AlibabaProvider
from reconciler.providers.base import ReviewStatus
from reconciler.providers.sandbox.traits import TRAITS
from reconciler.sandbox.server import RunningSandbox, start
from reconciler.sandbox.store.account import Sandbox

if TYPE_CHECKING:
    from reconciler.config.load import Located
    from reconciler.config.models import Channel
    from reconciler.secrets.sops import ChannelSecrets

EMULATOR = "alibaba"
# Used when a sandbox channel declares no credentials (allowed for sandbox only).
DEFAULT_ACCESS_KEY_ID = "sandbox-access-key"
DEFAULT_ACCESS_KEY_SECRET = "sandbox-access-secret"

# The channel's signature as a console leaves one registered there by hand before smsops managed
# it: a general organisation signature on a qualification, with a remark. These are the fields the
# example config's signatures/onepro.yaml gives, so the demo adopts it with nothing to change (its
# first apply records a baseline of what GetSmsSign does not return: the source and the proof file).
CONSOLE_REMARK = "Company name of OnePro; sends login codes and order notices to its own users."
CONSOLE_FIELDS = {"source": 0, "sign_type": 1, "qualification_id": 10000001, "third_party": False}

_lock = threading.Lock()
_servers: dict[Path, tuple[RunningSandbox, int]] = {}


def _acquire(state_dir: Path) -> RunningSandbox:
    key = state_dir.resolve()
    with _lock:
        running, users = _servers.get(key, (None, 0))
        if running is None:
            running = start(Sandbox(key), {EMULATOR: 0})
        _servers[key] = (running, users + 1)
        return running


def _release(state_dir: Path) -> None:
    key = state_dir.resolve()
    with _lock:
        running, users = _servers.get(key, (None, 0))
        if running is None:
            return
        if users <= 1:
            del _servers[key]
            running.close()
        else:
            _servers[key] = (running, users - 1)


def ensure_account(
    running: RunningSandbox, account: str, access_key_id: str, access_key_secret: str, sign_name: str
) -> None:
    """The channel's account, with its key and, the first time, its signature approved, as a
    provider console would have left it. After that the signature is the provider's: a rejection
    (``smsops sandbox reject-signature``) stays until smsops resubmits the signature. One seeded
    bare by an earlier smsops (no field at all: never submitted over the API) gets the fields."""
    sandbox_account = running.sandbox.create_account(
        account, provider=EMULATOR, access_keys={access_key_id: access_key_secret}
    )
    found = sandbox_account.signature(sign_name)
    if found is None or (found.status is ReviewStatus.APPROVED and not found.extra and not found.remark):
        sandbox_account.put_signature(sign_name, ReviewStatus.APPROVED, extra=CONSOLE_FIELDS, remark=CONSOLE_REMARK)


class Emulator:
    """The emulator one sandbox channel holds, with the channel's account on it: acquired on
    construction, released by ``close`` (once; later calls do nothing). It is the ``lifecycle`` of
    the channel's ``AlibabaProvider``, so closing the provider releases it."""

    def __init__(
        self, *, state_dir: Path, account: str, access_key_id: str, access_key_secret: str, sign_name: str
    ) -> None:
        self.state_dir = state_dir
        self.running = _acquire(state_dir)
        self._closed = False
        try:
            ensure_account(self.running, account, access_key_id, access_key_secret, sign_name)
        except BaseException:
            self.close()
            raise
        self.account = self.running.sandbox.account(account)
        self.url = self.running.url(EMULATOR)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release(self.state_dir)


def open_sandbox(
    *, state_dir: Path, account: str, access_key_id: str, access_key_secret: str, sign_name: str
) -> AlibabaProvider:
    """The real Alibaba adapter, named ``sandbox``, on an emulator it keeps running until closed."""
    emulator = Emulator(
        state_dir=state_dir,
        account=account,
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        sign_name=sign_name,
    )
    try:
        return AlibabaProvider(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            sign_name=sign_name,
            endpoint=emulator.url,
            region=DEFAULT_REGION,
            name=TRAITS.name,
            lifecycle=emulator,
        )
    except BaseException:
        emulator.close()
        raise


def open_channel(
    channel: Located[Channel], secrets: ChannelSecrets, *, state_dir: Path | None = None
) -> AlibabaProvider:
    resource = channel.resource
    base = state_dir if state_dir is not None else Path(channel.file).resolve().parent / ".smsops"
    return open_sandbox(
        state_dir=base / "sandbox",
        account=resource.metadata.name,
        access_key_id=secrets.access_key_id.get_secret_value() or DEFAULT_ACCESS_KEY_ID,
        access_key_secret=secrets.access_key_secret.get_secret_value() or DEFAULT_ACCESS_KEY_SECRET,
        sign_name=resource.spec.signature.name,
    )
