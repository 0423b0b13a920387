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
import re
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


# What each adapter imports when its first channel is opened (the SDK's heavy part).
SDK_MODULES: dict[str, tuple[str, ...]] = {
    "alibaba": ("alibabacloud_dysmsapi20170525.client", "alibabacloud_tea_openapi.models", "darabonba.runtime"),
    "tencent": ("tencentcloud.sms.v20210111.sms_client",),
    "aws": ("boto3.session",),
}
SDK_MODULES["sandbox"] = SDK_MODULES["alibaba"]  # the sandbox speaks Alibaba's API through its SDK
_PROVIDER_LINE = re.compile(r"^\s*provider:\s*[\"']?([a-z]+)", re.MULTILINE)


def prefetch(config_dir: str) -> None:
    """Import the adapters and SDKs of the providers the config's channel files name, ahead of
    time (``reconciler.overlap`` runs this while the config is checked in a worker). The names
    come from the raw text, before any checking: a hint only. An SDK imported for nothing costs
    time, one missing is imported when its channel is opened, and one that is not installed is
    reported then, so nothing here can fail."""
    from reconciler.config.load import config_files  # this process needs it anyway, for the worker's answer

    wanted: set[str] = set()
    for relative in config_files(Path(config_dir)):
        try:
            text = (Path(config_dir) / relative).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "Channel" in text:
            wanted.update(_PROVIDER_LINE.findall(text))
    for provider in sorted(wanted & set(FACTORIES)):
        for module in (FACTORIES[provider].partition(":")[0], *SDK_MODULES[provider]):
            try:
                importlib.import_module(module)
            except Exception:
                continue


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
