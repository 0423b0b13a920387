"""Observe: open each selected channel's provider (secrets first) and read what it has registered.

Secrets for every selected channel are decrypted before any provider is contacted. Channels are
independent: one whose secrets cannot be read (no key for its SOPS file, a key missing from it) is
not opened, and observing it yields its reason as an error, so the plan blocks that channel while
the others are planned and applied. Observing is read-only; channels are observed concurrently.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping, Sequence
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
from reconciler.reconcile.changes import ChannelObservation, DesiredChannel
from reconciler.reconcile.rollout import MarkStore, mark_store
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
        )

    def opened(self) -> Session:
        """This session narrowed to the channels that could be opened (and were not blocked since)."""
        return self.only([name for name in self.providers if name not in self.unopened])

    def observe(self, desired: DesiredChannel) -> ChannelObservation:
        name = desired.name
        unopened = self.unopened.get(name)
        if unopened is not None:
            return ChannelObservation(channel=name, error=unopened.message)
        return observe_channel(self.provider(name), desired, self.marks.get(name), self.documents.get(name))


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
    session = Session(config=config, channels=channels)
    secrets: dict[str, ChannelSecrets] = {}
    for located in channels:
        try:
            secrets[located.resource.name] = channel_secrets(located, environ=environ)
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
) -> ChannelObservation:
    """What the provider has, with smsops' rollout marks on each template (the provider's own tags,
    or for a provider without tags the marks kept beside the published config), and what the
    published config names. A target that cannot be read is an observation error: nothing is
    planned on a guess of what the application reads."""
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
    if kept is not None and signature is not None and mark_key(signature.name) in kept:
        signature = signature.model_copy(update={"tags": kept[mark_key(signature.name)]})
    try:
        retired = retired_signatures(provider, kept or {}, signature.name if signature else desired.signature)
    except ProviderError as error:
        return ChannelObservation(channel=desired.name, error=redact(error.message))
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
    )


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
