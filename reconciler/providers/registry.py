"""Provider name -> adapter factory, imported only when a channel of that provider is opened.

Nothing here imports an SDK: ``validate`` and ``--help`` may import this module freely. Each
factory is ``open_channel(channel, secrets, *, state_dir)`` in the adapter's own module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.load import Located
    from reconciler.model.resources import Channel
    from reconciler.providers.base import Provider
    from reconciler.secrets import ChannelSecrets

    Factory = Callable[..., Provider]

FACTORIES: dict[str, str] = {
    "alibaba": "reconciler.providers.alibaba:open_channel",
    "tencent": "reconciler.providers.tencent:open_channel",
    "aws": "reconciler.providers.aws:open_channel",
    "sandbox": "reconciler.providers.sandbox:open_channel",
}


def names() -> tuple[str, ...]:
    return tuple(FACTORIES)


def factory(name: str) -> Factory:
    try:
        target = FACTORIES[name]
    except KeyError:
        raise ConfigError(
            f"unknown provider {name!r}", hint=f"spec.provider must be one of: {', '.join(FACTORIES)}"
        ) from None
    module, _, attribute = target.partition(":")
    return cast("Factory", getattr(importlib.import_module(module), attribute))


def open_provider(channel: Located[Channel], secrets: ChannelSecrets, *, state_dir: Path | None = None) -> Provider:
    """The adapter for ``channel``. ``state_dir`` is the config's local state (``<root>/.smsops``);
    only the sandbox uses it (``<state_dir>/sandbox``)."""
    provider = str(channel.resource.spec.provider)
    return factory(provider)(channel, secrets, state_dir=state_dir)
