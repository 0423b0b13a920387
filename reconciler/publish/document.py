"""Reading a channel's published runtime config back: which code each template name points the
application at. The plan compares it with what is live; retiring never touches a code it names."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import SmsopsError
from reconciler.providers.aws.ssm import read_ssm
from reconciler.publish.targets import file_target, ssm_region
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


def document_reader(config: LoadedConfig, located: Located[Channel]) -> ReadDocument:
    """How to read one channel's published config back from where ``publish_channel`` writes it:
    the SSM parameter with ``publish.ssmPrefix``, else the file."""
    publish = located.resource.spec.publish
    if publish is not None and publish.ssm_prefix:
        prefix = publish.ssm_prefix
        return lambda: read_ssm(prefix, region=ssm_region(located.resource))
    path = file_target(config, located)

    def read_file() -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise SmsopsError(
                f"cannot read the published config {path}: {type(error).__name__}",
                hint="spec.publish.file must name a readable JSON file smsops writes",
            ) from None

    return read_file
