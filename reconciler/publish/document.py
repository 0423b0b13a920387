"""Reading a channel's published runtime config back: which code each template name points the
application at. The plan compares it with what is live; retiring never touches a code it names."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import SmsopsError
from reconciler.publish.store import CONFIG, Store, channel_store
from reconciler.reconcile.versions import content_key

# Reads the channel's published document from its target: its text, or None when there is none.
ReadDocument = Callable[[], "str | None"]


def published_map(text: str, where: str) -> dict[str, str]:
    """Template name -> the code the document names (aliases too); a template without a code
    (rendered by the application) by its content's key. Templates marked not live are left out."""
    try:
        data: Any = json.loads(text)
        templates = data["channel"]["templates"]
        found: dict[str, str] = {}
        for name, entry in templates.items():
            if not entry.get("live"):
                continue
            code = entry.get("code")
            found[str(name)] = str(code) if code else content_key(str(entry.get("content") or ""))
        return found
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SmsopsError(
            f"{where} is not a published config smsops wrote",
            hint="restore it from its previous version, or run `smsops export` to write it again",
        ) from None


def published_signature(text: str) -> str | None:
    """The signature name the published config tells the application to send with (None: unreadable)."""
    try:
        name = json.loads(text)["channel"]["signature"]["name"]
    except (ValueError, KeyError, TypeError):
        return None
    return str(name) if name else None


def document_reader(config: LoadedConfig, located: Located[Channel]) -> ReadDocument:
    """How to read one channel's published config back from its durable target
    (``reconciler.publish.store``: a file, SSM or S3), where ``publish_channel`` writes it. The
    target is opened on the first read, so a channel never read needs no AWS region."""
    stores: list[Store] = []

    def read() -> str | None:
        if not stores:
            stores.append(channel_store(config, located))
        found = stores[0].read(CONFIG)
        return None if found is None else found.text

    return read
