"""Provider name -> adapter factory, imported only when a channel of that provider is opened, and
provider name -> static traits (``reconciler.providers.traits``), which import no SDK.

Nothing here imports an SDK: ``validate`` and ``--help`` may import this module freely. Each
factory is ``open_channel(channel, secrets, *, state_dir)`` in the adapter's own module; each
provider's traits are ``TRAITS`` in its ``traits`` module.

The providers are listed once, in ``reconciler.providers.traits.PROVIDERS`` (and, for the schema,
in ``reconciler.config.models.ProviderName``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from reconciler.providers.traits import PROVIDERS, unknown_provider
from reconciler.providers.traits import traits as traits  # the lookup, kept beside the factories

if TYPE_CHECKING:
    from reconciler.config.load import Located
    from reconciler.config.models import Channel
    from reconciler.providers.base import Provider
    from reconciler.secrets.sops import ChannelSecrets

    Factory = Callable[..., Provider]

FACTORIES: dict[str, str] = {name: f"reconciler.providers.{name}.adapter:open_channel" for name in PROVIDERS}


def names() -> tuple[str, ...]:
    return tuple(FACTORIES)


def factory(name: str) -> Factory:
    try:
        target = FACTORIES[name]
    except KeyError:
        raise unknown_provider(name) from None
    module, _, attribute = target.partition(":")
    return cast("Factory", getattr(importlib.import_module(module), attribute))


def open_provider(channel: Located[Channel], secrets: ChannelSecrets, *, state_dir: Path | None = None) -> Provider:
    """The adapter for ``channel``. ``state_dir`` is the config's local state (``<root>/.smsops``);
    only the sandbox uses it (``<state_dir>/sandbox``)."""
    provider = str(channel.resource.spec.provider)
    return factory(provider)(channel, secrets, state_dir=state_dir)
