"""Which channels share one provider account, and so one signature.

A signature is a resource of a provider account, not of a channel: channels of one account that
manage the same signature (``spec.signature.managed`` naming one ``spec.name``; sender-ID providers:
of one country) share it, so it is planned, created, resubmitted and deleted once, and its marks
(what was submitted, its baseline) are kept beside every sharing channel's published config.

An account is known by ``account_key``: a digest of the API spoken, the effective endpoint and the
access key id. Invariants: the key is never printed nor written (not in plans, marks or reports),
and two channels whose credentials cannot both be read are never taken for one account; for
deletion such a channel counts as a user of every signature it names (kept rather than guessed).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import SecretsError
from reconciler.providers.traits import traits
from reconciler.secrets.sops import ChannelSecrets, channel_secrets

UNKNOWN = ""  # the account of a channel whose credentials could not be read


def account_key(channel: Channel, secrets: ChannelSecrets) -> str:
    """The channel's provider account, as an opaque digest (never the key id itself)."""
    spec = channel.spec
    parts = (traits(spec.provider).api, spec.effective_endpoint() or "", secrets.access_key_id.get_secret_value())
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _signature(channel: Channel) -> tuple[str, str | None]:
    """What a channel sends with: the signature's name and (sender-ID providers) its country."""
    return channel.spec.signature.name, channel.spec.signature.country


@dataclass
class ChannelAccounts:
    """The account of each channel of ``config``, read on demand (a channel outside the command's
    selection is decrypted only when it names a signature a selected channel manages)."""

    config: LoadedConfig
    environ: Mapping[str, str] | None = None
    known: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remember(self, located: Located[Channel], secrets: ChannelSecrets) -> None:
        self.known[located.resource.name] = account_key(located.resource, secrets)

    def of(self, name: str) -> str:
        with self._lock:  # channels are observed concurrently; each file is decrypted once
            if name not in self.known:
                located = next(c for c in self.config.channels if c.resource.name == name)
                try:
                    self.known[name] = account_key(located.resource, channel_secrets(located, environ=self.environ))
                except SecretsError:
                    self.known[name] = UNKNOWN
            return self.known[name]

    def sharing(self, name: str) -> tuple[str, ...]:
        """The channels (in name order, ``name`` among them) that manage the signature ``name``
        manages on its account; just ``name`` when it manages none or its account is unknown."""
        located = self._channel(name)
        if located is None or located.resource.spec.signature.managed is None or not self.of(name):
            return (name,)
        wanted, account = _signature(located.resource), self.of(name)
        peers = [
            c.resource.name
            for c in self.config.channels
            if c.resource.spec.signature.managed is not None
            and _signature(c.resource) == wanted
            and c.resource.spec.provider == located.resource.spec.provider
            and (c.resource.name == name or self.of(c.resource.name) == account)
        ]
        return tuple(sorted(peers))

    def users(self, name: str, signature: str, country: str | None = None) -> tuple[str, ...]:
        """The other channels that send with ``signature`` (sender-ID providers: in ``country``) on
        ``name``'s account, or may (their account is unknown): while one does, it is not deleted."""
        account = self.of(name)
        return tuple(
            c.resource.name
            for c in self.config.channels
            if c.resource.name != name
            and c.resource.spec.signature.name == signature
            and (country is None or c.resource.spec.signature.country == country)
            and self.of(c.resource.name) in (account, UNKNOWN)
        )

    def _channel(self, name: str) -> Located[Channel] | None:
        return next((c for c in self.config.channels if c.resource.name == name), None)
