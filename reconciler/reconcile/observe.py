"""Observe: open each selected channel's provider (secrets first) and read what it has registered.

Secrets for every selected channel are decrypted before any provider is contacted. Channels are
independent: one whose secrets cannot be read (no key for its SOPS file, a key missing from it) is
not opened, and observing it yields its reason as an error, so the plan blocks that channel while
the others are planned and applied. Observing is read-only; channels are observed concurrently.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import ConfigError, ErrorKind, ProviderError, SecretsError, SmsopsError
from reconciler.providers.base import ObservedSignature, ObservedTemplate, Provider, ReadsWhole, Signing, Tagging
from reconciler.providers.registry import open_provider
from reconciler.providers.traits import traits
from reconciler.publish.document import ReadDocument, document_reader, published_map, published_signature
from reconciler.reconcile.accounts import ChannelAccounts
from reconciler.reconcile.changes import ChannelObservation, DesiredChannel
from reconciler.reconcile.rollout import UNPUBLISHED, MarkStore, mark_store
from reconciler.reconcile.signatures import mark_key, retired_signatures
from reconciler.secrets.redact import redact
from reconciler.secrets.sops import ChannelSecrets, channel_secrets


@dataclass
class Session:
    """Open providers for the selected channels; close them all on exit."""

    config: LoadedConfig
    channels: tuple[Located[Channel], ...]
    providers: dict[str, Provider] = field(default_factory=dict)
    # rollout marks of channels whose provider has no template tags (see reconciler.reconcile.rollout)
    marks: dict[str, MarkStore] = field(default_factory=dict)
    # each channel's published runtime config, read back from its target
    documents: dict[str, ReadDocument] = field(default_factory=dict)
    # channels that could not be opened, with why: their secrets could not be read (SecretsError),
    # or apply could not take their lease (its target cannot be reached, another apply keeps it)
    unopened: dict[str, SmsopsError] = field(default_factory=dict)
    # the provider account of each channel of the config, read on demand (reconcile.accounts)
    accounts: ChannelAccounts | None = None

    def provider(self, channel: str) -> Provider:
        self.require(channel)
        return self.providers[channel]

    def require(self, channel: str) -> None:
        """Raise the reason ``channel`` could not be opened, if it could not."""
        if channel in self.unopened:
            raise self.unopened[channel]

    def only(self, names: Collection[str]) -> Session:
        """This session narrowed to the channels named: the same providers, not closed on its own."""
        channels = tuple(c for c in self.channels if c.resource.name in names)
        return Session(
            self.config,
            channels,
            providers=self.providers,
            marks=self.marks,
            documents=self.documents,
            unopened=self.unopened,
            accounts=self.accounts,
        )

    def opened(self) -> Session:
        """This session narrowed to the channels that could be opened (and were not blocked since)."""
        return self.only([name for name in self.providers if name not in self.unopened])

    def observe(self, desired: DesiredChannel) -> ChannelObservation:
        name = desired.name
        unopened = self.unopened.get(name)
        if unopened is not None:
            return ChannelObservation(channel=name, error=unopened.message)
        shared = self.shared(name) if self.accounts is not None else None
        return observe_channel(self.provider(name), desired, self.marks.get(name), self.documents.get(name), shared)

    def shared(self, name: str) -> Shared:
        """What ``name`` shares with the other channels of its account (``reconciler.reconcile.accounts``)."""
        assert self.accounts is not None
        accounts = self.accounts
        group = accounts.sharing(name)
        stores = tuple(map(self.marks_of, group))
        users = functools.partial(accounts.users, name)
        return Shared(account=accounts.of(name), group=group, stores=stores, users=users)

    def marks_of(self, name: str) -> MarkStore:
        """The marks of a channel of the config: a selected one's, or those of one that shares a
        signature with it (it manages one, so it keeps marks; only its publish target is opened)."""
        if name not in self.marks:
            located = next(c for c in self.config.channels if c.resource.name == name)
            self.marks[name] = mark_store(self.config, located)
        return self.marks[name]


@dataclass(frozen=True)
class Shared:
    """The channels managing the same signature on one account (``group``, in name order, this one
    among them), their mark stores in that order, and who else sends with a given signature name."""

    account: str
    group: tuple[str, ...]
    stores: tuple[MarkStore, ...]
    users: Callable[[str, str | None], tuple[str, ...]]


def select_channels(config: LoadedConfig, names: Sequence[str]) -> tuple[Located[Channel], ...]:
    if not names:
        return config.channels
    known = {c.resource.name: c for c in config.channels}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            f"no channel named {', '.join(repr(n) for n in unknown)} in {config.root}",
            hint=f"channels in this config: {', '.join(sorted(known)) or 'none'}",
        )
    return tuple(known[name] for name in names)


def state_dir(config: LoadedConfig) -> Path:
    """Where local, git-ignored state lives (the sandbox's accounts)."""
    return Path(config.root) / ".smsops"


@contextlib.contextmanager
def open_session(
    config: LoadedConfig, names: Sequence[str] = (), *, environ: Mapping[str, str] | None = None
) -> Iterator[Session]:
    channels = select_channels(config, names)
    accounts = ChannelAccounts(config, environ)
    session = Session(config=config, channels=channels, accounts=accounts)
    secrets: dict[str, ChannelSecrets] = {}
    for located in channels:
        try:
            secrets[located.resource.name] = channel_secrets(located, environ=environ)
            accounts.remember(located, secrets[located.resource.name])
        except SecretsError as error:  # this channel is blocked; the others go on
            session.unopened[located.resource.name] = error
    try:
        for located in channels:
            name = located.resource.name
            if name in session.unopened:
                continue
            session.providers[name] = provider = open_provider(located, secrets[name], state_dir=state_dir(config))
            # Signature marks too: a provider with no templates to mark keeps what it registered
            # there, or a signature no longer used would never be found to delete.
            if traits(located.resource.spec.provider).marks != "none" or isinstance(provider, Signing):
                session.marks[name] = mark_store(config, located)
            session.documents[name] = document_reader(config, located)
        yield session
    finally:
        for provider in session.providers.values():
            with contextlib.suppress(Exception):
                provider.close()


def observe_channel(
    provider: Provider,
    desired: DesiredChannel,
    marks: MarkStore | None = None,
    document: ReadDocument | None = None,
    shared: Shared | None = None,
) -> ChannelObservation:
    """What the provider has, with smsops' rollout marks on each template (the provider's own tags,
    or for a provider without tags the marks kept beside the published config), and what the
    published config names. A target that cannot be read is an observation error: nothing is
    planned on a guess of what the application reads. A signature ``shared`` with other channels
    of the account carries the marks its first sharing channel keeps (each keeps a copy), and a
    signature no longer managed lists who else on the account sends with it."""
    try:
        signature, templates = _read(provider, desired.registers_templates)
        text = document() if document is not None else None
        published = None if text is None else published_map(text, "the channel's published config")
        kept = marks.read() if marks is not None else None
    except ProviderError as error:
        message = redact(error.message)
        if error.kind is ErrorKind.AUTH_REFUSED:
            message = f"credentials refused by the provider: {message}"
        return ChannelObservation(channel=desired.name, error=message)
    except SmsopsError as error:  # the publish target (marks, published config) could not be read
        return ChannelObservation(channel=desired.name, error=f"publish target: {redact(error.message)}")
    try:
        tags = _signature_marks(signature.name, kept, shared) if signature is not None else None
        retired = retired_signatures(provider, kept or {}, signature.name if signature else desired.signature)
    except ProviderError as error:
        return ChannelObservation(channel=desired.name, error=redact(error.message))
    except SmsopsError as error:
        return ChannelObservation(channel=desired.name, error=f"publish target: {redact(error.message)}")
    if signature is not None and tags is not None:
        signature = signature.model_copy(update={"tags": tags})
    users = {old.name: shared.users(old.name, old.settings.get("country")) for old in retired} if shared else {}
    if kept is not None:
        templates = tuple(
            t.model_copy(update={"tags": {**t.tags, **kept[t.code]}}) if t.code in kept else t for t in templates
        )
    return ChannelObservation(
        channel=desired.name,
        signature=signature,
        templates=templates,
        tags_supported=isinstance(provider, Tagging) or (marks is not None and desired.registers_templates),
        published=published,
        published_signature=published_signature(text) if text else None,
        retired_signatures=retired,
        account=shared.account if shared is not None else "",
        signature_group=shared.group if shared is not None else (),
        signature_users=users,
        recorded=_recorded(kept or {}, templates),
    )


def _recorded(kept: dict[str, dict[str, str]], templates: Sequence[ObservedTemplate]) -> tuple[str, ...]:
    """Codes of the provider's templates the channel's marks document marked for a reason of its
    own. An unpublished mark alone proves nothing: an older smsops also wrote it for other channels'
    promoted templates. Only templates: the document also keeps the marks of a shared signature,
    which the apply of another channel sharing it writes, and this observation's digest (which
    leaves that signature out, ``ChannelObservation.digest``) must not move when it does."""
    codes = {t.code for t in templates}
    marked = (code for code, marks in kept.items() if any(v for k, v in marks.items() if k != UNPUBLISHED))
    return tuple(sorted(code for code in marked if code in codes))


def _signature_marks(name: str, kept: dict[str, dict[str, str]] | None, shared: Shared | None) -> dict[str, str] | None:
    """The marks of signature ``name``: those of the first sharing channel that has them (apply
    writes every sharing channel's), else this channel's own."""
    key = mark_key(name)
    for store in shared.stores if shared is not None and len(shared.group) > 1 else ():
        found = store.read().get(key)
        if found is not None:
            return found
    return kept.get(key) if kept is not None else None


def _read(provider: Provider, templates_too: bool) -> tuple[ObservedSignature | None, tuple[ObservedTemplate, ...]]:
    """The signature and, when asked, the templates: in one pass where the adapter can."""
    if not templates_too:
        return provider.get_signature(), ()
    if isinstance(provider, ReadsWhole):
        signature, templates = provider.read_whole()
        return signature, tuple(templates)
    return provider.get_signature(), tuple(provider.list_templates())


def observe_all(session: Session, desired: Sequence[DesiredChannel]) -> list[ChannelObservation]:
    if len(desired) <= 1:
        return [session.observe(d) for d in desired]
    with ThreadPoolExecutor(max_workers=min(8, len(desired))) as pool:
        return list(pool.map(session.observe, desired))
