"""The Alibaba adapter's connection to the service: the SDK client, paced and retried calls, and
the mapping of every SDK failure to a ``ProviderError``.

Reads are retried with backoff; writes only when the failure proves the request was not processed
(throttled, connection refused). A write whose answer was lost (timeout, reset, 5xx) raises
``ResponseLost``: the caller re-observes instead of creating a duplicate.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from reconciler.errors import ErrorKind, ProviderError
from reconciler.providers._support import failure, missing_sdk, split_endpoint, was_not_sent
from reconciler.providers.alibaba import codes
from reconciler.providers.ratelimit import Pacer, Sleep
from reconciler.providers.retry import RetryPolicy
from reconciler.providers.retry import call as retried
from reconciler.secrets.redact import register_secret

PROVIDER = "alibaba"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
DEFAULT_REGION = "cn-hangzhou"

# The SDK keeps one HTTP session per endpoint for the process, built on the first request there
# without a lock: concurrent first requests each build one, with an SSL context each (~50 ms of
# CPU). So the first request to an endpoint is sent alone, and the others wait for it.
_opening = threading.Lock()
_opened: set[str] = set()


class AlibabaTransport:
    """The SDK client of one account and signature, shared by the observer (reads) and the
    provider (writes, sends). ``call`` is the one way a request goes out: paced, retried, and every
    failure mapped to a ``ProviderError`` naming ``name`` (``sandbox`` for the sandbox's channels).
    ``models`` is the SDK's request-model module, to build the requests ``call`` takes."""

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = DEFAULT_ENDPOINT,
        region: str = DEFAULT_REGION,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 15.0,
        pacer: Pacer | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        name: str = PROVIDER,
    ) -> None:
        try:
            from alibabacloud_dysmsapi20170525 import models
            from alibabacloud_dysmsapi20170525.client import Client
            from alibabacloud_tea_openapi.models import Config
            from darabonba.runtime import RuntimeOptions  # type: ignore[import-untyped]
        except ImportError as exc:
            raise missing_sdk(
                PROVIDER, exc.name or "alibabacloud_dysmsapi20170525", "alibabacloud-dysmsapi20170525"
            ) from None
        register_secret(access_key_secret)
        host, protocol = split_endpoint(endpoint)
        timeouts = {"connect_timeout": int(connect_timeout_s * 1000), "read_timeout": int(read_timeout_s * 1000)}
        config = Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            endpoint=host,
            protocol=protocol,
            region_id=region,
            **timeouts,
        )
        self._client = Client(config)
        self.models = models
        self.name = name
        self._runtime = RuntimeOptions(autoretry=False, **timeouts)
        self.sign_name = sign_name
        self.region = region
        self.endpoint = f"{protocol}://{host}"
        self._pacer = pacer or Pacer(PROVIDER, sleep=sleep)
        self._retry = retry_policy or RetryPolicy.from_env()
        self._sleep = sleep

    def call(self, operation: str, method: str, request: Any, *, write: bool) -> Any:
        """The body of ``<method>_with_options(request)``. ``write`` says whether a lost answer may
        mean a change was made (then ``ResponseLost``, never retried)."""
        if self.endpoint not in _opened:
            with _opening:
                if self.endpoint not in _opened:
                    try:
                        return self._send(operation, method, request, write=write)
                    finally:
                        _opened.add(self.endpoint)
        return self._send(operation, method, request, write=write)

    def _send(self, operation: str, method: str, request: Any, *, write: bool) -> Any:
        invoke = getattr(self._client, f"{method}_with_options")

        def once() -> Any:
            self._pacer.acquire(operation)
            try:
                response = invoke(request, self._runtime)
            except Exception as exc:  # every SDK failure becomes a ProviderError
                raise self._map_exception(operation, exc, write=write) from None
            body = response.body
            if body.code != "OK":
                raise self._business_error(operation, body.code, body.message, body.request_id, write=write)
            return body

        return retried(once, self._retry, sleep=self._sleep)

    def _business_error(
        self, operation: str, code: str | None, message: str | None, request_id: str | None, *, write: bool
    ) -> ProviderError:
        code = code or "Unknown"
        kind = codes.kind(code, operation)
        # A system error on a write says nothing about whether the write happened.
        lost = write and kind is ErrorKind.UNAVAILABLE
        return failure(
            self.name,
            operation,
            code,
            message or "",
            kind=kind,
            request_id=request_id or "",
            hint=codes.hint(code),
            lost=lost,
        )

    def _map_exception(self, operation: str, exc: Exception, *, write: bool) -> ProviderError:
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ServerException, ThrottlingException

        if isinstance(exc, AlibabaCloudException):
            data = exc.data if isinstance(exc.data, dict) else {}
            code = str(data.get("Code") or exc.code or "Unknown")
            status = int(exc.status_code or 0)
            message = str(data.get("Message") or exc.message or "")
            request_id = str(data.get("RequestId") or exc.request_id or "")
            throttled = isinstance(exc, ThrottlingException) or code.startswith("Throttling")
            server = isinstance(exc, ServerException) or status >= 500
            extra = {"http_status": str(status)}
            if exc.retry_after:
                extra["retry_after_s"] = str(int(exc.retry_after) / 1000)
            kind = codes.kind(code, operation)
            if throttled:
                kind = ErrorKind.THROTTLED
            elif server:
                kind = ErrorKind.UNAVAILABLE
            return failure(
                self.name,
                operation,
                code,
                message,
                kind=kind,
                retryable=throttled or server,
                request_id=request_id,
                extra=extra,
                hint=codes.hint(code),
                lost=write and server and not throttled,
            )
        inner = getattr(exc, "inner_exception", None) or exc
        text = f"{type(inner).__name__}: {inner}"
        if type(inner).__name__ in ("RetryError", "ConnectionError", "Timeout", "OSError") or isinstance(
            inner, OSError
        ):
            not_sent = was_not_sent(text)
            code = "ConnectionRefused" if not_sent else ("Timeout" if "timed out" in text else "ConnectionError")
            return failure(
                self.name,
                operation,
                code,
                text,
                kind=ErrorKind.UNAVAILABLE,
                lost=write and not not_sent,
                hint="" if write else f"is the endpoint {self.endpoint} reachable?",
            )
        return failure(self.name, operation, type(inner).__name__, str(inner))
