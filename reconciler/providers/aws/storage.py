"""What the SSM and S3 publish targets share: a boto3 client, the one retry policy around each
call, and every botocore failure turned into ``TargetUnreachable`` naming the target.

Credentials come from the normal AWS chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, an instance or role identity), never from a channel's SOPS file. botocore's own
retries are off: ``reconciler.providers.retry`` is the one retry layer. A call is retried when the
request provably did not arrive (no connection, throttled) and, when repeating it is harmless
(reads, unconditional writes), also after a timeout or a server error.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from reconciler.errors import SmsopsError
from reconciler.providers.retry import call
from reconciler.publish.targets.base import TargetUnreachable
from reconciler.secrets.redact import redact

T = TypeVar("T")

_CHAIN = (
    "AWS credentials come from the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), AWS_PROFILE "
    "or an instance/role identity"
)
_REFUSED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidToken",
    }
)
_THROTTLED = frozenset(
    {"ThrottlingException", "Throttling", "SlowDown", "TooManyRequestsException", "RequestLimitExceeded"}
)


def error_code(error: BaseException) -> str:
    """The service's error code of a botocore ``ClientError`` ('' for anything else)."""
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def http_status(error: BaseException) -> int:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return 0
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _transient(error: BaseException, repeatable: bool) -> bool:
    from botocore.exceptions import ClientError, ConnectionClosedError, ConnectionError, ReadTimeoutError

    if isinstance(error, ConnectionError):  # refused, DNS, connect timeout: the request never left
        return True
    if isinstance(error, ReadTimeoutError | ConnectionClosedError):  # it may have been processed
        return repeatable
    if isinstance(error, ClientError):
        status = http_status(error)
        return error_code(error) in _THROTTLED or status == 429 or (repeatable and status >= 500)
    return False


class Client:
    """A lazily made boto3 client for one service, shared by threads and by every store of the
    process that reaches the same service, region and endpoint (``shared_client``)."""

    def __init__(
        self,
        service: str,
        *,
        region: str,
        endpoint: str | None = None,
        addressing: str | None = None,
        client: Any = None,
    ) -> None:
        self.service = service
        self.region = region
        self.endpoint = endpoint
        self.addressing = addressing
        self._client: Any = client  # given by tests; else found or made on first use
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = shared_client(self.service, self.region, self.endpoint, self.addressing)
            return self._client


# A boto3 session costs ~80 ms to make (it loads the service models), and an apply opens the
# target of each channel several times (lease, marks, published config): one session and one
# client per (service, region, endpoint, addressing) serve them all. What the clients read from
# the environment (credentials, AWS_ENDPOINT_URL_*, AWS_PROFILE) is fixed when they are made, so the
# key holds a digest of the AWS variables too: a changed environment gets new ones. Sessions are
# made under the lock (boto3's are not thread-safe to create with); clients are thread-safe.
_sessions: dict[str, Any] = {}
_clients: dict[tuple[str, str, str, str, str], Any] = {}
_shared_lock = threading.Lock()


def shared_client(service: str, region: str, endpoint: str | None, addressing: str | None) -> Any:
    """The process's boto3 client for ``service`` in ``region`` at ``endpoint``, made on first use."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - boto3 is a dependency
        raise SmsopsError("publishing to SSM or S3 needs boto3", hint="pip install boto3") from None
    environment = _environment_digest()
    key = (service, region, endpoint or "", addressing or "", environment)
    with _shared_lock:
        if key not in _clients:
            if environment not in _sessions:
                _sessions[environment] = boto3.session.Session()
            config = Config(
                retries={"mode": "standard", "total_max_attempts": 1},
                connect_timeout=10,
                read_timeout=30,
                s3={"addressing_style": addressing} if addressing else None,
            )
            _clients[key] = _sessions[environment].client(
                service, region_name=region, endpoint_url=endpoint, config=config
            )
        return _clients[key]


def _environment_digest() -> str:
    """A digest (never the values: they hold credentials) of the AWS variables boto3 reads."""
    seen = sorted((name, value) for name, value in os.environ.items() if name.startswith("AWS_"))
    return hashlib.sha256(repr(seen).encode()).hexdigest()


def unreachable(error: Exception, *, where: str, operation: str, permissions: str) -> TargetUnreachable:
    """A botocore failure as a message naming the target, with what to check. Only codes and
    botocore's own texts appear (redacted): never a credential."""
    from botocore.exceptions import ClientError, ConnectionError, NoCredentialsError

    if isinstance(error, ClientError):
        code = error_code(error) or "ClientError"
        message = redact(str(error.response.get("Error", {}).get("Message", "")) or str(error))
        if code in _REFUSED or http_status(error) == 403:
            hint = f"check the AWS credentials and that they allow {permissions}; {_CHAIN}"
        else:
            hint = f"check the target's settings (spec.publish) and that the credentials allow {permissions}"
        return TargetUnreachable(f"cannot reach the publish target {where}: {operation}: {code}: {message}", hint=hint)
    if isinstance(error, NoCredentialsError):
        return TargetUnreachable(f"cannot reach the publish target {where}: no AWS credentials found", hint=_CHAIN)
    if isinstance(error, ConnectionError):
        return TargetUnreachable(
            f"cannot reach the publish target {where}: {redact(str(error))}",
            hint="check the network and the endpoint (spec.publish, AWS_ENDPOINT_URL*); the target was retried",
        )
    return TargetUnreachable(
        f"cannot reach the publish target {where}: {operation}: {type(error).__name__}: {redact(str(error))}",
        hint=_CHAIN,
    )


def attempt(
    fn: Callable[[], T],
    *,
    where: str,
    operation: str,
    permissions: str,
    repeatable: bool,
    answer: Callable[[Exception], bool] = lambda _: False,
    then: T | None = None,
) -> T | None:
    """``fn`` under the retry policy. A failure ``answer`` accepts is part of the protocol (not
    found, precondition failed) and gives ``then``; any other becomes ``TargetUnreachable``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call(fn, retry_if=lambda error: _transient(error, repeatable))
    except (BotoCoreError, ClientError) as error:
        if answer(error):
            return then
        raise unreachable(error, where=where, operation=operation, permissions=permissions) from None
    except ValueError as error:  # e.g. a malformed endpoint URL
        raise TargetUnreachable(f"cannot reach the publish target {where}: {redact(str(error))}") from None
