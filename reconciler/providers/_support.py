"""Small pieces every adapter shares: endpoint parsing, the SDK install hint, error construction.

Kept free of SDK imports: ``validate`` and ``--help`` may import this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from reconciler.errors import ConfigError, ErrorKind, ProviderError, ProviderFailure, ResponseLost, SmsopsError
from reconciler.secrets.redact import redact

# Marks in a transport error's text that the request never left this machine (nothing can have
# happened at the provider), as opposed to a timeout or reset after it was sent.
_NOT_SENT_MARKERS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Connection refused",
    "ConnectTimeout",
    "Name or service not known",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "Could not connect to the endpoint URL",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def missing_sdk(provider: str, module: str, package: str) -> SmsopsError:
    return SmsopsError(
        f"the {provider} provider needs the Python package {package!r} (module {module!r} is missing)",
        hint=f"install it into the environment that runs smsops: pip install '{package}'",
    )


def required_setting(value: str | None, channel: str, field: str) -> str:
    """A channel setting the model already requires for this provider (``ChannelSpec`` validators
    report it with its position); this only narrows the type for a channel built some other way."""
    if not value:
        raise ConfigError(
            f"channel {channel}: {field} is required for this provider",
            hint="run `smsops validate` on the config and fix what it reports",
        )
    return value


def split_endpoint(endpoint: str) -> tuple[str, str]:
    """``https://host[:port][/]`` -> (``host[:port]``, ``https``); a bare host means https."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ConfigError(
            f"provider endpoint {endpoint!r} is not of the form https://host[:port]",
            hint="set spec.endpoint to the API's base URL without a path, or remove it for the default",
        )
    return parts.netloc, parts.scheme


def was_not_sent(transport_error_text: str) -> bool:
    """True when a transport error proves the request never reached the provider."""
    return any(marker in transport_error_text for marker in _NOT_SENT_MARKERS)


def failure(
    provider: str,
    operation: str,
    code: str,
    message: str,
    *,
    kind: ErrorKind = ErrorKind.OTHER,
    retryable: bool | None = None,
    request_id: str = "",
    extra: Mapping[str, str] | None = None,
    hint: str = "",
    lost: bool = False,
) -> ProviderError:
    """Build the error every adapter raises; the message is redacted here, once, for all of them.

    ``kind`` is the adapter's classification of its provider's code; ``retryable`` defaults to the
    kind's ``transient``. ``lost=True`` makes it a ``ResponseLost``: the request was sent and may have
    taken effect, so it is never retryable.
    """
    if retryable is None:
        retryable = kind.transient
    clean = redact(" ".join(str(message).split()))[:500]
    info = ProviderFailure(
        provider=provider,
        operation=operation,
        code=code or "Unknown",
        message=clean,
        retryable=False if lost else retryable,
        request_id=redact(request_id) if request_id and request_id != "None" else "",
        extra=dict(extra or {}),
        kind=kind,
    )
    if lost:
        return ResponseLost(
            info,
            hint=hint
            or "the change may have been made even so: re-run plan (or apply) to observe the provider "
            "before trying again",
        )
    return ProviderError(info, hint=hint)
